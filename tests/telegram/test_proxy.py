"""Bot API calls go through the proxy in HTTPS_PROXY / HTTP_PROXY, as PTB's own transport's do.

Many NGOs reach the internet only through a proxy. The aiohttp transport
(bot/adapters/telegram/transport.py) reads the proxy from the environment, as httpx did:
an https Bot API (Telegram's own) is reached by a CONNECT tunnel through an
``http://`` proxy, an http one (a local Bot API server) by asking the proxy for
the whole URL. Here a small proxy on 127.0.0.1 records what it is asked.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest
from telegram import Bot
from telegram.error import NetworkError

from bot.adapters.telegram.transport import AiohttpRequest

TOKEN = "123456:TEST-token-abcdefghijklmnopqrstuvwxyz"
ME = {"id": 123456, "is_bot": True, "first_name": "Podruga", "username": "podruga_test_bot"}


class Proxy:
    """Records each request line; answers getMe itself, and refuses every CONNECT."""

    def __init__(self) -> None:
        self.asked: list[str] = []
        self.server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
        line = head.split("\r\n", 1)[0]
        self.asked.append(line)
        length = next((int(h.split(":", 1)[1]) for h in head.split("\r\n")
                       if h.lower().startswith("content-length:")), 0)
        if length:
            await reader.readexactly(length)
        if line.startswith("CONNECT "):
            writer.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
        else:
            body = json.dumps({"ok": True, "result": ME}).encode()
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                         b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body))
        await writer.drain()
        writer.close()


@pytest.fixture
async def proxy(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Proxy]:
    for name in ("no_proxy", "NO_PROXY", "http_proxy", "HTTP_PROXY", "https_proxy",
                 "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    found = Proxy()
    found.server = await asyncio.start_server(found.handle, "127.0.0.1", 0)
    try:
        yield found
    finally:
        found.server.close()
        await found.server.wait_closed()


async def _get_me(base_url: str) -> object:
    bot = Bot(TOKEN, base_url=base_url, request=AiohttpRequest(pool_size=1),
              get_updates_request=AiohttpRequest(pool_size=1))
    async with bot:
        return await bot.get_me()


async def test_telegram_is_reached_through_the_https_proxy(proxy: Proxy,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", proxy.url)
    with pytest.raises(NetworkError) as caught:  # this proxy refuses the tunnel
        await _get_me("https://api.telegram.org/bot")
    assert proxy.asked and proxy.asked[0].startswith("CONNECT api.telegram.org:443 ")
    assert TOKEN not in str(caught.value)


async def test_a_local_bot_api_is_reached_through_the_http_proxy(
        proxy: Proxy, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("http_proxy", proxy.url)
    me = await _get_me("http://bot-api.internal:8081/bot")
    assert getattr(me, "username", None) == ME["username"]
    # Twice: once as the bot starts (it checks the token), once asked here.
    assert proxy.asked == [f"POST http://bot-api.internal:8081/bot{TOKEN}/getMe HTTP/1.1"] * 2


async def test_no_proxy_is_used_unless_one_is_set(proxy: Proxy) -> None:
    with pytest.raises(NetworkError):  # straight to a closed port, not to the proxy
        await _get_me("http://127.0.0.1:9/bot")
    assert proxy.asked == []
