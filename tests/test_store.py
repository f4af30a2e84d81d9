"""The store's contract, run against SQLite and PostgreSQL alike, and its privacy audit."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import os
import secrets
import sqlite3
import sys
import textwrap
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest

from bot.engine.state import State, View
from bot.errors import OptionError, StoreError
from bot.store import (
    CaseCipher,
    CounterRow,
    Keyring,
    PurgeCounts,
    SessionKey,
    Store,
    StoreUnavailable,
    Tally,
    decode_state,
    default_location,
    encode_state,
    make_store,
    open_store,
)
from bot.store import postgres as pg_backend
from bot.store import sqlite as sqlite_backend

PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
NOW = datetime(2025, 3, 8, 12, 0, tzinfo=UTC)
SECRET = b"s" * 32
HER_ID = 987654321  # the known user id the privacy audit hunts for
ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Backend:
    """Where one test's database lives, and a way to look at it from outside the store."""

    kind: str
    location: str
    path: Path | None = None  # SQLite only
    schema: str = ""  # PostgreSQL only

    async def raw(self, sql: str, store: Store | None = None) -> None:
        """Run one statement behind the store's back.

        An open SQLite store holds its file exclusively, so the statement then goes
        through the store's own connection, outside its API.
        """
        if self.path is not None and store is not None:
            await store._live().execute(sql)  # type: ignore[attr-defined]
            return
        if self.path is not None:
            with contextlib.closing(sqlite3.connect(self.path)) as db, db:
                db.execute(sql)
            return
        conn = await asyncpg.connect(self.location)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    async def dump(self) -> bytes:
        """Every byte the database holds: the files for SQLite, every row as text for PostgreSQL."""
        if self.path is not None:
            parts = [self.path, Path(f"{self.path}-wal"), Path(f"{self.path}-shm")]
            return b"".join(p.read_bytes() for p in parts if p.exists())
        conn = await asyncpg.connect(self.location)
        try:
            tables = await conn.fetch(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = current_schema()"
            )
            texts: list[str] = []
            for (table,) in tables:
                rows = await conn.fetch(f'SELECT t::text FROM "{table}" t')
                texts.extend(r[0] for r in rows)
            return "\n".join(texts).encode()
        finally:
            await conn.close()


async def _postgres_or_skip() -> asyncpg.Connection:
    try:
        return await asyncpg.connect(PG_URL, timeout=3)
    except (OSError, TimeoutError) as exc:
        pytest.skip(f"no PostgreSQL server answers on 127.0.0.1:5432 ({type(exc).__name__})")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    if request.param == "sqlite":
        path = tmp_path / "podruga.sqlite3"
        yield Backend("sqlite", str(path), path=path)
        return
    conn = await _postgres_or_skip()
    schema = f"store_test_{secrets.token_hex(6)}"
    await conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield Backend("postgres", f"{PG_URL}?search_path={schema}", schema=schema)
    finally:
        await conn.execute(f"DROP SCHEMA {schema} CASCADE")
        await conn.close()


@pytest.fixture
async def store(backend: Backend) -> AsyncIterator[Store]:
    opened = await open_store(backend.location)
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
def ring() -> Keyring:
    return Keyring(SECRET)


def counted(n: int) -> State:
    return State(lang="uk", country="UA", find_page=n)


def bump(state: State | None) -> State:
    return counted((state.find_page if state else 0) + 1)


async def save(store: Store, key: SessionKey, state: State, now: datetime = NOW) -> None:
    """Write her session whatever was there, as a turn does (``update_session``)."""
    await store.update_session(key, lambda _stored: state, now)


# -- keys -------------------------------------------------------------------------------


def test_session_key_is_an_hmac_made_only_by_a_keyring(ring: Keyring) -> None:
    key = ring.session_key(HER_ID)
    assert key == ring.session_key(HER_ID)
    assert key != ring.session_key(HER_ID + 1)
    assert key != Keyring(b"t" * 32).session_key(HER_ID)
    assert len(key.hex) == 64 and str(HER_ID) not in key.hex
    assert "SessionKey(<hidden>)" == repr(key) and key.hex not in repr(key)
    with pytest.raises(TypeError, match="Keyring"):
        SessionKey(key.hex)
    with pytest.raises(TypeError):
        ring.session_key(str(HER_ID))  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        ring.session_key(True)
    with pytest.raises(AttributeError):
        key._hex = "0" * 64  # type: ignore[misc]


def test_keyring_refuses_a_short_secret_and_never_shows_it() -> None:
    with pytest.raises(OptionError, match=r"31 bytes long, it must be at least 32.*token_urlsafe"):
        Keyring(b"x" * 31)
    assert "x" * 32 not in repr(Keyring(b"x" * 32))
    assert Keyring.throwaway().session_key(1) != Keyring.throwaway().session_key(1)


