"""Hand-over as engine behaviour: whole cases, with no Telegram and no store.

``Case`` below plays the adapter's part with nothing but memory: it carries out
the engine's ``HandOver`` replies (a case number, a note of what the staff group
got) and reports what happened back to ``handover.step``, as the Telegram
adapter does. Every sentence and button checked here comes from the engine.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.content.directory.hours import parse_hours
from bot.engine import handover
from bot.engine.events import Button, Command, Event, Start, Text
from bot.engine.handover import (
    RELAY_WINDOW_SECONDS,
    RELAYS_PER_WINDOW,
    AnswerLost,
    CaseEnded,
    CaseGone,
    CaseOpened,
    CaseStep,
    ConsultantHours,
    Desk,
    HerWords,
    Lost,
    StaffAction,
    StaffAnswer,
    StaffBlocked,
    StaffClosed,
    StaffPost,
    after_staff_closed,
    pace,
)
from bot.engine.replies import HandOver, HandOverKind, Say
from bot.engine.state import State, Status
from tests.helpers import Conversation, with_index

SATURDAY_NOON = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
TUESDAY_NOON = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)  # 14:00 in Kyiv
WEEKDAYS_KYIV = ConsultantHours(parse_hours("mon-fri 10:00-18:00"), "Europe/Kyiv")  # type: ignore[arg-type]


def buttons(say: Say) -> list[str]:
    return [choice.payload for row in say.buttons for choice in row]


@dataclass
class Case:
    """The adapter's part, in memory: one woman, one staff group."""

    world: Any
    desk: Desk = field(default_factory=Desk)
    now: datetime = SATURDAY_NOON
    lang: str = "uk"
    country: str = "UA"
    number: str | None = None
    staff: list[str] = field(default_factory=list)  # what the staff group got
    her: list[Say] = field(default_factory=list)  # what reached her besides engine screens
    engine: list[HandOver] = field(default_factory=list)  # the engine's hand-over replies
    chat: Conversation = field(init=False)

    def __post_init__(self) -> None:
        self.chat = Conversation(with_index(self.world, {}),
                                 State(lang=self.lang, country=self.country))

    def send(self, event: Event) -> None:
        result = self.chat.send(event)
        for reply in result.replies:
            if isinstance(reply, HandOver):
                self.engine.append(reply)
                self.carry_out(reply)

    def carry_out(self, reply: HandOver) -> None:
        if reply.kind is HandOverKind.OPEN:
            if self.number is None:
                self.number = "K-1234"
                self.apply(CaseOpened(self.number, self.lang, self.country))
        elif reply.kind is HandOverKind.TO_CONSULTANT:
            assert self.number is not None
            self.apply(HerWords(self.number, self.lang, self.country, reply.text))
        elif self.number is not None:
            number, self.number = self.number, None
            self.apply(CaseEnded(number, withdrawn=reply.kind is HandOverKind.WITHDRAW))

    def apply(self, event: handover.CaseEvent) -> CaseStep:
        done = handover.step(self.world, self.desk, event, self.now)
        for post in done.staff:
            self.staff.append(post.text + (f"\n{post.words}" if post.words is not None else ""))
        self.her.extend(done.her)
        return done


@pytest.fixture
def case(world: Any) -> Case:
    return Case(world)


def test_a_whole_case_from_her_request_to_her_leaving(case: Case) -> None:
    case.send(Button("do:human"))
    assert case.chat.state.status is Status.HANDOVER
    # Her screen first, then the case: whatever opening it says comes under the screen.
    replies = case.chat.last.replies if case.chat.last else ()
    assert [type(r) for r in replies] == [Say, HandOver]
    assert case.staff == ["New case K-1234 · language uk · country UA\nReply to her messages "
                          "to answer her; /close or /block as a reply."]
    case.send(Text("мені страшно, чи можна мені на ЗПТ"))
    assert case.staff[-1] == "K-1234 · uk · UA\nмені страшно, чи можна мені на ЗПТ"

    post = StaffPost("K-1234", reply=True, consultant=True, text="Так, можна.")
    assert case.apply(post).action is StaffAction.ANSWER
    answer = case.apply(StaffAnswer("uk", "Так, можна.")).her[0]
    assert answer.text == "💬 Так, можна."
    assert buttons(answer) == ["do:leave"]
    assert answer.buttons[0][0].label == "↩ Завершити розмову з людиною"

    case.send(Button("do:leave"))
    assert case.chat.state.status is Status.ACTIVE and case.number is None
    assert case.staff[-1] == "Case K-1234: she left the conversation."


