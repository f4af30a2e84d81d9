"""Talk to a person: what she and the consultants are told at each moment of a case.

Theory of operation. The conversation engine (``bot.engine.step``) decides when
a case opens, when her words go to the consultants and when the case ends, and
says so with ``HandOver`` replies. Carrying those out takes calls to the outside
world that only an adapter can make: opening the case in the store, posting to
the staff group, sending to her chat. Each time one of them has happened, the
adapter reports it here as an event (``CaseOpened``, ``HerWords``,
``StaffPost``...), and ``step`` answers with a ``CaseStep``: the final text of
every post to the staff group and of every message to her, with its buttons.
The adapter sends them and maps ids; it writes no sentence and picks no button.

Like the engine, this module is pure: the time comes in as ``now`` (and, for
the pace of her messages, ``moment``), the consultants' hours come in as a
``Desk``, and nothing is read or written. What staff are told is in the staff
language (``PODRUGA_STAFF_LANG``, msgctxt ``staff``); what she is told is in
hers.

A case moves through: opened (the staff group gets a notice, she learns when
consultants are back if they are away) → her words relayed, at most
``RELAYS_PER_WINDOW`` a minute → a consultant answers, ``/block`` or
``/close``, or she leaves (``CaseEnded``), or quick exit withdraws it
(``CaseEnded(withdrawn=True)``). If the staff group cannot be reached at any
point, she is told that her words reached nobody (``CaseStep.unreachable``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, time, timedelta
from enum import StrEnum
from typing import Protocol
from zoneinfo import ZoneInfo

from bot.engine import World
from bot.engine.datetimes import back_at
from bot.engine.replies import Choice, Say
from bot.engine.state import State, Status
from bot.engine.translator import Translator

__all__ = [
    "AnswerLost", "CaseEnded", "CaseGone", "CaseOpened", "CaseStep", "ConsultantHours",
    "Desk", "HerWords", "Lost", "Pace", "StaffAction", "StaffAnswer", "StaffBlocked",
    "StaffClosed", "StaffPost", "ToStaff", "after_staff_closed", "pace", "step",
]

RELAYS_PER_WINDOW = 10  # her messages relayed per case in RELAY_WINDOW_SECONDS; more wait
RELAY_WINDOW_SECONDS = 60
HINT_EVERY_SECONDS = 600  # the how-to-answer hint in the staff group, at most this often
EMERGENCY_STEP = "crisis.emergency"  # the flow step with the emergency numbers
MENU_STEP = "main.menu"
LEAVE = "do:leave"  # the engine's action that takes her out of the chat with a person
ANSWER_MARK = "💬 "  # a consultant's words start with this, so she tells them from the bot's


class HoursLine(Protocol):
    """One line of opening hours as the directory reads it (``bot.content.directory.hours``)."""

    @property
    def days(self) -> frozenset[int]: ...  # 0 = Monday

    @property
    def opens(self) -> int: ...  # minutes after midnight

    def covers(self, weekday: int, minute: int) -> bool: ...


@dataclass(frozen=True, slots=True)
class ConsultantHours:
    """When consultants answer: some weekdays, one time range, in one time zone."""

    line: HoursLine  # the days and times, read by the directory's opening-hours parser
    zone: str  # an IANA time zone, "Europe/Kyiv"

    def is_open(self, now: datetime) -> bool:
        local = now.astimezone(ZoneInfo(self.zone))
        return self.line.covers(local.weekday(), local.hour * 60 + local.minute)

    def next_open(self, now: datetime) -> datetime:
        """The next moment consultants are back (in the consultants' time zone)."""
        zone = ZoneInfo(self.zone)
        local = now.astimezone(zone)
        for ahead in range(8):
            day = (local + timedelta(days=ahead)).date()
            opening = datetime.combine(day, time(self.line.opens // 60, self.line.opens % 60),
                                       zone)
            if day.weekday() in self.line.days and opening > local:
                return opening
        raise AssertionError("hours with no day")  # pragma: no cover - days is never empty


@dataclass(frozen=True, slots=True)
class Desk:
    """How this deployment's consultants work: their language and their hours.

    ``hours`` maps a language to its consultants' hours; ``"*"`` holds the hours
    for every language without its own. No hours: consultants answer at any time.
    """

    staff_lang: str = "en"
    hours: Mapping[str, ConsultantHours] = field(default_factory=dict)

    def hours_for(self, lang: str) -> ConsultantHours | None:
        return self.hours.get(lang) or self.hours.get("*")


# -- what happened: the adapter reports these --------------------------------------------

@dataclass(frozen=True, slots=True)
class CaseOpened:
    """A new case exists (not a second tap on "talk to a person").

    ``quiet``: opened again for her words after the old case expired or was
    closed by a consultant; she has already been told how this works.
    """

    number: str
    lang: str
    country: str
    quiet: bool = False


@dataclass(frozen=True, slots=True)
class HerWords:
    """She wrote during her case and her pace allows it: her words go to the consultants.

    ``text`` is her whole message ("" for a photo, a sticker or a voice note).
    """

    number: str
    lang: str
    country: str
    text: str


@dataclass(frozen=True, slots=True)
class TooFast:
    """She wrote faster than her words are relayed; ``first``: the first one past the limit."""

    lang: str
    first: bool


@dataclass(frozen=True, slots=True)
class CaseEnded:
    """Her case is closed because she left it, or withdrawn (quick exit, /forget, blocked)."""

    number: str
    withdrawn: bool


@dataclass(frozen=True, slots=True)
class StaffPost:
    """A message in the staff group.

    ``number``: the open case of the message it replies to, if any;
    ``reply``: whether it replies to a message at all; ``consultant``: whether
    its author is in ``PODRUGA_STAFF_IDS``; ``since_hint``: seconds since the
    how-to hint was last given.
    """

    number: str | None
    reply: bool
    consultant: bool
    text: str
    since_hint: float = float("inf")


@dataclass(frozen=True, slots=True)
class StaffBlocked:
    """A consultant blocked the case: her words are no longer relayed."""

    number: str


@dataclass(frozen=True, slots=True)
class StaffClosed:
    """A consultant closed the case; ``lang`` is hers."""

    number: str
    lang: str


@dataclass(frozen=True, slots=True)
class StaffAnswer:
    """A consultant's answer, to go to her; ``lang`` is hers."""

    lang: str
    text: str


@dataclass(frozen=True, slots=True)
class CaseGone:
    """The case a consultant replied to is no longer open (closed, withdrawn, expired)."""


class Lost(StrEnum):
    """Why a consultant's answer did not stay with her."""

    SHE_LEFT = "she_left"  # she left while it was on its way; it was taken back
    SHE_BLOCKED = "she_blocked"  # she blocked the bot
    NOT_DELIVERED = "not_delivered"  # Telegram kept failing


@dataclass(frozen=True, slots=True)
class AnswerLost:
    """A consultant's answer did not stay with her."""

    why: Lost


CaseEvent = (CaseOpened | HerWords | TooFast | CaseEnded | StaffPost | StaffBlocked
             | StaffClosed | StaffAnswer | CaseGone | AnswerLost)


# -- what to do: the answer to each event ---------------------------------------------------

class StaffAction(StrEnum):
    """What a staff group message asks the adapter to carry out."""

    NOTHING = ""  # nothing beyond the posts in the step
    HINTED = "hinted"  # the how-to hint was given: note the time
    BLOCK = "block"  # mark the case blocked, then report ``StaffBlocked``
    CLOSE = "close"  # close the case, then report ``StaffClosed`` (or ``CaseGone``)
    ANSWER = "answer"  # send her the answer: report ``StaffAnswer`` (or ``CaseGone``)


@dataclass(frozen=True, slots=True)
class ToStaff:
    """A post to the staff group, final text in the staff language.

    ``words``: her words under the ``text`` heading; the adapter may split
    them into several posts, each under the heading and numbered.
    """

    text: str
    words: str | None = None


@dataclass(frozen=True, slots=True)
class CaseStep:
    """What to do after an event: posts to the staff group, then messages to her.

    When a post to the staff group fails, she gets ``unreachable`` instead of
    ``her`` and the rest of the posts are dropped.
    """

    staff: tuple[ToStaff, ...] = ()
    her: tuple[Say, ...] = ()
    unreachable: tuple[Say, ...] = ()
    action: StaffAction = StaffAction.NOTHING


def step(world: World, desk: Desk, event: CaseEvent, now: datetime) -> CaseStep:
    """What she and the staff group are told after ``event``; ``world`` gives translations."""
    tr_of = world.tr
    staff = tr_of(desk.staff_lang)


    if isinstance(event, CaseOpened):
        tr = tr_of(event.lang or "en")
        posts = (ToStaff(staff.pgettext(
            "staff", "New case {number} · language {lang} · country {country}\n"
            "Reply to her messages to answer her; /close or /block as a reply.").format(
            number=event.number, lang=event.lang or "?", country=event.country or "?")),)
        hours = desk.hours_for(event.lang or "en")
        her: tuple[Say, ...] = ()
        if not event.quiet and hours is not None and not hours.is_open(now):
            when = back_at(hours.next_open(now), ZoneInfo(hours.zone), now, tr)
            her = (_with_emergency(tr, tr.gettext(
                "The consultants are not here right now. They will be back {when}. Write your "
                "question anyway: they will see it then. If you are in danger now, call the "
                "emergency numbers.").format(when=when)),)
        return CaseStep(posts, her, _unreachable(tr))
    if isinstance(event, HerWords):
        words = event.text or staff.pgettext("staff", "(a photo, sticker or voice message)")
        heading = f"{event.number} · {event.lang or '?'} · {event.country or '?'}"
        return CaseStep((ToStaff(heading, words),), (),
                        _unreachable(tr_of(event.lang or "en")))
    if isinstance(event, TooFast):
        if not event.first:
            return CaseStep()  # said once per minute, not on every message
        tr = tr_of(event.lang or "en")
        return CaseStep(her=(Say(tr.gettext(
            "You are writing very fast. Wait a minute, then write again: the consultant will "
            "read everything.")),))
    if isinstance(event, CaseEnded):
        if event.withdrawn:
            return CaseStep(_notice(staff.pgettext(
                "staff", "Case {number} withdrawn: she left with quick exit. Please delete "
                "anything about her you copied elsewhere."), number=event.number))
        return CaseStep(_notice(staff.pgettext(
            "staff", "Case {number}: she left the conversation."), number=event.number))
    if isinstance(event, StaffPost):
        return _staff_post(staff, event)
    if isinstance(event, StaffBlocked):
        return CaseStep(_notice(staff.pgettext(
            "staff", "Case {number} blocked: her messages are no longer relayed. Nobody "
            "learns who she is."), number=event.number))
    if isinstance(event, StaffClosed):
        tr = tr_of(event.lang or "en")
        ended = Say(tr.gettext("The consultant has ended this conversation. You can write to "
                               "a person again at any time from the menu."),
                    ((Choice(tr.gettext("☰ Menu"), MENU_STEP),),))
        return CaseStep(_notice(staff.pgettext("staff", "Case {number} closed."),
                                number=event.number), (ended,))
    if isinstance(event, StaffAnswer):
        tr = tr_of(event.lang or "en")
        return CaseStep(her=(Say(ANSWER_MARK + event.text, ((Choice(
            tr.gettext("↩ Leave the chat with a person"), LEAVE),),)),))
    if isinstance(event, CaseGone):
        return CaseStep(_not_a_case(staff))
    if isinstance(event, AnswerLost):
        if event.why is Lost.SHE_LEFT:
            return CaseStep(_notice(staff.pgettext(
                "staff", "She left before your answer reached her; it was deleted from her "
                "chat.")))
        if event.why is Lost.SHE_BLOCKED:
            return CaseStep(_notice(staff.pgettext(
                "staff", "She can no longer be reached (she blocked the bot); the case is "
                "closed.")))
        return CaseStep(_notice(staff.pgettext(
            "staff", "Telegram did not deliver that answer; try again later.")))
    raise TypeError(f"not a case event: {event!r}")  # pragma: no cover - the union is closed


def _notice(text: str, **fields: str) -> tuple[ToStaff, ...]:
    """One post to the staff group; ``text`` is already in their language.

    Each caller passes a literal to ``pgettext("staff", ...)`` itself, so that
    pybabel finds the message.
    """
    return (ToStaff(text.format(**fields)),)


def _not_a_case(staff: Translator) -> tuple[ToStaff, ...]:
    return _notice(staff.pgettext(
        "staff", "That message does not belong to an open case any more (closed, withdrawn "
        "or older than 7 days)."))


def _staff_post(staff: Translator, post: StaffPost) -> CaseStep:
    """Who may do what in the staff group: answer, /close and /block by replying."""
    if post.number is not None and not post.consultant:
        # Being in the group is not enough: a member added by mistake must not reach her.
        return CaseStep(_notice(staff.pgettext(
            "staff", "Only the consultants listed in PODRUGA_STAFF_IDS can answer, close or "
            "block a case.")))
    if not post.reply:
        if post.text.startswith("/") or post.since_hint < HINT_EVERY_SECONDS:
            return CaseStep()
        return CaseStep(_notice(staff.pgettext(
            "staff", "To answer a woman, reply to one of her messages. /close or /block as a "
            "reply end or stop a case.")), action=StaffAction.HINTED)
    if post.number is None:
        return CaseStep(_not_a_case(staff))
    command = post.text.split(maxsplit=1)[0].partition("@")[0].lower() if post.text else ""
    if command == "/block":
        return CaseStep(action=StaffAction.BLOCK)
    if command == "/close":
        return CaseStep(action=StaffAction.CLOSE)
    if not post.text:
        return CaseStep(_notice(staff.pgettext("staff", "Only text can be relayed to her.")))
    return CaseStep(action=StaffAction.ANSWER)

def _with_emergency(tr: Translator, text: str) -> Say:
    """One sentence to her with the emergency numbers one tap away."""
    return Say(text, ((Choice(tr.gettext("🆘 Emergency numbers"), EMERGENCY_STEP),),))


def _unreachable(tr: Translator) -> tuple[Say, ...]:
    """The staff group refused her words: the truth, never "a consultant will see it"."""
    return (_with_emergency(tr, tr.gettext(
        "Sorry, the consultants cannot be reached right now, so your message did not reach "
        "anyone. Please try again later. If you are in danger now, call the emergency "
        "numbers.")),)


def after_staff_closed(state: State | None) -> State | None:
    """Her session after a consultant closed the case: back to the menu's normal answers."""
    if state is None:
        return None
    return replace(state, status=Status.ACTIVE, case="")


@dataclass(frozen=True, slots=True)
class Pace:
    """Whether one more message of hers is relayed now, and the window to keep."""

    relay: bool
    too_fast: TooFast | None
    recent: tuple[float, ...]


def pace(recent: tuple[float, ...], moment: float, lang: str) -> Pace:
    """At most RELAYS_PER_WINDOW of her messages a minute reach the consultants.

    ``recent``: the moments (monotonic seconds) of her recent relayed messages,
    and of the first refused one; ``moment``: now, on the same clock. Past the
    limit she is told to wait, once per window.
    """
    window = tuple(t for t in recent if moment - t <= RELAY_WINDOW_SECONDS)
    if len(window) < RELAYS_PER_WINDOW:
        return Pace(True, None, (*window, moment))
    if len(window) == RELAYS_PER_WINDOW:
        return Pace(False, TooFast(lang, first=True), (*window, moment))
    return Pace(False, TooFast(lang, first=False), window)
