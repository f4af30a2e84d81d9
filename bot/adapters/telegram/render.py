"""Lay the engine's replies out as Bot API calls, and map Telegram's errors.

Theory of operation. One turn's replies go out in order. A ``Say`` that is not
meant to be kept replaces the screen she pressed a button on (``edit_id``),
so menu navigation does not pile up messages; everything else is a new
message. A location request opens a reply keyboard; the first message after it
closes that keyboard again. Every message id the bot sends is returned, so the
caller can remember it for quick exit, except after ``ForgetMe``: from then on
nothing about her is kept, not even the id of the neutral goodbye.

Errors: 429 is retried once by the rate limiter (``max_retries=1``) and
given up after that; 403 means she blocked the bot (``Blocked``, the caller
forgets her); "message to edit not found" sends instead; "message is not
modified" is ignored; timeouts and network errors are retried with backoff,
then the turn is given up quietly.

Quick exit deletes more than the ids the store remembers (``quick_exit_ids``):
a reply sent just before a hard kill, a copy Telegram delivered although the
call timed out, a message whose turn never ran, or the neutral line of an
earlier quick exit were never recorded. In a private chat every message is
hers or the bot's, so deleting an id that was never recorded can only remove
something quick exit is meant to remove (ids of other chats are skipped by
Telegram). So it deletes every id from the first known to her exit when that
span is short, and always the ``QUICK_EXIT_BEFORE`` ids just below it; after
the neutral line, whatever arrived between her exit and that line.
"""

from __future__ import annotations

import asyncio
import functools
import html
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.engine.replies import (
    AskLocation,
    Choice,
    DeleteConversation,
    ForgetMe,
    HandOver,
    Reply,
    Say,
    ServiceList,
)
from bot.errors import StoreError
from bot.limits import DELETE_BATCH, MAX_MESSAGE_CHARS
from bot.store import SessionKey, Store

log = logging.getLogger("podruga.telegram")

NETWORK_TRIES = 3  # a timeout or a dropped connection is tried this many times in all
BACKOFF_SECONDS = 0.5  # first wait after a network error; doubles each try

QUICK_EXIT_SPAN = 1000  # when her known ids span at most this many, all ids between go
QUICK_EXIT_BEFORE = 100  # the ids just below her exit always go, known or not
QUICK_EXIT_GAP = 50  # further apart, gaps between known ids up to this size are filled

T = TypeVar("T")
HandOverHook = Callable[[HandOver], Awaitable[list[int]]]  # returns ids sent to her chat
WithdrawHook = Callable[[], Awaitable[None]]  # withdraws her open case, if any


class Blocked(Exception):
    """She blocked the bot (403): nothing can reach her, so nothing is kept about her."""


class GaveUp(Exception):
    """Telegram kept failing; the rest of this turn is dropped quietly."""


async def call(what: str, make: Callable[[], Awaitable[T]]) -> T:
    """Run one Bot API call, retrying network faults with backoff; map 403 and 429."""
    delay = BACKOFF_SECONDS
    for attempt in range(1, NETWORK_TRIES + 1):
        try:
            return await make()
        except Forbidden:
            raise Blocked() from None
        except RetryAfter:
            # The rate limiter already waited and retried once: give up this turn.
            log.warning("api_gave_up method=%s reason=retry_after", what)
            raise GaveUp() from None
        except BadRequest:
            raise
        except (TimedOut, NetworkError) as exc:
            if attempt == NETWORK_TRIES:
                log.warning("api_gave_up method=%s reason=%s tries=%d", what,
                            type(exc).__name__, attempt)
                raise GaveUp() from None
            await asyncio.sleep(delay)
            delay *= 2
    raise AssertionError("unreachable")  # pragma: no cover


# A menu's keyboard is the same for every woman who sees it, and PTB's objects are
# frozen once built: build each keyboard once instead of on every turn.
@functools.lru_cache(maxsize=2048)
def inline(rows: tuple[tuple[Choice, ...], ...]) -> InlineKeyboardMarkup | None:
    """Inline keyboard rows; None when there are no buttons."""
    keyboard = [[InlineKeyboardButton(c.label, callback_data=c.payload) for c in row]
                for row in rows if row]
    return InlineKeyboardMarkup(keyboard) if keyboard else None