def test_a_photo_reaches_the_consultants_as_a_line_about_it(case: Case) -> None:
    case.send(Button("do:human"))
    case.send(Text(""))
    assert case.staff[-1] == "K-1234 · uk · UA\n(a photo, sticker or voice message)"


def test_outside_hours_she_learns_when_they_are_back_in_her_language(world: Any) -> None:
    case = Case(world, Desk(hours={"*": WEEKDAYS_KYIV}), now=SATURDAY_NOON)
    case.send(Button("do:human"))
    [notice] = case.her
    assert "в понеділок з 10:00 (час: Київ)" in notice.text
    assert buttons(notice) == ["crisis.emergency"]
    assert "crisis.emergency" in world.flows.steps


def test_within_hours_or_reopened_quietly_she_is_told_nothing_more(world: Any) -> None:
    open_now = Case(world, Desk(hours={"*": WEEKDAYS_KYIV}), now=TUESDAY_NOON)
    open_now.send(Button("do:human"))
    assert open_now.her == []
    quiet = handover.step(world, Desk(hours={"*": WEEKDAYS_KYIV}),
                          CaseOpened("K-1", "uk", "UA", quiet=True), SATURDAY_NOON)
    assert quiet.her == () and len(quiet.staff) == 1


def test_hours_per_language_and_for_the_rest(world: Any) -> None:
    weekend = ConsultantHours(parse_hours("sat,sun 09:00-21:00"), "Europe/Moscow")  # type: ignore[arg-type]
    desk = Desk(hours={"ru": weekend, "*": WEEKDAYS_KYIV})
    assert handover.step(world, desk, CaseOpened("K-1", "ru", "RU"), SATURDAY_NOON).her == ()
    assert handover.step(world, desk, CaseOpened("K-2", "en", "UA"), SATURDAY_NOON).her


def test_if_the_staff_group_cannot_be_reached_she_is_told_the_truth(case: Case) -> None:
    for event in (CaseOpened("K-1", "ru", "RU"), HerWords("K-1", "ru", "RU", "помогите")):
        [truth] = handover.step(case.world, Desk(), event, SATURDAY_NOON).unreachable
        assert truth.text.startswith("Извините, сейчас не получается связаться с "
                                     "консультантками, поэтому ваше сообщение до них не дошло.")
        assert buttons(truth) == ["crisis.emergency"]


def test_her_pace_ten_a_minute_then_one_request_to_wait(case: Case) -> None:
    recent: tuple[float, ...] = ()
    relayed, told = 0, list[Say]()
    for second in range(RELAYS_PER_WINDOW + 3):
        paced = pace(recent, 1000.0 + second, "en")
        recent = paced.recent
        relayed += paced.relay
        if paced.too_fast is not None:
            told.extend(handover.step(case.world, Desk(), paced.too_fast, SATURDAY_NOON).her)
    assert relayed == RELAYS_PER_WINDOW
    assert [say.text for say in told] == ["You are writing very fast. Wait a minute, then write "
                                          "again: the consultant will read everything."]
    later = pace(recent, 1000.0 + RELAYS_PER_WINDOW + RELAY_WINDOW_SECONDS, "en")
    assert later.relay


@pytest.mark.parametrize(("post", "action", "notice"), [
    (StaffPost("K-1", reply=True, consultant=False, text="hi"), StaffAction.NOTHING,
     "Only the consultants listed in PODRUGA_STAFF_IDS"),
    (StaffPost(None, reply=False, consultant=True, text="Good morning"), StaffAction.HINTED,
     "To answer a woman, reply to one of her messages."),
    (StaffPost(None, reply=False, consultant=True, text="Good morning", since_hint=599.0),
     StaffAction.NOTHING, None),
    (StaffPost(None, reply=False, consultant=True, text="Good morning", since_hint=600.0),
     StaffAction.HINTED, "To answer a woman, reply to one of her messages."),
    (StaffPost(None, reply=False, consultant=True, text="/stats"), StaffAction.NOTHING, None),
    (StaffPost(None, reply=True, consultant=True, text="hello?"), StaffAction.NOTHING,
     "That message does not belong to an open case"),
    (StaffPost("K-1", reply=True, consultant=True, text="/block"), StaffAction.BLOCK, None),
    (StaffPost("K-1", reply=True, consultant=True, text="/close@podruga_bot"),
     StaffAction.CLOSE, None),
    (StaffPost("K-1", reply=True, consultant=True, text=""), StaffAction.NOTHING,
     "Only text can be relayed to her."),
    (StaffPost("K-1", reply=True, consultant=True, text="Hello"), StaffAction.ANSWER, None),
])
def test_who_may_do_what_in_the_staff_group(world: Any, post: StaffPost, action: StaffAction,
                                            notice: str | None) -> None:
    done = handover.step(world, Desk(), post, SATURDAY_NOON)
    assert done.action is action
    assert [p.text[:len(notice or "")] for p in done.staff] == ([notice] if notice else [])
    assert done.her == ()


