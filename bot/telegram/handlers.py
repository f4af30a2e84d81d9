"""Telegram updates in, engine turns, Bot API calls out: the adapter's four steps.

Each handler does the same thing for its update kind: parse the update into
an ``Event`` (a malformed or forged one becomes the engine's menu or stale
button answer, with a log line that holds no data), load her state under her
HMAC key, run ``engine.step`` and save in one store transaction, then render,
then record the turn's bookkeeping (message ids, screen, counters) in a second.
Turns of one woman run one after another (a lock per key, in memory only);
turns of different women run side by side.

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
import traceback
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from telegram import Message, Update, User
from telegram.ext import ContextTypes

from bot.config import Settings
from bot.engine import Step, step
from bot.engine.events import Button, Command, Event, Location, Start, Text
from bot.engine.replies import ForgetMe, HandOver
from bot.engine.state import LANGS, State
from bot.store import Keyring, SessionKey, Store, Tally
from bot.telegram.render import Blocked, GaveUp, Renderer, call
from bot.world import WorldHolder

log = logging.getLogger("podruga.telegram")

RUNTIME = "podruga"  # the key of the Runtime in application.bot_data
STALE = "x:stale"  # a payload no step or action has: the engine's "button out of date" path
STAFF_COMMANDS = ("reload", "stats")
STATS_DAYS = 30  # /stats shows this many days
# Which of the engine's records are questions, and which of those got an answer.
COUNTED = frozenset({"answer", "crisis", "find", "human", "unmatched", "suggested"})
ANSWERED = frozenset({"answer", "crisis", "find", "human"})

@dataclass
class Runtime:
    """What the handlers share: settings, content, keys, the store (opened in post_init)."""

    settings: Settings
    holder: WorldHolder
    keyring: Keyring
    store_location: str
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    store: Store | None = None
    relay: Any = None  # bot.telegram.handover.Relay when PODRUGA_STAFF_CHAT is set
    cluster: Any = None  # bot.store.cluster.Cluster with PostgreSQL: the other instances
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
    if text.startswith("/"):
        name = text[1:].split(maxsplit=1)[0].partition("@")[0].lower() if len(text) > 1 else ""
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
                    her_message=message.message_id)


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Turn a button press into one engine turn; forged data gets the stale-button answer."""
    query = update.callback_query
    if query is None:
        return
    with contextlib.suppress(GaveUp, Blocked):
        await call("answerCallbackQuery", lambda: query.answer())
    chat = update.effective_chat
    if chat is None or chat.type != "private" or query.message is None:
        return
    try:
        event: Event = Button(query.data or "")
    except ValueError:
        log.info("button_refused reason=malformed")
        event = Button(STALE)
    await take_turn(runtime_of(context), context.bot, query.from_user, chat.id, event,
                    pressed=query.message.message_id)


async def take_turn(rt: Runtime, bot: Any, user: User, chat_id: int, event: Event, *,
                    her_message: int | None = None, pressed: int | None = None) -> None:
    """Load her state, step the engine and save in one transaction, render, keep ids."""
    store = rt.live_store()
    key = rt.keyring.session_key(user.id)
    hint = (user.language_code or "")[:2]
    async with rt.serial(key):
        started = time.perf_counter()
        now = rt.clock()
        world = rt.holder.world
        seen: dict[str, Any] = {}

        def apply(old: State | None) -> State | None:
            state = old if old is not None else State(lang=hint if hint in LANGS else "")
            current = event
            cancel = state.extra.get("cancel")
            if isinstance(current, Text) and cancel and current.text == cancel:
                current = Command("menu")  # the location keyboard's way back
            result = step(world, state, current, now)
            seen["old"], seen["result"] = state, result
            if any(isinstance(r, ForgetMe) for r in result.replies):
                return None
            return result.state

        await store.update_session(key, apply, now)
        old: State = seen["old"]
        result: Step = seen["result"]
        screen = old.extra.get("screen")
        renderer = Renderer(
            bot, store, key, chat_id, now,
            edit_id=pressed if pressed is not None and pressed == screen else None,
            keyboard_open=bool(old.extra.get("kbd")),
            screen=screen,
            unremembered=(her_message,) if her_message is not None else (),
        )
        if rt.relay is not None:
            async def handover(reply: HandOver) -> list[int]:
                found: list[int] = await rt.relay.on_reply(
                    bot, store, world, key, chat_id, result.state, reply, result.replies, now)
                return found

            renderer.handover = handover
        try:
            out = await renderer.render(result.replies)
        except Blocked:
            await store.forget(key)
            log.info("turn_blocked event=%s step=%s", event_kind(event), result.state.step_id)
            return
        ids: list[int] = []
        update: Callable[[State | None], State | None] | None = None
        if not out.forgotten:
            ids = ([her_message] if her_message is not None else []) + out.sent
            view = {k: v for k, v in (("screen", out.screen), ("kbd", out.keyboard_open),
                                      ("cancel", out.cancel)) if v}
            if view != {k: result.state.extra[k] for k in ("screen", "kbd", "cancel")
                        if result.state.extra.get(k)}:
                update = functools.partial(_with_view, view=view)
        state = result.state if not out.forgotten else old
        tallies = [Tally(record.topics[0] if record.topics else None, state.lang,
                         state.country, record.kind in ANSWERED)
                   for record in result.log if record.kind in COUNTED]
        # Message ids, the screen shown and the counters: one transaction, one write.
        await store.record_turn(key, now, message_ids=ids, tallies=tallies, update=update)
        log.info("turn event=%s step=%s replies=%s records=%s ms=%.1f", event_kind(event),
                 result.state.step_id, ",".join(out.kinds) or "-",
                 ",".join(r.kind for r in result.log) or "-",
                 (time.perf_counter() - started) * 1000)


