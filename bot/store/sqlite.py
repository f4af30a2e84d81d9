"""SQLite backend of the store: one local file in WAL mode, one writer, versioned schema.

Writes are serialised by an ``asyncio.Lock`` on one connection and run as
``BEGIN IMMEDIATE`` transactions. Each transaction, from BEGIN to COMMIT or
ROLLBACK, is one plain function run by aiosqlite's worker thread: one thread hop
per transaction instead of one per statement, so the lock is held for the time
SQLite needs, not for several turns of a busy event loop.

Group commit: writes that arrive while a transaction runs wait and then go
together in the next one, each inside its own SAVEPOINT, so one failing write
rolls back alone and the others commit. A caller's write has committed when its
call returns, as before; under load, many women's turns share one BEGIN, one
COMMIT and one thread hop instead of paying for them each. Reads take the same
lock between transactions, so they see only committed rows. ``secure_delete``
and a WAL checkpoint after each deletion make forgotten rows unreadable in the file.

The file is opened in ``locking_mode=EXCLUSIVE``: the bot is its only user while
it runs, and SQLite then keeps the WAL index in the process's memory instead of a
memory-mapped ``-shm`` file. A mapped file that becomes unwritable (a read-only
remount, ``chattr +i``, a full disk) kills a process with SIGBUS; a write that
fails is only a ``StoreError``. A second process that opens the same file is
refused with a clear ``StoreUnavailable`` instead of waiting on locks.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from bot.engine.state import State
from bot.errors import StoreError

from .base import (
    CASE_TTL,
    MAX_UPDATE_TRIES,
    MESSAGE_TTL,
    SESSION_TTL,
    Case,
    CounterRow,
    PurgeCounts,
    Store,
    StoreUnavailable,
    Tally,
    Update,
    encode_state,
    faults,
    fresh_number,
    message_id,
    message_rows,
    moment,
    read_state,
    seconds,
)
from .keys import SessionKey, _restore

log = logging.getLogger("podruga.store")
# aiosqlite logs every call with its parameters at DEBUG: keep them out of any log.
logging.getLogger("aiosqlite").setLevel(logging.INFO)

BUSY_TIMEOUT_MS = 10_000  # another process (a second CLI) may hold the file briefly
_FAULTS: tuple[type[BaseException], ...] = (sqlite3.Error, OSError, ValueError)
T = TypeVar("T")
Work = Callable[[sqlite3.Connection], T]

# Ordered migrations: entry i brings the schema from version i to i + 1. Never edit a
# shipped entry; append a new one. PostgreSQL has the same list in postgres.py.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE sessions (
            key TEXT PRIMARY KEY,
            state TEXT NOT NULL,
            version INTEGER NOT NULL,
            touched INTEGER NOT NULL
        ) WITHOUT ROWID""",
        "CREATE INDEX sessions_touched ON sessions (touched)",
        """CREATE TABLE messages (
            key TEXT NOT NULL,
            message_id INTEGER NOT NULL,
            at INTEGER NOT NULL,
            PRIMARY KEY (key, message_id)
        ) WITHOUT ROWID""",
        "CREATE INDEX messages_at ON messages (at)",
        """CREATE TABLE cases (
            number TEXT PRIMARY KEY,
            key TEXT NOT NULL UNIQUE,
            link BLOB NOT NULL,
            opened INTEGER NOT NULL,
            blocked INTEGER NOT NULL DEFAULT 0
        )""",
        "CREATE INDEX cases_opened ON cases (opened)",
        """CREATE TABLE relays (
            staff_message_id INTEGER PRIMARY KEY,
            number TEXT NOT NULL REFERENCES cases (number) ON DELETE CASCADE,
            at INTEGER NOT NULL
        )""",
        "CREATE INDEX relays_number ON relays (number)",
        """CREATE TABLE counters (
            day TEXT NOT NULL,
            topic TEXT NOT NULL,
            lang TEXT NOT NULL,
            country TEXT NOT NULL,
            questions INTEGER NOT NULL,
            unanswered INTEGER NOT NULL,
            PRIMARY KEY (day, topic, lang, country)
        ) WITHOUT ROWID""",
    ),
)


