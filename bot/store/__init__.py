"""The store: the only code that writes, and it keeps nothing that can hurt her.

``open_store()`` picks the backend from ``PODRUGA_DB``: a ``postgresql://`` URL
selects PostgreSQL (several instances behind a webhook), any other URL is
refused, anything else is a SQLite file path; unset, a file under the user's
data directory. See
docs/store.md for what is kept, for how long, and what never is.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import platformdirs

from bot.errors import StoreError

from .base import (
    CASE_TTL,
    MESSAGE_TTL,
    SESSION_TTL,
    Case,
    ConflictError,
    CounterRow,
    PurgeCounts,
    Store,
    StoreUnavailable,
    Tally,
    Update,
    decode_state,
    encode_state,
    read_state,
)
from .keys import CaseCipher, Keyring, SessionKey

__all__ = [
    "CASE_TTL",
    "MESSAGE_TTL",
    "SESSION_TTL",
    "Case",
    "CaseCipher",
    "ConflictError",
    "CounterRow",
    "Keyring",
    "PurgeCounts",
    "SessionKey",
    "Store",
    "StoreUnavailable",
    "Tally",
    "Update",
    "decode_state",
    "default_location",
    "encode_state",
    "location_problem",
    "make_store",
    "open_store",
    "read_state",
]

_POSTGRES_SCHEMES = ("postgresql://", "postgres://")
_URL = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")


def location_problem(where: str) -> str | None:
    """Why ``where`` names no store, in one line, or None.

    A store is a ``postgresql://`` (or ``postgres://``) URL or a SQLite file path.
    Any other ``scheme://`` would otherwise be taken for a path and quietly make a
    folder named after the scheme. Only the scheme is quoted: the URL may hold a
    password.
    """
    found = _URL.match(where)
    if found is None or where.startswith(_POSTGRES_SCHEMES):
        return None
    scheme = found[1]
    if scheme.lower() in ("postgresql", "postgres"):
        return f"PODRUGA_DB: write the scheme in lower case, postgresql://, not {scheme}://"
    hint = (": for SQLite give the file's path itself, e.g. /var/lib/podruga/podruga.sqlite3"
            if scheme.lower().startswith("sqlite") else "")
    return (f"PODRUGA_DB must be a postgresql:// URL or the path of a SQLite file; "
            f"{scheme}:// is not supported{hint}")


def default_location() -> str:
    """``PODRUGA_DB`` if set, else ``podruga.sqlite3`` in the user's data directory."""
    configured = os.environ.get("PODRUGA_DB", "").strip()
    if configured:
        return configured
    return str(Path(platformdirs.user_data_dir("podruga")) / "podruga.sqlite3")


def make_store(location: str | os.PathLike[str] | None = None) -> Store:
    """The backend for ``location`` (default ``default_location()``), not yet opened."""
    where = os.fspath(location) if location is not None else default_location()
    problem = location_problem(where)
    if problem is not None:
        raise StoreError(problem)
    if where.startswith(_POSTGRES_SCHEMES):
        from .postgres import PostgresStore

        return PostgresStore(where)
    from .sqlite import SqliteStore

    return SqliteStore(where)


async def open_store(location: str | os.PathLike[str] | None = None) -> Store:
    """Make and open the store; raises StoreError with a plain message if it is unusable."""
    store = make_store(location)
    await store.open()
    return store
