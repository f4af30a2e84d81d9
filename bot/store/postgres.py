"""PostgreSQL backend of the store, for several bot instances behind a webhook (asyncpg).

Same tables and contract as the SQLite backend. Two instances can update the
same woman at once: ``update_session`` locks her row with ``SELECT ... FOR
UPDATE`` and retries when a concurrent first insert wins. Migrations run under
``pg_advisory_xact_lock`` so instances starting together migrate once. Expiry
deletes table by table in short statements, in the same order as ``forget``,
so purges running on every instance cannot deadlock with each other or with her.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Iterator, Sequence
from datetime import date, datetime, timedelta

import asyncpg

from bot.engine.state import State
from bot.errors import StoreError

from .base import (
    CASE_TTL,
    MAX_UPDATE_TRIES,
    MESSAGE_TTL,
    SESSION_TTL,
    Case,
    ConflictError,
    CounterRow,
    PurgeCounts,
    Store,
    StoreUnavailable,
    Tally,
    Update,
    encode_state,
    fresh_number,
    message_id,
    message_rows,
    moment,
    read_state,
    seconds,
)
from .keys import SessionKey, _restore

log = logging.getLogger("podruga.store")

FAULTS: tuple[type[BaseException], ...] = (
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.InternalClientError,
    OSError,
    TimeoutError,
)
_MIGRATION_LOCK = 0x706F6472_75676131  # "podrugа1": one advisory lock id for schema changes
COMMAND_TIMEOUT_S = 30.0  # a statement stuck this long is a fault, not a slow update
# At start, these mean "the server is not there yet" (still booting, restarting, full):
# trying again later may help, unlike a wrong password or a database from a newer Podruga.
_TRANSIENT: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.TooManyConnectionsError,
    asyncpg.exceptions.ConnectionDoesNotExistError,
)

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE sessions (
            key TEXT PRIMARY KEY,
            state JSONB NOT NULL,
            version BIGINT NOT NULL,
            touched BIGINT NOT NULL
        )""",
        "CREATE INDEX sessions_touched ON sessions (touched)",
        """CREATE TABLE messages (
            key TEXT NOT NULL,
            message_id BIGINT NOT NULL,
            at BIGINT NOT NULL,
            PRIMARY KEY (key, message_id)
        )""",
        "CREATE INDEX messages_at ON messages (at)",
        """CREATE TABLE cases (
            number TEXT PRIMARY KEY,
            key TEXT NOT NULL UNIQUE,
            link BYTEA NOT NULL,
            opened BIGINT NOT NULL,
            blocked BOOLEAN NOT NULL DEFAULT FALSE
        )""",
        "CREATE INDEX cases_opened ON cases (opened)",
        """CREATE TABLE relays (
            staff_message_id BIGINT PRIMARY KEY,
            number TEXT NOT NULL REFERENCES cases (number) ON DELETE CASCADE,
            at BIGINT NOT NULL
        )""",
        "CREATE INDEX relays_number ON relays (number)",
        """CREATE TABLE counters (
            day DATE NOT NULL,
            topic TEXT NOT NULL,
            lang TEXT NOT NULL,
            country TEXT NOT NULL,
            questions BIGINT NOT NULL,
            unanswered BIGINT NOT NULL,
            PRIMARY KEY (day, topic, lang, country)
        )""",
    ),
)


@contextlib.contextmanager
def _faults(action: str) -> Iterator[None]:
    """Like base.faults, but never quotes a value asyncpg could not encode."""
    try:
        yield
    except StoreError:
        raise
    except asyncpg.exceptions.DataError as exc:
        raise StoreError(f"the database could not {action}: {type(exc).__name__}") from exc
    except FAULTS as exc:
        detail = " ".join(str(exc).split())[:200] or type(exc).__name__
        raise StoreError(f"the database could not {action}: {detail}") from exc


def unusable(exc: BaseException) -> StoreError:
    """The error for a database that cannot be used at start; StoreUnavailable if a
    later try may succeed (the server is not up yet), so a service manager retries."""
    detail = " ".join(str(exc).split())[:200] or type(exc).__name__
    if isinstance(exc, asyncpg.exceptions.DataError):
        detail = type(exc).__name__
    kind = StoreUnavailable if isinstance(exc, _TRANSIENT) else StoreError
    return kind(
        f"the PostgreSQL database in PODRUGA_DB cannot be used ({detail}): check "
        "that the server runs, the URL is right and the user may create tables"
    )


