"""The flow loader: every kind of mistake gives its exact file:line, all at once."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.content import flows
from bot.errors import DataError, PodrugaError
from tests.conftest import ROOT, TODAY

DATA = Path(__file__).parent / "data"
BAD = sorted((DATA / "bad" / "flows").glob("*.yaml"))


def expected(path: Path) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.removeprefix("# expect: ") for line in lines if line.startswith("# expect: ")]


def load_with(tmp_path: Path, bad: Path) -> list[DataError]:
    flows_dir = tmp_path / "flows"
    shutil.copytree(DATA / "flows_base", flows_dir)
    shutil.copy(bad, flows_dir / bad.name)
    model, errors, _ = flows.load(flows_dir, TODAY)
    assert model is None, "a file with errors must not load"
    return errors


@pytest.mark.parametrize("bad", BAD, ids=[p.stem for p in BAD])
def test_each_broken_flow_gives_its_exact_errors(tmp_path: Path, bad: Path) -> None:
    wanted = [f"flows/{bad.name}{rest}" for rest in expected(bad)]
    assert wanted, f"{bad.name} has no '# expect:' line"
    got = [str(e) for e in load_with(tmp_path, bad) if e.path == f"flows/{bad.name}"]
    assert sorted(got) == sorted(wanted)


def test_base_fixture_itself_is_clean(tmp_path: Path) -> None:
    flows_dir = tmp_path / "flows"
    shutil.copytree(DATA / "flows_base", flows_dir)
    (flows_dir / "bad.yaml").write_text(
        "flow: bad\ntitle: Fine\nsteps:\n  start:\n    same_in: [RU]\n    say: Hi.\n"
        "    topics: [t_one]\n"
        "    sources: [SRC]\n    reviewed: 2026-01-01\n", encoding="utf-8")
    model, errors, issues = flows.load(flows_dir, TODAY)
    assert errors == [] and model is not None
    assert model.steps["bad.start"].topics == ("t_one",)


def test_stale_review_date_is_a_warning_not_an_error(tmp_path: Path) -> None:
    flows_dir = tmp_path / "flows"
    shutil.copytree(DATA / "flows_base", flows_dir)
    (flows_dir / "bad.yaml").write_text(
        "flow: bad\ntitle: Old\nsteps:\n  start:\n    same_in: [RU]\n    say: Hi.\n"
        "    topics: [t_one]\n"
        "    sources: [SRC]\n    reviewed: 2020-01-01\n", encoding="utf-8")
    model, errors, issues = flows.load(flows_dir, TODAY)
    assert model is not None and errors == []
    assert [str(i) for i in issues] == [
        "flows/bad.yaml:9: step 'start': reviewed on 2020-01-01, over a year ago: "
        "please check it again"]


def test_shipped_flows_load_without_errors() -> None:
    model, errors, _ = flows.load(ROOT / "flows", TODAY)
    assert errors == [], "\n".join(map(str, errors))
    assert model is not None and "main.menu" in model.steps


@pytest.mark.parametrize("path", sorted((ROOT / "flows").glob("*.yaml"))
                         + sorted((ROOT / "bot" / "matching" / "data").glob("*.yaml")),
                         ids=lambda p: p.name)
def test_shipped_yaml_reads_the_same_without_libyaml(path: Path) -> None:
    # Without libyaml PyYAML falls back to its pure-Python loader, which is stricter
    # ("msg?]" inside [...] is an error there): the same files must load on both.
    import yaml

    text = path.read_text(encoding="utf-8")
    fast = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    assert yaml.load(text, Loader=yaml.SafeLoader) == fast


def test_podruga_error_is_abstract() -> None:
    with pytest.raises(TypeError):
        PodrugaError("x")
    assert str(DataError("flows/a.yaml", 3, "boom", "step 'x'")) == "flows/a.yaml:3: step 'x': boom"


def test_steps_the_bot_opens_by_itself_are_required(tmp_path: Path) -> None:
    # /help used to raise KeyError once staff deleted main.help; now the flows do not load
    flows_dir = tmp_path / "flows"
    shutil.copytree(DATA / "flows_base", flows_dir)
    (flows_dir / "bad.yaml").write_text("flow: bad\ntitle: Fine\nsteps:\n  start:\n    say: Hi.\n",
                                        encoding="utf-8")
    main = flows_dir / "main.yaml"
    help_step = "  help:\n    same_in: [RU]\n    say: Help.\n"
    main.write_text(main.read_text(encoding="utf-8").replace(help_step, ""), encoding="utf-8")
    model, errors, _ = flows.load(flows_dir, TODAY)
    assert model is None
    assert [str(e) for e in errors] == [
        "flows:1: the bot opens step 'help' of flow 'main' by itself (a command or the first "
        "contact), so it must exist: add it to flows/main.yaml"]


def _load_extra(tmp_path: Path, text: str) -> tuple[flows.Flows | None, list[DataError], list]:
    flows_dir = tmp_path / "flows"
    shutil.copytree(DATA / "flows_base", flows_dir)
    (flows_dir / "bad.yaml").write_text(text, encoding="utf-8")
    return flows.load(flows_dir, TODAY)


def test_a_hidden_step_opens_what_it_names_or_its_flow_start(tmp_path: Path) -> None:
    model, errors, _ = _load_extra(tmp_path, """flow: bad