def location_keyboard(ask: AskLocation) -> ReplyKeyboardMarkup:
    """The reply keyboard that shares her location with one tap, and a way back."""
    return ReplyKeyboardMarkup(
        [[KeyboardButton(ask.button, request_location=True)], [KeyboardButton(ask.cancel)]],
        resize_keyboard=True,
        one_time_keyboard=True,
    )


def chunks(text: str, limit: int = MAX_MESSAGE_CHARS) -> list[str]:
    """Split text at line breaks so no message passes Telegram's length limit."""
    if len(text) <= limit:
        return [text]
    parts: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:  # one line longer than a message: cut it hard
            if current:
                parts.append(current)
                current = ""
            parts.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            parts.append(current)
            current = line
        else:
            current = candidate
    if current:
        parts.append(current)
    return parts


def html_chunks(text: str, limit: int = MAX_MESSAGE_CHARS) -> list[str]:
    """Plain text as HTML-escaped message bodies, each at most ``limit`` characters.

    Escaping can make a text several times longer (``<`` is ``&lt;``), so the text
    is cut by the length it will have, at line breaks where it can, and never
    inside an escape.
    """
    parts: list[str] = []
    current: list[str] = []
    size = 0
    for line in text.split("\n"):
        pieces = [html.escape(c, quote=False) for c in line] if line else []
        need = sum(len(p) for p in pieces) + (1 if current else 0)
        if current and size + need > limit:
            parts.append("".join(current))
            current, size = [], 0
        if current:
            current.append("\n")
            size += 1
        for piece in pieces:
            if size + len(piece) > limit:
                parts.append("".join(current))
                current, size = [], 0
            current.append(piece)
            size += len(piece)
    parts.append("".join(current))
    return [p for p in parts if p] or [""]


def quick_exit_ids(known: Iterable[int]) -> list[int]:
    """The message ids quick exit deletes, given those it knows (see the module's docstring)."""
    ids = sorted({i for i in known if i > 0})
    if not ids:
        return []
    low, high = ids[0], ids[-1]
    found = set(range(max(1, high - QUICK_EXIT_BEFORE + 1), high + 1))
    if high - low < QUICK_EXIT_SPAN:
        found.update(range(low, high + 1))
    else:
        found.update(ids)
        for a, b in zip(ids, ids[1:], strict=False):
            if b - a <= QUICK_EXIT_GAP:
                found.update(range(a + 1, b))
    return sorted(found)


def say_html(say: Say) -> list[str]:
    """The text of a Say as HTML message bodies, the footer in a small italic line."""
    body = html.escape(say.text, quote=False)
    footer = f"\n\n<i>{html.escape(say.footer, quote=False)}</i>" if say.footer else ""
    parts = chunks(body, MAX_MESSAGE_CHARS - len(footer))
    parts[-1] += footer
    return parts


def services_html(services: ServiceList) -> list[str]:
    """The cards of a service list; phones stay plain +E.164 text, which Telegram makes tappable."""
    blocks = [f"<b>{html.escape(services.header, quote=False)}</b>"] if services.header else []
    for card in services.items:
        text = html.escape(card.text, quote=False)
        if card.phone and card.phone not in card.text:
            text += f"\n☎ {card.phone}"
        blocks.append(text)
    return chunks("\n\n".join(blocks))


@dataclass
class Output:
    """What one turn sent, for the caller's bookkeeping (never any text)."""

    sent: list[int] = field(default_factory=list)
    screen: int | None = None  # the message that may be replaced by the next button press
    keyboard_open: bool = False
    forgotten: bool = False
    kinds: list[str] = field(default_factory=list)


