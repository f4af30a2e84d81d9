"""The Bot API transport (bot/adapters/telegram/transport.py): PTB's BaseRequest over aiohttp.

End to end, the fake server stalls or drops calls and the bot retries, then gives
up quietly; directly, the transport sends forms and files the way the Bot API
takes them and never puts the token (it is in every URL) into an error.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from conftest import Harness, start_bot, stop_bot
from fakeapi import FakeBotApi
from telegram import InputFile
from telegram.error import NetworkError, TimedOut
from telegram.request import RequestData
from telegram.request._requestparameter import RequestParameter  # how PTB builds its calls
from test_bot import Oracle, bot_messages

from bot.adapters.telegram.transport import AiohttpRequest
from bot.engine.events import Start

pytestmark = pytest.mark.e2e
param = RequestParameter.from_input
TOKEN = "123456:TEST-token-abcdefghijklmnopqrstuvwxyz"


@pytest.fixture
async def quick_bot(api: FakeBotApi, world: Any, tmp_path: Path) -> AsyncIterator[Harness]:
    """The bot with a 0.3 s read timeout, so a stalled call times out within the test."""
    harness = await start_bot(api, world, tmp_path / "podruga.sqlite3", read_timeout=0.3)
    try:
        yield harness
    finally:
        await stop_bot(harness)


async def test_stalled_call_times_out_and_is_retried(api: FakeBotApi, quick_bot: Harness,
                                                     world: Any) -> None:
    her = api.woman(3100, language_code="en")
    api.stall("sendMessage", 2.0)
    her.say("/start")
    await quick_bot.settle()
    assert len(api.called("sendMessage")) == 2
    assert bot_messages(her)[-1]["text"] == Oracle(world, "en").says(Start("en"))[-1]


async def test_dropped_connection_is_retried(api: FakeBotApi, bot: Harness, world: Any) -> None:
    her = api.woman(3200, language_code="uk")
    api.drop("sendMessage", times=2)
    her.say("/start")
    await bot.settle()
    assert len(api.called("sendMessage")) == 3
    assert bot_messages(her)[-1]["text"] == Oracle(world, "uk").says(Start("uk"))[-1]


async def test_network_down_gives_up_quietly_then_recovers(
        api: FakeBotApi, quick_bot: Harness, world: Any,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    her = api.woman(3300, language_code="ru")
    api.drop("sendMessage", times=2)
    api.stall("sendMessage", 2.0)
    her.say("/start")
    await quick_bot.settle()
    assert not bot_messages(her)
    assert "api_gave_up method=sendMessage reason=TimedOut tries=3" in caplog.text
    assert "update_failed" not in caplog.text
    assert api.token not in caplog.text and "3300" not in caplog.text
    her.say("/start")
    await quick_bot.settle()
    assert bot_messages(her)[-1]["text"] == Oracle(world, "ru").says(Start("ru"))[-1]


@pytest.fixture
async def echo() -> AsyncIterator[str]:
    """A server that answers with what it received: content type and fields."""
    async def handle(request: web.Request) -> web.Response:
        form = await request.post()
        fields = {k: (v if isinstance(v, str) else f"file:{v.filename}:{v.file.read().decode()}")
                  for k, v in form.items()}
        return web.json_response({"type": request.content_type, "fields": fields,
                                  "agent": request.headers.get("User-Agent", "")})

    app = web.Application()
    app.router.add_post("/{tail:.*}", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]  # noqa: SLF001
    yield f"http://127.0.0.1:{port}/bot{TOKEN}"
    await runner.cleanup()


async def test_parameters_go_as_a_form(echo: str) -> None:
    async with AiohttpRequest(pool_size=2) as request:
        data = RequestData([param("chat_id", 7), param("text", "Привіт & co"),
                            param("reply_markup", {"inline_keyboard": []})])
        status, body = await request.do_request(f"{echo}/sendMessage", "POST", data)
    assert status == 200
    got = AiohttpRequest.parse_json_payload(body)
    assert got["type"] == "application/x-www-form-urlencoded"
    assert got["fields"] == {"chat_id": "7", "text": "Привіт & co",
                             "reply_markup": '{"inline_keyboard": []}'}
    assert got["agent"].startswith("python-telegram-bot")


async def test_files_go_as_multipart(echo: str) -> None:
    document = InputFile(b"hello", filename="note.txt", attach=True)
    async with AiohttpRequest(pool_size=2) as request:
        data = RequestData([param("chat_id", 7), param("document", document)])
        status, body = await request.do_request(f"{echo}/sendDocument", "POST", data)
    got = AiohttpRequest.parse_json_payload(body)
    assert status == 200 and got["type"] == "multipart/form-data"
    assert got["fields"]["chat_id"] == "7"
    assert "file:note.txt:hello" in got["fields"].values()


async def test_errors_never_carry_the_token(echo: str) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    async with AiohttpRequest(pool_size=1) as request:
        with pytest.raises(NetworkError) as refused:
            await request.do_request(f"http://127.0.0.1:{closed}/bot{TOKEN}/getMe", "POST")
        with pytest.raises(NetworkError) as invalid:
            await request.do_request(f"htp://bad host/bot{TOKEN}/getMe", "POST")
    for error in (refused.value, invalid.value):
        assert TOKEN not in str(error) and TOKEN not in repr(error)
        assert error.__cause__ is None and error.__suppress_context__


async def test_a_call_can_set_its_own_read_timeout(api: FakeBotApi) -> None:
    api.stall("getMe", 1.0)
    async with AiohttpRequest(pool_size=1, read_timeout=5.0) as request:
        with pytest.raises(TimedOut):
            await request.do_request(f"{api.base_url}{api.token}/getMe", "POST", read_timeout=0.2)
    assert request.read_timeout == 5.0


async def test_must_be_initialized() -> None:
    with pytest.raises(RuntimeError, match="not initialized"):
        await AiohttpRequest(pool_size=1).do_request("http://127.0.0.1:9/bot/getMe", "POST")


async def test_the_bot_uses_this_transport_for_every_call(api: FakeBotApi, world: Any,
                                                          tmp_path: Path) -> None:
    harness = await start_bot(api, world, tmp_path / "podruga.sqlite3")
    try:
        polling, calls = harness.app.bot._request  # noqa: SLF001 - PTB keeps both here
        assert isinstance(polling, AiohttpRequest) and isinstance(calls, AiohttpRequest)
        assert calls.read_timeout == 5.0  # PTB's default, unchanged
    finally:
        await stop_bot(harness)
