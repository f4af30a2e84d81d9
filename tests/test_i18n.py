"""Catalogs: complete in uk, ru and en, found by pybabel, plural forms from CLDR."""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
from collections import deque
from pathlib import Path

import pytest
from babel.messages.pofile import read_po, write_po

from bot.content import i18n
from bot.content.world import _wanted
from bot.engine import step
from bot.engine.events import Button
from bot.engine.replies import Say
from bot.engine.state import State
from tests.conftest import NOW, ROOT

PYBABEL = Path(sys.executable).parent / "pybabel"


def test_pybabel_extract_lists_flow_strings_with_file_and_line(tmp_path: Path) -> None:
    pot = tmp_path / "messages.pot"
    subprocess.run([str(PYBABEL), "extract", "-F", "babel.cfg", "-o", str(pot), "flows", "bot"],
                   cwd=ROOT, check=True, capture_output=True)
    with pot.open("rb") as fp:
        catalog = read_po(fp)
    menu = catalog.get(
        "What would you like to know? Choose a topic or just write your question in your own "
        "words.", context="main.menu")
    assert menu is not None
    assert menu.locations[0][0] == "flows/main.yaml" and menu.locations[0][1] > 1
    assert any("flow main, step menu" in c for c in menu.auto_comments)
    code = catalog.get("✖ Quick exit")
    assert code is not None and code.locations[0][0].startswith("bot/")
    assert catalog.get("🆘 Urgent help", context="button") is not None


def test_every_shipped_string_is_translated_in_every_language(world) -> None:
    errors = i18n.check(world.catalogs, _wanted(ROOT), ROOT / "locales", ROOT)
    assert errors == [], "\n".join(map(str, errors[:40]))


def _copy_locales(tmp_path: Path) -> Path:
    target = tmp_path / "locales"
    shutil.copytree(ROOT / "locales", target)
    return target


def _edit(po: Path, msgid: str, context: str | None, change) -> int:  # type: ignore[no-untyped-def]
    with po.open("rb") as fp:
        catalog = read_po(fp)
    message = catalog.get(msgid, context=context)
    change(message)
    buffer = io.BytesIO()
    write_po(buffer, catalog, width=100)
    po.write_bytes(buffer.getvalue())
    with po.open("rb") as fp:
        return read_po(fp).get(msgid, context=context).lineno + 1


WANTED = [i18n.Wanted("main", "button", "🔒 Privacy", None, "flows/main.yaml", 25),
          i18n.Wanted("bot", None, "Looking for: {needs}.", None, "bot/engine/__init__.py", 1)]


def _check(locales: Path) -> list[str]:
    catalogs, errors = i18n.load(locales, locales.parent)
    assert catalogs is not None, errors
    return [str(e) for e in i18n.check(catalogs, WANTED, locales, locales.parent)]


def test_complete_fixture_passes(tmp_path: Path) -> None:
    assert _check(_copy_locales(tmp_path)) == []


def test_an_emptied_translation_fails_with_its_line(tmp_path: Path) -> None:
    locales = _copy_locales(tmp_path)
    po = locales / "uk" / "LC_MESSAGES" / "main.po"
    line = _edit(po, "🔒 Privacy", "button", lambda m: setattr(m, "string", ""))
    assert _check(locales) == [
        f"locales/uk/LC_MESSAGES/main.po:{line}: the Ukrainian translation of '🔒 Privacy' "
        "is empty"]


def test_a_fuzzy_translation_fails(tmp_path: Path) -> None:
    locales = _copy_locales(tmp_path)
    po = locales / "ru" / "LC_MESSAGES" / "main.po"
    line = _edit(po, "🔒 Privacy", "button", lambda m: m.flags.add("fuzzy"))
    assert _check(locales) == [
        f"locales/ru/LC_MESSAGES/main.po:{line}: the Russian translation of '🔒 Privacy' is "
        "marked fuzzy: check it and remove the fuzzy mark"]


def test_a_changed_placeholder_fails(tmp_path: Path) -> None:
    locales = _copy_locales(tmp_path)
    po = locales / "uk" / "LC_MESSAGES" / "bot.po"
    line = _edit(po, "Looking for: {needs}.", None,
                 lambda m: setattr(m, "string", "Шукаю: {need}."))
    assert _check(locales) == [
        f"locales/uk/LC_MESSAGES/bot.po:{line}: the Ukrainian translation of 'Looking for: "
        "{needs}.' must keep the placeholders ['{needs}'], but has ['{need}']"]


