"""Updates in: read each one on its own, and confirm to Telegram only what has been answered.

Theory of operation. Long polling confirms updates with ``getUpdates``' offset:
every update below it is deleted on Telegram's side. python-telegram-bot's
Updater asks for ``offset = last fetched + 1`` as soon as a batch is queued, so
a hard kill loses every update that was fetched but not yet answered; and one
update that PTB cannot parse makes the whole batch fail, is fetched again 20
times a second, and is logged with her data each time.

``PodrugaBot.get_updates`` changes both, under the unchanged Updater:

- each update is parsed on its own (``parse_update``). One that cannot be read
  becomes an empty ``Update`` with only its id: no handler takes it, it is
  counted and logged by its error type only, and the offset moves past it;
- the offset sent is the lowest update still being worked on (``Intake``),
  so Telegram keeps every update until its turn is done; updates fetched
  again that way are dropped by id. An update stuck longer than
  ``STUCK_SECONDS`` (a turn waiting out a 429) stops holding the offset back,
  so it cannot keep everyone else's updates from being fetched. While only
  unfinished updates come back, the next poll waits for one of them to finish
  (at most ``RECHECK_SECONDS``) instead of asking again at once;
- on stop, the Updater's last call waits (at most ``DRAIN_SECONDS``) for the
  turns in flight and then confirms them;
- a 401 (the token was revoked) is fatal: the application is stopped with a
  clear log line instead of idling without polling.

``PodrugaApplication.process_update`` tells the intake when a turn is done.
The webhook (``webhook.py``) uses ``parse_update`` too and answers Telegram
only after the turn, which is the same guarantee.
"""

from __future__ import annotations

import asyncio
import datetime as dtm
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from telegram import Update
from telegram._utils.defaultvalue import DEFAULT_NONE, DefaultValue
from telegram._utils.types import JSONDict, ODVInput
from telegram.error import InvalidToken
from telegram.ext import Application, ExtBot

log = logging.getLogger("podruga.telegram")

STUCK_SECONDS = 5.0  # a turn running longer no longer holds back the confirmation of others
RECHECK_SECONDS = 0.5  # while only unfinished updates come back, poll again at most this often
DRAIN_SECONDS = 15.0  # on stop, wait this long for turns in flight before confirming them


def parse_update(data: Any, bot: Any) -> Update | None:
    """One update from Telegram's JSON; an empty Update (only its id) if it cannot be read.

    None when not even an update id can be found: there is nothing to skip past.
    """
    if not isinstance(data, dict):
        return None
    update_id = data.get("update_id")
    if isinstance(update_id, bool) or not isinstance(update_id, int):
        return None
    try:
        update = Update.de_json(data, bot)
    except Exception as exc:  # PTB raises TypeError, KeyError, ValueError, AttributeError...
        log.warning("update_skipped reason=unreadable error=%s", type(exc).__name__)
        skipped = Update(update_id=update_id)
        skipped.set_bot(bot)
        if isinstance(bot, PodrugaBot):
            bot.intake.skipped += 1
        return skipped
    return update


class Intake:
    """Which fetched updates are still being worked on, and what may be confirmed."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.high = 0  # the highest update id handed out
        self.working: dict[int, float] = {}  # update id -> when it was handed out
        self.skipped = 0  # updates that could not be read
        self.fatal = ""  # why polling must stop for good ("" while all is well)
        self._progress = asyncio.Event()

    def floor(self, offset: int) -> int:
        """The offset to send: below it, every update's turn is done (or stuck)."""
        now = self.clock()
        waiting = [i for i, since in self.working.items() if now - since < STUCK_SECONDS]
        return min([*waiting, offset]) if offset else offset

    def take(self, raw: Sequence[Any], bot: Any) -> list[Update]:
        """The updates not handed out before, parsed; they now count as being worked on."""
        fresh: list[Update] = []
        now = self.clock()
        for data in raw:
            update_id = data.get("update_id") if isinstance(data, dict) else None
            if isinstance(update_id, int) and update_id <= self.high:
                continue  # fetched again because an earlier turn is not done yet
            update = parse_update(data, bot)
            if update is None:
                log.warning("update_skipped reason=no_update_id")
                self.skipped += 1
                continue
            self.high = max(self.high, update.update_id)
            self.working[update.update_id] = now
            fresh.append(update)
        return fresh

    def done(self, update_id: int) -> None:
        if self.working.pop(update_id, None) is not None:
            self._progress.set()

    async def progress(self, seconds: float) -> None:
        """Wait until some turn finishes (or has finished since the last wait), or ``seconds``."""
        try:
            await asyncio.wait_for(self._progress.wait(), max(seconds, 0.0))
        except TimeoutError:
            pass  # no turn finished in time: the caller asked for at most this long
        self._progress.clear()

    async def drained(self, seconds: float) -> None:
        """Wait until no turn is in flight, or ``seconds`` pass."""
        deadline = self.clock() + seconds
        while self.working and self.clock() < deadline:
            await self.progress(min(deadline - self.clock(), RECHECK_SECONDS))


