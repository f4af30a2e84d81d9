"""The terminal chat: the same engine as the Telegram bot, driven by text streams.

``run_chat(world, stdin, stdout)`` reads one line per turn: a number taps the
button with that number on the last screen, ``/command`` sends a command,
``@lat,lon`` shares a location, anything else is typed text. Each reply is
printed by ``render`` in a stable form that transcript tests compare against.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TextIO

from bot.engine import Step, World, step
from bot.engine.events import COMMANDS, Button, Command, Event, Location, Start, Text
from bot.engine.replies import (
    AskLocation,
    Choice,
    DeleteConversation,
    ForgetMe,
    HandOver,
    Reply,
    Say,
    ServiceList,
)
from bot.engine.state import State

_LOCATION = re.compile(r"^@\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*$")


@dataclass(frozen=True, slots=True)
class Screen:
    """What the terminal shows for one turn, and the buttons it numbered."""

    text: str
    choices: tuple[Choice, ...]


def render(replies: Sequence[Reply]) -> Screen:
    """Lay replies out as plain text with numbered buttons, one block per reply."""
    blocks: list[str] = []
    choices: list[Choice] = []

    def buttons(rows: Sequence[Sequence[Choice]]) -> str:
        lines = []
        for row in rows:
            cells = []
            for choice in row:
                choices.append(choice)
                cells.append(f"[{len(choices)}] {choice.label}")
            lines.append("  ".join(cells))
        return "\n".join(lines)

    for reply in replies:
        if isinstance(reply, Say):
            block = reply.text
            if reply.footer:
                # "Updated: ..." and "Sources: ...": one bracketed line each, under the text
                block += "".join(f"\n  ({line})" for line in reply.footer.split("\n"))
            if reply.buttons:
                block += "\n" + buttons(reply.buttons)
            blocks.append(block)
        elif isinstance(reply, AskLocation):
            choices.append(Choice(reply.button, "do:location"))
            blocks.append(f"{reply.text}\n[{len(choices)}] {reply.button}"
                          "  (type @lat,lon to share a location)")
        elif isinstance(reply, ServiceList):
            parts = [reply.header] if reply.header else []
            parts += [f"— {card.text}" for card in reply.items]
            if reply.buttons:
                parts.append(buttons(reply.buttons))
            blocks.append("\n".join(parts))
        elif isinstance(reply, DeleteConversation):
            blocks.append("~ the chat is deleted ~")
        elif isinstance(reply, ForgetMe):
            blocks.append("~ everything stored about her is deleted ~")
        elif isinstance(reply, HandOver):
            if reply.kind == "relay":
                blocks.append("~ sent to a peer consultant ~")
            else:
                blocks.append(f"~ hand-over: {reply.kind} ~")
    return Screen("\n\n".join(blocks), tuple(choices))


def parse_input(line: str, last: Screen | None) -> Event | None:
    """Turn one typed line into an event; None when there is nothing to send."""
    line = line.strip()
    if not line:
        return None
    if line.isdigit() and last is not None and 1 <= int(line) <= len(last.choices):
        payload = last.choices[int(line) - 1].payload
        if payload == "do:location":
            return None  # the terminal has no GPS: she types @lat,lon instead
        return Button(payload)
    if line.startswith("/") and line[1:].split()[0].lower() in COMMANDS:
        return Command(line[1:].split()[0].lower())
    found = _LOCATION.match(line)
    if found:
        return Location(float(found.group(1)), float(found.group(2)))
    return Text(line)


def run_chat(
    world: World,
    stdin: TextIO,
    stdout: TextIO,
    *,
    lang: str = "",
    country: str = "",
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    prompt: str = "",
) -> State:
    """Chat until the input ends; print every screen; return the final state."""
    state = State(lang=lang, country=country)
    result: Step = step(world, state, Start(lang), clock())
    state = result.state
    screen = render(result.replies)
    stdout.write(screen.text + "\n\n")
    for line in stdin:
        if prompt:
            stdout.write(prompt)
        try:
            event = parse_input(line, screen)
        except ValueError:
            event = None
        if event is None:
            stdout.write("(type a number, a /command, @lat,lon or a question)\n\n")
            continue
        result = step(world, state, event, clock())
        state = result.state
        screen = render(result.replies)
        stdout.write(screen.text + "\n\n")
        stdout.flush()
    return state
