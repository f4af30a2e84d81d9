"""Tests of bot.matching and `podruga ask`: each robustness item with real examples."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from bot.matching import Entry, Index, Match
from bot.matching.index import CONFIDENT, FAIR, SUGGEST, SURE, _is_stop
from bot.matching.layout import cyrillic_to_latin, latin_to_cyrillic
from bot.matching.normalise import clean
from bot.matching.translit import skeleton, to_cyrillic

ENTRIES = (
    Entry(
        "ost.pregnancy",
        ("ost_pregnancy",),
        {
            "ru": (
                "можно ли метадон при беременности",
                "зпт и беременность",
                "беременна на метадоне что будет с ребенком",
            ),
            "uk": ("чи можна метадон при вагітності", "вагітна на замісній терапії"),
            "en": ("methadone during pregnancy", "can I stay on OST while pregnant"),
        },
    ),
    Entry(
        "ost.russia",
        ("ost_russia",),
        {
            "ru": ("в россии нет зпт что делать", "метадон в россии запрещен"),
            "uk": ("в росії немає замісної терапії",),
            "en": ("no OST in Russia what can I do",),
        },
    ),
    Entry(
        "ost.what",
        ("ost_what",),
        {
            "ru": ("что такое зпт", "что такое метадон", "как работает бупренорфин"),
            "uk": ("що таке замісна терапія", "як діє бупренорфін"),
            "en": ("what is OST", "what is methadone"),
        },
    ),
    Entry(
        "ost.start",
        ("ost_start",),
        {
            "ru": ("как попасть на программу зпт", "какие документы нужны для зпт"),
            "uk": ("як потрапити на програму ЗПТ", "які документи потрібні для ЗПТ"),
            "en": ("how to get on OST", "what documents do I need for OST"),
        },
    ),
    Entry(
        "ost.stop",
        ("ost_what",),
        {
            "ru": ("как слезть с бупренорфина", "врач хочет снять с метадона"),
            "uk": ("як злізти з бупренорфіну",),
            "en": ("how to come off buprenorphine",),
        },
    ),
    Entry(
        "testing.hiv_where",
        ("hiv_test_where",),
        {
            "ru": ("где сдать тест на вич", "где провериться на вич бесплатно"),
            "uk": ("де здати тест на ВІЛ", "де безкоштовно перевіритися на ВІЛ"),
            "en": ("where can I get an HIV test",),
        },
    ),
    Entry(
        "testing.hcv",
        ("hcv",),
        {
            "ru": ("лечение гепатита с", "где лечить гепатит"),
            "uk": ("лікування гепатиту С",),
            "en": ("hepatitis C treatment",),
        },
    ),
    Entry(
        "prevention.pep",
        ("pep",),
        {
            "ru": ("порвался презерватив что делать", "что такое пэп"),
            "uk": ("порвався презерватив", "що таке ПКП"),
            "en": ("the condom broke", "what is PEP"),
        },
    ),
    Entry(
        "prevention.prep",
        ("prep",),
        {
            "ru": ("где получить преп", "таблетки чтобы не заразиться вич заранее"),
            "uk": ("де отримати ДКП",),
            "en": ("where to get PrEP",),
        },
    ),
    Entry(
        "rights.police",
        ("rights_police",),
        {
            "ru": ("задержала полиция что делать", "имеет ли право полиция обыскивать"),
            "uk": ("затримала поліція",),
            "en": ("the police stopped me",),
        },
    ),
    Entry(
        "crisis.naloxone",
        ("overdose",),
        {
            "ru": ("где взять налоксон", "купить налоксон в аптеке"),
            "uk": ("де взяти налоксон",),
            "en": ("where to get naloxone",),
        },
    ),
    Entry(
        "crisis.overdose",
        ("overdose",),
        {
            "ru": ("передоз что делать",),
            "uk": ("передозування що робити",),
            "en": ("overdose what to do",),
        },
        crisis=True,
    ),
    Entry(
        "crisis.violence",
        ("violence",),
        {"ru": ("муж бьет",), "uk": ("чоловік б'є",), "en": ("my partner hits me",)},
        crisis=True,
    ),
    Entry(
        "crisis.assault",
        ("assault",),
        {"ru": ("меня изнасиловали",), "uk": ("мене згвалтували",), "en": ("I was raped",)},
        crisis=True,
    ),
    Entry(
        "crisis.emergency",
        ("emergency_numbers",),
        {"ru": ("номер скорой",), "uk": ("номер швидкої",), "en": ("ambulance number",)},
        crisis=True,
    ),
    Entry(
        "main.human",
        ("human",),
        {
            "ru": ("поговорить с консультантом",),
            "uk": ("поговорити з консультантом",),
            "en": ("talk to a person",),
        },
        titles={"en": "Talk to a person"},
    ),
    Entry(
        "main.privacy",
        ("privacy",),
        {"ru": ("это анонимно?",), "uk": ("це анонімно?",), "en": ("is this anonymous",)},
        titles={"ru": "Конфиденциальность", "uk": "Приватність", "en": "Privacy"},
    ),
)


@pytest.fixture(scope="module")
def index() -> Index:
    return Index.build(ENTRIES)


def step_of(index: Index, text: str) -> str | None:
    return index.match(text).step


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


# -- matching: each robustness item ---------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "step"),
    [
        # plain, three languages
        ("можно ли метадон при беременности", "ost.pregnancy"),
        ("чи можна метадон при вагітності", "ost.pregnancy"),
        ("can I take methadone when pregnant", "ost.pregnancy"),
        # case and ё/е, і/и folding
        ("МОЖНО ЛИ МЕТАДОН ПРИ БЕРЕМЕННОСТИ", "ost.pregnancy"),
        ("чи можна метадон при вагитности", "ost.pregnancy"),
        # repeated letters
        ("беременнаааа метадооон", "ost.pregnancy"),
        # missing spaces
        ("можнометадон при беременности", "ost.pregnancy"),
        ("можнометадонпрполовинебеременности", "ost.pregnancy"),  # several words stuck
        # transliteration, several schemes
        ("mozhno li metadon pri beremennosti", "ost.pregnancy"),
        ("mojno li metadon pri beremennosti", "ost.pregnancy"),
        ("chy mozhna metadon pry vagitnosti", "ost.pregnancy"),
        ("de zdaty test na vil", "testing.hiv_where"),
        ("gde sdat' test na vi4", "testing.hiv_where"),
        # keyboard layout slips
        ("vtnflfjy ghb ,thtvtyyjcnb", "ost.pregnancy"),
        ("ult clfnm ntcn yf dbx", "testing.hiv_where"),  # где сдать тест на вич
        ("xnj nfrjt g'g", "prevention.pep"),  # что такое пэп: the apostrophe key is э
        # misspellings
        ("метадн при беремености", "ost.pregnancy"),
        ("где здать тэст на вич", "testing.hiv_where"),
        ("лечение гипатита", "testing.hcv"),
        # slang and abbreviations
        ("врач говорит надо слезть с бупры", "ost.stop"),
        ("зт при беременности", "ost.pregnancy"),
        ("где сдать тест на спид", "testing.hiv_where"),
        ("де здати тест на СНІД", "testing.hiv_where"),
        ("что такое ПЭП", "prevention.pep"),
        ("що таке ПКП", "prevention.pep"),
        ("где взять ДКП", "prevention.prep"),
        ("менты задержали", "rights.police"),
        # morphology: inflected forms the phrases do not contain
        ("беременной можно на метадоне?", "ost.pregnancy"),
        ("вагітним можна метадон?", "ost.pregnancy"),
        # surzhyk: Russian and Ukrainian mixed
        ("шо таке замісна терапія", "ost.what"),
        ("можна метадон при беременности", "ost.pregnancy"),
        # a Russian city or Crimea means Russia, where OST is banned
        ("живу в Москве, метадона тут нет", "ost.russia"),
        ("i'm in moscow and there is no methadone", "ost.russia"),
        ("в Криму закрили замісну", "ost.russia"),
        # titles are matchable too
        ("privacy", "main.privacy"),
        ("приватність", "main.privacy"),
    ],
)
def test_answers(index: Index, text: str, step: str) -> None:
    match = index.match(text)
    assert match.step == step, match
    assert not match.crisis


def test_sure_answers_come_alone_modest_ones_with_runners_up(index: Index) -> None:
    for text in ("можно ли метадон при беременности",  # an ask phrase, word for word
                 "mozhno li metadon pri beremennosti"):  # and transliterated
        sure = index.match(text)
        assert sure.score >= SURE and sure.suggestions == (), text
    modest = index.match("где взять ДКП")
    assert CONFIDENT <= modest.score < SURE, modest
    assert modest.step == "prevention.prep" and modest.suggestions
    assert modest.step not in modest.suggestions


def test_nothing_close_gives_nothing(index: Index) -> None:
    for text in ("как приготовить борщ", "asdfgh qwerty", "", "   ", "!!!", "погода завтра"):
        match = index.match(text)
        assert match == Match(None, match.score, False, ()), text
        assert match.score < 0.3


def test_unsure_offers_up_to_three_suggestions_best_first(index: Index) -> None:
    # Three known words lost among many unknown ones: PrEP, PEP and testing all fit a little.
    match = index.match("вич профилактика соседка кошка собака")
    assert match.step is None
    assert match.suggestions == ("prevention.prep", "prevention.pep", "testing.hiv_where")
    assert SUGGEST <= match.score < FAIR
    assert not match.crisis


def test_a_fair_match_answers_and_offers_the_runners_up(index: Index) -> None:
    match = index.match("вич")  # testing fits best, PrEP a little
    assert match.step == "testing.hiv_where"
    assert match.suggestions == ("prevention.prep",)
    assert FAIR <= match.score
    assert not match.crisis


def test_a_question_about_naloxone_is_not_a_crisis(index: Index) -> None:
    for text in (
        "где купить налоксон впрок",
        "де купити налоксон заздалегідь",
        "where can I buy naloxone just in case",
    ):
        match = index.match(text)
        assert not match.crisis, text
        assert match.step == "crisis.naloxone", text


# -- crisis -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "step"),
    [
        ("передоз шо робить", "crisis.overdose"),
        ("подруга не дышит", "crisis.overdose"),
        ("він не дихає після дози", "crisis.overdose"),
        ("ona ne dyshit pomogite", "crisis.overdose"),
        ("she is not breathing", "crisis.overdose"),
        ("my friend overdosed", "crisis.overdose"),
        ("губы синие и не просыпается", "crisis.overdose"),
        ("ПЕРЕДОЗ!!!", "crisis.overdose"),
        ("gthtljp", "crisis.overdose"),  # передоз on the Latin layout
        ("peredoz 4to delat", "crisis.overdose"),
        ("без сознания после метадона", "crisis.overdose"),
        ("муж избил меня", "crisis.violence"),
        ("чоловік б'є мене", "crisis.violence"),
        ("chelovik bje mene", "crisis.violence"),
        ("he hits me", "crisis.violence"),
        ("угрожает убить", "crisis.violence"),
        ("меня изнасиловали", "crisis.assault"),
        ("мене зґвалтували вчора", "crisis.assault"),
        ("menya iznasilovali", "crisis.assault"),
        ("I was raped last night", "crisis.assault"),
        ("заставил заниматься сексом", "crisis.assault"),
        ("вызвать скорую", "crisis.emergency"),
        ("call an ambulance", "crisis.emergency"),
        ("їй погано після дози, не ворушиться", "crisis.overdose"),
        ("friend took too much and is gasping", "crisis.overdose"),
        ("myfriendisnotbreathing", "crisis.overdose"),
        ("він погрожує сокирою", "crisis.violence"),
        ("я заперлась в туалете, он ломится в дверь", "crisis.violence"),
        ("on menja bjot", "crisis.violence"),
        ("he keeps kicking me", "crisis.violence"),
        ("викликайте швидку терміново", "crisis.emergency"),
        ("срочно номер скорой", "crisis.emergency"),
        ("вчера изнасиловали, что делать", "crisis.assault"),
        # overdose wins over another crisis in the same message
        ("его избили и он не дышит", "crisis.overdose"),
        ("ОН ЛОМАЕТ ДВЕРЬ В ВАННУЮ", "crisis.violence"),
        ("сказал что убьет, он уже идет", "crisis.violence"),
        ("він знову бити буде сьогодні", "crisis.violence"),
        ("мент заставил переспать", "crisis.assault"),
        ("мене пустили по колу вчора", "crisis.assault"),
        ("need ambulance fast, whats the number", "crisis.emergency"),
        ("номершвидкоїтерміново", "crisis.emergency"),  # no spaces at all
        ("мене зігвалтували годину тому", "crisis.assault"),  # a long word the index lacks
        # from the fresh tuning set (tests/data/tuneset3)
        ("ve; ,mtn gjvjubnt", "crisis.violence"),  # муж бьет помогите, on the Latin layout
        ("муж бʼєт, щас на кухні, я боюся", "crisis.violence"),
        ("bojusja shcho vin mene sjogodni vbje", "crisis.violence"),
        ("чоловік перебрав, синіє", "crisis.overdose"),
        ("допоможітьвінломитьсявдверізножем", "crisis.violence"),
        ("клієнт зняв презерватив і зробив силою, вчора ввечері", "crisis.assault"),
        ("в отделе мусор заставил меня с ним, это было час назад", "crisis.assault"),
        # from the next fresh tuning set (tests/data/tuneset4)
        ("on menya ub'yot, stoit pod dver'yu s nojom", "crisis.violence"),
        ("my friend over those and dont wake up what to do", "crisis.overdose"),
        ("Мєнт заставив мене в машині... Це було годину тому. Куди мені?", "crisis.assault"),
    ],
)
def test_crisis_first_with_no_suggestions(index: Index, text: str, step: str) -> None:
    match = index.match(text)
    assert match == Match(step, 1.0, True, ()), text


@pytest.mark.parametrize(
    "text",
    [
        "как избежать передоза",
        "где купить налоксон впрок",
        "что такое налоксон",
        "метадон при беременности",
        "где шелтер для женщин",
        "порвался презерватив",
        "полиция задержала",
        "изнасиловали десять лет назад, нужен психолог",
        "I was raped years ago and still cannot sleep",
        "є шось тільки для жінок?",
        "как составить план безопасности если муж бьет",
        "чи можна передознутись, хочу знати заздалегідь",
        "как понять что передоз, хочу знать заранее",
        "як колоти налоксон",
        "overdose signs and symptoms",
        "изнасиловали в прошлом году, еще можно к врачу?",
        "мене зґвалтували, вже пів року пройшло, де психолог",
        "він як вип'є лупить мене, це ж не норм?",
        "это считается изнасилованием если я была пьяная?",
        "признаки передозировки",
        "только вышла с зоны, боюсь что передознусь если сорвусь, как быть",
        "подруга передознулась, її відкачали, зараз все нормально. що їй робити далі?",
        "синие таблетки что это",
        "skoko nado naloksona shob vidkachat, odnoi ampuly hvatit?",
        "чи обовязково йти в поліцію щоб отримати допомогу після згвалтуваня",
        "менти заставляють мене підписать протокол, шо делать",
        "куди колоти налоксон, в ногу чи в руку",
        "where do you inject narcan, arm or leg",
    ],
)
def test_questions_are_not_crises(index: Index, text: str) -> None:
    assert not index.match(text).crisis


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


def test_nothing_she_typed_stays_in_memory_unless_it_reads_as_a_content_word() -> None:
    import bot.matching.crisis
    import bot.matching.index
    import bot.matching.morphology
    import bot.matching.normalise
    import bot.matching.translit

    index = Index.build(ENTRIES)
    private = ("оксана", "петренко", "0501234567", "zhytomyrska", "квартира")
    for _ in range(2):
        index.match("меня зовут Оксана Петренко, номер 0501234567, беременна на метадоне")
        index.match("ya zhyvu na zhytomyrska 5 kvartyra 12, zpt")
    kept = _strings_in(index)
    for word in private:
        keys = {word, skeleton(word), skeleton(to_cyrillic(word))}
        assert not keys & kept, word
    assert "беременна" in kept or "метадоне" in kept  # content words may be remembered
    # and no module keeps a memo of what it was called with
    for module in (bot.matching.index, bot.matching.translit, bot.matching.morphology,
                   bot.matching.normalise, bot.matching.crisis):
        memos = [n for n, f in vars(module).items() if hasattr(f, "cache_info")]
        assert memos in ([], ["_stemmers", "_ukrainian"]), (module.__name__, memos)


def test_without_crisis_steps_the_lexicon_stays_quiet() -> None:
    plain = Index.build([e for e in ENTRIES if not e.crisis])
    assert not plain.match("передоз").crisis


# -- a real person ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "хочу поговорить с живым человеком",
        "можна з живою людиною?",
        "I want to talk to a real person",
        "soedinite s operatorom",
    ],
)
def test_asking_for_a_person(index: Index, text: str) -> None:
    match = index.match(text)
    assert match.human, text
    assert match.step == "main.human"


# -- purity and privacy -----------------------------------------------------------------------


def test_import_is_light_and_pure() -> None:
    code = (
        "import sys; import bot.matching; "
        "bad = {'telegram', 'yaml', 'aiosqlite', 'asyncpg', 'pymorphy3'} & set(sys.modules); "
        "print(sorted(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_matching_keeps_nothing_she_typed(index: Index) -> None:
    secret = "zzqxsecretword"
    index.match(f"метадон {secret} при беременности")
    for name in Index.__slots__:
        assert secret not in repr(getattr(index, name))


def test_index_is_built_not_constructed() -> None:
    with pytest.raises(TypeError):
        Index()


# -- podruga ask --------------------------------------------------------------------------------


def _fake_world(index: Index) -> SimpleNamespace:
    steps = {e.step: SimpleNamespace(topics=e.topics) for e in ENTRIES}
    return SimpleNamespace(index=index, flows=SimpleNamespace(steps=steps))


def test_ask_json_one_object_per_line_in_order(
    index: Index, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.world
    from bot.ask_cli import ask_main

    monkeypatch.setattr(bot.world, "load_world", lambda root: (_fake_world(index), [], []))
    stdin = io.StringIO(
        "передоз шо робить\nвич профилактика соседка кошка собака\nкак приготовить борщ\n"
        "mozhno li metadon pri beremennosti\nвич\n"
    )
    stdout = io.StringIO()
    assert ask_main(["--lang", "uk", "--json"], stdin, stdout) == 0
    rows = [json.loads(line) for line in stdout.getvalue().splitlines()]
    assert [r["q"] for r in rows] == [
        "передоз шо робить",
        "вич профилактика соседка кошка собака",
        "как приготовить борщ",
        "mozhno li metadon pri beremennosti",
        "вич",
    ]
    assert rows[0] == {
        "q": "передоз шо робить",
        "step": "crisis.overdose",
        "topics": ["overdose"],
        "score": 1.0,
        "crisis": True,
        "suggestions": [],
    }
    assert rows[1]["step"] is None and rows[1]["suggestions"]
    assert all(set(s) == {"step", "topics"} for s in rows[1]["suggestions"])
    assert rows[2]["step"] is None and rows[2]["suggestions"] == []
    assert rows[3]["step"] == "ost.pregnancy" and rows[3]["topics"] == ["ost_pregnancy"]
    assert rows[4]["step"] == "testing.hiv_where" and rows[4]["suggestions"]  # a fair answer


def test_ask_rejects_bad_options() -> None:
    from bot.ask_cli import ask_main
    from bot.errors import OptionError

    with pytest.raises(OptionError):
        ask_main(["--lang", "de"], io.StringIO(), io.StringIO())
    with pytest.raises(OptionError):
        ask_main(["--lang", "uk", "--country", "Ukraine"], io.StringIO(), io.StringIO())


def test_ask_without_content_reports_and_fails(tmp_path: Path) -> None:
    from bot.ask_cli import ask_main

    stdout = io.StringIO()
    assert (
        ask_main(["--lang", "ru", "--json", "--dir", str(tmp_path)], io.StringIO("x\n"), stdout)
        == 1
    )
    assert stdout.getvalue() == ""
