"""The storage contract: one async interface, the values it returns, and its errors.

Theory of operation
-------------------
Everything the bot keeps about a woman hangs off her ``SessionKey`` (an HMAC of
her Telegram id): one session row holding ``State.to_dict()`` as JSON with a
version number, the message ids of her chat for at most 48 hours (for quick
exit), and while a hand-over case is open, the case row holding her chat id
sealed by ``CaseCipher``. Aggregate counters hold no key at all.

Concurrent updates of one woman go through ``update_session``: it reads, applies
a pure function and writes in one transaction that holds a lock on her row
(PostgreSQL ``SELECT ... FOR UPDATE``; SQLite ``BEGIN IMMEDIATE`` behind one
writer), so no update is lost and a failure half-way leaves the old row.

Every database fault is turned into ``StoreError`` once, here in the store, with
a message that holds no key, id or state.
"""

from __future__ import annotations

import abc
import contextlib
import json
import logging
import secrets
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from bot.engine.state import State
from bot.errors import StoreError
from bot.limits import CASE_LINK_MAX_DAYS, MESSAGE_ID_TTL_HOURS, SESSION_TTL_DAYS

from .keys import SessionKey

log = logging.getLogger("podruga.store")

MESSAGE_TTL = timedelta(hours=MESSAGE_ID_TTL_HOURS)
SESSION_TTL = timedelta(days=SESSION_TTL_DAYS)
CASE_TTL = timedelta(days=CASE_LINK_MAX_DAYS)
MAX_UPDATE_TRIES = 5  # an update that loses this many races in a row is a real fault
_MAX_FAULT_CHARS = 200  # driver messages are cut: they are for operators, not for dumps

Update = Callable[[State | None], State | None]


class ConflictError(StoreError):
    """Her session kept changing under concurrent updates, retry after retry."""


class StoreUnavailable(StoreError):
    """The database cannot be reached right now (server down, file locked by another
    process): trying again later may help, unlike a damaged or newer database."""


@dataclass(frozen=True, slots=True)
class PurgeCounts:
    """How many rows one expiry pass removed, by kind."""

    sessions: int = 0
    messages: int = 0
    cases: int = 0


@dataclass(frozen=True, slots=True)
class CounterRow:
    """Questions asked on one day, per topic, language and country; no person in it."""

    day: date
    topic: str  # "" when the question matched no topic
    lang: str
    country: str  # "" when she has not chosen one
    questions: int
    unanswered: int


@dataclass(frozen=True, slots=True)
class Tally:
    """One question for the day's counters: its topic, her language and country, answered or not."""

    topic: str | None  # None when the question matched no topic
    lang: str
    country: str
    answered: bool


@dataclass(frozen=True, slots=True)
class Case:
    """An open hand-over case: a short number for staff and her sealed chat link."""

    number: str
    key: SessionKey
    link: bytes
    opened: datetime
    blocked: bool


def seconds(now: datetime) -> int:
    """Whole seconds since the epoch, refusing a naive datetime (a silent timezone bug)."""
    if now.tzinfo is None:
        raise TypeError("the store needs an aware datetime (with tzinfo)")
    return int(now.timestamp())


def message_id(value: int) -> int:
    """A Telegram message id, refusing anything else (a bool is an int to Python)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("message ids are ints")
    return value


def message_rows(
    key: SessionKey, message_ids: Sequence[int], when: int
) -> list[tuple[str, int, int]]:
    """The (key, message id, time) rows both backends remember message ids as."""
    return [(key.hex, message_id(m), when) for m in message_ids]


def moment(value: int) -> datetime:
    return datetime.fromtimestamp(value, UTC)


def encode_state(state: State) -> str:
    return json.dumps(state.to_dict(), ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def decode_state(text: str) -> State:
    try:
        data: Any = json.loads(text)
        return State.from_dict(data)
    except (ValueError, TypeError, KeyError) as exc:
        # The message of a ValueError from State may quote a stored value: keep only its kind.
        raise StoreError(f"a stored session cannot be read ({type(exc).__name__})") from None


def read_state(text: str) -> State | None:
    """A stored session, or None when it cannot be read: she then starts afresh.

    A session written by a newer Podruga (after a rollback) or a damaged row must
    not lock her out: quick exit and /forget have to work whatever was stored.
    The row is overwritten by her next turn.
    """
    try:
        return decode_state(text)
    except StoreError:
        log.warning("session_unreadable: treated as a new session")
        return None


@contextlib.contextmanager
def faults(action: str, kinds: tuple[type[BaseException], ...]) -> Iterator[None]:
    """Turn the driver's errors into one StoreError that says what the store was doing."""
    try:
        yield
    except StoreError:
        raise
    except kinds as exc:
        detail = " ".join(str(exc).split())[:_MAX_FAULT_CHARS] or type(exc).__name__
        raise StoreError(f"the database could not {action}: {detail}") from exc