def test_a_consultant_closes_the_case(case: Case) -> None:
    case.send(Button("do:human"))
    assert case.number is not None
    done = case.apply(StaffClosed(case.number, "uk"))
    assert case.staff[-1] == "Case K-1234 closed."
    [told] = done.her
    assert "консультантка завершила" in told.text.lower()
    assert buttons(told) == ["main.menu"]
    # Her session, as the adapter saves it: the normal answers again, nothing relayed.
    after = after_staff_closed(case.chat.state)
    assert after is not None and after.status is Status.ACTIVE and after.case == ""
    assert after_staff_closed(None) is None
    case.chat.state = after
    case.engine.clear()
    case.send(Text("дякую"))
    assert case.engine == []


def test_block_gone_and_lost_answers_are_told_to_staff(world: Any) -> None:
    texts = [handover.step(world, Desk(), event, SATURDAY_NOON).staff[0].text for event in (
        StaffBlocked("K-9"), CaseGone(), AnswerLost(Lost.SHE_LEFT), AnswerLost(Lost.SHE_BLOCKED),
        AnswerLost(Lost.NOT_DELIVERED))]
    assert texts[0].startswith("Case K-9 blocked")
    assert "does not belong to an open case" in texts[1]
    assert "deleted from her chat" in texts[2]
    assert "blocked the bot" in texts[3]
    assert "did not deliver" in texts[4]


def test_staff_notices_are_in_the_staff_language(world: Any) -> None:
    done = handover.step(world, Desk(staff_lang="uk"), CaseEnded("K-7", withdrawn=True),
                         SATURDAY_NOON)
    english = handover.step(world, Desk(), CaseEnded("K-7", withdrawn=True), SATURDAY_NOON)
    assert done.staff[0].text != english.staff[0].text and "K-7" in done.staff[0].text
    assert english.staff[0].text.startswith("Case K-7 withdrawn")


@pytest.mark.parametrize("leave", [Start("uk"), Command("language"), Command("menu"),
                                   Button("main.menu"), Button("do:leave")])
def test_whatever_takes_her_out_of_the_case_closes_it_once(case: Case, leave: Event) -> None:
    case.send(Button("do:human"))
    case.send(leave)
    assert case.chat.state.status is not Status.HANDOVER
    assert [r.kind for r in case.engine] == [HandOverKind.OPEN, HandOverKind.CLOSE]
    assert case.staff[-1] == "Case K-1234: she left the conversation."


@pytest.mark.parametrize("leave", [Command("exit"), Button("do:exit"), Command("forget")])
def test_quick_exit_and_forget_withdraw_the_case(case: Case, leave: Event) -> None:
    case.send(Button("do:human"))
    case.send(leave)
    assert [r.kind for r in case.engine] == [HandOverKind.OPEN, HandOverKind.WITHDRAW]
    assert case.staff[-1].startswith("Case K-1234 withdrawn")


def test_crisis_words_in_a_case_get_the_crisis_answer_and_reach_the_consultant(world: Any
                                                                             ) -> None:
    from tests.helpers import FakeMatch

    case = Case(world, lang="en")
    case.chat.world = with_index(world, {"she is not breathing": FakeMatch(
        "crisis.overdose", crisis=True)})
    case.send(Button("do:human"))
    case.send(Text("she is not breathing"))
    assert case.chat.state.status is Status.HANDOVER
    assert case.staff[-1].endswith("\nshe is not breathing")


def test_the_menu_label_typed_is_the_menu(world: Any) -> None:
    chat = Conversation(with_index(world, {}), State(lang="ru", country="RU"))
    chat.tap("find:")
    chat.text("☰ Меню")
    assert chat.state.step_id == "main.menu"


def test_consultant_hours_know_when_they_are_back() -> None:
    assert not WEEKDAYS_KYIV.is_open(SATURDAY_NOON)
    assert WEEKDAYS_KYIV.is_open(TUESDAY_NOON)
    back = WEEKDAYS_KYIV.next_open(SATURDAY_NOON)
    assert back.weekday() == 0 and (back.hour, back.minute) == (10, 0)
    friday_evening = datetime(2026, 11, 27, 17, 0, tzinfo=UTC)  # 19:00 in Kyiv
    assert WEEKDAYS_KYIV.next_open(friday_evening) - friday_evening > timedelta(days=2)
