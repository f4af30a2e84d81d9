"""Matcher benchmark: accuracy, crisis recall, open set and speed on question sets.

Run from the project folder:

    python bench/match_bench.py [--dir PROJECT] [--devset FILE|DIR ...] [--misses N]

Loads the real world (flows with their ``ask`` phrases), runs every question of
question set through ``world.index.match`` and through a plain baseline measured in the
same run (rapidfuzz WRatio of the raw lowercased text against every ``ask`` phrase; the
best phrase's step is the answer, the best three steps its top 3, a crisis step counts
as a crisis answer), and prints per language: top-1 (the answer's topics contain the
expected topic) and top-3 (answer or suggestions) over the questions with a topic of
ours; crisis recall (urgent questions answered as a crisis) and how many of them reached
a step of their topic; the false-crisis rate on the rest; off-topic rejection (questions
labelled ``topic: none`` answered with no step and no crisis); the small-talk rate
(``topic: smalltalk`` answered by a small-talk step); p50/p99 latency (each question's
fastest of three runs); and the time to
build the index from the loaded content, cold (training the models) and warm (models
from the cache).
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

import yaml
from rapidfuzz import fuzz, process

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.content.world import freeze_world, load_world  # noqa: E402
from bot.matching import Entry, Index, Match  # noqa: E402

REPEATS = 3  # each question is timed this many times; its fastest run counts


@dataclass(slots=True)
class Tally:
    """Counts for one language (or all)."""

    n: int = 0
    top1: int = 0
    top3: int = 0
    crisis_n: int = 0
    crisis_hit: int = 0
    crisis_step: int = 0
    calm_n: int = 0
    calm_false: int = 0
    other_n: int = 0
    other_declined: int = 0
    small_n: int = 0
    small_hit: int = 0
    times: list[float] = field(default_factory=list)

    def add(
        self,
        question: dict[str, Any],
        match: Match,
        topics: Callable[[str], tuple[str, ...]],
        seconds: float,
    ) -> None:
        self.n += 1
        self.times.append(seconds)
        want = question["topic"]
        hit = match.step is not None and want in topics(match.step)
        if want == "none":
            self.other_n += 1
            self.other_declined += match.step is None and not match.crisis
        elif want == "smalltalk":
            self.small_n += 1
            self.small_hit += hit
        else:
            self.top1 += hit
            shown = ([match.step] if match.step else []) + list(match.suggestions[:3])
            self.top3 += any(want in topics(s) for s in shown)
        if question["crisis"]:
            self.crisis_n += 1
            self.crisis_hit += bool(match.crisis)
            self.crisis_step += bool(match.crisis) and hit
        else:
            self.calm_n += 1
            self.calm_false += bool(match.crisis)

    @property
    def ours(self) -> int:
        """Questions with a topic of ours (not off-topic, not small talk)."""
        return self.n - self.other_n - self.small_n

    def row(self) -> dict[str, float]:
        times = sorted(self.times)
        ours = self.ours
        nan = float("nan")
        return {
            "n": self.n,
            "top1": self.top1 / ours if ours else nan,
            "top3": self.top3 / ours if ours else nan,
            "recall": self.crisis_hit / self.crisis_n if self.crisis_n else nan,
            "to_step": self.crisis_step / self.crisis_n if self.crisis_n else nan,
            "declined": self.other_declined / self.other_n if self.other_n else nan,
            "small": self.small_hit / self.small_n if self.small_n else nan,
            "false": self.calm_false / self.calm_n if self.calm_n else 0.0,
            "p50": statistics.median(times) * 1e3 if times else 0.0,
            "p99": times[min(len(times) - 1, int(len(times) * 0.99))] * 1e3 if times else 0.0,
        }


class Baseline:
    """rapidfuzz WRatio of the raw lowercased text against every ask phrase."""

    def __init__(self, entries: Sequence[Entry]) -> None:
        self.phrases: list[str] = []
        self.owner: list[Entry] = []
        for entry in entries:
            for phrases in entry.phrases.values():
                for phrase in phrases:
                    self.phrases.append(phrase.lower())
                    self.owner.append(entry)

    def match(self, text: str) -> Match:
        hits = process.extract(text.lower(), self.phrases, scorer=fuzz.WRatio, limit=30)
        steps: list[Entry] = []
        for _, _, number in hits:
            if self.owner[number] not in steps:
                steps.append(self.owner[number])
        if not steps:
            return Match(None, 0.0, False, ())
        best = steps[0]
        return Match(best.step, hits[0][1] / 100, best.crisis, tuple(e.step for e in steps[1:3]))


def entries_of(world: Any) -> list[Entry]:
    """The entries the world's index was built from (same rule as bot.content.world)."""
    return list(world.index.entries)


