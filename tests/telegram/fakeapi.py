"""A fake Bot API server on 127.0.0.1: enough of Telegram for the real Application to run.

It keeps one list of messages per chat (hers and the bot's), so a test can ask
what her phone would show; it records every call; it serves queued updates to
long polling and confirms them by ``offset`` as Telegram does; and it can be told
to answer a method with an error (429 with ``retry_after``, 403, 401, ...), to
stall or drop it, or to carry it out and answer late (a timeout although
Telegram delivered), each optionally for one chat only. Used by the e2e tests
and by bench/telegram_bench.py.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

BOT_ID = 7000000001
BOT_USER = {"id": BOT_ID, "is_bot": True, "first_name": "Podruga", "username": "podruga_test_bot",
            "can_join_groups": True, "can_read_all_group_messages": False,
            "supports_inline_queries": False}
# Parameters that are plain strings even when they look like JSON (her text, labels).
STRINGS = frozenset({"text", "parse_mode", "callback_query_id", "url", "secret_token",
                     "language_code", "caption", "description", "ip_address"})


@dataclass
class Call:
    """One request the bot made."""

    method: str
    params: dict[str, Any]
    at: float = field(default_factory=time.perf_counter)


@dataclass
class Woman:
    """A simulated Telegram user in a private chat with the bot."""

    api: FakeBotApi
    id: int
    first_name: str = "Olena"
    username: str | None = None
    language_code: str | None = "uk"

    def user(self) -> dict[str, Any]:
        user: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.username:
            user["username"] = self.username
        if self.language_code:
            user["language_code"] = self.language_code
        return user

    def chat(self) -> dict[str, Any]:
        chat: dict[str, Any] = {"id": self.id, "type": "private", "first_name": self.first_name}
        if self.username:
            chat["username"] = self.username
        return chat

    def say(self, text: str) -> int:
        """She types (a command too, starting with /); returns the update id."""
        message: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            message["entities"] = [{"type": "bot_command", "offset": 0,
                                    "length": len(text.split()[0])}]
        return self.api.from_her(self, message)

    def share_location(self, lat: float, lon: float) -> int:
        return self.api.from_her(self, {"location": {"latitude": lat, "longitude": lon}})

    def send_sticker(self) -> int:
        return self.api.from_her(self, {"sticker": {
            "file_id": "s1", "file_unique_id": "s1", "width": 512, "height": 512,
            "is_animated": False, "is_video": False, "type": "regular"}})

    def tap(self, data: str, message_id: int | None = None) -> int:
        """She taps a button (``data`` is its callback data) on a message of the bot."""
        if message_id is None:
            message_id = self.api.last_bot_message(self.id)["message_id"]
        message = self.api.chats[self.id].get(message_id) or {
            "message_id": message_id, "date": 0, "chat": self.chat()}
        update = {"callback_query": {"id": str(next(self.api._ids)), "from": self.user(),
                                     "chat_instance": f"ci{self.id}", "data": data,
                                     "message": message}}
        return self.api.push(update)

    def tap_label(self, label_part: str) -> int:
        """Tap the button whose label contains ``label_part`` on the bot's last message."""
        message = self.api.last_bot_message(self.id)
        for row in message.get("reply_markup", {}).get("inline_keyboard", []):
            for button in row:
                if label_part in button["text"]:
                    return self.tap(button["callback_data"], message["message_id"])
        raise AssertionError(f"no button with {label_part!r} on the last message")

    def buttons(self) -> list[str]:
        """Callback data of every button on the bot's last message."""
        message = self.api.last_bot_message(self.id)
        return [b["callback_data"] for row in message.get("reply_markup", {}).get(
            "inline_keyboard", []) for b in row]

    def screen(self) -> list[dict[str, Any]]:
        """Her chat as her phone shows it, oldest first."""
        return self.api.screen(self.id)


