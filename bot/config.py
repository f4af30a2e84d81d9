"""Settings from the environment, validated at start with messages a deployer understands.

``load_settings(env)`` reads every variable DESIGN.md lists, collects every
problem and raises one ``OptionError`` naming them all, so a deployer fixes the
``.env`` file in one go instead of one restart per mistake.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from bot.errors import OptionError
from bot.store import default_location, location_problem
from bot.store.keys import MIN_SECRET_BYTES
from bot.vocabulary import LANGS

if TYPE_CHECKING:
    from bot.engine.handover import ConsultantHours

# The catalogs' languages, English first: it is the source language staff read.
STAFF_LANGS = tuple(sorted(LANGS, key=lambda lang: lang != "en"))
TELEGRAM_API = "https://api.telegram.org/bot"  # python-telegram-bot's own default base_url
_MAKE_ONE = 'make one with: python -c "import secrets; print(secrets.token_urlsafe(48))"'
_WEBHOOK_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")  # what Telegram accepts as secret_token
_TOKEN = re.compile(r"^\d{3,20}:[A-Za-z0-9_-]{20,}$")
# "uk=Mon-Fri 10:00-18:00 Europe/Kyiv": a language (optional), a line of hours, a time zone
_HOURS = re.compile(r"^(?:(?P<lang>[a-z]{2})\s*=\s*)?(?P<line>.+?)\s+(?P<zone>\S+)$")


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything ``podruga run`` needs from the deployer; secrets never appear in repr."""

    token: str = field(repr=False)
    secret: bytes = field(repr=False)
    api_url: str = TELEGRAM_API
    db: str = ""
    staff_ids: frozenset[int] = frozenset()
    staff_chat: int | None = None
    case_key: bytes | None = field(default=None, repr=False)
    webhook_secret: str = field(default="", repr=False)
    consultant_hours: str = ""
    staff_lang: str = "en"  # what the bot tells staff (hand-over, /reload, /stats, check)
    paced: bool = True  # False only for a local Bot API server (benchmarks): no 30/s pacing


def api_url(value: str) -> str:
    """The base URL as python-telegram-bot's ``base_url`` takes it (ending in ``/bot``).

    ``https://api.telegram.org`` and ``https://api.telegram.org/bot`` mean the
    same: a deployer copying a self-hosted server's address should not have to
    know PTB's convention. A ``{token}`` placeholder is passed through as it is.
    """
    url = value.strip().rstrip("/") or TELEGRAM_API
    if "{token}" in url or url.endswith("/bot"):
        return url
    return url + "/bot"


def read_staff_lang(env: Mapping[str, str]) -> tuple[str, str]:
    """``PODRUGA_STAFF_LANG``: the language staff read (notices, /reload, /stats, `podruga
    check`), and the problem with it ("" when there is none; then the language is "en")."""
    lang = env.get("PODRUGA_STAFF_LANG", "").strip().lower() or "en"
    if lang not in STAFF_LANGS:
        return "en", (f"PODRUGA_STAFF_LANG must be one of {', '.join(STAFF_LANGS)} (the "
                      f"language of the staff group's notices), not {lang!r}")
    return lang, ""


def webhook_secret(secret: bytes) -> str:
    """A webhook secret derived from ``PODRUGA_SECRET``, so one secret is enough to deploy."""
    return hmac.new(secret, b"podruga/webhook/v1", hashlib.sha256).hexdigest()


def _ids(name: str, raw: str, problems: list[str]) -> frozenset[int]:
    found = set()
    for part in re.split(r"[\s,;]+", raw.strip()):
        if not part:
            continue
        try:
            found.add(int(part))
        except ValueError:
            problems.append(f"{name} must list numeric Telegram user ids separated by commas; "
                            f"{part!r} is not a number")
    return frozenset(found)


def _secret(name: str, raw: str, what: str, problems: list[str]) -> bytes:
    value = raw.encode("utf-8")
    if not value:
        problems.append(f"{name} is not set: it is the {what}; {_MAKE_ONE}")
    elif len(value) < MIN_SECRET_BYTES:
        problems.append(f"{name} is {len(value)} bytes long, it must be at least "
                        f"{MIN_SECRET_BYTES}; {_MAKE_ONE}")
    return value


def _db_problems(db: str) -> list[str]:
    """A URL of another database, or a SQLite file in a folder that does not exist."""
    problem = location_problem(db)
    if problem is not None:
        return [problem]
    if db.startswith(("postgresql://", "postgres://")) or db == ":memory:":
        return []
    folder = Path(db).expanduser().parent
    if not folder.is_dir():
        # A typo here would start an empty database and lose every open conversation.
        return [f"PODRUGA_DB: the folder {folder} does not exist; create it for the user the "
                "bot runs as, or correct the path"]
    return []


def _proxy_problems(env: Mapping[str, str], url: str) -> list[str]:
    """The proxy for Bot API calls, read from the environment as aiohttp reads it.

    aiohttp (bot/adapters/telegram/transport.py) reaches an https Bot API through an
    ``http://`` proxy (TLS is tunnelled with CONNECT); it silently ignores an
    ``https://`` proxy and cannot use a SOCKS one, so both are refused here.
    """
    scheme = "http" if url.startswith("http://") else "https"
    for name in (f"{scheme}_proxy", f"{scheme.upper()}_PROXY"):  # lower case wins, as in urllib
        value = env.get(name, "").strip()
        if not value:
            continue
        found = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*)://", value)
        if found is None or found[1].lower() != "http":
            given = f"{found[1]}://" if found else "a URL without http://"
            return [f"{name} must be an http:// proxy URL such as http://proxy.example.org:3128 "
                    f"(Bot API calls tunnel through it); {given} is not supported"]
        return []
    return []


