"""`podruga run` as a deployer runs it: a process of its own, stopped by systemd's SIGTERM.

The fake Bot API answers every call 0.3 s late, so when the signal comes, turns are
still waiting on Telegram. They must all finish (her answer sent, her session saved)
before the process exits, and it must exit cleanly.
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

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
            code = await _wait(bot)
        finally:
            api.release()
            if bot.poll() is None:
                bot.kill()
    text = log.read_text()
    assert code == 0, text
    answered = {call.params["chat_id"] for call in api.called("sendMessage")}
    assert answered == {her.id for her in women}
    assert "bot_stopped" in text and "update_failed" not in text
    assert api.token not in text  # no token in the log
    # ...and no chat id (a phone number in a content warning, 8-800-7000-600, is not one)
    ids = "|".join(str(her.id) for her in women)
    assert not re.search(rf"(?<![\d-])({ids})(?![\d-])", text)
    store = await open_store(str(db))
    try:
        keys = Keyring(secret.encode())
        for her in women:
            assert await store.load_session(keys.session_key(her.id)) is not None
            assert await store.message_ids(keys.session_key(her.id), datetime.now(UTC))
    finally:
        await store.close()


# -- faults that need the real process (issue 17) -----------------------------------------

def _env(api: FakeBotApi, db: Path, secret: str, **extra: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("PODRUGA_", "TELEGRAM_"))}
    return {**base, "TELEGRAM_BOT_TOKEN": api.token, "TELEGRAM_API_URL": api.base_url,
            "PODRUGA_SECRET": secret, "PODRUGA_DB": str(db), "PYTHONPATH": str(ROOT),
            "PODRUGA_PACING": "off", **extra}


def _start(env: dict[str, str], log: Path, *args: str) -> subprocess.Popen[bytes]:
    with open(log, "ab") as out:
        return subprocess.Popen([sys.executable, "-m", "bot.cli", "run", "--dir", str(ROOT),
                                 *args], env=env, cwd=ROOT, stdout=out, stderr=out)


async def _wait(proc: subprocess.Popen[bytes], seconds: float = 60) -> int:
    code = await asyncio.get_running_loop().run_in_executor(None, proc.wait, seconds)
    return int(code)


async def test_an_unparseable_update_is_skipped_and_the_whole_log_names_nobody(
        tmp_path: Path) -> None:
    """The whole log of `podruga run --log-level DEBUG`, grepped for everything she is."""
    secret = secrets.token_urlsafe(48)
    log = tmp_path / "bot.log"
    async with FakeBotApi() as api:
        bot = _start(_env(api, tmp_path / "db.sqlite3", secret), log, "--log-level", "DEBUG")
        try:
            await wait_until(lambda: bool(api.called("getUpdates")) or bot.poll() is not None)
            her = api.woman(720000001, first_name="Oksana", username="oksana_secret_nick")
            her.say("/start")
            api.push({"message": {"message_id": 99, "date": int(time.time()),
                                  "chat": {"id": her.id}, "from": her.user(),
                                  "text": "мене звати Оксана +380671234567"}})
            other = api.woman(720000002, first_name="Marichka", language_code="en")
            other.say("/help")
            await wait_until(lambda: bool(api.answered[other.id].is_set()), 20)
            polls = len(api.called("getUpdates"))
            await asyncio.sleep(1.0)
            assert len(api.called("getUpdates")) < polls + 10  # no loop on the bad update
            bot.send_signal(signal.SIGTERM)
            code = await _wait(bot)
        finally:
            api.release()
            if bot.poll() is None:
                bot.kill()
    text = log.read_text()
    assert code == 0, text
    assert "update_skipped reason=unreadable" in text and "CRITICAL" not in text
    for value in ("720000001", "720000002", "Oksana", "oksana_secret_nick", "Marichka",
                  "Оксана", "380671234567", api.token, secret):
        assert value not in text, value


async def test_a_hard_kill_loses_no_confirmed_update_and_quick_exit_leaves_nothing(
        tmp_path: Path) -> None:
    """SIGKILL in the middle of a burst; after the restart every update is answered, and
    each woman's quick exit leaves only the neutral line."""
    secret = secrets.token_urlsafe(48)
    db, log = tmp_path / "db.sqlite3", tmp_path / "bot.log"
    async with FakeBotApi(latency=0.05) as api:
        env = _env(api, db, secret)
        women = [api.woman(8000 + n, language_code=("uk", "ru", "en")[n % 3])
                 for n in range(20)]
        first = _start(env, log)
        try:
            await wait_until(lambda: bool(api.called("getUpdates")) or first.poll() is not None)
            for her in women:
                her.say("/start")
                for question in ("метадон", "тест на віл", "/help", "/privacy"):
                    her.say(question)
            await wait_until(lambda: len(api.called("sendMessage")) >= 15)
            first.kill()  # SIGKILL: nothing is flushed, nothing is confirmed on the way out
            await _wait(first)
        finally:
            if first.poll() is None:
                first.kill()
        answered_before = len(api.called("sendMessage"))
        assert answered_before < 100, "the kill came too late to test anything"
        second = _start(env, log)
        try:
            def replies(her: Any) -> int:
                return sum(1 for c in api.called("sendMessage")
                           if c.params["chat_id"] == her.id)

            # Every one of her five updates is answered at least once (a turn cut short by
            # the kill may be answered twice: at least once, never lost).
            await wait_until(lambda: all(replies(her) >= 5 for her in women), 60)
            for her in women:
                her.say("/exit")
            await wait_until(lambda: all(
                len(her.screen()) == 1 and her.screen()[0]["from"]["id"] != her.id
                for her in women), 60)
            second.send_signal(signal.SIGTERM)
            assert await _wait(second) == 0, log.read_text()
        finally:
            api.release()
            if second.poll() is None:
                second.kill()
    store = await open_store(str(db))
    try:
        keys = Keyring(secret.encode())
        for her in women:
            key = keys.session_key(her.id)
            assert await store.load_session(key) is None
            assert await store.message_ids(key, datetime.now(UTC)) == []
    finally:
        await store.close()