class SqliteStore(Store):
    """The embedded default: a file under the user's data directory (or ``:memory:``)."""

    name = "sqlite"

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = str(path)
        self._memory = self.path == ":memory:"
        self._writer: aiosqlite.Connection | None = None
        self._identity: tuple[int, int] | None = None  # the file's device and inode at open
        self._lock = asyncio.Lock()
        self._queue: list[tuple[Work[Any], asyncio.Future[Any]]] = []
        self._flusher: asyncio.Task[None] | None = None

    # -- lifetime -------------------------------------------------------------------
    async def open(self) -> None:
        if self._writer is not None:
            return
        try:
            if not self._memory:
                _prepare_file(Path(self.path))
            self._writer = await self._connect()
            await self._check(self._writer)
            applied = await self._migrate(self._writer)
            self._identity = _identity(self.path)
        except BaseException as exc:
            await self.close()
            if isinstance(exc, StoreError):
                raise
            if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):
                raise StoreUnavailable(
                    f"the database file {self.path} is in use by another process (another "
                    "podruga?): stop it, or give this one its own PODRUGA_DB"
                ) from exc
            if isinstance(exc, _FAULTS):
                raise StoreError(self._unusable(exc)) from exc
            raise
        log.info(
            "store opened: sqlite, schema version %d, %d migrations applied",
            len(MIGRATIONS),
            applied,
        )

    async def close(self) -> None:
        db, self._writer = self._writer, None
        if db is not None:
            with contextlib.suppress(*_FAULTS):  # a connection that broke has nothing to close
                await db.close()

    def _unusable(self, exc: BaseException) -> str:
        detail = " ".join(str(exc).split())[:200] or type(exc).__name__
        return (
            f"the database file {self.path} cannot be used ({detail}): check that its folder "
            "is writable, or move a damaged file away and restore a backup "
            "(PODRUGA_DB chooses another file)"
        )

    async def _connect(self) -> aiosqlite.Connection:
        db = await aiosqlite.connect(
            self.path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000
        )
        try:
            await db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            # Before WAL mode is entered: no -shm mapping at all (see the module's docstring).
            await db.execute("PRAGMA locking_mode = EXCLUSIVE")
            mode = await db.execute_fetchall("PRAGMA journal_mode = WAL")
            if not self._memory and next(iter(mode))[0] != "wal":
                raise StoreError(f"the database file {self.path} cannot use WAL mode")
            # NORMAL is durable in WAL mode except for the very last commits on power loss.
            await db.execute("PRAGMA synchronous = NORMAL")
            # Deleted rows are overwritten with zeros, not left in free pages.
            await db.execute("PRAGMA secure_delete = ON")
            await db.execute("PRAGMA foreign_keys = ON")
        except BaseException:
            await db.close()
            raise
        return db

    async def _check(self, db: aiosqlite.Connection) -> None:
        rows = list(await db.execute_fetchall("PRAGMA quick_check"))
        if [tuple(r) for r in rows] != [("ok",)]:
            raise StoreError(
                f"the database file {self.path} is damaged (integrity check failed): "
                "move it away and restore a backup"
            )

    async def _migrate(self, db: aiosqlite.Connection) -> int:
        async with self._lock:
            await db.execute("BEGIN IMMEDIATE")
            try:
                await db.execute(
                    "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY)"
                )
                rows = await db.execute_fetchall(
                    "SELECT coalesce(max(version), 0) FROM schema_migrations"
                )
                current = int(next(iter(rows))[0])
                if current > len(MIGRATIONS):
                    raise StoreError(
                        f"the database file {self.path} is at schema version {current}, newer "
                        f"than this program ({len(MIGRATIONS)}): upgrade podruga"
                    )
                for version in range(current + 1, len(MIGRATIONS) + 1):
                    for statement in MIGRATIONS[version - 1]:
                        await db.execute(statement)
                    await db.execute(
                        "INSERT INTO schema_migrations (version) VALUES (?)", (version,)
                    )
                await db.execute("COMMIT")
            except BaseException:
                await _rollback(db)
                raise
        return len(MIGRATIONS) - current

    async def schema_version(self) -> int:
        """The schema version; also a health check: StoreError if the file has gone.

        A file removed or replaced while the bot runs (its folder deleted, a backup
        restored over it) takes every later write with it: SQLite goes on writing into
        the unlinked file, which is lost at restart. Better a clear fault than that.
        """
        if self._identity is not None and _identity(self.path) != self._identity:
            raise StoreError(f"the database file {self.path} was removed or replaced while "
                             "the bot ran: what it writes now is lost at restart; restart it")
        async with self._reading("read the schema version") as db:
            rows = await db.execute_fetchall("SELECT max(version) FROM schema_migrations")
        return int(next(iter(rows))[0])

    # -- plumbing -------------------------------------------------------------------
    def _live(self) -> aiosqlite.Connection:
        if self._writer is None:
            raise StoreError("the store is not open")
        return self._writer

    @contextlib.asynccontextmanager
    async def _reading(self, action: str) -> AsyncIterator[aiosqlite.Connection]:
        """The one connection, between write transactions: reads see committed rows only."""
        db = self._live()
        async with self._lock:
            with faults(action, _FAULTS):
                yield db

    async def _write(self, action: str, work: Work[T]) -> T:
        """Run ``work`` in the next write transaction; return when that has committed.

        A cancelled caller does not cut the transaction short: a queued write still
        runs, and the thread finishes its transaction before it takes the next one.
        """
        db = self._live()
        done: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queue.append((work, done))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush(db))
        with faults(action, _FAULTS):
            return await done

    async def _flush(self, db: aiosqlite.Connection) -> None:
        """Commit queued writes, all that are waiting in one transaction, until none wait."""
        async with self._lock:
            while self._queue:
                batch, self._queue = self._queue, []
                try:
                    # aiosqlite has no public "run this in your thread"; _execute is how its
                    # own methods do it (checked against aiosqlite 0.22).
                    outcomes = await db._execute(  # noqa: SLF001
                        _transact_group, db, [work for work, _ in batch]
                    )
                except BaseException as exc:  # BEGIN or COMMIT failed: nothing was written
                    for _, done in batch:
                        if not done.done():
                            done.set_exception(exc)
                    if not isinstance(exc, Exception):
                        raise
                    continue
                for (_, done), (error, value) in zip(batch, outcomes, strict=True):
                    if done.done():
                        continue  # its caller was cancelled; the write is committed anyway
                    if error is not None:
                        done.set_exception(error)
                    else:
                        done.set_result(value)

    async def _scrub(self) -> None:
        """Fold the WAL into the file and truncate it, so deleted rows leave no old copy."""
        db = self._live()
        if self._memory:
            return
        async with self._lock:
            with faults("clean up after a deletion", _FAULTS):
                # Fetched, not just executed: a pending result row would keep the
                # statement open and make the next COMMIT fail.
                await db.execute_fetchall("PRAGMA wal_checkpoint(TRUNCATE)")

    # -- sessions -------------------------------------------------------------------
    async def load_session(self, key: SessionKey) -> State | None:
        async with self._reading("load a session") as db:
            rows = list(
                await db.execute_fetchall("SELECT state FROM sessions WHERE key = ?", (key.hex,))
            )
        return read_state(rows[0][0]) if rows else None

    async def update_session(self, key: SessionKey, fn: Update, now: datetime) -> State | None:
        when = seconds(now)
        return await _unwrapped(
            self._write("update a session", lambda conn: _apply(conn, key, fn, when))
        )

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
        counts = _counter_rows(now.date(), tallies)
        if not messages and not counts and update is None:
            return

        def work(conn: sqlite3.Connection) -> None:
            if update is not None:
                _apply(conn, key, update, when)
            if messages:
                conn.executemany(_REMEMBER, messages)
            if counts:
                conn.executemany(_COUNT, counts)

        await _unwrapped(self._write("record a turn", work))

    async def forget(self, key: SessionKey, *, keep_messages: bool = False) -> None:
        def work(conn: sqlite3.Connection) -> None:
            for statement in _FORGET:
                if not (keep_messages and statement == _FORGET_MESSAGES):
                    conn.execute(statement, (key.hex,))

        await self._write("forget a session", work)
        await self._scrub()

    # -- quick exit -----------------------------------------------------------------
    async def remember_messages(
        self, key: SessionKey, message_ids: list[int], now: datetime
    ) -> None:
        rows = message_rows(key, message_ids, seconds(now))
        if not rows:
            return
        await self._write("remember message ids", lambda conn: conn.executemany(_REMEMBER, rows))

    async def remember_case_messages(
        self, number: str, message_ids: Sequence[int], now: datetime
    ) -> bool:
        rows = [(message_id(m), seconds(now), number) for m in message_ids]

        def work(conn: sqlite3.Connection) -> bool:
            if not conn.execute("SELECT 1 FROM cases WHERE number = ?", (number,)).fetchall():
                return False
            conn.executemany(_REMEMBER_FOR_CASE, rows)
            return True

        return await self._write("remember message ids", work)

    async def message_ids(self, key: SessionKey, now: datetime) -> list[int]:
        cutoff = seconds(now - MESSAGE_TTL)
        async with self._reading("read message ids") as db:
            rows = await db.execute_fetchall(
                "SELECT message_id FROM messages WHERE key = ? AND at > ? ORDER BY message_id",
                (key.hex, cutoff),
            )
        return [int(r[0]) for r in rows]

    async def forget_messages(self, key: SessionKey) -> None:
        await self._write(
            "forget message ids",
            lambda conn: conn.execute("DELETE FROM messages WHERE key = ?", (key.hex,)),
        )

    # -- expiry ---------------------------------------------------------------------
    async def purge_expired(
        self, now: datetime, session_ttl: timedelta = SESSION_TTL
    ) -> PurgeCounts:
        cutoffs = (seconds(now - session_ttl), seconds(now - MESSAGE_TTL), seconds(now - CASE_TTL))

        def work(conn: sqlite3.Connection) -> list[int]:
            counts = []
            for statement, cutoff in zip(_PURGE, cutoffs, strict=True):
                counts.append(max(conn.execute(statement, (cutoff,)).rowcount, 0))
            conn.execute("DELETE FROM relays WHERE number NOT IN (SELECT number FROM cases)")
            return counts

        counts = await self._write("purge expired rows", work)
        result = PurgeCounts(*counts)
        if any(counts):
            await self._scrub()
        return result

    # -- counters -------------------------------------------------------------------
    async def stats(self, since: date) -> list[CounterRow]:
        async with self._reading("read the counters") as db:
            rows = await db.execute_fetchall(
                "SELECT day, topic, lang, country, questions, unanswered FROM counters "
                "WHERE day >= ? ORDER BY day, topic, lang, country",
                (since.isoformat(),),
            )
        return [
            CounterRow(date.fromisoformat(r[0]), r[1], r[2], r[3], int(r[4]), int(r[5]))
            for r in rows
        ]

    # -- hand-over cases ------------------------------------------------------------
    async def open_case(self, key: SessionKey, link: bytes, now: datetime) -> str:
        sealed, opened = bytes(link), seconds(now)

        def work(conn: sqlite3.Connection) -> str | None:
            rows = conn.execute(
                "UPDATE cases SET link = ? WHERE key = ? RETURNING number", (sealed, key.hex)
            ).fetchall()
            if rows:
                return str(rows[0][0])
            for attempt in range(MAX_UPDATE_TRIES * 4):
                rows = conn.execute(
                    "INSERT INTO cases (number, key, link, opened) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT DO NOTHING RETURNING number",
                    (fresh_number(attempt), key.hex, sealed, opened),
                ).fetchall()
                if rows:
                    return str(rows[0][0])
            return None

        number = await self._write("open a case", work)
        if number is not None:
            return number
        raise StoreError("no free case number was found: close old cases")

    async def get_case(self, number: str) -> Case | None:
        async with self._reading("read a case") as db:
            rows = list(
                await db.execute_fetchall(
                    "SELECT number, key, link, opened, blocked FROM cases WHERE number = ?",
                    (number,),
                )
            )
        if not rows:
            return None
        r = rows[0]
        return Case(str(r[0]), _restore(str(r[1])), bytes(r[2]), moment(int(r[3])), bool(r[4]))

    async def case_for(self, key: SessionKey) -> str | None:
        async with self._reading("read a case") as db:
            rows = list(
                await db.execute_fetchall("SELECT number FROM cases WHERE key = ?", (key.hex,))
            )
        return str(rows[0][0]) if rows else None

    async def close_case(self, number: str) -> bool:
        def work(conn: sqlite3.Connection) -> bool:
            conn.execute("DELETE FROM relays WHERE number = ?", (number,))
            return conn.execute("DELETE FROM cases WHERE number = ?", (number,)).rowcount > 0

        closed = await self._write("close a case", work)
        if closed:
            await self._scrub()
        return closed

    async def set_blocked(self, number: str, blocked: bool) -> bool:
        return await self._write(
            "block a case",
            lambda conn: (
                conn.execute(
                    "UPDATE cases SET blocked = ? WHERE number = ?", (int(blocked), number)
                ).rowcount
                > 0
            ),
        )

    async def note_staff_message(self, number: str, staff_message_id: int, now: datetime) -> bool:
        params = (message_id(staff_message_id), seconds(now), number)
        return await self._write(
            "record a relayed message",
            lambda conn: (
                conn.execute(
                    "INSERT INTO relays (staff_message_id, number, at) "
                    "SELECT ?, number, ? FROM cases WHERE number = ? "
                    "ON CONFLICT (staff_message_id) DO UPDATE SET number = excluded.number, "
                    "at = excluded.at",
                    params,
                ).rowcount
                > 0
            ),
        )

    async def staff_messages(self, number: str) -> list[int]:
        async with self._reading("read relayed messages") as db:
            rows = await db.execute_fetchall(
                "SELECT staff_message_id FROM relays WHERE number = ? ORDER BY staff_message_id",
                (number,),
            )
        return [int(r[0]) for r in rows]

    async def case_of_staff_message(self, staff_message_id: int) -> str | None:
        async with self._reading("read a relayed message") as db:
            rows = list(
                await db.execute_fetchall(
                    "SELECT number FROM relays WHERE staff_message_id = ?",
                    (message_id(staff_message_id),),
                )
            )
        return str(rows[0][0]) if rows else None


