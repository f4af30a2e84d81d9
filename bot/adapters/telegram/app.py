"""Build the python-telegram-bot Application: handlers, defaults, rate limits, lifetime.

What we take from PTB: ``Defaults(protect_content=True)``, ``AIORateLimiter``,
the ``JobQueue`` for expiry, ``base_url`` for a self-hosted or fake Bot API,
``post_init``/``post_shutdown`` owning the store, one global error handler.
What we do not: ``ConversationHandler`` and persistence, which key data by the
plain user id; the engine owns the state and the store keys it by an HMAC.
What we change: the bot's ``get_updates`` and the application's ``process_update``
(``intake.py``), so that an unreadable update is skipped and an update is
confirmed to Telegram only once its turn is done; every library log record is
scrubbed of arguments (``logsafe.py``).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from telegram import BotCommand
from telegram.constants import ParseMode
from telegram.error import RetryAfter
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    BaseRateLimiter,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    ContextTypes,
    Defaults,
    MessageHandler,
    filters,
)

from bot.adapters.telegram import handlers, logsafe, peers
from bot.adapters.telegram.handlers import RUNTIME, STAFF_COMMANDS, Runtime
from bot.adapters.telegram.intake import PodrugaApplication, PodrugaBot
from bot.adapters.telegram.render import Blocked, GaveUp, call
from bot.adapters.telegram.transport import READ_TIMEOUT, AiohttpRequest
from bot.config import Settings
from bot.content.world import WorldHolder
from bot.engine import staff
from bot.engine.events import COMMANDS
from bot.engine.translator import Translator
from bot.errors import StoreError
from bot.store import Keyring, open_store
from bot.vocabulary import LANGS

log = logging.getLogger("podruga.telegram")

CONCURRENT_UPDATES = 64  # turns of different women in flight at once; one woman's stay in order
PURGE_EVERY_SECONDS = 3600  # expiry pass over sessions, message ids and cases
PURGE_FIRST_SECONDS = 30
WATCH_STORE_SECONDS = 15  # a forget the store failed is tried again, and the store checked
# Libraries that log request bodies (her text, her chat id) or the token at DEBUG/INFO.
QUIET_LOGGERS = {"telegram": logging.INFO, "httpx": logging.WARNING, "httpcore": logging.WARNING,
                 "apscheduler": logging.WARNING, "tornado.access": logging.WARNING,
                 "aiosqlite": logging.INFO}


def opt_in_timedelta() -> None:
    """Take PTB 22's durations as ``timedelta`` now, as its next major version will.

    Without it every 429 (``RetryAfter``) raises a deprecation warning inside PTB.
    """
    os.environ.setdefault("PTB_TIMEDELTA", "1")


def quiet_libraries() -> None:
    """Keep PTB's and httpx's request logging (with her text and ids) out of every log.

    The levels keep the chatter down; ``logsafe`` makes what still passes (PTB logs
    an update it cannot parse at CRITICAL) safe at any level.
    """
    for name, level in QUIET_LOGGERS.items():
        logger = logging.getLogger(name)
        if logger.level == logging.NOTSET or logger.level < level:
            logger.setLevel(level)
    logsafe.install()


def command_menu(tr: Translator) -> list[BotCommand]:
    """The engine's command menu in one language, as Bot API objects."""
    return [BotCommand(name, description) for name, description in staff.command_menu(tr)]


async def set_commands(bot: Any, holder: WorldHolder) -> None:
    """Set the command menu in uk, ru and en, and English for every other language."""
    world = holder.world
    try:
        await call("setMyCommands", lambda: bot.set_my_commands(command_menu(world.tr("en"))))
        for lang in LANGS:
            commands = command_menu(world.tr(lang))
            await call("setMyCommands",
                       functools.partial(bot.set_my_commands, commands, language_code=lang))
    except (GaveUp, Blocked):
        log.warning("commands_not_set")


