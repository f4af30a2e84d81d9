"""`podruga run` as a deployer runs it: a process of its own, stopped by systemd's SIGTERM.

The fake Bot API answers every call 0.3 s late, so when the signal comes, turns are
still waiting on Telegram. They must all finish (her answer sent, her session saved)
before the process exits, and it must exit cleanly.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fakeapi import FakeBotApi

from bot.store import Keyring, open_store

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
WOMEN = 12


async def wait_until(condition, seconds: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def test_sigterm_lets_turns_in_flight_finish(tmp_path: Path) -> None:
    secret = secrets.token_urlsafe(48)
    db = tmp_path / "podruga.sqlite3"
    async with FakeBotApi(latency=0.3) as api:
        env = {**os.environ, "TELEGRAM_BOT_TOKEN": api.token, "TELEGRAM_API_URL": api.base_url,
               "PODRUGA_SECRET": secret, "PODRUGA_DB": str(db), "PYTHONPATH": str(ROOT)}
        log = tmp_path / "bot.log"
        with open(log, "wb") as out:
            bot = subprocess.Popen([sys.executable, "-m", "bot.cli", "run", "--dir", str(ROOT)],
                                   env=env, cwd=ROOT, stdout=out, stderr=out)
        try:
            await wait_until(lambda: bool(api.called("getUpdates")) or bot.poll() is not None)
            assert bot.poll() is None, log.read_text()
            women = [api.woman(7000 + n, language_code=("uk", "ru", "en")[n % 3])
                     for n in range(WOMEN)]
            for her in women:
                her.say("/start")
            # Stop as soon as the first answer is on its way: the rest are in flight.
            await wait_until(lambda: bool(api.called("sendMessage")))
            bot.send_signal(signal.SIGTERM)
            code = await asyncio.get_running_loop().run_in_executor(None, bot.wait, 60)
        finally:
            api.release()
            if bot.poll() is None:
                bot.kill()
    text = log.read_text()
    assert code == 0, text
    answered = {call.params["chat_id"] for call in api.called("sendMessage")}
    assert answered == {her.id for her in women}
    assert "bot_stopped" in text and "update_failed" not in text
    assert api.token not in text and "7000" not in text  # no token, no chat id in the log
    store = await open_store(str(db))
    try:
        keys = Keyring(secret.encode())
        for her in women:
            assert await store.load_session(keys.session_key(her.id)) is not None
            assert await store.message_ids(keys.session_key(her.id), datetime.now(UTC))
    finally:
        await store.close()
