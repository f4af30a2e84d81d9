"""The engine: a pure function of (world, state, event, now)."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from bot.engine import step
from bot.engine.events import Button, Command, Location, Start, Text
from bot.engine.replies import (
    AskLocation,
    DeleteConversation,
    ForgetMe,
    HandOver,
    HandOverKind,
    Say,
)
from bot.engine.state import State, Status, Waiting
from tests.conftest import NOW
from tests.helpers import Conversation, FakeMatch, payloads, say_texts, with_index

ENGINE = Path(__file__).resolve().parents[1] / "bot" / "engine"
MODULES = sorted("bot.engine" + ("" if f.stem == "__init__" else "." + f.stem)
                 for f in ENGINE.glob("*.py"))
# Modules the engine must not load, even through a library: I/O, the network, the clock's
# sleepers, randomness, staff files, and the rings outside the core.
NOT_LOADED = ("telegram", "aiohttp", "aiosqlite", "asyncpg", "sqlite3", "yaml",
              "babel.messages.pofile", "asyncio", "random", "bot.store", "bot.adapters",
              "bot.content", "bot.cli", "bot.config", "bot.matching")
# Modules the engine's own code must not import. os, time and pathlib are loaded by Python
# itself, so only the engine's source can show it does not use them; gettext and zoneinfo
# stay allowed: the Translator wraps catalogs it is handed, and Babel's dates read time-zone
# data only on first use.
NOT_IMPORTED = ("os", "time", "pathlib", "io", "shutil", "tempfile", "socket", "subprocess",
                "threading", "asyncio", "random", "sqlite3", "aiosqlite", "asyncpg", "telegram",
                "yaml")
# The only parts of Podruga the engine reads: its own package and the shared vocabulary,
# limits and errors. It reaches the directory and the matcher through the World it is given.
ENGINE_MAY_IMPORT = ("bot.engine", "bot.vocabulary", "bot.limits", "bot.errors")


def test_the_engine_package_is_every_module_checked() -> None:
    assert {"bot.engine", "bot.engine.events", "bot.engine.replies", "bot.engine.state"} \
        <= set(MODULES)


def test_engine_loads_no_io_modules() -> None:
    """STYLE rule 1: importing every engine module pulls in no I/O, telegram, yaml,
    database, randomness or outer-ring module, not even through a library."""
    code = (
        f"import sys, importlib; before = set(sys.modules); "
        f"[importlib.import_module(m) for m in {MODULES!r}]; new = set(sys.modules) - before; "
        f"bad = sorted(m for m in new for f in {NOT_LOADED!r} if m == f or m.startswith(f + '.')); "
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=ENGINE.parents[1])
    assert out.stdout.strip() == ""


def _imports(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
    return names


@pytest.mark.parametrize("path", sorted(ENGINE.glob("*.py")), ids=lambda p: p.name)
def test_engine_source_imports_only_pure_modules(path: Path) -> None:
    for name in _imports(path):
        top = name.split(".")[0]
        assert top not in NOT_IMPORTED, f"{path.name} imports {name}"
        if top == "bot":
            assert name.startswith(ENGINE_MAY_IMPORT), f"{path.name} imports {name}"


@pytest.mark.parametrize("path", sorted(ENGINE.glob("*.py")), ids=lambda p: p.name)
def test_engine_source_reads_no_clock_and_opens_no_file(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    for call in (r"datetime\.now\(", r"date\.today\(", r"time\.time\(", r"(?<![\w.])open\(",
                 r"\.read_text\(", r"\.write_text\(", r"\.read_bytes\("):
        assert not re.search(call, source), f"{path.name}: {call}"


def test_start_with_known_language_and_country_shows_welcome(world) -> None:
    result = step(world, State(lang="en", country="UA"), Start("en"), NOW)
    assert result.state.step_id == "main.welcome"
    assert "crisis.start" in payloads(result)
    assert "do:exit" in payloads(result), "quick exit must be on every screen"


def test_start_with_unknown_language_asks_in_all_three(world) -> None:
    result = step(world, State(), Start("de"), NOW)
    assert result.state.waiting is Waiting.LANGUAGE
    assert payloads(result)[:3] == ["lang:uk", "lang:ru", "lang:en"]
    text = say_texts(result)[0]
    assert "Оберіть мову" in text and "Выберите язык" in text and "Choose a language" in text


def test_language_from_telegram_then_country_is_asked_once(world) -> None:
    chat = Conversation(world)
    first = chat.send(Start("uk-UA"))
    assert chat.state.lang == "uk" and chat.state.waiting is Waiting.COUNTRY
    assert "country:UA" in payloads(first) and "country:XX" in payloads(first)
    chat.tap("country:XX")
    assert chat.state.country == "XX" and chat.state.step_id == "main.welcome"
    again = chat.send(Start("uk"))
    assert chat.state.waiting is Waiting.NOTHING, "country is asked once, not on every start"
    assert again.state.step_id == "main.welcome"


def test_engine_never_mutates_its_input(world) -> None:
    state = State(lang="ru", country="RU")
    before = state.to_dict()
    step(world, state, Command("exit"), NOW)
    step(world, state, Button("ost.start"), NOW)
    assert state.to_dict() == before


@pytest.mark.parametrize("payload", ["nosuch.step", "find:unicorns", "lang:de", "page:3",
                                     "do:selfdestruct", "country:FR"])
def test_stale_or_forged_button_gets_a_polite_answer_and_the_menu(world, payload: str) -> None:
    result = step(world, State(lang="en", country="UA"), Button(payload), NOW)
    assert "out of date" in say_texts(result)[0]
    assert result.state.step_id == "main.menu"


@pytest.mark.parametrize("payload", ["x" * 65, "ost.start;DROP", "", "ost start", "ЗПТ:1"])
def test_malformed_payload_is_refused_by_the_event(payload: str) -> None:
    with pytest.raises(ValueError):
        Button(payload)


def test_crisis_text_wins_over_everything(world) -> None:
    table = {"she is not breathing": FakeMatch("crisis.overdose", crisis=True)}
    w = with_index(world, table)
    waiting_for_city = State(lang="en", country="UA", status=Status.WAITING, waiting=Waiting.CITY)
    result = step(w, waiting_for_city, Text("she is not breathing"), NOW)
    assert result.state.step_id == "crisis.overdose"
    assert result.log[0].kind == "crisis"
    in_case = State(lang="en", country="UA", status=Status.HANDOVER, case="K-1")
    result = step(w, in_case, Text("she is not breathing"), NOW)
    assert result.state.step_id == "crisis.overdose"
    assert [r.kind for r in result.replies if isinstance(r, HandOver)] \
        == [HandOverKind.TO_CONSULTANT]


def test_confident_match_answers_with_sources_footer(world) -> None:
    w = with_index(world, {"what is ost": FakeMatch("ost.what")})
    result = step(w, State(lang="en", country="UA"), Text("what is ost"), NOW)
    say = [r for r in result.replies if isinstance(r, Say)][0]
    assert result.state.step_id == "ost.what"
    # "Updated", not "Checked": staff have not called every number yet (issue 19)
    assert say.footer == (
        "Updated: December 3, 2026\nSources: WHO: treatment of opioid dependence (2009); "
        "ASAM (USA): treatment of opioid use disorder (2020); UNODC: a guide to the needs of "
        "women who inject drugs (2016); Harm Reduction Journal: OST in Belarus, Moldova, "
        "Tajikistan and Ukraine (2024); HealthRight International: women who inject drugs in "
        "Russia and Ukraine (2012); National Health Service of Ukraine (NHSU): Programme of "
        "Medical Guarantees")
    assert say.keep is True
    assert result.log[0].kind == "answer" and result.log[0].topics


def test_sources_are_named_in_her_language_and_come_last(world) -> None:
    # Crisis screens keep the action first: the body is what to do, the footer ends it.
    result = step(world, State(lang="uk", country="UA"), Button("crisis.overdose"), NOW)
    say = [r for r in result.replies if isinstance(r, Say)][0]
    updated, sources = say.footer.split("\n")
    assert updated.startswith("Оновлено: ") and sources.startswith("Джерела: ")
    assert "ВООЗ" in sources and "WHO-" not in sources and "AHA-2020" not in sources
    result = step(world, State(lang="ru", country="RU"), Button("ost.russia"), NOW)
    footer = [r for r in result.replies if isinstance(r, Say)][0].footer
    assert footer.startswith("Обновлено: 3 декабря 2026") and "\nИсточники: " in footer
    assert "HealthRight-2012" not in footer and "ВОЗ" in footer
    assert "HealthRight International" not in footer  # withheld in Russia (flows/sources.yaml)
    assert "НСЗУ" not in footer and "Крым" not in footer  # the Russian text's own sources
    ua = step(world, State(lang="ru", country="UA"), Button("ost.russia"), NOW)
    assert "НСЗУ" in [r for r in ua.replies if isinstance(r, Say)][0].footer


def test_russia_never_sees_a_hidden_step(world) -> None:
    """OST is banned in Russia: its dose, breastfeeding and coming-off answers and the OST
    site searches are never shown there; whatever leads to them opens ost.russia."""
    ru = State(lang="ru", country="RU")
    menu = step(world, ru, Button("ost.start"), NOW)
    shown = payloads(menu)
    assert "ost.breastfeeding" not in shown and "ost.stop" not in shown
    assert not any(p.startswith("find:ost") for p in shown)
    assert "ost.russia" in shown and "ost.pregnancy" in shown
    ua = step(world, State(lang="ru", country="UA"), Button("ost.start"), NOW)
    assert {"ost.breastfeeding", "ost.stop", "find:ost"} <= set(payloads(ua))
    # an old button, from before she said she is in Russia
    for payload in ("ost.breastfeeding", "ost.preg_dose", "find:ost", "find:ost+pregnant"):
        result = step(world, ru, Button(payload), NOW)
        assert result.state.step_id == "ost.russia", payload
        assert result.log[0].step == "ost.russia"
    # a typed question that matches a hidden step, and suggestions that name one
    w = with_index(world, {"хочу слезть": FakeMatch("ost.stop", suggestions=(
        "ost.breastfeeding", "ost.russia", "ost.naltrexone")),
        "непонятно": FakeMatch(None, 0.3, suggestions=("ost.stop", "ost.russia", "ost.what"))})
    result = step(w, ru, Text("хочу слезть"), NOW)
    assert result.state.step_id == "ost.russia"
    assert "ost.stop" not in payloads(result) and "ost.breastfeeding" not in payloads(result)
    result = step(w, ru, Text("непонятно"), NOW)
    offered = [p for p in payloads(result) if p.startswith("ost.")]
    assert offered == ["ost.russia", "ost.what"]  # ost.stop became ost.russia, once
    # elsewhere the same question opens the step itself
    assert step(w, State(lang="ru", country="KZ"), Text("хочу слезть"), NOW
                ).state.step_id == "ost.stop"


def test_fair_match_answers_and_offers_the_runners_up(world) -> None:
    w = with_index(world, {"метадон шо": FakeMatch("ost.what", 0.5, suggestions=(
        "ost.get", "ost.what", "main.privacy"))})
    result = step(w, State(lang="uk", country="UA"), Text("метадон шо"), NOW)
    assert result.state.step_id == "ost.what"
    labels = [c.label for say in result.replies if isinstance(say, Say)
              for row in say.buttons for c in row]
    maybe = [label for label in labels if label.startswith("А може: ")]
    # at most two, none repeating the answer or a button the answer already has
    assert len(maybe) <= 2 and maybe
    assert all(world.flows.label_of("ost.what") not in label for label in maybe)
    assert payloads(result).count("ost.what") == 0


def test_unsure_match_offers_did_you_mean_then_menu(world) -> None:
    w = with_index(world, {"hmm": FakeMatch(None, 0.4, suggestions=("ost.what", "main.privacy"))})
    result = step(w, State(lang="en", country="UA"), Text("hmm"), NOW)
    assert "Did you mean" in say_texts(result)[0]
    assert payloads(result)[:2] == ["ost.what", "main.privacy"]
    assert "main.menu" in payloads(result)


def test_nothing_close_offers_menu_and_a_person(world) -> None:
    result = step(with_index(world, {}), State(lang="en", country="UA"), Text("qwerty"), NOW)
    assert "didn't understand" in say_texts(result)[0]
    assert "do:human" in payloads(result) and "main.menu" in payloads(result)
    assert result.log[0].kind == "unmatched"


def test_typed_request_for_a_person_explains_before_opening(world) -> None:
    w = with_index(world, {"хочу с человеком": FakeMatch(None, human=True)})
    result = step(w, State(lang="ru", country="RU"), Text("хочу с человеком"), NOW)
    assert result.state.step_id == "main.human"
    assert "do:human" in payloads(result)
    assert not any(isinstance(r, HandOver) for r in result.replies)


def test_handover_open_relay_and_leave(world) -> None:
    chat = Conversation(with_index(world, {}), State(lang="uk", country="UA"))
    opened = chat.tap("do:human")
    assert chat.state.status is Status.HANDOVER
    assert any(isinstance(r, HandOver) and r.kind == "open" for r in opened.replies)
    relayed = chat.text("мені потрібна допомога")
    assert [r.kind for r in relayed.replies if isinstance(r, HandOver)] \
        == [HandOverKind.TO_CONSULTANT]
    left = chat.tap("do:leave")
    assert chat.state.status is Status.ACTIVE
    assert any(isinstance(r, HandOver) and r.kind == "close" for r in left.replies)


def test_quick_exit_deletes_forgets_and_leaves_a_neutral_line(world) -> None:
    state = State(lang="ru", country="RU", pregnant=True, flow="ost", step="what")
    result = step(world, state, Command("exit"), NOW)
    kinds = [type(r) for r in result.replies]
    assert kinds.index(DeleteConversation) < kinds.index(ForgetMe) < kinds.index(Say)
    assert result.state.status is Status.ENDED and result.state.pregnant is False
    neutral = say_texts(result)[-1].lower()
    for word in ("нарк", "вич", "бер", "метадон", "зпт", "drug", "hiv", "ost"):
        assert word not in neutral


def test_forget_keeps_only_the_language_for_this_reply(world) -> None:
    state = State(lang="uk", country="UA", pregnant=True)
    result = step(world, state, Command("forget"), NOW)
    assert any(isinstance(r, ForgetMe) for r in result.replies)
    assert result.state.country == "" and result.state.pregnant is False


def test_find_button_asks_for_city_or_location(world) -> None:
    result = step(world, State(lang="en", country="UA"), Button("find:ost+women_only"), NOW)
    ask = [r for r in result.replies if isinstance(r, AskLocation)]
    assert ask and "OST on site" in ask[0].text and "Women only" in ask[0].text
    assert result.state.waiting is Waiting.CITY
    assert result.state.find_needs == ("ost", "women_only")


def test_location_without_directory_says_so_kindly(world) -> None:
    w = replace(world, directory=None)
    result = step(w, State(lang="en", country="UA"), Location(50.45, 30.52), NOW)
    assert "not available" in say_texts(result)[0]


def test_state_round_trips_and_rejects_bad_values() -> None:
    state = State(lang="uk", country="UA", pregnant=True, find_needs=("ost",), case="K-12")
    assert State.from_dict(state.to_dict()) == state
    with pytest.raises(ValueError):
        State(lang="de")
    with pytest.raises(ValueError):
        State(country="ukraine")
    with pytest.raises(ValueError):
        State.from_dict({"schema": 99})


def test_commands_reach_their_screens(world) -> None:
    for name, expected in (("menu", "main.menu"), ("help", "main.help"),
                           ("privacy", "main.privacy")):
        assert step(world, State(lang="en", country="UA"), Command(name), NOW).state.step_id \
            == expected
    assert step(world, State(lang="en", country="UA"), Command("language"),
                NOW).state.waiting is Waiting.LANGUAGE


def test_country_variant_is_chosen_with_fallback(world) -> None:
    ru = step(world, State(lang="en", country="RU"), Button("crisis.emergency"), NOW)
    ua = step(world, State(lang="en", country="UA"), Button("crisis.emergency"), NOW)
    other = step(world, State(lang="en", country="XX"), Button("crisis.emergency"), NOW)
    assert say_texts(ru)[0] != say_texts(ua)[0] != say_texts(other)[0]
    assert "112" in say_texts(other)[0]


def _find(world, lang: str, needs: str, then):  # type: ignore[no-untyped-def]
    chat = Conversation(world, State(lang=lang, country="UA"))
    chat.tap(f"find:{needs}")
    return chat, chat.send(then)


@pytest.mark.parametrize("spelling", ["Киев", "kyiv", "Київ", "Kiev"])
def test_find_by_city_in_any_spelling_lists_cards(world, spelling: str) -> None:
    from bot.engine.replies import ServiceList

    chat, result = _find(world, "uk", "", Text(spelling))
    lists = [r for r in result.replies if isinstance(r, ServiceList)]
    assert lists and lists[0].items, "Kyiv has services in the shipped directory"
    assert "Київ" in lists[0].header
    assert chat.state.find_city == "kyiv"


def test_find_by_location_is_nearest_first_and_keeps_no_coordinates(world) -> None:
    from bot.engine.replies import ServiceList

    chat, result = _find(world, "en", "", Location(50.45, 30.52))
    lists = [r for r in result.replies if isinstance(r, ServiceList)]
    assert lists and lists[0].items
    assert "50.45" not in str(chat.state.to_dict())


def test_a_city_with_no_match_offers_the_nearest_and_says_so(world) -> None:
    from bot.engine.replies import ServiceList

    # The shipped directory has no OST site in Lutsk, and some in other Ukrainian cities.
    chat, result = _find(world, "en", "ost", Text("Lutsk"))
    (found,) = [r for r in result.replies if isinstance(r, ServiceList)]
    assert found.header.startswith("There are no services in Lutsk in my list yet. The nearest:")
    distances = [int(re.search(r"about (\d+) km away", card.text).group(1))  # type: ignore[union-attr]
                 for card in found.items]
    assert distances and distances == sorted(distances)
    assert chat.state.find_city == "lutsk"


def test_unknown_city_is_said_kindly(world) -> None:
    chat, result = _find(with_index(world, {}), "ru", "", Text("Атлантида"))
    assert chat.state.waiting is Waiting.CITY
    assert "do:location" in payloads(result)


def test_without_consultants_the_bot_says_so_instead_of_opening_a_case(world) -> None:
    result = step(replace(world, handover=False), State(lang="uk", country="UA"),
                  Button("do:human"), NOW)
    assert result.state.status is Status.ACTIVE
    assert not any(isinstance(r, HandOver) for r in result.replies)
    assert "crisis.start" in payloads(result)
