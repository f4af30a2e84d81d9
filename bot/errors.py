"""The errors Podruga raises: one abstract base, split by whose fault it was.

- ``DataError``: a staff-edited file (flow, catalog, directory) is wrong. It
  names the file and the 1-based line, and says what is wrong in plain words.
- ``StoreError``: the database failed. Wrapped once, inside the store.
- User input never raises: unknown text becomes a fallback reply.
- Programming errors are plain ``assert``/``TypeError``.

What a ``DataError`` or ``Issue`` says is a ``StaffText``: an English template with
named fields (``C_("step '{step}' is unknown", step=name)``), kept as template
and fields so that it can be shown later in the staff's language
(``PODRUGA_STAFF_LANG``, ``podruga check --lang``) from the ``check`` catalog,
``locales/<lang>/LC_MESSAGES/check.po``. ``C_`` and ``CN_`` (with a count, for
plural forms) are the markers ``podruga catalogs`` extracts into that domain.
``str()`` of an error is always the English source text.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol


def shown_path(path: Path, root: Path) -> str:
    """How a staff-edited file is named in errors: relative to the project folder."""
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def nearest(value: str, known: Iterable[str], *, cutoff: float = 0.6) -> str | None:
    """The known name closest to ``value`` (difflib ratio at least ``cutoff``), for the
    "did you mean" that ends an error message; None when no name is close."""
    close = difflib.get_close_matches(value, list(known), n=1, cutoff=cutoff)
    return close[0] if close else None


class PodrugaError(Exception):
    """Base of Podruga's own errors; never raised as itself."""

    def __new__(cls, *args: object, **kwargs: object) -> PodrugaError:
        if cls is PodrugaError:
            raise TypeError("PodrugaError is abstract: raise DataError or StoreError")
        return super().__new__(cls)


class StaffLanguage(Protocol):
    """What rendering a ``StaffText`` needs: a language and its gettext calls (a Translator)."""

    @property
    def lang(self) -> str: ...

    def gettext(self, message: str) -> str: ...

    def ngettext(self, singular: str, plural: str, n: int) -> str: ...


class StaffText:
    """A sentence for staff: an English template (a msgid of the ``check`` catalog) and
    the values of its ``{fields}``.

    A field's value may be another ``StaffText`` (rendered in the same language), a mapping
    of language to word (a country's names: ``{"uk": "Україна", "en": "Ukraine"}``), or
    anything ``str.format`` shows as it is: file names, keys and step ids stay as staff
    wrote them, in every language.
    """

    __slots__ = ("msgid", "plural", "n", "fields")

    def __init__(self, msgid: str, fields: Mapping[str, object] | None = None,
                 plural: str = "", n: int | None = None) -> None:
        self.msgid = msgid
        self.plural = plural
        self.n = n
        self.fields = dict(fields or {})
        if n is not None:
            self.fields.setdefault("n", n)

    def render(self, language: StaffLanguage | None = None) -> str:
        """The sentence in ``language`` (a Translator of the check catalog); English without."""
        english = self.msgid if self.n is None or self.n == 1 else self.plural
        template = english
        if language is not None:
            template = (language.gettext(self.msgid) if self.n is None else
                        language.ngettext(self.msgid, self.plural, self.n))
        lang = language.lang if language is not None else "en"
        values = {key: _shown(value, language, lang) for key, value in self.fields.items()}
        try:
            return template.format(**values)
        except (KeyError, IndexError, ValueError):
            # A translation with a mistyped placeholder must not hide the problem it reports:
            # `podruga check` names that translation separately.
            return english.format(**values)

    def __str__(self) -> str:
        return self.render()

    def __repr__(self) -> str:
        return f"StaffText({self.render()!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, StaffText) and (self.msgid, self.plural, self.n, self.fields) == (
            other.msgid, other.plural, other.n, other.fields)

    def __hash__(self) -> int:
        return hash(self.render())


def _shown(value: object, language: StaffLanguage | None, lang: str) -> object:
    if isinstance(value, StaffText):
        return value.render(language)
    if isinstance(value, Mapping):
        return value.get(lang) or value.get("en") or ""
    return value


def C_(msgid: str, /, **fields: object) -> StaffText:  # noqa: N802 - gettext's marker style
    """A staff message of the ``check`` catalog: ``C_("unknown field '{key}'", key=key)``.

    ``podruga catalogs`` extracts the literal first argument; build the template in
    place (not in a variable) so the extractor sees it.
    """
    return StaffText(msgid, fields)


def CN_(singular: str, plural: str, n: int, /, **fields: object) -> StaffText:  # noqa: N802
    """A staff message that counts ``n`` (also the field ``{n}``), with plural forms."""
    return StaffText(singular, fields, plural, n)


def _text(value: StaffText | str) -> StaffText:
    # A plain string is shown as it is in every language (tests, and text from a library).
    return value if isinstance(value, StaffText) else StaffText("{text}", {"text": value})


@dataclass(frozen=True, slots=True, init=False)
class Issue:
    """A soft problem in a data file: the file still loads (stale review, unverified entry)."""

    path: str
    line: int
    text: StaffText

    def __init__(self, path: str, line: int, message: StaffText | str) -> None:
        object.__setattr__(self, "path", path)
        object.__setattr__(self, "line", line)
        object.__setattr__(self, "text", _text(message))

    @property
    def message(self) -> str:
        """What is wrong, in English."""
        return self.text.render()

    def render(self, language: StaffLanguage | None = None) -> str:
        """``file:line: what is wrong`` in the staff's language (English without one)."""
        return f"{self.path}:{self.line}: {self.text.render(language)}"

    def __str__(self) -> str:
        return self.render()


class DataError(PodrugaError):
    """A problem in a staff-edited file, shown as ``file:line: where: what is wrong``."""

    def __init__(self, path: str, line: int, message: StaffText | str,
                 where: StaffText | str = "") -> None:
        super().__init__(path, line, message, where)
        self.path = path
        self.line = line
        self.text = _text(message)
        self.where_text = _text(where) if where else None

    @property
    def message(self) -> str:
        """What is wrong, in English."""
        return self.text.render()

    @property
    def where(self) -> str:
        """Which step, button or entry, in English ("" for the file as a whole)."""
        return self.where_text.render() if self.where_text is not None else ""

    def render(self, language: StaffLanguage | None = None) -> str:
        """``file:line: where: what is wrong`` in the staff's language (English without one)."""
        place = f"{self.where_text.render(language)}: " if self.where_text is not None else ""
        return f"{self.path}:{self.line}: {place}{self.text.render(language)}"

    def __str__(self) -> str:
        return self.render()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DataError) and str(self) == str(other)

    def __hash__(self) -> int:
        return hash(str(self))


class StoreError(PodrugaError):
    """The database could not be read or written; the message holds no personal data."""


class OptionError(PodrugaError):
    """A bad command-line option, said in a plain sentence (exit status 2)."""

    def __init__(self, message: StaffText | str) -> None:
        super().__init__(message)
        self.text = _text(message)

    def render(self, language: StaffLanguage | None = None) -> str:
        """The sentence in the staff's language (English without one)."""
        return self.text.render(language)

    def __str__(self) -> str:
        return self.render()