def test_a_missing_translation_names_the_catalog(tmp_path: Path) -> None:
    locales = _copy_locales(tmp_path)
    (locales / "en" / "LC_MESSAGES" / "main.po").unlink()
    assert _check(locales) == [
        "flows/main.yaml:25: '🔒 Privacy' has no English translation in "
        "locales/en/LC_MESSAGES/main.po: run 'podruga catalogs' and translate it"]


def test_a_broken_po_file_gives_its_line(tmp_path: Path) -> None:
    locales = _copy_locales(tmp_path)
    po = locales / "uk" / "LC_MESSAGES" / "main.po"
    text = po.read_text(encoding="utf-8").rstrip("\n") + '\n\nmsgid "x"\nmsgstr "y"\ngarbage\n'
    po.write_text(text, encoding="utf-8")
    garbage_line = text.splitlines().index("garbage") + 1
    catalogs, errors = i18n.load(locales, tmp_path)
    assert catalogs is None
    assert str(errors[0]).startswith(f"locales/uk/LC_MESSAGES/main.po:{garbage_line}: this PO file "
                                     "is broken")


@pytest.mark.parametrize(("lang", "counts"), [
    ("uk", {1: "Знайдено 1 місце", 3: "Знайдено 3 місця", 5: "Знайдено 5 місць",
            21: "Знайдено 21 місце", 11: "Знайдено 11 місць"}),
    ("ru", {1: "Найдено 1 место", 2: "Найдено 2 места", 7: "Найдено 7 мест",
            22: "Найдено 22 места", 14: "Найдено 14 мест"}),
    ("en", {1: "1 service found", 2: "2 services found", 11: "11 services found"}),
])
def test_plural_forms_follow_cldr(world, lang: str, counts: dict[int, str]) -> None:
    tr = world.tr(lang)
    for n, text in counts.items():
        assert tr.ngettext("{n} service found", "{n} services found", n).format(n=n) == text


# The other date phrase, when the consultants are back (bot/engine/datetimes.py), is
# tested in test_language.py.
@pytest.mark.parametrize(("lang", "updated"), [
    ("uk", "Оновлено: 1 лютого 2026\u202fр."),  # CLDR: a narrow no-break space
    ("ru", "Обновлено: 1 февраля 2026\u202fг."),
    ("en", "Updated: February 1, 2026"),
])
def test_an_answer_says_when_it_was_updated_in_her_language(world, lang: str,
                                                            updated: str) -> None:
    """The date under an answer reads as a date in her language: a month in the genitive
    («лютого», «февраля»), not a short or numeric form."""
    from dataclasses import replace
    from datetime import date

    steps = dict(world.flows.steps)
    steps["main.privacy"] = replace(steps["main.privacy"], reviewed=date(2026, 2, 1))
    dated = replace(world, flows=replace(world.flows, steps=steps))
    result = step(dated, State(lang=lang, country="UA"), Button("main.privacy"), NOW)
    (answer,) = [r for r in result.replies if isinstance(r, Say)]
    assert answer.footer.split("\n")[0] == updated


def _english_strings() -> set[str]:
    return {w.msgid for w in _wanted(ROOT)} - {"PrEP", "Podruga"}


@pytest.mark.parametrize("lang", ["uk", "ru"])
def test_walking_every_menu_shows_no_english(world, lang: str) -> None:
    """Tap every button reachable from the menu; no screen may show an English source string."""
    english = _english_strings()
    seen: set[str] = set()
    queue = deque(["main.menu", "main.welcome", "main.help", "crisis.start"])
    shown = 0
    for country in ("UA", "RU", "XX"):
        seen.clear()
        queue.extend(["main.menu", "main.welcome"])
        while queue:
            payload = queue.popleft()
            if payload in seen:
                continue
            seen.add(payload)
            result = step(world, State(lang=lang, country=country), Button(payload), NOW)
            for reply in result.replies:
                texts = [getattr(reply, "text", ""), getattr(reply, "footer", "")]
                for row in getattr(reply, "buttons", ()):
                    for choice in row:
                        texts.append(choice.label)
                        if choice.payload in world.flows.steps:
                            queue.append(choice.payload)
                for text in texts:
                    assert text not in english or not text, f"{payload}: English {text!r}"
                shown += isinstance(reply, Say)
    assert shown > 20