# The version column counts writes; nothing reads it any more, but the schema keeps it.
_UPSERT = (
    "INSERT INTO sessions (key, state, version, touched) VALUES (?, ?, 1, ?) "
    "ON CONFLICT (key) DO UPDATE SET state = excluded.state, version = sessions.version + 1, "
    "touched = excluded.touched"
)
_REMEMBER = "INSERT INTO messages (key, message_id, at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING"
_REMEMBER_FOR_CASE = (
    "INSERT INTO messages (key, message_id, at) SELECT key, ?, ? FROM cases WHERE number = ? "
    "ON CONFLICT DO NOTHING"
)
_COUNT = (
    "INSERT INTO counters VALUES (?, ?, ?, ?, 1, ?) "
    "ON CONFLICT (day, topic, lang, country) DO UPDATE SET "
    "questions = questions + 1, unanswered = unanswered + excluded.unanswered"
)
_FORGET_MESSAGES = "DELETE FROM messages WHERE key = ?"
_FORGET = (
    "DELETE FROM sessions WHERE key = ?",
    _FORGET_MESSAGES,
    "DELETE FROM relays WHERE number IN (SELECT number FROM cases WHERE key = ?)",
    "DELETE FROM cases WHERE key = ?",
)
_PURGE = (
    "DELETE FROM sessions WHERE touched <= ?",
    "DELETE FROM messages WHERE at <= ?",
    "DELETE FROM cases WHERE opened <= ?",
)