class PodrugaBot(ExtBot):  # type: ignore[type-arg]
    """PTB's ExtBot with the intake's ``get_updates`` (see the module's docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # PTB's bots are frozen but for "_" names.
        self._intake = Intake()
        self._on_fatal: Callable[[str], None] = lambda reason: None
        self._transports = tuple(kwargs[name] for name in ("request", "get_updates_request")
                                 if kwargs.get(name) is not None)

    async def initialize(self) -> None:
        """PTB's, and on failure (a refused token, no network) the transports are shut:
        PTB's ``shutdown`` skips a bot that never finished ``initialize``, which left
        two aiohttp sessions open ("Unclosed client session" at exit)."""
        try:
            await super().initialize()
        except BaseException:
            for transport in self._transports:
                await transport.shutdown()
            raise

    @property
    def intake(self) -> Intake:
        return self._intake

    def when_fatal(self, callback: Callable[[str], None]) -> None:
        """What to do when polling must stop for good (a 401): ``callback(reason)``."""
        self._on_fatal = callback

    async def get_updates(  # type: ignore[override]
        self,
        offset: int | None = None,
        limit: int | None = None,
        timeout: int | dtm.timedelta | None = None,
        allowed_updates: Sequence[str] | None = None,
        *,
        read_timeout: ODVInput[float] = DEFAULT_NONE,
        write_timeout: ODVInput[float] = DEFAULT_NONE,
        connect_timeout: ODVInput[float] = DEFAULT_NONE,
        pool_timeout: ODVInput[float] = DEFAULT_NONE,
        api_kwargs: JSONDict | None = None,
    ) -> tuple[Update, ...]:
        intake = self.intake
        seconds = timeout.total_seconds() if isinstance(timeout, dtm.timedelta) else timeout or 0
        final = seconds == 0  # the Updater's last call on stop, or a short poll
        if intake.fatal:
            if final:
                return ()
            await asyncio.Event().wait()  # the Updater is being stopped; it cancels this
        if final:
            await intake.drained(DRAIN_SECONDS)
        deadline = time.monotonic() + seconds
        # As PTB's own get_updates: the long poll's timeout on top of the read timeout.
        if isinstance(read_timeout, DefaultValue):
            read = (self._request[0].read_timeout or 0) + seconds
        else:
            read = (read_timeout or 0) + seconds
        while True:
            wanted = offset or 0
            floor = intake.floor(wanted)
            data: JSONDict = {"timeout": timeout, "offset": floor or offset, "limit": limit,
                              "allowed_updates": allowed_updates}
            try:
                raw = await self._post(
                    "getUpdates", data, read_timeout=read, write_timeout=write_timeout,
                    connect_timeout=connect_timeout, pool_timeout=pool_timeout,
                    api_kwargs=api_kwargs)
            except InvalidToken:
                intake.fatal = "token"
                log.critical("telegram_refused_token: TELEGRAM_BOT_TOKEN was refused (401); "
                             "the bot stops. Check the token with @BotFather.")
                self._on_fatal("token")
                if final:
                    return ()
                await asyncio.Event().wait()
                raise AssertionError("unreachable") from None  # pragma: no cover
            fresh = intake.take(raw if isinstance(raw, list) else [], self)
            if fresh or final or floor >= wanted:
                for update in fresh:
                    self.insert_callback_data(update)
                return tuple(fresh)
            # Only updates still being answered came back: wait for one to finish.
            left = deadline - time.monotonic()
            if left <= 0:
                return ()
            await intake.progress(min(left, RECHECK_SECONDS))


class PodrugaApplication(Application):  # type: ignore[type-arg]
    """Tells the intake when an update's turn is done, whatever its outcome."""

    async def process_update(self, update: object) -> None:
        try:
            await super().process_update(update)
        finally:
            if isinstance(update, Update) and isinstance(self.bot, PodrugaBot):
                self.bot.intake.done(update.update_id)
