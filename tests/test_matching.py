"""Tests of bot.matching and `podruga ask`: the front end piece by piece, then the matcher
on the shipped content, with messages written for these tests (never copied into `ask`
phrases or examples: a test that the model was trained on would prove nothing)."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from bot.matching import Entry, Examples, Index, Match
from bot.matching.index import OTHER, RUNNER_UP, shipped_examples
from bot.matching.layout import cyrillic_to_latin, latin_to_cyrillic
from bot.matching.normalise import clean
from bot.matching.reader import Reader, _is_stop
from bot.matching.translit import skeleton, to_cyrillic

DATA = Path(__file__).resolve().parent.parent / "bot" / "matching" / "data"


@pytest.fixture(scope="module")
def index(world: Any) -> Index:
    return world.index


def topics_of(world: Any, step: str | None) -> tuple[str, ...]:
    return tuple(world.flows.steps[step].topics) if step in world.flows.steps else ()


# -- the pieces --------------------------------------------------------------------------


def test_clean_folds_case_apostrophes_and_emphasis() -> None:
    assert clean("ПОЖААААЛУЙСТА") == "пожалуйста"
    assert clean("п’ю") == clean("п'ю") == clean("пʼю") == clean("п`ю") == "пю"


def test_skeleton_merges_letters_the_languages_disagree_on() -> None:
    assert skeleton("ёлка") == skeleton("елка")
    assert (
        skeleton("вагітність") == skeleton("вагитнисть") == skeleton("вагiтнiсть".replace("i", "і"))
    )
    assert skeleton("їжа") == skeleton("ижа")
    assert skeleton("быть") == skeleton("бить")
    assert skeleton("єдність") == skeleton("едность"[:2] + "ність")


@pytest.mark.parametrize(
    ("latin", "cyrillic"),
    [
        ("zhenshchina", "женщина"),
        ("jenwina", "женшина"),
        ("4to", "что"),
        ("beremennost", "беременност"),
        ("yabloko", "яблоко"),
        ("iabloko", "яблоко"),
        ("jabloko", "яблоко"),
        ("khorosho", "хорошо"),
        ("xorosho", "хорошо"),
    ],
)
def test_transliteration_schemes_meet_in_the_skeleton(latin: str, cyrillic: str) -> None:
    readings = {skeleton(to_cyrillic(latin)), skeleton(to_cyrillic(latin, j_as_zh=True))}
    assert skeleton(cyrillic) in readings


def _greedy(word: str, table: dict[str, str]) -> str:
    """The transliteration as its table reads: at each position the longest key."""
    out, i = [], 0
    while i < len(word):
        size = next((n for n in (4, 3, 2, 1) if word[i:i + n] in table), 0)
        out.append(table[word[i:i + size]] if size else word[i])
        i += size or 1
    return "".join(out)


def test_transliteration_reads_the_longest_letter_group_first() -> None:
    from bot.matching.translit import _J_AS_ZH, _LATIN_TO_CYR

    zh_table = {**_LATIN_TO_CYR, **_J_AS_ZH}
    samples = ["zhenshchina", "shchastya", "iiulia", "tsvetok", "ksh", "yajo", "4tob6", "jiji",
               "podskazhite", "schastie", "vagitna", "beremennaja", "kiiv", "x3", "tszh"]
    letters = "abcdefghijklmnopqrstuvwxyz436"
    samples += ["".join(letters[(i * 7 + j * 13) % len(letters)] for j in range(2 + i % 9))
                for i in range(400)]
    for word in samples:
        assert to_cyrillic(word) == _greedy(word, _LATIN_TO_CYR), word
        assert to_cyrillic(word, j_as_zh=True) == _greedy(word, zh_table), word


def test_function_words_in_latin_letters_are_function_words() -> None:
    assert all(_is_stop(w) for w in ("chy", "tse", "shcho", "4to", "kak", "ili"))
    assert not any(_is_stop(w) for w in ("metadon", "zpt", "vagitna"))
    assert not _is_stop("no", translit=False)  # English content keeps its own words


def test_apostrophes_are_dropped_except_for_the_layout_reader() -> None:
    assert clean("М’ята п'ю") == "мята пю"
    assert clean("М’ята пʼю", keep_apostrophes=True) == "м'ята п'ю"
    assert latin_to_cyrillic(clean("Jg`rf", keep_apostrophes=True)) == "опэка"


def test_keyboard_layout_both_ways() -> None:
    assert latin_to_cyrillic("ghbdtn") == "привет"
    assert latin_to_cyrillic(",thtvtyyjcnm") == "беременность"
    assert cyrillic_to_latin("ьуерфвщту") == "methadone"


def test_a_short_word_is_not_read_as_a_longer_one(index: Index) -> None:
    # "уметь" (to know how) is two letters from "умереть" (to die); a slip is one letter
    read = index._reader.read
    assert not any(key.startswith("umer") for token in read("хочу уметь").tokens
                   for key in token)
    assert any("beremen" in token for token in read("бременость").tokens)  # two slips


def test_a_word_among_layout_slips_is_read_as_one_too(index: Index) -> None:
    # "ghb" is GHB in English, but "при" on the wrong layout, as its neighbours are
    read = index._reader.read
    slipped = read("ljpf vtnfljyf ghb ,thtvtyyjcnb")  # доза метадона при беременности
    assert [sorted(t)[0] for t in slipped.tokens] == ["doz", "metadon", "beremen"]
    assert "ghb" not in slipped.lines[0]  # nor in the line its letters spell
    assert any("ghb" in t for t in read("GHB and meth").tokens)


# -- answers: each robustness item -----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        # plain, three languages
        ("чи можна лишатися на метадоні коли вагітна", "ost_pregnancy"),
        ("можно ли оставаться на метадоне беременной", "ost_pregnancy"),
        ("can i keep taking methadone now that i'm pregnant", "ost_pregnancy"),
        # case and ё/е, і/и folding
        ("МОЖНО ЛИ ОСТАВАТЬСЯ НА МЕТАДОНЕ БЕРЕМЕННОЙ", "ost_pregnancy"),
        # repeated letters and misspellings
        ("беременнаааа на метадооонее можно?", "ost_pregnancy"),
        ("где здать тэст на вич бесплатна", "hiv_test_where"),
        # transliteration, several schemes
        ("mozhno li ostavatsya na metadone beremennoy", "ost_pregnancy"),
        ("de bezkoshtovno zdaty test na vil", "hiv_test_where"),
        ("gde sdat' test na vi4 anonimno", "hiv_test_where"),
        # keyboard layout slip: где сдать тест на вич
        ("ult clfnm ntcn yf dbx", "hiv_test_where"),
        # slang and abbreviations
        ("хочу поступово зіскочити з бупри", "ost_what"),
        ("менты загребли на улице, что мне можно не подписывать", "rights_police"),
        # surzhyk
        ("шо таке замісна терапія і як вона робить", "ost_what"),
        # the core group: mothers on OST
        ("i am pregnant and on methadone, should i stop", "ost_pregnancy"),
        ("using heroin and just found out im pregnant", "preg_using"),
    ],
)
def test_answers(world: Any, index: Index, text: str, topic: str) -> None:
    match = index.match(text)
    assert topic in topics_of(world, match.step), match
    assert not match.crisis


def test_a_sure_answer_comes_alone(index: Index) -> None:
    match = index.match("чи можна лишатися на метадоні коли вагітна")
    assert match.score >= 0.9 and match.suggestions == ()


def test_a_runner_up_with_weight_is_offered_beside_a_sure_answer(index: Index) -> None:
    classes = index._models.answer.classes
    p = np.full(len(classes), 0.0)
    p[classes.index("ost.pregnancy")] = 0.7
    p[classes.index("rights.children")] = 0.2  # another topic, with weight: "or maybe"
    p[classes.index("ost.breastfeeding")] = RUNNER_UP / 2  # too little weight
    p[classes.index("testing.hcv")] = 0.1 - RUNNER_UP / 2
    match = index._answer(p)
    assert match.step == "ost.pregnancy"
    assert match.suggestions == ("rights.children", "testing.hcv")


def test_unsure_of_the_step_but_sure_of_the_topic_is_an_answer(index: Index) -> None:
    classes = index._models.answer.classes
    p = np.full(len(classes), 0.0)
    p[classes.index("ost.pregnancy")] = 0.16  # below FAIR on its own
    p[classes.index("ost.preg_dose")] = 0.1  # the same topic: 0.26 together
    p[classes.index("testing.hcv")] = 0.14
    p[classes.index("_not_ours")] = 0.1
    match = index._answer(p)
    assert match.step == "ost.pregnancy" and match.suggestions == ("testing.hcv",)
    p[classes.index("ost.preg_dose")] = 0.05  # 0.21 together: "did you mean"
    assert index._answer(p).step is None


def test_not_ours_never_answers_but_may_ask_did_you_mean(index: Index) -> None:
    classes = index._models.answer.classes
    p = np.full(len(classes), 0.0)
    p[classes.index("_not_ours")] = 0.55
    p[classes.index("prevention.pep")] = 0.3
    p[classes.index("testing.hcv")] = 0.15
    assert index._answer(p) == Match(None, 0.3, False, ("prevention.pep", "testing.hcv"))
    p[classes.index("_not_ours")], p[classes.index("prevention.pep")] = 0.7, 0.15
    assert index._answer(p) == Match(None, 0.15, False, ())


def test_a_long_story_is_answered_on_its_question(world: Any, index: Index) -> None:
    story = ("Мне 30, я на метадоне уже четыре года, всё стабильно, работаю. Родила три "
             "недели назад, малыш в порядке. Можно ли мне кормить его грудью?")
    assert "ost_breastfeeding" in topics_of(world, index.match(story).step)


# -- not ours, and small talk --------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["как приготовить борщ", "how much is bitcoin today", "/foo", "asdfgh qwerty", "",
     "   ", "!!!", "погода завтра во львове", "🙃🙃🙃", "https://t.me/somechannel", "4815",
     "ты мне надоел, глупая программа", "/unknown_command", "/start_vip",
     "/ost_info@podruga_bot"],
)
def test_what_is_not_ours_gets_no_answer(index: Index, text: str) -> None:
    match = index.match(text)
    assert match.step is None and not match.crisis, match


@pytest.mark.parametrize("text", ["/помогите он не дышит", "/sos she is not breathing"])
def test_a_slash_does_not_hide_a_crisis(index: Index, text: str) -> None:
    # Only a lone command is declined unread; words after a slash are her message.
    assert index.match(text).crisis


@pytest.mark.parametrize(
    "text",
    ["спасибо большое", "дякую вам", "ок", "who are you", "ты бот?", "привіт", "bye!",
     "are you there"],
)
def test_small_talk_is_answered_as_small_talk(world: Any, index: Index, text: str) -> None:
    match = index.match(text)
    assert topics_of(world, match.step) == ("smalltalk",), match


# -- crisis ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ("подруга не дихає після дози", "overdose"),
        ("ona ne dyshit, chto delat", "overdose"),
        ("my friend is turning blue and won't wake up", "overdose"),
        ("ПЕРЕДОЗ!!! ПОМОГИТЕ", "overdose"),
        ("чоловік б'є мене зараз, я замкнулась у ванній", "violence"),
        ("he is hitting me and says he will kill me", "violence"),
        ("меня изнасиловали этой ночью", "assault"),
        ("срочно вызовите скорую", "emergency_numbers"),
    ],
)
def test_urgent_messages_reach_their_crisis_step_flagged(
    world: Any, index: Index, text: str, topic: str
) -> None:
    match = index.match(text)
    assert match.crisis and match.suggestions == (), match
    assert topic in topics_of(world, match.step), match


@pytest.mark.parametrize(
    "text",
    [
        "как не передознуться после перерыва",
        "де купити налоксон про запас",
        "what are the signs of an overdose",
        "у меня умерла кошка",
        "какой номер скорой в Казахстане",
        "як скласти план безпеки, якщо чоловік п'є",
    ],
)
def test_calm_questions_are_not_crises(index: Index, text: str) -> None:
    assert not index.match(text).crisis


# The crisis paths added after the medical review (issue 15), in messages written for
# these tests: urgent ones reach their crisis step flagged, calm ones their calm step.
NEW_URGENT = [
    ("у мене в руці вся пачка снодійного, я більше не витримаю", "self_harm"),
    ("я на мосту і вже все вирішила", "self_harm"),
    ("сегодня ночью я всё закончу, таблетки уже рядом", "self_harm"),
    ("i took a whole bottle of sleeping pills to end it", "self_harm"),
    ("він не дихає і тільки хрипить, як качати серце", "cpr"),
    ("она не дышит, как правильно давить на грудь", "cpr"),
    ("how many chest compressions before breaths, he stopped breathing", "cpr"),
    ("малий випив мій метадон зі склянки, але наче веселий", "child_dose"),
    ("дочь проглотила таблетку бупренорфина полчаса назад, вроде в порядке", "child_dose"),
    ("my toddler drank from my methadone bottle, he seems fine", "child_dose"),
    ("після мефу вся горить і плутається, температура під сорок", "stimulant_emergency"),
    ("він на солі вже три доби, кидається з ножем і каже що за ним стежать",
     "stimulant_emergency"),
    ("после амфетамина давит в груди и немеет левая рука", "stimulant_emergency"),
    ("у подруги судороги после альфы, пена изо рта", "stimulant_emergency"),
    ("took too much speed and my heart is pounding, chest hurts", "stimulant_emergency"),
    ("she's on meth, burning hot and confused", "stimulant_emergency"),
]
NEW_CALM = [
    ("иногда режу бедра лезвием, когда накатывает, это нормально?", "self_harm"),
    ("i scratch my arms till they bleed when i'm stressed, is that normal", "self_harm"),
    ("куди сховати дози метадону щоб діти не знайшли", "child_dose"),
    ("как хранить бупренорфин дома, если дети маленькие", "child_dose"),
    ("GHB and alcohol together, how dangerous is it", "stimulant_emergency"),
]


@pytest.mark.parametrize(("text", "topic"), NEW_URGENT)
def test_new_crisis_paths_are_reached_flagged(world: Any, index: Index, text: str,
                                              topic: str) -> None:
    match = index.match(text)
    assert match.crisis and match.suggestions == (), match
    assert topic in topics_of(world, match.step), match


@pytest.mark.parametrize(("text", "topic"), NEW_CALM)
def test_calm_questions_on_the_new_topics_get_their_calm_answer(world: Any, index: Index,
                                                                text: str, topic: str) -> None:
    match = index.match(text)
    assert not match.crisis and topic in topics_of(world, match.step), match


# The answers added for issue 19, asked in messages written for these tests.
NEW_TOPICS = [
    ("можно ли лирику вместе с метадоном, сильно рубит", "mixing"),
    ("is it dangerous to take xanax with my methadone", "mixing"),
    ("кажуть у місті фентаніл у героїні, як вберегтися", "contaminated_supply"),
    ("что такое нитазены и почему от них умирают", "contaminated_supply"),
    ("на руці після уколу гуля червона і гаряча, що це", "wounds"),
    ("нарыв на ноге после укола, болит и опухло", "wounds"),
    ("after shooting up my arm is swollen and red, what do i do", "wounds"),
    ("кинула бухати різко, трусить і бачу всяке, це небезпечно?", "withdrawal_danger"),
    ("бросила феназепам резко, трясёт, это опасно?", "withdrawal_danger"),
    ("через тиждень виходжу з колонії, що з дозою і ліками", "prison_release"),
    ("виїхала з Маріуполя, як продовжити ЗПТ в іншому місті", "displacement"),
    ("уехала в Польшу, как там получать метадон", "displacement"),
    ("хочу зробити аборт, до якого терміну можна і скільки коштує", "abortion"),
    ("где сделать аборт бесплатно и до какой недели можно", "abortion"),
    ("у пологовому кажуть візьмуть в дитини аналіз сечі на наркотики, вони мають право?",
     "newborn_tests"),
    ("will they test my newborn for drugs and call social services", "newborn_tests"),
    ("якщо вірусне навантаження невизначуване, чи можу я заразити партнера", "u_equals_u"),
    ("неопределяемая вирусная нагрузка значит не передаётся?", "u_equals_u"),
]


@pytest.mark.parametrize(("text", "topic"), NEW_TOPICS)
def test_the_new_topics_are_found_by_typed_questions(world: Any, index: Index, text: str,
                                                     topic: str) -> None:
    match = index.match(text)
    assert not match.crisis and topic in topics_of(world, match.step), match


# Bleeding, strong pain or early waters in pregnancy, often after using and with the fear of
# police or child services (session 10), in messages written for this test: the pregnancy
# crisis step, flagged, with nothing else.
PREGNANCY_EMERGENCY = [
    "вагітна, 22 тижні, кров ллється і живіт ріже, вчора вжила",
    "на 8 місяці, страшенно болить живіт і він твердий, кололась годину тому",
    "vagitna, bagato krovi, boyus sho zaberut dytynu",
    "беременна на бупре, кровь идёт сильно, прокладка насквозь",
    "беременна, кровотечение сильное, боюсь полицию",
    "33 weeks pregnant, shot up an hour ago, now lots of blood and cramping",
    "i'm pregnant and my water just broke, only 30 weeks, i used today",
]


@pytest.mark.parametrize("text", PREGNANCY_EMERGENCY)
def test_an_emergency_in_pregnancy_reaches_the_pregnancy_crisis_step(index: Index,
                                                                      text: str) -> None:
    match = index.match(text)
    assert match.crisis and match.suggestions == (), match
    assert match.step == "crisis.pregnancy_emergency", match


def test_these_test_messages_are_not_what_the_matcher_learned(world: Any) -> None:
    read = world.index._reader.read
    examples = shipped_examples()
    learned = {read(p).lines[0] for e in world.index.entries for ps in e.phrases.values()
               for p in ps}
    learned |= {read(t).lines[0] for t in examples.texts()}
    mine = [text for text, _ in NEW_URGENT + NEW_CALM + NEW_TOPICS] + PREGNANCY_EMERGENCY
    assert [t for t in mine if read(t).lines[0] in learned] == []


def test_safety_wins_over_another_intent(world: Any, index: Index) -> None:
    match = index.match("где сдать тест на вич, и еще подруга не дышит")
    assert match.crisis and "overdose" in topics_of(world, match.step)


@pytest.mark.parametrize(
    "story",
    ["Мій хлопець на метадоні і по суботах ще колеться. Мені страшно, що колись він не "
     "прокинеться. Де можна взяти налоксон, щоб був удома?",
     "My partner uses on weekends. I keep thinking one day he will not wake up. Where can I "
     "get naloxone to keep at home?"],
)
def test_a_fear_inside_a_story_is_not_a_crisis(world: Any, index: Index, story: str) -> None:
    match = index.match(story)
    first = match.step or match.suggestions[0]  # an answer, or the first "did you mean"
    assert not match.crisis and "overdose" in topics_of(world, first), match


@pytest.mark.parametrize(
    "story",
    ["Ми були на вечірці в друзів. Зараз хлопець лежить на підлозі, хрипить і не реагує на "
     "мене. Що мені робити?",
     "We were at a friend's place. Now my boyfriend is on the floor, snoring strangely and "
     "not answering me. What do I do?"],
)
def test_an_emergency_inside_a_story_is_a_crisis(world: Any, index: Index, story: str) -> None:
    match = index.match(story)
    assert match.crisis and "overdose" in topics_of(world, match.step), match


@pytest.mark.parametrize(
    ("story", "topic"),
    [("Condom broke with my boyfriend last night. After he told me he's positive. What can "
      "I take now?", "pep"),
     ("Мой сын лежал в реанимации, сейчас уже дома. Можно ли мне кормить грудью на "
      "метадоне?", "ost_breastfeeding")],
)
def test_a_sentence_that_only_sounds_urgent_does_not_make_a_story_a_crisis(
    world: Any, index: Index, story: str, topic: str
) -> None:
    # "he's positive" reads like "he's not breathing" to the urgency model alone, and "now
    # at home" like a beating at home; a sentence is urgent only when the answer model,
    # too, sees a crisis in it
    match = index.match(story)
    shown = ([match.step] if match.step else []) + list(match.suggestions)
    assert not match.crisis and any(topic in topics_of(world, s) for s in shown), match


def _rules() -> list[dict[str, Any]]:
    return yaml.safe_load((DATA / "safety_net.yaml").read_text(encoding="utf-8"))["rules"]


@pytest.mark.parametrize("rule", _rules(), ids=lambda r: "+".join(r.get("topics") or ["calm"]))
def test_every_safety_net_rule_fires_and_holds_back_as_its_examples_say(
    index: Index, rule: dict[str, Any]
) -> None:
    assert rule["must_fire"] and rule["must_not_fire"], "every rule needs both kinds"
    if rule.get("calm"):  # asked ahead of time: overrules the models' urgency only
        assert [t for t in rule["must_fire"] if not index.asked_calmly(t)] == []
        assert [t for t in rule["must_not_fire"] if index.asked_calmly(t)] == []
        return
    # a rule is known by its topics and whether it is urgent: self-harm has two, an urgent
    # one (intent with the means at hand) and one that only fixes the topic
    this = (frozenset(rule["topics"]), bool(rule.get("urgent")))
    for text in rule["must_fire"]:
        fired = index.safety_net(text)
        assert fired is not None and (fired.topics, fired.urgent) == this, text
    for text in rule["must_not_fire"]:
        fired = index.safety_net(text)
        assert fired is None or (fired.topics, fired.urgent) != this, text


def test_shared_words_are_all_used_and_an_unknown_one_is_an_error() -> None:
    from bot.matching.index import _with_words

    net = (DATA / "safety_net.yaml").read_text(encoding="utf-8")
    words = yaml.safe_load(net)["words"]
    assert all(net.count("{{" + name + "}}") >= 2 for name in words), "a shared part is shared"
    assert _with_words(["a {{x}} b"], {"x": "y|z"}) == ["a y|z b"]
    with pytest.raises(ValueError, match="nope"):
        _with_words(["(?=.*{{nope}})"], words)


def test_the_examples_and_the_rules_are_few_and_in_data_files() -> None:
    examples = yaml.safe_load((DATA / "crisis_examples.yaml").read_text(encoding="utf-8"))
    assert set(examples) == {"urgent", "calm"}
    assert len(_rules()) <= 10


def test_every_calm_example_names_a_step_of_ours_or_other(world: Any) -> None:
    # a misspelt step would quietly teach the urgency model only
    named = set(shipped_examples().calm) - {OTHER}
    assert named <= {e.step for e in world.index.entries}


def test_every_urgent_example_names_a_crisis_topic_or_step(world: Any) -> None:
    # a misspelt key would teach nothing at all
    crisis = [e for e in world.index.entries if e.crisis]
    keys = {t for e in crisis for t in e.topics} | {e.step for e in crisis}
    assert set(shipped_examples().urgent) <= keys


def test_an_urgent_example_under_a_crisis_step_teaches_that_step() -> None:
    cpr = Entry("crisis.cpr", ("cpr",), {"ru": ("не дышит, давлю на грудь, что дальше",)},
                crisis=True)
    baby = Entry("crisis.cpr_baby", ("cpr",), {"ru": ("грудничок не дышит",)}, crisis=True)
    examples = Examples(urgent={"crisis.cpr_baby": ("малыш посинел и не дышит",
                                                    "младенец не дышит что делать"),
                                "cpr": ("он не дышит, сердце не бьётся",)})
    toy = Index.build((*TOY, cpr, baby), examples)
    match = toy.match("малыш посинел, не дышит")
    assert match.crisis and match.step == "crisis.cpr_baby", match


# -- training and the cache ----------------------------------------------------------------

TOY = (
    Entry("ost.what", ("ost_what",), {"ru": ("что такое метадон", "как работает зпт"),
                                      "en": ("what is methadone",)}),
    Entry("testing.hiv", ("hiv_test_where",), {"ru": ("где сдать тест на вич",),
                                               "en": ("where to get an hiv test",)}),
)


def test_without_crisis_steps_nothing_is_a_crisis() -> None:
    toy = Index.build(TOY, Examples(not_ours=("рецепт борща",)))
    assert not toy.match("передоз, не дышит").crisis
    assert toy.match("где тест на вич").step == "testing.hiv"


def test_a_calm_example_of_a_crisis_step_teaches_its_calm_twin() -> None:
    cpr = Entry("crisis.cpr", ("cpr",), {"ru": ("не дышит, давлю на грудь, что дальше",
                                               "сердце остановилось что делать")}, crisis=True)
    examples = Examples(calm={"crisis.cpr": ("как делают массаж сердца, учусь на курсах",),
                              "testing.hiv": ("меня изнасиловали давно, где сдать на вич",),
                              "other": ("кошка не ест третий день",)})
    toy = Index.build((*TOY, cpr), examples)
    classes = toy._models.answer.classes
    assert set(classes) == {"ost.what", "testing.hiv", "crisis.cpr", "crisis.cpr~calm"}
    p = np.zeros(len(classes))
    p[classes.index("crisis.cpr~calm")], p[classes.index("crisis.cpr")] = 0.5, 0.2
    p[classes.index("ost.what")] = 0.3
    # she gets the step the twin stands for, as a calm answer...
    assert toy._answer(p) == Match("crisis.cpr", pytest.approx(0.7), False, ("ost.what",))
    # ...and only the step's own class is crisis weight for urgency
    assert float(p[toy._crisis_classes].sum()) == pytest.approx(0.2)


def test_an_urgent_message_gets_the_crisis_step_of_the_topic_it_weighs_most() -> None:
    # a hot swollen arm and a fever after a shot: the model's weight is mostly on the wounds
    # topic (its calm step and its crisis step), though one crisis step of another topic
    # (overheating on stimulants) outweighs the wounds topic's own crisis step
    sepsis = Entry("crisis.sepsis_now", ("wounds",),
                   {"ru": ("после укола температура сорок и рука горит",)}, crisis=True)
    wounds = Entry("saferuse.wounds", ("wounds",), {"ru": ("рука опухла после укола",)})
    heat = Entry("crisis.stim_heat", ("stimulant_emergency",),
                 {"ru": ("после мефа вся горит и перегрелась",)}, crisis=True)
    toy = Index.build((*TOY, sepsis, wounds, heat), Examples())
    classes = toy._models.answer.classes
    p = np.zeros(len(classes))
    p[classes.index("saferuse.wounds")] = 0.5
    p[classes.index("crisis.stim_heat")] = 0.35
    p[classes.index("crisis.sepsis_now")] = 0.15
    assert toy._crisis_step([p], None) == "crisis.sepsis_now"
    # with the weight on overheating, overheating it is
    p[classes.index("saferuse.wounds")] = 0.1
    assert toy._crisis_step([p], None) == "crisis.stim_heat"


def test_a_cached_model_answers_as_the_trained_one(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.matching import model

    monkeypatch.setenv("PODRUGA_CACHE", str(tmp_path))
    examples = Examples(not_ours=("рецепт борща", "погода завтра"))
    model._memo.clear()
    trained = Index.build(TOY, examples)
    assert len(list(tmp_path.glob("matcher-*.npz"))) == 1
    model._memo.clear()
    # a start with cached models reads no phrase: the reader comes back from the cache too
    monkeypatch.setattr(Reader, "build", classmethod(lambda cls, texts: pytest.fail("read")))
    cached = Index.build(TOY, examples)
    for text in ("что такое метадон", "где тест на вич", "погода", "metadon", "vich test"):
        assert trained.match(text) == cached.match(text)


def test_models_trained_at_build_time_are_read_from_a_second_folder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    from bot.matching import model

    built, running = tmp_path / "built", tmp_path / "running"
    monkeypatch.setenv("PODRUGA_CACHE", str(built))  # `podruga check` while the image builds
    model._memo.clear()
    trained = Index.build(TOY, Examples())
    monkeypatch.setenv("PODRUGA_CACHE", f"{running}{os.pathsep}{built}")  # the bot at start
    model._memo.clear()
    monkeypatch.setattr(model, "train_answer", lambda *args: pytest.fail("trained again"))
    started = Index.build(TOY, Examples())
    assert started.match("что такое метадон") == trained.match("что такое метадон")
    assert not running.exists()  # found, so nothing was written


def test_an_unwritable_cache_costs_only_time(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.matching import model

    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    monkeypatch.setenv("PODRUGA_CACHE", str(blocked))
    model._memo.clear()
    assert Index.build(TOY, Examples()).match("что такое метадон").step == "ost.what"


def test_her_vector_found_by_number_is_the_vector_the_models_were_trained_on(
        index: Index) -> None:
    """FeatureSpace.vector_of (numpy n-gram codes, the query path) gives the vector of
    features(...), the dict the training texts are read into: alone and in a batch."""
    from bot.matching import model

    space, read = index._models.space, index._reader.read
    phrases = [p for e in index.entries for ps in e.phrases.values() for p in ps][::25]
    odd = ["", "?", "ok", "🙏🙏🙏", "a" * 300, "ghbdtn vtnfljy ,thtvtyyjcnb", "Ёжик ґанок їжак",
           "he said… I can't. Не дышит!!! 103", "x\ty\nz", "метадон и beer?? 80mg"]
    texts = phrases + odd
    readings = [read(t) for t in texts]
    for batch in ([r] for r in readings), [readings[i:i + 5] for i in range(0, len(texts), 5)]:
        for group in batch:
            for reading, fast in zip(group, space.vectors_of(group), strict=True):
                found = model.features(reading)
                slow = space._weighted(np.array([space.columns.get(k, -1) for k in found]),
                                       np.array(list(found.values())))
                want = dict(zip(slow.rows.tolist(), slow.values.tolist(), strict=True))
                got = dict(zip(fast.rows.tolist(), fast.values.tolist(), strict=True))
                assert got.keys() == want.keys(), reading.lines
                assert all(abs(got[k] - want[k]) < 1e-12 for k in want), reading.lines
    assert len(phrases) > 300


# -- purity and privacy -----------------------------------------------------------------------


def _strings_in(value: object, depth: int = 0) -> set[str]:
    """Every string reachable from a value through dicts, tuples, lists, sets, slots."""
    if depth > 6:
        return set()
    if isinstance(value, str):
        return {value}
    found: set[str] = set()
    if isinstance(value, dict):
        for key, item in value.items():
            found |= _strings_in(key, depth + 1) | _strings_in(item, depth + 1)
    elif isinstance(value, (tuple, list, set, frozenset)):
        for item in value:
            found |= _strings_in(item, depth + 1)
    elif hasattr(value, "__slots__"):
        for name in value.__slots__:
            found |= _strings_in(getattr(value, name, None), depth + 1)
    return found


def test_nothing_she_typed_stays_in_memory_unless_it_reads_as_a_content_word(
    index: Index,
) -> None:
    import bot.matching.index
    import bot.matching.model
    import bot.matching.morphology
    import bot.matching.normalise
    import bot.matching.reader
    import bot.matching.translit

    private = ("оксана", "петренко", "0501234567", "lisova")  # not words of the content
    for _ in range(2):
        index.match("меня зовут Оксана Петренко, номер 0501234567, беременна на метадоне")
        index.match("ya zhyvu na vulytsi lisova 5 kvartyra 12, zpt")
    kept = _strings_in(index._reader)
    assert "беременна" in index._reader._known_chunks, "a content word's reading is kept"
    for word in private:
        keys = {word, skeleton(word), skeleton(to_cyrillic(word))}
        assert not keys & kept, word
    # and no module keeps a memo of what it was called with
    for module in (bot.matching.index, bot.matching.translit, bot.matching.morphology,
                   bot.matching.normalise, bot.matching.reader, bot.matching.model):
        memos = [n for n, f in vars(module).items() if hasattr(f, "cache_info")]
        assert memos in ([], ["_stemmers", "_ukrainian"]), (module.__name__, memos)


def test_import_is_light_and_pure() -> None:
    code = (
        "import sys; import bot.matching; "
        "bad = {'telegram', 'yaml', 'aiosqlite', 'asyncpg', 'pymorphy3', 'sklearn'} "
        "& set(sys.modules); print(sorted(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_index_is_built_not_constructed() -> None:
    with pytest.raises(TypeError):
        Index()


# -- podruga ask --------------------------------------------------------------------------------


def test_ask_json_one_object_per_line_in_order(
    world: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.content.world
    from bot.cli.ask import ask_main

    monkeypatch.setattr(bot.content.world, "load_world", lambda root: (world, [], []))
    stdin = io.StringIO("подруга не дихає\nкак приготовить борщ\nспасибо большое\n"
                        "mozhno li ostavatsya na metadone beremennoy\n")
    stdout = io.StringIO()
    assert ask_main(["--lang", "uk", "--json"], stdin, stdout) == 0
    rows = [json.loads(line) for line in stdout.getvalue().splitlines()]
    assert [r["q"] for r in rows] == ["подруга не дихає", "как приготовить борщ",
                                      "спасибо большое",
                                      "mozhno li ostavatsya na metadone beremennoy"]
    assert rows[0]["crisis"] is True and "overdose" in rows[0]["topics"]
    assert rows[0]["suggestions"] == []
    assert rows[1]["step"] is None and rows[1]["suggestions"] == []
    assert rows[2]["topics"] == ["smalltalk"]
    assert rows[3]["topics"] == ["ost_pregnancy"]


def test_ask_rejects_bad_options() -> None:
    from bot.cli.ask import ask_main
    from bot.errors import OptionError

    with pytest.raises(OptionError):
        ask_main(["--lang", "de"], io.StringIO(), io.StringIO())
    with pytest.raises(OptionError):
        ask_main(["--lang", "uk", "--country", "Ukraine"], io.StringIO(), io.StringIO())


def test_ask_without_content_reports_and_fails(tmp_path: Path) -> None:
    from bot.cli.ask import ask_main

    stdout = io.StringIO()
    assert (
        ask_main(["--lang", "ru", "--json", "--dir", str(tmp_path)], io.StringIO("x\n"), stdout)
        == 1
    )
    assert stdout.getvalue() == ""
