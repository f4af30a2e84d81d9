"""The matcher: from what she typed to a crisis step, an answer, or an honest "not sure".

Order of decisions for one message (docs/matching.md has the why):

1. Read it (reader.py): her words as the content's keys, and as spelling skeletons. A
   message of several sentences is also read sentence by sentence.
2. Safety first. The urgency model (model.py) gives the probability that someone is in
   danger right now; the safety net (data/safety_net.yaml) holds the few phrases no model
   may overrule. Urgent: the answer is a crisis step, flagged, with nothing else: of the
   rule's topic, else of the topic the answer model weighs most over all its steps. A
   safety-net rule that is not urgent (talk of suicide without intent now) fixes the
   topic: the answer is that topic's best step, whatever else the message says.
3. The answer model's calibrated probabilities: the best step alone when sure, with its
   runners-up when fair, "did you mean" when unsure, and nothing when the best is
   NOT_OURS or nothing is close: she gets "not sure I understood", the menu and a person.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from types import MappingProxyType
from typing import Any

import numpy as np

from bot.limits import BOT_COMMAND, MAX_SUGGESTIONS
from bot.matching import model
from bot.matching.normalise import clean
from bot.matching.reader import Reader, Reading, reader_code

# Bands on the answer model's calibrated probability of its best step.
# Set on the retired tuning sets (tests/data/README.md): the best step was right for 97%
# of questions at p >= 0.2 and for 64% below it.
FAIR = 0.2  # the best step, with runners-up ("or maybe ...")
# ...or when the steps sharing a topic with it hold this much together. On all tuning sets
# (4,743 questions) 14 of the 17 answers this adds were right; at 0.2, 19 of 28.
FAIR_TOPIC = 0.25
SUGGEST = 0.08  # "did you mean" the best three
# A runner-up or suggestion needs at least this probability. 0.06 until session 7; at 0.04,
# on all tuning sets, top-3 0.977 -> 0.980 and "or maybe" buttons under 14% of answers, not 11%.
# 0.02 since session 12: on all 6,541 tuning questions top-3 5,697 -> 5,707 of 5,757, "or
# maybe" under 17.7% of calm answers, not 12.4%. A wrong answer given with confidence then
# more often shows the right one as a button; a right one costs a button she can ignore.
RUNNER_UP = 0.02
# Urgent (one reading: the whole message, or one sentence of a longer one), when the urgency
# model's calibrated probability reaches
# - URGENT_SURE: on its own word;
# - URGENT_ALONE (the whole message only): if the answer model, too, puts ALONE_SHARE of
#   its probability on crisis steps and does not call it NOT_OURS. Alone, 0.3 flagged "do
#   you save my number" and "what's for dinner";
# - the model's recall-first threshold (the whole message only): if the answer model puts
#   CRISIS_SHARE on crisis steps and does not call it NOT_OURS.
# A sentence of a story is urgent only from URGENT_SURE: "I was afraid he would not wake
# up" inside a calm question is not a crisis now. Set by a sweep over all tuning sets
# (docs/matching.md): false crises 2.0% -> 1.5%, urgent messages flagged 95.2% -> 95.8%.
# Session 6 replayed the decision over all sets (4,143 questions, 481 urgent): the shares
# 0.25 and 0.4 (were 0.15 and 0.3) flag the same urgent messages (all but 9) and 59 calm
# ones instead of 64; every higher bar missed more urgent ones.
# Session 14 (8,935 questions, 1,180 urgent): URGENT_ALONE 0.3 -> 0.4 with ALONE_SHARE
# 0.25 -> 0.2 flags one more urgent message ("gave naloxone, he came round, now he is
# nodding off again": urgency 0.48, crisis share 0.24) and two fewer calm ones; ALONE_SHARE
# 0.2 alone cost two more false crises, and 0.15 five.
URGENT_SURE = 0.7
URGENT_ALONE = 0.4
ALONE_SHARE = 0.2
CRISIS_SHARE = 0.4
# ...unless the answer model is sure of a calm step ("bye!" is small talk, however much it
# sounds like a farewell) and the urgency is below URGENT_SURE. The safety net still fires.
CALM_SURE = 0.8
# A sentence of a story is urgent from URGENT_SURE only if the answer model, too, puts this
# much of its probability for that sentence on crisis steps. On all 7,140 questions of
# session 12 a sentence alone made 19 messages crises, 18 of them calm ("after he told me
# he's positive", "is it abuse if he takes my phone?"). The urgent one (a rape by police an
# hour ago) had 0.98 there; 15 of the calm ones had 0.77 or less.
SENTENCE_SHARE = 0.8
# NOT_OURS declines a message only when it beats the best step by this much; a near tie
# ("що таке ДКП і кому її варто пити?": NOT_OURS 0.41, PrEP 0.38) is answered as its band
# says. On all tuning sets: top-3 0.943 -> 0.946, off-topic declined unchanged (0.933).
NOT_OURS_MARGIN = 0.1
# The urgency model weighs the hand-written urgent and calm examples (data/) this many
# times a content phrase: they are written to mark the line between the two.
EXAMPLE_WEIGHT = 3.0
# A sentence of a longer message is read on its own from this many characters of message up,
# when the whole message's urgency reaches this share of the urgency model's threshold. On
# all tuning sets every story with an urgent sentence had at least 1.2 times the threshold
# as a whole; 90% of long messages are below it and cost one reading instead of several.
SPLIT_FROM = 60
SENTENCES_FROM = 0.5
_LONE_COMMAND = re.compile(BOT_COMMAND)
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|\n+")
# A calm example of a crisis step ("how do you do CPR? I want to learn") teaches the answer
# model a class of its own, the step's calm twin: it answers with the step, but is not
# crisis-step weight that could make the message urgent. OTHER: calm examples no step of
# ours answers (a pet, a film): the urgency model alone learns from them.
CALM_TWIN = "~calm"
OTHER = "other"


@dataclass(frozen=True, slots=True)
class Entry:
    """A step that can answer typed questions: its id, topics and how women ask for it."""

    step: str
    topics: tuple[str, ...]
    phrases: Mapping[str, tuple[str, ...]]
    crisis: bool = False
    titles: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True, slots=True)
class Match:
    """The answer to one typed question: a step, or suggestions, or nothing.

    A step with suggestions is a fair but not certain answer: show the step, and
    the suggestions as other steps she may have meant. ``score`` is the calibrated
    probability of the step (of the urgency, for a crisis).
    """

    step: str | None
    score: float
    crisis: bool
    suggestions: tuple[str, ...]
    human: bool = False


@dataclass(frozen=True, slots=True)
class Patterns:
    """A rule's patterns of one kind. Those that begin with "^" are tried at the start of a
    line only; the rest are searched as one alternation. Tried at every position, as one
    alternation with the rest, the "^(?=.*…)" patterns cost a long message tenths of a
    millisecond for nothing."""

    anchored: tuple[re.Pattern[str], ...] = ()
    floating: re.Pattern[str] | None = None

    @classmethod
    def of(cls, patterns: Iterable[str]) -> Patterns:
        patterns = list(patterns)
        rest = [p for p in patterns if not p.startswith("^")]
        return cls(tuple(re.compile(p) for p in patterns if p.startswith("^")),
                   re.compile("|".join(f"(?:{p})" for p in rest)) if rest else None)

    def fire(self, line: str) -> bool:
        return (any(p.match(line) for p in self.anchored)
                or (self.floating is not None and self.floating.search(line) is not None))


@dataclass(frozen=True, slots=True)
class Rule:
    """A safety-net rule: phrases that decide a topic (and urgency) whatever the models say,
    or (``calm``) that the models alone may not make a message urgent."""

    topics: frozenset[str]
    urgent: bool
    skeleton: Patterns  # searched in her words' spelling skeletons
    english: Patterns  # searched in her plain lowercase text
    must_fire: tuple[str, ...]
    must_not_fire: tuple[str, ...]
    calm: bool = False  # asked ahead of time: the models' urgency is overruled (not a rule's)


@dataclass(frozen=True, slots=True)
class Examples:
    """Labelled texts besides the content's phrases (data/*.yaml)."""

    not_ours: tuple[str, ...] = ()
    # topic, or crisis step (crisis.cpr_baby), -> texts
    urgent: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # step that answers them (or OTHER: none of ours) -> texts
    calm: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    rules: tuple[Rule, ...] = ()

    def texts(self) -> tuple[str, ...]:
        """Every example text, whatever it teaches."""
        return (*self.not_ours, *(t for texts in self.urgent.values() for t in texts),
                *(t for texts in self.calm.values() for t in texts))


