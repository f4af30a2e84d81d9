"""``podruga bench NAME [options]``: run one of the benchmarks in the project's bench/ folder.

The benchmarks are scripts beside the tests, not part of the package: this only finds
the script and runs it with the same Python, so ``podruga bench telegram --rounds 3``
and ``python bench/telegram_bench.py --rounds 3`` are the same run.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.content.world import DEFAULT_ROOT
from bot.errors import OptionError

BENCHMARKS = {
    "match": "matcher accuracy, crisis recall and latency against a fuzzy baseline",
    "store": "1,000 women at once against SQLite and PostgreSQL",
    "telegram": "podruga run against a bare PTB bot through the fake Bot API server",
}


def script_of(name: str, root: Path = DEFAULT_ROOT) -> Path:
    """The script of a benchmark; OptionError naming the choices when there is none."""
    if name not in BENCHMARKS:
        raise OptionError(f"unknown benchmark {name!r}; choose one of {', '.join(BENCHMARKS)}")
    path = root / "bench" / f"{name}_bench.py"
    if not path.is_file():
        raise OptionError(f"{path} is missing: benchmarks run from a checkout of the project")
    return path


def command(argv: Sequence[str]) -> int:
    """Run the benchmarks in bench/ (not part of the tests)."""
    return bench_main(list(argv))


def bench_main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        print("usage: podruga bench NAME [options]  (NAME --help for its options)\n")
        for name, what in BENCHMARKS.items():
            print(f"  {name:<10} {what}")
        return 0 if argv else 2
    script = script_of(argv[0])
    return subprocess.call([sys.executable, str(script), *argv[1:]], cwd=script.parent.parent)
