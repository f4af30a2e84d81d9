"""The package type-checks: mypy on bot/ finds nothing (settings in pyproject.toml)."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT


def test_mypy_finds_no_errors_in_the_package() -> None:
    done = subprocess.run([sys.executable, "-m", "mypy", "bot"], cwd=ROOT, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
