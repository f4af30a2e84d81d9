"""Loading and checking of the gettext catalogs in ``locales/<lang>/LC_MESSAGES/*.po``.

English is the source language: msgids are English, and ``en`` has catalogs of
its own only so that English wording can be fixed without touching flows or
code. Catalogs are split by domain: ``bot`` for strings in the code, and one
domain per flow file (``ost`` for ``flows/ost.yaml``), so translators can work
topic by topic. At load every domain of a language is merged and compiled in
memory (no ``.mo`` files are committed).

The ``check`` domain holds what ``podruga check`` and ``/reload`` tell staff
(the ``C_``/``CN_`` texts of ``DataError`` and ``Issue``). It is not merged into
what women read: ``staff_language()`` compiles it on its own, so a broken flow
or catalog can still be reported in the staff's language.

A missing, empty or fuzzy translation of anything shipped is an error, and so
is a ``{placeholder}`` that differs between msgid and msgstr.
"""

from __future__ import annotations

import gettext as _gettext
import io
import re
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from babel import Locale
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir, extract_python
from babel.messages.mofile import write_mo
from babel.messages.pofile import PoFileError, read_po

from bot.content.extract import flow_messages
from bot.engine.translator import Translator
from bot.errors import C_, DataError, shown_path
from bot.vocabulary import LANGS

CODE_DOMAIN = "bot"
CHECK_DOMAIN = "check"
# How check messages name a catalog's language ("the Ukrainian translation of ...").
LANG_NAMES = {"uk": C_("Ukrainian"), "ru": C_("Russian"), "en": C_("English")}
KEYWORDS = {**DEFAULT_KEYWORDS, "N_": None}
CHECK_KEYWORDS = {"C_": None, "CN_": (1, 2)}  # bot.errors: staff messages, the check domain
_PLACEHOLDER = re.compile(r"\{[a-z_0-9]*\}")


@dataclass(frozen=True, slots=True)
class Entry:
    """A translation as read from a PO file, with where it is."""

    path: str
    line: int
    strings: tuple[str, ...]  # msgstr, or each plural form
    fuzzy: bool


@dataclass(frozen=True, slots=True)
class Wanted:
    """A string the project shows, with where it comes from and the domain it belongs to."""

    domain: str
    context: str | None
    msgid: str
    plural: str | None
    path: str
    line: int


@dataclass(frozen=True, slots=True)
class Catalogs:
    """Every language's translator, and the raw entries for checking."""

    translators: dict[str, Translator]
    entries: dict[str, dict[tuple[str | None, str], Entry]]

    def get(self, lang: str) -> Translator:
        return self.translators.get(lang) or self.translators["en"]


def load(
    locales_dir: Path, shown_root: Path | None = None
) -> tuple[Catalogs | None, list[DataError]]:
    """Read every PO file; return compiled translators, or None and the errors."""
    root = shown_root or locales_dir.parent
    errors: list[DataError] = []
    translators: dict[str, Translator] = {}
    entries: dict[str, dict[tuple[str | None, str], Entry]] = {}
    for lang in LANGS:
        merged = Catalog(locale=lang, domain="podruga")
        entries[lang] = {}
        for path in sorted((locales_dir / lang / "LC_MESSAGES").glob("*.po")):
            name = shown_path(path, root)
            try:
                with path.open("rb") as fp:
                    catalog = read_po(fp, locale=lang, domain=path.stem, abort_invalid=True)
            except PoFileError as exc:
                # Babel's line numbers are 0-based; ours are 1-based everywhere.
                errors.append(DataError(name, exc.lineno + 1,
                                        C_("this PO file is broken: {problem}", problem=exc)))
                continue
            except (OSError, UnicodeDecodeError, ValueError) as exc:
                errors.append(DataError(name, 1,
                                        C_("this PO file cannot be read: {problem}", problem=exc)))
                continue
            for message in catalog:
                if not message.id:
                    continue
                msgid = str(message.id[0] if isinstance(message.id, tuple) else message.id)
                strings = tuple(str(s or "") for s in (
                    message.string if isinstance(message.string, tuple) else (message.string,)))
                key = (message.context, msgid)
                line = (message.lineno or 0) + 1
                entries[lang][key] = Entry(name, line, tuple(strings), message.fuzzy)
                if not message.fuzzy and all(strings) and path.stem != CHECK_DOMAIN:
                    merged[message.id] = message
        buffer = io.BytesIO()
        write_mo(buffer, merged, use_fuzzy=False)
        buffer.seek(0)
        translators[lang] = Translator(lang, Locale.parse(lang), _gettext.GNUTranslations(buffer))
    if errors:
        return None, errors
    return Catalogs(translators, entries), []


