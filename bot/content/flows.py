"""Loading and validation of the conversation flows in ``flows/*.yaml``.

Theory of operation: pass 1 reads each file on its own and checks its shape
(known keys, types, text present, answers sourced and dated). Pass 2 checks
what crosses files: every ``go`` target exists, every topic is in the topic
list and answered somewhere, every step is reached by some button. Problems are
collected, never raised one by one; a caller that gets any error keeps the
last good ``Flows``.

Besides the flow files, ``flows/`` holds two lists the flows refer to:
``topics.yaml`` (the question topics, from ../shared/TOPICS.yaml) and
``sources.yaml`` (the documents answers cite).

Countries. A step or a button can be hidden in some countries (``hide: [RU]``,
or ``hide: {RU: russia}`` to name the step shown instead). The engine never
shows a hidden step there: buttons to it are left out, and a typed question or
an old button that leads to it opens the step named instead (by default the
flow's ``start``, else the menu). For each country in ``DECIDED_COUNTRIES``
the cross-check walks what a woman there can reach (the steps the bot opens by
itself, every step a typed question can land on, and the buttons she is shown)
and reports each reached step whose text nobody decided for that country: it
needs a variant ``when: {country: RU}``, ``hide: [RU]``, or ``same_in: [RU]``
(the general text was read for Russia and holds there as it is).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from bot.content import yamlsrc
from bot.content.yamlsrc import Node, NodeList
from bot.errors import C_, CN_, DataError, Issue, StaffText, nearest, shown_path
from bot.limits import (
    ANSWER_CHARS_TARGET,
    MAX_BUTTON_LABEL_CHARS,
    MAX_MESSAGE_CHARS,
    REVIEW_STALE_DAYS,
)
from bot.vocabulary import ACTIONS, DECIDED_COUNTRIES, LANGS, NEEDS, OTHER_COUNTRY
from bot.vocabulary import COUNTRIES as REGION

SPECIAL_FILES = ("topics.yaml", "sources.yaml")
# Replies to greetings and thanks: reached by typing, not by buttons, and stating no facts,
# so they need neither a button that leads to them nor sources.
CONVERSATION_TOPICS = frozenset({"smalltalk"})


def is_conversation(topics: Iterable[str]) -> bool:
    """Whether a step with these topics is small talk (see CONVERSATION_TOPICS)."""
    found = set(topics)
    return bool(found) and found <= CONVERSATION_TOPICS
# Steps the engine opens by itself (commands, first contact), so no button need lead to them.
ROOT_STEPS = ("main.menu", "main.welcome", "main.help", "main.privacy", "crisis.start")
# What ``when: {country: ...}`` may name: a country of the region, or her "another country".
COUNTRIES = (*REGION, OTHER_COUNTRY)
# Services that do not exist in a country: a button searching for them must be hidden there.
ABSENT_NEEDS = {"RU": frozenset({"ost"})}
# How messages to staff name a decided country: in it, and for it.
COUNTRY_PHRASES = {"RU": (C_("in Russia"), C_("for Russia"))}


FLOW_KEYS = ("flow", "title", "steps", "sources")
STEP_KEYS = (
    "say", "buttons", "topics", "ask", "sources", "reviewed", "crisis", "set", "keep", "note",
    "hide", "same_in", "verify",
)
BUTTON_KEYS = ("label", "go", "hide")
SOURCE_KEYS = ("name", "title", "url", "countries", "withheld_in")
# Her country when she has not said where she is: no national source applies, and a name
# withheld anywhere is withheld too, since she may be in that country on a shared phone.
UNKNOWN_COUNTRIES = frozenset({"", "XX"})
VARIANT_KEYS = ("when", "text", "sources")
WHEN_KEYS = ("country", "pregnant", "lang")
SET_KEYS = ("pregnant",)
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True, slots=True)
class Variant:
    """One version of a step's text, used when every condition in ``when`` holds."""

    text: str
    line: int
    countries: frozenset[str] = frozenset()
    langs: frozenset[str] = frozenset()
    pregnant: bool | None = None
    sources: tuple[str, ...] = ()  # this variant's own sources; else the step's

    @property
    def is_fallback(self) -> bool:
        return not self.countries and not self.langs and self.pregnant is None

    def fits(self, country: str, lang: str, pregnant: bool) -> bool:
        return (
            (not self.countries or country in self.countries)
            and (not self.langs or lang in self.langs)
            and (self.pregnant is None or self.pregnant == pregnant)
        )


@dataclass(frozen=True, slots=True)
class ButtonDef:
    """A button of a step: its English label (a msgid) and where it leads."""

    label: str
    go: str  # resolved: "flow.step", "find:a+b", or "do:action"
    line: int
    hide: Mapping[str, str] = field(default_factory=dict)  # country -> step shown instead, or ""


