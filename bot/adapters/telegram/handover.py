"""Talk to a person: relay a woman's messages to the staff group under a case number, and back.

Theory of operation. The engine decides when a case opens, what is relayed
and when she leaves (``HandOver`` replies); this module carries them out.
Opening a case seals her chat id with ``PODRUGA_CASE_KEY`` (AES-GCM) and
stores only that sealed link under her HMAC key and a short number
(``K-4821``); the staff group sees the number, her language and country and
her words, never her id, name, username or profile. A consultant answers by
replying to a relayed message: the store maps that staff message back to the
case, the link is opened, and the answer goes to her from the bot. Only the
consultants in ``PODRUGA_STAFF_IDS`` may answer; ``/close`` as a reply ends the
case, ``/block`` stops relaying it. Closing, leaving, quick exit and
``/forget`` destroy the link; the store also drops it after 7 days. A case is
closed whenever she is no longer in the chat with a person, whatever took her
out of it (``leave``), and quick exit and ``/forget`` withdraw it whatever her
session says (``withdraw``): the case's relayed messages, whose ids are in the
store whichever instance sent them, are deleted from the staff group.

A consultant's answer goes out under her per-key lock and is remembered for
quick exit only while the case is still open, in one statement; if she left
while it was on its way (quick exit on another instance), it is taken back.
Long texts are split, never cut: hers (the engine reads only the first 1,000
characters, the consultant gets all of them) and the consultant's. If the staff
group cannot be reached, she is told so and offered the emergency numbers.

The few sentences this module says to her (outside hours, too fast, closed by
the consultant) come from the ``bot`` catalog, like the engine's own; what it
tells the staff group is in the same catalog under msgctxt ``staff``, in
``PODRUGA_STAFF_LANG``.
"""

from __future__ import annotations

import contextlib
import html
import logging
import re
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from datetime import time as clock_time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from bot.adapters.telegram.render import Blocked, GaveUp, call, html_chunks
from bot.engine.datetimes import back_at
from bot.engine.replies import DeleteConversation, ForgetMe, HandOver, Reply
from bot.engine.state import State, Status
from bot.engine.translator import Translator
from bot.errors import OptionError
from bot.limits import DELETE_BATCH, MAX_MESSAGE_CHARS
from bot.store import CaseCipher, SessionKey, Store
from bot.vocabulary import LANGS

log = logging.getLogger("podruga.handover")

RELAYS_PER_WINDOW = 10  # her messages relayed per case in RELAY_WINDOW_SECONDS; more wait
RELAY_WINDOW_SECONDS = 60
EMERGENCY_STEP = "crisis.emergency"  # the flow step with the emergency numbers
HINT_EVERY_SECONDS = 600  # the how-to-answer hint in the staff group, at most this often
HEADER_ROOM = 80  # characters kept free for the case header of a relayed message
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SPEC = re.compile(
    r"^(?:(?P<lang>[a-z]{2})\s*=\s*)?(?P<days>[A-Za-z]{3}(?:\s*[-,]\s*[A-Za-z]{3})*)\s+"
    r"(?P<start>\d{1,2}:\d{2})\s*-\s*(?P<end>\d{1,2}:\d{2})\s+(?P<tz>[A-Za-z_]+/[A-Za-z_/+-]+)$")


@dataclass(frozen=True, slots=True)
class Hours:
    """When consultants answer: some weekdays, one time range, in one time zone."""

    days: frozenset[int]
    start: clock_time
    end: clock_time
    zone: ZoneInfo

    def is_open(self, now: datetime) -> bool:
        local = now.astimezone(self.zone)
        return local.weekday() in self.days and self.start <= local.time() < self.end

    def next_open(self, now: datetime) -> datetime:
        """The next moment consultants are back (local time of the consultants)."""
        local = now.astimezone(self.zone)
        for ahead in range(8):
            day = (local + timedelta(days=ahead)).date()
            opening = datetime.combine(day, self.start, self.zone)
            if day.weekday() in self.days and opening > local:
                return opening
        raise AssertionError("hours with no day")  # pragma: no cover - days is never empty


