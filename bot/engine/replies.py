"""What the bot answers, as frozen values carrying final text in her language.

The engine resolves language and country variants; adapters only lay these out.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


@dataclass(frozen=True, slots=True)
class Choice:
    """One button: what it says and the payload it sends back."""

    label: str
    payload: str


@dataclass(frozen=True, slots=True)
class Say:
    """A message with rows of buttons.

    ``keep`` marks an answer she may want to scroll back to: adapters send it
    as a new message instead of replacing the previous screen.
    ``footer`` is the short sources-and-date line under an answer.
    """

    text: str
    buttons: tuple[tuple[Choice, ...], ...] = ()
    keep: bool = False
    footer: str = ""
    step: str = ""  # the step id this came from, for logs and counters (never her text)


@dataclass(frozen=True, slots=True)
class AskLocation:
    """Ask her to share a location (a reply-keyboard button in Telegram)."""

    text: str
    button: str
    cancel: str


@dataclass(frozen=True, slots=True)
class ServiceCard:
    """One service from the directory, rendered for her language."""

    id: str
    text: str
    phone: str = ""  # E.164, so adapters can make it tappable
    lat: float | None = None
    lon: float | None = None


@dataclass(frozen=True, slots=True)
class ServiceList:
    """A page of services, with the buttons under it."""

    header: str
    items: tuple[ServiceCard, ...]
    buttons: tuple[tuple[Choice, ...], ...] = ()


@dataclass(frozen=True, slots=True)
class DeleteConversation:
    """Delete every message of the chat that can still be deleted (quick exit)."""


@dataclass(frozen=True, slots=True)
class ForgetMe:
    """Delete everything stored about her."""


class HandOverKind(StrEnum):
    """What a ``HandOver`` asks the adapter to do with her case."""

    OPEN = "open"  # she asked for a person: open a case (a second tap keeps the open one)
    TO_CONSULTANT = "to_consultant"  # her words go to the consultants
    CLOSE = "close"  # she left the chat with a person: close the case, tell the staff group
    WITHDRAW = "withdraw"  # quick exit or /forget: close it and delete it from the staff group


@dataclass(frozen=True, slots=True)
class HandOver:
    """Talk to a peer consultant: open a case, pass her words on, close or withdraw it.

    The text of ``TO_CONSULTANT`` travels only in this reply, straight to the staff
    chat; it is never stored.
    """

    kind: HandOverKind
    case: str
    text: str = ""


Reply = Say | AskLocation | ServiceList | DeleteConversation | ForgetMe | HandOver