def test_case_cipher_seals_and_refuses_a_wrong_key() -> None:
    cipher = CaseCipher(b"c" * 32)
    sealed = cipher.seal(HER_ID)
    assert sealed != cipher.seal(HER_ID)  # a fresh nonce every time
    assert cipher.open(sealed) == HER_ID
    with pytest.raises(StoreError, match="PODRUGA_CASE_KEY"):
        CaseCipher(b"d" * 32).open(sealed)
    with pytest.raises(StoreError):
        cipher.open(sealed[:-1] + bytes([sealed[-1] ^ 1]))
    assert CaseCipher(b"k" * 40).open(CaseCipher(b"k" * 40).seal(5)) == 5  # the key, not the object


def test_the_serialiser_round_trips_a_state_as_compact_json() -> None:
    state = State(lang="uk", country="UA", pregnant=True, find_needs=("ost", "hiv"), case="K-1")
    text = encode_state(state)
    assert decode_state(text) == state
    assert " " not in text and text.startswith('{"case":"K-1"')  # sorted keys, stable on disk
    with pytest.raises(TypeError):
        Store()  # type: ignore[abstract]


# -- sessions ---------------------------------------------------------------------------


async def test_round_trip(store: Store, ring: Keyring) -> None:
    key = ring.session_key(HER_ID)
    assert await store.load_session(key) is None
    state = State(lang="ru", country="KZ", pregnant=True, find_needs=("ost",), find_city="almaty")
    await save(store, key, state)
    assert await store.load_session(key) == state
    await save(store, key, state.at("ost.start"))
    assert await store.load_session(key) == state.at("ost.start")
    assert await store.load_session(ring.session_key(HER_ID + 1)) is None


async def test_update_session_creates_changes_and_deletes(store: Store, ring: Keyring) -> None:
    key = ring.session_key(HER_ID)
    seen: list[State | None] = []

    def first(state: State | None) -> State:
        seen.append(state)
        return counted(1)

    assert await store.update_session(key, first, NOW) == counted(1)
    assert seen == [None]
    assert await store.update_session(key, bump, NOW) == counted(2)
    assert await store.load_session(key) == counted(2)
    assert await store.update_session(key, lambda s: None, NOW) is None
    assert await store.load_session(key) is None


async def test_exception_inside_an_update_rolls_it_back(store: Store, ring: Keyring) -> None:
    mine, other = ring.session_key(HER_ID), ring.session_key(HER_ID + 1)
    await save(store, mine, counted(1), NOW)
    await save(store, other, counted(5), NOW)

    def boom(state: State | None) -> State:
        raise RuntimeError("engine bug")

    with pytest.raises(RuntimeError, match="engine bug"):  # unchanged, not wrapped
        await store.update_session(mine, boom, NOW)
    with pytest.raises(RuntimeError):
        await store.update_session(ring.session_key(3), boom, NOW)
    assert await store.load_session(mine) == counted(1)
    assert await store.load_session(other) == counted(5)
    assert await store.load_session(ring.session_key(3)) is None
    assert await store.update_session(mine, bump, NOW) == counted(2)  # the store still works


async def test_a_failing_write_among_many_at_once_fails_alone(store: Store, ring: Keyring) -> None:
    # SQLite commits writes that arrive together in one transaction (group commit): the
    # failing one must roll back to its own savepoint and leave the others committed.
    keys = [ring.session_key(i) for i in range(40)]

    def boom(state: State | None) -> State:
        raise RuntimeError("engine bug")

    async def record_bad_then_fail() -> None:
        nameless = Tally("ost", None, "UA", True)  # type: ignore[arg-type]
        await store.record_turn(keys[0], NOW, message_ids=[9], tallies=[nameless], update=bump)

    outcomes = await asyncio.gather(
        *(store.update_session(k, bump, NOW) for k in keys[1:20]),
        store.update_session(keys[0], boom, NOW),
        record_bad_then_fail(),
        *(store.update_session(k, bump, NOW) for k in keys[20:]),
        return_exceptions=True,
    )
    assert isinstance(outcomes[19], RuntimeError)
    assert isinstance(outcomes[20], StoreError)
    assert [o for i, o in enumerate(outcomes) if i not in (19, 20)] == [counted(1)] * 39
    assert await store.load_session(keys[0]) is None
    assert await store.message_ids(keys[0], NOW) == []
    assert [await store.load_session(k) for k in keys[1:]] == [counted(1)] * 39


