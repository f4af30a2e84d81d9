"""``podruga bench``: finds the benchmark scripts; never runs a benchmark in the tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from bot.cli.bench import BENCHMARKS, script_of
from bot.errors import OptionError


def test_every_benchmark_has_its_script() -> None:
    for name in BENCHMARKS:
        assert script_of(name).name == f"{name}_bench.py"


def test_unknown_or_missing_benchmark_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(OptionError, match="choose one of match, store, telegram"):
        script_of("speed")
    with pytest.raises(OptionError, match="run from a checkout"):
        script_of("match", root=tmp_path)


def test_bench_without_a_name_lists_them(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench"]) == 2
    out = capsys.readouterr().out
    assert all(name in out for name in BENCHMARKS)
    assert main(["bench", "speed"]) == 2
    assert "unknown benchmark 'speed'" in capsys.readouterr().err