@dataclass
class Consultant:
    """A peer consultant writing in the staff group chat."""

    api: FakeBotApi
    chat_id: int
    id: int = 900001
    first_name: str = "Marta"

    def say(self, text: str, reply_to: int | None = None) -> int:
        """She writes in the group, as a reply to a message of the bot when ``reply_to``."""
        user = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        chat = {"id": self.chat_id, "type": "supergroup", "title": "Podruga staff"}
        message: dict[str, Any] = {"message_id": next(self.api._message_ids[self.chat_id]),
                                   "date": int(time.time()), "chat": chat, "from": user,
                                   "text": text}
        if text.startswith("/"):
            message["entities"] = [{"type": "bot_command", "offset": 0,
                                    "length": len(text.split()[0])}]
        if reply_to is not None:
            original = self.api.chats[self.chat_id].get(reply_to)
            assert original is not None, "no such message in the staff chat"
            message["reply_to_message"] = {k: v for k, v in original.items()
                                           if not k.startswith("_")}
        self.api.chats[self.chat_id][message["message_id"]] = message
        return self.api.push({"message": message})

    def messages(self) -> list[dict[str, Any]]:
        """What the bot posted in the staff chat, oldest first."""
        return [m for m in self.api.screen(self.chat_id) if m["from"]["id"] == BOT_ID]