class PostgresStore(Store):
    """Sessions in PostgreSQL; ``url`` is a ``postgresql://`` URL (``?search_path=`` works)."""

    name = "postgres"

    def __init__(self, url: str, *, min_size: int = 1, max_size: int = 10) -> None:
        self._url = url
        self._sizes = (min_size, max_size)
        self._pool: asyncpg.Pool | None = None

    def __repr__(self) -> str:
        return "PostgresStore(<url>)"  # the URL may hold a password

    # -- lifetime -------------------------------------------------------------------
    async def open(self) -> None:
        if self._pool is not None:
            return
        try:
            self._pool = await asyncpg.create_pool(
                self._url,
                min_size=self._sizes[0],
                max_size=self._sizes[1],
                command_timeout=COMMAND_TIMEOUT_S,
            )
            applied = await self._migrate()
        except BaseException as exc:
            await self.close()
            if isinstance(exc, StoreError):
                raise
            if isinstance(exc, FAULTS):
                raise unusable(exc) from exc
            raise
        log.info(
            "store opened: postgres, schema version %d, %d migrations applied",
            len(MIGRATIONS),
            applied,
        )

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            with contextlib.suppress(*FAULTS):  # a pool that broke has nothing left to close
                await pool.close()

    async def _migrate(self) -> int:
        assert self._pool is not None
        async with self._pool.acquire() as conn, conn.transaction():
            # Instances starting at once queue here; the lock ends with the transaction.
            await conn.execute("SELECT pg_advisory_xact_lock($1)", _MIGRATION_LOCK)
            await conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY)"
            )
            current = int(
                await conn.fetchval("SELECT coalesce(max(version), 0) FROM schema_migrations")
            )
            if current > len(MIGRATIONS):
                raise StoreError(
                    f"the PostgreSQL database is at schema version {current}, newer than "
                    f"this program ({len(MIGRATIONS)}): upgrade podruga"
                )
            for version in range(current + 1, len(MIGRATIONS) + 1):
                for statement in MIGRATIONS[version - 1]:
                    await conn.execute(statement)
                await conn.execute("INSERT INTO schema_migrations (version) VALUES ($1)", version)
        return len(MIGRATIONS) - current

    async def schema_version(self) -> int:
        with _faults("read the schema version"):
            return int(await self._live().fetchval("SELECT max(version) FROM schema_migrations"))

    # -- plumbing -------------------------------------------------------------------
    def _live(self) -> asyncpg.Pool:
        if self._pool is None:
            raise StoreError("the store is not open")
        return self._pool

    @contextlib.asynccontextmanager
    async def _transaction(self, action: str) -> AsyncIterator[asyncpg.Connection]:
        """One transaction; statements inside must run under ``_faults`` themselves."""
        pool = self._live()
        with _faults(action):
            conn = await pool.acquire()
        try:
            tx = conn.transaction()
            with _faults(action):
                await tx.start()
            try:
                yield conn
            except BaseException:
                with contextlib.suppress(*FAULTS):  # the error being raised says what failed
                    await tx.rollback()
                raise
            with _faults(action):
                await tx.commit()
        finally:
            with contextlib.suppress(*FAULTS):  # a broken connection is dropped by the pool
                await pool.release(conn)

    # -- sessions -------------------------------------------------------------------
    async def load_session(self, key: SessionKey) -> State | None:
        with _faults("load a session"):
            row = await self._live().fetchrow(
                "SELECT state::text FROM sessions WHERE key = $1", key.hex
            )
        return read_state(row[0]) if row else None

    async def update_session(self, key: SessionKey, fn: Update, now: datetime) -> State | None:
        when = seconds(now)
        for _ in range(MAX_UPDATE_TRIES):
            try:
                async with self._transaction("update a session") as conn:
                    done, new = await _apply(conn, key, fn, when, "update a session")
                if done:
                    return new
                # Another instance inserted her first session meanwhile: now lock that row.
            except StoreError as exc:
                if not isinstance(exc.__cause__, asyncpg.TransactionRollbackError):
                    raise
                log.info("session update retried after a deadlock or serialization failure")
        raise ConflictError("her session kept changing under concurrent updates: try again")

    async def record_turn(
        self,
        key: SessionKey,
        now: datetime,
        *,
        message_ids: Sequence[int] = (),
        tallies: Sequence[Tally] = (),
        update: Update | None = None,
    ) -> None:
        when = seconds(now)
        messages = message_rows(key, message_ids, when)
        # Sorted, so two turns lock the same counter rows in the same order (no deadlock).
        counts = sorted(_counter_rows(now.date(), tallies))
        if not messages and not counts and update is None:
            return
        for _ in range(MAX_UPDATE_TRIES):
            try:
                async with self._transaction("record a turn") as conn:
                    if update is not None:
                        done, _new = await _apply(conn, key, update, when, "record a turn")
                        if not done:
                            continue  # nothing written yet: lock her new row and start over
                    with _faults("record a turn"):
                        if messages:
                            await conn.executemany(_REMEMBER, messages)
                        # Last, so counter rows shared by all women stay locked only briefly.
                        if counts:
                            await conn.executemany(_COUNT, counts)
                return
            except StoreError as exc:
                if not isinstance(exc.__cause__, asyncpg.TransactionRollbackError):
                    raise
                log.info("turn record retried after a deadlock or serialization failure")
        raise ConflictError("her session kept changing under concurrent updates: try again")

    async def forget(self, key: SessionKey, *, keep_messages: bool = False) -> None:
        async with self._transaction("forget a session") as conn:
            with _faults("forget a session"):
                for statement in _FORGET:
                    if not (keep_messages and statement == _FORGET_MESSAGES):
                        await conn.execute(statement, key.hex)

    # -- quick exit -----------------------------------------------------------------
    async def remember_messages(
        self, key: SessionKey, message_ids: list[int], now: datetime
    ) -> None:
        rows = message_rows(key, message_ids, seconds(now))
        if not rows:
            return
        with _faults("remember message ids"):
            await self._live().executemany(_REMEMBER, rows)

    async def remember_case_messages(
        self, number: str, message_ids: Sequence[int], now: datetime
    ) -> bool:
        ids = [message_id(m) for m in message_ids]
        with _faults("remember message ids"):
            # One statement: the case's row is read and her ids written under its key at
            # once, so a quick exit on another instance cannot slip in between.
            found = await self._live().fetchval(
                "WITH c AS (SELECT key FROM cases WHERE number = $1), "
                "w AS (INSERT INTO messages (key, message_id, at) "
                "SELECT c.key, m, $3 FROM c, unnest($2::bigint[]) AS m "
                "ON CONFLICT DO NOTHING) SELECT count(*) FROM c",
                number,
                ids,
                seconds(now),
            )
        return bool(found)

    async def message_ids(self, key: SessionKey, now: datetime) -> list[int]:
        with _faults("read message ids"):
            rows = await self._live().fetch(
                "SELECT message_id FROM messages WHERE key = $1 AND at > $2 ORDER BY message_id",
                key.hex,
                seconds(now - MESSAGE_TTL),
            )
        return [int(r[0]) for r in rows]

    async def forget_messages(self, key: SessionKey) -> None:
        with _faults("forget message ids"):
            await self._live().execute("DELETE FROM messages WHERE key = $1", key.hex)

    # -- expiry ---------------------------------------------------------------------
    async def purge_expired(
        self, now: datetime, session_ttl: timedelta = SESSION_TTL
    ) -> PurgeCounts:
        cutoffs = (seconds(now - session_ttl), seconds(now - MESSAGE_TTL), seconds(now - CASE_TTL))
        pool = self._live()
        counts = []
        with _faults("purge expired rows"):
            # One short statement each: no transaction holds locks on two tables at once.
            for statement, cutoff in zip(_PURGE, cutoffs, strict=True):
                counts.append(_rowcount(await pool.execute(statement, cutoff)))
        return PurgeCounts(*counts)

    # -- counters -------------------------------------------------------------------
    async def stats(self, since: date) -> list[CounterRow]:
        with _faults("read the counters"):
            rows = await self._live().fetch(
                "SELECT day, topic, lang, country, questions, unanswered FROM counters "
                "WHERE day >= $1 ORDER BY day, topic, lang, country",
                since,
            )
        return [CounterRow(r[0], r[1], r[2], r[3], int(r[4]), int(r[5])) for r in rows]

    # -- hand-over cases ------------------------------------------------------------
    async def open_case(self, key: SessionKey, link: bytes, now: datetime) -> str:
        async with self._transaction("open a case") as conn:
            with _faults("open a case"):
                for attempt in range(MAX_UPDATE_TRIES * 4):
                    number = await conn.fetchval(
                        "UPDATE cases SET link = $2 WHERE key = $1 RETURNING number",
                        key.hex,
                        bytes(link),
                    )
                    if number is not None:
                        return str(number)
                    # DO NOTHING on any clash: a taken number, or her case opened meanwhile.
                    number = await conn.fetchval(
                        "INSERT INTO cases (number, key, link, opened) VALUES ($1, $2, $3, $4) "
                        "ON CONFLICT DO NOTHING RETURNING number",
                        fresh_number(attempt),
                        key.hex,
                        bytes(link),
                        seconds(now),
                    )
                    if number is not None:
                        return str(number)
        raise StoreError("no free case number was found: close old cases")

    async def get_case(self, number: str) -> Case | None:
        with _faults("read a case"):
            r = await self._live().fetchrow(
                "SELECT number, key, link, opened, blocked FROM cases WHERE number = $1", number
            )
        if r is None:
            return None
        return Case(str(r[0]), _restore(str(r[1])), bytes(r[2]), moment(int(r[3])), bool(r[4]))

    async def case_for(self, key: SessionKey) -> str | None:
        with _faults("read a case"):
            number = await self._live().fetchval("SELECT number FROM cases WHERE key = $1", key.hex)
        return str(number) if number is not None else None

    async def close_case(self, number: str) -> bool:
        with _faults("close a case"):
            status = await self._live().execute("DELETE FROM cases WHERE number = $1", number)
        return _rowcount(status) > 0

    async def set_blocked(self, number: str, blocked: bool) -> bool:
        with _faults("block a case"):
            status = await self._live().execute(
                "UPDATE cases SET blocked = $2 WHERE number = $1", number, blocked
            )
        return _rowcount(status) > 0

    async def note_staff_message(self, number: str, staff_message_id: int, now: datetime) -> bool:
        with _faults("record a relayed message"):
            status = await self._live().execute(
                "INSERT INTO relays (staff_message_id, number, at) "
                "SELECT $1, number, $2 FROM cases WHERE number = $3 "
                "ON CONFLICT (staff_message_id) DO UPDATE SET number = excluded.number, "
                "at = excluded.at",
                message_id(staff_message_id),
                seconds(now),
                number,
            )
        return _rowcount(status) > 0

    async def staff_messages(self, number: str) -> list[int]:
        with _faults("read relayed messages"):
            rows = await self._live().fetch(
                "SELECT staff_message_id FROM relays WHERE number = $1 ORDER BY staff_message_id",
                number,
            )
        return [int(r[0]) for r in rows]

    async def case_of_staff_message(self, staff_message_id: int) -> str | None:
        with _faults("read a relayed message"):
            number = await self._live().fetchval(
                "SELECT number FROM relays WHERE staff_message_id = $1",
                message_id(staff_message_id),
            )
        return str(number) if number is not None else None


