"""The store: the only code that writes, and it keeps nothing that can hurt her.

``open_store()`` picks the backend from ``PODRUGA_DB``: a ``postgresql://`` URL
selects PostgreSQL (several instances behind a webhook), anything else is a
SQLite file path; unset, a file under the user's data directory. See
docs/store.md for what is kept, for how long, and what never is.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

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
    Versioned,
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
    "Versioned",
    "decode_state",
    "default_location",
    "encode_state",
    "make_store",
    "open_store",
    "read_state",
]

_POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def default_location() -> str:
    """``PODRUGA_DB`` if set, else ``podruga.sqlite3`` in the user's data directory."""
    configured = os.environ.get("PODRUGA_DB", "").strip()
    if configured:
        return configured
    return str(Path(platformdirs.user_data_dir("podruga")) / "podruga.sqlite3")


def make_store(location: str | os.PathLike[str] | None = None) -> Store:
    """The backend for ``location`` (default ``default_location()``), not yet opened."""
    where = os.fspath(location) if location is not None else default_location()
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