async def test_sqlite_commits_writes_that_arrive_together_in_few_transactions(
    tmp_path: Path, ring: Keyring
) -> None:
    store = await open_store(str(tmp_path / "group.sqlite3"))
    try:
        begins: list[str] = []
        await store._writer.set_trace_callback(  # type: ignore[attr-defined]
            lambda sql: sql.startswith("BEGIN") and begins.append(sql)
        )
        keys = [ring.session_key(i) for i in range(100)]
        await asyncio.gather(*(store.update_session(k, bump, NOW) for k in keys))
        # The first write goes alone; the 99 that queued meanwhile share the next one.
        assert 1 <= len(begins) <= 3
        assert [await store.load_session(k) for k in keys] == [counted(1)] * 100
    finally:
        await store.close()


async def test_concurrent_updates_of_one_woman_lose_none(store: Store, ring: Keyring) -> None:
    key = ring.session_key(HER_ID)
    await asyncio.gather(*(store.update_session(key, bump, NOW) for _ in range(100)))
    assert await store.load_session(key) == counted(100)


async def test_a_second_process_on_one_sqlite_file_is_refused_clearly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_backend, "BUSY_TIMEOUT_MS", 200)  # not 10 s of waiting
    path = tmp_path / "podruga.sqlite3"
    first = await open_store(path)
    try:
        with pytest.raises(StoreUnavailable, match="in use by another process"):
            await open_store(path)
        await save(first, Keyring(SECRET).session_key(1), State(), NOW)  # unharmed
    finally:
        await first.close()
    second = await open_store(path)  # free again once the first has closed
    await second.close()


@pytest.mark.postgres
async def test_two_instances_updating_one_woman_lose_none(ring: Keyring) -> None:
    conn = await _postgres_or_skip()
    schema = f"store_test_{secrets.token_hex(6)}"
    await conn.execute(f"CREATE SCHEMA {schema}")
    location = f"{PG_URL}?search_path={schema}"
    first, second = await open_store(location), await open_store(location)
    try:
        key = ring.session_key(HER_ID)  # no row yet: both race to insert her first session
        await asyncio.gather(
            *(s.update_session(key, bump, NOW) for _ in range(40) for s in (first, second))
        )
        assert await first.load_session(key) == counted(80)
    finally:
        await first.close()
        await second.close()
        await conn.execute(f"DROP SCHEMA {schema} CASCADE")
        await conn.close()


async def test_a_thousand_women_at_once(store: Store, ring: Keyring) -> None:
    keys = [ring.session_key(i) for i in range(1000)]
    await asyncio.gather(*(store.update_session(k, bump, NOW) for k in keys))
    await asyncio.gather(*(store.update_session(k, bump, NOW) for k in keys))
    states = await asyncio.gather(*(store.load_session(k) for k in keys))
    assert states == [counted(2)] * 1000


async def test_naive_time_is_refused(store: Store, ring: Keyring) -> None:
    with pytest.raises(TypeError, match="aware"):
        await save(store, ring.session_key(1), State(), datetime(2025, 1, 1))


# -- forget, quick exit and expiry -----------------------------------------------------


async def test_forget_deletes_everything_about_her_only(store: Store, ring: Keyring) -> None:
    her, other = ring.session_key(HER_ID), ring.session_key(HER_ID + 1)
    for key in (her, other):
        await save(store, key, counted(1), NOW)
        await store.remember_messages(key, [10, 11], NOW)
    case = await store.open_case(her, b"sealed", NOW)
    assert await store.note_staff_message(case, 500, NOW)
    await store.forget(her)
    assert await store.load_session(her) is None
    assert await store.message_ids(her, NOW) == []
    assert await store.case_for(her) is None and await store.get_case(case) is None
    assert await store.case_of_staff_message(500) is None
    assert await store.load_session(other) == counted(1)
    assert await store.message_ids(other, NOW) == [10, 11]
    await store.forget(her)  # twice is fine


async def test_message_ids_live_48_hours(store: Store, ring: Keyring) -> None:
    key = ring.session_key(HER_ID)
    await store.remember_messages(key, [3, 1, 2], NOW)
    await store.remember_messages(key, [4], NOW + timedelta(hours=1))
    await store.remember_messages(key, [1], NOW + timedelta(hours=47))  # keeps its first time
    await store.remember_messages(key, [], NOW)
    assert await store.message_ids(key, NOW) == [1, 2, 3, 4]
    almost = NOW + timedelta(hours=48) - timedelta(seconds=1)
    assert await store.message_ids(key, almost) == [1, 2, 3, 4]
    assert await store.message_ids(key, NOW + timedelta(hours=48)) == [4]
    counts = await store.purge_expired(NOW + timedelta(hours=48))
    assert counts == PurgeCounts(sessions=0, messages=3, cases=0)
    assert await store.message_ids(key, NOW) == [4]
    await store.forget_messages(key)
    assert await store.message_ids(key, NOW) == []


