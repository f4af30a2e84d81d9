"""GET /health (bot/adapters/telegram/health.py): 200 while the bot runs and its store
answers, else 503."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp
import pytest
from conftest import make_settings
from fakeapi import FakeBotApi

from bot.adapters.telegram import health
from bot.adapters.telegram.app import build_application
from bot.adapters.telegram.handlers import RUNTIME
from bot.adapters.telegram.run import parse_args
from bot.content.world import WorldHolder

pytestmark = pytest.mark.e2e


async def _get(url: str) -> tuple[int, dict[str, Any]]:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, await response.json()


async def test_health_follows_the_bot_and_its_store(world: Any, tmp_path: Path) -> None:
    async with FakeBotApi() as api:
        app = build_application(make_settings(api), WorldHolder(world),
                                store_location=str(tmp_path / "podruga.sqlite3"))
        server = health.attach(app, "127.0.0.1", 0)
        await app.initialize()
        assert app.post_init is not None and app.post_shutdown is not None
        await app.post_init(app)
        url = f"http://127.0.0.1:{server.port}/health"
        try:
            assert (await _get(url))[0] == 503, "not serving updates yet"
            await app.start()
            code, body = await _get(url)
            assert code == 200 and body == {"status": "ok", "running": True,
                                            "steps": len(world.flows.steps),
                                            "store": "sqlite", "shared": False}
            store = app.bot_data[RUNTIME].store
            await store.close()  # the database is gone
            code, body = await _get(url)
            assert code == 503 and body["status"] == "unavailable" and body["store"] == "down"
            await store.open()
        finally:
            await app.stop()
            await app.shutdown()
            await app.post_shutdown(app)
        with pytest.raises(aiohttp.ClientConnectionError):
            await _get(url)


def test_ports_out_of_range_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    for bad in ("99999", "0", "web"):
        for option in ("--port", "--health-port"):
            with pytest.raises(SystemExit) as stopped:
                parse_args([option, bad])
            assert stopped.value.code == 2
            assert "is not a port" in capsys.readouterr().err
    assert parse_args(["--health-port", "8081"]).health_port == 8081