@dataclass
class Renderer:
    """Sends one turn's replies to one chat."""

    bot: Bot
    store: Store
    key: SessionKey
    chat_id: int
    now: datetime
    edit_id: int | None = None  # the screen she pressed a button on, if it may be replaced
    keyboard_open: bool = False
    screen: int | None = None
    unremembered: tuple[int, ...] = ()  # her message of this turn, not yet in the store
    trigger: int | None = None  # her message, or the message whose button she pressed
    saved: bool = True  # False when the store failed this turn: store calls may fail too
    handover: HandOverHook | None = None
    withdraw: WithdrawHook | None = None
    forget_later: Callable[[bool], None] | None = None  # the store failed to forget her
    out: Output = field(default_factory=Output)
    deleted_up_to: int = 0  # the highest id quick exit deleted in this turn
    last_sent: int = 0  # the id of the last message sent in this turn

    async def render(self, replies: Sequence[Reply]) -> Output:
        """Carry out every reply in the engine's order.

        When Telegram keeps failing, the messages left in this turn are dropped (she
        gets a fresh answer to whatever she does next), but what must happen whatever
        her screen shows still happens: quick exit's deleting and forgetting, and her
        case (her words still reach the consultants, a case she left is closed).
        """
        self.out.screen = self.screen
        self.out.keyboard_open = self.keyboard_open
        gave_up = False
        for reply in replies:
            if gave_up and not isinstance(reply, (DeleteConversation, ForgetMe, HandOver)):
                continue
            self.out.kinds.append(type(reply).__name__)
            try:
                await self.one(reply)
            except GaveUp:
                gave_up = True  # call() logged why; the messages of this turn stop here
        if self.deleted_up_to and self.last_sent > self.deleted_up_to + 1:
            # Whatever landed between her exit and the neutral line (a consultant's answer
            # in flight, the neutral line of a quick exit tapped a moment before) goes too.
            gap = range(self.deleted_up_to + 1, self.last_sent)
            if len(gap) <= QUICK_EXIT_BEFORE:
                await self.delete(list(gap))
        return self.out

    async def one(self, reply: Reply) -> None:
        if isinstance(reply, Say):
            await self.say(reply)
        elif isinstance(reply, AskLocation):
            message = await self.send(html.escape(reply.text, quote=False),
                                      location_keyboard(reply))
            self.out.keyboard_open = True
            self.out.screen = None
            self.edit_id = None
            self.note(message)
        elif isinstance(reply, ServiceList):
            parts = services_html(reply)
            for i, part in enumerate(parts):
                markup = inline(reply.buttons) if i == len(parts) - 1 else None
                self.note(await self.send(part, markup))
            self.out.screen = None
            self.edit_id = None
        elif isinstance(reply, DeleteConversation):
            await self.delete_conversation()
        elif isinstance(reply, ForgetMe):
            if self.withdraw is not None:
                await self.withdraw()
            # After quick exit nothing is kept; after /forget the ids of her chat's messages
            # stay (48 hours at most), so that quick exit can still blank it.
            blank = bool(self.deleted_up_to)
            try:
                await self.store.forget(self.key, keep_messages=not blank)
            except StoreError as exc:
                log.warning("store_failed during=forget error=%s", type(exc).__name__)
                if self.forget_later is not None:
                    self.forget_later(not blank)
            self.out.forgotten = blank
            self.out.screen = None
        elif isinstance(reply, HandOver):
            if self.handover is not None:
                for message_id in await self.handover(reply):
                    if not self.out.forgotten:
                        self.out.sent.append(message_id)
            else:
                log.warning("handover_unavailable kind=%s", reply.kind)

    async def say(self, say: Say) -> None:
        parts = say_html(say)
        markup = inline(say.buttons)
        if self.edit_id is not None and not say.keep and len(parts) == 1 \
                and not self.out.keyboard_open:
            target, self.edit_id = self.edit_id, None
            if await self.edit(target, parts[0], markup):
                self.out.screen = target
                return
        self.edit_id = None
        message: Message | None = None
        for i, part in enumerate(parts):
            message = await self.send(part, markup if i == len(parts) - 1 else None)
            self.note(message)
        self.out.screen = None if say.keep or message is None else message.message_id

    async def edit(self, message_id: int, text: str, markup: InlineKeyboardMarkup | None) -> bool:
        """Replace a screen in place; False when it is gone and a new message is needed."""
        try:
            await call("editMessageText", lambda: self.bot.edit_message_text(
                text, chat_id=self.chat_id, message_id=message_id, reply_markup=markup))
        except BadRequest as exc:
            if "not modified" in str(exc).lower():
                return True
            log.info("edit_refused reason=%s", _reason(exc))
            return False
        return True

    async def send(self, text: str, markup: Any) -> Message:
        """Send a new message; the first one after a location request closes its keyboard."""
        if self.out.keyboard_open and not isinstance(markup, ReplyKeyboardMarkup):
            self.out.keyboard_open = False
            message = await call("sendMessage", lambda: self.bot.send_message(
                self.chat_id, text, reply_markup=ReplyKeyboardRemove()))
            if isinstance(markup, InlineKeyboardMarkup):
                # A message carries one keyboard: remove the reply one, then attach the buttons.
                try:
                    await call("editMessageReplyMarkup", lambda: self.bot.edit_message_reply_markup(
                        chat_id=self.chat_id, message_id=message.message_id, reply_markup=markup))
                except BadRequest as exc:
                    log.info("markup_refused reason=%s", _reason(exc))
            return message
        try:
            return await call("sendMessage", lambda: self.bot.send_message(
                self.chat_id, text, reply_markup=markup))
        except BadRequest as exc:
            log.warning("send_refused reason=%s", _reason(exc))
            raise GaveUp() from None

    def note(self, message: Message | None) -> None:
        if message is None:
            return
        self.last_sent = max(self.last_sent, message.message_id)
        if not self.out.forgotten:
            self.out.sent.append(message.message_id)

    async def delete_conversation(self) -> None:
        """Delete every message of the chat quick exit can find, hers and the bot's."""
        if self.withdraw is not None:
            await self.withdraw()  # her case first: the staff group is told at once
        try:
            known = await self.store.message_ids(self.key, self.now)
        except StoreError as exc:
            log.warning("store_failed during=quick_exit error=%s", type(exc).__name__)
            known = []
        anchors = {*known, *self.unremembered, *self.out.sent}
        if self.trigger is not None:
            anchors.add(self.trigger)
        ids = quick_exit_ids(anchors)
        await self.delete(ids)
        self.deleted_up_to = max(ids, default=0) or 1
        try:
            await self.store.forget_messages(self.key)
        except StoreError as exc:
            log.warning("store_failed during=quick_exit error=%s", type(exc).__name__)
        self.out.sent.clear()
        self.out.screen = None
        self.edit_id = None
        log.info("chat_deleted count=%d known=%d", len(ids), len(known))

    async def delete(self, ids: list[int]) -> None:
        """Delete messages of her chat."""
        await delete_messages(self.bot, self.chat_id, ids)


async def delete_messages(bot: Any, chat_id: int, ids: list[int]) -> None:
    """Delete messages of a chat, 100 per call, the calls side by side; what cannot be
    deleted is logged and left, and the other batches go on."""
    async def batch(part: list[int]) -> None:
        try:
            await call("deleteMessages", lambda: bot.delete_messages(chat_id, part))
        except BadRequest as exc:
            # Older than 48 hours or already gone: nothing more can be done for these.
            log.info("delete_refused count=%d reason=%s", len(part), _reason(exc))
        except GaveUp:
            # Telegram kept failing (call() logged why): the other batches, and
            # forgetting her, go on all the same.
            log.warning("delete_failed count=%d", len(part))

    await asyncio.gather(*(batch(ids[i:i + DELETE_BATCH])
                           for i in range(0, len(ids), DELETE_BATCH)))


def _reason(exc: BaseException) -> str:
    """Telegram's error text in a log-safe form: it names the fault, never her content."""
    return "_".join(str(exc).lower().split())[:60]