# The version column counts writes; nothing reads it any more, but the schema keeps it.
_INSERT_NEW = (
    "INSERT INTO sessions (key, state, version, touched) VALUES ($1, $2::jsonb, 1, $3) "
    "ON CONFLICT (key) DO NOTHING RETURNING version"
)
# The same table order as _PURGE, so forget and purge never wait on each other in a cycle.
_REMEMBER = "INSERT INTO messages (key, message_id, at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING"
_COUNT = (
    "INSERT INTO counters VALUES ($1, $2, $3, $4, 1, $5) "
    "ON CONFLICT (day, topic, lang, country) DO UPDATE SET "
    "questions = counters.questions + 1, "
    "unanswered = counters.unanswered + excluded.unanswered"
)
_FORGET_MESSAGES = "DELETE FROM messages WHERE key = $1"
_FORGET = (
    "DELETE FROM sessions WHERE key = $1",
    _FORGET_MESSAGES,
    "DELETE FROM cases WHERE key = $1",  # relays go with it (ON DELETE CASCADE)
)
_PURGE = (
    "DELETE FROM sessions WHERE touched <= $1",
    "DELETE FROM messages WHERE at <= $1",
    "DELETE FROM cases WHERE opened <= $1",
)


def _rowcount(status: str) -> int:
    """Rows touched, from a command tag such as ``DELETE 3`` or ``INSERT 0 1``."""
    tail = status.rsplit(" ", 1)[-1]
    return int(tail) if tail.isdigit() else 0


