"""Whole conversations as golden transcripts: the regression suite of the product.

Each ``tests/transcripts/<flow>.<case>.yaml`` holds the start (``lang``,
``country``) and a list of turns. A turn sends one thing: ``/command``,
``tap: <payload>`` (a button on the last screen), ``text: ...`` or
``location: lat,lon``; and expects the screen as the console renders it, and the
status. Every transcript runs twice: through the engine with the state
round-tripped through the store's serialiser between turns, and through
``podruga chat``'s ``run_chat`` on text streams. ``pytest --update-golden``
rewrites the expectations; review the diff in git.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.adapters.console import render, run_chat
from bot.engine import step
from bot.engine.events import Button, Command, Event, Location, Start, Text
from bot.engine.state import State
from bot.store import decode_state, encode_state
from tests.conftest import NOW

FILES = sorted((Path(__file__).parent / "transcripts").glob("*.yaml"))


def _event(send: str) -> Event:
    if send.startswith("/"):
        return Command(send[1:])
    kind, _, arg = send.partition(": ")
    if kind == "tap":
        return Button(arg)
    if kind == "location":
        lat, lon = arg.split(",")
        return Location(float(lat), float(lon))
    assert kind == "text", f"unknown turn {send!r}"
    return Text(arg)


class _Literal(str):
    """A multi-line string written as a YAML block, so diffs stay readable."""


yaml.add_representer(_Literal, lambda d, s: d.represent_scalar("tag:yaml.org,2002:str", s,
                                                                style="|"))


def _run_engine(world: Any, case: dict[str, Any]) -> list[dict[str, Any]]:
    state = State(lang=case["lang"], country=case.get("country", ""))
    result = step(world, state, Start(case["lang"]), NOW)
    turns = []
    for turn in case["turns"]:
        state = decode_state(encode_state(result.state))  # as the store would
        result = step(world, state, _event(turn["send"]), NOW)
        turns.append({"send": turn["send"], "expect": _Literal(render(result.replies).text),
                      "status": str(result.state.status)})
    return turns


def _console_input(world: Any, case: dict[str, Any]) -> str:
    """The same turns as a woman would type them in ``podruga chat``: numbers for buttons."""
    state = State(lang=case["lang"], country=case.get("country", ""))
    result = step(world, state, Start(case["lang"]), NOW)
    lines = []
    for turn in case["turns"]:
        send = turn["send"]
        if send.startswith("tap: "):
            payloads = [c.payload for c in render(result.replies).choices]
            send = str(payloads.index(send[5:]) + 1) if send[5:] in payloads else None
            if send is None:
                return ""  # a stale button: the console cannot press it
        elif send.startswith("location: "):
            send = "@" + send[10:]
        elif send.startswith("text: "):
            send = send[6:]
        lines.append(send)
        result = step(world, decode_state(encode_state(result.state)), _event(turn["send"]), NOW)
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_transcript_through_the_engine(world, path: Path, request: pytest.FixtureRequest) -> None:
    case = yaml.safe_load(path.read_text(encoding="utf-8"))
    got = _run_engine(world, case)
    if request.config.getoption("--update-golden"):
        case["turns"] = got
        path.write_text(yaml.dump(case, allow_unicode=True, sort_keys=False, width=100),
                        encoding="utf-8")
        return
    for want, have in zip(case["turns"], got, strict=True):
        assert have["expect"] == want["expect"], f"after {want['send']!r}"
        assert have["status"] == want["status"], f"after {want['send']!r}"


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_transcript_through_podruga_chat(world, path: Path) -> None:
    case = yaml.safe_load(path.read_text(encoding="utf-8"))
    typed = _console_input(world, case)
    if not typed:
        pytest.skip("the transcript taps a button that is not on the screen (stale)")
    out = io.StringIO()
    run_chat(world, io.StringIO(typed), out, lang=case["lang"], country=case.get("country", ""),
             clock=lambda: NOW)
    screens = out.getvalue().split("\n\n")
    for turn in case["turns"]:
        assert turn["expect"].rstrip("\n") in out.getvalue(), f"after {turn['send']!r}"
    assert screens
