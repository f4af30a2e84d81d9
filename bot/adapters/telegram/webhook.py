"""The webhook: Telegram's POST is answered only after her turn is done.

python-telegram-bot's webhook server queues an update and answers 200 at once,
so a hard kill loses every update it had already confirmed; and it logs an
update it cannot parse, whole, at CRITICAL. This small aiohttp server does
neither:

- a request without the right ``X-Telegram-Bot-Api-Secret-Token`` is refused
  with 403 before its body is read; a body that is not a JSON object, 400;
- an update is parsed on its own (``intake.parse_update``): one that cannot be
  read is skipped and counted, and answered 200 so that Telegram does not send
  it again forever;
- every other update is processed (``Application.process_update``: her turn,
  saved) and only then answered 200. If the process dies first, Telegram gets
  no answer and delivers the update again.

``serve_webhook`` runs the whole life of the bot in webhook mode: start, set the
webhook with the secret token, serve until SIGTERM or SIGINT (requests in
flight finish), stop. ``webhook_app`` is the aiohttp application alone, for
tests and for anything that needs another route next to it.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import signal
from collections.abc import Sequence
from typing import Any

from aiohttp import web
from telegram.ext import Application

from bot.adapters.telegram.intake import parse_update

log = logging.getLogger("podruga.telegram")

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_BODY = 1 << 20  # an update is a few kilobytes; Telegram caps messages far below this
MAX_CONNECTIONS = 40  # Telegram's default number of webhook requests at once
SHUTDOWN_SECONDS = 30.0  # on SIGTERM, turns in flight get this long to finish


def webhook_app(app: Application, path: str, secret: str) -> web.Application:  # type: ignore[type-arg]
    """The aiohttp application that serves ``path`` (no leading slash)."""

    async def hook(request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), secret.encode()):
            return web.Response(status=403)
        try:
            data: Any = json.loads(await request.read())
        except (ValueError, UnicodeDecodeError):
            log.info("webhook_refused reason=not_json")
            return web.Response(status=400)
        update = parse_update(data, app.bot)
        if update is None:
            log.info("webhook_refused reason=no_update")
            return web.Response(status=400)
        # The turn runs (and is saved) before Telegram hears that the update arrived.
        await app.process_update(update)
        return web.Response(status=200)

    server = web.Application(client_max_size=MAX_BODY)
    server.router.add_post("/" + path.strip("/"), hook)
    return server


async def serve_webhook(app: Application, *, listen: str, port: int, path: str,  # type: ignore[type-arg]
                        url: str, secret: str, allowed_updates: Sequence[str],
                        stop: asyncio.Event | None = None) -> None:
    """Run the bot behind a webhook until SIGTERM or SIGINT (or ``stop`` is set)."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    app.bot.when_fatal(lambda reason: stop.set())  # type: ignore[attr-defined]
    await app.initialize()
    runner: web.AppRunner | None = None
    try:
        if app.post_init is not None:
            await app.post_init(app)
        runner = web.AppRunner(webhook_app(app, path, secret), access_log=None,
                               shutdown_timeout=SHUTDOWN_SECONDS)
        await runner.setup()
        await web.TCPSite(runner, listen, port).start()
        await app.bot.set_webhook(url, secret_token=secret, allowed_updates=allowed_updates,
                                  max_connections=MAX_CONNECTIONS)
        await app.start()
        log.info("webhook_ready")
        await stop.wait()
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
        if runner is not None:
            await runner.cleanup()  # stops listening; requests in flight finish their turns
        if app.running:
            await app.stop()
        await app.shutdown()
        if app.post_shutdown is not None:
            await app.post_shutdown(app)
