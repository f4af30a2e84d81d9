"""Several instances on one PostgreSQL database behave as one bot (bot/adapters/telegram/peers.py).

Two real Applications ("A" and "B") share the database on 127.0.0.1:5432 (database
`test`, a schema of their own per test, so also a NOTIFY channel of their own) and
one fake Bot API. Updates are handed to each instance directly, as nginx hands
webhook calls to whichever instance it picks:

- staff's /reload at A reloads B from the same edited content folder;
- women's replies from both instances together stay under Telegram's ~30 calls a
  second: the fake answers 429 past 30 calls in any sliding second, and none does;
- a 429 at one instance holds the other; a chat's and a group's own pace is shared;
- the budget's rows hold no chat id, and an instance whose database goes away
  paces itself alone instead of stopping.
"""

from __future__ import annotations

import asyncio
import collections
import shutil
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from conftest import SECRET, make_settings
from fakeapi import FakeBotApi
from telegram import Update
from telegram.error import RetryAfter
from telegram.ext import Application

from bot.adapters.telegram.app import build_application, opt_in_timedelta
from bot.adapters.telegram.handlers import RUNTIME, Runtime
from bot.adapters.telegram.peers import (
    ALL_CHATS,
    GROUP_CHAT,
    PRIVATE_CHAT,
    Rate,
    SharedRateLimiter,
    is_group,
)
from bot.content.world import WorldHolder
from bot.store.cluster import Cluster, LocalBudget, channel_for, scope_key

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]
ROOT = Path(__file__).resolve().parents[2]
PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
LABEL = "💊 OST: methadone, buprenorphine"


# -- without a database ------------------------------------------------------------------


def test_the_rates_are_telegrams() -> None:
    assert 25 <= 1 / ALL_CHATS.interval < 30, "about 30 a second, with a margin"
    assert PRIVATE_CHAT.interval == 1.0 and PRIVATE_CHAT.burst <= 3
    assert 60 / GROUP_CHAT.interval == 20 and GROUP_CHAT.burst == 1
    assert is_group(-1001234) and is_group("@channel") and not is_group(5) and not is_group("5")


def test_the_local_budget_lets_a_burst_through_then_paces() -> None:
    now = [100.0]
    budget = LocalBudget(clock=lambda: now[0])
    waits = [budget.reserve("chat", 1.0, tolerance=2.0) for _ in range(5)]
    assert waits == [0.0, 0.0, 0.0, 1.0, 2.0]
    now[0] += 10  # idle: the burst is back
    assert budget.reserve("chat", 1.0, 2.0) == 0.0
    budget.hold("all", 5.0)
    assert budget.reserve("all", 0.1) == 5.0


def test_channels_are_per_schema() -> None:
    assert channel_for(PG_URL) == "podruga"
    assert channel_for(PG_URL + "?search_path=Bot-One") == "podruga_bot_one"
    assert scope_key(SECRET, 12345) != scope_key(b"t" * 40, 12345)
    assert "12345" not in scope_key(SECRET, 12345)


# -- on the real PostgreSQL --------------------------------------------------------------


@pytest.fixture
async def clusters(pg_url: str) -> AsyncIterator[tuple[Cluster, Cluster]]:
    pair = (Cluster(pg_url), Cluster(pg_url))
    for cluster in pair:
        await cluster.open()
    try:
        yield pair
    finally:
        for cluster in pair:
            await cluster.close()


async def test_two_instances_take_slots_from_one_budget(
        clusters: tuple[Cluster, Cluster]) -> None:
    a, b = clusters
    waits = [await (a if n % 2 else b).reserve("chat:x", 1.0, 2.0) for n in range(5)]
    assert waits[:3] == [0.0, 0.0, 0.0]
    assert waits[3] == pytest.approx(1.0, abs=0.1) and waits[4] == pytest.approx(2.0, abs=0.1)
    await a.hold("all", 2.0)
    assert await b.reserve("all", 0.01) == pytest.approx(2.0, abs=0.1)


async def test_an_announcement_reaches_the_others_not_itself(
        clusters: tuple[Cluster, Cluster], pg_url: str) -> None:
    a, b = clusters
    elsewhere = Cluster(pg_url.replace("search_path=", "search_path=other_"))  # another deployment
    heard: dict[str, list[str]] = {"a": [], "b": [], "elsewhere": []}
    got = asyncio.Event()
    a.subscribe(lambda event: heard["a"].append(event))
    b.subscribe(lambda event: (heard["b"].append(event), got.set()) and None)
    elsewhere.subscribe(lambda event: heard["elsewhere"].append(event))
    conn = await asyncpg.connect(PG_URL)
    try:
        await conn.execute(f"CREATE SCHEMA {elsewhere.channel.removeprefix('podruga_')}")
        await elsewhere.open()
        await a.announce("reload")
        await asyncio.wait_for(got.wait(), 5)
        await asyncio.sleep(0.2)
        assert heard == {"a": [], "b": ["reload"], "elsewhere": []}
    finally:
        await elsewhere.close()
        await conn.execute(f"DROP SCHEMA {elsewhere.channel.removeprefix('podruga_')} CASCADE")
        await conn.close()


