"""Library log records made safe: nothing they carry can name her.

python-telegram-bot logs whole updates in some of its messages (an update it
cannot parse at CRITICAL, every update at DEBUG), and its exceptions may quote
the data that broke them. Holding its loggers at INFO is not enough: CRITICAL
still passes. So every record from the libraries that talk to Telegram keeps
only its fixed format string: the arguments become ``<hidden>``, and an attached
exception becomes its type and code location, the way ``handlers.on_error``
logs our own. The same holds for every other logger that is not ours (asyncio's
"exception was never retrieved" quotes the exception too). Our own loggers
(``podruga.*``) write no personal data to begin with and are left alone.

The filter is attached twice: to every library logger that exists once PTB is
imported (a logger's filter sees the records made on it), and to the handlers
``podruga run`` writes with (a handler's filter also sees records of loggers
made later).
"""

from __future__ import annotations

import logging
import re
import traceback

LIBRARIES = ("telegram", "httpx", "httpcore", "aiohttp", "tornado", "apscheduler", "aiosqlite",
             "asyncpg")
HIDDEN = "<hidden>"
# A %-style placeholder: %s, %r, %d, %(name)s, %-5.2f ...
_PLACEHOLDER = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[diouxXeEfFgGcrsa]")


def is_library(name: str) -> bool:
    """Every logger but ours."""
    return name != "podruga" and not name.startswith("podruga.")


def where(error: BaseException) -> str:
    """The last code locations of an exception, as ``file.py:line>...``: no message."""
    frames = traceback.extract_tb(error.__traceback__)[-4:]
    return ">".join(f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno}" for f in frames) or "-"


def scrub(record: logging.LogRecord) -> None:
    """Keep a record's fixed words; drop its arguments, exception text and stack."""
    if getattr(record, "podruga_scrubbed", False):
        return
    message = record.msg if isinstance(record.msg, str) else type(record.msg).__name__
    if record.args:
        message = _PLACEHOLDER.sub(HIDDEN, message.replace("%%", "\0")).replace("\0", "%")
    if record.exc_info and record.exc_info[1] is not None:
        error = record.exc_info[1]
        message += f" error={type(error).__name__} where={where(error)}"
    record.msg, record.args = message, ()
    record.exc_info, record.exc_text, record.stack_info = None, None, None
    record.podruga_scrubbed = True


class LibraryRecords(logging.Filter):
    """Scrubs the records of LIBRARIES; lets every record through."""

    def filter(self, record: logging.LogRecord) -> bool:
        if is_library(record.name):
            scrub(record)
        return True


FILTER = LibraryRecords()


def install(handlers: list[logging.Handler] | None = None) -> None:
    """Attach the filter to the library loggers that exist now, and to ``handlers``."""
    import telegram.ext  # noqa: F401 - its module loggers must exist to get the filter

    names = [n for n in logging.root.manager.loggerDict
             if any(n == lib or n.startswith(lib + ".") for lib in LIBRARIES)]
    for name in [*LIBRARIES, *names]:
        logger = logging.getLogger(name)
        if FILTER not in logger.filters:
            logger.addFilter(FILTER)
    for handler in handlers or ():
        if FILTER not in handler.filters:
            handler.addFilter(FILTER)
