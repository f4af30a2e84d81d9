"""The flow loader: every kind of mistake gives its exact file:line, all at once."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot import flows
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
        "flow: bad\ntitle: Fine\nsteps:\n  start:\n    say: Hi.\n    topics: [t_one]\n"
        "    sources: [SRC]\n    reviewed: 2026-01-01\n", encoding="utf-8")
    model, errors, issues = flows.load(flows_dir, TODAY)
    assert errors == [] and model is not None
    assert model.steps["bad.start"].topics == ("t_one",)


def test_stale_review_date_is_a_warning_not_an_error(tmp_path: Path) -> None:
    flows_dir = tmp_path / "flows"
    shutil.copytree(DATA / "flows_base", flows_dir)
    (flows_dir / "bad.yaml").write_text(
        "flow: bad\ntitle: Old\nsteps:\n  start:\n    say: Hi.\n    topics: [t_one]\n"
        "    sources: [SRC]\n    reviewed: 2020-01-01\n", encoding="utf-8")
    model, errors, issues = flows.load(flows_dir, TODAY)
    assert model is not None and errors == []
    assert [str(i) for i in issues] == [
        "flows/bad.yaml:8: step 'start': reviewed on 2020-01-01, over a year ago: "
        "please check it again"]


def test_shipped_flows_load_without_errors() -> None:
    model, errors, _ = flows.load(ROOT / "flows", TODAY)
    assert errors == [], "\n".join(map(str, errors))
    assert model is not None and "main.menu" in model.steps


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
    main.write_text(main.read_text(encoding="utf-8").replace("  help:\n    say: Help.\n", ""),
                    encoding="utf-8")
    model, errors, _ = flows.load(flows_dir, TODAY)
    assert model is None
    assert [str(e) for e in errors] == [
        "flows:1: the bot opens step 'help' of flow 'main' by itself (a command or the first "
        "contact), so it must exist: add it to flows/main.yaml"]