def parse_hours(raw: str) -> dict[str, Hours]:
    """``PODRUGA_CONSULTANT_HOURS``: ``Mon-Fri 10:00-18:00 Europe/Kyiv``, or per language,
    ``uk=Mon-Fri 10:00-18:00 Europe/Kyiv; ru=Mon-Sat 09:00-21:00 Europe/Moscow``.

    The key ``*`` holds the hours for every language without its own; no hours
    at all means consultants may answer at any time.
    """
    found: dict[str, Hours] = {}
    for part in filter(None, (p.strip() for p in raw.split(";"))):
        match = _SPEC.match(part)
        if not match:
            raise OptionError(f"PODRUGA_CONSULTANT_HOURS: cannot read {part!r}; write it like "
                              "'Mon-Fri 10:00-18:00 Europe/Kyiv' or 'uk=Mon-Fri 10:00-18:00 "
                              "Europe/Kyiv; ru=...'")
        lang = match["lang"] or "*"
        if lang != "*" and lang not in LANGS:
            raise OptionError(f"PODRUGA_CONSULTANT_HOURS: unknown language {lang!r}; "
                              f"use one of {', '.join(LANGS)}")
        try:
            zone = ZoneInfo(match["tz"])
        except (ZoneInfoNotFoundError, ValueError):
            raise OptionError(f"PODRUGA_CONSULTANT_HOURS: unknown time zone {match['tz']!r}; "
                              "write it like Europe/Kyiv") from None
        days = _days(match["days"], part)
        start, end = _time(match["start"], part), _time(match["end"], part)
        if end <= start:
            raise OptionError(f"PODRUGA_CONSULTANT_HOURS: in {part!r} the end comes before "
                              "the start")
        found[lang] = Hours(days, start, end, zone)
    return found


def _days(text: str, part: str) -> frozenset[int]:
    days: set[int] = set()
    for piece in (p.strip().lower() for p in text.split(",")):
        ends = [e.strip() for e in piece.split("-")]
        if any(e not in DAYS for e in ends):
            raise OptionError(f"PODRUGA_CONSULTANT_HOURS: unknown day in {part!r}; use "
                              "Mon Tue Wed Thu Fri Sat Sun")
        first, last = DAYS.index(ends[0]), DAYS.index(ends[-1])
        days.update(range(first, last + 1) if first <= last else
                    [*range(first, 7), *range(0, last + 1)])
    return frozenset(days)


def _time(text: str, part: str) -> clock_time:
    hours, minutes = (int(x) for x in text.split(":"))
    if hours > 23 or minutes > 59:
        raise OptionError(f"PODRUGA_CONSULTANT_HOURS: {text!r} in {part!r} is not a time of day")
    return clock_time(hours, minutes)