def _counter_rows(day: date, tallies: Sequence[Tally]) -> list[tuple[str, str, str, str, int]]:
    return [
        (day.isoformat(), t.topic or "", t.lang, t.country, 0 if t.answered else 1) for t in tallies
    ]


class _Raised(Exception):
    """Carries an exception of the caller's update function past ``faults`` unchanged."""

    def __init__(self, error: Exception) -> None:
        super().__init__()
        self.error = error


async def _unwrapped(pending: Awaitable[T]) -> T:
    try:
        return await pending
    except _Raised as raised:
        error = raised.error
    raise error  # outside the except block: no chained context from the carrier


def _apply(conn: sqlite3.Connection, key: SessionKey, fn: Update, when: int) -> State | None:
    """``update_session``'s read, apply and write, inside a transaction already begun."""
    rows = conn.execute("SELECT state FROM sessions WHERE key = ?", (key.hex,)).fetchall()
    old = read_state(rows[0][0]) if rows else None
    try:
        new = fn(old)
    except Exception as exc:
        raise _Raised(exc) from None
    if new is None:
        conn.execute("DELETE FROM sessions WHERE key = ?", (key.hex,))
    else:
        conn.execute(_UPSERT, (key.hex, encode_state(new), when))
    return new


def _transact_group(
    db: aiosqlite.Connection, works: Sequence[Work[Any]]
) -> list[tuple[BaseException | None, Any]]:
    """In the writer's thread: one transaction, each work in its own savepoint.

    Returns (error, result) per work: a work that raises is rolled back to its
    savepoint and the others still commit. If COMMIT itself fails, everything
    is rolled back and the exception goes to every caller.
    """
    conn = db._conn  # noqa: SLF001 - the sqlite3 connection, used only in its own thread
    conn.execute("BEGIN IMMEDIATE")
    outcomes: list[tuple[BaseException | None, Any]] = []
    try:
        for work in works:
            if len(works) == 1:  # nothing to keep apart
                outcomes.append((None, work(conn)))
                continue
            conn.execute("SAVEPOINT write")
            try:
                outcomes.append((None, work(conn)))
            except Exception as exc:
                conn.execute("ROLLBACK TO write")
                outcomes.append((exc, None))
            conn.execute("RELEASE write")
        conn.execute("COMMIT")
    except BaseException:
        _rollback_now(conn)
        raise
    return outcomes


def _rollback_now(conn: sqlite3.Connection) -> None:
    if not conn.in_transaction:
        return  # COMMIT may have closed it before failing
    try:
        conn.execute("ROLLBACK")
    except (sqlite3.Error, ValueError) as exc:
        log.warning("rollback failed: %s", type(exc).__name__)


def _identity(path: str) -> tuple[int, int] | None:
    """The file's device and inode, None for ``:memory:`` or a file that is gone."""
    if path == ":memory:":
        return None
    try:
        found = os.stat(path)
    except OSError:
        return (-1, -1)
    return found.st_dev, found.st_ino


def _prepare_file(path: Path) -> None:
    """Create the folder (0700) and the file (0600) so no other local user can read them."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not path.exists():
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        os.close(fd)


async def _rollback(db: aiosqlite.Connection) -> None:
    # Unconditional: a BEGIN queued before a cancellation may not have run yet when we look.
    try:
        await db.execute("ROLLBACK")
    except (sqlite3.Error, ValueError) as exc:
        # "no transaction is active" is the expected answer when none was open; anything
        # else (a disk error, a locked database) is worth a line.
        if "no transaction is active" not in str(exc):
            log.warning("rollback failed: %s", type(exc).__name__)