async def test_idle_sessions_are_purged_and_purge_is_idempotent(
    store: Store, ring: Keyring
) -> None:
    old, active = ring.session_key(1), ring.session_key(2)
    await save(store, old, counted(1), NOW)
    await save(store, active, counted(1), NOW)
    await store.update_session(active, bump, NOW + timedelta(days=10))
    assert await store.purge_expired(NOW + timedelta(days=30, seconds=-1)) == PurgeCounts()
    assert await store.purge_expired(NOW + timedelta(days=30)) == PurgeCounts(sessions=1)
    assert await store.purge_expired(NOW + timedelta(days=30)) == PurgeCounts()
    assert await store.load_session(old) is None
    assert await store.load_session(active) == counted(2)
    later = NOW + timedelta(days=12)
    assert await store.purge_expired(later, session_ttl=timedelta(days=1)) == PurgeCounts(1)


async def test_purges_on_two_instances_at_once(backend: Backend, ring: Keyring) -> None:
    if backend.kind == "sqlite":
        pytest.skip("one SQLite file has one user at a time (see the test after next)")
    first, second = await open_store(backend.location), await open_store(backend.location)
    try:
        for i in range(50):
            await save(first, ring.session_key(i), counted(i), NOW)
            await first.remember_messages(ring.session_key(i), [1, 2], NOW)
        late = NOW + timedelta(days=31)
        results = await asyncio.gather(
            first.purge_expired(late), second.purge_expired(late), first.purge_expired(late)
        )
        assert sum(r.sessions for r in results) == 50
        assert sum(r.messages for r in results) == 100
        assert await second.purge_expired(late) == PurgeCounts()
    finally:
        await first.close()
        await second.close()


# -- counters -------------------------------------------------------------------------


async def test_counters_aggregate_by_day_topic_language_country(
    store: Store, ring: Keyring
) -> None:
    her = ring.session_key(HER_ID)
    day, next_day = date(2025, 3, 8), date(2025, 3, 9)
    at_noon = datetime(2025, 3, 8, 12, tzinfo=UTC)
    await store.record_turn(her, at_noon, tallies=[Tally("ost", "uk", "UA", True)] * 3)
    for _ in range(2):
        await store.record_turn(her, at_noon, tallies=[Tally(None, "uk", "UA", False)])
    await store.record_turn(her, at_noon, tallies=[Tally("ost", "uk", "UA", False)])
    await store.record_turn(her, at_noon + timedelta(days=1),
                            tallies=[Tally("pregnancy", "ru", "", True)])
    assert await store.stats(day) == [
        CounterRow(day, "", "uk", "UA", questions=2, unanswered=2),
        CounterRow(day, "ost", "uk", "UA", questions=4, unanswered=1),
        CounterRow(next_day, "pregnancy", "ru", "", questions=1, unanswered=0),
    ]
    assert await store.stats(next_day) == [CounterRow(next_day, "pregnancy", "ru", "", 1, 0)]


# -- a turn's bookkeeping in one transaction -----------------------------------------------


async def test_record_turn_writes_ids_session_and_counters_together(
    store: Store, ring: Keyring
) -> None:
    her, other = ring.session_key(HER_ID), ring.session_key(HER_ID + 1)
    await save(store, her, counted(1), NOW)
    await store.record_turn(
        her,
        NOW,
        message_ids=[7, 5],
        tallies=[Tally("ost", "uk", "UA", True), Tally(None, "uk", "UA", False)] * 2,
        update=bump,
    )
    await store.record_turn(other, NOW, tallies=[Tally("ost", "uk", "UA", False)])
    await store.record_turn(other, NOW)  # nothing to do is not an error
    assert await store.message_ids(her, NOW) == [5, 7]
    assert await store.message_ids(other, NOW) == []
    assert await store.load_session(her) == counted(2)
    assert await store.load_session(other) is None  # counters alone write nothing of hers
    assert await store.stats(NOW.date()) == [
        CounterRow(NOW.date(), "", "uk", "UA", questions=2, unanswered=2),
        CounterRow(NOW.date(), "ost", "uk", "UA", questions=3, unanswered=1),
    ]
    # Her session was deleted meanwhile: an update of "no session" to None deletes nothing.
    await store.record_turn(other, NOW, message_ids=[1], update=lambda s: None)
    assert await store.message_ids(other, NOW) == [1]


async def test_record_turn_is_all_or_nothing(store: Store, ring: Keyring) -> None:
    key = ring.session_key(HER_ID)
    await save(store, key, counted(1), NOW)

    def boom(state: State | None) -> State:
        raise RuntimeError("engine bug")

    with pytest.raises(RuntimeError, match="engine bug"):  # unchanged, not wrapped
        await store.record_turn(
            key, NOW, message_ids=[9], tallies=[Tally("ost", "uk", "UA", True)], update=boom
        )
    with pytest.raises(TypeError, match="ints"):
        bad: list[int] = [9, "10"]  # type: ignore[list-item]
        await store.record_turn(key, NOW, message_ids=bad, tallies=[Tally("ost", "uk", "UA", True)])
    # The database refuses the last statement (a counter without a language): the session
    # update and the message ids written before it in the same transaction are undone.
    with pytest.raises(StoreError, match="record a turn"):
        nameless = Tally("ost", None, "UA", True)  # type: ignore[arg-type]
        await store.record_turn(key, NOW, message_ids=[9], tallies=[nameless], update=bump)
    assert await store.message_ids(key, NOW) == []
    assert await store.stats(NOW.date()) == []
    assert await store.load_session(key) == counted(1)
    await store.record_turn(key, NOW, message_ids=[9], update=bump)  # the store still works
    assert await store.load_session(key) == counted(2)


