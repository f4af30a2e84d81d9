"""What the instances of one bot share besides her session: Telegram's send budget and signals.

Several ``podruga run --webhook`` processes on one PostgreSQL database are one
bot to Telegram: its limits (about 30 messages a second in all, one a second
per chat, 20 a minute per group) count every process's sends together, and a
staff member's ``/reload`` reaches only the instance that got it. ``Cluster``
gives them two things through the same database:

- ``reserve(scope, interval, tolerance)``: a send slot under a shared budget.
  Each scope (``all``, one chat, one group) keeps a *theoretical arrival time*
  in the UNLOGGED table ``send_budget`` (GCRA, the "virtual scheduling" form
  of a leaky bucket): one ``INSERT ... ON CONFLICT DO UPDATE`` moves it one
  ``interval`` on and returns how long this send must wait, by the database's
  clock, so instances on machines whose clocks differ still agree. A scope
  whose slots are all in the past is idle; ``tolerance`` seconds of slots may
  be taken at once (a short burst). ``hold(scope, seconds)`` moves a scope's
  time past a 429's ``retry_after`` for every instance.
- ``announce(event)`` / ``subscribe(callback)``: PostgreSQL ``NOTIFY``/``LISTEN``
  on a channel named after the schema, so deployments sharing one database in
  different schemas do not hear each other. An instance does not hear itself.
  After its listening connection drops and comes back, an instance tells its
  subscribers ``"reconnected"``: it may have missed a notification.

Chat ids never reach the table: a chat's scope is an HMAC of its id under
``PODRUGA_SECRET`` (``scope_key``), and a scope row is deleted a minute after
its last slot. Nothing here is about a person; every fault is a ``StoreError``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qs, urlsplit

import asyncpg

from bot.errors import StoreError
from bot.store.postgres import FAULTS  # one list of what a PostgreSQL fault is

log = logging.getLogger("podruga.store")

_TABLE_LOCK = 0x706F6472_75676132  # "podruga2": creating send_budget, once for all instances
CHANNEL = "podruga"
COMMAND_TIMEOUT_S = 5.0  # a budget query this slow is a fault: the sender falls back
PRUNE_EVERY_S = 30.0
IDLE_ROW_S = 60.0  # a scope row whose last slot is this far in the past is deleted
RECONNECT_FIRST_S = 1.0
RECONNECT_MAX_S = 30.0

Callback = Callable[[str], Awaitable[None] | None]

_NOW = "extract(epoch FROM clock_timestamp())::float8"  # the database's clock, in seconds
_RESERVE = f"""
INSERT INTO send_budget AS b (scope, tat) VALUES ($1, {_NOW} + $2::float8)
ON CONFLICT (scope) DO UPDATE SET tat = greatest(b.tat, {_NOW}) + $2::float8
RETURNING greatest(0, b.tat - $2::float8 - $3::float8 - {_NOW})
"""
_HOLD = f"""
INSERT INTO send_budget AS b (scope, tat) VALUES ($1, {_NOW} + $2::float8)
ON CONFLICT (scope) DO UPDATE SET tat = greatest(b.tat, {_NOW} + $2::float8)
"""
_PRUNE = f"DELETE FROM send_budget WHERE tat < {_NOW} - $1::float8"


def channel_for(url: str) -> str:
    """The NOTIFY channel of a database URL: ``podruga``, or ``podruga_<schema>``."""
    query = parse_qs(urlsplit(url).query)
    schema = (query.get("search_path") or [""])[0].split(",")[0].strip().strip('"').lower()
    suffix = re.sub(r"[^a-z0-9_]", "_", schema)
    return f"{CHANNEL}_{suffix}"[:63] if suffix else CHANNEL


def scope_key(secret: bytes, chat_id: int | str) -> str:
    """A chat's scope in the budget: an HMAC of its id, never the id itself."""
    digest = hmac.new(secret, f"podruga/budget/v1/{chat_id}".encode(), hashlib.sha256)
    return "chat:" + digest.hexdigest()[:32]


@contextlib.contextmanager
def _faults(action: str):  # type: ignore[no-untyped-def]
    try:
        yield
    except StoreError:
        raise
    except FAULTS as exc:
        detail = " ".join(str(exc).split())[:200] or type(exc).__name__
        raise StoreError(f"the database could not {action}: {detail}") from exc