def run(
    name: str,
    matcher: Callable[[str], Match],
    questions: list[dict[str, Any]],
    topics: Callable[[str], tuple[str, ...]],
    repeats: int = REPEATS,
    kept: dict[str, Any] | None = None,
) -> dict[str, Tally]:
    """``kept``: what the matcher keeps between messages (the reader's chunks of content
    words). A repeat must not find what its own first run kept: each run of a question
    starts from what the questions before it left, as a new message would."""
    tallies: dict[str, Tally] = {}
    for question in questions:
        # the fastest of REPEATS runs: the machine is shared, and a neighbour's burst is
        # not the matcher's time
        seconds = math.inf
        before = len(kept) if kept is not None else 0
        for n in range(repeats):
            if kept is not None and n and len(kept) >= before:
                for key in list(islice(reversed(kept), len(kept) - before)):
                    del kept[key]
            start = time.perf_counter()
            match = matcher(question["q"])
            seconds = min(seconds, time.perf_counter() - start)
        # by language, and by style ("style:long", "style:slang"...): the weak kinds
        for key in (question["lang"], "all", f"style:{question.get('style', 'plain')}"):
            tallies.setdefault(key, Tally()).add(question, match, topics, seconds)
    return tallies


def misses(
    matcher: Callable[[str], Match],
    questions: list[dict[str, Any]],
    topics: Callable[[str], tuple[str, ...]],
    limit: int,
) -> None:
    shown = 0
    for question in questions:
        match = matcher(question["q"])
        wrong_crisis = bool(match.crisis) != bool(question["crisis"])
        want = question["topic"]
        top1 = (match.step is None) if want == "none" else (
            match.step is not None and want in topics(match.step))
        if (not top1 or wrong_crisis) and shown < limit:
            shown += 1
            flag = (
                " CRISIS-MISS"
                if question["crisis"] and not match.crisis
                else (" FALSE-CRISIS" if wrong_crisis else "")
            )
            print(
                f"  [{question['lang']}/{question['style']}] {question['q']!r} want "
                f"{question['topic']} got {match.step} {match.suggestions} "
                f"{match.score:.2f}{flag}"
            )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", default=str(ROOT))
    parser.add_argument(
        "--devset",
        nargs="+",
        default=[str(ROOT / "tests" / "data" / "devset.yaml")],
        help="question files or folders of them (the tuning set: tests/data/tuneset)",
    )
    parser.add_argument("--misses", type=int, default=0, help="print up to N wrong answers")
    parser.add_argument("--per-set", action="store_true",
                        help="only a line of figures for each question set and for all: "
                        "no baseline, no latency (quick, for tuning)")
    parser.add_argument("--no-build", action="store_true",
                        help="skip timing the cold and warm index builds (they train 3 times)")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    world, errors, _ = load_world(Path(args.dir))
    load_seconds = time.perf_counter() - started
    freeze_world()  # as the running bot does (bot/adapters/telegram/run.py)
    if world is None or world.index is None:
        for error in errors:
            print(error, file=sys.stderr)
        print("the world does not load; no figures", file=sys.stderr)
        return 1
    paths = [Path(p) for p in args.devset]
    by_set = {
        str(p): [q for f in (sorted(p.glob("*.yaml")) if p.is_dir() else [p])
                 for q in yaml.safe_load(f.read_text(encoding="utf-8"))["questions"]]
        for p in paths
    }
    questions = [q for asked in by_set.values() for q in asked]
    entries = entries_of(world)
    from bot.matching import model as matcher_model

    cold, warm = [], []
    saved_cache = os.environ.get("PODRUGA_CACHE")
    for _ in range(0 if args.no_build else 3):
        # a fresh cache folder: the first build trains (and writes it), the next one loads
        with tempfile.TemporaryDirectory() as folder:
            os.environ["PODRUGA_CACHE"] = folder
            for times in (cold, warm):
                matcher_model._memo.clear()
                started = time.perf_counter()
                Index.build(entries)
                times.append(time.perf_counter() - started)
    if saved_cache is None:
        os.environ.pop("PODRUGA_CACHE", None)  # --no-build never set it
    else:
        os.environ["PODRUGA_CACHE"] = saved_cache
    steps = world.flows.steps

    def topics(step_id: str) -> tuple[str, ...]:
        return tuple(steps[step_id].topics) if step_id in steps else ()

    answered = {t for e in entries for t in e.topics} | {"none"}
    orphans = [q for q in questions if q["topic"] not in answered]
    phrases = sum(len(p) for e in entries for p in e.phrases.values())
    print(
        f"content: {len(entries)} matchable steps, {phrases} ask phrases; "
        f"question sets: {len(questions)} questions"
    )
    if orphans:
        missing = sorted({q["topic"] for q in orphans})
        print(
            f"{len(orphans)} questions ask about topics no matchable step answers yet "
            f"(they cannot score): {', '.join(missing)}"
        )
    if cold:
        print(
            f"world load (incl. first index build): {load_seconds * 1e3:.0f} ms; index build: "
            f"cold (training) median {statistics.median(cold) * 1e3:.0f} ms, warm (cached "
            f"models) median {statistics.median(warm) * 1e3:.0f} ms, over 3"
        )
    if args.per_set:  # a quick table for tuning: no baseline, no latency
        print(f"{'set':24} {'n':>4} | {'top1':>5} {'top3':>5} {'crisis':>6} {'->step':>6} "
              f"{'false':>5} {'offtop':>6} {'small':>5}")
        for name, asked in (*by_set.items(), ("all", questions)):
            a = run("matcher", world.index.match, asked, topics, repeats=1)["all"].row()
            print(f"{Path(name).name:24} {a['n']:>4} | {a['top1']:5.3f} {a['top3']:5.3f} "
                  f"{a['recall']:6.3f} {a['to_step']:6.3f} {a['false']:5.3f} "
                  f"{a['declined']:6.3f} {a['small']:5.3f}")
        if args.misses:
            print(f"\nfirst {args.misses} misses of the matcher:")
            misses(world.index.match, questions, topics, args.misses)
        return 0
    baseline = Baseline(entries)
    index = world.index
    for matcher in (index.match, baseline.match):  # warm both before timing
        for question in questions[:20]:
            matcher(question["q"])
    ours = run("matcher", index.match, questions, topics, kept=index._reader._known_chunks)
    base = run("baseline", baseline.match, questions, topics, repeats=1)  # ~100x slower
    header = (
        f"{'lang':6} {'n':>4} | {'top1':>5} {'top3':>5} {'crisis':>6} {'->step':>6} "
        f"{'false':>5} {'offtop':>6} {'small':>5} {'p50ms':>6} {'p99ms':>6} | baseline: "
        f"{'top1':>5} {'top3':>5} {'crisis':>6} {'false':>5} {'p99ms':>6} | top1 x  top3 x"
    )
    print(header)
    print("-" * len(header))
    for lang in ("uk", "ru", "en", "mixed", "all"):
        if lang not in ours:
            continue
        a, b = ours[lang].row(), base[lang].row()

        def ratio(x: float, y: float) -> str:
            return f"{x / y:5.2f}" if y else "  inf"

        print(
            f"{lang:6} {a['n']:>4} | {a['top1']:5.3f} {a['top3']:5.3f} {a['recall']:6.3f} "
            f"{a['to_step']:6.3f} {a['false']:5.3f} {a['declined']:6.3f} {a['small']:5.3f} "
            f"{a['p50']:6.2f} {a['p99']:6.2f} | {'':9} {b['top1']:5.3f} {b['top3']:5.3f} "
            f"{b['recall']:6.3f} {b['false']:5.3f} {b['p99']:6.2f} | "
            f"{ratio(a['top1'], b['top1'])}  {ratio(a['top3'], b['top3'])}"
        )
    by_style = []
    for key in sorted(k for k in ours if k.startswith("style:")):
        if ours[key].ours:
            a = ours[key].row()
            by_style.append(f"{key.removeprefix('style:')} {a['top1']:.3f}/{a['top3']:.3f} "
                            f"(n {ours[key].ours})")
    print("by style (the matcher): " + "; ".join(by_style) + " (top1/top3)")
    print(
        "top1/top3 over questions with a topic of ours; crisis = recall on urgent questions, "
        "->step = of them, answered by a crisis step of their topic; false = non-urgent "
        "questions answered as a crisis; offtop = off-topic questions declined; small = "
        "small talk answered as small talk"
    )
    if args.misses:
        print(f"\nfirst {args.misses} misses of the matcher:")
        misses(index.match, questions, topics, args.misses)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
