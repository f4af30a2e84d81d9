"""``GET /health`` for an orchestrator (Docker's HEALTHCHECK, a load balancer, a monitor).

``podruga run --health-port 8081`` serves it on the ``--listen`` address, on a
port of its own, so the reverse proxy never exposes it. 200 with
``{"status": "ok", ...}`` when the bot is running and its store answers within
two seconds; 503 with ``"status": "unavailable"`` otherwise. The body holds the
number of steps loaded, the store's name and whether the instances share a
send budget: nothing about anyone.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiohttp import web
from telegram.ext import Application

from bot.adapters.telegram.handlers import RUNTIME, Runtime
from bot.errors import StoreError

log = logging.getLogger("podruga.telegram")

STORE_TIMEOUT_S = 2.0


async def status(app: Application) -> tuple[int, dict[str, Any]]:  # type: ignore[type-arg]
    """The HTTP status and body ``/health`` answers now."""
    rt: Runtime = app.bot_data[RUNTIME]
    body: dict[str, Any] = {"status": "ok", "running": app.running,
                            "steps": len(rt.holder.world.flows.steps),
                            "store": "down", "shared": rt.cluster is not None}
    if rt.store is not None:
        try:
            await asyncio.wait_for(rt.store.schema_version(), STORE_TIMEOUT_S)
            body["store"] = rt.store.name
        except (StoreError, TimeoutError):
            pass  # the answer says so: "store": "down", status 503
    if not app.running or body["store"] == "down":
        body["status"] = "unavailable"
        return 503, body
    return 200, body


class HealthServer:
    """A one-route aiohttp server in the bot's own event loop."""

    def __init__(self, app: Application, host: str, port: int) -> None:  # type: ignore[type-arg]
        self.app, self.host, self.port = app, host, port
        self._runner: web.AppRunner | None = None

    async def _health(self, request: web.Request) -> web.Response:
        code, body = await status(self.app)
        return web.json_response(body, status=code)

    async def start(self) -> None:
        server = web.Application()
        server.router.add_get("/health", self._health)
        self._runner = web.AppRunner(server, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        if self.port == 0:  # a free port was asked for (tests)
            self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        log.info("health listen=%s port=%d", self.host, self.port)

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()


def attach(app: Application, host: str, port: int) -> HealthServer:  # type: ignore[type-arg]
    """Serve ``/health`` from when the bot has started until it stops."""
    server = HealthServer(app, host, port)
    started, stopped = app.post_init, app.post_shutdown

    async def post_init(application: Application) -> None:  # type: ignore[type-arg]
        if started is not None:
            await started(application)
        await server.start()

    async def post_shutdown(application: Application) -> None:  # type: ignore[type-arg]
        await server.stop()
        if stopped is not None:
            await stopped(application)

    app.post_init = post_init
    app.post_shutdown = post_shutdown
    return server
