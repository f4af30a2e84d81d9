"""What she did, as small frozen values: the engine's only input besides the state.

One class per kind; they validate their own fields and are never subclassed
outside this module.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.limits import BOT_COMMAND, MAX_CALLBACK_DATA_BYTES, MAX_TEXT_CHARS

# A button payload: a step id ("ost.pregnancy"), a directory search ("find:ost+women_only"),
# or an action ("do:exit", "lang:uk", "country:UA", "page:2", "ask:ost.pregnancy").
PAYLOAD = re.compile(r"^[a-z]{1,8}:?[A-Za-z0-9_.+:-]{0,60}$")
COMMANDS = frozenset(
    {"start", "menu", "help", "language", "country", "privacy", "exit", "forget"}
)
# "/помогите он не дышит" is not a command (BOT_COMMAND): it is text, and the matcher
# must read it, since crisis words can follow a slash.
_COMMAND = re.compile(BOT_COMMAND)


def command_of(text: str) -> str | None:
    """The name of the bot command her text starts with, lower case; None if it is text."""
    found = _COMMAND.match(text.strip())
    return found.group(1).lower() if found else None


@dataclass(frozen=True, slots=True)
class Start:
    """She opened the bot (``/start``) or a session begins; ``lang`` is her app's language."""

    lang_hint: str = ""


@dataclass(frozen=True, slots=True)
class Text:
    """She typed something. The text lives only for this turn and is never stored."""

    text: str

    def __post_init__(self) -> None:
        if not isinstance(self.text, str):
            raise TypeError("Text.text must be a str")
        if len(self.text) > MAX_TEXT_CHARS:
            object.__setattr__(self, "text", self.text[:MAX_TEXT_CHARS])


@dataclass(frozen=True, slots=True)
class Button:
    """She tapped a button; ``payload`` is its callback data."""

    payload: str

    def __post_init__(self) -> None:
        if len(self.payload.encode()) > MAX_CALLBACK_DATA_BYTES or not PAYLOAD.match(self.payload):
            raise ValueError("malformed button payload")


@dataclass(frozen=True, slots=True)
class Location:
    """She shared a location (for the nearest services)."""

    lat: float
    lon: float

    def __post_init__(self) -> None:
        if not (-90.0 <= self.lat <= 90.0 and -180.0 <= self.lon <= 180.0):
            raise ValueError("location out of range")


@dataclass(frozen=True, slots=True)
class Command:
    """She sent a slash command (without the slash), e.g. ``exit``."""

    name: str

    def __post_init__(self) -> None:
        if self.name not in COMMANDS:
            raise ValueError("unknown command")


Event = Start | Text | Button | Location | Command