def _counter_rows(day: date, tallies: Sequence[Tally]) -> list[tuple[date, str, str, str, int]]:
    return [(day, t.topic or "", t.lang, t.country, 0 if t.answered else 1) for t in tallies]


async def _apply(
    conn: asyncpg.Connection, key: SessionKey, fn: Update, when: int, action: str
) -> tuple[bool, State | None]:
    """Read her row locked, apply ``fn`` and write, inside a transaction already begun.

    Returns (False, None) when another instance inserted her first session meanwhile:
    nothing was written and the caller starts over, now finding that row to lock.
    """
    with _faults(action):
        row = await conn.fetchrow(
            "SELECT state::text FROM sessions WHERE key = $1 FOR UPDATE", key.hex
        )
    old = read_state(row[0]) if row else None
    new = fn(old)
    with _faults(action):
        if new is None:
            await conn.execute("DELETE FROM sessions WHERE key = $1", key.hex)
            return True, None
        if row is not None:
            await conn.execute(
                "UPDATE sessions SET state = $2::jsonb, touched = $3, "
                "version = version + 1 WHERE key = $1",
                key.hex,
                encode_state(new),
                when,
            )
            return True, new
        won = await conn.fetchval(_INSERT_NEW, key.hex, encode_state(new), when)
    return (True, new) if won is not None else (False, None)