@dataclass(frozen=True, slots=True)
class StepDef:
    """One step of a flow, as loaded."""

    id: str
    path: str
    line: int
    say: tuple[Variant, ...]
    buttons: tuple[ButtonDef, ...] = ()
    topics: tuple[str, ...] = ()
    ask: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    sources: tuple[str, ...] = ()
    reviewed: date | None = None
    crisis: bool = False
    sets: Mapping[str, Any] = field(default_factory=dict)
    keep: bool = False
    note: str = ""  # a comment for translators
    hide: Mapping[str, str] = field(default_factory=dict)  # country -> step shown instead, or ""
    same_in: frozenset[str] = frozenset()  # countries where the general text holds as it is
    verify: tuple[str, ...] = ()  # what staff must verify before this text can be trusted

    @property
    def flow(self) -> str:
        return self.id.split(".", 1)[0]

    @property
    def is_answer(self) -> bool:
        return bool(self.topics)

    @property
    def is_conversation(self) -> bool:
        return is_conversation(self.topics)

    def text_for(self, country: str, lang: str, pregnant: bool) -> Variant:
        """Pick the first variant whose conditions hold; the last one is the fallback."""
        for variant in self.say:
            if variant.fits(country, lang, pregnant):
                return variant
        return self.say[-1]


@dataclass(frozen=True, slots=True)
class Source:
    """A document answers cite: its key, the short name she sees (a msgid, translated),
    the full title for staff and, where there is one, a link."""

    key: str
    title: str
    url: str = ""
    name: str = ""
    path: str = ""
    line: int = 0
    # Where it applies (a national law or agency); empty: everywhere.
    countries: frozenset[str] = frozenset()
    # Where its name must not be shown (naming it is an offence or a risk), with the reason.
    withheld_in: Mapping[str, str] = field(default_factory=dict)

    def shown_in(self, country: str) -> bool:
        """Whether the footer names it for a woman in ``country``."""
        if country in self.withheld_in or (country in UNKNOWN_COUNTRIES and self.withheld_in):
            return False
        return not self.countries or country in self.countries


@dataclass(frozen=True, slots=True)
class FlowDef:
    name: str
    title: str
    path: str
    line: int


@dataclass(frozen=True, slots=True)
class Flows:
    """Everything in ``flows/``: steps by id, flows by name, topics and sources."""

    steps: Mapping[str, StepDef]
    flows: Mapping[str, FlowDef]
    topics: Mapping[str, int]  # topic id -> its line in topics.yaml
    sources: Mapping[str, Source]
    # find:/do: payloads some button hides, by country, with the step shown instead ("")
    hidden_payloads: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def answers(self) -> Iterable[StepDef]:
        return (s for s in self.steps.values() if s.is_answer)

    def source(self, key: str) -> Source | None:
        """A cited document, from flows/sources.yaml or any flow's own ``sources:``."""
        return self.sources.get(key)

    def sources_shown(self, keys: Iterable[str], country: str) -> list[Source]:
        """The sources among ``keys`` a footer names in ``country``: those that apply
        there and are not withheld there (a Ukrainian law is not cited to a woman in
        Russia; a foundation "undesirable" in Russia is not named to her)."""
        found = (self.sources.get(key) for key in keys)
        return [s for s in found if s is not None and s.shown_in(country)]

    def is_hidden(self, go: str, country: str) -> bool:
        """Whether a step (or a ``find:``/``do:`` payload) is never shown in this country."""
        step = self.steps.get(go)
        if step is not None:
            return country in step.hide
        return country in self.hidden_payloads.get(go, {})

    def shown_instead(self, go: str, country: str) -> str:
        """What to open for ``go`` in this country: ``go`` itself, or what replaces it there.

        A hidden step names its replacement (``hide: {RU: russia}``); without one it is
        the flow's ``start``, else the menu. The cross-check makes sure the replacement
        is itself shown there; the loop guard only keeps a broken file from hanging.
        """
        seen: set[str] = set()
        while self.is_hidden(go, country) and go not in seen:
            seen.add(go)
            go = self.replacement(go, country)
        return go if not self.is_hidden(go, country) else "main.menu"

    def replacement(self, go: str, country: str) -> str:
        """One step of ``shown_instead``: what a hidden step or payload names instead."""
        step = self.steps.get(go)
        named = step.hide[country] if step is not None else self.hidden_payloads[go][country]
        if not named:
            start = f"{go.split('.', 1)[0]}.start" if step is not None else ""
            named = start if start in self.steps and start != go else "main.menu"
        return named

    def button_shown(self, button: ButtonDef, country: str) -> bool:
        """A button is left out where it is hidden, or where the step it opens is hidden."""
        if country in button.hide:
            return False
        step = self.steps.get(button.go)
        return step is None or country not in step.hide

    def label_of(self, step_id: str) -> str | None:
        """How the menus name a step: the English label of the first button that leads to it."""
        for step in self.steps.values():
            for button in step.buttons:
                if button.go == step_id:
                    return button.label
        return None


