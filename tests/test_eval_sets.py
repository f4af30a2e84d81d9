"""The question sets that measure the matcher do not leak into what it learns from.

A question that is also an `ask` phrase or a matcher example (word for word, or the same
words in another spelling: the reader's skeleton line) is answered from memory, and the
figures it feeds are inflated. The devset must hold none; the blind sets none of five
words or more (a lone "привет" or "who are you" is what every writer writes). The tuning
sets are tuned on by design and not checked.

A question typed on the wrong keyboard layout is not compared: since session 7 the reader
spells a layout slip as the words it decodes to, and a short common question typed that
way ("xnj nfrjt vtnfljy") decodes to an `ask` phrase written sessions before the set.
Decoding it is what such a question measures.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.matching.index import shipped_examples

DATA = Path(__file__).resolve().parent / "data"
# set -> how many words a question needs before a match counts as a leak
MEASURES = {"devset.yaml": 1, "blind5": 5, "blind6": 5, "blind7": 5, "blind8": 5, "blind9": 5,
            "blind10": 5, "blind11": 5, "blind12": 5,
            "blind13": 5, "blind14": 5, "blind15": 5, "blind16": 5, "blind17": 5,
            "blind18": 5, "blind19": 5, "blind20": 5, "blind21": 5, "blind22": 5,
            "blind23": 5, "blind24": 5, "blind25": 5, "blind26": 5, "blind27": 5,
            "blind28": 5, "blind29": 5, "blind30": 5, "blind31": 5, "blind32": 5,
            "blind33": 5, "blind34": 5}


def _questions(name: str) -> list[dict[str, Any]]:
    path = DATA / name
    files = sorted(path.glob("*.yaml")) if path.is_dir() else [path]
    return [q for f in files for q in yaml.safe_load(f.read_text(encoding="utf-8"))["questions"]]


@pytest.fixture(scope="module")
def learned(world: Any) -> set[str]:
    read = world.index._reader.read
    texts = [p for e in world.index.entries for ps in e.phrases.values() for p in ps]
    texts += [t for e in world.index.entries for t in e.titles.values()]
    texts += shipped_examples().texts()
    return {read(t).lines[0] for t in texts}


@pytest.mark.parametrize("name", sorted(MEASURES))
def test_no_measuring_question_is_learned(world: Any, learned: set[str], name: str) -> None:
    read = world.index._reader.read
    leaked = [q["q"] for q in _questions(name)
              if len(q["q"].split()) >= MEASURES[name] and q["style"] != "layout"
              and read(q["q"]).lines[0] in learned]
    assert leaked == []