async def test_turns_of_many_women_at_once_lose_no_count(store: Store, ring: Keyring) -> None:
    keys = [ring.session_key(i) for i in range(200)]
    await asyncio.gather(*(save(store, k, counted(0)) for k in keys))
    await asyncio.gather(
        *(
            store.record_turn(
                k, NOW, message_ids=[i], tallies=[Tally("ost", "ru", "", i % 2 == 0)], update=bump
            )
            for i, k in enumerate(keys)
        )
    )
    assert await store.stats(NOW.date()) == [CounterRow(NOW.date(), "ost", "ru", "", 200, 100)]
    states = await asyncio.gather(*(store.load_session(k) for k in keys))
    assert states == [counted(1)] * 200
    assert await store.message_ids(keys[3], NOW) == [3]


# -- hand-over cases ------------------------------------------------------------------


async def test_case_link_is_sealed_and_destroyed_on_close(store: Store, ring: Keyring) -> None:
    cipher = CaseCipher(b"c" * 32)
    key = ring.session_key(HER_ID)
    sealed = cipher.seal(HER_ID)
    number = await store.open_case(key, sealed, NOW)
    assert number.startswith("K-") and number[2:].isdigit() and len(number) == 6
    assert await store.case_for(key) == number
    assert await store.open_case(key, sealed, NOW + timedelta(hours=1)) == number
    case = await store.get_case(number)
    assert case is not None and case.link == sealed and cipher.open(case.link) == HER_ID
    assert case.key == key and case.opened == NOW and not case.blocked
    assert await store.set_blocked(number, True)
    assert (await store.get_case(number)).blocked  # type: ignore[union-attr]
    assert await store.note_staff_message(number, 700, NOW)
    assert await store.note_staff_message(number, 701, NOW)
    assert await store.case_of_staff_message(700) == number
    assert await store.case_of_staff_message(999) is None
    assert await store.close_case(number)
    assert await store.get_case(number) is None and await store.case_for(key) is None
    assert await store.case_of_staff_message(700) is None
    assert not await store.close_case(number)
    assert not await store.set_blocked(number, False)
    assert not await store.note_staff_message(number, 702, NOW)  # nothing to relay to


async def test_relayed_ids_are_in_the_store_for_every_instance(
    store: Store, ring: Keyring
) -> None:
    """Quick exit deletes a case's relays whichever instance sent them, after a restart too."""
    number = await store.open_case(ring.session_key(HER_ID), b"sealed", NOW)
    other = await store.open_case(ring.session_key(HER_ID + 1), b"sealed", NOW)
    for staff_message in (703, 701, 702):
        assert await store.note_staff_message(number, staff_message, NOW)
    assert await store.note_staff_message(other, 800, NOW)
    assert await store.staff_messages(number) == [701, 702, 703]
    assert await store.staff_messages(other) == [800]
    await store.close_case(number)
    assert await store.staff_messages(number) == []


async def test_a_consultants_answer_is_remembered_only_while_her_case_is_open(
    store: Store, ring: Keyring
) -> None:
    key = ring.session_key(HER_ID)
    number = await store.open_case(key, b"sealed", NOW)
    assert await store.remember_case_messages(number, [40, 41], NOW)
    assert await store.message_ids(key, NOW) == [40, 41]
    await store.forget(key)  # quick exit on another instance, while the answer was in flight
    assert not await store.remember_case_messages(number, [42], NOW)
    assert await store.message_ids(key, NOW) == []  # nothing written under her key
    assert not await store.remember_case_messages("K-0000", [], NOW)


async def test_forget_may_keep_the_message_ids_for_quick_exit(store: Store, ring: Keyring) -> None:
    """/forget forgets her, but quick exit must still be able to blank the chat afterwards."""
    key = ring.session_key(HER_ID)
    await save(store, key, counted(1), NOW)
    await store.remember_messages(key, [7, 8], NOW)
    number = await store.open_case(key, b"sealed", NOW)
    await store.forget(key, keep_messages=True)
    assert await store.load_session(key) is None and await store.case_for(key) is None
    assert await store.get_case(number) is None
    assert await store.message_ids(key, NOW) == [7, 8]
    assert await store.message_ids(key, NOW + timedelta(hours=48)) == []  # they still expire
    await store.forget(key)
    assert await store.message_ids(key, NOW) == []