def _hidden_payloads(steps: Mapping[str, StepDef]) -> dict[str, dict[str, str]]:
    """``find:``/``do:`` payloads that some button hides, by country, with what replaces
    them: an old button from before she changed country is still never followed there."""
    found: dict[str, dict[str, str]] = {}
    for step in steps.values():
        for button in step.buttons:
            if button.go not in steps:
                for country, instead in button.hide.items():
                    found.setdefault(button.go, {}).setdefault(country, instead)
    return found


def _hint(value: str, choices: Iterable[str]) -> StaffText | str:
    close = nearest(value, choices, cutoff=0.5)
    return C_("; did you mean '{name}'?", name=close) if close else ""


def _step_where(step_id: str) -> StaffText:
    """How messages name a step: by its name inside its file."""
    return C_("step '{step}'", step=step_id.split(".", 1)[1])


def _button_where(where: StaffText, index: int) -> StaffText:
    return C_("{where}: button {number}", where=where, number=index + 1)


class _FileReader:
    """Pass 1 for one file: turns a YAML tree into steps, collecting problems."""

    def __init__(self, name: str, today: date) -> None:
        self.name = name
        self.today = today
        self.errors: list[DataError] = []
        self.issues: list[Issue] = []

    def error(self, line: int, message: StaffText, where: StaffText | str = "") -> None:
        self.errors.append(DataError(self.name, line, message, where))

    def unknown_keys(self, node: Node, allowed: tuple[str, ...], where: StaffText | str) -> None:
        for key in node:
            if key not in allowed:
                self.error(node.line_of(key),
                           C_("unknown field '{key}'{hint}", key=key, hint=_hint(key, allowed)),
                           where)

    def text(self, node: Node, key: str, where: StaffText) -> str | None:
        value = node.get(key)
        if not isinstance(value, str) or not value.strip():
            self.error(node.line_of(key), C_("'{key}' must be some text", key=key), where)
            return None
        return value.strip()

    def string_list(self, node: Node, key: str, where: StaffText) -> tuple[str, ...]:
        value = node.get(key)
        if value is None:
            return ()
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            self.error(node.line_of(key),
                       C_("'{key}' must be a list of words or phrases", key=key), where)
            return ()
        return tuple(v.strip() for v in value)

    def flow(self, data: Any) -> tuple[FlowDef | None, list[StepDef], dict[str, Source]]:
        if not isinstance(data, Node):
            self.error(1, C_("a flow file must start with 'flow:', 'title:' and 'steps:'"))
            return None, [], {}
        self.unknown_keys(data, FLOW_KEYS, "")
        name = data.get("flow")
        if not isinstance(name, str) or not _NAME.match(name):
            self.error(data.line_of("flow"),
                       C_("'flow' must be a short name in lowercase latin letters, like 'ost'"))
            return None, [], {}
        fwhere = C_("flow '{flow}'", flow=name)
        title = self.text(data, "title", fwhere) or name
        sources = self.sources(data.get("sources"), fwhere) if "sources" in data else {}
        steps_node = data.get("steps")
        if not isinstance(steps_node, Node) or not steps_node:
            self.error(data.line_of("steps"), C_("'steps' must list at least one step"), fwhere)
            return FlowDef(name, title, self.name, data.line), [], sources
        steps = []
        for step_name, body in steps_node.items():
            line = steps_node.line_of(step_name)
            if not _NAME.match(step_name):
                self.error(line, C_("a step name must be lowercase latin letters, digits and '_'"),
                           C_("step '{step}'", step=step_name))
                continue
            step = self.step(f"{name}.{step_name}", body, line)
            if step:
                steps.append(step)
        return FlowDef(name, title, self.name, data.line), steps, sources

    def sources(self, node: Any, where: StaffText | str) -> dict[str, Source]:
        if not isinstance(node, Node):
            self.error(getattr(node, "line", 1), C_("sources must map a short key to a title"),
                       where)
            return {}
        found = {}
        for key, value in node.items():
            swhere = C_("source '{key}'", key=key)
            if not isinstance(value, Node) or not isinstance(value.get("title"), str):
                self.error(node.line_of(key), C_("a source needs 'name:' (the short name shown "
                           "under answers) and 'title:' (the full title, for staff)"), swhere)
                continue
            self.unknown_keys(value, SOURCE_KEYS, swhere)
            name = value.get("name")
            if not isinstance(name, str) or not name.strip():
                self.error(node.line_of(key), C_("a source needs 'name:': a short name she can "
                           "look up, like 'WHO, OST guidelines, 2009'; it is shown under answers "
                           "and translated in the catalogs"), swhere)
                continue
            found[key] = Source(key, value["title"], str(value.get("url", "")), name.strip(),
                                self.name, node.line_of(key),
                                frozenset(self.countries(value, "countries", swhere)),
                                self.withheld_in(value, swhere))
        return found

    def withheld_in(self, node: Node, where: StaffText) -> dict[str, str]:
        """``withheld_in: {RU: "the reason, in words staff understand"}``."""
        if "withheld_in" not in node:
            return {}
        value = node["withheld_in"]
        example = '{RU: "undesirable organisation in Russia since 2015"}'
        if not isinstance(value, Node):
            self.error(node.line_of("withheld_in"), C_(
                "'withheld_in' must name each country with the reason the source is not "
                "named there, like {example}", example=example), where)
            return {}
        found = {}
        for country, reason in value.items():
            if country not in COUNTRIES:
                self.error(value.line_of(country), C_("unknown country '{country}'{hint}",
                           country=country, hint=_hint(str(country), COUNTRIES)), where)
            elif not isinstance(reason, str) or not reason.strip():
                self.error(value.line_of(country), C_(
                    "'withheld_in' must name each country with the reason the source is not "
                    "named there, like {example}", example=example), where)
            else:
                found[str(country)] = reason.strip()
        return found

    def step(self, step_id: str, body: Any, line: int) -> StepDef | None:
        where = _step_where(step_id)
        if not isinstance(body, Node):
            self.error(line, C_("a step must have at least 'say:'"), where)
            return None
        self.unknown_keys(body, STEP_KEYS, where)
        say = self.say(body, where, line)
        buttons = self.buttons(body, step_id, where)
        topics = self.string_list(body, "topics", where)
        ask = self.ask(body, where)
        sources = self.string_list(body, "sources", where)
        reviewed = body.get("reviewed")
        if "reviewed" in body and not isinstance(reviewed, date):
            self.error(body.line_of("reviewed"),
                       C_("'reviewed' must be a date like 2026-11-01, not {value}",
                          value=repr(reviewed)), where)
            reviewed = None
        if topics and not is_conversation(topics):
            if not sources:
                self.error(body.line, C_("an answer needs 'sources': where its facts come from"),
                           where)
            if reviewed is None and "reviewed" not in body:
                self.error(body.line,
                           C_("an answer needs 'reviewed': the date it was last checked"), where)
            if isinstance(reviewed, date) and self.today - reviewed > timedelta(REVIEW_STALE_DAYS):
                self.issues.append(Issue(self.name, body.line_of("reviewed"), C_(
                    "{where}: reviewed on {date}, over a year ago: please check it again",
                    where=where, date=reviewed)))
            if isinstance(reviewed, date) and reviewed > self.today:
                self.error(body.line_of("reviewed"),
                           C_("'reviewed' is in the future ({date})", date=reviewed), where)
        sets = body.get("set")
        if sets is None:
            sets = {}
        elif not isinstance(sets, Node):
            self.error(body.line_of("set"), C_("'set' must be like {example}",
                                                example="{pregnant: true}"), where)
            sets = {}
        else:
            self.unknown_keys(sets, SET_KEYS, where)
            for key, value in sets.items():
                if not isinstance(value, bool):
                    self.error(sets.line_of(key), C_("'{key}' must be true or false", key=key),
                               where)
        for flag in ("crisis", "keep"):
            if flag in body and not isinstance(body[flag], bool):
                self.error(body.line_of(flag), C_("'{key}' must be true or false", key=flag),
                           where)
        note = body.get("note", "")
        hide = self.hide(body, step_id, where)
        same_in = frozenset(self.countries(body, "same_in", where))
        for country in sorted(same_in & set(hide)):
            self.error(body.line_of("same_in"), C_(
                "the step is hidden in {country}, so it cannot also say its text holds there: "
                "drop {country} from one", country=country), where)
        verify = self.string_list(body, "verify", where)
        for item in verify:
            self.issues.append(Issue(self.name, body.line_of("verify"),
                                     C_("{where}: staff must verify: {item}", where=where,
                                        item=item)))
        return StepDef(
            id=step_id, path=self.name, line=line, say=say, buttons=buttons, topics=topics,
            ask=ask, sources=sources, reviewed=reviewed if isinstance(reviewed, date) else None,
            crisis=body.get("crisis") is True, sets=dict(sets), keep=body.get("keep") is True,
            note=note if isinstance(note, str) else "", hide=hide, same_in=same_in,
            verify=verify,
        )

    def countries(self, node: Node, key: str, where: StaffText) -> list[str]:
        """A list of country codes (or one code); unknown codes are errors."""
        if key not in node:
            return []
        raw = node[key]
        items = [raw] if isinstance(raw, str) else raw
        if not isinstance(items, list) or not items:
            self.error(node.line_of(key), C_("'{key}' must list countries, like [RU]", key=key),
                       where)
            return []
        found = []
        for item in items:
            if item not in COUNTRIES:
                self.error(node.line_of(key), C_("unknown country '{country}'{hint}",
                           country=item, hint=_hint(str(item), COUNTRIES)), where)
            else:
                found.append(str(item))
        return found

    def hide(self, node: Node, step_id: str, where: StaffText) -> dict[str, str]:
        """``hide: [RU]`` or ``hide: {RU: step}``: country -> the step shown instead ("")."""
        if "hide" not in node:
            return {}
        value = node["hide"]
        if not isinstance(value, Node):
            return dict.fromkeys(self.countries(node, "hide", where), "")
        flow = step_id.split(".", 1)[0]
        found = {}
        for country, instead in value.items():
            if country not in COUNTRIES:
                self.error(value.line_of(country), C_("unknown country '{country}'{hint}",
                           country=country, hint=_hint(str(country), COUNTRIES)), where)
                continue
            if not isinstance(instead, str) or not instead.strip():
                self.error(value.line_of(country), C_("'hide' must be like [RU], or name the "
                           "step shown instead, like {example}", example="{RU: russia}"), where)
                continue
            instead = instead.strip()
            found[country] = instead if "." in instead else f"{flow}.{instead}"
        return found

    def say(self, body: Node, where: StaffText, step_line: int) -> tuple[Variant, ...]:
        value = body.get("say")
        if value is None:
            self.error(step_line, C_("the step has nothing to say: add 'say:'"), where)
            return (Variant("", body.line),)
        if isinstance(value, str):
            return (self.variant_text(value, body.line_of("say"), where),)
        if not isinstance(value, NodeList) or not value:
            self.error(body.line_of("say"), C_("'say' must be text or a list of variants"), where)
            return (Variant("", body.line),)
        variants = []
        for index, item in enumerate(value):
            line = value.line_of(index)
            vwhere = C_("{where}: say[{number}]", where=where, number=index + 1)
            if not isinstance(item, Node):
                self.error(line, C_("each variant needs 'text:' (and 'when:' except the last)"),
                           vwhere)
                continue
            self.unknown_keys(item, VARIANT_KEYS, vwhere)
            text = self.text(item, "text", vwhere) or ""
            variant = self.variant_text(text, item.line_of("text"), vwhere)
            when = item.get("when")
            if when is not None:
                variant = self.when(when, variant, item.line_of("when"), vwhere)
            if "sources" in item:
                variant = replace(variant, sources=self.string_list(item, "sources", vwhere))
            variants.append(variant)
        if variants and not variants[-1].is_fallback:
            self.error(value.line_of(len(value) - 1),
                       C_("the last variant must have no 'when': it is the general fallback"),
                       where)
        for variant in variants[:-1]:
            if variant.is_fallback:
                self.error(variant.line, C_("only the last variant may have no 'when'"), where)
        return tuple(variants) or (Variant("", body.line),)

    def variant_text(self, text: str, line: int, where: StaffText) -> Variant:
        text = text.strip()
        if len(text) > MAX_MESSAGE_CHARS:
            self.error(line, CN_("the text is {n} character; Telegram allows {limit}",
                                 "the text is {n} characters; Telegram allows {limit}",
                                 len(text), limit=MAX_MESSAGE_CHARS), where)
        elif len(text) > ANSWER_CHARS_TARGET:
            self.issues.append(Issue(self.name, line, CN_(
                "{where}: the text is {n} character; keep answers under {limit} for small "
                "screens",
                "{where}: the text is {n} characters; keep answers under {limit} for small "
                "screens", len(text), where=where, limit=ANSWER_CHARS_TARGET)))
        return Variant(text, line)

    def when(self, when: Any, variant: Variant, line: int, where: StaffText) -> Variant:
        if not isinstance(when, Node) or not when:
            self.error(line, C_("'when' must be like {example} or {other}",
                                example="{country: RU}", other="{pregnant: true}"), where)
            return variant
        self.unknown_keys(when, WHEN_KEYS, where)
        countries: frozenset[str] = frozenset()
        langs: frozenset[str] = frozenset()
        pregnant = None
        if "country" in when:
            raw = when["country"]
            items = [raw] if isinstance(raw, str) else raw
            if not isinstance(items, list) or not items:
                items = []
            for item in items:
                if item not in COUNTRIES:
                    self.error(when.line_of("country"), C_("unknown country '{country}'{hint}",
                               country=item, hint=_hint(str(item), COUNTRIES)), where)
            countries = frozenset(str(i) for i in items)
        if "lang" in when:
            raw = when["lang"]
            items = [raw] if isinstance(raw, str) else raw
            for item in items or []:
                if item not in LANGS:
                    self.error(when.line_of("lang"),
                               C_("unknown language '{lang}'; use uk, ru or en", lang=item), where)
            langs = frozenset(str(i) for i in items or [])
        if "pregnant" in when:
            if not isinstance(when["pregnant"], bool):
                self.error(when.line_of("pregnant"), C_("'{key}' must be true or false",
                                                        key="pregnant"), where)
            else:
                pregnant = when["pregnant"]
        return replace(variant, countries=countries, langs=langs, pregnant=pregnant)

    def buttons(self, body: Node, step_id: str, where: StaffText) -> tuple[ButtonDef, ...]:
        value = body.get("buttons")
        if value is None:
            return ()
        if not isinstance(value, NodeList):
            self.error(body.line_of("buttons"), C_("'buttons' must be a list"), where)
            return ()
        flow = step_id.split(".", 1)[0]
        found = []
        for index, item in enumerate(value):
            line = value.line_of(index)
            bwhere = _button_where(where, index)
            if not isinstance(item, Node):
                self.error(line, C_("a button needs 'label:' and 'go:'"), bwhere)
                continue
            self.unknown_keys(item, BUTTON_KEYS, bwhere)
            label = self.text(item, "label", bwhere)
            go = self.text(item, "go", bwhere)
            hide = self.hide(item, step_id, bwhere)
            if label and len(label) > MAX_BUTTON_LABEL_CHARS:
                self.error(item.line_of("label"), CN_(
                    "the label is {n} character; keep it under {limit}",
                    "the label is {n} characters; keep it under {limit}",
                    len(label), limit=MAX_BUTTON_LABEL_CHARS), bwhere)
            if label and go:
                if ":" not in go and "." not in go:
                    go = f"{flow}.{go}"
                found.append(ButtonDef(label, go, line, hide))
        return tuple(found)

    def ask(self, body: Node, where: StaffText) -> dict[str, tuple[str, ...]]:
        value = body.get("ask")
        if value is None:
            return {}
        if not isinstance(value, Node):
            self.error(body.line_of("ask"),
                       C_("'ask' must list phrases per language (uk, ru, en)"), where)
            return {}
        found = {}
        for lang in value:
            if lang not in LANGS:
                self.error(value.line_of(lang),
                           C_("unknown language '{lang}'; use uk, ru or en", lang=lang), where)
                continue
            found[lang] = self.string_list(value, lang, where)
        return found


