"""The terminal chat: the same engine as the Telegram bot, driven by text streams.

``run_chat(world, stdin, stdout)`` reads one line per turn: a number taps the
button with that number on the last screen, ``/command`` sends a command,
``@lat,lon`` shares a location, anything else is typed text. Each reply is
printed by ``render`` in a stable form that transcript tests compare against.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TextIO

from bot.engine import Step, World, step
from bot.engine.events import (
    COMMANDS,
    Button,
    Command,
    Event,
    Location,
    Start,
    Text,
    command_of,
)
from bot.engine.replies import (
    AskLocation,
    Choice,
    DeleteConversation,
    ForgetMe,
    HandOver,
    HandOverKind,
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
            if reply.kind is HandOverKind.TO_CONSULTANT:
                blocks.append("~ sent to a peer consultant ~")
            else:
                blocks.append(f"~ hand-over: {reply.kind} ~")
    return Screen("\n\n".join(blocks), tuple(choices))


class NotSent(ValueError):
    """A typed line the terminal does not send to the bot; the message says why."""


def parse_input(line: str, last: Screen | None) -> Event | None:
    """Turn one typed line into an event; None when there is nothing to send.

    Raises ``NotSent`` for a line that means something to the terminal but cannot
    be sent (a button number not on the screen, a place off the Earth). A command
    the bot does not know opens the menu, as it does in Telegram.
    """
    line = line.strip()
    if not line:
        return None
    if line.isdigit():
        choices = last.choices if last is not None else ()
        if not choices:
            raise NotSent("(this screen has no buttons: type a question or /menu)")
        if not 1 <= int(line) <= len(choices):
            raise NotSent(f"(no button {line} on this screen: type 1 to {len(choices)})")
        payload = choices[int(line) - 1].payload
        if payload == "do:location":
            # The terminal has no GPS: she types @lat,lon instead.
            raise NotSent("(the terminal cannot send a location: type @lat,lon, "
                          "e.g. @50.45,30.52)")
        return Button(payload)
    name = command_of(line)
    if name is not None:
        return Command(name if name in COMMANDS else "menu")
    found = _LOCATION.match(line)
    if found:
        lat, lon = float(found.group(1)), float(found.group(2))
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise NotSent(f"({line} is not a place on Earth: latitude (-90 to 90) comes "
                          "first, then longitude (-180 to 180))")
        return Location(lat, lon)
    return Text(line)


HINT = "(type a number, a /command, @lat,lon or a question)"


def run_chat(
    world: World,
    stdin: Iterable[str],
    stdout: TextIO,
    *,
    lang: str = "",
    country: str = "",
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    prompt: str = "",
) -> State:
    """Chat until the input ends; print every screen; return the final state.

    ``stdin`` is any source of lines; ``prompt`` is written before each is read.
    """
    state = State(lang=lang, country=country)
    result: Step = step(world, state, Start(lang), clock())
    state = result.state
    screen = render(result.replies)
    stdout.write(screen.text + "\n\n")
    lines = iter(stdin)
    while True:
        if prompt:
            stdout.write(prompt)
        stdout.flush()
        line = next(lines, None)
        if line is None:
            break
        try:
            event = parse_input(line, screen)
        except NotSent as why:
            stdout.write(f"{why}\n\n")
            continue
        if event is None:
            stdout.write(HINT + "\n\n")
            continue
        typed = line.strip()
        if (name := command_of(typed)) is not None and name not in COMMANDS:
            stdout.write(f"({typed.split()[0]} is not a command she can send: the bot "
                         "opens the menu, as in Telegram)\n")
        result = step(world, state, event, clock())
        state = result.state
        screen = render(result.replies)
        stdout.write(screen.text + "\n\n")
    stdout.flush()
    return state
