"""``podruga run``: check the configuration, load the content, and serve the bot.

Long polling by default; ``--webhook URL`` serves the same Application behind a
reverse proxy with Telegram's ``secret_token`` checked on every request
(``webhook.py``). Both confirm an update to Telegram only once its turn is done
(``intake.py``), and stop gracefully on SIGTERM (systemd's stop): updates in
flight finish first. The content is checked as ``podruga check`` checks it.

Exit status, for a service manager (deploy/podruga.service restarts on 75 and 1,
never on 2 or 3):

- 0: stopped (SIGTERM, Ctrl-C);
- 2 (``EXIT_CONFIG``): a bad setting or option, Telegram refused the token (at
  start or later, a 401 while polling) or the webhook, or the database is damaged
  or from a newer Podruga: a person must fix it, restarting cannot help;
- 3 (``EXIT_CONTENT``): broken flows, catalogs or directory (``file:line`` lines);
- 75 (``EXIT_UNAVAILABLE``, EX_TEMPFAIL): the database or the Bot API cannot be
  reached, or the webhook port is taken: try again later;
- 1: anything else (a bug; Python's own status for an uncaught exception).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from datetime import date
from urllib.parse import urlsplit

from telegram import Update
from telegram.error import Conflict, InvalidToken, NetworkError, RetryAfter, TelegramError

from bot.adapters.telegram import logsafe
from bot.adapters.telegram.handlers import RUNTIME, Runtime
from bot.config import TELEGRAM_API, load_settings
from bot.content.world import WorldHolder, check_all, data_root, freeze_world, staff_language
from bot.errors import OptionError, StoreError
from bot.store import StoreUnavailable

log = logging.getLogger("podruga.telegram")

# my_chat_member: she blocked the bot, so it forgets her at once (handlers.on_chat_member).
ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY, Update.MY_CHAT_MEMBER]
# A pause after each getUpdates that brought something: under load the next poll then
# fetches a batch instead of one update per round trip (each poll costs about as much
# CPU as a reply). 50 ms is nothing to a person; long polling is unchanged when idle.
POLL_INTERVAL = 0.05
LOG_FORMAT = "%(asctime)s level=%(levelname)s logger=%(name)s %(message)s"
EXIT_CONFIG = 2
EXIT_CONTENT = 3
EXIT_UNAVAILABLE = 75


def configure_logging(level: str) -> None:
    """Plain key=value lines on stderr (journald adds the time in production too).

    Every record that is not ours is scrubbed of its arguments and exception text
    (``logsafe``): PTB's start-up retry loop quotes the token in a refused token's
    error, and PTB logs an update it cannot parse whole, with her words in it.
    """
    logging.basicConfig(level=level.upper(), format=LOG_FORMAT, stream=sys.stderr)
    logsafe.install(logging.getLogger().handlers)


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="podruga run", description=(
        "Run the Telegram bot. Settings come from the environment: TELEGRAM_BOT_TOKEN, "
        "PODRUGA_SECRET, and optionally TELEGRAM_API_URL, PODRUGA_DB, PODRUGA_DATA, "
        "PODRUGA_STAFF_IDS, PODRUGA_STAFF_CHAT, PODRUGA_CASE_KEY, PODRUGA_CONSULTANT_HOURS, "
        "PODRUGA_STAFF_LANG, PODRUGA_WEBHOOK_SECRET, PODRUGA_PACING, and HTTPS_PROXY for "
        "the Bot API calls (see README.md and docs/telegram.md). Exit status: 2 a bad "
        "setting, 3 broken content, 75 the database or the Bot API cannot be reached."))
    parser.add_argument("--webhook", metavar="URL",
                        help="serve a webhook at this public https URL instead of long polling")
    parser.add_argument("--listen", default="127.0.0.1",
                        help="address the webhook server binds (default 127.0.0.1, "
                             "behind a reverse proxy)")
    parser.add_argument("--port", type=port_number, default=8443,
                        help="webhook port (default 8443)")
    parser.add_argument("--health-port", type=port_number, metavar="PORT",
                        help="also serve GET /health on this port of the --listen address, "
                             "for an orchestrator (200 ok, 503 unavailable)")
    parser.add_argument("--data", "--dir", dest="data", metavar="DIR",
                        help="content folder with flows/, locales/, directory/ (default: "
                             "$PODRUGA_DATA, else the content shipped with the program)")
    parser.add_argument("--log-level", default="INFO",
                        choices=("DEBUG", "INFO", "WARNING", "ERROR"))
    return parser.parse_args(list(argv))


def port_number(value: str) -> int:
    """A TCP port, 1 to 65535 (argparse type: a bad one is refused with its value)."""
    try:
        port = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a port number") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a port: use 1 to 65535")
    return port


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
    if args.webhook and urlsplit(args.webhook).scheme != "https" and \
            settings.api_url == TELEGRAM_API:
        raise OptionError(f"--webhook must be an https:// URL: Telegram sends updates only "
                          f"over HTTPS, not to {args.webhook!r} (plain http works only with "
                          "a local Bot API server in TELEGRAM_API_URL)")
    root = data_root(args.data)
    # What `podruga check` refuses (a renamed placeholder, an emptied translation) would
    # break her turns: refused here too, as /reload refuses it.
    world, errors, issues = check_all(root, date.today())
    if world is None:
        staff = staff_language(settings.staff_lang, root)
        for error in errors:
            print(error.render(staff), file=sys.stderr)
        print(f"podruga: {len(errors)} problem(s) in the content in {root}; fix them and "
              "start again", file=sys.stderr)
        return EXIT_CONTENT
    log.info("content root=%s steps=%d", root, len(world.flows.steps))
    for issue in issues:
        log.warning("content_warning %s", issue)
    from bot.adapters.telegram.app import build_application

    app = build_application(settings, WorldHolder(world))
    freeze_world()
    if args.health_port is not None:
        from bot.adapters.telegram import health

        health.attach(app, args.listen, args.health_port)
    try:
        if args.webhook:
            from bot.adapters.telegram.webhook import serve_webhook

            log.info("serving webhook listen=%s port=%d", args.listen, args.port)
            asyncio.run(serve_webhook(app, listen=args.listen, port=args.port, path=path,
                                      url=args.webhook, secret=settings.webhook_secret,
                                      allowed_updates=ALLOWED_UPDATES))
        else:
            log.info("serving long_polling")
            app.run_polling(allowed_updates=ALLOWED_UPDATES, poll_interval=POLL_INTERVAL)
    except Exception as exc:  # noqa: BLE001 - each kind becomes its exit status
        code, why = start_failure(exc)
        log.error("start_failed exit=%d error=%s", code, type(exc).__name__)
        print(f"podruga: {why}", file=sys.stderr)
        return code
    if runtime_of(app).fatal == "token":
        print("podruga: Telegram refused TELEGRAM_BOT_TOKEN while the bot was running (401): "
              "it was revoked or changed; copy it again from @BotFather (not retrying)",
              file=sys.stderr)
        return EXIT_CONFIG
    return 0


def runtime_of(app: object) -> Runtime:
    found: Runtime = app.bot_data[RUNTIME]  # type: ignore[attr-defined]
    return found


def start_failure(exc: BaseException) -> tuple[int, str]:
    """The exit status and one line for an error that stopped the bot from serving.

    Messages are ours or the store's (which hold no personal data); a Bot API
    error's text is Telegram's reason, and the transport keeps the token out of it.
    """
    if isinstance(exc, InvalidToken):
        return EXIT_CONFIG, ("Telegram refused TELEGRAM_BOT_TOKEN: copy it again from "
                             "@BotFather (not retrying)")
    if isinstance(exc, StoreUnavailable):  # the server is not up yet, the file is in use
        return EXIT_UNAVAILABLE, f"{exc} (retry later)"
    if isinstance(exc, StoreError):  # damaged, newer than this program, not allowed in
        return EXIT_CONFIG, f"{exc} (not retrying)"
    if isinstance(exc, NetworkError):  # also TimedOut: Telegram or the network is down
        return EXIT_UNAVAILABLE, f"the Bot API cannot be reached: {exc} (retry later)"
    if isinstance(exc, RetryAfter | Conflict):  # flood control; an old instance still polling
        return EXIT_UNAVAILABLE, f"Telegram asked to wait: {exc} (retry later)"
    if isinstance(exc, TelegramError):  # BadRequest (e.g. the webhook URL), Forbidden, ...
        return EXIT_CONFIG, f"Telegram refused to start the bot: {exc} (not retrying)"
    if isinstance(exc, OSError):  # the webhook port is taken, the network is not up yet
        return EXIT_UNAVAILABLE, f"cannot serve: {exc.strerror or exc} (retry later)"
    raise exc
