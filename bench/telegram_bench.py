"""Throughput and latency of ``podruga run``'s Application against a bare PTB bot.

Both bots run in this process against the tests' fake Bot API server on
127.0.0.1, with the same concurrency and the same rate limiter (its pacing
turned off: Telegram's 30 messages a second would otherwise be all we measure).
Many simulated women write at once; each sends her next message when the
answer to the previous one arrived. Podruga runs the real engine, the shipped
world and the SQLite store in a temporary folder; the bare bot answers every
message with one fixed text.

    /work/venv/bin/python bench/telegram_bench.py --women 200 --messages 10
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "telegram"))

from fakeapi import FakeBotApi  # noqa: E402
from telegram import Update  # noqa: E402
from telegram.ext import (  # noqa: E402
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    ContextTypes,
    Defaults,
    MessageHandler,
    filters,
)

from bot.config import Settings  # noqa: E402
from bot.telegram.app import CONCURRENT_UPDATES, build_application  # noqa: E402
from bot.world import WorldHolder, load_world  # noqa: E402

FALLBACK_QUESTIONS = ["можно ли метадон при беременности", "де знайти лікаря", "хочу сдать тест",
                      "what is OST", "меня остановила полиция"]


def questions(limit: int = 400) -> list[str]:
    """Questions the way women type them, from the matcher's development set."""
    path = ROOT / "tests" / "data" / "devset.yaml"
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        found = [q["q"] for q in data["questions"] if not q.get("crisis")][:limit]
        return found or FALLBACK_QUESTIONS
    except (OSError, KeyError, TypeError, yaml.YAMLError):
        return FALLBACK_QUESTIONS


def unpaced_limiter() -> AIORateLimiter:
    return AIORateLimiter(overall_max_rate=0, group_max_rate=0, max_retries=1)


async def bare_answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if update.effective_chat is not None:
        await context.bot.send_message(update.effective_chat.id, "ok")


def bare_application(api: FakeBotApi, concurrency: int) -> Application:  # type: ignore[type-arg]
    app = (ApplicationBuilder().token(api.token).base_url(api.base_url)
           .defaults(Defaults(protect_content=True)).rate_limiter(unpaced_limiter())
           .concurrent_updates(concurrency).build())
    app.add_handler(MessageHandler(filters.ALL, bare_answer))
    return app


async def drive(api: FakeBotApi, app: Application, women: int,  # type: ignore[type-arg]
                messages: int, texts: Sequence[str]) -> tuple[float, list[float]]:
    """Run the bot, let every woman write her messages, return (wall seconds, latencies)."""
    await app.initialize()
    if app.post_init is not None:
        await app.post_init(app)
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0, timeout=1)
    await app.start()
    latencies: list[float] = []

    async def woman(n: int) -> None:
        her = api.woman(10_000_000 + n, language_code=("uk", "ru", "en")[n % 3])
        answered = api.answered[her.id]
        for i in range(messages):
            text = "/start" if i == 0 else texts[(n * messages + i) % len(texts)]
            answered.clear()
            sent = time.perf_counter()
            her.say(text)
            await answered.wait()
            latencies.append(time.perf_counter() - sent)

    started = time.perf_counter()
    try:
        await asyncio.gather(*(woman(n) for n in range(women)))
        wall = time.perf_counter() - started
    finally:
        api.release()
        await app.updater.stop()
        await app.stop()
        await app.shutdown()
        if app.post_shutdown is not None:
            await app.post_shutdown(app)
    return wall, latencies


def summary(name: str, wall: float, latencies: list[float]) -> float:
    rate = len(latencies) / wall
    cuts = statistics.quantiles(latencies, n=100)
    print(f"{name:<8} {len(latencies):>6} updates in {wall:6.2f} s: {rate:8.1f} updates/s, "
          f"p50 {cuts[49] * 1000:6.1f} ms, p95 {cuts[94] * 1000:6.1f} ms")
    return rate


async def bench(women: int, messages: int, concurrency: int, latency: float) -> int:
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("telegram").setLevel(logging.WARNING)
    world, errors, _ = load_world(ROOT)
    if world is None:
        for error in errors:
            print(error, file=sys.stderr)
        return 1
    texts = questions()
    async with FakeBotApi(latency=latency) as api:
        bare_wall, bare_lat = await drive(api, bare_application(api, concurrency), women,
                                          messages, texts)
        bare_calls = sum(1 for c in api.calls if c.method != "getUpdates")
    with tempfile.TemporaryDirectory() as folder:
        async with FakeBotApi(latency=latency) as api:
            settings = Settings(token=api.token, secret=b"b" * 32, api_url=api.base_url)
            app = build_application(settings, WorldHolder(world),
                                    store_location=str(Path(folder) / "bench.sqlite3"),
                                    rate_limiter=unpaced_limiter(),
                                    concurrent_updates=concurrency)
            logging.getLogger("podruga").setLevel(logging.WARNING)
            wall, lat = await drive(api, app, women, messages, texts)
            podruga_calls = sum(1 for c in api.calls if c.method != "getUpdates")
    print(f"{women} women x {messages} messages, {concurrency} updates in flight, "
          f"{latency * 1000:.0f} ms added to each Bot API call")
    bare = summary("bare", bare_wall, bare_lat)
    podruga = summary("podruga", wall, lat)
    print(f"ratio    podruga / bare throughput: {podruga / bare:.2f} (aim: at least 0.80)")
    updates = women * messages
    print(f"Bot API calls per update (besides getUpdates): bare {bare_calls / updates:.2f}, "
          f"podruga {podruga_calls / updates:.2f}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--women", type=int, default=200)
    parser.add_argument("--messages", type=int, default=10)
    parser.add_argument("--concurrency", type=int, default=CONCURRENT_UPDATES,
                        help="updates in flight at once, for both bots")
    parser.add_argument("--latency-ms", type=float, default=0.0,
                        help="delay the fake server adds to each call (the way to Telegram)")
    args = parser.parse_args(argv)
    result: Any = asyncio.run(bench(args.women, args.messages, args.concurrency,
                                    args.latency_ms / 1000))
    return int(result)


if __name__ == "__main__":
    raise SystemExit(main())
