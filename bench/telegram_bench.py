"""Throughput and latency of ``podruga run`` against a bare PTB bot, through one fake Bot API.

Each bot runs as a process of its own, started the way a deployer starts it:
``podruga run`` (the real command, SQLite store in a temporary folder, the
shipped content, its normal INFO log going to a file) and ``bench/bare_bot.py``
(answers every message with one fixed text). Both long-poll the tests' fake
Bot API server, which runs in this process with the simulated women: many
write at once, each sends her next message when the answer to the previous one
arrived. Sends are not paced (``PODRUGA_PACING=off``); Telegram's 30 messages a
second would otherwise be all we measure.

The machine is shared and noisy, so the two bots take turns for several rounds
and each round reports its own ratio. Besides updates per second and latency,
it reports each bot's own CPU time per update (from /proc), which the
neighbours disturb less than wall time.

    python bench/telegram_bench.py --women 200 --messages 10 --rounds 3
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "telegram"))

from fakeapi import FakeBotApi  # noqa: E402

FALLBACK_QUESTIONS = ["можно ли метадон при беременности", "де знайти лікаря", "хочу сдать тест",
                      "what is OST", "меня остановила полиция"]
TICK = os.sysconf("SC_CLK_TCK")
EXPLAIN = {"bare": "bare PTB bot as shipped, httpx transport; aim: at least 0.80",
           "bare-aio": "bare bot on Podruga's aiohttp transport: the turns alone"}


def questions(limit: int = 400) -> list[str]:
    """Questions the way women type them, from the matcher's development set."""
    path = ROOT / "tests" / "data" / "devset.yaml"
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        found = [q["q"] for q in data["questions"] if not q.get("crisis")][:limit]
        return found or FALLBACK_QUESTIONS
    except (OSError, KeyError, TypeError, yaml.YAMLError):
        return FALLBACK_QUESTIONS


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process and all its threads so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


@dataclass
class Result:
    name: str
    updates: int
    wall: float
    latencies: list[float]
    cpu: float  # the bot process's CPU seconds during the run
    driver_cpu: float  # this process's (fake server and women) CPU seconds
    calls: int  # Bot API calls besides getUpdates
    polls: int  # getUpdates calls

    @property
    def rate(self) -> float:
        return self.updates / self.wall

    def line(self) -> str:
        cuts = statistics.quantiles(self.latencies, n=100)
        return (f"{self.name:<8} {self.updates:>6} updates in {self.wall:6.2f} s: "
                f"{self.rate:7.1f} updates/s, p50 {cuts[49] * 1000:6.1f} ms, "
                f"p95 {cuts[94] * 1000:6.1f} ms, bot CPU {self.cpu / self.updates * 1000:5.2f} "
                f"ms/update, fake server CPU {self.driver_cpu / self.wall * 100:3.0f}%, "
                f"{self.calls / self.updates:.2f} calls and {self.polls / self.updates:.2f} polls "
                f"per update")


def command(name: str) -> list[str]:
    if name.startswith("bare"):
        return [sys.executable, str(ROOT / "bench" / "bare_bot.py")]
    return [sys.executable, "-m", "bot.cli", "run", "--dir", str(ROOT)]


async def run_bot(name: str, women: int, messages: int, texts: Sequence[str],
                  latency: float, folder: Path) -> Result:
    """Start one bot process against a fresh fake server, drive it, stop it with SIGTERM."""
    async with FakeBotApi(latency=latency) as api:
        env = {**os.environ, "TELEGRAM_BOT_TOKEN": api.token, "TELEGRAM_API_URL": api.base_url,
               "PODRUGA_SECRET": secrets.token_urlsafe(48), "PODRUGA_PACING": "off",
               "PODRUGA_DB": str(folder / f"{name}-{time.monotonic_ns()}.sqlite3"),
               "PYTHONPATH": str(ROOT),
               "BARE_TRANSPORT": "aiohttp" if name == "bare-aio" else "httpx"}
        with open(folder / f"{name}.log", "ab") as log:
            bot = subprocess.Popen(command(name), env=env, cwd=ROOT, stdout=log, stderr=log)
        try:
            while not api.called("getUpdates"):
                if bot.poll() is not None:
                    raise SystemExit(f"{name} exited with {bot.returncode}; see {log.name}")
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.2)  # let start-up calls (setMyCommands...) finish
            before = len([c for c in api.calls if c.method != "getUpdates"])
            polls = len(api.called("getUpdates"))
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

            cpu, driver_cpu = cpu_seconds(bot.pid), time.process_time()
            started = time.perf_counter()
            await asyncio.gather(*(woman(n) for n in range(women)))
            wall = time.perf_counter() - started
            cpu, driver_cpu = cpu_seconds(bot.pid) - cpu, time.process_time() - driver_cpu
            calls = len([c for c in api.calls if c.method != "getUpdates"]) - before
            polls = len(api.called("getUpdates")) - polls
        finally:
            api.release()
            bot.send_signal(signal.SIGTERM)
            await asyncio.get_running_loop().run_in_executor(None, bot.wait, 30)
    return Result(name, women * messages, wall, latencies, cpu, driver_cpu, calls, polls)


async def bench(women: int, messages: int, rounds: int, latency: float) -> int:
    texts = questions()
    print(f"{women} women x {messages} messages, {rounds} round(s), "
          f"{latency * 1000:.0f} ms added to each Bot API call; each bot is its own process")
    ratios: dict[str, list[tuple[float, float]]] = {"bare": [], "bare-aio": []}
    with tempfile.TemporaryDirectory() as tmp:
        for n in range(1, rounds + 1):
            results = {name: await run_bot(name, women, messages, texts, latency, Path(tmp))
                       for name in ("bare", "bare-aio", "podruga")}
            print(f"round {n}")
            for result in results.values():
                print("  " + result.line())
            podruga = results["podruga"]
            for name, found in ratios.items():
                bare = results[name]
                found.append((podruga.rate / bare.rate,
                              bare.cpu / bare.updates / (podruga.cpu / podruga.updates)))
                print(f"  ratio podruga / {name}: throughput {found[-1][0]:.2f}, "
                      f"CPU per update ({name} / podruga) {found[-1][1]:.2f}")
    for name, found in ratios.items():
        print(f"median ratio podruga / {name} over {rounds} round(s): throughput "
              f"{statistics.median(r for r, _ in found):.2f}, CPU per update "
              f"{statistics.median(c for _, c in found):.2f}   ({EXPLAIN[name]})")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--women", type=int, default=200)
    parser.add_argument("--messages", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--latency-ms", type=float, default=0.0,
                        help="delay the fake server adds to each call (the way to Telegram)")
    args = parser.parse_args(argv)
    return asyncio.run(bench(args.women, args.messages, args.rounds, args.latency_ms / 1000))


if __name__ == "__main__":
    raise SystemExit(main())