async def test_a_lost_listening_connection_comes_back_and_catches_up(
        clusters: tuple[Cluster, Cluster]) -> None:
    a, b = clusters
    heard: list[str] = []
    b.subscribe(heard.append)
    conn = await asyncpg.connect(PG_URL)
    try:
        pid = b._listener.get_server_pid()  # type: ignore[union-attr]
        await conn.execute("SELECT pg_terminate_backend($1)", pid)
    finally:
        await conn.close()
    deadline = time.monotonic() + 10
    while "reconnected" not in heard:
        assert time.monotonic() < deadline, "the listener did not come back"
        await asyncio.sleep(0.05)
    await a.announce("reload")
    while "reload" not in heard:
        assert time.monotonic() < deadline, "nothing heard after reconnecting"
        await asyncio.sleep(0.05)


async def test_the_budget_table_holds_no_chat_id(clusters: tuple[Cluster, Cluster],
                                                 pg_url: str) -> None:
    opt_in_timedelta()
    limiter = SharedRateLimiter(clusters[0], SECRET)
    chat_id = 987654321

    async def send() -> bool:
        return True

    await limiter.process_request(send, (), {}, "sendMessage", {"chat_id": chat_id}, None)
    conn = await asyncpg.connect(pg_url)
    try:
        rows = [tuple(r) for r in await conn.fetch("SELECT scope, tat::text FROM send_budget")]
    finally:
        await conn.close()
    assert len(rows) == 2 and str(chat_id) not in repr(rows)


async def test_a_429_at_one_instance_holds_the_other(clusters: tuple[Cluster, Cluster]) -> None:
    opt_in_timedelta()
    a = SharedRateLimiter(clusters[0], SECRET)
    b = SharedRateLimiter(clusters[1], SECRET)
    sent: list[tuple[str, float]] = []
    refused = [True]

    async def at_a() -> bool:
        if refused.pop() if refused else False:
            raise RetryAfter(1)
        sent.append(("a", time.monotonic()))
        return True

    async def at_b() -> bool:
        sent.append(("b", time.monotonic()))
        return True

    started = time.monotonic()
    first = asyncio.create_task(a.process_request(at_a, (), {}, "sendMessage",
                                                  {"chat_id": 1}, None))
    await asyncio.sleep(0.3)  # A has had its 429 and is holding
    await b.process_request(at_b, (), {}, "sendMessage", {"chat_id": 2}, None)
    await first
    times = dict(sent)
    assert times["b"] - started >= 1.0, "B waited out A's retry_after"
    assert times["a"] - started >= 1.0


async def test_a_chats_pace_is_shared_and_a_groups_too(clusters: tuple[Cluster, Cluster]) -> None:
    opt_in_timedelta()
    fast = {"overall": Rate(0.001), "private": Rate(0.2, burst=3), "group": Rate(0.25)}
    pair = [SharedRateLimiter(c, SECRET, **fast) for c in clusters]
    stamps: dict[int, list[float]] = collections.defaultdict(list)

    def sender(chat: int):  # type: ignore[no-untyped-def]
        async def send() -> bool:
            stamps[chat].append(time.monotonic())
            return True
        return send

    await asyncio.gather(*(pair[n % 2].process_request(sender(chat), (), {}, "sendMessage",
                                                       {"chat_id": chat}, None)
                           for n in range(5) for chat in (7, -1007)))
    # and an edit is not a new message: no chat slot, only the overall one
    await pair[0].process_request(sender(8), (), {}, "editMessageText", {"chat_id": 7}, None)
    private, group = sorted(stamps[7]), sorted(stamps[-1007])
    assert private[3] - private[0] >= 0.15 and private[4] - private[0] >= 0.35
    assert all(b - a >= 0.2 for a, b in zip(group, group[1:], strict=False))


async def test_without_the_database_an_instance_paces_itself(pg_url: str) -> None:
    opt_in_timedelta()
    cluster = Cluster(pg_url)
    await cluster.open()
    limiter = SharedRateLimiter(cluster, SECRET)
    await cluster.close()  # as if the database went away

    async def send() -> bool:
        return True

    assert await limiter.process_request(send, (), {}, "sendMessage", {"chat_id": 3}, None)


