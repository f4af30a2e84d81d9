"""Factories and small fakes shared by the tests."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from bot.engine import Step, step
from bot.engine.events import Button, Command, Event, Start, Text
from bot.engine.replies import Choice, Say
from bot.engine.state import State
from tests.conftest import NOW


def say_texts(result: Step) -> list[str]:
    return [r.text for r in result.replies if isinstance(r, Say)]


def choices(result: Step) -> list[Choice]:
    found = []
    for reply in result.replies:
        for row in getattr(reply, "buttons", ()):
            found.extend(row)
    return found


def payloads(result: Step) -> list[str]:
    return [c.payload for c in choices(result)]


@dataclass
class Conversation:
    """Drives the engine turn by turn, round-tripping the state like the store does."""

    world: Any
    state: State = field(default_factory=State)
    last: Step | None = None

    def send(self, event: Event) -> Step:
        self.last = step(self.world, self.state, event, NOW)
        self.state = State.from_dict(self.last.state.to_dict())
        return self.last

    def start(self, lang: str = "en", country: str = "UA") -> Step:
        self.state = replace(self.state, lang=lang, country=country)
        return self.send(Start(lang))

    def text(self, text: str) -> Step:
        return self.send(Text(text))

    def tap(self, payload: str) -> Step:
        return self.send(Button(payload))

    def command(self, name: str) -> Step:
        return self.send(Command(name))


@dataclass(frozen=True)
class FakeMatch:
    step: str | None
    score: float = 1.0
    crisis: bool = False
    suggestions: tuple[str, ...] = ()
    human: bool = False


@dataclass
class FakeIndex:
    """An index that answers from a table: isolates engine tests from the matcher."""

    table: dict[str, FakeMatch]

    def match(self, text: str) -> FakeMatch:
        return self.table.get(text, FakeMatch(None, 0.0))


def with_index(world: Any, table: dict[str, FakeMatch]) -> Any:
    return replace(world, index=FakeIndex(table))


def labels(result: Step) -> Sequence[str]:
    return [c.label for c in choices(result)]
