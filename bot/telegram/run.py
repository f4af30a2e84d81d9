"""``podruga run``: check the configuration, load the content, and serve the bot.

Long polling by default; ``--webhook URL`` serves the same Application behind a
reverse proxy with Telegram's ``secret_token`` checked on every request. Both
stop gracefully on SIGTERM (systemd's stop): updates in flight finish first.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlsplit

from telegram import Update

from bot.config import load_settings
from bot.errors import OptionError
from bot.world import DEFAULT_ROOT, WorldHolder, load_world

log = logging.getLogger("podruga.telegram")

ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY]
# A pause after each getUpdates that brought something: under load the next poll then
# fetches a batch instead of one update per round trip (each poll costs about as much
# CPU as a reply). 50 ms is nothing to a person; long polling is unchanged when idle.
POLL_INTERVAL = 0.05
LOG_FORMAT = "%(asctime)s level=%(levelname)s logger=%(name)s %(message)s"


def configure_logging(level: str) -> None:
    """Plain key=value lines on stderr (journald adds the time in production too)."""
    logging.basicConfig(level=level.upper(), format=LOG_FORMAT, stream=sys.stderr)


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="podruga run", description=(
        "Run the Telegram bot. Settings come from the environment: TELEGRAM_BOT_TOKEN, "
        "PODRUGA_SECRET, and optionally TELEGRAM_API_URL, PODRUGA_DB, PODRUGA_STAFF_IDS, "
        "PODRUGA_STAFF_CHAT, PODRUGA_CASE_KEY, PODRUGA_WEBHOOK_SECRET (see docs/telegram.md)."))
    parser.add_argument("--webhook", metavar="URL",
                        help="serve a webhook at this public https URL instead of long polling")
    parser.add_argument("--listen", default="127.0.0.1",
                        help="address the webhook server binds (default 127.0.0.1, "
                             "behind a reverse proxy)")
    parser.add_argument("--port", type=int, default=8443, help="webhook port (default 8443)")
    parser.add_argument("--dir", help="project folder with flows/, locales/, directory/")
    parser.add_argument("--log-level", default="INFO",
                        choices=("DEBUG", "INFO", "WARNING", "ERROR"))
    return parser.parse_args(list(argv))


def webhook_path(url: str) -> str:
    """The path part of the public URL: the proxy passes it through unchanged."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.netloc:
        raise OptionError(f"--webhook must be a full URL such as https://bot.example.org/tg, "
                          f"not {url!r}")
    return parts.path.strip("/")


def run_main(argv: Sequence[str]) -> int:
    """Start the bot; refuse to start with a clear message when the configuration is wrong."""
    args = parse_args(argv)
    settings = load_settings()
    configure_logging(args.log_level)
    path = webhook_path(args.webhook) if args.webhook else ""
    root = Path(args.dir).resolve() if args.dir else DEFAULT_ROOT
    world, errors, issues = load_world(root)
    if world is None:
        for error in errors:
            print(error, file=sys.stderr)
        print(f"podruga: {len(errors)} problem(s) in the content; fix them and start again",
              file=sys.stderr)
        return 1
    for issue in issues:
        log.warning("content_warning %s", issue)
    from bot.telegram.app import build_application

    app = build_application(settings, WorldHolder(world))
    if args.webhook:
        log.info("serving webhook listen=%s port=%d", args.listen, args.port)
        app.run_webhook(listen=args.listen, port=args.port, url_path=path,
                        webhook_url=args.webhook, secret_token=settings.webhook_secret,
                        allowed_updates=ALLOWED_UPDATES)
    else:
        log.info("serving long_polling")
        app.run_polling(allowed_updates=ALLOWED_UPDATES, poll_interval=POLL_INTERVAL)
    return 0
