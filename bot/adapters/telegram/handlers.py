"""Telegram updates in, engine turns, Bot API calls out: the adapter's four steps.

Each handler does the same thing for its update kind: parse the update into
an ``Event`` (a malformed or forged one becomes the engine's menu or stale
button answer, with a log line that holds no data), load her state under her
HMAC key, run ``engine.step`` and save in one store transaction together with
her message's id, then render, then record the turn's bookkeeping (the ids of
what was sent, the screen, counters) in a second. Turns of one woman run one
after another (a lock per key, in memory only); turns of different women run
side by side.

When the store fails (read-only, full, locked, unreachable), she is answered
all the same from what the engine says without saving: a crisis answer and the
menu never depend on a database. Quick exit then deletes what it can without
the stored ids (``render.quick_exit_ids``).

Logs are ``key=value`` lines with step ids and reply kinds: never her text,
her id, her name or a key.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import html
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from telegram import ChatMember, Message, Update, User
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from bot.adapters.telegram.handover import StaffChat
from bot.adapters.telegram.logsafe import where
from bot.adapters.telegram.render import Blocked, GaveUp, Renderer, call
from bot.config import Settings
from bot.content.world import WorldHolder, staff_language
from bot.engine import Step, staff, step
from bot.engine.events import Button, Command, Event, Location, Start, Text, command_of
from bot.engine.replies import ForgetMe, HandOver, HandOverKind
from bot.engine.state import State, View
from bot.errors import StoreError
from bot.store import Keyring, SessionKey, Store, Tally
from bot.vocabulary import LANGS

log = logging.getLogger("podruga.telegram")

RUNTIME = "podruga"  # the key of the Runtime in application.bot_data
STALE = "x:stale"  # a payload no step or action has: the engine's "button out of date" path
STAFF_COMMANDS = ("reload", "stats")

@dataclass
class Runtime:
    """What the handlers share: settings, content, keys, the store (opened in post_init)."""

    settings: Settings
    holder: WorldHolder
    keyring: Keyring
    store_location: str
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    store: Store | None = None
    handover: StaffChat | None = None  # when PODRUGA_STAFF_CHAT is set
    cluster: Any = None  # bot.store.cluster.Cluster with PostgreSQL: the other instances
    fatal: str = ""  # why the bot stopped for good ("token"), for podruga run's exit status
    # Quick exits and /forgets the store could not carry out (it was down): done as soon as
    # it is back (her next turn, or the retry job). In memory only, like the locks.
    unforgotten: dict[SessionKey, bool] = field(default_factory=dict)  # key -> keep_messages
    _locks: dict[str, tuple[asyncio.Lock, int]] = field(default_factory=dict)

    @contextlib.asynccontextmanager
    async def serial(self, key: SessionKey) -> AsyncIterator[None]:
        """One turn at a time per woman, so two quick taps never overwrite each other."""
        lock, users = self._locks.get(key.hex, (asyncio.Lock(), 0))
        self._locks[key.hex] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key.hex]
            if users <= 1:
                del self._locks[key.hex]
            else:
                self._locks[key.hex] = (lock, users - 1)

    def live_store(self) -> Store:
        assert self.store is not None, "the store opens in post_init"
        return self.store

    def forget_later(self, key: SessionKey, keep_messages: bool) -> None:
        """The store failed to forget her: remember to, until it can (a full forget wins)."""
        self.unforgotten[key] = self.unforgotten.get(key, True) and keep_messages
        log.warning("forget_postponed pending=%d", len(self.unforgotten))

    async def forget_pending(self, key: SessionKey | None = None) -> None:
        """Carry out postponed forgets (hers only, or all); those that fail stay pending."""
        for pending in [key] if key is not None else list(self.unforgotten):
            if pending not in self.unforgotten:
                continue
            try:
                await self.live_store().forget(pending,
                                               keep_messages=self.unforgotten[pending])
            except StoreError:
                return
            del self.unforgotten[pending]
            log.info("forget_done_late pending=%d", len(self.unforgotten))


def runtime_of(context: ContextTypes.DEFAULT_TYPE) -> Runtime:
    found: Runtime = context.application.bot_data[RUNTIME]
    return found


def parse_message(message: Message, lang_hint: str) -> Event:
    """Her message as an event; ValueError for an unknown command or a bad location."""
    if message.location is not None:
        return Location(message.location.latitude, message.location.longitude)
    text = message.text
    if text is None:
        # A photo, a sticker, a voice note: nothing the engine can read, so "not understood".
        return Text("")
    name = command_of(text)
    if name is not None:
        return Start(lang_hint) if name == "start" else Command(name)
    return Text(text)


def event_kind(event: Event) -> str:
    """A log-safe name for an event: the command's name, otherwise only the kind."""
    if isinstance(event, Command):
        return f"command:{event.name}"
    return type(event).__name__.lower()


