"""Fixtures for the Telegram adapter: the fake Bot API server and the real bot running on it."""

from __future__ import annotations

import asyncio
import secrets
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from telegram import Update
from telegram.ext import Application, ContextTypes, TypeHandler

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fakeapi import BOT_ID, FakeBotApi  # noqa: E402

from bot.adapters.telegram.app import build_application  # noqa: E402
from bot.adapters.telegram.handlers import RUNTIME, Runtime  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.content.world import WorldHolder  # noqa: E402
from bot.store import Keyring, Store  # noqa: E402

SECRET = b"s" * 40
PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
SETTLE_SECONDS = 10.0  # a hung bot fails the test instead of hanging it


class Harness:
    """The real Application long-polling the fake server, with the real store in tmp_path."""

    def __init__(self, api: FakeBotApi, app: Application, db: Path) -> None:  # type: ignore[type-arg]
        self.api = api
        self.app = app
        self.db = db
        self.processed: set[int] = set()
        self._changed = asyncio.Event()

    @property
    def runtime(self) -> Runtime:
        found: Runtime = self.app.bot_data[RUNTIME]
        return found

    @property
    def store(self) -> Store:
        return self.runtime.live_store()

    def key(self, user_id: int) -> Any:
        return Keyring(SECRET).session_key(user_id)

    async def mark(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        self.processed.add(update.update_id)
        self._changed.set()

    async def settle(self) -> None:
        """Wait until the bot has finished every update pushed so far."""
        async def wait() -> None:
            while not all(u["update_id"] in self.processed for u in self.api.updates):
                self._changed.clear()
                await self._changed.wait()
        await asyncio.wait_for(wait(), SETTLE_SECONDS)


def make_settings(api: FakeBotApi, **changes: Any) -> Settings:
    values: dict[str, Any] = dict(token=api.token, secret=SECRET, api_url=api.base_url,
                                  staff_ids=frozenset({42}), webhook_secret="right-secret")
    values.update(changes)
    return Settings(**values)


@pytest.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi() as server:
        yield server


async def start_bot(api: FakeBotApi, world: Any, db: Path, clock: Any = None,
                    read_timeout: float | None = None, **settings: Any) -> Harness:
    extra: dict[str, Any] = {"clock": clock} if clock is not None else {}
    if read_timeout is not None:
        extra["read_timeout"] = read_timeout
    app = build_application(make_settings(api, **settings), WorldHolder(world),
                            store_location=str(db), **extra)
    harness = Harness(api, app, db)
    app.add_handler(TypeHandler(Update, harness.mark), group=1)
    await app.initialize()
    assert app.post_init is not None
    await app.post_init(app)
    await app.updater.start_polling(poll_interval=0, timeout=1,  # type: ignore[union-attr]
                                    allowed_updates=[Update.MESSAGE, Update.CALLBACK_QUERY,
                                                     Update.MY_CHAT_MEMBER])
    await app.start()
    return harness


async def stop_bot(harness: Harness) -> None:
    app = harness.app
    harness.api.release()
    if app.updater is not None and app.updater.running:
        await app.updater.stop()
    if app.running:
        await app.stop()
    await app.shutdown()
    assert app.post_shutdown is not None
    await app.post_shutdown(app)


@pytest.fixture
async def bot(api: FakeBotApi, world: Any, tmp_path: Path) -> AsyncIterator[Harness]:
    harness = await start_bot(api, world, tmp_path / "podruga.sqlite3")
    try:
        yield harness
    finally:
        await stop_bot(harness)


def bot_messages(person: Any) -> list[dict[str, Any]]:
    """The bot's messages on a person's screen in the fake Bot API."""
    return [m for m in person.screen() if m["from"]["id"] == BOT_ID]


async def open_case(bot: Harness, her: Any) -> str:
    """She starts, picks Ukraine and asks for a person; the case number the store made."""
    her.say("/start")
    await bot.settle()
    her.tap("country:UA")
    await bot.settle()
    her.tap("main.human", bot_messages(her)[-1]["message_id"])
    await bot.settle()
    her.tap("do:human")
    await bot.settle()
    number = await bot.store.case_for(bot.key(her.id))
    assert number is not None
    return number


@pytest.fixture
async def pg_url() -> AsyncIterator[str]:
    """The test PostgreSQL in a schema of this test's own, dropped afterwards; skip without one."""
    try:
        conn = await asyncpg.connect(PG_URL, timeout=3)
    except (OSError, asyncpg.PostgresError) as exc:
        pytest.skip(f"no PostgreSQL server answers on 127.0.0.1:5432 ({type(exc).__name__})")
    schema = f"tg_test_{secrets.token_hex(6)}"
    await conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield f"{PG_URL}?search_path={schema}"
    finally:
        await conn.execute(f"DROP SCHEMA {schema} CASCADE")
        await conn.close()