# -- two Applications ----------------------------------------------------------------------


class StrictApi(FakeBotApi):
    """The fake Bot API with Telegram's flood limit: 429 past 30 chat calls in any second."""

    LIMIT = 30

    def __init__(self) -> None:
        super().__init__()
        self.recent: collections.deque[float] = collections.deque()
        self.refused = 0

    async def _handle(self, request: Any) -> Any:
        params = await self._params(request)
        if "chat_id" in params and request.match_info["method"] != "getUpdates":
            now = time.perf_counter()
            while self.recent and self.recent[0] <= now - 1.0:
                self.recent.popleft()
            if len(self.recent) >= self.LIMIT:
                self.refused += 1
                self.fail(request.match_info["method"], 429, retry_after=1)
            else:
                self.recent.append(now)
        return await super()._handle(request)


async def _start(api: FakeBotApi, world: Any, url: str) -> Application:  # type: ignore[type-arg]
    app = build_application(make_settings(api), WorldHolder(world), store_location=url)
    await app.initialize()
    assert app.post_init is not None
    await app.post_init(app)
    await app.start()
    return app


async def _stop(app: Application) -> None:  # type: ignore[type-arg]
    if app.running:
        await app.stop()
    await app.shutdown()
    assert app.post_shutdown is not None
    await app.post_shutdown(app)


async def _hand(app: Application, api: FakeBotApi, update_id: int) -> None:  # type: ignore[type-arg]
    data = next(u for u in api.updates if u["update_id"] == update_id)
    await app.update_queue.put(Update.de_json(data, app.bot))


async def _until(condition: Any, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def test_reload_at_one_instance_reloads_the_other(world: Any, pg_url: str,
                                                        tmp_path: Path) -> None:
    content = tmp_path / "content"
    for name in ("flows", "locales", "directory"):
        shutil.copytree(ROOT / name, content / name)
    mine = replace(world, root=content)
    async with FakeBotApi() as api:
        a, b = await _start(api, mine, pg_url), await _start(api, mine, pg_url)
        try:
            for catalog in (content / "locales" / "uk" / "LC_MESSAGES").glob("*.po"):
                text = catalog.read_text(encoding="utf-8")
                catalog.write_text(text.replace('msgstr "💊 ЗПТ: метадон, бупренорфін"',
                                                'msgstr "💊 ЗПТ (наша правка)"'),
                                   encoding="utf-8")
            runtime_b: Runtime = b.bot_data[RUNTIME]
            before = runtime_b.holder.world
            staff = api.woman(42, language_code="en")
            await _hand(a, api, staff.say("/reload"))
            await _until(lambda: runtime_b.holder.world is not before)
            assert runtime_b.holder.world.tr("uk").pgettext("button", LABEL) == \
                "💊 ЗПТ (наша правка)"
            assert runtime_b.holder.world.handover == before.handover
            await _until(lambda: bool(api.called("sendMessage")))
            reply = api.called("sendMessage")[-1].params["text"]
            assert reply.startswith("Reloaded:") and "Other instances reload too." in reply
            # and a woman answered by B sees the new label
            her = api.woman(5001, language_code="uk")
            await _hand(b, api, her.say("/start"))
            await _until(lambda: bool(api.chats[her.id]) and len(api.chats[her.id]) > 1)
            await _hand(b, api, her.say("/menu"))
            await _until(lambda: "ЗПТ (наша правка)" in str(api.last_bot_message(her.id)))
        finally:
            await _stop(a)
            await _stop(b)


async def test_two_instances_stay_under_telegrams_limit_together(world: Any,
                                                                 pg_url: str) -> None:
    async with StrictApi() as api:
        a, b = await _start(api, world, pg_url), await _start(api, world, pg_url)
        try:
            women = [api.woman(6000 + n, language_code=("uk", "ru", "en")[n % 3])
                     for n in range(50)]
            started = time.perf_counter()
            for n, her in enumerate(women):
                await _hand((a, b)[n % 2], api, her.say("/start"))
            await _until(lambda: all(any(c.params.get("chat_id") == her.id
                                         for c in api.called("sendMessage"))
                                     for her in women))
            elapsed = time.perf_counter() - started
        finally:
            await _stop(a)
            await _stop(b)
    chat_calls = sorted(c.at for c in api.calls if "chat_id" in c.params)
    busiest = max(sum(1 for t in chat_calls if s <= t < s + 1.0) for s in chat_calls)
    assert api.refused == 0 and busiest <= 30, (api.refused, busiest)
    assert elapsed >= (len(chat_calls) - 1) * ALL_CHATS.interval * 0.9
