"""What staff read (/reload, /stats) and the command menu, as the pure engine writes them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.engine.events import COMMANDS
from bot.engine.staff import STATS_DAYS, command_menu, reload_report, stats_report
from bot.engine.translator import Translator

EN = Translator.identity()


@dataclass(frozen=True)
class Row:
    topic: str
    questions: int
    unanswered: int


def test_a_refused_reload_lists_the_problems() -> None:
    text = reload_report(EN, ["flows/ost.yaml:3: bad", "flows/main.yaml:9: worse"], [], 120,
                         others_told=False)
    assert text.split("\n") == ["Reload refused; still serving the last good content. "
                                "Problems:", "flows/ost.yaml:3: bad", "flows/main.yaml:9: worse"]


def test_a_reload_counts_steps_and_warnings() -> None:
    assert reload_report(EN, [], ["x.yaml:1: old"], 120, others_told=True).split("\n") == [
        "Reloaded: 120 steps, 1 warning. Other instances reload too.",
        "x.yaml:1: old (warning)"]
    assert reload_report(EN, [], [], 7, others_told=False) == "Reloaded: 7 steps, 0 warnings."


def test_stats_add_up_per_topic_most_asked_first(world: Any) -> None:
    rows = [Row("ost", 2, 0), Row("", 3, 3), Row("ost", 4, 1), Row("hiv", 1, 0)]
    assert stats_report(EN, rows).split("\n") == [
        f"Questions in the last {STATS_DAYS} days (topic: asked / unanswered):",
        "ost: 6 / 1", "(not understood): 3 / 3", "hiv: 1 / 0"]
    assert stats_report(EN, []) == "No questions counted yet."
    assert stats_report(world.tr("uk"), []) == "Запитань поки не було."


def test_the_command_menu_names_every_command_once(world: Any) -> None:
    for lang in ("uk", "ru", "en"):
        menu = command_menu(world.tr(lang))
        assert sorted(name for name, _ in menu) == sorted(COMMANDS)
        assert all(description.strip() for _, description in menu)
    assert command_menu(world.tr("uk")) != command_menu(world.tr("en"))
