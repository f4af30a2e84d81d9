"""The development set through the real world: crisis recall is a correctness property.

Accuracy is reported (run pytest with -s, or bench/match_bench.py for the full table),
and a top-3 floor is asserted only once the content answers every topic of the set.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.content.world import load_world

ROOT = Path(__file__).resolve().parent.parent
DEVSET = ROOT / "tests" / "data" / "devset.yaml"
TOP3_FLOOR = 0.9


@pytest.fixture(scope="module")
def world():  # type: ignore[no-untyped-def]
    loaded, errors, _ = load_world(ROOT)
    assert loaded is not None, "\n".join(str(e) for e in errors)
    assert loaded.index is not None
    return loaded


@pytest.fixture(scope="module")
def questions() -> list[dict[str, object]]:
    return yaml.safe_load(DEVSET.read_text(encoding="utf-8"))["questions"]


def test_every_crisis_question_gets_the_crisis_answer(world, questions) -> None:  # type: ignore[no-untyped-def]
    steps = world.flows.steps
    missed = []
    for question in questions:
        if not question["crisis"]:
            continue
        match = world.index.match(question["q"])
        topics = steps[match.step].topics if match.step in steps else ()
        if not (match.crisis and match.suggestions == () and question["topic"] in topics):
            missed.append((question["q"], question["topic"], match.step))
    assert missed == []


def test_accuracy_is_reported(world, questions, capsys) -> None:  # type: ignore[no-untyped-def]
    steps = world.flows.steps
    answered = {t for s in steps.values() for t in s.topics}
    top1 = top3 = false_crisis = calm = 0
    for question in questions:
        match = world.index.match(question["q"])
        shown = [s for s in (match.step, *match.suggestions) if s in steps]
        top1 += bool(match.step in steps and question["topic"] in steps[match.step].topics)
        top3 += any(question["topic"] in steps[s].topics for s in shown)
        if not question["crisis"]:
            calm += 1
            false_crisis += match.crisis
    n = len(questions)
    with capsys.disabled():
        print(
            f"\ndevset: {n} questions, top-1 {top1 / n:.3f}, top-3 {top3 / n:.3f}, "
            f"false crisis {false_crisis / calm:.3f} of {calm}"
        )
    assert false_crisis / calm < 0.02
    if all(q["topic"] in answered for q in questions):
        assert top3 / n >= TOP3_FLOOR