def _data(name: str) -> Any:
    import yaml

    text = resources.files("bot.matching").joinpath("data", name).read_text(encoding="utf-8")
    # libyaml's loader when the wheel has it: the pure-Python one costs a third of a warm start
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


_SHARED = re.compile(r"\{\{(\w+)\}\}")


def _with_words(patterns: Iterable[str], words: Mapping[str, str]) -> list[str]:
    """The patterns with each `{{name}}` replaced by the shared text under that name."""
    def shared(found: re.Match[str]) -> str:
        if found[1] not in words:
            raise ValueError(f"safety_net.yaml: a pattern uses {found[0]}, which `words` "
                             "does not define")
        return words[found[1]]
    return [_SHARED.sub(shared, p) for p in patterns]


def shipped_examples() -> Examples:
    """The examples and safety net that ship with the code (bot/matching/data/)."""
    crisis = _data("crisis_examples.yaml")
    net = _data("safety_net.yaml")
    words = {str(k): str(v) for k, v in (net.get("words") or {}).items()}
    rules = tuple(
        Rule(
            topics=frozenset(str(t) for t in rule.get("topics") or ()),
            urgent=bool(rule.get("urgent")),
            skeleton=Patterns.of(_with_words(rule.get("patterns") or (), words)),
            english=Patterns.of(_with_words(rule.get("english") or (), words)),
            must_fire=tuple(rule.get("must_fire") or ()),
            must_not_fire=tuple(rule.get("must_not_fire") or ()),
            calm=bool(rule.get("calm")),
        )
        for rule in net["rules"]
    )
    return Examples(
        not_ours=tuple(_data("not_ours.yaml")["examples"]),
        urgent={str(k): tuple(v) for k, v in crisis["urgent"].items()},
        calm={str(k): tuple(v) for k, v in crisis["calm"].items()},
        rules=rules,
    )