def wanted_from_flows(flows_dir: Path, root: Path) -> Iterator[Wanted]:
    """Every string the flows show, in the domain named after its file."""
    for path in sorted(flows_dir.glob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        for line, context, msgid, _comment in flow_messages(text, shown_path(path, root)):
            yield Wanted(path.stem, context, msgid, None, shown_path(path, root), line)


def wanted_from_code(code_dir: Path, root: Path) -> Iterator[Wanted]:
    """Every string the code marks for translation: ``gettext``, ``pgettext``, ``N_`` ...
    in the ``bot`` domain, and the staff messages ``C_``, ``CN_`` in the ``check`` domain."""
    method_map = [("**.py", f"{__name__}:extract_python_by_domain")]
    for filename, line, message, comments, context in extract_from_dir(
        str(code_dir), method_map, keywords={**KEYWORDS, **CHECK_KEYWORDS}
    ):
        msgid, plural = (message[0], message[1]) if isinstance(message, tuple) else (message, None)
        if not msgid:
            continue
        domain = CHECK_DOMAIN if _CHECK_MARK in comments else CODE_DOMAIN
        path = shown_path(code_dir / filename, root)
        yield Wanted(domain, context, msgid, plural, path, line)


_CHECK_MARK = "\x00check"  # a comment only our extractor adds: this string is C_ or CN_


def extract_python_by_domain(fileobj: IO[bytes], keywords: Any, comment_tags: Collection[str],
                             options: Any) -> Iterator[tuple[Any, ...]]:
    """Babel's Python extractor, with the ``check`` strings marked: one reading of the
    code finds both domains (a /reload runs this too, and women wait meanwhile)."""
    for line, funcname, messages, comments in extract_python(fileobj, keywords, comment_tags,
                                                             options):
        marked = [*(comments or []), _CHECK_MARK] if funcname in CHECK_KEYWORDS else comments
        yield line, funcname, messages, marked


def staff_language(lang: str, *locales_dirs: Path) -> Translator:
    """The ``check`` catalog of ``lang`` from the first of ``locales_dirs`` that reads
    cleanly (staff's data folder, then the shipped one); English when none does.

    Never raises: a broken ``check.po`` is itself reported, in English, by the check.
    """
    for locales_dir in locales_dirs:
        path = locales_dir / lang / "LC_MESSAGES" / f"{CHECK_DOMAIN}.po"
        try:
            with path.open("rb") as fp:
                found = read_po(fp, locale=lang, domain=CHECK_DOMAIN, abort_invalid=True)
        except (OSError, PoFileError, UnicodeDecodeError, ValueError):
            continue
        catalog = Catalog(locale=lang, domain=CHECK_DOMAIN)
        for message in found:
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            if message.id and not message.fuzzy and all(strings):
                catalog[message.id] = message
        buffer = io.BytesIO()
        write_mo(buffer, catalog, use_fuzzy=False)
        buffer.seek(0)
        return Translator(lang, Locale.parse(lang), _gettext.GNUTranslations(buffer))
    return Translator.identity(lang)


def check(
    catalogs: Catalogs, wanted: Iterable[Wanted], locales_dir: Path, root: Path
) -> list[DataError]:
    """Every wanted string translated in every language, not fuzzy, same placeholders."""
    errors: list[DataError] = []
    seen: set[tuple[str, str | None, str]] = set()
    for want in wanted:
        for lang in LANGS:
            key = (want.context, want.msgid)
            if (lang, *key) in seen:
                continue
            seen.add((lang, *key))
            entry = catalogs.entries[lang].get(key)
            po = shown_path(locales_dir / lang / "LC_MESSAGES" / f"{want.domain}.po", root)
            short = repr(want.msgid if len(want.msgid) <= 50 else want.msgid[:47] + "...")
            language = LANG_NAMES[lang]
            if entry is None:
                errors.append(DataError(want.path, want.line, C_(
                    "{text} has no {language} translation in {file}: run 'podruga catalogs' and "
                    "translate it", text=short, language=language, file=po)))
                continue
            if entry.fuzzy:
                errors.append(DataError(entry.path, entry.line, C_(
                    "the {language} translation of {text} is marked fuzzy: check it and remove "
                    "the fuzzy mark", language=language, text=short)))
            elif not all(s.strip() for s in entry.strings):
                errors.append(DataError(entry.path, entry.line, C_(
                    "the {language} translation of {text} is empty", language=language,
                    text=short)))
            else:
                expected = set(_PLACEHOLDER.findall(want.msgid))
                for string in entry.strings:
                    got = set(_PLACEHOLDER.findall(string))
                    if got != expected:
                        errors.append(DataError(entry.path, entry.line, C_(
                            "the {language} translation of {text} must keep the placeholders "
                            "{expected}, but has {found}", language=language, text=short,
                            expected=sorted(expected), found=sorted(got))))
                        break
    return errors