class Store(abc.ABC):
    """Where sessions, quick-exit message ids, hand-over cases and counters are kept."""

    name: str = "store"

    # -- lifetime -----------------------------------------------------------------
    @abc.abstractmethod
    async def open(self) -> None:
        """Connect, check the database and run pending migrations; StoreError if unusable."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Release connections; safe to call twice."""

    async def __aenter__(self) -> Store:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @abc.abstractmethod
    async def schema_version(self) -> int:
        """The migration the database is at."""

    # -- sessions -----------------------------------------------------------------
    @abc.abstractmethod
    async def load_session(self, key: SessionKey) -> State | None:
        """Her session, or None if she has none (new, forgotten or expired)."""

    @abc.abstractmethod
    async def update_session(self, key: SessionKey, fn: Update, now: datetime) -> State | None:
        """Apply ``fn`` to her session in one locked transaction and return what it wrote.

        ``fn`` gets the stored state (None if none) and returns the new one, or
        None to delete the session. It must be pure and quick: it runs while her
        row is locked and may run again if a concurrent first insert wins. If it
        raises, nothing is written and the exception propagates unchanged.
        """

    @abc.abstractmethod
    async def forget(self, key: SessionKey, *, keep_messages: bool = False) -> None:
        """Delete everything kept about her: session, message ids, open case and its relays.

        ``keep_messages=True`` (``/forget``) leaves the ids of her chat's messages until
        they expire (48 hours) or quick exit deletes them, so that quick exit can still
        blank the chat afterwards; they hold no content, only message numbers.
        """

    @abc.abstractmethod
    async def record_turn(
        self,
        key: SessionKey,
        now: datetime,
        *,
        message_ids: Sequence[int] = (),
        tallies: Sequence[Tally] = (),
        update: Update | None = None,
    ) -> None:
        """A turn's bookkeeping in one transaction: all of it is written or none of it.

        Notes ``message_ids`` as ``remember_messages`` does, applies ``update`` to her
        session as ``update_session`` does (an exception from it propagates unchanged
        and nothing at all is written), and adds each tally to the counters of
        ``now``'s day. One write instead of three or four per turn.
        """

    # -- quick exit -----------------------------------------------------------------
    @abc.abstractmethod
    async def remember_messages(
        self, key: SessionKey, message_ids: list[int], now: datetime
    ) -> None:
        """Note message ids of her chat (hers and the bot's) so quick exit can delete them."""

    @abc.abstractmethod
    async def remember_case_messages(
        self, number: str, message_ids: Sequence[int], now: datetime
    ) -> bool:
        """Note ids of messages sent to her chat from her open case (a consultant's answer).

        Written under the case's session key in one statement, and only while the
        case is open: after quick exit or ``/forget`` nothing is written under her
        key, and False tells the caller to delete what it sent.
        """

    @abc.abstractmethod
    async def message_ids(self, key: SessionKey, now: datetime) -> list[int]:
        """Her chat's message ids younger than 48 hours, oldest first."""

    @abc.abstractmethod
    async def forget_messages(self, key: SessionKey) -> None:
        """Drop her message ids (after quick exit deleted them from the chat)."""

    # -- expiry ---------------------------------------------------------------------
    @abc.abstractmethod
    async def purge_expired(
        self, now: datetime, session_ttl: timedelta = SESSION_TTL
    ) -> PurgeCounts:
        """Delete idle sessions, message ids past 48 h and cases past 7 days.

        Idempotent, and safe to run on several instances at the same moment.
        """

    # -- counters -------------------------------------------------------------------
    @abc.abstractmethod
    async def stats(self, since: date) -> list[CounterRow]:
        """Counters from ``since`` on, ordered by day, topic, language, country."""

    # -- hand-over cases ------------------------------------------------------------
    @abc.abstractmethod
    async def open_case(self, key: SessionKey, link: bytes, now: datetime) -> str:
        """Open her case with the sealed chat link and return its number (``K-4821``).

        If she already has one, its link is replaced and its number returned.
        """

    @abc.abstractmethod
    async def get_case(self, number: str) -> Case | None:
        """The open case with this number, or None."""

    @abc.abstractmethod
    async def case_for(self, key: SessionKey) -> str | None:
        """The number of her open case, or None."""

    @abc.abstractmethod
    async def close_case(self, number: str) -> bool:
        """Close the case and destroy its link and relays; False if it was not open."""

    @abc.abstractmethod
    async def set_blocked(self, number: str, blocked: bool) -> bool:
        """Mark an open case as blocked (staff stop relaying); False if it was not open."""

    @abc.abstractmethod
    async def note_staff_message(self, number: str, staff_message_id: int, now: datetime) -> bool:
        """Note that this staff group message carries words of this case; False if not open."""

    @abc.abstractmethod
    async def staff_messages(self, number: str) -> list[int]:
        """The staff group messages of an open case (whichever instance posted them)."""

    @abc.abstractmethod
    async def case_of_staff_message(self, staff_message_id: int) -> str | None:
        """The open case a staff group message belongs to, so a reply maps back to her."""


def fresh_number(attempt: int, digits: int = 4) -> str:
    """A short random case number; longer after several clashes with open cases."""
    width = digits if attempt < 8 else digits + 2
    low = 10 ** (width - 1)
    return f"K-{low + secrets.randbelow(9 * low)}"