def load_settings(env: Mapping[str, str] | None = None, *, need_token: bool = True) -> Settings:
    """Read and check the environment; one OptionError listing every problem."""
    env = os.environ if env is None else env
    problems: list[str] = []
    token = env.get("TELEGRAM_BOT_TOKEN", "").strip()
    if need_token and not token:
        problems.append("TELEGRAM_BOT_TOKEN is not set: get a token from @BotFather and put it "
                        "in the environment (the settings file your service manager or "
                        "Docker Compose reads; podruga itself reads no .env file)")
    elif token and not _TOKEN.match(token):
        problems.append("TELEGRAM_BOT_TOKEN does not look like a bot token (digits, a colon, "
                        "then letters): copy it again from @BotFather")
    secret = _secret("PODRUGA_SECRET", env.get("PODRUGA_SECRET", ""), "key that hides user ids",
                     problems)
    staff_ids = _ids("PODRUGA_STAFF_IDS", env.get("PODRUGA_STAFF_IDS", ""), problems)
    staff_chat: int | None = None
    raw_chat = env.get("PODRUGA_STAFF_CHAT", "").strip()
    if raw_chat:
        try:
            staff_chat = int(raw_chat)
        except ValueError:
            problems.append("PODRUGA_STAFF_CHAT must be the staff group's numeric chat id "
                            f"(it starts with -100), not {raw_chat!r}")
    case_key: bytes | None = None
    raw_case = env.get("PODRUGA_CASE_KEY", "")
    if raw_case or staff_chat is not None:
        case_key = _secret("PODRUGA_CASE_KEY", raw_case,
                           "key that seals a hand-over chat link (needed with PODRUGA_STAFF_CHAT)",
                           problems)
    hook = env.get("PODRUGA_WEBHOOK_SECRET", "").strip()
    if hook and not _WEBHOOK_SECRET.match(hook):
        problems.append("PODRUGA_WEBHOOK_SECRET may hold only letters, digits, _ and -, "
                        "at most 256 of them")
    staff_lang, problem = read_staff_lang(env)
    if problem:
        problems.append(problem)
    pacing = env.get("PODRUGA_PACING", "").strip().lower() or "telegram"
    if pacing not in ("telegram", "off"):
        problems.append(f"PODRUGA_PACING must be 'telegram' (the default) or 'off', not {pacing!r}")
    hours = env.get("PODRUGA_CONSULTANT_HOURS", "").strip()
    if hours:  # checked even without a staff chat, where it has no use yet
        try:
            consultant_hours(hours)
        except OptionError as exc:
            problems.append(str(exc))
    db = env.get("PODRUGA_DB", "").strip()
    if db:
        problems.extend(_db_problems(db))
    url = api_url(env.get("TELEGRAM_API_URL", ""))
    problems.extend(_proxy_problems(env, url))
    if problems:
        raise OptionError("; ".join(problems) if len(problems) == 1 else
                          "the configuration has problems:\n  - " + "\n  - ".join(problems))
    return Settings(
        token=token,
        secret=secret,
        api_url=url,
        db=db or default_location(),
        staff_ids=staff_ids,
        staff_chat=staff_chat,
        case_key=case_key,
        webhook_secret=hook or webhook_secret(secret),
        consultant_hours=env.get("PODRUGA_CONSULTANT_HOURS", "").strip(),
        staff_lang=staff_lang,
        paced=pacing == "telegram",
    )


def consultant_hours(raw: str) -> dict[str, ConsultantHours]:
    """``PODRUGA_CONSULTANT_HOURS``: ``Mon-Fri 10:00-18:00 Europe/Kyiv``, or per language,
    ``uk=Mon-Fri 10:00-18:00 Europe/Kyiv; ru=Mon-Sat 09:00-21:00 Europe/Moscow``.

    The days and times are read as the directory's opening hours are (its day
    names, in English, Ukrainian or Russian). The key ``*`` holds the hours for
    every language without its own; no hours at all means consultants may
    answer at any time.
    """
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    from bot.content.directory.hours import parse_hours
    from bot.engine.handover import ConsultantHours
    from bot.vocabulary import LANGS

    found: dict[str, ConsultantHours] = {}
    for part in filter(None, (p.strip() for p in raw.split(";"))):
        match = _HOURS.match(part)
        line = parse_hours(match["line"]) if match else None
        if match is None or line is None:
            raise OptionError(f"PODRUGA_CONSULTANT_HOURS: cannot read {part!r}; write it like "
                              "'Mon-Fri 10:00-18:00 Europe/Kyiv' or 'uk=Mon-Fri 10:00-18:00 "
                              "Europe/Kyiv; ru=...'")
        lang = match["lang"] or "*"
        if lang != "*" and lang not in LANGS:
            raise OptionError(f"PODRUGA_CONSULTANT_HOURS: unknown language {lang!r}; "
                              f"use one of {', '.join(LANGS)}")
        try:
            ZoneInfo(match["zone"])
        except (ZoneInfoNotFoundError, ValueError):
            raise OptionError(f"PODRUGA_CONSULTANT_HOURS: unknown time zone {match['zone']!r}; "
                              "write it like Europe/Kyiv") from None
        if line.overnight:  # consultants' hours end the day they start
            raise OptionError(f"PODRUGA_CONSULTANT_HOURS: in {part!r} the end comes before "
                              "the start")
        found[lang] = ConsultantHours(line, match["zone"])
    return found
