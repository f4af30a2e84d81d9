"""The errors Podruga raises: one abstract base, split by whose fault it was.

- ``DataError``: a staff-edited file (flow, catalog, directory) is wrong. It
  names the file and the 1-based line, and says what is wrong in plain words.
- ``StoreError``: the database failed. Wrapped once, inside the store.
- User input never raises: unknown text becomes a fallback reply.
- Programming errors are plain ``assert``/``TypeError``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


def shown_path(path: Path, root: Path) -> str:
    """How a staff-edited file is named in errors: relative to the project folder."""
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


class PodrugaError(Exception):
    """Base of Podruga's own errors; never raised as itself."""

    def __new__(cls, *args: object, **kwargs: object) -> PodrugaError:
        if cls is PodrugaError:
            raise TypeError("PodrugaError is abstract: raise DataError or StoreError")
        return super().__new__(cls)


@dataclass(frozen=True, slots=True)
class Issue:
    """A soft problem in a data file: the file still loads (stale review, unverified entry)."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


class DataError(PodrugaError):
    """A problem in a staff-edited file, shown as ``file:line: where: what is wrong``."""

    def __init__(self, path: str, line: int, message: str, where: str = "") -> None:
        super().__init__(path, line, message, where)
        self.path = path
        self.line = line
        self.where = where
        self.message = message

    def __str__(self) -> str:
        place = f"{self.where}: " if self.where else ""
        return f"{self.path}:{self.line}: {place}{self.message}"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DataError) and str(self) == str(other)

    def __hash__(self) -> int:
        return hash(str(self))


class StoreError(PodrugaError):
    """The database could not be read or written; the message holds no personal data."""


class OptionError(PodrugaError):
    """A bad command-line option, said in a plain sentence (exit status 2)."""