def _topics(path: Path, name: str) -> tuple[dict[str, int], list[DataError]]:
    """Read the topic list; return each topic id with its line."""
    data, errors = yamlsrc.read(path, name)
    if errors:
        return {}, errors
    if not isinstance(data, Node) or not isinstance(data.get("topics"), Node):
        return {}, [DataError(name, 1, C_("the file must start with '{key}:'", key="topics"))]
    return {str(k): data["topics"].line_of(k) for k in data["topics"]}, []


def load(flows_dir: Path, today: date) -> tuple[Flows | None, list[DataError], list[Issue]]:
    """Read and check every file in ``flows_dir``; the flows only when there are no errors."""
    errors: list[DataError] = []
    issues: list[Issue] = []
    root = flows_dir.parent
    topics_name = shown_path(flows_dir / "topics.yaml", root)
    topics, topic_errors = _topics(flows_dir / "topics.yaml", topics_name)
    errors += topic_errors
    sources: dict[str, Source] = {}
    src_name = shown_path(flows_dir / "sources.yaml", root)
    src_data, src_errors = yamlsrc.read(flows_dir / "sources.yaml", src_name)
    errors += src_errors
    if src_data is not None:
        reader = _FileReader(src_name, today)
        if isinstance(src_data, Node) and "sources" in src_data:
            sources.update(reader.sources(src_data["sources"], ""))
        else:
            reader.error(1, C_("the file must start with '{key}:'", key="sources"))
        errors += reader.errors

    steps: dict[str, StepDef] = {}
    flows: dict[str, FlowDef] = {}
    # main.yaml first: it is the root, so a clash of names is reported on the other file.
    for path in sorted(flows_dir.glob("*.yaml"), key=lambda p: (p.name != "main.yaml", p.name)):
        if path.name in SPECIAL_FILES:
            continue
        name = shown_path(path, root)
        data, problems = yamlsrc.read(path, name)
        errors += problems
        if data is None:
            continue
        reader = _FileReader(name, today)
        flow, flow_steps, flow_sources = reader.flow(data)
        errors += reader.errors
        issues += reader.issues
        if flow is None:
            continue
        if flow.name in flows:
            errors.append(DataError(name, flow.line, C_(
                "the flow name '{flow}' is already used in {file}", flow=flow.name,
                file=flows[flow.name].path)))
            continue
        flows[flow.name] = flow
        for key, source in flow_sources.items():
            if key in sources:
                errors.append(DataError(name, source.line, C_(
                    "source '{key}' is already in {file}: keep one, so it has one name and one "
                    "title", key=key, file=sources[key].path)))
            sources[key] = source
        for step in flow_steps:
            steps[step.id] = step

    cross_errors, cross_issues = _cross_check(steps, topics, topics_name, sources)
    errors += cross_errors
    issues += cross_issues
    if not errors:
        for required in ROOT_STEPS:
            if required not in steps:
                flow_name, _, step_name = required.partition(".")
                errors.append(DataError(shown_path(flows_dir, root), 1, C_(
                    "the bot opens step '{step}' of flow '{flow}' by itself (a command or the "
                    "first contact), so it must exist: add it to flows/{flow}.yaml", step=step_name,
                    flow=flow_name)))
    if errors:
        return None, errors, issues
    model = Flows(steps, flows, topics, sources, _hidden_payloads(steps))
    errors += _check_countries(model, issues)
    if errors:
        return None, errors, issues
    return model, errors, issues