class Index:
    """Typed-question matcher over the content's `ask` phrases; build once, match often."""

    __slots__ = ("_entries", "_reader", "_models", "_class_entry", "_rules", "_human",
                 "_crisis_by_topic", "_crisis_classes", "_step_classes", "_calm_rules",
                 "_kin", "_twins", "_topic_classes")
    _entries: tuple[Entry, ...]
    _reader: Reader
    _models: model.Models
    _class_entry: tuple[Entry | None, ...]  # by answer-model class; None for NOT_OURS
    _rules: tuple[Rule, ...]
    _calm_rules: tuple[Rule, ...]  # she asks ahead of time
    _human: str | None
    _crisis_by_topic: dict[str, tuple[str, ...]]
    _crisis_classes: np.ndarray  # answer-model classes that are crisis steps
    _step_classes: np.ndarray  # answer-model classes that are steps (all but NOT_OURS)
    _kin: np.ndarray  # [a, b]: classes a and b are steps that share a topic
    _twins: tuple[tuple[int, int], ...]  # (calm twin class, its crisis step's class)
    _topic_classes: dict[str, np.ndarray]  # a topic with crisis steps -> its steps' classes

    def __init__(self) -> None:
        raise TypeError("use Index.build(entries)")

    @classmethod
    def build(cls, entries: Iterable[Entry], examples: Examples | None = None) -> Index:
        """Read every phrase and title, and train (or load the cached) models."""
        self = object.__new__(cls)
        self._entries = tuple(entries)
        examples = shipped_examples() if examples is None else examples
        crisis_topics = {t for e in self._entries if e.crisis for t in e.topics}
        labelled: list[tuple[str, str, str]] = []  # (label, lang, text)
        for entry in self._entries:
            for lang, phrases in entry.phrases.items():
                labelled += [(entry.step, lang, p) for p in phrases]
            labelled += [(entry.step, lang, t) for lang, t in entry.titles.items()]
        self._crisis_by_topic = {
            topic: tuple(e.step for e in self._entries if e.crisis and topic in e.topics)
            for topic in crisis_topics
        }
        by_step = {e.step: e for e in self._entries}
        # Urgent examples teach the answer model too: as the crisis step they are listed
        # under, or as the first crisis step of the topic they are listed under.
        urgent_steps: set[str] = set()
        for key, texts in examples.urgent.items():
            named = by_step.get(key)
            taught = key if named is not None and named.crisis else next(
                iter(self._crisis_by_topic.get(key, ())), None)
            if taught is not None:
                urgent_steps.add(taught)
                labelled += [(taught, "", t) for t in texts]
        # Calm examples teach the answer model the step they name; a crisis step's, as its twin.
        calm_only: list[str] = []  # the urgency model's only
        for step, texts in examples.calm.items():
            named = by_step.get(step)
            if named is None:  # OTHER, or a step these flows do not have
                calm_only += texts
            else:
                labelled += [(step + CALM_TWIN if named.crisis else step, "", t) for t in texts]
        labelled += [(model.NOT_OURS, "", t) for t in examples.not_ours]
        built: list[Reader] = []  # the reader, once it has been built from the phrases

        def reader() -> Reader:
            if not built:
                built.append(Reader.build((label, lang, text) for label, lang, text in labelled
                                          if label != model.NOT_OURS))
            return built[0]
        # A crisis step's phrases teach urgency, except the numbers step's: "which number is
        # the ambulance" is mostly asked calmly; urgent asks for it are in the examples.
        crisis_steps = {e.step for e in self._entries
                        if e.crisis and "emergency_numbers" not in e.topics}
        urgent_labels = crisis_steps | urgent_steps

        urgent = [label in crisis_steps or (label in urgent_labels and lang == "")
                  for label, lang, _ in labelled]

        def training() -> model.TrainingSet:
            read = reader().read
            readings = [read(text) for _, _, text in labelled]
            # A phrase's words are all known to a reader built from the phrases, so to
            # the model "unknown words" would mean "not ours". A word no other phrase has
            # counts as unknown instead: without this phrase the reader would not know it,
            # just as a question she writes has words no phrase has.
            shared = Counter(key for reading, (label, _, _) in zip(readings, labelled, strict=True)
                             if label != model.NOT_OURS
                             for key in {k for token in reading.tokens for k in token})
            samples = [model.features(r, r.unknown + sum(
                all(shared[k] <= 1 for k in token) for token in r.tokens)) for r in readings]
            labels = [label for label, _, _ in labelled]
            calm = [model.features(read(text)) for text in calm_only]
            weights = [EXAMPLE_WEIGHT if lang == "" else 1.0 for _, lang, _ in labelled]
            return model.TrainingSet(samples + calm, labels, urgent + [False] * len(calm),
                                     weights + [EXAMPLE_WEIGHT] * len(calm), reader().state())

        # The key covers the reader's own tables too (slang, function words): a cached
        # reader state must be of the same code as the reader that would be built.
        key = model.training_hash(
            [tuple(x for row in labelled for x in row), tuple(calm_only),
             tuple("u" if flag else "c" for flag in urgent), reader_code()])
        self._models = model.trained(key, training)
        # Cached models bring the reader they were trained with: no phrase is read again.
        self._reader = built[0] if built else Reader.from_state(self._models.reader_state)
        classes = self._models.answer.classes
        self._class_entry = tuple(by_step.get(c.removesuffix(CALM_TWIN)) for c in classes)
        # urgent weight: a crisis step's own class, not its calm twin
        self._crisis_classes = np.array([e is not None and e.crisis and not c.endswith(CALM_TWIN)
                                         for c, e in zip(classes, self._class_entry, strict=True)])
        # a twin's probability is its step's when answering: (twin, step) class pairs
        self._twins = tuple((n, classes.index(c.removesuffix(CALM_TWIN)))
                            for n, c in enumerate(classes)
                            if c.endswith(CALM_TWIN) and c.removesuffix(CALM_TWIN) in classes)
        self._step_classes = np.array([e is not None for e in self._class_entry])
        self._topic_classes = {
            topic: np.array([e is not None and topic in e.topics for e in self._class_entry])
            for topic in self._crisis_by_topic}
        self._kin = np.array([[a is not None and b is not None
                               and bool(set(a.topics) & set(b.topics))
                               for b in self._class_entry] for a in self._class_entry])
        # urgent rules first, each kind in the file's order: the first that fires decides
        self._rules = tuple(sorted((r for r in examples.rules
                                    if r.topics & self.topics and not r.calm),
                                   key=lambda r: not r.urgent))
        self._calm_rules = tuple(r for r in examples.rules if r.calm)
        self._human = next((e.step for e in self._entries if "human" in e.topics
                            and not e.crisis), None)
        return self

    @property
    def entries(self) -> tuple[Entry, ...]:
        return self._entries

    @property
    def topics(self) -> frozenset[str]:
        return frozenset(t for e in self._entries for t in e.topics)

    # -- matching --------------------------------------------------------------------

    def _fired(self, rules: Iterable[Rule], text: str, reading: Reading | None) -> Rule | None:
        """The first of the rules whose pattern her text matches: in its spelling skeletons
        (Russian, Ukrainian and their transliterations) or as plain text (English)."""
        reading = reading or self._reader.read(text)
        plain = clean(text)
        return next((r for r in rules if any(r.skeleton.fire(ln) for ln in reading.lines)
                     or r.english.fire(plain)), None)

    def safety_net(self, text: str, reading: Reading | None = None) -> Rule | None:
        """The first safety-net rule her text fires, urgent rules first."""
        return self._fired(self._rules, text, reading)

    def asked_calmly(self, text: str, reading: Reading | None = None) -> bool:
        """Does her text say it is asked ahead of time ("хочу знать заранее", "just in
        case")? Then the models alone cannot make it a crisis; a safety-net rule still can."""
        return self._fired(self._calm_rules, text, reading) is not None

    def match(self, text: str) -> Match:
        """Find the step that answers her text: crisis first, then the best answer."""
        if _LONE_COMMAND.fullmatch(text.strip()):
            # A lone bot command ("/start_vip") is not a question: the adapters send known
            # ones to the engine as commands, and any other opens the menu, never a topic.
            return Match(None, 0.0, False, ())
        memo: dict[str, Any] = {}  # her words read once per message, then forgotten
        reading = self._reader.read(text, memo)
        space, answer, urgent_model = self._models.space, self._models.answer, self._models.urgent
        vector = space.vector_of(reading)
        whole = answer.probabilities(vector)
        rule = self.safety_net(text, reading)
        urgency = 0.0
        if urgent_model is not None and self._crisis_by_topic:
            urgency = float(urgent_model.probabilities(vector)[1])
        # A sentence of a story is urgent only on the urgency model's own word (URGENT_SURE),
        # and is read only when the whole story is neither plainly calm (SENTENCES_FROM) nor
        # already urgent: reading each sentence again is most of a long message's cost.
        sentences: list[model.Vector] = []
        if (urgent_model is not None and len(text) >= SPLIT_FROM
                and urgency >= urgent_model.threshold * SENTENCES_FROM
                and not (urgency >= URGENT_SURE or (rule is not None and rule.urgent))):
            parts = [s for s in _SENTENCE_END.split(text) if len(s.split()) >= 2]
            if len(parts) > 1:
                sentences = space.vectors_of([self._reader.read(part, memo) for part in parts])
        told = [float(urgent_model.probabilities(v)[1]) for v in sentences] if urgent_model else []
        # a sentence is urgent when both models say so: its urgency, and the answer model's
        # weight on crisis steps for it (see SENTENCE_SHARE). Its answer probabilities are
        # worked out here only for a sentence that may be urgent, and kept for below.
        heard = [answer.probabilities(v) if u >= URGENT_SURE else None
                 for u, v in zip(told, sentences, strict=True)]
        sure = any(p is not None and float(p[self._crisis_classes].sum()) >= SENTENCE_SHARE
                   for p in heard)
        urgent = (rule is not None and rule.urgent) or (
            (self._urgent(urgency, whole) or sure)
            and not self.asked_calmly(text, reading))
        # which crisis step, or which step of the rule's topic: any sentence may tell
        every = [whole]
        if urgent or rule is not None:
            every += [answer.probabilities(v) if p is None else p
                      for p, v in zip(heard, sentences, strict=True)]
        if urgent and self._crisis_by_topic:
            return Match(self._crisis_step(every, rule), max(urgency, *told, 0.5), True, ())
        if rule is not None:  # not urgent, but the topic is decided: its best step
            step = self._best_of(every, lambda e: bool(rule.topics & set(e.topics))
                                 and not e.crisis) or self._best_of(
                every, lambda e: bool(rule.topics & set(e.topics)))
            if step is not None:
                return Match(step, 1.0, False, ())
        return self._answer(whole)

    def _urgent(self, urgency: float, p: np.ndarray) -> bool:
        """The models' word on the urgency of the whole message (see URGENT_SURE,
        URGENT_ALONE, CRISIS_SHARE and CALM_SURE)."""
        if self._models.urgent is None or urgency < self._models.urgent.threshold:
            return False
        top, top_p = self._top(p)
        if top_p >= CALM_SURE and not self._crisis_classes[top] and urgency < URGENT_SURE:
            return False
        if urgency >= URGENT_SURE:
            return True
        share = float(p[self._crisis_classes].sum())
        # "домашка, помогите" is a cry for help with homework, "an overdose of coffee lol" a
        # joke: where the answer model's best guess is NOT_OURS, only URGENT_SURE is urgent
        not_ours = self._class_entry[int(np.argmax(p))] is None
        if urgency >= URGENT_ALONE:
            return share >= ALONE_SHARE and not not_ours
        return not not_ours and share >= CRISIS_SHARE

    def _best_of(self, probabilities: Sequence[np.ndarray], accept: Any) -> str | None:
        best, best_p = None, -1.0
        for p in probabilities:
            for n, entry in enumerate(self._class_entry):
                if entry is not None and accept(entry) and p[n] > best_p:
                    best, best_p = entry.step, float(p[n])
        return best

    def _crisis_step(self, probabilities: Sequence[np.ndarray], rule: Rule | None) -> str:
        """The crisis step for an urgent message: the rule's topic, else the model's best."""
        if rule is not None:
            wanted = {s for t in rule.topics for s in self._crisis_by_topic.get(t, ())}
            step = self._best_of(probabilities, lambda e: e.step in wanted)
            if step is not None:
                return step
        # The topic first, by the weight of all its steps: a swollen hot arm and a fever
        # after a shot is the wounds topic (its calm steps 0.51, sepsis 0.14), not the
        # overheating on stimulants (0.34) that one crisis step alone would pick.
        topic, mass = None, -1.0
        for p in probabilities:
            for name, rows in self._topic_classes.items():
                weight = float(p[rows].sum())
                if weight > mass:
                    topic, mass = name, weight
        wanted = set(self._crisis_by_topic.get(topic, ())) if topic else set()
        step = self._best_of(probabilities, lambda e: e.step in wanted)
        if step is None:
            step = self._best_of(probabilities, lambda e: e.crisis)
        if step is None:  # the answer model knows no crisis step: the first one
            step = next(s for steps in self._crisis_by_topic.values() for s in steps)
        return step

    def _answer(self, p: np.ndarray) -> Match:
        """The answer to the whole message, in the band its confidence falls in.

        The whole message, not its surest sentence: a short sentence of a story ("Как
        правильно?", "Is she right?") has few features, and the model can be sure of it for
        no reason. The stories in the content's `ask` phrases teach the model to find the
        question inside a long message.
        """
        if self._twins:  # a calm twin answers with its crisis step
            p = p.copy()
            for twin, step in self._twins:
                p[step] += p[twin]
                p[twin] = 0.0
        ranked = [int(n) for n in np.argsort(-p)]
        steps = [n for n in ranked if self._class_entry[n] is not None]
        if not steps:
            return Match(None, 0.0, False, ())
        best = steps[0]
        score = float(p[best])
        entry = self._class_entry[best]
        assert entry is not None
        not_ours = float(p[ranked[0]]) if self._class_entry[ranked[0]] is None else 0.0
        # Runners-up the model gives some weight ("or maybe ..."), even beside a sure answer:
        # a wrong sure answer then still shows her the right one as a button.
        others = tuple(
            e.step for n in steps[1:MAX_SUGGESTIONS + 1]
            if (e := self._class_entry[n]) is not None and p[n] >= RUNNER_UP
            and not set(e.topics) & set(entry.topics)
        )
        if not_ours > score + NOT_OURS_MARGIN:  # the model says: not one of our questions
            if score >= FAIR:  # but a step has weight: "did you mean", never an answer
                return Match(None, score, False, (entry.step, *others)[:MAX_SUGGESTIONS])
            return Match(None, score, False, ())
        # Several steps answer one topic (staying on OST in pregnancy: why, the dose, the
        # birth, the fear): unsure which of them, the model may still be sure of the topic.
        if score >= FAIR or float(p[self._kin[best]].sum()) >= FAIR_TOPIC:
            return Match(entry.step, score, False, others[:MAX_SUGGESTIONS - 1],
                         human=entry.step == self._human)
        if score >= SUGGEST:
            return Match(None, score, False, (entry.step, *others)[:MAX_SUGGESTIONS])
        return Match(None, score, False, ())

    def _top(self, p: np.ndarray) -> tuple[int, float]:
        """The best step (not NOT_OURS) and its probability; (-1, -1.0) if there is none."""
        if not self._step_classes.any():
            return -1, -1.0
        steps_only = np.where(self._step_classes, p, -1.0)
        best = int(np.argmax(steps_only))
        return best, float(steps_only[best])