async def on_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Turn her message (text, location, command, anything else) into one engine turn."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    try:
        event = parse_message(message, user.language_code or "")
    except ValueError:
        log.info("message_refused reason=malformed")
        event = Command("menu")
    await take_turn(runtime_of(context), context.bot, user, message.chat_id, event,
                    her_message=message.message_id, full_text=message.text)


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Turn a button press into one engine turn; forged data gets the stale-button answer."""
    query = update.callback_query
    if query is None:
        return
    try:
        await call("answerCallbackQuery", lambda: query.answer())
    except (GaveUp, Blocked) as exc:
        # Only the spinner on her button is lost (call() logged a give-up); the press is
        # still carried out, and a block shows itself when the answer is sent.
        log.info("callback_unanswered error=%s", type(exc).__name__)
    except BadRequest as exc:
        # "query is too old": a press queued during a restart. Only the spinner is lost;
        # the press itself is still carried out.
        log.info("callback_unanswered reason=%s", _reason(exc))
    chat = update.effective_chat
    if chat is None or chat.type != "private" or query.message is None:
        return
    if chat.id != query.from_user.id:
        # In a private chat the chat is the user. Only a forged update differs, and it must
        # not write into one woman's chat under another's key.
        log.info("button_refused reason=chat_mismatch")
        return
    try:
        event: Event = Button(query.data or "")
    except ValueError:
        log.info("button_refused reason=malformed")
        event = Button(STALE)
    await take_turn(runtime_of(context), context.bot, query.from_user, chat.id, event,
                    pressed=query.message.message_id)


async def take_turn(rt: Runtime, bot: Any, user: User, chat_id: int, event: Event, *,
                    her_message: int | None = None, pressed: int | None = None,
                    full_text: str | None = None) -> None:
    """Load her state, step the engine and save in one transaction, render, keep ids.

    ``full_text`` is her message as she wrote it: the engine reads at most
    MAX_TEXT_CHARS of it, but a consultant gets it whole.
    """
    store = rt.live_store()
    key = rt.keyring.session_key(user.id)
    hint = (user.language_code or "")[:2]
    async with rt.serial(key):
        started = time.perf_counter()
        if key in rt.unforgotten:
            await rt.forget_pending(key)  # her quick exit first, before anything new is kept
        now = rt.clock()
        world = rt.holder.world
        turn = _Turn()

        def apply(stored: State | None) -> State | None:
            state = stored if stored is not None else State(lang=hint if hint in LANGS else "")
            turn.old, turn.result = state, step(world, state, event, now)
            if any(isinstance(r, ForgetMe) for r in turn.result.replies):
                return None
            return turn.result.state

        saved = True
        try:
            # Her message's id is kept with the step: quick exit can delete it even if the
            # process dies before the answer goes out.
            await store.record_turn(key, now, update=apply,
                                    message_ids=[her_message] if her_message is not None else ())
        except StoreError as exc:
            # The answer never depends on the database: answer from her state if it can still
            # be read (a read-only or full disk), as to someone new if not, and save nothing.
            saved = False
            log.warning("store_failed during=turn error=%s where=%s; answering without saving",
                        type(exc).__name__, where(exc))
            if turn.result is None:
                try:
                    stored = await store.load_session(key)
                except StoreError:
                    stored = None
                apply(stored)
        old, result = turn.old, turn.result
        assert old is not None and result is not None, "apply ran: in the store, or above"
        screen = old.view.screen
        renderer = Renderer(
            bot, store, key, chat_id, now,
            edit_id=pressed if pressed is not None and pressed == screen else None,
            keyboard_open=old.view.keyboard,
            screen=screen,
            unremembered=(her_message,) if her_message is not None and not saved else (),
            trigger=her_message if her_message is not None else pressed,
            saved=saved,
        )
        cases = rt.handover
        if cases is not None:
            async def handover(reply: HandOver) -> list[int]:
                if reply.kind is HandOverKind.TO_CONSULTANT and full_text \
                        and len(full_text) > len(reply.text):
                    reply = replace(reply, text=full_text)  # the consultants get all of it
                try:
                    return await cases.carry_out(bot, store, key, chat_id, result.state, reply,
                                                 now)
                except StoreError as exc:
                    log.warning("store_failed during=handover error=%s", type(exc).__name__)
                    return []

            async def withdraw() -> None:
                try:
                    await cases.withdraw(bot, store, key)
                except StoreError as exc:
                    log.warning("store_failed during=withdraw error=%s", type(exc).__name__)

            renderer.handover, renderer.withdraw = handover, withdraw
        renderer.forget_later = functools.partial(rt.forget_later, key)
        try:
            out = await renderer.render(result.replies)
        except Blocked:
            await forget_blocked(rt, bot, key)
            log.info("turn_blocked event=%s step=%s", event_kind(event), result.state.step_id)
            return
        ids: list[int] = []
        update: Callable[[State | None], State | None] | None = None
        if not out.forgotten:
            ids = list(out.sent)
            view = View(out.screen, out.keyboard_open)
            if saved and view != result.state.view:
                update = functools.partial(_with_view, view=view)
        state = result.state if not out.forgotten else old
        tallies = [Tally(record.topics[0] if record.topics else None, state.lang,
                         state.country, record.kind.answered)
                   for record in result.log if record.kind.is_question and saved]
        # The ids of what was sent, the screen shown and the counters: one transaction.
        try:
            await store.record_turn(key, now, message_ids=ids, tallies=tallies, update=update)
        except StoreError as exc:
            log.warning("store_failed during=record error=%s", type(exc).__name__)
        log.info("turn event=%s step=%s replies=%s records=%s saved=%s ms=%.1f",
                 event_kind(event), result.state.step_id, ",".join(out.kinds) or "-",
                 ",".join(r.kind for r in result.log) or "-", "yes" if saved else "no",
                 (time.perf_counter() - started) * 1000)


@dataclass
class _Turn:
    """What the store transaction's update saw and the engine answered, for after it."""

    old: State | None = None
    result: Step | None = None


