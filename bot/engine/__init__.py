"""The conversation engine: a pure function from (world, state, event, now) to a Step.

Theory of operation. ``step`` reads the loaded content (the ``world``: flows,
translations, directory, matcher index), the woman's current ``State`` and
what she just did (an ``Event``), and returns a ``Step``: the new state, the
replies to show, and a log of what happened for the aggregate counters. It does
no I/O, reads no clock (``now`` comes in) and never raises on user input:
unknown text, stale or forged buttons all become a polite reply and the menu.
If the engine itself fails, the caller still holds the old, unchanged state.

Order of precedence for typed text, safety first:
1. crisis words -> the crisis answer, before anything else, in any state;
2. a hand-over case is open -> relay to the peer consultant;
3. waiting for a city -> look the city up in the directory;
4. the matcher -> the answer, or "did you mean", or a kind fallback.

Countries. A step can be hidden in her country (``hide:`` in the flow; in Russia
OST is banned, so the OST dose, breastfeeding and coming-off answers are). It is
never shown there: buttons to it are left out, and a typed question, a
suggestion or an old button that leads to it opens what the flow names instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from babel.dates import format_date

from bot.engine.events import Button, Command, Event, Location, Start, Text
from bot.engine.geo import haversine_km
from bot.engine.listing import nothing_found, services_header
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
from bot.engine.state import State, Status, Waiting
from bot.engine.translator import Translator
from bot.limits import MAX_BUTTONS_PER_ROW, MAX_SUGGESTIONS, SERVICES_PER_PAGE
from bot.vocabulary import ACTIONS, COUNTRY_CHOICES, LANGS, NEEDS, OTHER_COUNTRY

__all__ = ["Step", "Record", "RecordKind", "World", "step", "start"]

MENU = "main.menu"
WELCOME = "main.welcome"
CRISIS = "crisis.start"
# The msgctxt of a source's short name (flows/sources.yaml, a flow's sources block).
SOURCE_CONTEXT = "source"
# Which flow step answers each command; the rest are actions.
COMMAND_STEPS = {"menu": MENU, "help": "main.help", "privacy": "main.privacy"}


class World(Protocol):
    """What the engine reads: loaded, validated content. See ``bot.content.world.World``."""

    # read-only: the loaded world is a frozen value
    @property
    def flows(self) -> Any: ...  # bot.content.flows.Flows

    @property
    def directory(self) -> Any: ...  # bot.content.directory.Directory, or None while not loaded

    @property
    def index(self) -> Any: ...  # bot.matching.Index, or None

    @property
    def handover(self) -> bool: ...  # whether peer consultants are connected (deployment)

    def tr(self, lang: str) -> Translator: ...

    def render_card(self, found: Any, lang: str, tr: Translator, now: datetime) -> Any: ...

    def render_hotline(self, hotline: Any, lang: str, tr: Translator) -> str: ...


class RecordKind(StrEnum):
    """What happened in a turn, as the counters see it."""

    ANSWER = "answer"  # a flow step answered her
    CRISIS = "crisis"  # crisis words: the crisis answer
    FIND = "find"  # a directory search
    HUMAN = "human"  # she asked for a person
    UNMATCHED = "unmatched"  # not understood
    SUGGESTED = "suggested"  # "did you mean"
    EXIT = "exit"  # quick exit
    FORGET = "forget"  # /forget

    @property
    def is_question(self) -> bool:
        """Whether this counts as a question: quick exit and /forget are not."""
        return self not in (RecordKind.EXIT, RecordKind.FORGET)

    @property
    def answered(self) -> bool:
        """Whether the question got an answer (not "not understood" or "did you mean")."""
        return self in (RecordKind.ANSWER, RecordKind.CRISIS, RecordKind.FIND, RecordKind.HUMAN)


@dataclass(frozen=True, slots=True)
class Record:
    """What happened in a turn, for aggregate counters: never her text, never who she is."""

    kind: RecordKind
    step: str = ""
    topics: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Step:
    """The result of one turn: the new state, what to show, and what happened."""

    state: State
    replies: tuple[Reply, ...]
    log: tuple[Record, ...] = ()


def start(world: World, state: State, lang_hint: str, now: datetime) -> Step:
    """Begin (or restart) a conversation; same as ``step`` with a ``Start`` event."""
    return step(world, state, Start(lang_hint), now)


def step(world: World, state: State, event: Event, now: datetime) -> Step:
    """Answer one event. Never mutates ``state``; never raises on anything she sends."""
    turn = _Turn(world, state, now)
    if isinstance(event, Start):
        turn.on_start(event.lang_hint)
    elif isinstance(event, Command):
        turn.on_command(event.name)
    elif isinstance(event, Button):
        turn.on_button(event.payload)
    elif isinstance(event, Location):
        turn.on_location(event.lat, event.lon)
    elif isinstance(event, Text):
        turn.on_text(event.text)
    else:  # pragma: no cover - the Event union is closed
        raise TypeError(f"not an event: {event!r}")
    turn.close_case_left_behind(state)
    return Step(turn.state, tuple(turn.replies), tuple(turn.log))


class _Turn:
    """The working memory of one call to ``step``; thrown away afterwards."""

    def __init__(self, world: World, state: State, now: datetime) -> None:
        self.world = world
        self.state = state
        self.now = now
        self.replies: list[Reply] = []
        self.log: list[Record] = []

    # -- helpers ---------------------------------------------------------------

    @property
    def tr(self) -> Translator:
        return self.world.tr(self.state.lang or "en")

    def _(self, message: str) -> str:
        return self.tr.gettext(message)

    def standard_row(self, menu: bool = True) -> tuple[Choice, ...]:
        """The row under every screen: back to the menu and the quick exit."""
        row = []
        if menu:
            row.append(Choice(self.tr.gettext("☰ Menu"), MENU))
        row.append(Choice(self.exit_label(), "do:exit"))
        return tuple(row)

    def exit_label(self) -> str:
        if self.state.lang:
            return self.tr.gettext("✖ Quick exit")
        # Before she has chosen a language, in each of them, as the language question is.
        names = [self.world.tr(lang).gettext("✖ Quick exit").removeprefix("✖").strip()
                 for lang in LANGS]
        return "✖ " + " / ".join(names)

    def say(self, text: str, buttons: Sequence[Choice] = (), *, menu: bool = True,
            keep: bool = False, footer: str = "", step_id: str = "") -> None:
        rows: list[tuple[Choice, ...]] = [(b,) for b in buttons]
        rows.append(self.standard_row(menu))
        self.replies.append(Say(text, tuple(rows), keep=keep, footer=footer, step=step_id))

    # -- events ----------------------------------------------------------------

    def on_start(self, lang_hint: str) -> None:
        state = replace(self.state, status=Status.ACTIVE, waiting=Waiting.NOTHING)
        if not state.lang and lang_hint[:2] in LANGS:
            state = replace(state, lang=lang_hint[:2])
        self.state = state
        if not state.lang:
            self.ask_language()
        elif not state.country:
            self.ask_country()
        else:
            self.show(WELCOME if WELCOME in self.world.flows.steps else MENU)

    def on_command(self, name: str) -> None:
        if name == "start":
            self.on_start("")
        elif name == "exit":
            self.quick_exit()
        elif name == "forget":
            self.forget()
        elif name == "language":
            self.ask_language()
        elif name == "country":
            self.ask_country()
        else:
            self.leave_case_if_open()
            self.show(COMMAND_STEPS[name])

    def on_button(self, payload: str) -> None:
        kind, _, arg = payload.partition(":")
        flows = self.world.flows
        if payload not in flows.steps and flows.is_hidden(payload, self.state.country):
            # An old button (say, a search for OST sites from before she said she is in
            # Russia): never followed where it is hidden.
            self.show(flows.shown_instead(payload, self.state.country))
        elif payload in flows.steps:
            if self.state.status is Status.HANDOVER and payload == MENU:
                self.leave_case_if_open()
            self.show(payload)
        elif kind == "lang" and arg in LANGS:
            self.state = replace(self.state, lang=arg, waiting=Waiting.NOTHING,
                                 status=Status.ACTIVE)
            if not self.state.country:
                self.ask_country()
            else:
                self.show(MENU)
        elif kind == "country" and (arg in COUNTRY_CHOICES or arg == OTHER_COUNTRY):
            self.state = replace(self.state, country=arg, waiting=Waiting.NOTHING,
                                 status=Status.ACTIVE)
            self.show(WELCOME if WELCOME in self.world.flows.steps else MENU)
        elif kind == "find" and all(n in NEEDS for n in filter(None, arg.split("+"))):
            self.ask_place(tuple(filter(None, arg.split("+"))))
        elif kind == "page" and arg.isdigit() and self.state.find_city:
            self.show_services(int(arg))
        elif kind == "do" and arg in ACTIONS:
            self.do(arg)
        else:
            # A stale button from an old message, or forged data: say so kindly.
            self.replies.append(Say(self._("That button is out of date. Here is the menu.")))
            self.show(MENU)

    def on_location(self, lat: float, lon: float) -> None:
        directory = self.world.directory
        if directory is None:
            self.no_directory()
            return
        found = directory.search(self.state.find_needs, near=(lat, lon))
        # Her coordinates are never kept: paging goes on from the nearest city's centre.
        cities = directory.gazetteer.cities.values()
        nearest = min(cities, key=lambda c: haversine_km(lat, lon, c.lat, c.lon), default=None)
        self.state = replace(self.state, waiting=Waiting.NOTHING, status=Status.ACTIVE,
                             find_city=nearest.id if nearest else "", find_page=0)
        self.log.append(Record(RecordKind.FIND, topics=("find_service",)))
        if not found and nearest is not None:
            self.show_services(0)  # nothing within reach: the nearest in her country
            return
        self.render_services(found, 0, header=self._("Nearest to you:"))

    def on_text(self, text: str) -> None:
        if text.strip() == self._("☰ Menu"):
            # The way back on the location keyboard (and the label of the menu button, typed
            # or pasted): nothing she would write as a question.
            self.on_command("menu")
            return
        index = self.world.index
        match = index.match(text) if index is not None and text.strip() else None
        if match is not None and match.crisis and match.step in self.world.flows.steps:
            self.log.append(Record(RecordKind.CRISIS, match.step,
                                   self.world.flows.steps[match.step].topics))
            self.show(match.step, record=False)
            if self.state.status is Status.HANDOVER:
                self.replies.append(HandOver(HandOverKind.TO_CONSULTANT, self.state.case, text))
            return
        if self.state.status is Status.HANDOVER:
            self.replies.append(HandOver(HandOverKind.TO_CONSULTANT, self.state.case, text))
            return
        if self.state.waiting is Waiting.CITY and self.world.directory is not None:
            city = self.world.directory.find_city(text)
            if city is not None:
                self.state = replace(self.state, find_city=city.id, waiting=Waiting.NOTHING)
                self.log.append(Record(RecordKind.FIND, topics=("find_service",)))
                self.show_services(0)
                return
            if match is None or match.step is None:
                self.say(self._("I don't know this city yet. Try writing it another way, "
                                "or share your location."), [
                    Choice(self._("📍 Share my location"), "do:location")])
                return
        if match is None:
            self.unmatched()
        elif match.human:
            self.show("main.human" if "main.human" in self.world.flows.steps else MENU)
        elif match.step and match.step in self.world.flows.steps:
            self.show(match.step, also=match.suggestions)
        elif match.suggestions:
            self.suggest(match.suggestions)
        else:
            self.unmatched()

    # -- screens ---------------------------------------------------------------

    def show(self, step_id: str, *, record: bool = True, also: Sequence[str] = ()) -> None:
        """Render one flow step in her language and country, and move there.

        ``also``: other steps the matcher thought she may have meant, offered as
        buttons under the answer, so a near miss costs her one tap, not a retyped question.
        """
        flows, country = self.world.flows, self.state.country
        step_id = flows.shown_instead(step_id, country)  # a step hidden in her country
        definition = flows.steps[step_id]
        state = self.state.at(step_id)
        if definition.sets.get("pregnant") is not None:
            state = replace(state, pregnant=bool(definition.sets["pregnant"]))
        self.state = replace(state, status=Status.HANDOVER if state.status is Status.HANDOVER
                             else Status.ACTIVE, waiting=Waiting.NOTHING)
        variant = definition.text_for(self.state.country, self.state.lang, self.state.pregnant)
        text = self.tr.pgettext(step_id, variant.text)
        shown = [b for b in definition.buttons if flows.button_shown(b, country)]
        buttons = [Choice(self.tr.pgettext("button", b.label), b.go) for b in shown]
        footer = self.footer(definition, variant.sources) if definition.is_answer else ""
        rows: list[tuple[Choice, ...]] = []
        for button in buttons:
            # Short labels share a row; long ones get their own, so nothing is cut off.
            if rows and len(rows[-1]) < MAX_BUTTONS_PER_ROW and len(button.label) <= 16 \
                    and all(len(b.label) <= 16 for b in rows[-1]):
                rows[-1] = (*rows[-1], button)
            else:
                rows.append((button,))
        offered = {step_id, *(b.go for b in shown)}
        others = self.visible(also, exclude=offered)
        for other in others[:MAX_SUGGESTIONS - 1]:
            rows.append((Choice(self._("Or maybe: {title}").format(
                title=self.title_of(other)), other),))
        # A screen whose own buttons open the menu needs no second menu button.
        rows.append(self.standard_row(menu=MENU not in offered))
        self.replies.append(Say(text, tuple(rows), keep=definition.keep or definition.is_answer,
                                footer=footer, step=step_id))
        if record and definition.is_answer:
            self.log.append(Record(RecordKind.ANSWER, step_id, definition.topics))

    def footer(self, definition: Any, own: Sequence[str] = ()) -> str:
        """The small print under an answer: when it was last updated, then its sources,
        by names she can look up in her language. Last, so a crisis screen opens with
        what to do. "Updated", not "checked": staff have not yet called every number.
        ``own``: the shown variant's sources, when it names them (Russia's text cites no
        Ukrainian law)."""
        keys = own or definition.sources
        if not keys:
            return ""  # small talk states no facts: no sources line
        # Only what applies in her country and may be named there (flows/sources.yaml:
        # countries, withheld_in): no Ukrainian law in Russia, no "undesirable" foundation.
        names: list[str] = []
        for source in self.world.flows.sources_shown(keys, self.state.country):
            name = self.tr.pgettext(SOURCE_CONTEXT, source.name)
            if name not in names:
                names.append(name)
        line = self._("Sources: {sources}").format(sources="; ".join(names)) if names \
            else self._("Sources are not named here for your country.")
        if definition.reviewed is None:
            return line
        date = format_date(definition.reviewed, format="long", locale=self.tr.locale)
        return self._("Updated: {date}").format(date=date) + "\n" + line

    def ask_language(self) -> None:
        """Ask for a language, each choice written in its own language."""
        self.state = replace(self.state, status=Status.WAITING, waiting=Waiting.LANGUAGE)
        prompts = [self.world.tr(lang).gettext("Choose a language") for lang in LANGS]
        choices = [Choice((self.world.tr(lang).locale.display_name or lang).capitalize(),
                          f"lang:{lang}") for lang in LANGS]
        self.replies.append(Say(" / ".join(prompts), tuple((c,) for c in choices)
                                + (self.standard_row(menu=False),), step="main.language"))

    def ask_country(self) -> None:
        """Ask once where she is; she may skip, and the answers then fit the whole region."""
        self.state = replace(self.state, status=Status.WAITING, waiting=Waiting.COUNTRY)
        names = self.tr.locale.territories
        choices = [Choice(names.get(code, code), f"country:{code}") for code in COUNTRY_CHOICES]
        rows = [tuple(choices[i:i + 2]) for i in range(0, len(choices), 2)]
        rows.append((Choice(self._("Another country / skip"), f"country:{OTHER_COUNTRY}"),))
        rows.append(self.standard_row(menu=False))
        self.replies.append(Say(
            self._("Which country are you in? Answers about OST, rights and emergency numbers "
                   "depend on it. You can skip this and change it later with /country."),
            tuple(rows), step="main.country"))

    def ask_place(self, needs: tuple[str, ...]) -> None:
        self.state = replace(self.state, find_needs=needs, find_page=0, status=Status.WAITING,
                             waiting=Waiting.CITY)
        wanted = ", ".join(self.tr.gettext(NEEDS[n]) for n in needs)
        text = self._("Write the name of your city, or share your location to see the nearest "
                      "services.")
        if wanted:
            text = self._("Looking for: {needs}.").format(needs=wanted) + "\n" + text
        self.replies.append(AskLocation(text, self._("📍 Share my location"), self._("☰ Menu")))

    def show_services(self, page: int) -> None:
        directory = self.world.directory
        if directory is None:
            self.no_directory()
            return
        found = directory.search(self.state.find_needs, city=self.state.find_city)
        city = directory.city(self.state.find_city)
        name = city.name(self.state.lang or "en") if city else ""
        header = services_header(self.tr, name, elsewhere=bool(found) and found[0].elsewhere)
        self.render_services(found, page, header=header)

    def render_services(self, found: Sequence[Any], page: int, header: str) -> None:
        self.state = replace(self.state, find_page=page)
        if not found:
            self.say(nothing_found(self.tr, self.hotlines()), [
                Choice(self._("🔎 Search again"), "find:"),
                Choice(self._("💬 Talk to a person"), "do:human")])
            return
        total = len(found)
        chunk = found[page * SERVICES_PER_PAGE:(page + 1) * SERVICES_PER_PAGE]
        if not chunk:
            page, chunk = 0, found[:SERVICES_PER_PAGE]
        cards = tuple(self.world.render_card(f, self.state.lang or "en", self.tr, self.now)
                      for f in chunk)
        count = self.tr.ngettext("{n} service found", "{n} services found", total).format(n=total)
        rows: list[tuple[Choice, ...]] = []
        if (page + 1) * SERVICES_PER_PAGE < total:
            rows.append((Choice(self._("More ▶"), f"page:{page + 1}"),))
        rows.append((Choice(self._("🔎 Search again"), "find:" + "+".join(self.state.find_needs)),))
        rows.append(self.standard_row())
        self.replies.append(ServiceList(f"{header}\n{count}".strip(), cards, tuple(rows)))

    def hotlines(self) -> list[str]:
        """National hotlines of her country (or the searched city's), for when nothing is near."""
        directory = self.world.directory
        city = directory.city(self.state.find_city) if self.state.find_city else None
        country = city.country if city else self.state.country
        if not country or country == OTHER_COUNTRY:
            return []
        return [self.world.render_hotline(h, self.state.lang or "en", self.tr)
                for h in directory.hotlines(country, self.state.find_needs)]

    def no_directory(self) -> None:
        self.say(self._("The list of services is not available right now. Please try again "
                        "later, or talk to a person."), [
            Choice(self._("💬 Talk to a person"), "do:human")])

    def visible(self, step_ids: Sequence[str], exclude: set[str] | frozenset[str] = frozenset()
                ) -> list[str]:
        """Steps the matcher offered, as shown in her country (a hidden one becomes what
        replaces it), without repeats and without ``exclude``."""
        flows, found = self.world.flows, []
        for step_id in step_ids:
            if step_id in flows.steps:
                shown = flows.shown_instead(step_id, self.state.country)
                if shown not in found and shown not in exclude:
                    found.append(shown)
        return found

    def suggest(self, suggestions: Sequence[str]) -> None:
        choices = [Choice(self.title_of(step_id), step_id)
                   for step_id in self.visible(suggestions)[:MAX_SUGGESTIONS]]
        self.log.append(Record(RecordKind.SUGGESTED))
        self.say(self._("I'm not sure I understood. Did you mean:"), choices)

    def title_of(self, step_id: str) -> str:
        """A short label for a step: the label of a button that leads to it."""
        label = self.world.flows.label_of(step_id)
        return self.tr.pgettext("button", label) if label is not None else step_id

    def unmatched(self) -> None:
        self.log.append(Record(RecordKind.UNMATCHED))
        self.say(self._("Sorry, I didn't understand. Choose from the menu, or write to a "
                        "person: a woman from our team will answer."), [
            Choice(self._("💬 Talk to a person"), "do:human")])

    # -- actions ---------------------------------------------------------------

    def do(self, action: str) -> None:
        if action == "exit":
            self.quick_exit()
        elif action == "forget":
            self.forget()
        elif action == "language":
            self.ask_language()
        elif action == "country":
            self.ask_country()
        elif action == "location":
            self.ask_place(self.state.find_needs)
        elif action == "human":
            self.open_case()
        elif action == "leave":
            self.leave_case_if_open()
            self.show(MENU)

    def quick_exit(self) -> None:
        """Blank first, then leave: delete the chat, forget her, leave one neutral line."""
        lang = self.state.lang
        if self.state.status is Status.HANDOVER:
            self.replies.append(HandOver(HandOverKind.WITHDRAW, self.state.case))
        self.replies.append(DeleteConversation())
        self.replies.append(ForgetMe())
        self.log.append(Record(RecordKind.EXIT))
        self.state = State(status=Status.ENDED)
        self.replies.append(Say(self.world.tr(lang or "en").gettext("Hi! 🌸")))

    def forget(self) -> None:
        lang = self.state.lang
        if self.state.status is Status.HANDOVER:
            self.replies.append(HandOver(HandOverKind.WITHDRAW, self.state.case))
        self.replies.append(ForgetMe())
        self.log.append(Record(RecordKind.FORGET))
        self.state = State(lang=lang)
        self.replies.append(Say(self.world.tr(lang or "en").gettext(
            "Done: I have deleted everything I kept about you (language, country, where you "
            "were in the menu). The messages in this chat stay on your phone until you delete "
            "the chat in Telegram; ✖ Quick exit deletes the chat and forgets you in one tap."),
            (self.standard_row(),)))

    def open_case(self) -> None:
        self.log.append(Record(RecordKind.HUMAN, topics=("human",)))
        if not self.world.handover:
            # No consultants are connected to this bot: never pretend someone will read her.
            self.say(self._("Talking to a person is not set up in this bot yet. If you are in "
                            "danger now, tap 🆘 Urgent help."),
                     [Choice(self.tr.pgettext("button", "🆘 Urgent help"), CRISIS)])
            return
        self.state = replace(self.state, status=Status.HANDOVER, waiting=Waiting.NOTHING)
        self.replies.append(Say(self._("Write your question here. A consultant will see your "
                                       "message, but not your name, number or profile."),
                                ((Choice(self._("↩ Leave the chat with a person"), "do:leave"),),
                                 self.standard_row(menu=False))))
        # After her screen: what opening the case has to tell her (the consultants are away,
        # or cannot be reached) comes under it.
        self.replies.append(HandOver(HandOverKind.OPEN, self.state.case))

    def leave_case_if_open(self) -> None:
        if self.state.status is Status.HANDOVER:
            self.replies.append(HandOver(HandOverKind.CLOSE, self.state.case))
            self.state = replace(self.state, status=Status.ACTIVE, case="")

    def close_case_left_behind(self, before: State) -> None:
        """/start, /language, a location...: whatever took her out of the chat with a person
        closes the case, so no consultant's answer reaches her behind her back."""
        if before.status is not Status.HANDOVER or self.state.status is Status.HANDOVER:
            return
        if any(isinstance(r, HandOver) and r.kind in (HandOverKind.CLOSE, HandOverKind.WITHDRAW)
               for r in self.replies):
            return
        self.replies.append(HandOver(HandOverKind.CLOSE, before.case))


