"""What `podruga check` and /reload tell staff, in PODRUGA_STAFF_LANG (en, uk or ru).

Every DataError and Issue keeps its English template and fields (``C_``/``CN_``),
rendered from the ``check`` catalog; ``str()`` stays the English source text,
which the exact-text tests of tests/data/bad compare.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from bot.content import flows, i18n
from bot.content.directory import load as load_directory
from bot.content.world import check_all, staff_language
from bot.errors import C_, CN_, DataError, Issue, StaffText
from tests.conftest import ROOT, TODAY

BAD = ROOT / "tests" / "data" / "bad"
CHECK_PO = {lang: ROOT / "locales" / lang / "LC_MESSAGES" / "check.po" for lang in ("uk", "ru")}


@pytest.mark.parametrize("lang", sorted(CHECK_PO))
def test_every_check_message_is_translated_and_none_is_fuzzy(lang: str) -> None:
    with CHECK_PO[lang].open("rb") as fp:
        catalog = read_po(fp)
    wanted = {w.msgid for w in i18n.wanted_from_code(ROOT / "bot", ROOT)
              if w.domain == i18n.CHECK_DOMAIN}
    assert len(wanted) > 100  # the loaders' messages, not only the command's own lines
    found = {}
    for message in catalog:
        if not message.id:
            continue
        msgid = message.id[0] if isinstance(message.id, tuple) else message.id
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        found[msgid] = (message.fuzzy, all(s.strip() for s in strings))
    assert sorted(wanted - set(found)) == []
    assert [m for m, (fuzzy, full) in found.items() if fuzzy or not full] == []


def _texts(text: StaffText) -> Iterator[StaffText]:
    yield text
    for value in text.fields.values():
        if isinstance(value, StaffText):
            yield from _texts(value)


def _untranslated(problem: DataError | Issue, lang: str) -> list[str]:
    """Each template in the problem that the catalog of ``lang`` has no translation for."""
    language = staff_language(lang, ROOT)
    texts = [*_texts(problem.text)]
    where = problem.where_text if isinstance(problem, DataError) else None
    if where is not None and where.msgid != "{text}":  # a plain where is a YAML path
        texts += _texts(where)
    missing = []
    for text in texts:
        shown = (language.gettext(text.msgid) if text.n is None
                 else language.ngettext(text.msgid, text.plural, text.n))
        if shown in (text.msgid, text.plural) and text.msgid not in ("{where}: say[{number}]",
                                                                     "{errors}, {warnings}"):
            missing.append(text.msgid)
    return missing


def _bad_flow_problems(tmp_path: Path) -> Iterator[DataError | Issue]:
    for bad in sorted((BAD / "flows").glob("*.yaml")):
        folder = tmp_path / bad.stem / "flows"
        shutil.copytree(ROOT / "tests" / "data" / "flows_base", folder)
        shutil.copy(bad, folder / bad.name)
        _model, errors, issues = flows.load(folder, TODAY)
        yield from errors
        yield from issues


def _bad_directory_problems(tmp_path: Path) -> Iterator[DataError | Issue]:
    for bad in sorted((BAD / "directory").glob("*.yaml")):
        folder = tmp_path / bad.stem / "directory"
        folder.mkdir(parents=True)
        cities = bad if bad.name.startswith("cities") else ROOT / "directory" / "cities.yaml"
        shutil.copy(cities, folder / "cities.yaml")
        if not bad.name.startswith("cities"):
            shutil.copy(bad, folder / bad.name)
        _found, errors, issues = load_directory(folder, today=TODAY)
        yield from errors
        yield from issues


@pytest.mark.parametrize("lang", ["uk", "ru"])
def test_every_problem_in_the_bad_fixtures_reads_in_the_staff_language(
        tmp_path: Path, lang: str) -> None:
    problems = [*_bad_flow_problems(tmp_path / "f"), *_bad_directory_problems(tmp_path / "d")]
    assert len(problems) > 60
    untranslated = {f"{p} -> {m!r}" for p in problems for m in _untranslated(p, lang)}
    assert sorted(untranslated) == []
    for problem in problems:  # the place is the same in every language
        assert problem.render(staff_language(lang, ROOT)).startswith(f"{problem.path}:"
                                                                     f"{problem.line}: ")


def test_str_is_english_and_render_translates() -> None:
    error = DataError("flows/ost.yaml", 10, C_("unknown field '{key}'{hint}", key="sya",
                                               hint=C_("; did you mean '{name}'?", name="say")),
                      C_("step '{step}'", step="start"))
    assert str(error) == "flows/ost.yaml:10: step 'start': unknown field 'sya'; did you mean 'say'?"
    assert error.message == "unknown field 'sya'; did you mean 'say'?"
    assert error.where == "step 'start'"
    assert error.render(staff_language("uk", ROOT)) == (
        "flows/ost.yaml:10: крок 'start': невідоме поле 'sya'; можливо, 'say'?")
    assert error.render(staff_language("ru", ROOT)) == (
        "flows/ost.yaml:10: шаг 'start': неизвестное поле 'sya'; возможно, 'say'?")
    assert error.render(staff_language("en", ROOT)) == str(error)


@pytest.mark.parametrize(("lang", "counts"), [
    ("uk", {1: "1 помилка", 3: "3 помилки", 5: "5 помилок", 21: "21 помилка", 12: "12 помилок"}),
    ("ru", {1: "1 ошибка", 2: "2 ошибки", 7: "7 ошибок", 22: "22 ошибки", 11: "11 ошибок"}),
    ("en", {1: "1 error", 2: "2 errors"}),
])
def test_counted_messages_use_the_languages_plural_forms(lang: str, counts: dict[int, str]
                                                         ) -> None:
    language = staff_language(lang, ROOT)
    assert {n: CN_("{n} error", "{n} errors", n).render(language) for n in counts} == counts


def test_a_country_is_named_in_the_staff_language(tmp_path: Path) -> None:
    folder = tmp_path / "directory"
    folder.mkdir()
    shutil.copy(ROOT / "directory" / "cities.yaml", folder / "cities.yaml")
    shutil.copy(BAD / "directory" / "phone_other_country.yaml", folder / "x.yaml")
    _found, errors, _ = load_directory(folder, today=TODAY)
    assert "Ukraine" in str(errors[0])
    assert "Україна" in errors[0].render(staff_language("uk", ROOT))
    assert "Украина" in errors[0].render(staff_language("ru", ROOT))


def _content_copy(tmp_path: Path) -> Path:
    root = tmp_path / "content"
    for name in ("flows", "locales", "directory"):
        shutil.copytree(ROOT / name, root / name)
    return root


def test_a_mistyped_translation_falls_back_to_english(tmp_path: Path) -> None:
    """A check.po whose translation lost a placeholder still says what is wrong."""
    root = _content_copy(tmp_path)
    po = root / "locales" / "uk" / "LC_MESSAGES" / "check.po"
    po.write_text(po.read_text(encoding="utf-8").replace(
        'msgstr "невідоме поле \'{key}\'{hint}"', 'msgstr "невідоме поле \'{ключ}\'{hint}"'),
        encoding="utf-8")
    text = C_("unknown field '{key}'{hint}", key="sya", hint="")
    assert text.render(staff_language("uk", root)) == "unknown field 'sya'"


def test_a_broken_check_catalog_falls_back_to_the_shipped_one(tmp_path: Path) -> None:
    root = _content_copy(tmp_path)
    (root / "locales" / "uk" / "LC_MESSAGES" / "check.po").write_text("msgid \"x\"\ngarbage\n")
    assert C_("step '{step}'", step="a").render(staff_language("uk", root)) == "крок 'a'"
    errors = check_all(root, date.today())[1]
    assert any(e.path == "locales/uk/LC_MESSAGES/check.po" for e in errors)
    assert C_("step '{step}'", step="a").render(i18n.staff_language("uk", root / "none")) == (
        "step 'a'")  # no catalog anywhere: English


def _podruga(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "PYTHONPATH": str(ROOT), **env}
    environ.pop("PODRUGA_DATA", None)
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], env=environ,
                          capture_output=True, text=True, timeout=300, check=False)


def test_podruga_check_speaks_the_staff_language(tmp_path: Path) -> None:
    root = _content_copy(tmp_path)
    ost = root / "flows" / "ost.yaml"
    lines = ost.read_text(encoding="utf-8").splitlines(keepends=True)
    line = next(i for i, text in enumerate(lines) if text.startswith("    say:")) + 1
    lines[line - 1] = lines[line - 1].replace("say:", "sya:")
    ost.write_text("".join(lines), encoding="utf-8")

    done = _podruga("check", str(root), PODRUGA_STAFF_LANG="uk")
    assert done.returncode == 1
    assert f"flows/ost.yaml:{line}: крок 'start': невідоме поле 'sya'; можливо, 'say'?" in (
        done.stdout.splitlines())
    assert done.stdout.startswith(f"папка з даними: {root} (з параметра --data)")
    assert done.stderr.startswith("2 помилки, ")

    done = _podruga("check", "--lang", "ru", str(root), PODRUGA_STAFF_LANG="uk")
    assert f"flows/ost.yaml:{line}: шаг 'start': неизвестное поле 'sya'; возможно, 'say'?" in (
        done.stdout.splitlines())

    done = _podruga("check", str(root), PODRUGA_STAFF_LANG="de")
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith("podruga: PODRUGA_STAFF_LANG must be one of en, uk, ru")


def _message_calls() -> Iterator[tuple[str, int, str]]:
    """(file, line, what) for each DataError, Issue or loader ``error(...)`` call whose text is
    an f-string or a non-empty string literal: such a text cannot be translated."""
    import ast

    for path in sorted((ROOT / "bot").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.id if isinstance(func, ast.Name) else (
                func.attr if isinstance(func, ast.Attribute) else "")
            if name not in ("DataError", "Issue", "error"):
                continue
            if name == "error" and not (isinstance(func, ast.Attribute) and isinstance(
                    func.value, ast.Name) and func.value.id in ("self", "file", "reader")):
                continue  # log.error(...) and the like
            for arg in [*node.args, *(k.value for k in node.keywords)]:
                literal = isinstance(arg, ast.Constant) and isinstance(arg.value, str) and arg.value
                if isinstance(arg, ast.JoinedStr) or literal:
                    yield str(path.relative_to(ROOT)), node.lineno, name


def test_loader_messages_are_marked_for_the_check_catalog() -> None:
    """A new message is written C_("... {field} ...", field=value), never as an f-string."""
    assert list(_message_calls()) == []


def test_a_folder_without_flows_is_named_in_the_staff_language(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from bot.cli import main

    assert main(["check", "--lang", "uk", str(tmp_path)]) == 2
    assert capsys.readouterr().err == (
        f"podruga: --data: у {tmp_path} немає папки flows/; у папці з даними мають бути "
        f"flows/, locales/ і directory/ (створіть її командою 'podruga data copy {tmp_path}')\n")
    assert main(["check", "--lang", "ru", str(tmp_path), "--data", str(tmp_path)]) == 2
    assert capsys.readouterr().err == (
        "podruga: укажите папку с данными один раз: как DIR или как --data\n")
