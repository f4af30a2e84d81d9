"""Whole conversations as golden transcripts: the regression suite of the product.

Each ``tests/transcripts/<flow>.<case>.yaml`` holds how she arrives (``lang`` and
``country``; leave either out for a first contact that has to ask), the screen she
sees first (``start``), and a list of turns. A turn sends one thing: ``/command``,
``tap: <payload>``, ``text: ...`` or ``location: lat,lon``; and expects the screen
exactly as the console renders it, and the status after it.

A tap must be a button on the screen just before it, as in ``podruga chat``: she
gets somewhere by the way a woman would. The only exception is a transcript about
buttons on old messages (Telegram keeps them tappable, the terminal cannot show
them); it says so, and why, in ``stale_buttons``, taps at least one button that
is not on the screen, and runs through the engine alone.

Every other transcript runs twice and both runs must show the same screens in the
same order: through the engine, with the state round-tripped through the store's
serialiser between turns, and through ``podruga chat``'s ``run_chat`` on text
streams, where taps are typed as button numbers. ``pytest --update-golden``
rewrites the expectations; review the diff in git.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.adapters.console import Screen, render, run_chat
from bot.engine import World, step
from bot.engine.events import Button, Command, Event, Location, Start, Text
from bot.engine.state import State
from bot.store import decode_state, encode_state
from tests.conftest import NOW

FILES = sorted((Path(__file__).parent / "transcripts").glob("*.yaml"))
# Written by run_chat before it reads each line, so its output splits into screens exactly.
# A record separator: no text a woman reads contains one.
PROMPT = "\x1e"


def _load(path: Path) -> dict[str, Any]:
    case: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return case


def _tapped_by_buttons(path: Path) -> bool:
    return "stale_buttons" not in _load(path)


CONSOLE_FILES = [p for p in FILES if _tapped_by_buttons(p)]


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


class _Folded(str):
    """A paragraph of prose written as a folded YAML block."""


yaml.add_representer(_Literal, lambda d, s: d.represent_scalar("tag:yaml.org,2002:str", s,
                                                                style="|"))
yaml.add_representer(_Folded, lambda d, s: d.represent_scalar("tag:yaml.org,2002:str", s,
                                                               style=">"))


@dataclass(frozen=True)
class _Played:
    """One screen the engine showed: what was sent to get it, and the state after it."""

    send: str
    screen: Screen
    state: State
    on_screen: bool  # False for a tap on a button the screen before did not show

    def as_yaml(self) -> dict[str, Any]:
        return {"expect": _Literal(self.screen.text), "status": str(self.state.status)}


def _play(world: World, case: dict[str, Any]) -> list[_Played]:
    """The start screen, then one screen per turn, with the store's round trip between turns."""
    lang = case.get("lang", "")
    result = step(world, State(lang=lang, country=case.get("country", "")), Start(lang), NOW)
    played = [_Played("", render(result.replies), result.state, True)]
    for turn in case["turns"]:
        send = turn["send"]
        shown = [choice.payload for choice in played[-1].screen.choices]
        state = decode_state(encode_state(result.state))  # as the store would
        result = step(world, state, _event(send), NOW)
        on_screen = not send.startswith("tap: ") or send[5:] in shown
        played.append(_Played(send, render(result.replies), result.state, on_screen))
    return played


def _expected(case: dict[str, Any]) -> list[str]:
    """Every screen the transcript expects, the start screen first."""
    return [case["start"]["expect"]] + [turn["expect"] for turn in case["turns"]]


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_transcript_through_the_engine(world: World, path: Path,
                                       request: pytest.FixtureRequest) -> None:
    case = _load(path)
    played = _play(world, case)
    if request.config.getoption("--update-golden"):
        arrival = {k: v for k, v in case.items() if k not in ("start", "turns")}
        if "stale_buttons" in arrival:
            arrival["stale_buttons"] = _Folded(arrival["stale_buttons"])
        turns = [{"send": p.send, **p.as_yaml()} for p in played[1:]]
        path.write_text(yaml.dump({**arrival, "start": played[0].as_yaml(), "turns": turns},
                                  allow_unicode=True, sort_keys=False, width=100),
                        encoding="utf-8")
        return
    off_screen = [p.send for p in played if not p.on_screen]
    if "stale_buttons" in case:
        assert off_screen, "stale_buttons is set, but every tap is on the screen before it"
    else:
        assert not off_screen, f"taps a button that is not on the screen before it: {off_screen}"
    assert "start" in case and all("expect" in turn for turn in case["turns"]), \
        "no expectations yet: write them with pytest --update-golden and read them"
    assert played[0].screen.text == case["start"]["expect"], "the start screen"
    assert str(played[0].state.status) == case["start"]["status"], "the start screen"
    for want, have in zip(case["turns"], played[1:], strict=True):
        assert have.screen.text == want["expect"], f"after {want['send']!r}"
        assert str(have.state.status) == want["status"], f"after {want['send']!r}"


def _typed(played: list[_Played]) -> str:
    """The turns as she types them in ``podruga chat``: a tap is the button's number."""
    lines = []
    for before, turn in zip(played, played[1:], strict=False):
        send = turn.send
        if send.startswith("tap: "):
            payloads = [choice.payload for choice in before.screen.choices]
            send = str(payloads.index(send[5:]) + 1)
        elif send.startswith("location: "):
            send = "@" + send[10:]
        elif send.startswith("text: "):
            send = send[6:]
        lines.append(send)
    return "".join(line + "\n" for line in lines)


def _screens(output: str) -> list[str]:
    """Split run_chat's output into screens at the prompt written before each read."""
    *screens, after_last = output.split(PROMPT)
    assert after_last == "", "run_chat printed something after the input ended"
    for screen in screens:
        assert screen.endswith("\n\n"), f"a screen that does not end in a blank line: {screen!r}"
    return [screen.removesuffix("\n\n") for screen in screens]


@pytest.mark.parametrize("path", CONSOLE_FILES, ids=[p.stem for p in CONSOLE_FILES])
def test_transcript_through_podruga_chat(world: World, path: Path) -> None:
    case = _load(path)
    played = _play(world, case)
    assert all(p.on_screen for p in played), "taps a button that is not on the screen before it"
    out = io.StringIO()
    state = run_chat(world, io.StringIO(_typed(played)), out, lang=case.get("lang", ""),
                     country=case.get("country", ""), clock=lambda: NOW, prompt=PROMPT)
    assert _screens(out.getvalue()) == _expected(case)
    assert str(state.status) == case["turns"][-1]["status"]
    assert encode_state(state) == encode_state(played[-1].state)


def test_the_screen_split_finds_every_screen(world: World) -> None:
    """A screen of several blocks stays one screen; a note from the terminal is a screen too."""
    out = io.StringIO()
    run_chat(world, io.StringIO("/menu\n99\n"), out, lang="en", country="UA",
             clock=lambda: NOW, prompt=PROMPT)
    screens = _screens(out.getvalue())
    assert len(screens) == 3
    assert "\n\n" in screens[0]  # the welcome: two paragraphs, one screen
    assert screens[1].startswith("What would you like to know?")
    assert screens[2] == "(no button 99 on this screen: type 1 to 13)"
