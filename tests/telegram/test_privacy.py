"""The privacy audit: after a whole conversation, no byte on disk or in the logs names her."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from conftest import start_bot, stop_bot
from fakeapi import FakeBotApi

pytestmark = pytest.mark.e2e

USER_ID = 5550123987
NAME = "Ярослава"
USERNAME = "yaroslava_secret_77"
TYPED = ["можно ли метадон при беременности мне 23 года", "где найти врача в Киеве",
         "Kyiv", "меня зовут Ярослава, муж бьёт"]


def secrets_of_her() -> list[bytes]:
    values = [str(USER_ID), NAME, USERNAME, *TYPED, "Киеве", "23 года"]
    found = [v.encode("utf-8") for v in values]
    found.append(NAME.encode("utf-16-le"))
    return found


def files_of(db: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(db.parent.glob(db.name + "*")))


async def test_nothing_that_names_her_is_kept_or_logged(api: FakeBotApi, world: Any,
                                                        tmp_path: Path,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    db = tmp_path / "podruga.sqlite3"
    bot = await start_bot(api, world, db)
    her = api.woman(USER_ID, first_name=NAME, username=USERNAME, language_code="ru")
    try:
        her.say("/start")
        await bot.settle()
        her.tap("country:UA")
        await bot.settle()
        her.say(TYPED[0])
        await bot.settle()
        her.tap("main.find", api.last_bot_message(USER_ID)["message_id"])
        await bot.settle()
        her.say(TYPED[1])
        await bot.settle()
        her.tap("find:")
        await bot.settle()
        her.say(TYPED[2])
        await bot.settle()
        her.say(TYPED[3])
        await bot.settle()
        her.say("/privacy")
        await bot.settle()
        her.tap("'; forged")
        await bot.settle()
        key = bot.key(USER_ID)
        assert await bot.store.load_session(key) is not None  # she is known, under a key
        live = files_of(db)
    finally:
        await stop_bot(bot)
    at_rest = files_of(db)
    logs = caplog.text + "\n".join(
        f"{r.getMessage()} {r.args!r} {r.exc_text or ''}" for r in caplog.records)
    assert "turn event=" in logs  # the audit read real log lines
    assert live and at_rest
    for value in secrets_of_her():
        assert value not in live, value
        assert value not in at_rest, value
        assert value.decode("utf-8", "ignore") not in logs, value
    assert key.hex not in logs
