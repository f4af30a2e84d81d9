"""`podruga run`'s exit status tells a service manager whether restarting can help.

2 and 3 (a bad setting, a refused token, broken content) need a person: the
systemd unit does not restart on them. 75 (the database or the Bot API cannot
be reached) does get restarted. Each case runs `podruga run` as its own process,
all at once, against the fake Bot API, and reads one clear line on stderr.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import sys
from pathlib import Path

import pytest
from fakeapi import FakeBotApi

from bot.adapters.telegram.run import EXIT_CONFIG, EXIT_CONTENT, EXIT_UNAVAILABLE

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
CLOSED_PORT = "127.0.0.1:9"  # discard: nothing listens there


async def _run(env: dict[str, str], *args: str) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "run", *args, env=env, cwd=ROOT,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        # generous: with no trained models in the cache, each of the processes started at
        # once trains them (seconds alone, a minute on a busy two-core machine); a correct
        # run ends as soon as it has said why it stops
        _out, err = await asyncio.wait_for(proc.communicate(), 300)
    finally:
        if proc.returncode is None:
            proc.kill()
    assert proc.returncode is not None
    return proc.returncode, err.decode()


async def test_each_start_failure_has_its_exit_status(tmp_path: Path) -> None:
    broken = tmp_path / "content"
    for name in ("flows", "locales", "directory"):
        shutil.copytree(ROOT / name, broken / name)
    main = broken / "flows" / "main.yaml"
    main.write_text(main.read_text(encoding="utf-8").replace("go: crisis.start",
                                                             "go: crisis.nowhere", 1),
                    encoding="utf-8")
    async with FakeBotApi() as api:
        base = {k: v for k, v in os.environ.items() if not k.startswith(("PODRUGA_", "TELEGRAM_"))}
        base.update({"TELEGRAM_BOT_TOKEN": api.token, "TELEGRAM_API_URL": api.base_url,
                     "PODRUGA_SECRET": secrets.token_urlsafe(48),
                     "PODRUGA_DB": str(tmp_path / "podruga.sqlite3"), "PYTHONPATH": str(ROOT)})
        cases = {
            "content": ({**base}, ["--data", str(broken)]),
            "database": ({**base, "PODRUGA_DB": f"postgresql://podruga@{CLOSED_PORT}/podruga"},
                         []),
            "bot api": ({**base, "TELEGRAM_API_URL": f"http://{CLOSED_PORT}/bot"}, []),
            "token": ({**base, "TELEGRAM_BOT_TOKEN": "999999:WRONG-token-abcdefghijklmnopq"}, []),
            "setting": ({**base, "PODRUGA_PACING": "fast"}, []),
        }
        results = dict(zip(cases, await asyncio.gather(
            *(_run(env, *args) for env, args in cases.values())), strict=True))
    expected = {"content": EXIT_CONTENT, "database": EXIT_UNAVAILABLE,
                "bot api": EXIT_UNAVAILABLE, "token": EXIT_CONFIG, "setting": EXIT_CONFIG}
    assert {name: code for name, (code, _) in results.items()} == expected, results
    said = {name: err for name, (_, err) in results.items()}
    assert "flows/main.yaml:" in said["content"] and "problem(s) in the content" in said["content"]
    assert "podruga: the PostgreSQL database in PODRUGA_DB cannot be used" in said["database"]
    assert "(retry later)" in said["database"]
    assert "podruga: the Bot API cannot be reached" in said["bot api"]
    assert "podruga: Telegram refused TELEGRAM_BOT_TOKEN" in said["token"]
    assert "PODRUGA_PACING must be" in said["setting"]
    for err in said.values():
        assert "Traceback" not in err
        assert "Unclosed" not in err  # the transports are shut when the start fails
        assert api.token not in err and "WRONG-token" not in err
