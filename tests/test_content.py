"""The shipped answers: every topic in every language, sourced, dated, short, and kind."""

from __future__ import annotations

import re

import pytest

from bot.content.extract import BUTTON_CONTEXT
from bot.limits import ANSWER_CHARS_TARGET
from bot.vocabulary import LANGS

# Words that label or shame a woman. Matched on word starts, case-insensitively, in every
# shipped string of every language (CONTENT.md §2).
STIGMA = {
    "en": [r"addict", r"junkie", r"drug abuser", r"\bclean\b", r"\bdirty\b", r"prostitute",
           r"hiv-infected", r"relapsed"],
    "ru": [r"наркоман", r"нарик", r"наркозависим", r"\bчист(ая|ой|ую|ые)\b", r"\bгрязн",
           r"вич-инфицированн", r"спидозн", r"проститутк", r"сорвал", r"кукушк",
           r"отказниц", r"ребен\w* ?-?наркоман"],
    "uk": [r"наркоман", r"нарик", r"наркозалежн", r"\bчист(а|ої|у|і)\b", r"\bбрудн",
           r"віл-інфікован", r"снідозн", r"пові[яїю]", r"зірвал"],
}


def _variants(world):  # type: ignore[no-untyped-def]
    for step in world.flows.steps.values():
        for variant in step.say:
            yield step, variant


def _shown(world, lang: str):  # type: ignore[no-untyped-def]
    """Every string a woman can see in this language, from flows and code."""
    tr = world.tr(lang)
    for step, variant in _variants(world):
        yield step.id, tr.pgettext(step.id, variant.text)
        for button in step.buttons:
            yield step.id, tr.pgettext(BUTTON_CONTEXT, button.label)
    for entry in world.catalogs.entries[lang].values():
        for string in entry.strings:
            yield f"{entry.path}:{entry.line}", string


@pytest.mark.parametrize("lang", LANGS)
def test_every_topic_is_answered_in_every_language(world, lang: str) -> None:
    tr = world.tr(lang)
    answered = set()
    for step in world.flows.answers():
        texts = [tr.pgettext(step.id, v.text) for v in step.say]
        if lang != "en" and any(t == v.text for t, v in zip(texts, step.say, strict=True)):
            continue  # not translated: does not count
        if all(t.strip() for t in texts):
            answered.update(step.topics)
    missing = set(world.flows.topics) - answered
    assert not missing, f"{lang}: no answer for {sorted(missing)}"


@pytest.mark.parametrize("lang", LANGS)
def test_every_answer_fits_a_small_screen(world, lang: str) -> None:
    tr = world.tr(lang)
    too_long = [(s.id, len(tr.pgettext(s.id, v.text))) for s, v in _variants(world)
                if len(tr.pgettext(s.id, v.text)) > ANSWER_CHARS_TARGET]
    assert too_long == []


def test_every_answer_has_sources_and_a_review_date(world) -> None:
    for step in world.flows.answers():
        if step.is_conversation:
            continue  # "hello", "thanks": no facts, nothing to source
        assert step.sources and step.reviewed is not None, step.id
        for source in step.sources:
            assert source in world.flows.sources, (step.id, source)


def test_every_answer_can_be_asked_for_in_every_language(world) -> None:
    for step in world.flows.answers():
        for lang in LANGS:
            assert len(step.ask.get(lang, ())) >= 3, (step.id, lang)


@pytest.mark.parametrize("lang", LANGS)
def test_no_stigmatising_words_in_anything_shipped(world, lang: str) -> None:
    patterns = [re.compile(p, re.IGNORECASE) for p in STIGMA["en"] + STIGMA[lang]]
    found = [(where, p.pattern, text[:60]) for where, text in _shown(world, lang)
             for p in patterns if p.search(text)]
    assert found == []


def test_stigma_list_catches_what_it_should() -> None:
    samples = {"ru": "Она наркоманка и сорвалась", "uk": "Вона повія і наркозалежна",
               "en": "She is an addict, not clean"}
    for lang, sample in samples.items():
        assert any(re.search(p, sample, re.IGNORECASE) for p in STIGMA[lang] + STIGMA["en"])


@pytest.mark.parametrize("country", ["UA", "RU", "XX"])
def test_ost_in_pregnancy_never_says_stop(world, country: str) -> None:
    """The core answer: for every country and language, it tells her to keep taking OST."""
    step = world.flows.steps["ost.pregnancy"]
    variant = step.text_for(country, "en", True)
    assert re.search(r"(don.t|do not|never) stop|keep taking|stay on|not stop", variant.text,
                     re.IGNORECASE), variant.text


def test_crisis_answers_start_with_the_action(world) -> None:
    for step_id in ("crisis.overdose", "crisis.violence", "crisis.assault"):
        for variant in world.flows.steps[step_id].say:
            first = variant.text.splitlines()[0].lower()
            assert re.search(r"call|1\.|go |safe|shout|if you", first), (step_id, first)


def test_every_top_level_flow_is_in_the_main_menu(world) -> None:
    menu = {b.go for b in world.flows.steps["main.menu"].buttons}
    typed_only = {s.flow for s in world.flows.steps.values()
                  if s.is_conversation}
    for flow in world.flows.flows:
        if flow != "main" and flow not in typed_only:
            assert f"{flow}.start" in menu, flow