async def test_cases_expire_after_seven_days_and_numbers_are_unique(
    store: Store, ring: Keyring
) -> None:
    numbers = [await store.open_case(ring.session_key(i), b"x", NOW) for i in range(60)]
    assert len(set(numbers)) == 60
    await store.note_staff_message(numbers[0], 1, NOW)
    assert await store.purge_expired(NOW + timedelta(days=7, seconds=-1)) == PurgeCounts()
    assert await store.purge_expired(NOW + timedelta(days=7)) == PurgeCounts(cases=60)
    assert await store.get_case(numbers[0]) is None
    assert await store.case_of_staff_message(1) is None


# -- faults and migrations ----------------------------------------------------------------


async def test_migrations_run_once_at_start(backend: Backend) -> None:
    first, second = make_store(backend.location), make_store(backend.location)
    try:
        if backend.kind == "postgres":
            await asyncio.gather(first.open(), second.open())  # two instances starting together
        else:  # one SQLite file has one user at a time
            await first.open()
        assert await first.schema_version() == len(sqlite_backend.MIGRATIONS)
    finally:
        await first.close()
        await second.close()
    again = await open_store(backend.location)
    try:
        assert await again.schema_version() == len(sqlite_backend.MIGRATIONS)
    finally:
        await again.close()
    await backend.raw("INSERT INTO schema_migrations (version) VALUES (99)")
    with pytest.raises(StoreError, match="schema version 99, newer than this program"):
        await open_store(backend.location)


def test_both_backends_have_the_same_migrations() -> None:
    assert len(sqlite_backend.MIGRATIONS) == len(pg_backend.MIGRATIONS)
    for lite, pg in zip(sqlite_backend.MIGRATIONS, pg_backend.MIGRATIONS, strict=True):
        assert len(lite) == len(pg)


async def test_database_faults_become_one_store_error(backend: Backend, ring: Keyring) -> None:
    key = ring.session_key(HER_ID)
    opened = await open_store(backend.location)
    try:
        await save(opened, key, counted(1), NOW)
        await backend.raw("DROP TABLE sessions", opened)
        with pytest.raises(StoreError, match="could not load a session") as caught:
            await opened.load_session(key)
        assert key.hex not in str(caught.value) and str(HER_ID) not in str(caught.value)
        with pytest.raises(StoreError, match="could not update a session"):
            await opened.update_session(key, bump, NOW)
        assert await opened.message_ids(key, NOW) == []  # the rest still works
    finally:
        await opened.close()
    with pytest.raises(StoreError, match="not open"):
        await opened.load_session(key)


async def test_a_session_that_cannot_be_read_is_a_new_one(
    backend: Backend, ring: Keyring, caplog: pytest.LogCaptureFixture
) -> None:
    """A damaged row, or one a newer Podruga wrote before a rollback, never locks her out."""
    key = ring.session_key(HER_ID)
    opened = await open_store(backend.location)
    try:
        for stored in ('{"lang": "xx-secret"}', '{"schema": 2, "lang": "uk"}', "[1, 2"):
            await save(opened, key, counted(1), NOW)
            if backend.kind == "postgres" and stored.startswith("["):
                continue  # PostgreSQL's jsonb refuses what is not JSON at all
            cast = "::jsonb" if backend.kind == "postgres" else ""
            await backend.raw(f"UPDATE sessions SET state = '{stored}'{cast}", opened)
            assert await opened.load_session(key) is None
            seen: list[State | None] = []

            def fresh(state: State | None, seen: list[State | None] = seen) -> State:
                seen.append(state)
                return counted(2)

            written = await opened.update_session(key, fresh, NOW)
            assert seen == [None] and written == counted(2)
            assert await opened.load_session(key) == counted(2)
        assert "session_unreadable" in caplog.text and "xx-secret" not in caplog.text
    finally:
        await opened.close()


async def test_a_session_saved_before_the_view_was_typed_still_loads(
    backend: Backend, ring: Keyring
) -> None:
    """Sessions saved with the adapter's old untyped ``extra`` dict keep their screen."""
    key = ring.session_key(HER_ID)
    opened = await open_store(backend.location)
    try:
        await save(opened, key, counted(1), NOW)
        old = ('{"schema": 1, "flow": "ost", "step": "start", "lang": "ru", "country": "KZ", '
               '"pregnant": true, "status": "active", "waiting": "", "find_needs": [], '
               '"find_city": "", "find_page": 0, "case": "", '
               '"extra": {"screen": 812, "kbd": true, "cancel": "Menu"}}')
        cast = "::jsonb" if backend.kind == "postgres" else ""
        await backend.raw(f"UPDATE sessions SET state = '{old}'{cast}", opened)
        assert await opened.load_session(key) == State(
            flow="ost", step="start", lang="ru", country="KZ", pregnant=True,
            view=View(screen=812, keyboard=True))
        saved_again = await opened.update_session(key, lambda s: s, NOW)
        assert saved_again is not None and "extra" not in saved_again.to_dict()
        assert await opened.load_session(key) == saved_again
    finally:
        await opened.close()