def _cross_check(
    steps: Mapping[str, StepDef],
    topics: Mapping[str, int],
    topics_name: str,
    sources: Mapping[str, Source],
) -> tuple[list[DataError], list[Issue]]:
    """Pass 2: references between steps, topics and sources."""
    errors: list[DataError] = []
    issues: list[Issue] = []
    reached: set[str] = set(ROOT_STEPS)
    for step in steps.values():
        where = _step_where(step.id)
        for index, button in enumerate(step.buttons):
            bwhere = _button_where(where, index)
            kind, _, arg = button.go.partition(":")
            if arg or button.go.endswith(":"):
                if kind == "find":
                    for need in filter(None, arg.split("+")):
                        if need not in NEEDS:
                            errors.append(DataError(step.path, button.line, C_(
                                "unknown need '{need}'{hint}", need=need,
                                hint=_hint(need, NEEDS)), bwhere))
                elif kind == "do":
                    if arg not in ACTIONS:
                        errors.append(DataError(step.path, button.line, C_(
                            "unknown action '{action}'{hint}", action=arg,
                            hint=_hint(arg, ACTIONS)), bwhere))
                else:
                    errors.append(DataError(step.path, button.line, C_(
                        "'go' must be a step, 'find:...' or 'do:...', not '{go}'",
                        go=button.go), bwhere))
                continue
            if button.go not in steps:
                same_flow = [s for s in steps if s.startswith(step.flow + ".")]
                short = button.go
                if button.go.startswith(step.flow + "."):
                    short = button.go.split(".", 1)[1]
                names = [s.split(".", 1)[1] for s in same_flow] + list(steps)
                errors.append(DataError(step.path, button.line, C_(
                    "goes to unknown step '{step}'{hint}", step=short,
                    hint=_hint(short, names)), bwhere))
            reached.add(button.go)
        # What a hidden step or button names instead is shown there: it is reached too.
        for instead in [*step.hide.values(), *(v for b in step.buttons for v in b.hide.values())]:
            if instead:
                reached.add(instead)
        for topic in step.topics:
            if topic not in topics:
                errors.append(DataError(step.path, step.line, C_(
                    "unknown topic '{topic}'{hint}", topic=topic, hint=_hint(topic, topics)),
                    where))
        for source in [*step.sources, *(s for v in step.say for s in v.sources)]:
            if source not in sources:
                errors.append(DataError(step.path, step.line, C_(
                    "unknown source '{key}': add it to {file}{hint}", key=source,
                    file="flows/sources.yaml", hint=_hint(source, sources)), where))
    for step in steps.values():
        typed_only = step.is_conversation and bool(step.ask)
        if step.id not in reached and not typed_only:
            errors.append(DataError(step.path, step.line,
                C_("no button leads to this step, so nobody can reach it"),
                _step_where(step.id)))
    answered = {t for s in steps.values() for t in s.topics}
    for topic, line in topics.items():
        if topic not in answered:
            issues.append(Issue(topics_name, line,
                                C_("topic '{topic}' is not answered by any step", topic=topic)))
    return errors, issues