class LocalBudget:
    """The same budget kept in this process: one instance, or the database is away."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._tat: dict[str, float] = {}
        self._pruned = clock()

    def reserve(self, scope: str, interval: float, tolerance: float = 0.0) -> float:
        now = self._clock()
        start = max(self._tat.get(scope, now), now)
        self._tat[scope] = start + interval
        if now - self._pruned > PRUNE_EVERY_S:
            self._pruned = now
            self._tat = {k: v for k, v in self._tat.items() if v > now - IDLE_ROW_S}
        return max(0.0, start - tolerance - now)

    def hold(self, scope: str, seconds: float) -> None:
        now = self._clock()
        self._tat[scope] = max(self._tat.get(scope, now), now + seconds)


class Cluster:
    """The shared budget and the signals of one bot's instances, in its PostgreSQL database."""

    def __init__(self, url: str, *, channel: str | None = None, pool_size: int = 4) -> None:
        self._url = url
        self.channel = channel or channel_for(url)
        self.instance = secrets.token_hex(8)  # tells its own notifications apart
        self._pool_size = pool_size
        self._pool: asyncpg.Pool | None = None
        self._listener: asyncpg.Connection | None = None
        self._subscribers: list[Callback] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._opening = asyncio.Lock()
        self._closed = False
        self._pruned = 0.0

    def __repr__(self) -> str:
        return f"Cluster(<url>, channel={self.channel!r})"  # the URL may hold a password

    @property
    def is_open(self) -> bool:
        return self._pool is not None

    # -- lifetime -------------------------------------------------------------------
    async def open(self) -> None:
        """Connect, create the budget table once, and listen; idempotent."""
        async with self._opening:
            if self._pool is not None:
                return
            self._closed = False
            try:
                self._pool = await asyncpg.create_pool(
                    self._url, min_size=1, max_size=self._pool_size,
                    command_timeout=COMMAND_TIMEOUT_S)
                async with self._pool.acquire() as conn, conn.transaction():
                    await conn.execute("SELECT pg_advisory_xact_lock($1)", _TABLE_LOCK)
                    await conn.execute("CREATE UNLOGGED TABLE IF NOT EXISTS send_budget ("
                                       "scope TEXT PRIMARY KEY, tat DOUBLE PRECISION NOT NULL)")
                await self._listen()
            except FAULTS as exc:
                await self.close()
                from .postgres import unusable

                raise unusable(exc) from exc
        log.info("cluster joined channel=%s", self.channel)

    async def close(self) -> None:
        self._closed = True
        for task in list(self._tasks):
            task.cancel()
        listener, self._listener = self._listener, None
        if listener is not None:
            with contextlib.suppress(*FAULTS):  # shutting down: a broken link is gone anyway
                await listener.close(timeout=5)
        pool, self._pool = self._pool, None
        if pool is not None:
            with contextlib.suppress(*FAULTS):  # shutting down: a broken pool is gone anyway
                await pool.close()

    async def _listen(self) -> None:
        conn = await asyncpg.connect(self._url, timeout=COMMAND_TIMEOUT_S)
        try:
            await conn.add_listener(self.channel, self._heard)
        except BaseException:
            with contextlib.suppress(*FAULTS):  # the error being raised says what failed
                await conn.close(timeout=5)
            raise
        conn.add_termination_listener(self._lost)
        self._listener = conn

    def _lost(self, conn: asyncpg.Connection) -> None:
        if self._closed or conn is not self._listener:
            return
        self._listener = None
        log.warning("cluster_listen_lost channel=%s", self.channel)
        self._spawn(self._reconnect())

    async def _reconnect(self) -> None:
        delay = RECONNECT_FIRST_S
        while not self._closed:
            await asyncio.sleep(delay)
            try:
                await self._listen()
            except FAULTS:
                # Still unreachable: the loss was logged when it happened; try again later.
                delay = min(delay * 2, RECONNECT_MAX_S)
                continue
            log.info("cluster_listen_back channel=%s", self.channel)
            await self._tell("reconnected")
            return

    def _spawn(self, coro: Awaitable[None]) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- signals --------------------------------------------------------------------
    def subscribe(self, callback: Callback) -> None:
        """Call ``callback(event)`` for each event another instance announces."""
        self._subscribers.append(callback)

    async def announce(self, event: str) -> None:
        """Tell every other instance listening on this channel."""
        payload = json.dumps({"event": event, "from": self.instance})
        with _faults("announce to the other instances"):
            await self._live().execute("SELECT pg_notify($1, $2)", self.channel, payload)

    def _heard(self, conn: object, pid: int, channel: str, payload: str) -> None:
        try:
            message = json.loads(payload)
            event, sender = str(message["event"]), message.get("from")
        except (ValueError, KeyError, TypeError):
            log.warning("cluster_message_refused channel=%s", channel)
            return
        if sender == self.instance:
            return
        self._spawn(self._tell(event))

    async def _tell(self, event: str) -> None:
        for callback in list(self._subscribers):
            try:
                result = callback(event)
                if result is not None:
                    await result
            except Exception as exc:  # noqa: BLE001 - one subscriber must not stop the others
                log.error("cluster_subscriber_failed event=%s error=%s", event,
                          type(exc).__name__)

    # -- the send budget --------------------------------------------------------------
    async def reserve(self, scope: str, interval: float, tolerance: float = 0.0) -> float:
        """Take the next slot of ``scope``; the seconds to wait before sending."""
        pool = self._live()
        with _faults("reserve a send slot"):
            wait = float(await pool.fetchval(_RESERVE, scope, interval, tolerance))
            if time.monotonic() - self._pruned > PRUNE_EVERY_S:
                self._pruned = time.monotonic()
                await pool.execute(_PRUNE, IDLE_ROW_S)
        return wait

    async def hold(self, scope: str, seconds: float) -> None:
        """No slot of ``scope`` before ``seconds`` from now, on any instance (after a 429)."""
        with _faults("hold the send budget"):
            await self._live().execute(_HOLD, scope, seconds)

    def _live(self) -> asyncpg.Pool:
        if self._pool is None:
            raise StoreError("the cluster is not open")
        return self._pool
