"""Reliability under faults (issue 17), through the fake Bot API and the real store.

Each test is one finding of ../shared/reviews/reliability_review.md: what was
tried there, and what must happen instead. The faults that need a process of
its own (a hard kill, a revoked token, the whole log of `podruga run`) are in
test_run.py; the webhook's in test_webhook.py.
"""

from __future__ import annotations

import asyncio
import html
import logging
import shutil
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import Harness, bot_messages, open_case, start_bot, stop_bot
from fakeapi import BOT_ID, FakeBotApi

from bot.adapters.telegram.render import QUICK_EXIT_BEFORE, html_chunks, quick_exit_ids, say_html
from bot.content.world import WorldHolder, load_world
from bot.engine import step
from bot.engine.events import Text
from bot.engine.replies import Say
from bot.engine.state import State, Status
from bot.errors import StoreError

pytestmark = pytest.mark.e2e

STAFF = -1001234567890
CASE_KEY = b"k" * 32
CONSULTANT = 900001
HER_NAME, HER_USERNAME = "Оксана", "oksana_secret_nick"
CRISIS_UK = "подруга не дихає після дози"



def neutral(world: Any, lang: str) -> str:
    return str(world.tr(lang).gettext("Hi! 🌸"))


async def start(api: FakeBotApi, world: Any, tmp_path: Path, **settings: Any) -> Harness:
    settings.setdefault("staff_ids", frozenset({42, CONSULTANT}))
    return await start_bot(api, world, tmp_path / "podruga.sqlite3", staff_chat=STAFF,
                           case_key=CASE_KEY, **settings)


@pytest.fixture
async def bot(api: FakeBotApi, world: Any, tmp_path: Path) -> Any:
    harness = await start(api, world, tmp_path)
    try:
        yield harness
    finally:
        await stop_bot(harness)


async def relay(bot: Harness, api: FakeBotApi, her: Any, text: str) -> int:
    """She writes during her case; the id of the staff chat's copy of it."""
    her.say(text)
    await bot.settle()
    return int(api.consultant(STAFF).messages()[-1]["message_id"])


async def begin(bot: Harness, her: Any) -> None:
    her.say("/start")
    await bot.settle()
    her.tap("country:UA")
    await bot.settle()



def staff_texts(api: FakeBotApi) -> list[str]:
    return [m["text"] for m in api.consultant(STAFF).messages()]


async def rows_of(bot: Harness, her: Any) -> tuple[bool, list[int], str | None]:
    key = bot.key(her.id)
    return (await bot.store.load_session(key) is not None,
            await bot.store.message_ids(key, datetime.now(UTC)), await bot.store.case_for(key))


# -- 1. an update PTB cannot parse ---------------------------------------------------------

def poison(kind: str, her: Any, message_id: int) -> dict[str, Any]:
    base = {"message_id": message_id, "date": int(time.time()), "from": her.user()}
    if kind == "poll_without_persistent_id":  # what a Bot API server older than 9.6 sends
        return {"message": {**base, "chat": her.chat(), "poll": {
            "id": "5", "question": "мене звати Оксана", "options": [
                {"text": "так", "voter_count": 0}], "total_voter_count": 0, "is_closed": False,
            "is_anonymous": True, "type": "regular", "allows_multiple_answers": False}}}
    return {"message": {**base, "chat": {"id": her.id},  # a chat without its type
                        "text": "мене звати Оксана +380671234567"}}