def _with_view(state: State | None, view: dict[str, Any]) -> State | None:
    """Her state with the adapter's note of what her chat shows (message ids, no text of hers)."""
    if state is None:
        return None
    extra = {k: v for k, v in state.extra.items() if k not in ("screen", "kbd", "cancel")}
    return replace(state, extra={**extra, **view})


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
    name = (message.text or "/")[1:].split(maxsplit=1)[0].partition("@")[0].lower()
    if name == "reload":
        errors, issues = rt.holder.reload()
        log.info("staff_reload errors=%d warnings=%d", len(errors), len(issues))
        tr = rt.holder.world.tr(rt.settings.staff_lang)  # after the reload: its catalogs
        if errors:
            lines = [tr.pgettext("staff", "Reload refused; still serving the last good "
                                 "content. Problems:")]
            lines += [str(e) for e in errors[:40]]
        else:
            from bot.telegram.peers import announce_reload

            told = await announce_reload(rt.cluster)
            lines = [tr.npgettext("staff", "Reloaded: {steps} steps, {n} warning.",
                                  "Reloaded: {steps} steps, {n} warnings.", len(issues)).format(
                steps=len(rt.holder.world.flows.steps), n=len(issues))
                + (" " + tr.pgettext("staff", "Other instances reload too.") if told else "")]
            lines += [tr.pgettext("staff", "{problem} (warning)").format(problem=i)
                      for i in issues[:20]]
        text = "\n".join(lines)
    else:
        tr = rt.holder.world.tr(rt.settings.staff_lang)
        since = rt.clock().date() - timedelta(days=STATS_DAYS)
        rows = await rt.live_store().stats(since)
        log.info("staff_stats rows=%d", len(rows))
        totals: dict[str, list[int]] = {}
        for row in rows:
            total = totals.setdefault(
                row.topic or tr.pgettext("staff", "(not understood)"), [0, 0])
            total[0] += row.questions
            total[1] += row.unanswered
        lines = [tr.npgettext("staff", "Questions in the last {n} day (topic: asked / "
                              "unanswered):", "Questions in the last {n} days (topic: asked / "
                              "unanswered):", STATS_DAYS).format(n=STATS_DAYS)]
        lines += [f"{topic}: {q} / {u}" for topic, (q, u) in sorted(
            totals.items(), key=lambda item: -item[1][0])]
        text = ("\n".join(lines) if rows else
                tr.pgettext("staff", "No questions counted yet."))
    with contextlib.suppress(GaveUp, Blocked):
        await call("sendMessage", lambda: context.bot.send_message(
            message.chat_id, html.escape(text[:4000], quote=False)))


async def on_staff_chat(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A message in the staff group: a consultant's answer, /close or /block, or a hint."""
    rt = runtime_of(context)
    if rt.relay is not None:
        await rt.relay.on_staff_message(update, context, rt)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log a failed update by its error type and code location only: no message, no data."""
    error = context.error
    if error is None:
        return
    frames = traceback.extract_tb(error.__traceback__)[-4:]
    where = ">".join(f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno}" for f in frames) or "-"
    log.error("update_failed error=%s where=%s", type(error).__name__, where)