async def test_a_revoked_token_stops_the_bot_with_a_clear_line(tmp_path: Path) -> None:
    log = tmp_path / "bot.log"
    async with FakeBotApi() as api:
        bot = _start(_env(api, tmp_path / "db.sqlite3", secrets.token_urlsafe(48)), log)
        try:
            await wait_until(lambda: bool(api.called("getUpdates")) or bot.poll() is not None)
            api.fail("getUpdates", 401, times=1000)  # revoked in @BotFather
            code = await _wait(bot, 30)
        finally:
            api.release()
            if bot.poll() is None:
                bot.kill()
    text = log.read_text()
    assert code == 2, text
    assert "podruga: Telegram refused TELEGRAM_BOT_TOKEN while the bot was running" in text
    assert "Traceback" not in text and api.token not in text


async def test_a_damaged_or_newer_database_is_one_line_and_no_retry(tmp_path: Path) -> None:
    async with FakeBotApi() as api:
        garbage = tmp_path / "garbage.sqlite3"
        garbage.write_bytes(b"this is not a database at all " * 200)
        newer = tmp_path / "newer.sqlite3"
        store = await open_store(str(newer))
        await store._live().execute(  # type: ignore[attr-defined]
            "INSERT INTO schema_migrations (version) VALUES (99)")
        await store.close()
        results = {}
        for name, db in (("garbage", garbage), ("newer", newer)):
            log = tmp_path / f"{name}.log"
            bot = _start(_env(api, db, secrets.token_urlsafe(48)), log)
            try:
                results[name] = (await _wait(bot, 60), log.read_text())
            finally:
                if bot.poll() is None:
                    bot.kill()
        api.release()
    for name, (code, text) in results.items():
        assert code == 2, (name, text)
        assert "Traceback" not in text
        assert "(not retrying)" in text
    assert "schema version 99, newer than this program" in results["newer"][1]


async def test_webhook_sigterm_lets_turns_in_flight_finish(tmp_path: Path) -> None:
    """Webhook mode: Telegram's requests are answered after the turn, even while stopping."""
    import json
    import socket

    import aiohttp

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    secret = secrets.token_urlsafe(48)
    db, log = tmp_path / "db.sqlite3", tmp_path / "bot.log"
    async with FakeBotApi(latency=0.3) as api:
        env = _env(api, db, secret, PODRUGA_WEBHOOK_SECRET="hook-secret")
        url = f"http://127.0.0.1:{port}/tg/hook"
        bot = _start(env, log, "--webhook", url, "--port", str(port))
        try:
            await wait_until(lambda: api.webhook.get("url") == url or bot.poll() is not None)
            assert bot.poll() is None, log.read_text()

            async def post(session: aiohttp.ClientSession, n: int) -> int:
                user = {"id": 9000 + n, "is_bot": False, "first_name": "A",
                        "language_code": "uk"}
                update = {"update_id": n + 1, "message": {
                    "message_id": 1, "date": 1, "from": user, "text": "/start",
                    "chat": {"id": 9000 + n, "type": "private"},
                    "entities": [{"type": "bot_command", "offset": 0, "length": 6}]}}
                async with session.post(url, data=json.dumps(update), headers={
                        "X-Telegram-Bot-Api-Secret-Token": "hook-secret",
                        "Content-Type": "application/json"}) as response:
                    return response.status

            async with aiohttp.ClientSession() as session:
                posts = [asyncio.create_task(post(session, n)) for n in range(8)]
                await wait_until(lambda: bool(api.called("sendMessage")))
                bot.send_signal(signal.SIGTERM)
                statuses = await asyncio.gather(*posts)
            code = await _wait(bot)
        finally:
            api.release()
            if bot.poll() is None:
                bot.kill()
    assert code == 0, log.read_text()
    assert statuses == [200] * 8
    assert {c.params["chat_id"] for c in api.called("sendMessage")} == {9000 + n for n in range(8)}