title: Countries
steps:
  start:
    say:
      - when: {country: [KZ, RU]}
        text: A list with RU decides it too.
      - text: Elsewhere.
    buttons:
      - {label: Dose, go: dose}
      - {label: Stop, go: stop}
      - {label: Search, go: "find:ost", hide: {RU: start}}
      - {label: Women, go: "find:women_only", hide: [RU]}
  dose:
    hide: {RU: other}
    say: Not in Russia.
  stop:
    hide: [RU, BY]
    say: Not in Russia or Belarus.
  other:
    same_in: [RU]
    say: Read for Russia.
""")
    assert errors == [] and model is not None
    assert model.shown_instead("bad.dose", "RU") == "bad.other"
    assert model.shown_instead("bad.dose", "UA") == "bad.dose"
    assert model.shown_instead("bad.stop", "BY") == "bad.start"  # no name: the flow's start
    assert model.shown_instead("find:ost", "RU") == "bad.start"
    assert model.shown_instead("find:women_only", "RU") == "main.menu"  # a search: the menu
    assert model.shown_instead("find:ost", "") == "find:ost"  # no country chosen: all shown
    start = model.steps["bad.start"]
    assert [b.go for b in start.buttons if model.button_shown(b, "RU")] == []
    assert [b.go for b in start.buttons if model.button_shown(b, "UA")] == [
        "bad.dose", "bad.stop", "find:ost", "find:women_only"]


def test_a_step_reached_only_through_a_hidden_one_needs_no_russian_text(tmp_path: Path) -> None:
    model, errors, _ = _load_extra(tmp_path, """flow: bad
title: Countries
steps:
  start:
    same_in: [RU]
    say: Start.
    buttons:
      - {label: OST, go: ost_only}
  ost_only:
    hide: [RU]
    say: Only where OST exists.
    buttons:
      - {label: Dose, go: dose}
  dose:
    say: Reached only from a step Russia never shows.
""")
    assert errors == [] and model is not None


def test_what_staff_must_verify_is_a_warning(tmp_path: Path) -> None:
    model, errors, issues = _load_extra(tmp_path, """flow: bad
title: Verify
steps:
  start:
    same_in: [RU]
    verify:
      - "8-800-0000-000: who runs it"
    say: Call 8-800-0000-000.
""")
    assert errors == [] and model is not None
    assert [str(i) for i in issues if i.path == "flows/bad.yaml"] == [
        "flows/bad.yaml:6: step 'start': staff must verify: 8-800-0000-000: who runs it"]
    assert model.steps["bad.start"].verify == ("8-800-0000-000: who runs it",)


def test_shipped_russia_path_hides_the_ost_steps_and_searches() -> None:
    model, errors, _ = flows.load(ROOT / "flows", TODAY)
    assert errors == [] and model is not None
    for step_id in ("ost.preg_dose", "ost.breastfeeding", "ost.stop"):
        assert model.shown_instead(step_id, "RU") == "ost.russia", step_id
        assert model.shown_instead(step_id, "UA") == step_id
    for step in model.steps.values():
        for button in step.buttons:
            if button.go.startswith("find:") and "ost" in button.go[5:].split("+"):
                assert not model.button_shown(button, "RU"), (step.id, button.go)
                assert model.shown_instead(button.go, "RU") == "ost.russia"
    names = {key: source.name for key, source in model.sources.items()}
    assert all(names.values()) and names["WHO-OST-2009"] != "WHO-OST-2009"


def test_a_step_the_bot_opens_by_itself_cannot_be_hidden(tmp_path: Path) -> None:
    flows_dir = tmp_path / "flows"
    shutil.copytree(DATA / "flows_base", flows_dir)
    (flows_dir / "bad.yaml").write_text(
        "flow: bad\ntitle: Fine\nsteps:\n  start:\n    same_in: [RU]\n    say: Hi.\n",
        encoding="utf-8")
    main = flows_dir / "main.yaml"
    main.write_text(main.read_text(encoding="utf-8").replace(
        "  help:\n    same_in: [RU]\n", "  help:\n    hide: [RU]\n"), encoding="utf-8")
    model, errors, _ = flows.load(flows_dir, TODAY)
    assert model is None
    assert [str(e) for e in errors] == [
        "flows/main.yaml:26: step 'help': the bot opens this step by itself (a command or the "
        "first contact), so it cannot be hidden"]
