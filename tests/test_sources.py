"""The sources line under an answer names only what holds in her country and may be
named there: no Ukrainian law for a woman in Russia (nor the reverse), and no
organisation Russia calls "undesirable" (flows/sources.yaml: countries, withheld_in)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.content import flows
from bot.engine import SOURCE_CONTEXT, step
from bot.engine.events import Button
from bot.engine.replies import Say
from bot.engine.state import LANGS, State
from tests.conftest import NOW, TODAY

DATA = Path(__file__).parent / "data"
RIGHTS = ("rights.confidential", "rights.police", "rights.children", "rights.refused",
          "rights.legal_aid", "rights.police_after")


def footer(world, country: str, lang: str, step_id: str) -> str:  # type: ignore[no-untyped-def]
    result = step(world, State(lang=lang, country=country), Button(step_id), NOW)
    says = [r for r in result.replies if isinstance(r, Say) and r.step == step_id]
    assert says, f"{step_id} was not shown in {country}"
    return says[0].footer


def names(world, lang: str, keep) -> list[str]:  # type: ignore[no-untyped-def]
    """The names she would read, in ``lang``, of the sources ``keep`` picks."""
    tr = world.tr(lang)
    return [tr.pgettext(SOURCE_CONTEXT, s.name) for s in world.flows.sources.values() if keep(s)]


@pytest.mark.parametrize("lang", LANGS)
def test_in_russia_no_undesirable_organisation_and_no_foreign_law(world, lang: str) -> None:
    barred = names(world, lang, lambda s: "RU" in s.withheld_in
                   or (s.countries and "RU" not in s.countries))
    assert any("Open Society" in n for n in barred) and len(barred) > 10
    for step_id in ("ost.russia", "ost.pregnancy", *RIGHTS):
        shown = footer(world, "RU", lang, step_id)
        for name in barred:
            assert name not in shown, f"{step_id} names {name!r} to a woman in Russia"
    # A Russian law still is named where the answer cites one.
    police = footer(world, "RU", lang, "rights.police")
    russian = world.tr(lang).pgettext(SOURCE_CONTEXT, world.flows.source("RU-AdminCode").name)
    assert russian in police


@pytest.mark.parametrize("lang", LANGS)
def test_in_ukraine_no_russian_law(world, lang: str) -> None:
    russian = names(world, lang, lambda s: s.countries and "UA" not in s.countries)
    assert len(russian) > 5
    for step_id in RIGHTS:
        shown = footer(world, "UA", lang, step_id)
        for name in russian:
            assert name not in shown, f"{step_id} names {name!r} to a woman in Ukraine"
    ukrainian = world.tr(lang).pgettext(SOURCE_CONTEXT,
                                        world.flows.source("UA-HIV-Law").name)
    assert ukrainian in footer(world, "UA", lang, "rights.confidential")
    # Outside Russia the foundation's report is still named.
    osf = world.tr(lang).pgettext(SOURCE_CONTEXT, world.flows.source("OSF-2011").name)
    assert osf in footer(world, "UA", lang, "rights.legal_aid")


def test_no_national_law_and_nothing_withheld_when_her_country_is_unknown(world) -> None:
    for country in ("", "XX"):
        shown = world.flows.sources_shown(world.flows.steps["rights.confidential"].sources,
                                          country)
        assert {s.key for s in shown} == {"UNODC-2016"}


def test_every_withheld_source_says_why(world) -> None:
    withheld = [s for s in world.flows.sources.values() if s.withheld_in]
    assert {"OSF-2011", "OSF-CRIMEA-2015"} <= {s.key for s in withheld}
    for source in withheld:
        for country, reason in source.withheld_in.items():
            assert country in flows.COUNTRIES
            assert len(reason.split()) >= 5, f"{source.key}: say why it is withheld in {country}"


def _load(tmp_path: Path, sources: str, flow: str) -> tuple[flows.Flows | None, list, list]:
    flows_dir = tmp_path / "flows"
    shutil.copytree(DATA / "flows_base", flows_dir)
    (flows_dir / "sources.yaml").write_text(sources, encoding="utf-8")
    (flows_dir / "bad.yaml").write_text(flow, encoding="utf-8")
    return flows.load(flows_dir, TODAY)


ANSWER = """flow: bad
title: Sources
steps:
  start:
    same_in: [RU]
    say: An answer.
    topics: [t_one]
    sources: [SRC, LAW]
    reviewed: 2026-01-01
"""


def test_an_unknown_country_or_a_missing_reason_is_an_error(tmp_path: Path) -> None:
    model, errors, _ = _load(tmp_path, """sources:
  SRC:
    name: A source document (2020)
    title: A source document, 2020
    countries: [UA, QQ]
  LAW:
    name: A law
    title: A law
    withheld_in: {RU: ""}
""", ANSWER)
    assert model is None
    got = [str(e) for e in errors if e.path == "flows/sources.yaml"]
    assert got == [
        "flows/sources.yaml:5: source 'SRC': unknown country 'QQ'",
        "flows/sources.yaml:9: source 'LAW': 'withheld_in' must name each country with the "
        "reason the source is not named there, like {RU: \"undesirable organisation in Russia "
        "since 2015\"}"]


def test_an_answer_with_no_source_nameable_in_russia_is_a_warning(tmp_path: Path) -> None:
    model, errors, issues = _load(tmp_path, """sources:
  SRC:
    name: A source document (2020)
    title: A source document, 2020
    countries: [UA]
  LAW:
    name: A law
    title: A law
    withheld_in: {RU: "named here only to test the warning"}
""", ANSWER)
    assert errors == [] and model is not None
    assert [str(i) for i in issues if i.path == "flows/bad.yaml"] == [
        "flows/bad.yaml:4: step 'start': a woman in Russia can reach this answer, but none of "
        "its sources (SRC, LAW) is named there: each is for another country or withheld there, "
        "so her footer says the sources are not named; cite one that holds there, like a WHO "
        "guideline or the country's own law"]
    assert [s.key for s in model.sources_shown(["SRC", "LAW"], "UA")] == ["SRC", "LAW"]
    assert model.sources_shown(["SRC", "LAW"], "RU") == []


def test_a_footer_with_nothing_to_name_says_so(world) -> None:
    ru = footer(world, "RU", "ru", "main.find")
    assert ru.endswith("\nИсточники для вашей страны здесь не называем.")
    assert "Open Society" not in ru
    uk = footer(world, "RU", "uk", "main.find")
    assert uk.endswith("\nДжерела для вашої країни тут не називаємо.")
