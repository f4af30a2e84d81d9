"""Webhook mode: PTB's webhook server behind our secret token refuses anyone without it."""

from __future__ import annotations

import json
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

from bot.telegram import handlers
from bot.telegram.app import build_application
from bot.world import WorldHolder

pytestmark = pytest.mark.e2e


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
    await app.initialize()
    assert app.post_init is not None
    await app.post_init(app)
    assert app.updater is not None
    await app.updater.start_webhook(listen="127.0.0.1", port=port, url_path="tg/hook",
                                    webhook_url=url, secret_token="right-secret")
    await app.start()
    try:
        yield harness, url, engine_calls
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()
        assert app.post_shutdown is not None
        await app.post_shutdown(app)


def update(user_id: int) -> dict[str, Any]:
    user = {"id": user_id, "is_bot": False, "first_name": "A", "language_code": "en"}
    return {"update_id": 1, "message": {
        "message_id": 1, "date": 1, "chat": {"id": user_id, "type": "private"}, "from": user,
        "text": "/start", "entities": [{"type": "bot_command", "offset": 0, "length": 6}]}}


async def test_wrong_secret_is_refused_and_right_one_served(
        api: FakeBotApi, hooked: tuple[Harness, str, list[int]]) -> None:
    harness, url, engine_calls = hooked
    assert api.webhook["url"] == url and api.webhook["secret_token"] == "right-secret"
    async with aiohttp.ClientSession() as session:
        for headers in ({"X-Telegram-Bot-Api-Secret-Token": "wrong"}, {}):
            async with session.post(url, data=json.dumps(update(3000)),
                                    headers={"Content-Type": "application/json", **headers}) as r:
                assert r.status == 403
        assert engine_calls == [] and not api.called("sendMessage")
        async with session.post(url, data=json.dumps(update(3000)), headers={
                "Content-Type": "application/json",
                "X-Telegram-Bot-Api-Secret-Token": "right-secret"}) as r:
            assert r.status == 200
    api.updates.append({"update_id": 1})  # so settle() waits for the webhook's update
    await harness.settle()
    assert engine_calls == [1]
    assert api.called("sendMessage")[0].params["chat_id"] == 3000
