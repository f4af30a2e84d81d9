"""The benchmark's yardstick: a bare python-telegram-bot bot that answers every message "ok".

Run by bench/telegram_bench.py as a process of its own, configured like
``podruga run`` (``TELEGRAM_BOT_TOKEN``, ``TELEGRAM_API_URL``) with the same
concurrency, defaults, unpaced rate limiter and long polling (poll interval too), so the two differ
only in what a turn does.

Its HTTP transport is PTB's default (httpx) unless ``BARE_TRANSPORT=aiohttp``: then it
uses Podruga's own transport too, and the benchmark's second ratio compares the
turns alone, with the transport's gain taken out.
"""

from __future__ import annotations

import os

from telegram import Update
from telegram.ext import (
    AIORateLimiter,
    ApplicationBuilder,
    ContextTypes,
    Defaults,
    MessageHandler,
    filters,
)

from bot.adapters.telegram.app import CONCURRENT_UPDATES
from bot.adapters.telegram.run import ALLOWED_UPDATES, POLL_INTERVAL
from bot.adapters.telegram.transport import AiohttpRequest


async def answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if update.effective_chat is not None:
        await context.bot.send_message(update.effective_chat.id, "ok")


def main() -> None:
    builder = (ApplicationBuilder().token(os.environ["TELEGRAM_BOT_TOKEN"])
               .base_url(os.environ["TELEGRAM_API_URL"])
               .defaults(Defaults(protect_content=True))
               .rate_limiter(AIORateLimiter(overall_max_rate=0, group_max_rate=0, max_retries=1))
               .concurrent_updates(CONCURRENT_UPDATES))
    if os.environ.get("BARE_TRANSPORT") == "aiohttp":
        builder = (builder.request(AiohttpRequest(pool_size=CONCURRENT_UPDATES))
                   .get_updates_request(AiohttpRequest(pool_size=1)))
    app = builder.build()
    app.add_handler(MessageHandler(filters.ALL, answer))
    app.run_polling(allowed_updates=ALLOWED_UPDATES, poll_interval=POLL_INTERVAL)


if __name__ == "__main__":
    main()