class FakeBotApi:
    """The fake server; ``async with FakeBotApi() as api`` starts it on a free port."""

    def __init__(self, token: str = "123456:TEST-token-abcdefghijklmnopqrstuvwxyz",
                 latency: float = 0.0) -> None:
        self.token = token
        self.latency = latency  # seconds added to every answer, like the way to Telegram
        self.calls: list[Call] = []
        self.updates: list[dict[str, Any]] = []
        self.delivered = 0  # update ids below this were fetched by the bot
        self.chats: dict[int, dict[int, dict[str, Any]]] = defaultdict(dict)
        # method -> (status, body, chat or None for any chat)
        self.failures: dict[str, list[tuple[int, dict[str, Any], int | None]]] = defaultdict(list)
        # method -> (stall seconds, None: drop; chat or None; "before" or "after" the work)
        self.faults: dict[str, list[tuple[float | None, int | None, str]]] = defaultdict(list)
        self.confirmed = 0  # update ids below this were confirmed by the bot (getUpdates offset)
        self.commands: dict[str, list[dict[str, Any]]] = {}
        self.webhook: dict[str, Any] = {"url": ""}
        self.sent_at: dict[int, float] = {}  # update id -> when she sent it (for the bench)
        self.answered_at: dict[int, float] = {}  # chat id -> last time the bot wrote to it
        self.answered: dict[int, asyncio.Event] = defaultdict(asyncio.Event)  # set on each write
        self._ids = itertools.count(1)
        self._message_ids: dict[int, itertools.count[int]] = defaultdict(
            lambda: itertools.count(1))
        self._arrived = asyncio.Event()
        self._released = False
        self._runner: web.AppRunner | None = None
        self.port = 0

    # -- lifetime ------------------------------------------------------------------
    async def __aenter__(self) -> FakeBotApi:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.release()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    def release(self) -> None:
        """Let pending long polls return at once (before stopping the bot)."""
        self._released = True
        self._arrived.set()

    # -- what the test does ----------------------------------------------------------
    def woman(self, user_id: int, **kwargs: Any) -> Woman:
        return Woman(self, user_id, **kwargs)

    def consultant(self, chat_id: int, **kwargs: Any) -> Consultant:
        return Consultant(self, chat_id, **kwargs)

    def push(self, update: dict[str, Any]) -> int:
        update_id = len(self.updates) + 1
        update["update_id"] = update_id
        self.updates.append(update)
        self.sent_at[update_id] = time.perf_counter()
        self._arrived.set()
        return update_id

    def from_her(self, woman: Woman, content: dict[str, Any]) -> int:
        message_id = next(self._message_ids[woman.id])
        message = {"message_id": message_id, "date": int(time.time()), "chat": woman.chat(),
                   "from": woman.user(), **content}
        self.chats[woman.id][message_id] = message
        return self.push({"message": message})

    def fail(self, method: str, status: int, times: int = 1, chat: int | None = None,
             **parameters: Any) -> None:
        """Answer the next ``times`` calls of ``method`` (to ``chat`` only, if given)
        with an error."""
        descriptions = {429: f"Too Many Requests: retry after {parameters.get('retry_after')}",
                        403: "Forbidden: bot was blocked by the user",
                        401: "Unauthorized",
                        400: "Bad Request: message to edit not found"}
        body: dict[str, Any] = {"ok": False, "error_code": status,
                                "description": parameters.pop("description", None)
                                or descriptions.get(status, "Error")}
        if parameters:
            body["parameters"] = parameters
        self.failures[method] += [(status, body, chat)] * times

    def stall(self, method: str, seconds: float, times: int = 1, chat: int | None = None) -> None:
        """Hold the next ``times`` calls of ``method`` this long before answering."""
        self.faults[method] += [(seconds, chat, "before")] * times

    def late(self, method: str, seconds: float, times: int = 1, chat: int | None = None) -> None:
        """Carry out the next ``times`` calls of ``method``, then answer ``seconds`` late:
        past the bot's read timeout, the message is delivered although the call failed."""
        self.faults[method] += [(seconds, chat, "after")] * times

    def drop(self, method: str, times: int = 1) -> None:
        """Close the connection on the next ``times`` calls of ``method``, answering nothing."""
        self.faults[method] += [(None, None, "before")] * times

    @staticmethod
    def _first(entries: list[Any], chat: Any, at: int) -> Any:
        """Remove and return the first entry meant for this call's chat (``entry[at]``)."""
        for i, entry in enumerate(entries):
            if entry[at] is None or entry[at] == chat:
                return entries.pop(i)
        return None

    def her_message(self, woman: Woman, text: str) -> int:
        """A message she sent that the bot never heard of (its update was lost)."""
        message_id = next(self._message_ids[woman.id])
        self.chats[woman.id][message_id] = {"message_id": message_id, "date": int(time.time()),
                                            "chat": woman.chat(), "from": woman.user(),
                                            "text": text}
        return message_id

    def called(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def last_bot_message(self, chat_id: int) -> dict[str, Any]:
        mine = [m for m in self.chats[chat_id].values() if m.get("from", {}).get("id") == BOT_ID]
        assert mine, "the bot has not written to this chat"
        return max(mine, key=lambda m: m["message_id"])

    def screen(self, chat_id: int) -> list[dict[str, Any]]:
        return [self.chats[chat_id][k] for k in sorted(self.chats[chat_id])]

    # -- the API ---------------------------------------------------------------------
    async def _params(self, request: web.Request) -> dict[str, Any]:
        if request.content_type == "application/json":
            raw: dict[str, Any] = await request.json()
            return raw
        form = await request.post()
        params: dict[str, Any] = {}
        for name, value in form.items():
            if not isinstance(value, str):
                continue
            if name in STRINGS:
                params[name] = value
                continue
            try:
                params[name] = json.loads(value)
            except ValueError:
                params[name] = value
        return params

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response({"ok": False, "error_code": 401,
                                      "description": "Unauthorized"}, status=401)
        method = request.match_info["method"]
        params = await self._params(request)
        if self.latency and method != "getUpdates":
            await asyncio.sleep(self.latency)
        self.calls.append(Call(method, params))
        chat = params.get("chat_id")
        chat = int(chat) if isinstance(chat, int | str) and str(chat).lstrip("-").isdigit() \
            else chat
        fault = self._first(self.faults.get(method, []), chat, 1)
        if fault is not None and fault[2] == "before":
            if fault[0] is None:
                assert request.transport is not None
                request.transport.close()
                return web.Response()
            await asyncio.sleep(fault[0])
        failure = self._first(self.failures.get(method, []), chat, 2)
        if failure is not None:
            status, body, _ = failure
            return web.json_response(body, status=status)
        handler = getattr(self, f"api_{method}", None)
        if handler is None:
            return web.json_response({"ok": False, "error_code": 404,
                                      "description": "Not Found: method not found"}, status=404)
        try:
            result = await handler(params)
        except _ApiError as exc:
            return web.json_response({"ok": False, "error_code": exc.status,
                                      "description": exc.description}, status=exc.status)
        if fault is not None and fault[2] == "after" and fault[0] is not None:
            await asyncio.sleep(fault[0])
        return web.json_response({"ok": True, "result": result})

    async def api_getMe(self, params: dict[str, Any]) -> Any:
        return BOT_USER

    async def api_getUpdates(self, params: dict[str, Any]) -> Any:
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        timeout = float(params.get("timeout") or 0)
        self.delivered = max(self.delivered, offset)
        self.confirmed = max(self.confirmed, offset)
        # As Telegram does: updates below a confirmed offset are gone for good.
        offset = max(offset, self.confirmed)
        deadline = time.monotonic() + timeout
        while True:
            # Update ids are 1, 2, 3, ...: the ones from ``offset`` on are a slice.
            ready = self.updates[max(offset, 1) - 1:max(offset, 1) - 1 + limit]
            if ready or self._released or time.monotonic() >= deadline:
                return ready
            self._arrived.clear()
            try:
                await asyncio.wait_for(self._arrived.wait(), deadline - time.monotonic())
            except TimeoutError:
                return []

    def _bot_message(self, chat_id: int, text: str, params: dict[str, Any]) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": next(self._message_ids[chat_id]), "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"},
            "from": BOT_USER, "text": text}
        markup = params.get("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            message["reply_markup"] = markup
        message["_params"] = {k: v for k, v in params.items() if k not in ("chat_id", "text")}
        self.chats[chat_id][message["message_id"]] = message
        self.answered_at[chat_id] = time.perf_counter()
        self.answered[chat_id].set()
        return {k: v for k, v in message.items() if not k.startswith("_")}

    async def api_sendMessage(self, params: dict[str, Any]) -> Any:
        return self._bot_message(int(params["chat_id"]), str(params["text"]), params)

    async def api_editMessageText(self, params: dict[str, Any]) -> Any:
        chat_id, message_id = int(params["chat_id"]), int(params["message_id"])
        message = self.chats[chat_id].get(message_id)
        if message is None:
            raise _ApiError(400, "Bad Request: message to edit not found")
        if message.get("from", {}).get("id") != BOT_ID:
            raise _ApiError(400, "Bad Request: message can't be edited")
        markup = params.get("reply_markup")
        if message["text"] == params["text"] and message.get("reply_markup") == markup:
            raise _ApiError(400, "Bad Request: message is not modified: specified new message "
                                 "content and reply markup are exactly the same")
        message["text"] = params["text"]
        message.pop("reply_markup", None)
        if isinstance(markup, dict):
            message["reply_markup"] = markup
        message["_edited"] = message.get("_edited", 0) + 1
        self.answered_at[chat_id] = time.perf_counter()
        self.answered[chat_id].set()
        return {k: v for k, v in message.items() if not k.startswith("_")}

    async def api_editMessageReplyMarkup(self, params: dict[str, Any]) -> Any:
        chat_id, message_id = int(params["chat_id"]), int(params["message_id"])
        message = self.chats[chat_id].get(message_id)
        if message is None:
            raise _ApiError(400, "Bad Request: message to edit not found")
        message.pop("reply_markup", None)
        if isinstance(params.get("reply_markup"), dict):
            message["reply_markup"] = params["reply_markup"]
        return {k: v for k, v in message.items() if not k.startswith("_")}

    async def api_deleteMessage(self, params: dict[str, Any]) -> Any:
        chat_id, message_id = int(params["chat_id"]), int(params["message_id"])
        if self.chats[chat_id].pop(message_id, None) is None:
            raise _ApiError(400, "Bad Request: message to delete not found")
        return True

    async def api_deleteMessages(self, params: dict[str, Any]) -> Any:
        chat_id, ids = int(params["chat_id"]), list(params["message_ids"])
        if not 1 <= len(ids) <= 100:
            raise _ApiError(400, "Bad Request: too many messages to delete")
        for message_id in ids:
            self.chats[chat_id].pop(int(message_id), None)
        return True

    async def api_answerCallbackQuery(self, params: dict[str, Any]) -> Any:
        return True

    async def api_setMyCommands(self, params: dict[str, Any]) -> Any:
        self.commands[str(params.get("language_code") or "")] = list(params["commands"])
        return True

    async def api_deleteWebhook(self, params: dict[str, Any]) -> Any:
        self.webhook = {"url": ""}
        return True

    async def api_setWebhook(self, params: dict[str, Any]) -> Any:
        self.webhook = dict(params)
        return True

    async def api_getWebhookInfo(self, params: dict[str, Any]) -> Any:
        return {"url": self.webhook.get("url", ""), "has_custom_certificate": False,
                "pending_update_count": 0}

    async def api_close(self, params: dict[str, Any]) -> Any:
        return True

    async def api_logOut(self, params: dict[str, Any]) -> Any:
        return True


class _ApiError(Exception):
    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