async def purge(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Delete idle sessions, message ids past 48 hours and cases past 7 days."""
    rt: Runtime = context.application.bot_data[RUNTIME]
    counts = await rt.live_store().purge_expired(rt.clock())
    log.info("purged sessions=%d messages=%d cases=%d", counts.sessions, counts.messages,
             counts.cases)


async def watch_store(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Carry out the quick exits and /forgets the store could not do while it was down, and
    say it loudly when the store is broken (a SQLite file removed under the running bot)."""
    rt: Runtime = context.application.bot_data[RUNTIME]
    if rt.unforgotten:
        await rt.forget_pending()
    try:
        await rt.live_store().schema_version()
    except StoreError as exc:
        log.error("store_check_failed error=%s: %s", type(exc).__name__, exc)


async def post_init(app: Application) -> None:  # type: ignore[type-arg]
    rt: Runtime = app.bot_data[RUNTIME]
    rt.store = await open_store(rt.store_location)
    if rt.cluster is not None:  # several instances: /reload reaches all (peers.py)
        await peers.join(rt.cluster, rt.holder.reload)
    await set_commands(app.bot, rt.holder)
    if app.job_queue is not None:
        app.job_queue.run_repeating(purge, interval=PURGE_EVERY_SECONDS,
                                    first=PURGE_FIRST_SECONDS, name="purge")
        app.job_queue.run_repeating(watch_store, interval=WATCH_STORE_SECONDS,
                                    first=WATCH_STORE_SECONDS, name="watch_store")
    log.info("bot_started steps=%d store=%s", len(rt.holder.world.flows.steps), rt.store.name)


async def post_shutdown(app: Application) -> None:  # type: ignore[type-arg]
    rt: Runtime = app.bot_data[RUNTIME]
    if rt.store is not None:
        await rt.store.close()
        rt.store = None
    if rt.cluster is not None:
        await rt.cluster.close()
    log.info("bot_stopped")


class ChatRateLimiter(AIORateLimiter):  # type: ignore[type-arg]
    """PTB's ``AIORateLimiter``, except that a 429 from a group holds only that group.

    ``AIORateLimiter`` stops every call of the bot for any ``retry_after``: one 429
    from the staff group (20 messages a minute) froze the answers to every woman
    for as long. A group's 429 is about that group; a 429 anywhere else still
    holds everything, as Telegram's flood control may be the bot's as a whole.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._held: dict[int | str, float] = {}  # group chat -> no call before this moment

    async def process_request(self, callback: Any, args: Any, kwargs: dict[str, Any],
                              endpoint: str, data: dict[str, Any],
                              rate_limit_args: int | None) -> Any:
        chat_id = data.get("chat_id")
        if chat_id is None or not peers.is_group(chat_id):
            return await super().process_request(callback, args, kwargs, endpoint, data,
                                                  rate_limit_args)
        retries = rate_limit_args or self._max_retries
        for attempt in range(retries + 1):
            wait = self._held.get(chat_id, 0.0) - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            try:
                return await self._run_request(chat=True, group=chat_id,
                                               allow_paid_broadcast=False, callback=callback,
                                               args=args, kwargs=kwargs)
            except RetryAfter as exc:
                if attempt == retries:
                    raise
                pause = exc.retry_after.total_seconds() if isinstance(
                    exc.retry_after, timedelta) else float(exc.retry_after)
                self._held[chat_id] = time.monotonic() + pause + 0.1
                log.info("api_retry_after method=%s seconds=%.1f scope=group", endpoint, pause)
        raise AssertionError("unreachable")  # pragma: no cover


def rate_limiter_for(settings: Settings,
                     cluster: peers.Cluster | None = None) -> BaseRateLimiter:  # type: ignore[type-arg]
    """Telegram's pacing (30 messages a second, 20 a minute per group), or none at all.

    With PostgreSQL (``cluster``) the budget is shared by every instance (peers.py).
    Unpaced is for a local Bot API server only: the benchmark would otherwise
    measure Telegram's limit instead of the bot.
    """
    if settings.paced and cluster is not None:
        return peers.SharedRateLimiter(cluster, settings.secret)
    if settings.paced:
        return ChatRateLimiter(max_retries=1)
    return ChatRateLimiter(overall_max_rate=0, group_max_rate=0, max_retries=1)


def build_application(
    settings: Settings,
    holder: WorldHolder,
    *,
    keyring: Keyring | None = None,
    store_location: str | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    rate_limiter: BaseRateLimiter | None = None,  # type: ignore[type-arg]
    concurrent_updates: int = CONCURRENT_UPDATES,
    read_timeout: float = READ_TIMEOUT,
) -> Application:  # type: ignore[type-arg]
    """The Application ``podruga run`` runs; tests and the benchmark run it unchanged."""
    quiet_libraries()
    opt_in_timedelta()
    runtime = Runtime(settings=settings, holder=holder,
                      keyring=keyring or Keyring(settings.secret),
                      store_location=store_location or settings.db, clock=clock)
    runtime.cluster = peers.cluster_for(runtime.store_location)
    bot = PodrugaBot(
        settings.token,
        base_url=settings.api_url,
        # PTB's request interface over aiohttp: a third of httpx's CPU per call (transport.py).
        request=AiohttpRequest(pool_size=concurrent_updates, read_timeout=read_timeout),
        get_updates_request=AiohttpRequest(pool_size=1),
        defaults=Defaults(protect_content=True, parse_mode=ParseMode.HTML),
        # One retry after a 429, as Telegram asks; the limiter also paces all sends.
        rate_limiter=rate_limiter or rate_limiter_for(settings, runtime.cluster),
    )
    app = (
        ApplicationBuilder()
        .bot(bot)
        .application_class(PodrugaApplication)
        .concurrent_updates(concurrent_updates)
        .post_init(post_init)
        .post_shutdown(post_shutdown)
        .build()
    )
    app.bot_data[RUNTIME] = runtime

    def fatal(reason: str) -> None:
        runtime.fatal = reason
        app.stop_running()

    bot.when_fatal(fatal)
    if settings.staff_chat is not None and settings.case_key is not None:
        from bot.adapters.telegram.handover import StaffChat
        from bot.config import consultant_hours
        from bot.engine.handover import Desk
        from bot.store import CaseCipher

        runtime.handover = StaffChat(
            settings.staff_chat, CaseCipher(settings.case_key), lambda: holder.world,
            Desk(settings.staff_lang, consultant_hours(settings.consultant_hours)),
            clock=runtime.clock)
    else:
        # No staff chat: the engine must say so instead of opening a case nobody reads.
        holder.world = replace(holder.world, handover=False)
    private = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
    app.add_handler(CommandHandler(STAFF_COMMANDS, handlers.on_staff,
                                   filters=filters.UpdateType.MESSAGE))
    app.add_handler(CommandHandler(sorted(COMMANDS), handlers.on_message, filters=private))
    app.add_handler(MessageHandler(private, handlers.on_message))
    app.add_handler(CallbackQueryHandler(handlers.on_button))
    app.add_handler(ChatMemberHandler(handlers.on_chat_member, ChatMemberHandler.MY_CHAT_MEMBER))
    if runtime.handover is not None:
        app.add_handler(MessageHandler(filters.Chat(runtime.handover.chat_id)
                                       & filters.UpdateType.MESSAGE, handlers.on_staff_chat))
    app.add_error_handler(handlers.on_error)
    return app
