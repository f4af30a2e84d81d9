"""Webhook mode: our aiohttp server behind the secret token, answering after the turn."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from conftest import Harness, make_settings
from fakeapi import FakeBotApi
from telegram import Update
from telegram.ext import TypeHandler

from bot.adapters.telegram import handlers
from bot.adapters.telegram.app import build_application
from bot.adapters.telegram.run import ALLOWED_UPDATES
from bot.adapters.telegram.webhook import serve_webhook
from bot.content.world import WorldHolder

pytestmark = pytest.mark.e2e
SECRET = {"X-Telegram-Bot-Api-Secret-Token": "right-secret",
          "Content-Type": "application/json"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
async def hooked(api: FakeBotApi, world: Any, tmp_path: Path,
                 monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[tuple[Harness, str, list[int]]]:
    engine_calls: list[int] = []
    real_step = handlers.step

    def counting_step(*args: Any, **kwargs: Any) -> Any:
        engine_calls.append(1)
        return real_step(*args, **kwargs)

    monkeypatch.setattr(handlers, "step", counting_step)
    app = build_application(make_settings(api), WorldHolder(world),
                            store_location=str(tmp_path / "db.sqlite3"))
    harness = Harness(api, app, tmp_path / "db.sqlite3")
    app.add_handler(TypeHandler(Update, harness.mark), group=1)
    port = free_port()
    url = f"http://127.0.0.1:{port}/tg/hook"
    stop = asyncio.Event()
    serving = asyncio.create_task(serve_webhook(
        app, listen="127.0.0.1", port=port, path="tg/hook", url=url, secret="right-secret",
        allowed_updates=ALLOWED_UPDATES, stop=stop))
    while api.webhook.get("url") != url:
        assert not serving.done(), serving.exception()
        await asyncio.sleep(0.02)
    try:
        yield harness, url, engine_calls
    finally:
        stop.set()
        await asyncio.wait_for(serving, 30)


def update(user_id: int, update_id: int = 1, text: str = "/start") -> dict[str, Any]:
    user = {"id": user_id, "is_bot": False, "first_name": "A", "language_code": "en"}
    message: dict[str, Any] = {"message_id": update_id, "date": 1, "from": user,
                               "chat": {"id": user_id, "type": "private"}, "text": text}
    if text.startswith("/"):
        message["entities"] = [{"type": "bot_command", "offset": 0,
                                "length": len(text.split()[0])}]
    return {"update_id": update_id, "message": message}


async def test_wrong_secret_is_refused_and_right_one_served(
        api: FakeBotApi, hooked: tuple[Harness, str, list[int]]) -> None:
    harness, url, engine_calls = hooked
    assert api.webhook["url"] == url and api.webhook["secret_token"] == "right-secret"
    assert "my_chat_member" in api.webhook["allowed_updates"]
    async with aiohttp.ClientSession() as session:
        for headers in ({"X-Telegram-Bot-Api-Secret-Token": "wrong"}, {}):
            async with session.post(url, data=json.dumps(update(3000)),
                                    headers={"Content-Type": "application/json", **headers}) as r:
                assert r.status == 403
        assert engine_calls == [] and not api.called("sendMessage")
        async with session.post(url, data=json.dumps(update(3000)), headers=SECRET) as r:
            assert r.status == 200
            # Answered only once the turn is done: her reply is out and her session saved.
            assert engine_calls == [1]
            assert api.called("sendMessage")[0].params["chat_id"] == 3000
            assert await harness.store.load_session(harness.key(3000)) is not None
        async with session.get(url) as r:
            assert r.status == 405
        async with session.post(url.replace("hook", "other"), headers=SECRET) as r:
            assert r.status == 404


async def test_bad_bodies_and_an_update_that_cannot_be_parsed(
        api: FakeBotApi, hooked: tuple[Harness, str, list[int]],
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    harness, url, engine_calls = hooked
    her = {"id": 810000005, "is_bot": False, "first_name": "OksanaWebhook",
           "username": "olena_wh", "language_code": "uk"}
    unreadable = {"update_id": 5005, "message": {
        "message_id": 5005, "date": 1, "chat": {"id": her["id"]}, "from": her,
        "text": "мене звати Оксана +380671234567"}}
    async with aiohttp.ClientSession() as session:
        for body, status in ((b"not json", 400), (b"\xff\xfe", 400), (b"[]", 400),
                             (b'"x"', 400), (b'{"update_id": 7}', 200),
                             (json.dumps(unreadable).encode(), 200)):
            async with session.post(url, data=body, headers=SECRET) as r:
                assert r.status == status, body
        async with session.post(url, data=json.dumps(update(3100, 8)), headers=SECRET) as r:
            assert r.status == 200
    assert api.called("sendMessage")[-1].params["chat_id"] == 3100  # still serving
    assert harness.app.bot.intake.skipped == 1  # type: ignore[attr-defined]
    logs = caplog.text + "\n".join(f"{r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
    for value in ("810000005", "OksanaWebhook", "olena_wh", "Оксана", "380671234567",
                  "right-secret"):
        assert value not in logs, value
    assert engine_calls == [1]