def _check_countries(model: Flows, issues: list[Issue]) -> list[DataError]:
    """Hidden steps and, for each decided country, every step she can reach there.

    What she can reach in a country: the steps the bot opens by itself, every step a
    typed question can land on (any step with ``ask`` phrases or a topic: the matcher
    also learns the menu's name for a step), and the buttons she is shown, followed
    from each of those. A hidden step is never shown; what replaces it is reached.
    """
    errors: list[DataError] = []
    steps = model.steps

    def where(step: StepDef) -> StaffText:
        return _step_where(step.id)

    for step in steps.values():
        for country, instead in step.hide.items():
            if step.id in ROOT_STEPS:
                errors.append(DataError(step.path, step.line, C_(
                    "the bot opens this step by itself (a command or the first contact), so it "
                    "cannot be hidden"), where(step)))
            if instead and instead not in steps:
                errors.append(DataError(step.path, step.line, C_(
                    "'hide' names unknown step '{step}' to show instead in {country}",
                    step=instead, country=country), where(step)))
        for index, button in enumerate(step.buttons):
            for country, instead in button.hide.items():
                if instead and instead not in steps:
                    errors.append(DataError(step.path, button.line, C_(
                        "'hide' names unknown step '{step}' to show instead in {country}",
                        step=instead, country=country), _button_where(where(step), index)))
    if errors:
        return errors
    for step in steps.values():
        for country in step.hide:
            chain = [step.id]
            while model.is_hidden(chain[-1], country):
                instead = model.replacement(chain[-1], country)
                if instead in chain:
                    example = "{" + country + ": start}"
                    errors.append(DataError(step.path, step.line, C_(
                        "hidden in {country}, and what is shown instead leads back to it "
                        "({chain}): name a step shown in {country}, like hide: {example}",
                        country=country, chain=" -> ".join([*chain, instead]),
                        example=example), where(step)))
                    break
                chain.append(instead)
    for country in DECIDED_COUNTRIES:
        errors += _check_country(model, country, issues)
    return errors