@pytest.mark.parametrize("kind", ["poll_without_persistent_id", "chat_without_type"])
async def test_an_update_that_cannot_be_parsed_is_skipped_and_counted(
        api: FakeBotApi, bot: Harness, world: Any, kind: str,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    her = api.woman(720000001, first_name=HER_NAME, username=HER_USERNAME)
    bad = api.push(poison(kind, her, 77))
    other = api.woman(720000002, language_code="en")
    other.say("/help")
    await bot.settle()
    assert bot_messages(other), "the next woman is answered"
    assert bot.app.bot.intake.skipped == 1  # type: ignore[attr-defined]
    polls = len(api.called("getUpdates"))
    await asyncio.sleep(0.3)
    assert len(api.called("getUpdates")) <= polls + 2  # not fetched again 20 times a second
    assert api.confirmed > bad
    assert "update_skipped reason=unreadable error=" in caplog.text
    logs = caplog.text + "\n".join(f"{r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
    for value in (str(her.id), HER_NAME, HER_USERNAME, "Оксана", "380671234567"):
        assert value not in logs, value


# -- 2, 3. quick exit and /forget never depend on her old state --------------------------

async def test_a_session_that_does_not_decode_is_a_new_one(api: FakeBotApi, bot: Harness,
                                                           world: Any) -> None:
    her = api.woman(3001, language_code="uk")
    key = bot.key(her.id)

    async def spoil() -> None:  # a newer Podruga wrote it, before a rollback
        await bot.store.update_session(key, lambda _stored: State(lang="uk", country="UA"),
                                       datetime.now(UTC))
        await bot.store._live().execute(  # type: ignore[attr-defined]
            """UPDATE sessions SET state = '{"schema": 2, "lang": "uk"}'""")

    await begin(bot, her)
    await spoil()
    answered = len(bot_messages(her))
    her.say("/start")
    await bot.settle()
    assert len(bot_messages(her)) == answered + 1  # answered, as someone new
    state = await bot.store.load_session(key)
    assert state is not None and state.lang == "uk" and state.country == ""
    await spoil()
    her.say("/forget")
    await bot.settle()
    assert len(bot_messages(her)) == answered + 2
    assert await bot.store.load_session(key) is None
    await spoil()
    her.say("/exit")
    await bot.settle()
    assert [m["text"] for m in her.screen()] == [neutral(world, "uk")]
    assert await rows_of(bot, her) == (False, [], None)


@pytest.mark.parametrize("leave", ["/start", "/language", "location"])
async def test_leaving_the_chat_with_a_person_any_way_closes_the_case(
        api: FakeBotApi, bot: Harness, world: Any, leave: str) -> None:
    her = api.woman(3100, language_code="uk")
    number = await open_case(bot, her)
    her.say("мені страшно")
    await bot.settle()
    if leave == "location":
        her.share_location(50.45, 30.52)
    else:
        her.say(leave)
    await bot.settle()
    assert await bot.store.case_for(bot.key(her.id)) is None
    assert staff_texts(api)[-1] == f"Case {number}: she left the conversation."
    relayed = api.consultant(STAFF).messages()[1]
    api.consultant(STAFF).say("Ви тут?", reply_to=relayed["message_id"])
    await bot.settle()
    assert "does not belong to an open case" in staff_texts(api)[-1]
    assert "Ви тут?" not in str(her.screen())


async def test_quick_exit_withdraws_the_case_whatever_her_session_says(
        api: FakeBotApi, bot: Harness, world: Any) -> None:
    her = api.woman(3200, language_code="uk")
    number = await open_case(bot, her)
    for text in ("перше", "друге"):
        her.say(text)
    await bot.settle()
    relayed = [m["message_id"] for m in api.consultant(STAFF).messages()]
    # A session that no longer says "handover" (an older release, a lost write) while the
    # case is still open: quick exit must not look at the session to find it.
    await bot.store.update_session(bot.key(her.id), lambda s: replace(
        s or State(), status=Status.ACTIVE), datetime.now(UTC))
    her.say("/exit")
    await bot.settle()
    assert staff_texts(api)[-1].startswith(f"Case {number} withdrawn")
    assert not set(relayed) & {m["message_id"] for m in api.consultant(STAFF).messages()}
    assert [m["text"] for m in her.screen()] == [neutral(world, "uk")]
    assert await rows_of(bot, her) == (False, [], None)


async def test_relays_are_deleted_by_quick_exit_after_a_restart(
        api: FakeBotApi, world: Any, tmp_path: Path) -> None:
    first = await start(api, world, tmp_path)
    her = api.woman(3300, language_code="ru")
    try:
        number = await open_case(first, her)
        her.say("первое")
        her.say("второе")
        await first.settle()
    finally:
        await stop_bot(first)
    relayed = {m["message_id"] for m in api.consultant(STAFF).messages()}
    assert len(relayed) == 3
    second = await start(api, world, tmp_path)  # a new process: nothing in memory
    second.processed |= first.processed
    try:
        her.say("/exit")
        await second.settle()
    finally:
        await stop_bot(second)
    left = {m["message_id"] for m in api.consultant(STAFF).messages()}
    assert not relayed & left
    assert staff_texts(api)[-1].startswith(f"Case {number} withdrawn")


async def test_forget_then_quick_exit_still_blanks_the_chat(api: FakeBotApi, bot: Harness,
                                                            world: Any) -> None:
    her = api.woman(3400, language_code="uk")
    await begin(bot, her)
    her.say("тест на віл")
    await bot.settle()
    her.say("/forget")
    await bot.settle()
    key = bot.key(her.id)
    assert await bot.store.load_session(key) is None
    her.say("/start")
    await bot.settle()
    her.say("/exit")
    await bot.settle()
    assert [m["text"] for m in her.screen()] == [neutral(world, "uk")]
    assert await rows_of(bot, her) == (False, [], None)


# -- 4, 5. what quick exit deletes that the store never heard of -------------------------

def test_quick_exit_ids_cover_what_was_never_recorded() -> None:
    assert quick_exit_ids([]) == []
    assert quick_exit_ids([5, 9]) == list(range(1, 10))
    near = quick_exit_ids([3, 700, 760])
    assert near == list(range(3, 761))
    far = quick_exit_ids([10, 30, 5000, 5040])
    assert {10, 30, *range(11, 30), 5000, 5040} <= set(far)
    assert set(range(5040 - QUICK_EXIT_BEFORE + 1, 5041)) <= set(far)
    assert 2000 not in far


async def test_quick_exit_deletes_messages_whose_turn_never_ran(api: FakeBotApi, bot: Harness,
                                                                world: Any) -> None:
    her = api.woman(3500, language_code="uk")
    await begin(bot, her)
    api.her_message(her, "тест на віл")  # fetched, confirmed, then the process was killed
    api._bot_message(her.id, "an answer sent just before the kill", {})
    api.her_message(her, "ще одне")
    her.say("/exit")
    await bot.settle()
    assert [m["text"] for m in her.screen()] == [neutral(world, "uk")]


async def test_a_send_that_timed_out_but_was_delivered_is_deleted_too(
        api: FakeBotApi, world: Any, tmp_path: Path) -> None:
    bot = await start(api, world, tmp_path, read_timeout=0.5)
    try:
        her = api.woman(3600, language_code="en")
        api.late("sendMessage", 1.0, chat=her.id)
        her.say("/help")
        await bot.settle()
        assert len(bot_messages(her)) == 2  # Telegram delivered it, and the retry again
        her.say("/exit")
        await bot.settle()
        assert [m["text"] for m in her.screen()] == [neutral(world, "en")]
    finally:
        await stop_bot(bot)


async def test_ten_taps_on_quick_exit_leave_one_message(api: FakeBotApi, bot: Harness,
                                                        world: Any) -> None:
    her = api.woman(3700, language_code="ru")
    await begin(bot, her)
    screen = bot_messages(her)[-1]["message_id"]
    for _ in range(10):
        her.tap("do:exit", screen)
    await bot.settle()
    assert [m["text"] for m in her.screen()] == [neutral(world, "ru")]
    for _ in range(3):
        her.say("/exit")
    await bot.settle()
    assert [m["text"] for m in her.screen()] == [neutral(world, "ru")]


async def test_an_answer_in_flight_during_quick_exit_is_deleted(
        api: FakeBotApi, bot: Harness, world: Any) -> None:
    her = api.woman(3800, language_code="uk")
    await open_case(bot, her)
    relayed = await relay(bot, api, her, "мені погано")
    api.stall("sendMessage", 1.0, chat=her.id)  # Telegram takes its time with the answer
    api.consultant(STAFF).say("💬 Ми поруч. Ви в безпеці зараз?", reply_to=relayed)
    await asyncio.sleep(0.3)
    her.say("/exit")
    await bot.settle()
    assert [m["text"] for m in her.screen()] == [neutral(world, "uk")]
    assert await rows_of(bot, her) == (False, [], None)


async def test_an_answer_that_arrives_after_her_exit_elsewhere_is_taken_back(
        api: FakeBotApi, bot: Harness, world: Any) -> None:
    """Quick exit ran on another instance while the answer was on its way."""
    her = api.woman(3900, language_code="uk")
    await open_case(bot, her)
    relayed = await relay(bot, api, her, "мені погано")
    api.stall("sendMessage", 1.0, chat=her.id)
    api.consultant(STAFF).say("Ми поруч", reply_to=relayed)
    await asyncio.sleep(0.4)
    await bot.store.forget(bot.key(her.id))  # the other instance's quick exit
    await bot.settle()
    assert "Ми поруч" not in str(her.screen())
    assert await rows_of(bot, her) == (False, [], None)
    assert staff_texts(api)[-1].startswith("She left before your answer reached her")


# -- 6. the store failing never silences a crisis -------------------------------------------

async def test_a_crisis_is_answered_while_the_database_is_read_only(
        api: FakeBotApi, bot: Harness, world: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    her = api.woman(4000, language_code="uk")
    await begin(bot, her)
    db = bot.store._live()  # type: ignore[attr-defined]
    await db.execute("PRAGMA query_only = ON")  # every write fails, as on a read-only disk
    her.say(CRISIS_UK)
    await bot.settle()
    expected = step(world, State(lang="uk", country="UA"), Text(CRISIS_UK), datetime.now(UTC))
    says = [say_html(r)[0] for r in expected.replies if isinstance(r, Say)]
    assert bot_messages(her)[-1]["text"] == says[-1]
    assert "store_failed during=turn" in caplog.text and "update_failed" not in caplog.text
    await db.execute("PRAGMA query_only = OFF")  # the disk is writable again
    her.say("/help")
    await bot.settle()
    state = await bot.store.load_session(bot.key(her.id))
    assert state is not None and state.step_id == "main.help"


async def test_a_crisis_is_answered_while_the_database_is_unreachable(
        api: FakeBotApi, bot: Harness, world: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    her = api.woman(4100, language_code="uk")
    await begin(bot, her)

    def down() -> Any:
        raise StoreError("the database could not be reached: connection refused")

    monkeypatch.setattr(bot.store, "_live", down)
    her.say(CRISIS_UK)
    await bot.settle()
    expected = step(world, State(lang="uk"), Text(CRISIS_UK), datetime.now(UTC))
    says = [say_html(r)[0] for r in expected.replies if isinstance(r, Say)]
    assert bot_messages(her)[-1]["text"] == says[-1]
    her.say("/exit")  # quick exit without the stored ids: the last ids of her chat go
    await bot.settle()
    assert [m["text"] for m in her.screen()] == [neutral(world, "uk")]
    monkeypatch.undo()  # the database is back
    her.say("/start")
    await bot.settle()
    state = await bot.store.load_session(bot.key(her.id))
    assert state is not None and state.country == ""  # her quick exit was completed first


# -- 7. Telegram's errors -------------------------------------------------------------------

async def test_query_too_old_does_not_abort_the_press(api: FakeBotApi, bot: Harness,
                                                      world: Any) -> None:
    her = api.woman(4200, language_code="en")
    await begin(bot, her)
    api.fail("answerCallbackQuery", 400, description="Bad Request: query is too old and "
             "response timeout expired or query ID is invalid")
    her.tap("main.privacy", bot_messages(her)[-1]["message_id"])
    await bot.settle()
    state = await bot.store.load_session(bot.key(her.id))
    assert state is not None and state.step_id == "main.privacy"


async def test_a_429_in_the_staff_group_does_not_hold_up_other_women(
        api: FakeBotApi, bot: Harness, world: Any) -> None:
    her = api.woman(4300, language_code="uk")
    await open_case(bot, her)
    api.fail("sendMessage", 429, chat=STAFF, retry_after=4)
    her.say("допоможіть")
    await asyncio.sleep(0.3)  # her relay now waits out the 429
    others = [api.woman(4310 + i, language_code="en") for i in range(5)]
    started = time.monotonic()
    for other in others:
        other.say("/help")
    await asyncio.wait_for(asyncio.gather(*(api.answered[o.id].wait() for o in others)), 2.0)
    assert time.monotonic() - started < 2.0
    await bot.settle()
    assert staff_texts(api)[-1].endswith("допоможіть")  # the relay went out after the wait


async def test_a_long_answer_of_a_consultant_is_split_not_dropped(
        api: FakeBotApi, bot: Harness, world: Any) -> None:
    her = api.woman(4400, language_code="uk")
    await open_case(bot, her)
    relayed = await relay(bot, api, her, "питання")
    answer = ("Ліки & дози <важливо> " * 200)[:4000]
    api.consultant(STAFF).say(answer, reply_to=relayed)
    await bot.settle()
    count = len(html_chunks("💬 " + answer))
    assert count >= 2  # 4,000 characters grow past 4,096 once escaped
    parts = [m["text"] for m in bot_messages(her)][-count:]
    assert all(len(p) <= 4096 for p in parts)
    assert html.unescape("".join(parts)) == "💬 " + answer
    assert "did not deliver" not in "".join(staff_texts(api))


async def test_her_long_message_reaches_the_consultants_whole(api: FakeBotApi, bot: Harness,
                                                              world: Any) -> None:
    her = api.woman(4500, language_code="uk")
    number = await open_case(bot, her)
    before = len(api.consultant(STAFF).messages())
    text = "".join(f"рядок {i} <про> дозу & ліки\n" for i in range(120))[:3020]
    her.say(text)
    await bot.settle()
    relayed = api.consultant(STAFF).messages()[before:]
    assert len(relayed) >= 2 and all(len(m["text"]) <= 4096 for m in relayed)
    bodies = [html.unescape(m["text"].split("\n", 1)[1]) for m in relayed]
    assert "\n".join(bodies) == text.rstrip("\n") or "".join(bodies) == text
    assert all(m["text"].startswith(f"{number} · uk · UA") for m in relayed)
    # A consultant may answer any part: each maps back to her.
    api.consultant(STAFF).say("Прочитала все", reply_to=relayed[-1]["message_id"])
    await bot.settle()
    assert bot_messages(her)[-1]["text"] == "💬 Прочитала все"


async def test_she_is_told_the_truth_when_the_staff_group_is_unreachable(
        api: FakeBotApi, bot: Harness, world: Any) -> None:
    her = api.woman(4600, language_code="uk")
    await begin(bot, her)
    api.fail("sendMessage", 403, times=2, chat=STAFF,
             description="Forbidden: bot was kicked from the supergroup chat")
    her.tap("main.human", bot_messages(her)[-1]["message_id"])
    await bot.settle()
    her.tap("do:human")
    await bot.settle()
    truth = world.tr("uk").gettext(
        "Sorry, the consultants cannot be reached right now, so your message did not "
        "reach anyone. Please try again later. If you are in danger now, call the "
        "emergency numbers.")
    last = bot_messages(her)[-1]
    assert last["text"] == truth
    assert last["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "crisis.emergency"
    her.say("ви тут?")
    await bot.settle()
    assert bot_messages(her)[-1]["text"] == truth


async def test_reload_refuses_what_check_refuses(api: FakeBotApi, tmp_path: Path) -> None:
    root = tmp_path / "content"
    source = Path(__file__).resolve().parents[2]
    for name in ("flows", "locales", "directory"):
        shutil.copytree(source / name, root / name)
    world, errors, _ = load_world(root)
    assert world is not None, errors
    harness = await start_bot(api, world, tmp_path / "db.sqlite3")
    serving = harness.runtime.holder.world
    try:
        po = root / "locales" / "uk" / "LC_MESSAGES" / "bot.po"
        text = po.read_text()
        assert "{needs}" in text.split('msgid "Looking for: {needs}."', 1)[1].split("\n\n")[0]
        head, tail = text.split('msgid "Looking for: {needs}."', 1)
        entry, rest = tail.split("\n\n", 1)
        po.write_text(head + 'msgid "Looking for: {needs}."' + entry.replace(
            "{needs}", "{потреби}") + "\n\n" + rest)
        staff = api.woman(42, language_code="en")
        staff.say("/reload")
        await harness.settle()
        answer = bot_messages(staff)[-1]["text"]
        assert answer.startswith("Reload refused") and "bot.po" in answer
        assert harness.runtime.holder.world is serving  # the last good content is kept
    finally:
        await stop_bot(harness)


# -- 11. staff ------------------------------------------------------------------------------

async def test_only_staff_may_answer_close_or_block(api: FakeBotApi, bot: Harness,
                                                    world: Any) -> None:
    her = api.woman(4700, language_code="uk")
    number = await open_case(bot, her)
    relayed = await relay(bot, api, her, "привіт")
    member = api.consultant(STAFF, id=555777, first_name="Stranger")
    for text in ("Я не консультантка", "/close", "/block"):
        member.say(text, reply_to=relayed)
        await bot.settle()
        assert staff_texts(api)[-1].startswith("Only the consultants listed")
    assert "не консультантка" not in str(her.screen())
    case = await bot.store.get_case(number)
    assert case is not None and not case.blocked


async def test_stats_are_not_posted_in_another_group(api: FakeBotApi, bot: Harness) -> None:
    family = api.consultant(-100999, id=42, first_name="Staff")
    family.say("/stats")
    await bot.settle()
    assert not [m for m in api.screen(-100999) if m["from"]["id"] == BOT_ID]
    api.consultant(STAFF, id=42).say("/stats")
    await bot.settle()
    assert "No questions" in staff_texts(api)[-1] or "Questions in the" in staff_texts(api)[-1]


async def test_ten_taps_on_talk_to_a_person_open_one_case(api: FakeBotApi, bot: Harness,
                                                          world: Any) -> None:
    her = api.woman(4800, language_code="en")
    await begin(bot, her)
    her.tap("main.human", bot_messages(her)[-1]["message_id"])
    await bot.settle()
    screen = bot_messages(her)[-1]["message_id"]
    for _ in range(10):
        her.tap("do:human", screen)
    await bot.settle()
    assert sum(t.startswith("New case") for t in staff_texts(api)) == 1


async def test_ordinary_staff_chat_gets_the_hint_once(api: FakeBotApi, bot: Harness) -> None:
    staff = api.consultant(STAFF)
    for text in ("Доброго ранку", "Хто сьогодні чергує?", "Я"):
        staff.say(text)
    await bot.settle()
    assert sum(t.startswith("To answer a woman") for t in staff_texts(api)) == 1


async def test_when_she_blocks_the_bot_she_is_forgotten(api: FakeBotApi, bot: Harness,
                                                        world: Any) -> None:
    her = api.woman(4900, language_code="uk")
    number = await open_case(bot, her)
    api.push({"my_chat_member": {
        "chat": her.chat(), "from": her.user(), "date": int(time.time()),
        "old_chat_member": {"status": "member", "user": {"id": BOT_ID, "is_bot": True,
                                                          "first_name": "Podruga"}},
        "new_chat_member": {"status": "kicked", "until_date": 0,
                            "user": {"id": BOT_ID, "is_bot": True, "first_name": "Podruga"}}}})
    await bot.settle()
    assert await rows_of(bot, her) == (False, [], None)
    assert staff_texts(api)[-1].startswith(f"Case {number} withdrawn")


async def test_a_forged_button_for_another_chat_writes_nothing_there(
        api: FakeBotApi, bot: Harness, world: Any) -> None:
    victim, forger = api.woman(5001, language_code="uk"), api.woman(5002, language_code="uk")
    await begin(bot, victim)
    screen = dict(bot_messages(victim)[-1])
    before = len(victim.screen())
    api.push({"callback_query": {"id": "99", "from": forger.user(), "chat_instance": "x",
                                 "data": "main.privacy", "message": screen}})
    await bot.settle()
    assert len(victim.screen()) == before
    assert bot_messages(victim)[-1]["text"] == screen["text"]


async def test_a_whole_world_still_answers(api: FakeBotApi, bot: Harness, world: Any) -> None:
    """The holder the bot runs on is the fixture's world (nothing above replaced it)."""
    assert isinstance(bot.runtime.holder, WorldHolder)


class Proxy:
    """A TCP proxy to PostgreSQL that the test can cut and restore: the server 'goes away'."""

    def __init__(self, target_port: int = 5432) -> None:
        self.target_port = target_port
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._pipe, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.close()
            return
        self._writers |= {writer, up_writer}

        async def copy(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (OSError, asyncio.CancelledError):
                pass
            finally:
                dst.close()

        await asyncio.gather(copy(reader, up_writer), copy(up_reader, writer))

    async def cut(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in self._writers:
            writer.close()
        self._writers.clear()
        await self._server.wait_closed()


@pytest.mark.postgres
async def test_a_crisis_is_answered_while_postgresql_is_gone(api: FakeBotApi, world: Any,
                                                            pg_url: str) -> None:
    proxy = Proxy()
    await proxy.start()
    through_proxy = pg_url.replace(":5432/", f":{proxy.port}/")
    bot = await start_bot(api, world, through_proxy)  # type: ignore[arg-type]
    try:
        her = api.woman(5100, language_code="uk")
        await begin(bot, her)
        await proxy.cut()
        her.say(CRISIS_UK)
        await bot.settle()
        expected = step(world, State(lang="uk"), Text(CRISIS_UK), datetime.now(UTC))
        says = [say_html(r)[0] for r in expected.replies if isinstance(r, Say)]
        assert bot_messages(her)[-1]["text"] == says[-1]
        await proxy.start()  # the server is back, on the same port
        her.say("/help")
        await bot.settle()
        state = await bot.store.load_session(bot.key(her.id))
        assert state is not None and state.step_id == "main.help" and state.country == "UA"
    finally:
        await stop_bot(bot)
        await proxy.cut()


@pytest.mark.postgres
async def test_quick_exit_on_one_instance_deletes_what_another_relayed(
        api: FakeBotApi, world: Any, pg_url: str) -> None:
    """Two webhook instances on one PostgreSQL: her case opened and relayed on A, her quick
    exit handled by B; B deletes A's relays from the staff group and the answer A sends
    after her exit is taken back."""
    from conftest import make_settings
    from telegram import Update

    from bot.adapters.telegram.app import build_application

    location = pg_url
    apps = []
    try:
        for _ in range(2):
            app = build_application(make_settings(
                api, staff_chat=STAFF, case_key=CASE_KEY,
                staff_ids=frozenset({42, CONSULTANT}), paced=False),
                WorldHolder(world), store_location=location)
            await app.initialize()
            assert app.post_init is not None
            await app.post_init(app)
            apps.append(app)
        a, b = apps

        async def hand(app: Any, update_id: int) -> None:
            data = next(u for u in api.updates if u["update_id"] == update_id)
            await app.process_update(Update.de_json(data, app.bot))

        her = api.woman(5200, language_code="uk")
        await hand(a, her.say("/start"))
        await hand(a, her.tap("country:UA"))
        await hand(a, her.tap("do:human"))
        await hand(a, her.say("перше"))
        await hand(a, her.say("друге"))
        relayed = {m["message_id"] for m in api.consultant(STAFF).messages()}
        assert len(relayed) == 3
        await hand(b, her.say("/exit"))
        assert not relayed & {m["message_id"] for m in api.consultant(STAFF).messages()}
        assert api.consultant(STAFF).messages()[-1]["text"].startswith("Case K-")
        assert [m["text"] for m in her.screen()] == [neutral(world, "uk")]
        # A consultant's answer to the withdrawn case, on instance A: nothing reaches her.
        notice = api.consultant(STAFF).messages()[-1]["message_id"]
        await hand(a, api.consultant(STAFF).say("Ви тут?", reply_to=notice))
        assert [m["text"] for m in her.screen()] == [neutral(world, "uk")]
        store = b.bot_data["podruga"].live_store()
        key = b.bot_data["podruga"].keyring.session_key(her.id)
        assert await store.load_session(key) is None
        assert await store.message_ids(key, datetime.now(UTC)) == []
    finally:
        for app in apps:
            await app.shutdown()
            assert app.post_shutdown is not None
            await app.post_shutdown(app)


async def test_quick_exit_forgets_her_even_when_deleting_times_out(
        api: FakeBotApi, world: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Telegram failing to delete must not leave her half-forgotten: the session, her
    message ids and her case go all the same, and she gets the neutral line."""
    bot = await start(api, world, tmp_path, read_timeout=0.3)
    try:
        her = api.woman(3650, language_code="uk")
        await open_case(bot, her)
        her.say("мені потрібна допомога")
        await bot.settle()
        api.stall("deleteMessages", 1.0, times=30)  # every try of every batch times out
        her.say("/exit")
        await bot.settle()
        assert "delete_failed" in caplog.text
        assert await bot.store.load_session(bot.key(3650)) is None
        assert await bot.store.message_ids(bot.key(3650), datetime.now(UTC)) == []
        assert await bot.store.case_for(bot.key(3650)) is None
        assert bot_messages(her)[-1]["text"] == neutral(world, "uk")
        assert api.consultant(STAFF).messages()[-1]["text"].startswith("Case K-")
        assert "withdrawn" in api.consultant(STAFF).messages()[-1]["text"]
    finally:
        await stop_bot(bot)
