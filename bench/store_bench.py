"""Load benchmark of the store: many women updating their sessions at the same moment.

Each simulated woman is one task that runs ``--updates`` ``update_session``
calls one after another (as a conversation would); all women start at once.
Prints updates per second, p50/p95/max latency of one update, and how many
updates failed. Runs against SQLite in a temporary file, and against
PostgreSQL on 127.0.0.1:5432 in a throw-away schema when the server answers.

    python bench/store_bench.py [--women 1000] [--updates 5] [--backend both]
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import asyncpg

from bot.engine.state import State
from bot.store import Keyring, Store, open_store

PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
NOW = datetime(2025, 3, 8, 12, 0, tzinfo=UTC)


def bump(state: State | None) -> State:
    base = state or State(lang="uk", country="UA")
    return replace(base, find_page=base.find_page + 1)  # a counter the store must not lose


async def run(store: Store, women: int, updates: int) -> dict[str, float]:
    ring = Keyring.throwaway()
    keys = [ring.session_key(i) for i in range(women)]
    latencies: list[float] = []
    errors = 0

    async def woman(index: int) -> None:
        nonlocal errors
        for _ in range(updates):
            started = time.perf_counter()
            try:
                await store.update_session(keys[index], bump, NOW)
            except Exception as exc:  # counted and reported, never hidden
                errors += 1
                print(f"  error: {type(exc).__name__}: {exc}", file=sys.stderr)
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(woman(i) for i in range(women)))
    elapsed = time.perf_counter() - started
    states = await asyncio.gather(*(store.load_session(k) for k in keys))
    lost = sum(1 for s in states if s is None or s.find_page != updates)
    latencies.sort()
    return {
        "updates": len(latencies),
        "seconds": elapsed,
        "per_second": len(latencies) / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "p95_ms": latencies[int(len(latencies) * 0.95) - 1] * 1000,
        "max_ms": latencies[-1] * 1000,
        "errors": errors,
        "lost": lost,
    }


def report(name: str, result: dict[str, float]) -> None:
    print(
        f"{name:>8}: {result['updates']:.0f} updates in {result['seconds']:.2f} s = "
        f"{result['per_second']:.0f}/s; latency p50 {result['p50_ms']:.1f} ms, "
        f"p95 {result['p95_ms']:.1f} ms, max {result['max_ms']:.1f} ms; "
        f"errors {result['errors']:.0f}, women with a lost update {result['lost']:.0f}"
    )


async def bench_sqlite(women: int, updates: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        store = await open_store(Path(folder) / "bench.sqlite3")
        try:
            report("sqlite", await run(store, women, updates))
        finally:
            await store.close()


async def bench_postgres(women: int, updates: int, pool: int) -> None:
    try:
        admin = await asyncpg.connect(PG_URL, timeout=3)
    except (OSError, TimeoutError) as exc:
        print(f"postgres: skipped, no server answers on 127.0.0.1:5432 ({type(exc).__name__})")
        return
    schema = f"bench_{secrets.token_hex(4)}"
    await admin.execute(f"CREATE SCHEMA {schema}")
    try:
        from bot.store.postgres import PostgresStore

        store = PostgresStore(f"{PG_URL}?search_path={schema}", max_size=pool)
        await store.open()
        try:
            report("postgres", await run(store, women, updates))
        finally:
            await store.close()
    finally:
        await admin.execute(f"DROP SCHEMA {schema} CASCADE")
        await admin.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--women", type=int, default=1000, help="women talking at once")
    parser.add_argument("--updates", type=int, default=5, help="updates each woman makes")
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--pool", type=int, default=10, help="PostgreSQL connections")
    args = parser.parse_args()
    print(f"{args.women} women x {args.updates} updates each, all at once")
    if args.backend in ("sqlite", "both"):
        asyncio.run(bench_sqlite(args.women, args.updates))
    if args.backend in ("postgres", "both"):
        asyncio.run(bench_postgres(args.women, args.updates, args.pool))


if __name__ == "__main__":
    main()
