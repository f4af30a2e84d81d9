"""Several instances as one bot: a send budget they share, and /reload reaching all of them.

With SQLite there is one process and PTB's ``AIORateLimiter`` paces it (app.py).
With PostgreSQL any number of ``podruga run --webhook`` processes may serve the
bot, so ``SharedRateLimiter`` takes every Bot API call's slot from the budget in
the database (``bot.store.cluster``):

- every call to a chat (it has ``chat_id``): one slot of ``all``, 25 a second
  (Telegram allows about 30; the margin absorbs the network's jitter);
- every new message (``send*``, ``copy*``, ``forward*``) also one slot of its
  chat first: one a second with a burst of three in a private chat, one every
  three seconds (20 a minute) in a group;
- a 429 holds the budget for ``retry_after`` on every instance (the group's
  when it came from a group, ``all`` otherwise) and the call is retried once,
  as ``AIORateLimiter(max_retries=1)`` does.

If the database cannot be asked, the process paces itself alone (a warning
line) until it can again: replies go on, at worst as fast as one instance may.

After a clean ``/reload``, the instance announces it (``NOTIFY``) and every
other instance reloads the same way from its own ``PODRUGA_DATA``; a broken
file there keeps its last good content, as a local reload does.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

from bot.errors import StoreError
from bot.store.cluster import Cluster, LocalBudget, scope_key

log = logging.getLogger("podruga.telegram")

RELOAD = "reload"
OVERALL = "all"


@dataclass(frozen=True, slots=True)
class Rate:
    """One slot every ``interval`` seconds; ``burst`` slots may go at once."""

    interval: float
    burst: int = 1

    @property
    def tolerance(self) -> float:
        return (self.burst - 1) * self.interval


# 25 a second, where Telegram allows about 30: slots are kept when a call leaves, not when
# it arrives, and two instances' calls can bunch on the way. With 28, a CI run saw 31 calls
# reach the strict fake API in one second (tests/telegram/test_peers.py).
ALL_CHATS = Rate(1 / 25)
PRIVATE_CHAT = Rate(1.0, burst=3)
GROUP_CHAT = Rate(3.0)
NEW_MESSAGE = ("send", "copy", "forward")  # method names that make a message in a chat


def is_group(chat_id: int | str) -> bool:
    """Groups and channels have negative ids (or an @username); private chats positive ones."""
    if isinstance(chat_id, str):
        try:
            chat_id = int(chat_id)
        except ValueError:
            return True
    return chat_id < 0


def _seconds(retry_after: timedelta | float | int) -> float:
    if isinstance(retry_after, timedelta):
        return retry_after.total_seconds()
    return float(retry_after)


class SharedRateLimiter(BaseRateLimiter[int]):
    """PTB's rate-limiter interface over the budget every instance shares."""

    def __init__(self, cluster: Cluster, secret: bytes, *, max_retries: int = 1,
                 overall: Rate = ALL_CHATS, private: Rate = PRIVATE_CHAT,
                 group: Rate = GROUP_CHAT) -> None:
        self.cluster = cluster
        self._secret = secret
        self._max_retries = max_retries
        self._overall, self._private, self._group = overall, private, group
        self._local = LocalBudget()
        self._alone = False  # the database could not be asked: pacing this process only

    async def initialize(self) -> None:
        await self.cluster.open()

    async def shutdown(self) -> None:
        """The cluster closes with the application (post_shutdown), after the last send."""

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        retries = rate_limit_args if rate_limit_args is not None else self._max_retries
        chat_id = data.get("chat_id")
        chat: tuple[str, Rate] | None = None
        if chat_id is not None and endpoint.startswith(NEW_MESSAGE):
            chat = (scope_key(self._secret, chat_id),
                    self._group if is_group(chat_id) else self._private)
        attempt = 0
        while True:
            if chat is not None:
                await self._take(*chat)
            if chat_id is not None:
                await self._take(OVERALL, self._overall)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                if attempt >= retries:
                    raise
                attempt += 1
                pause = _seconds(exc.retry_after) + 0.1
                held = (chat[0] if chat is not None and chat_id is not None and is_group(chat_id)
                        else OVERALL)
                log.info("api_retry_after method=%s seconds=%.1f scope=%s", endpoint, pause,
                         "group" if held != OVERALL else OVERALL)
                await self._hold(held, pause)
                await asyncio.sleep(pause)

    async def _take(self, scope: str, rate: Rate) -> None:
        wait = await self._ask(lambda: self.cluster.reserve(scope, rate.interval,
                                                            rate.tolerance),
                               lambda: self._local.reserve(scope, rate.interval,
                                                           rate.tolerance))
        if wait > 0:
            await asyncio.sleep(wait)

    async def _hold(self, scope: str, seconds: float) -> None:
        await self._ask(lambda: self.cluster.hold(scope, seconds),
                        lambda: self._local.hold(scope, seconds))

    async def _ask(self, shared: Callable[[], Coroutine[Any, Any, Any]],
                   local: Callable[[], Any]) -> Any:
        try:
            found = await shared()
        except StoreError as exc:
            if not self._alone:
                self._alone = True
                log.warning("send_budget_alone error=%s", type(exc.__cause__ or exc).__name__)
            return local()
        if self._alone:
            self._alone = False
            log.info("send_budget_shared_again")
        return found


async def join(cluster: Cluster, reload: Callable[[], tuple[list[Any], list[Any]]]) -> None:
    """Open the cluster and reload the content whenever another instance did (or may have)."""
    async def on_event(event: str) -> None:
        if event not in (RELOAD, "reconnected"):
            return
        # In a thread: a reload runs `podruga check`'s checks, seconds of CPU, and women
        # are answered meanwhile.
        errors, issues = await asyncio.to_thread(reload)
        log.info("peer_reload cause=%s errors=%d warnings=%d", event, len(errors), len(issues))

    cluster.subscribe(on_event)
    await cluster.open()


async def announce_reload(cluster: Cluster | None) -> bool:
    """Tell the other instances to reload; False (and a log line) if they cannot be told."""
    if cluster is None:
        return False
    try:
        await cluster.announce(RELOAD)
    except StoreError as exc:
        log.warning("peer_reload_not_announced error=%s", type(exc.__cause__ or exc).__name__)
        return False
    return True


def cluster_for(location: str) -> Cluster | None:
    """A cluster for a PostgreSQL store; None for SQLite (one process, nothing to share)."""
    if location.startswith(("postgresql://", "postgres://")):
        return Cluster(location)
    return None