@dataclass
class Relay:
    """The hand-over relay of one running bot: staff chat, case cipher, hours, limits."""

    staff_chat: int
    cipher: CaseCipher
    hours: dict[str, Hours] = field(default_factory=dict)
    recent: dict[str, deque[float]] = field(default_factory=dict)
    staff: Callable[[], Translator] = Translator.identity  # staff language; English by default
    hinted: float = field(default=-HINT_EVERY_SECONDS)  # when the staff hint was last given

    def hours_for(self, lang: str) -> Hours | None:
        return self.hours.get(lang) or self.hours.get("*")

    # -- her side ----------------------------------------------------------------------
    async def on_reply(self, bot: Any, store: Store, world: Any, key: SessionKey, chat_id: int,
                       state: State, reply: HandOver, replies: Sequence[Reply],
                       now: datetime) -> list[int]:
        """Carry out one HandOver reply; return the ids of messages sent to her chat."""
        lang = state.lang or "en"
        if reply.kind == "open":
            return await self.open(bot, store, world, key, chat_id, state, now)
        number = await store.case_for(key)
        if reply.kind == "relay":
            if number is None:  # expired after 7 days, or closed by staff: open a fresh one
                told = await self.open(bot, store, world, key, chat_id, state, now, quiet=True)
                if told:
                    return told  # the staff group cannot be reached, and she knows it now
                number = await store.case_for(key)
            if number is None:
                return []
            return await self.relay(bot, store, world, number, lang, state, reply.text, now)
        if number is not None:
            withdrawn = any(isinstance(r, (DeleteConversation, ForgetMe)) for r in replies)
            await self.close(bot, store, number, withdrawn=withdrawn)
        return []

    async def open(self, bot: Any, store: Store, world: Any, key: SessionKey, chat_id: int,
                   state: State, now: datetime, quiet: bool = False) -> list[int]:
        existing = await store.case_for(key)
        number = await store.open_case(key, self.cipher.seal(chat_id), now)
        if existing == number:
            return []  # a second tap on "talk to a person": the case is open already
        log.info("case_opened lang=%s country=%s", state.lang or "-", state.country or "-")
        notice = self.staff().pgettext(
            "staff", "New case {number} · language {lang} · country {country}\n"
            "Reply to her messages to answer her; /close or /block as a reply.").format(
            number=number, lang=state.lang or "?", country=state.country or "?")
        sent = await self.to_staff(bot, notice)
        if sent is None:
            return await self.unreachable(bot, world, chat_id, state.lang)
        await store.relay(number, sent.message_id, now)
        hours = self.hours_for(state.lang or "en")
        if quiet or hours is None or hours.is_open(now):
            return []
        tr = world.tr(state.lang or "en")
        when = back_at(hours.next_open(now), hours.zone, now, tr)
        text = tr.gettext("The consultants are not here right now. They will be back "
                          "{when}. Write your question anyway: they will see it then. If you "
                          "are in danger now, call the emergency numbers.").format(when=when)
        return await self.tell_her(bot, world, chat_id, state.lang, text, emergency=True)

    async def tell_her(self, bot: Any, world: Any, chat_id: int, lang: str, text: str, *,
                       emergency: bool = False) -> list[int]:
        """One sentence of this module to her, with the emergency numbers' button if asked."""
        tr = world.tr(lang or "en")
        markup = InlineKeyboardMarkup([[InlineKeyboardButton(
            tr.gettext("🆘 Emergency numbers"), callback_data=EMERGENCY_STEP)]]) \
            if emergency else None
        try:
            message = await call("sendMessage", lambda: bot.send_message(
                chat_id, html.escape(text, quote=False), reply_markup=markup))
        except (GaveUp, BadRequest):
            return []
        return [message.message_id]

    async def unreachable(self, bot: Any, world: Any, chat_id: int, lang: str) -> list[int]:
        """The staff group refused her words: tell her the truth, not "a consultant will see"."""
        log.warning("relay_failed reason=staff_chat_unreachable")
        tr = world.tr(lang or "en")
        return await self.tell_her(bot, world, chat_id, lang, tr.gettext(
            "Sorry, the consultants cannot be reached right now, so your message did not "
            "reach anyone. Please try again later. If you are in danger now, call the "
            "emergency numbers."), emergency=True)

    async def relay(self, bot: Any, store: Store, world: Any, number: str, lang: str,
                    state: State, text: str, now: datetime) -> list[int]:
        case = await store.get_case(number)
        if case is None or case.blocked:
            log.info("relay_dropped reason=%s", "blocked" if case else "closed")
            return []
        window = self.recent.setdefault(number, deque())
        moment = time.monotonic()
        while window and moment - window[0] > RELAY_WINDOW_SECONDS:
            window.popleft()
        if len(window) >= RELAYS_PER_WINDOW:
            log.info("relay_dropped reason=rate_limit")
            if len(window) == RELAYS_PER_WINDOW:
                window.append(moment)  # say it once per window, not on every message
                tr = world.tr(lang)
                return await self.tell_her(bot, world, self.cipher.open(case.link), lang,
                                           tr.gettext("You are writing very fast. Wait a "
                                                      "minute, then write again: the "
                                                      "consultant will read everything."))
            return []
        window.append(moment)
        text = text or self.staff().pgettext("staff", "(a photo, sticker or voice message)")
        header = f"{number} · {state.lang or '?'} · {state.country or '?'}"
        parts = html_chunks(text, MAX_MESSAGE_CHARS - HEADER_ROOM)
        for i, part in enumerate(parts):
            count = f" · {i + 1}/{len(parts)}" if len(parts) > 1 else ""
            sent = await self.to_staff(bot, f"{header}{count}\n{part}")
            if sent is None:
                return await self.unreachable(bot, world, self.cipher.open(case.link), lang)
            await store.relay(number, sent.message_id, now)
        log.info("relayed to=staff parts=%d", len(parts))
        return []

    async def withdraw(self, bot: Any, store: Store, key: SessionKey) -> None:
        """Quick exit or /forget: withdraw her open case, whatever her session says."""
        number = await store.case_for(key)
        if number is not None:
            await self.close(bot, store, number, withdrawn=True)

    async def leave(self, bot: Any, store: Store, key: SessionKey) -> None:
        """She is no longer in the chat with a person: close her case, if one is open."""
        number = await store.case_for(key)
        if number is not None:
            await self.close(bot, store, number, withdrawn=False)

    async def close(self, bot: Any, store: Store, number: str, *, withdrawn: bool) -> None:
        """Destroy the link; on quick exit also remove what was relayed from the staff group."""
        ids = await store.relayed(number) if withdrawn else []
        self.recent.pop(number, None)
        if not await store.close_case(number):
            return  # closed meanwhile (by a consultant, or by another instance)
        if withdrawn:
            for start in range(0, len(ids), DELETE_BATCH):
                batch = ids[start:start + DELETE_BATCH]
                with contextlib.suppress(Exception):  # too old, or not ours to delete
                    await call("deleteMessages", lambda b=batch: bot.delete_messages(  # type: ignore[misc]
                        self.staff_chat, b))
            await self.to_staff(bot, self.staff().pgettext(
                "staff", "Case {number} withdrawn: she left with quick exit. Please delete "
                "anything about her you copied elsewhere.").format(number=number))
            log.info("case_withdrawn deleted=%d", len(ids))
        else:
            await self.to_staff(bot, self.staff().pgettext(
                "staff", "Case {number}: she left the conversation.").format(number=number))
            log.info("case_left")

    async def to_staff(self, bot: Any, text: str) -> Message | None:
        try:
            message: Message = await call("sendMessage", lambda: bot.send_message(
                self.staff_chat, text))
            return message
        except (GaveUp, Blocked):
            log.warning("staff_chat_unreachable")
            return None
        except Exception as exc:  # a wrong PODRUGA_STAFF_CHAT must not break her turn
            log.warning("staff_chat_unreachable error=%s", type(exc).__name__)
            return None

    # -- the consultants' side ------------------------------------------------------------
    async def on_staff_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE,
                               rt: Any) -> None:
        """Relay a consultant's reply to her; /close and /block as replies; explain the rest."""
        message = update.effective_message
        if message is None:
            return
        bot = context.bot
        store: Store = rt.live_store()
        target = message.reply_to_message
        number = await store.case_for_relay(target.message_id) if target is not None else None
        text = (message.text or "").strip()
        user = update.effective_user
        if number is not None and (user is None or user.id not in rt.settings.staff_ids):
            # Being in the group is not enough: a member added by mistake must not reach her.
            log.info("staff_reply_refused reason=not_staff")
            await self.to_staff(bot, self.staff().pgettext(
                "staff", "Only the consultants listed in PODRUGA_STAFF_IDS can answer, close "
                "or block a case."))
            return
        if target is None or number is None:
            if target is None and not text.startswith("/"):
                moment = time.monotonic()
                if moment - self.hinted >= HINT_EVERY_SECONDS:
                    self.hinted = moment
                    await self.to_staff(bot, self.staff().pgettext(
                        "staff", "To answer a woman, reply to one of her messages. /close or "
                        "/block as a reply end or stop a case."))
            elif target is not None:
                await self.to_staff(bot, self.staff().pgettext(
                    "staff", "That message does not belong to an open case any more (closed, "
                    "withdrawn or older than 7 days)."))
            return
        case = await store.get_case(number)
        if case is None:
            return
        command = text.split(maxsplit=1)[0].partition("@")[0].lower() if text else ""
        if command == "/block":
            await store.set_blocked(number, True)
            await self.to_staff(bot, self.staff().pgettext(
                "staff", "Case {number} blocked: her messages are no longer relayed. Nobody "
                "learns who she is.").format(number=number))
            log.info("case_blocked")
            return
        if command != "/close" and not text:
            await self.to_staff(bot, self.staff().pgettext(
                "staff", "Only text can be relayed to her."))
            return
        # Her turns and this answer, one at a time: a quick exit cannot run in between.
        async with rt.serial(case.key):
            if await store.get_case(number) is None:
                await self.to_staff(bot, self.staff().pgettext(
                    "staff", "That message does not belong to an open case any more (closed, "
                    "withdrawn or older than 7 days)."))
                return
            chat_id = self.cipher.open(case.link)
            state = await store.load_session(case.key) or State()
            tr = rt.holder.world.tr(state.lang or "en")
            now = rt.clock()
            if command == "/close":
                await store.update_session(case.key, _left_case, now)
                self.recent.pop(number, None)
                await store.close_case(number)
                answer = tr.gettext("The consultant has ended this conversation. You can write "
                                    "to a person again at any time from the menu.")
                markup = InlineKeyboardMarkup([[InlineKeyboardButton(
                    tr.gettext("☰ Menu"), callback_data="main.menu")]])
                ids = await self.to_her(bot, store, case.key, chat_id, answer, markup)
                if ids:
                    await store.remember_messages(case.key, ids, now)
                await self.to_staff(bot, self.staff().pgettext(
                    "staff", "Case {number} closed.").format(number=number))
                log.info("case_closed by=staff")
                return
            markup = InlineKeyboardMarkup([[InlineKeyboardButton(
                tr.gettext("↩ Leave the chat with a person"), callback_data="do:leave")]])
            ids = await self.to_her(bot, store, case.key, chat_id, "💬 " + text, markup)
            if ids and not await store.remember_case_messages(number, ids, now):
                # She left while it was on its way (quick exit on another instance): nothing
                # may stay on her screen, and nothing is written under her key.
                with contextlib.suppress(Exception):
                    await call("deleteMessages", lambda: bot.delete_messages(chat_id, ids))
                await self.to_staff(bot, self.staff().pgettext(
                    "staff", "She left before your answer reached her; it was deleted from "
                    "her chat."))
                return
            if ids:
                log.info("relayed to=her parts=%d", len(ids))

    async def to_her(self, bot: Any, store: Store, key: SessionKey, chat_id: int, text: str,
                     markup: InlineKeyboardMarkup) -> list[int]:
        """Send a text to her, split if long; the ids of what reached her."""
        parts = html_chunks(text)
        ids: list[int] = []
        for i, part in enumerate(parts):
            keyboard = markup if i == len(parts) - 1 else None
            try:
                message: Message = await call("sendMessage", lambda p=part, k=keyboard:  # type: ignore[misc]
                                              bot.send_message(chat_id, p, reply_markup=k))
            except Blocked:
                await store.forget(key)
                await self.to_staff(bot, self.staff().pgettext(
                    "staff", "She can no longer be reached (she blocked the bot); the case is "
                    "closed."))
                return []
            except (GaveUp, BadRequest) as exc:
                log.warning("answer_failed error=%s", type(exc).__name__)
                await self.to_staff(bot, self.staff().pgettext(
                    "staff", "Telegram did not deliver that answer; try again later."))
                return ids
            ids.append(message.message_id)
        return ids


def _left_case(state: State | None) -> State | None:
    """Her session after a consultant closed the case: back to the menu's normal answers."""
    if state is None:
        return None
    return replace(state, status=Status.ACTIVE, case="")