async def test_a_corrupt_sqlite_file_is_a_clear_error_at_open(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.sqlite3"
    garbage.write_bytes(b"this is not a database at all " * 200)
    with pytest.raises(StoreError, match=r"garbage.sqlite3 cannot be used.*restore a backup"):
        await open_store(garbage)

    damaged = tmp_path / "damaged.sqlite3"
    store = await open_store(damaged)
    ring = Keyring(SECRET)
    for i in range(300):
        await save(store, ring.session_key(i), counted(i), NOW)
    await store.close()
    data = bytearray(damaged.read_bytes())
    data[4096 * 2 : 4096 * 4] = b"\xff" * 8192  # wreck two pages, keep the header
    damaged.write_bytes(bytes(data))
    with pytest.raises(StoreError, match="damaged|cannot be used"):
        await open_store(damaged)


async def test_an_unwritable_sqlite_location_is_a_clear_error_at_open(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    with pytest.raises(StoreError, match="cannot be used.*folder is writable"):
        await open_store(blocker / "podruga.sqlite3")


async def test_an_unreachable_postgres_is_a_clear_error_at_open() -> None:
    url = "postgresql://postgres:hunter2@127.0.0.1:1/test"
    with pytest.raises(StoreError, match="PostgreSQL database in PODRUGA_DB") as caught:
        await open_store(url)
    assert "hunter2" not in str(caught.value)


async def test_sqlite_file_is_private_and_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "podruga.sqlite3"
    store = await open_store(path)
    try:
        await save(store, Keyring(SECRET).session_key(1), State(), NOW)
        assert path.stat().st_mode & 0o777 == 0o600
        assert path.parent.stat().st_mode & 0o777 == 0o700
        # Exclusive locking: no memory-mapped -shm file that could SIGBUS the process.
        assert not Path(f"{path}-shm").exists()
    finally:
        await store.close()
    with contextlib.closing(sqlite3.connect(path)) as db:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_the_backend_follows_podruga_db(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("PODRUGA_DB", raising=False)
    assert default_location().endswith(os.path.join("podruga", "podruga.sqlite3"))
    monkeypatch.setenv("PODRUGA_DB", str(tmp_path / "x.sqlite3"))
    assert isinstance(make_store(), sqlite_backend.SqliteStore)
    monkeypatch.setenv("PODRUGA_DB", "postgresql://u@h/db")
    assert isinstance(make_store(), pg_backend.PostgresStore)
    assert "u@h" not in repr(make_store())


async def test_memory_store_works_for_the_console(ring: Keyring) -> None:
    store = await open_store(":memory:")
    try:
        key = ring.session_key(1)
        await asyncio.gather(*(store.update_session(key, bump, NOW) for _ in range(20)))
        assert await store.load_session(key) == counted(20)
        await store.forget(key)
        assert await store.load_session(key) is None
    finally:
        await store.close()


# -- a crash in the middle of an update ------------------------------------------------------

_CRASH = textwrap.dedent(
    """
    import asyncio, os, signal, sys
    from dataclasses import replace
    from datetime import UTC, datetime
    from bot.engine.state import State
    from bot.store import Keyring, open_store

    NOW = datetime(2025, 3, 8, tzinfo=UTC)

    def die(*_):
        os.kill(os.getpid(), signal.SIGKILL)

    async def main(location, where):
        store = await open_store(location)
        ring = Keyring(b"s" * 32)
        await store.update_session(ring.session_key(2), lambda s: State(find_page=7), NOW)
        await store.update_session(ring.session_key(1), lambda s: State(find_page=1), NOW)
        if where == "commit":  # after the row is written, as COMMIT starts
            await store._writer.set_trace_callback(lambda sql: sql == "COMMIT" and die())
            await store.update_session(ring.session_key(1), lambda s: State(find_page=2), NOW)
        else:  # while her row is locked
            await store.update_session(ring.session_key(1), die, NOW)

    asyncio.run(main(sys.argv[1], sys.argv[2]))
    """
)


@pytest.mark.parametrize("where", ["update", "commit"])
async def test_a_kill_mid_update_leaves_no_half_written_state(backend: Backend, where: str) -> None:
    if where == "commit" and backend.kind != "sqlite":
        pytest.skip("the COMMIT trace hook is SQLite's; PostgreSQL is killed mid-update")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _CRASH, backend.location, where, cwd=ROOT
    )
    assert await proc.wait() == -9
    store = await open_store(backend.location)
    try:
        ring = Keyring(SECRET)
        assert await store.load_session(ring.session_key(1)) == State(find_page=1)
        assert await store.load_session(ring.session_key(2)) == State(find_page=7)
        # Her row is not left locked: a new update goes through at once.
        bumped = await store.update_session(ring.session_key(1), lambda s: counted(5), NOW)
        assert bumped == counted(5)
    finally:
        await store.close()


# -- privacy audit --------------------------------------------------------------------------


def _encodings(value: int) -> dict[str, bytes]:
    """Every way a Telegram id could sit in a file or a text dump."""
    forms: dict[str, bytes] = {
        "decimal": str(value).encode(),
        "decimal utf-16-le": str(value).encode("utf-16-le"),
        "decimal utf-16-be": str(value).encode("utf-16-be"),
        "json string": f'"{value}"'.encode(),
        "base64 decimal": base64.b64encode(str(value).encode()).rstrip(b"="),
        "decimal as hex (a bytea dump)": str(value).encode().hex().encode(),
    }
    for size in (4, 8):
        for order in ("little", "big"):
            raw = value.to_bytes(size, order)  # type: ignore[arg-type]
            forms[f"{size}-byte {order}-endian"] = raw
            forms[f"{size}-byte {order}-endian as hex"] = raw.hex().encode()
            forms[f"{size}-byte {order}-endian as base64"] = base64.b64encode(raw).rstrip(b"=")
    forms["hex"] = f"{value:x}".encode()
    return forms


async def test_privacy_audit_no_user_id_in_the_database_or_logs(
    backend: Backend, ring: Keyring, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    cipher = CaseCipher(b"c" * 32)
    her = ring.session_key(HER_ID)
    store = await open_store(backend.location)
    try:
        await store.update_session(her, lambda s: State(lang="uk", country="UA"), NOW)
        await store.update_session(
            her, lambda s: replace(s or State(), pregnant=True).at("ost.start"), NOW
        )
        await store.remember_messages(her, [1, 2, 3, 4], NOW)
        number = await store.open_case(her, cipher.seal(HER_ID), NOW)
        await store.note_staff_message(number, 42, NOW)
        await store.record_turn(her, NOW, tallies=[Tally("ost", "uk", "UA", True)])
        for other in range(HER_ID - 5, HER_ID):
            await save(store, ring.session_key(other), State(lang="ru"), NOW)
        await store.purge_expired(NOW)
        dump = await backend.dump()
    finally:
        await store.close()
    if backend.kind == "sqlite":
        dump += await backend.dump()  # after close too: the WAL is folded into the file
    assert len(dump) > 1000  # the dump really holds the database
    assert her.hex.encode() in dump  # ... including her rows
    logs = "\n".join(r.getMessage() for r in caplog.records).encode()
    assert b"store opened" in logs
    for name, form in _encodings(HER_ID).items():
        assert form not in dump, f"her id is in the database as {name}"
        assert form not in logs, f"her id is in the logs as {name}"
    assert her.hex.encode() not in logs and her.hex[:16].encode() not in logs


async def test_forgotten_rows_leave_no_trace_in_the_sqlite_file(tmp_path: Path) -> None:
    path = tmp_path / "podruga.sqlite3"
    ring, cipher = Keyring(SECRET), CaseCipher(b"c" * 32)
    her = ring.session_key(HER_ID)
    store = await open_store(path)
    sealed = cipher.seal(HER_ID)
    try:
        for i in range(20):  # neighbours on the same pages
            await save(store, ring.session_key(i), counted(i), NOW)
        await save(store, her, State(lang="uk", country="MD", find_city="chisinau"), NOW)
        await store.remember_messages(her, [5, 6], NOW)
        other_case = await store.open_case(ring.session_key(1), cipher.seal(1), NOW)
        await store.open_case(her, sealed, NOW)
        raw = b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())
        assert her.hex.encode() in raw and sealed in raw and b"chisinau" in raw
        await store.forget(her)
        await store.close_case(other_case)
        raw = b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())
        assert her.hex.encode() not in raw
        assert sealed not in raw
        assert b"chisinau" not in raw
    finally:
        await store.close()


async def test_a_sqlite_file_removed_under_the_running_store_is_noticed(tmp_path: Path) -> None:
    """SQLite would go on writing into the unlinked file, lost at restart: say so instead."""
    folder = tmp_path / "data"
    store = await open_store(folder / "podruga.sqlite3")
    try:
        assert await store.schema_version() == len(sqlite_backend.MIGRATIONS)
        for path in folder.iterdir():
            path.unlink()
        folder.rmdir()
        with pytest.raises(StoreError, match="removed or replaced while the bot ran"):
            await store.schema_version()
    finally:
        await store.close()