def _check_country(model: Flows, country: str, issues: list[Issue]) -> list[DataError]:
    """Every step reachable in ``country`` has a text decided for it; no button searches
    for a service that does not exist there. Warns (in ``issues``) of an answer whose
    footer there would name no source."""
    steps = model.steps
    in_country, for_country = COUNTRY_PHRASES.get(
        country, (C_("in {country}", country=country), C_("for {country}", country=country)))
    how: dict[str, StaffText] = {}  # step id -> how she first gets there
    queue: list[str] = []

    def reach(go: str, why: StaffText) -> None:
        shown = model.shown_instead(go, country)
        if shown != go:
            why = C_("instead of '{step}', {why}", step=go, why=why)
        if shown in steps and shown not in how:
            how[shown] = why
            queue.append(shown)

    for root in ROOT_STEPS:
        reach(root, C_("the bot opens it by itself"))
    for step in steps.values():
        if step.ask or step.topics:
            reach(step.id, C_("by a typed question"))
    errors: list[DataError] = []
    while queue:
        step = steps[queue.pop(0)]
        for index, button in enumerate(step.buttons):
            if not model.button_shown(button, country):
                continue
            kind, _, arg = button.go.partition(":")
            absent = ABSENT_NEEDS.get(country, frozenset()) & set(arg.split("+"))
            if kind == "find" and absent:
                errors.append(DataError(step.path, button.line, C_(
                    "this button searches for {needs}, which does not exist {in_country}: add "
                    "hide: [{country}] to the button", needs=", ".join(sorted(absent)),
                    in_country=in_country, country=country),
                    _button_where(_step_where(step.id), index)))
            if button.go in steps:
                reach(button.go, C_("by a button in '{step}' ({file}:{line})", step=step.id,
                                    file=step.path, line=button.line))
    for step_id in sorted(how, key=lambda s: (steps[s].path, steps[s].line)):
        step = steps[step_id]
        if step.is_answer and not step.is_conversation:
            issues += _unsourced(model, step, country, in_country)
        if country in step.same_in or _decided(step, country):
            continue
        if step.is_conversation:
            continue  # small talk states no facts (nor does it cite sources)
        when = "{country: " + country + "}"
        errors.append(DataError(step.path, step.line, C_(
            "a woman {in_country} can reach this step ({how}), but no text of it is decided "
            "{for_country}: add a variant 'when: {when}', 'hide: [{country}]', or 'same_in: "
            "[{country}]' if the general text was read {for_country} and holds there as it is",
            in_country=in_country, how=how[step_id], for_country=for_country,
            when=when, country=country), _step_where(step_id)))
    return errors


def _unsourced(model: Flows, step: StepDef, country: str, in_country: StaffText) -> list[Issue]:
    """A warning for each text of ``step`` shown in ``country`` whose footer would name no
    source: every source it cites is for another country or withheld there."""
    found: list[Issue] = []
    seen: set[int] = set()
    for lang in LANGS:
        for pregnant in (False, True):
            variant = step.text_for(country, lang, pregnant)
            keys = variant.sources or step.sources
            if id(variant) in seen or model.sources_shown(keys, country):
                continue
            seen.add(id(variant))
            found.append(Issue(step.path, variant.line if variant.sources else step.line, C_(
                "step '{step}': a woman {in_country} can reach this answer, but none of its "
                "sources ({keys}) is named there: each is for another country or withheld "
                "there, so her footer says the sources are not named; cite one that holds "
                "there, like a WHO guideline or the country's own law",
                step=step.id.split(".", 1)[1], in_country=in_country, keys=", ".join(keys))))
    return found


def _decided(step: StepDef, country: str) -> bool:
    """Whether whatever she is shown in ``country`` (pregnant or not, any language) is a
    variant written for that country."""
    return all(country in step.text_for(country, lang, pregnant).countries
               for lang in LANGS for pregnant in (False, True))