def _with_view(state: State | None, view: View) -> State | None:
    """Her state with the adapter's note of what her chat shows (message ids, no text of hers)."""
    if state is None:
        return None
    return replace(state, view=view)


async def on_staff(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Reload content or show counters for staff; anyone else gets the unknown-command answer."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    rt = runtime_of(context)
    if user.id not in rt.settings.staff_ids:
        if message.chat.type == "private":
            await on_message(update, context)
        return
    staff_chat = rt.handover.chat_id if rt.handover is not None else rt.settings.staff_chat
    if message.chat.type != "private" and message.chat_id != staff_chat:
        # A family chat the bot was added to is no place for counters about drug use.
        log.info("staff_command_refused reason=chat")
        return
    name = (message.text or "/")[1:].split(maxsplit=1)[0].partition("@")[0].lower()
    if name == "reload":
        # The same checks as `podruga check`, in a thread: women are answered meanwhile.
        errors, issues = await asyncio.to_thread(rt.holder.reload)
        log.info("staff_reload errors=%d warnings=%d", len(errors), len(issues))
        told = False
        if not errors:
            from bot.adapters.telegram.peers import announce_reload

            told = await announce_reload(rt.cluster)
        world = rt.holder.world  # after the reload: its catalogs
        # The problems in the staff's language, even when the catalogs are what is broken.
        language = staff_language(rt.settings.staff_lang, world.root)
        text = staff.reload_report(world.tr(rt.settings.staff_lang),
                                   [e.render(language) for e in errors],
                                   [i.render(language) for i in issues],
                                   len(world.flows.steps), told)
    else:
        since = rt.clock().date() - timedelta(days=staff.STATS_DAYS)
        rows = await rt.live_store().stats(since)
        log.info("staff_stats rows=%d", len(rows))
        text = staff.stats_report(rt.holder.world.tr(rt.settings.staff_lang), rows)
    try:
        await call("sendMessage", lambda: context.bot.send_message(
            message.chat_id, html.escape(text[:4000], quote=False)))
    except (GaveUp, Blocked) as exc:
        log.warning("staff_reply_failed error=%s", type(exc).__name__)  # they can ask again


async def on_staff_chat(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A message in the staff group: a consultant's answer, /close or /block, or a hint."""
    rt = runtime_of(context)
    if rt.handover is not None:
        await rt.handover.on_staff_message(update, context, rt)


async def on_chat_member(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """She blocked the bot: nothing can reach her any more, so nothing is kept about her."""
    member = update.my_chat_member
    if member is None or member.chat.type != "private":
        return
    if member.new_chat_member.status not in (ChatMember.BANNED, ChatMember.LEFT):
        return
    rt = runtime_of(context)
    key = rt.keyring.session_key(member.from_user.id)
    async with rt.serial(key):
        await forget_blocked(rt, context.bot, key)
    log.info("she_blocked")


async def forget_blocked(rt: Runtime, bot: Any, key: SessionKey) -> None:
    """She blocked the bot: withdraw her case and forget everything, now or once possible."""
    try:
        if rt.handover is not None:
            await rt.handover.withdraw(bot, rt.live_store(), key)
        await rt.live_store().forget(key)
    except StoreError as exc:
        log.warning("store_failed during=blocked error=%s", type(exc).__name__)
        rt.forget_later(key, False)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log a failed update by its error type and code location only: no message, no data."""
    error = context.error
    if error is None:
        return
    log.error("update_failed error=%s where=%s", type(error).__name__, where(error))


def _reason(exc: BaseException) -> str:
    """Telegram's error text in a log-safe form: it names the fault, never her content."""
    return "_".join(str(exc).lower().split())[:60]
