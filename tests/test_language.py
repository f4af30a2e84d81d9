"""Ukrainian and Russian as a native speaker writes them: the mechanical part.

What a test can hold for every catalog in ``locales/``, whoever edits it:

- no variant that docs/glossary.md bans ("one name for one thing");
- Cyrillic letters in Cyrillic text (no Latin C in «гепатит С»);
- one apostrophe in Ukrainian (’);
- «ё» in Russian wherever it belongs;
- slang («ломка») only in brackets after the clinical name at its first mention;
- every catalog passes ``msgfmt --check-format -c``, and Babel's own checks (which
  run wherever msgfmt is not installed, as in CI from PyPI alone).

A failure names the file, the line and the message. Catalogs whose owners have
not yet brought them in line are marked xfail below, one reason per file, so
the rest of the suite stays green while they are fixed; drop the mark with the fix.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from babel.messages.pofile import read_po

from bot.engine.datetimes import back_at
from tests.conftest import ROOT

LOCALES = ROOT / "locales"
GLOSSARY = ROOT / "docs" / "glossary.md"
BANNED_COLUMNS = {"uk": "не писати (uk)", "ru": "не писать (ru)"}
CYRILLIC = "А-Яа-яЁёІіЇїЄєҐґ"
LATIN = "A-Za-z"

# Catalogs not yet in line, by check: (check, "lang/file.po") -> why, for its owner.
# Remove a file from here in the commit that fixes it.
_WHY = {
    "glossary": "uses variants that docs/glossary.md bans",
    "latin": "Latin B/C in «гепатит B/C»: write Cyrillic В/С",
    "apostrophe": "the typewriter ' instead of ’",
    "yo": "«е» where «ё» belongs",
    "slang": "«ломка» before «синдром відміни/отмены (ломка)» introduces it",
    "format": "flows/testing.yaml testing.hcv: '95% of' in the English reads as a %-format",
    "directory": "names and descriptions use variants docs/glossary.md bans («Сайт ЗПТ», "
                 "«швидкі тести», «правовая помощь», «НКО») or the typewriter '",
}
_NOT_YET = {
    "glossary": "",
    "latin": "",
    "apostrophe": "",
    "yo": "",
    "slang": "",
    "format": "",
    "directory": "",
}
PENDING: dict[tuple[str, str], str] = {
    (check, name if check == "directory" else f"{name}.po"):
    f"{_WHY[check]} (issue 20; the owner fixes it)"
    for check, names in _NOT_YET.items() for name in names.split()}


def _files(*langs: str) -> list[str]:
    return [f"{lang}/{path.name}" for lang in langs
            for path in sorted((LOCALES / lang / "LC_MESSAGES").glob("*.po"))]


def _params(check: str, *langs: str) -> list[object]:
    params: list[object] = []
    for name in _files(*langs):
        reason = PENDING.get((check, name))
        marks = [pytest.mark.xfail(reason=f"locales/{name.replace('/', '/LC_MESSAGES/')}: "
                                          f"{reason}", strict=False)] if reason else []
        params.append(pytest.param(name, marks=marks, id=name))
    return params


def _path(name: str) -> Path:
    lang, file = name.split("/")
    return LOCALES / lang / "LC_MESSAGES" / file


@cache
def _messages(name: str) -> tuple[tuple[str, str], ...]:
    """(where, text) for every translation in a catalog: 'file.po:line msgctxt', msgstr."""
    path = _path(name)
    with path.open("rb") as fp:
        catalog = read_po(fp)
    found = []
    for message in catalog:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        where = f"{name}:{(message.lineno or 0) + 1} [{message.context or '-'}]"
        found += [(where, s) for s in strings if s]
    return tuple(found)


def _report(problems: list[str]) -> str:
    return f"{len(problems)} problem(s):\n" + "\n".join(problems[:60])


def _quote(text: str, start: int, end: int, width: int = 30) -> str:
    return "…" + text[max(0, start - width):end + width].replace("\n", " ") + "…"


# -- the glossary ----------------------------------------------------------------------------
def phrase_pattern(variant: str) -> re.Pattern[str]:
    """A banned «phrase» as a pattern: whole words, `*` = any word ending, case ignored
    unless the variant is all capitals (an abbreviation: «НАС» must not catch «нас»)."""
    words = [re.escape(word).replace(r"\*", r"\w*") for word in variant.split()]
    body = r"\s+".join(words)
    letters = [c for c in variant if c.isalpha()]
    flags = 0 if letters and all(c.isupper() for c in letters) else re.IGNORECASE
    return re.compile(rf"(?<![\w-]){body}(?![\w-])", flags)


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


@cache
def banned() -> dict[str, tuple[tuple[str, re.Pattern[str]], ...]]:
    """Every banned variant in docs/glossary.md, per language: (as written, pattern)."""
    found: dict[str, list[tuple[str, re.Pattern[str]]]] = {lang: [] for lang in BANNED_COLUMNS}
    columns: dict[str, int] = {}
    for line in GLOSSARY.read_text(encoding="utf-8").splitlines():
        if not line.startswith("|"):
            columns = {}
            continue
        cells = _cells(line)
        if not columns:
            columns = {lang: cells.index(title) for lang, title in BANNED_COLUMNS.items()
                       if title in cells}
            continue
        if set("".join(cells)) <= set("-: "):
            continue  # the |---| row
        for lang, index in columns.items():
            cell = cells[index] if index < len(cells) else ""
            for literal, regex in re.findall(r"«([^»]+)»|`/(.+?)/`", cell):
                pattern = phrase_pattern(literal) if literal else re.compile(regex)
                found[lang].append((literal or f"/{regex}/", pattern))
    return {lang: tuple(items) for lang, items in found.items()}


def test_glossary_has_banned_variants_in_both_languages() -> None:
    rules = banned()
    assert len(rules["uk"]) >= 30 and len(rules["ru"]) >= 30, {k: len(v) for k, v in rules.items()}


def test_banned_variants_catch_what_they_should() -> None:
    def hits(lang: str, text: str) -> list[str]:
        return [shown for shown, pattern in banned()[lang] if pattern.search(text)]

    assert hits("ru", "Спросите в центре СПИДа") == ["центр* СПИДа"]
    assert hits("ru", "у нас есть") == [] and hits("ru", "НАС — не причина") == ["НАС"]
    assert hits("ru", "обратитесь в НКО") and not hits("ru", "общественная организация (НКО)")
    assert hits("uk", "💊 Сайт ЗПТ") == ["сайт* ЗПТ"]
    assert hits("uk", "Що робити при передозі") and not hits("uk", "при передозуванні")
    assert hits("uk", "щоб не отримати ВІЛ") and not hits("uk", "отримати ВІЛ-терапію")
    assert hits("ru", "опеку могут приостановить")


def test_glossary_terms_do_not_break_their_own_rules() -> None:
    """The preferred names themselves pass: a rule that bans its own term is a typo."""
    text = GLOSSARY.read_text(encoding="utf-8")
    for line in text.splitlines():
        if not line.startswith("|") or "не писати (uk)" in line:
            continue
        cells = _cells(line)
        if len(cells) < 5:
            continue
        for lang, index in (("uk", 1), ("ru", 3)):
            term = re.sub(r"«[^»]*»", "", cells[index])  # quoted examples may be anything
            for shown, pattern in banned()[lang]:
                assert not pattern.search(term), (lang, cells[index], shown)


@pytest.mark.parametrize("name", _params("glossary", "uk", "ru"))
def test_no_glossary_banned_variant(name: str) -> None:
    lang = name.split("/")[0]
    problems = [f"{where}: «{shown}» (docs/glossary.md) in {_quote(text, m.start(), m.end())}"
                for where, text in _messages(name)
                for shown, pattern in banned()[lang]
                for m in [pattern.search(text)] if m]
    assert not problems, _report(problems)


# -- letters and apostrophes ------------------------------------------------------------------
MIXED_WORD = re.compile(rf"[{LATIN}][{CYRILLIC}]|[{CYRILLIC}][{LATIN}]")
LONE_LATIN = re.compile(rf"[{CYRILLIC}][\s,]+([{LATIN}])(?![\w-])")


def latin_in_cyrillic(text: str) -> list[re.Match[str]]:
    return [*MIXED_WORD.finditer(text), *LONE_LATIN.finditer(text)]


def test_latin_letter_check_catches_what_it_should() -> None:
    assert latin_in_cyrillic("гепатит C")  # Latin C
    assert latin_in_cyrillic("гепатиту B і C")
    assert latin_in_cyrillic("тeст")  # Latin e inside
    assert not latin_in_cyrillic("гепатит С, гепатит В")  # Cyrillic
    assert not latin_in_cyrillic("ДКП (PrEP), U=U, у Telegram, X-ray")


@pytest.mark.parametrize("name", _params("latin", "uk", "ru"))
def test_no_latin_letter_in_cyrillic_text(name: str) -> None:
    problems = [f"{where}: Latin letter in {_quote(text, m.start(), m.end())}"
                for where, text in _messages(name) for m in latin_in_cyrillic(text)]
    assert not problems, _report(problems)


APOSTROPHE = "’"  # U+2019, as in docs/glossary.md
OTHER_APOSTROPHES = re.compile(r"(?<=[А-Яа-яІіЇїЄєҐґ])['ʼ`´‘](?=[А-Яа-яІіЇїЄєҐґ])")


@pytest.mark.parametrize("name", _params("apostrophe", "uk"))
def test_one_apostrophe_in_ukrainian(name: str) -> None:
    problems = [f"{where}: {m.group()!r} instead of {APOSTROPHE} in "
                f"{_quote(text, m.start(), m.end())}"
                for where, text in _messages(name) for m in OTHER_APOSTROPHES.finditer(text)]
    assert not problems, _report(problems)


# -- «ё» in Russian ---------------------------------------------------------------------------
# Common words that are only ever right with «ё».
YO_WORDS = [re.compile(p, re.IGNORECASE) for p in (
    r"\bребен(ок|ка|ку|ком|ке)\b", r"\bее\b", r"\bеще\b", r"\bвсе равно\b",
    r"\bприем(а|у|ом|е|ы|ов|ам|ами|ах)?\b", r"\bпартнер\w*", r"\bтуберкулез\w*",
    r"\bноворожденн\w*", r"\bлегк(ий|ая|ое|ие|ого|ой|ую|им|ими|их)\b",
    r"\bтяжел(ый|ая|ое|ые|ого|ой|ую|ым|ыми|ых)\b", r"\b\w*[йи]дет(е|ся)?\b",
    r"\b(|вы|пере|про|с|от|за|раз|по|пре|при|у|из|на)дает(е|ся)?\b", r"\bживет(е)?\b",
    r"\b\w*ждет(е)?\b", r"\bзовет(е)?\b",
    r"\b(пой|возь|нач)(мет|нет)(е)?\b", r"\b\w*шел\b", r"\bсерьезн\w*", r"\bчетк\w*",
    r"\bучет\w*", r"\bотчет\w*", r"\bсчет\b", r"\bобъем\w*", r"\bпленк\w*",
    r"\bвдвоем\b", r"\bвтроем\b",
)]
# Words that are right with «е» too, as another word (все/всё, чем/о чём ...).
YO_HOMOGRAPHS = {"все", "всем", "чем", "слез", "берет", "узнаем", "признаем", "осел", "небо",
                 "мел", "совершенный", "совершенно", "передохнем", "нем"}


@cache
def yo_words() -> frozenset[str]:
    """Every word the Russian catalogs spell with «ё» somewhere."""
    words = set()
    for name in _files("ru"):
        for _where, text in _messages(name):
            words.update(w.lower() for w in re.findall(r"\w*ё\w*", text, re.IGNORECASE))
    return frozenset(words)


def missing_yo(text: str) -> list[tuple[str, int, int]]:
    """(word, start, end) for each word written with «е» where «ё» belongs."""
    found = []
    spelled = {w.replace("ё", "е"): w for w in yo_words()}
    for match in re.finditer(r"\w+", text):
        word = match.group().lower()
        if "ё" in word or word in YO_HOMOGRAPHS:
            continue
        if word in spelled or any(p.fullmatch(match.group()) for p in YO_WORDS):
            found.append((match.group(), match.start(), match.end()))
    for pattern in YO_WORDS:  # phrases of two words («все равно»)
        if " " in pattern.pattern:
            found += [(m.group(), m.start(), m.end()) for m in pattern.finditer(text)]
    return found


def test_yo_check_catches_what_it_should() -> None:
    assert [w for w, *_ in missing_yo("Боюсь, что заберут ребенка, и еще ее партнера")] == [
        "ребенка", "еще", "ее", "партнера"]
    assert missing_yo("Всё равно идите") == [] and missing_yo("все темы, чем раньше") == []
    assert [w for w, *_ in missing_yo("все равно")] == ["все равно"]


@pytest.mark.parametrize("name", _params("yo", "ru"))
def test_russian_writes_yo(name: str) -> None:
    problems = [f"{where}: «{word}» without «ё» in {_quote(text, start, end)}"
                for where, text in _messages(name) for word, start, end in missing_yo(text)]
    assert not problems, _report(problems)


# -- slang after the clinical name --------------------------------------------------------------
SLANG = re.compile(r"(?<!\w)ломк\w*", re.IGNORECASE)
INTRODUCED = re.compile(r"синдром\w* (відміни|отмены) \($", re.IGNORECASE)


def slang_first_unexplained(text: str) -> re.Match[str] | None:
    first = SLANG.search(text)
    if first is None or INTRODUCED.search(text[:first.start()]):
        return None
    return first


def test_slang_check_catches_what_it_should() -> None:
    assert slang_first_unexplained("Різке припинення викликає ломку.")
    assert slang_first_unexplained("може викликати відміну (ломку)")
    assert not slang_first_unexplained("знімають синдром відміни (ломку) і тягу. Ломка минає.")
    assert not slang_first_unexplained("Синдромом отмены (ломкой) называют…")


@pytest.mark.parametrize("name", _params("slang", "uk", "ru"))
def test_slang_only_after_the_clinical_name(name: str) -> None:
    problems = [f"{where}: «{m.group()}» before «синдром відміни/отмены (ломка)» in "
                f"{_quote(text, m.start(), m.end())}"
                for where, text in _messages(name) for m in [slang_first_unexplained(text)] if m]
    assert not problems, _report(problems)


# -- the directory: names, descriptions, notes she reads in uk and ru ---------------------------
def _directory_texts(name: str) -> list[tuple[str, str, str]]:
    """(where, lang, text) for every uk and ru string in a directory file."""
    found: list[tuple[str, str, str]] = []

    def walk(node: object, where: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in BANNED_COLUMNS and isinstance(value, str):
                    found.append((f"{name} {where}.{key}", key, value))
                else:
                    walk(value, f"{where}.{key}" if where else str(key))
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, f"{where}[{index}]")

    walk(yaml.safe_load((ROOT / name).read_text(encoding="utf-8")), "")
    return found


def _directory_params() -> list[object]:
    params: list[object] = []
    for path in sorted((ROOT / "directory").glob("*.yaml")):
        name = f"directory/{path.name}"
        reason = PENDING.get(("directory", name.removesuffix(".yaml")))
        marks = [pytest.mark.xfail(reason=f"{name}: {reason}", strict=False)] if reason else []
        params.append(pytest.param(name, marks=marks, id=name))
    return params


@pytest.mark.parametrize("name", _directory_params())
def test_directory_follows_the_same_rules(name: str) -> None:
    """The directory's names and descriptions call things by the glossary's names too."""
    problems = []
    for where, lang, text in _directory_texts(name):
        for shown, pattern in banned()[lang]:
            if m := pattern.search(text):
                problems.append(f"{where}: «{shown}» in {_quote(text, m.start(), m.end())}")
        problems += [f"{where}: Latin letter in {_quote(text, m.start(), m.end())}"
                     for m in latin_in_cyrillic(text)]
        if lang == "uk":
            problems += [f"{where}: {m.group()!r} instead of {APOSTROPHE}"
                         for m in OTHER_APOSTROPHES.finditer(text)]
        else:
            problems += [f"{where}: «{word}» without «ё»" for word, *_ in missing_yo(text)]
    assert not problems, _report(problems)


# -- msgfmt and Babel's checks ----------------------------------------------------------------
def _babel_problems(name: str) -> Iterator[str]:
    """What ``msgfmt --check-format -c`` checks that the loader does not: format strings
    (Babel's checkers: %-placeholders, plural counts) and leading/trailing newlines."""
    with _path(name).open("rb") as fp:
        catalog = read_po(fp)
    for message, errors in catalog.check():
        for error in errors:
            yield f"{name}:{(message.lineno or 0) + 1} [{message.context or '-'}]: {error}"
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for string in filter(None, strings):
            for edge, test in (("begin", str.startswith), ("end", str.endswith)):
                if test(ids[0], "\n") != test(string, "\n"):
                    yield (f"{name}:{(message.lineno or 0) + 1} [{message.context or '-'}]: "
                           f"msgid and msgstr do not both {edge} with a newline")


@pytest.mark.parametrize("name", _params("format", "uk", "ru", "en"))
def test_catalog_passes_babel_checks(name: str) -> None:
    problems = list(_babel_problems(name))
    assert not problems, _report(problems) + (
        "\n(a '%' followed by a letter in the English msgid, as in '95% of', reads as a "
        "%-format to Babel and msgfmt: write '95%,' or 'more than 95 in 100' instead)")


MSGFMT = shutil.which("msgfmt")


@pytest.mark.skipif(MSGFMT is None, reason="gettext's msgfmt is not installed; "
                    "test_catalog_passes_babel_checks runs the same checks with Babel")
@pytest.mark.parametrize("name", _params("format", "uk", "ru", "en"))
def test_catalog_passes_msgfmt_check(name: str) -> None:
    done = subprocess.run([str(MSGFMT), "--check-format", "-c", "-o", "/dev/null",
                           str(_path(name))], capture_output=True, text=True)
    errors = [line for line in done.stderr.splitlines() if "warning:" not in line]
    assert done.returncode == 0, "\n".join(errors)


# -- dates and times she reads ----------------------------------------------------------------
BACK = {  # Tuesday 08:00 in Kyiv, consultants at 10:00: today, tomorrow, then Thursday ... Tuesday
    "uk": ["сьогодні з 10:00", "завтра з 10:00", "в четвер з 10:00", "в п’ятницю з 10:00",
           "в суботу з 10:00", "в неділю з 10:00", "в понеділок з 10:00", "у вівторок з 10:00"],
    "ru": ["сегодня с 10:00", "завтра с 10:00", "в четверг с 10:00", "в пятницу с 10:00",
           "в субботу с 10:00", "в воскресенье с 10:00", "в понедельник с 10:00",
           "во вторник с 10:00"],
    "en": ["today at 10:00", "tomorrow at 10:00", "on Thursday at 10:00", "on Friday at 10:00",
           "on Saturday at 10:00", "on Sunday at 10:00", "on Monday at 10:00",
           "on Tuesday at 10:00"],
}
ZONE = {"uk": "(час: Київ)", "ru": "(время: Киев)", "en": "(Kyiv time)"}


@pytest.mark.parametrize("lang", sorted(BACK))
def test_when_consultants_are_back_fits_the_sentence(world, lang: str) -> None:
    """«…будуть на зв’язку в понеділок з 10:00 (час: Київ)», not «…понеділок 10:00 за
    східноєвропейським стандартним часом»: the day in the case its sentence needs."""
    kyiv = ZoneInfo("Europe/Kyiv")
    now = datetime(2026, 11, 24, 8, 0, tzinfo=kyiv)
    tr = world.tr(lang)
    got = [back_at(now.replace(hour=10) + timedelta(days=ahead), kyiv, now, tr)
           for ahead in range(8)]
    assert got == [f"{day} {ZONE[lang]}" for day in BACK[lang]]
    sentence = tr.gettext("The consultants are not here right now. They will be back {when}. "
                          "Write your question anyway: they will see it then. If you are in "
                          "danger now, call the emergency numbers.").format(when=got[6])
    assert {"uk": "на зв’язку в понеділок з 10:00 (час: Київ).",
            "ru": "на связи в понедельник с 10:00 (время: Киев).",
            "en": "back on Monday at 10:00 (Kyiv time)."}[lang] in sentence


def test_when_is_counted_in_the_consultants_zone(world) -> None:
    moscow = ZoneInfo("Europe/Moscow")
    now = datetime(2026, 11, 27, 22, 30, tzinfo=UTC)  # Friday in UTC, Saturday in Moscow
    monday = datetime(2026, 11, 30, 9, 0, tzinfo=moscow)
    assert back_at(monday, moscow, now, world.tr("ru")) == "в понедельник с 09:00 (время: Москва)"
    sunday = datetime(2026, 11, 29, 9, 0, tzinfo=moscow)
    assert back_at(sunday, moscow, now, world.tr("uk")) == "завтра з 09:00 (час: Москва)"
