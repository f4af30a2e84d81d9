"""A woman's session: plain, versioned, serialisable data the engine owns.

The state holds only choices she made by tapping (language, country, the
pregnant flag, where she is in a flow, what she is browsing in the directory).
It never holds text she typed, her name, or her Telegram user or chat id: the
store keys it by an HMAC and saves ``to_dict()`` as it is. The adapter keeps
its note of what her chat shows (``View``: a message id, whether a keyboard
is open) here too, so that it is saved in the turn's transaction.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, replace
from enum import StrEnum
from typing import Any

from bot.vocabulary import LANGS

SCHEMA = 1
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_STEP_ID = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")


class Status(StrEnum):
    """Where the conversation stands."""

    ACTIVE = "active"  # answering from the flows
    WAITING = "waiting"  # waiting for a specific input (a city, a language, a country)
    HANDOVER = "handover"  # her messages go to a peer consultant
    ENDED = "ended"  # quick exit or forget: nothing more is kept


@dataclass(frozen=True, slots=True)
class View:
    """What her chat shows, as the adapter noted it after the last turn: ids, never text.

    The engine neither reads nor changes it; it lives in the state so that it is
    saved with the turn, in the same transaction.
    """

    screen: int | None = None  # the message a button press on it may replace in place
    keyboard: bool = False  # the location request's reply keyboard is open

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> View:
        screen = data.get("screen")
        return cls(screen=int(screen) if screen else None, keyboard=bool(data.get("keyboard")))


class Waiting(StrEnum):
    """What the engine waits for when ``status`` is ``waiting``."""

    NOTHING = ""
    CITY = "city"
    LANGUAGE = "language"
    COUNTRY = "country"


@dataclass(frozen=True, slots=True)
class State:
    """One woman's session. Immutable: the engine returns a new one each turn."""

    schema: int = SCHEMA
    flow: str = "main"
    step: str = "menu"
    lang: str = ""  # "" until chosen; one of LANGS
    country: str = ""  # "" until chosen or skipped; ISO 3166-1 alpha-2 or "XX" (other)
    pregnant: bool = False  # only ever set by a button she tapped
    status: Status = Status.ACTIVE
    waiting: Waiting = Waiting.NOTHING
    find_needs: tuple[str, ...] = ()  # the directory filters she chose
    # a city id from the directory (the nearest one for a location), never her text
    find_city: str = ""
    find_page: int = 0
    case: str = ""  # hand-over case number while a case is open
    view: View = View()  # the adapter's note of her chat's screen

    def __post_init__(self) -> None:
        if self.lang and self.lang not in LANGS:
            raise ValueError(f"unknown language {self.lang!r}")
        if self.country and not _COUNTRY.match(self.country):
            raise ValueError(f"country must be two capital letters, got {self.country!r}")
        if not _STEP_ID.match(f"{self.flow}.{self.step}"):
            raise ValueError(f"bad step id {self.flow}.{self.step!r}")

    @property
    def step_id(self) -> str:
        return f"{self.flow}.{self.step}"

    def at(self, step_id: str) -> State:
        """Return this state moved to ``step_id`` (``flow.step``)."""
        flow, _, step = step_id.partition(".")
        return replace(self, flow=flow, step=step)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["status"] = str(self.status)
        data["waiting"] = str(self.waiting)
        data["find_needs"] = list(self.find_needs)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> State:
        """Read a stored state; unknown keys from a newer schema are dropped."""
        schema = int(data.get("schema", SCHEMA))
        if schema > SCHEMA:
            raise ValueError(f"state schema {schema} is newer than this code ({SCHEMA})")
        known = {f for f in cls.__dataclass_fields__}
        kwargs = {k: v for k, v in data.items() if k in known}
        kwargs["schema"] = SCHEMA
        kwargs["status"] = Status(kwargs.get("status", Status.ACTIVE))
        kwargs["waiting"] = Waiting(kwargs.get("waiting", Waiting.NOTHING))
        kwargs["find_needs"] = tuple(kwargs.get("find_needs") or ())
        kwargs.pop("view", None)
        if isinstance(data.get("view"), dict):
            kwargs["view"] = View.from_dict(data["view"])
        elif isinstance(data.get("extra"), dict):
            # Saved before the view was typed: {"screen": id, "kbd": True, "cancel": label}.
            # The label is no longer needed (the engine knows its own menu button).
            old = data["extra"]
            kwargs["view"] = View.from_dict({"screen": old.get("screen"),
                                             "keyboard": old.get("kbd")})
        return cls(**kwargs)
