"""End to end: the real Application, engine, shipped world and SQLite store on the fake Bot API."""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from conftest import Harness, bot_messages, start_bot, stop_bot
from fakeapi import BOT_ID, FakeBotApi

from bot.adapters.telegram.handlers import STALE
from bot.adapters.telegram.render import say_html
from bot.engine import Step, step
from bot.engine.events import Button, Command, Event, Start, Text
from bot.engine.replies import AskLocation, Say
from bot.engine.staff import STATS_DAYS
from bot.engine.state import State
from bot.limits import DELETE_BATCH
from bot.vocabulary import LANGS
from tests.conftest import NOW

pytestmark = pytest.mark.e2e


@pytest.fixture
async def bot(api: FakeBotApi, world: Any, tmp_path: Path) -> AsyncIterator[Harness]:
    """The bot on the same fixed clock as the Oracle, so both see the same moment."""
    harness = await start_bot(api, world, tmp_path / "podruga.sqlite3", clock=lambda: NOW)
    try:
        yield harness
    finally:
        await stop_bot(harness)


@dataclass
class Oracle:
    """The engine alone, fed the same events: what the bot must have shown."""

    world: Any
    lang_hint: str
    state: State = field(init=False)

    def __post_init__(self) -> None:
        self.state = State(lang=self.lang_hint if self.lang_hint in LANGS else "")

    def send(self, event: Event) -> Step:
        result = step(self.world, self.state, event, NOW)
        self.state = result.state
        return result

    def says(self, event: Event) -> list[str]:
        """The message bodies the bot must send for this event, as HTML."""
        return [say_html(r)[0] for r in self.send(event).replies if isinstance(r, Say)]



def path_to(world: Any, start: str, target: str) -> list[str]:
    """Button payloads that lead from one step to another, shortest first."""
    steps = world.flows.steps
    seen, queue = {start: [start]}, deque([start])
    while queue:
        here = queue.popleft()
        if here == target:
            return seen[here][1:]
        for button in steps[here].buttons:
            if button.go in steps and button.go not in seen:
                seen[button.go] = [*seen[here], button.go]
                queue.append(button.go)
    raise AssertionError(f"no button path from {start} to {target}")


async def begin(bot: Harness, her: Any, oracle: Oracle, country: str = "UA") -> None:
    """/start and choose a country, checking both screens against the engine."""
    her.say("/start")
    await bot.settle()
    assert bot_messages(her)[-1]["text"] == oracle.says(Start(her.language_code or ""))[-1]
    her.tap(f"country:{country}")
    await bot.settle()
    assert bot_messages(her)[-1]["text"] == oracle.says(Button(f"country:{country}"))[-1]


# -- first contact -------------------------------------------------------------------------

@pytest.mark.parametrize("lang", ["uk", "ru", "en"])
async def test_first_contact_speaks_her_app_language(api: FakeBotApi, bot: Harness, world: Any,
                                                     lang: str) -> None:
    her = api.woman(1000 + LANGS.index(lang), language_code=lang)
    oracle = Oracle(world, lang)
    her.say("/start")
    await bot.settle()
    expected = oracle.says(Start(lang))
    assert [m["text"] for m in bot_messages(her)] == expected
    sent = api.called("sendMessage")[-1].params
    assert sent["protect_content"] is True and sent["parse_mode"] == "HTML"
    assert all(p.startswith("country:") or p == "do:exit" for p in her.buttons())
    # The same first screen differs between languages: this is her language, not a default.
    others = {Oracle(world, o).says(Start(o))[0] for o in LANGS if o != lang}
    assert expected[0] not in others


async def test_unknown_language_is_asked_then_kept(api: FakeBotApi, bot: Harness,
                                                  world: Any) -> None:
    her = api.woman(1100, language_code="de")
    oracle = Oracle(world, "de")
    her.say("/start")
    await bot.settle()
    assert bot_messages(her)[-1]["text"] == oracle.says(Start("de"))[-1]
    assert {"lang:uk", "lang:ru", "lang:en"} <= set(her.buttons())
    her.tap("lang:ru")
    await bot.settle()
    # Menu navigation replaces the screen instead of adding a message.
    assert len(bot_messages(her)) == 1
    assert bot_messages(her)[-1]["text"] == oracle.says(Button("lang:ru"))[-1]
    assert api.called("editMessageText")
    state = await bot.store.load_session(bot.key(1100))
    assert state is not None and state.lang == "ru"


async def test_command_menu_is_set_in_every_language(api: FakeBotApi, bot: Harness,
                                                     world: Any) -> None:
    assert set(api.commands) == {"", "uk", "ru", "en"}
    for lang, commands in api.commands.items():
        names = [c["command"] for c in commands]
        assert names == ["start", "menu", "help", "language", "country", "privacy", "exit",
                         "forget"]
        tr = world.tr(lang or "en")
        assert commands[1]["description"] == tr.gettext("All topics")


# -- a whole conversation ---------------------------------------------------------------

@pytest.mark.parametrize("target", ["ost.what", "ost.pregnancy"])
async def test_conversation_by_buttons(api: FakeBotApi, bot: Harness, world: Any,
                                       target: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    her = api.woman(1200, language_code="uk")
    oracle = Oracle(world, "uk")
    await begin(bot, her, oracle)
    path = ["main.menu", *path_to(world, "main.menu", target)]
    for payload in path:
        assert payload in her.buttons(), f"{payload} is not on the screen"
        her.tap(payload)
        await bot.settle()
        assert bot_messages(her)[-1]["text"] == oracle.says(Button(payload))[-1]
    answer = bot_messages(her)[-1]
    assert answer["reply_markup"]["inline_keyboard"][-1][-1]["callback_data"] == "do:exit"
    # The answer is a new message she can scroll back to; the menus before it were edited.
    assert any(c.params.get("text") == answer["text"] for c in api.called("sendMessage"))
    assert api.called("editMessageText")
    assert f"step={target}" in caplog.text
    assert "<i>" in answer["text"]  # the sources line, in small italics


async def test_conversation_by_typed_text(api: FakeBotApi, bot: Harness, world: Any) -> None:
    her = api.woman(1300, language_code="ru")
    oracle = Oracle(world, "ru")
    await begin(bot, her, oracle)
    question = "можно ли метадон при беременности"
    her.say(question)
    await bot.settle()
    result = oracle.send(Text(question))
    says = [r for r in result.replies if isinstance(r, Say)]
    assert bot_messages(her)[-1]["text"] == say_html(says[-1])[0]
    assert says[-1].step == "ost.pregnancy"


async def test_location_keyboard_opens_and_closes(api: FakeBotApi, bot: Harness,
                                                  world: Any) -> None:
    her = api.woman(1400, language_code="en")
    oracle = Oracle(world, "en")
    await begin(bot, her, oracle)
    oracle.send(Button("main.find"))
    her.tap("main.find")
    await bot.settle()
    payload = next(p for p in her.buttons() if p.startswith("find:"))
    ask = next(r for r in oracle.send(Button(payload)).replies if isinstance(r, AskLocation))
    her.tap(payload)
    await bot.settle()
    keyboard = api.called("sendMessage")[-1].params["reply_markup"]["keyboard"]
    assert keyboard[0][0] == {"text": ask.button, "request_location": True}
    assert keyboard[1][0]["text"] == ask.cancel
    # She may type a city instead (sharing a location takes the same way out of the keyboard).
    her.say("Kyiv")
    await bot.settle()
    removal = [c for c in api.called("sendMessage")
               if c.params.get("reply_markup") == {"remove_keyboard": True}]
    assert len(removal) == 1
    if bot_messages(her)[-1].get("reply_markup"):
        assert api.called("editMessageReplyMarkup")  # the buttons came back after the removal
    # Typing the cancel label while the keyboard is open brings the menu.
    her.tap(payload, bot_messages(her)[-1]["message_id"])
    await bot.settle()
    her.say(ask.cancel)
    await bot.settle()
    assert bot_messages(her)[-1]["text"] == Oracle(world, "en").says(Command("menu"))[-1]


# -- quick exit --------------------------------------------------------------------------

async def test_quick_exit_deletes_more_than_100_messages(api: FakeBotApi, bot: Harness,
                                                         world: Any) -> None:
    her = api.woman(1500, language_code="uk")
    oracle = Oracle(world, "uk")
    await begin(bot, her, oracle)
    for i in range(55):
        her.say(f"питання номер {i}")
    await bot.settle()
    before = {m["message_id"] for m in her.screen()}
    assert len(before) > DELETE_BATCH
    her.say("/exit")
    await bot.settle()
    batches = [c.params["message_ids"] for c in api.called("deleteMessages")]
    assert len(batches) >= 2 and all(1 <= len(b) <= DELETE_BATCH for b in batches)
    deleted = {i for b in batches for i in b}
    exit_message = max(before) + 1
    assert before | {exit_message} <= deleted
    left = her.screen()
    assert len(left) == 1 and left[0]["from"]["id"] == BOT_ID
    assert left[0]["text"] == world.tr("uk").gettext("Hi! 🌸")
    assert "reply_markup" not in left[0]
    assert await bot.store.load_session(bot.key(1500)) is None
    assert await bot.store.message_ids(bot.key(1500), NOW) == []


async def test_quick_exit_button_leaves_one_neutral_message(api: FakeBotApi, bot: Harness,
                                                            world: Any) -> None:
    her = api.woman(1600, language_code="ru")
    await begin(bot, her, Oracle(world, "ru"))
    her.tap("main.privacy", bot_messages(her)[-1]["message_id"])
    await bot.settle()
    her.tap("do:exit")
    await bot.settle()
    assert [m["text"] for m in her.screen()] == [world.tr("ru").gettext("Hi! 🌸")]
    assert await bot.store.load_session(bot.key(1600)) is None


# -- forged input, API errors ------------------------------------------------------------------

@pytest.mark.parametrize("data", ["'; DROP TABLE sessions; --", "a" * 100, "ost.no_such_step",
                                  ""])
async def test_forged_callback_gets_polite_menu(api: FakeBotApi, bot: Harness, world: Any,
                                                data: str, caplog: pytest.LogCaptureFixture
                                                ) -> None:
    caplog.set_level(logging.INFO)
    her = api.woman(1700, language_code="en")
    oracle = Oracle(world, "en")
    await begin(bot, her, oracle)
    answered = len(api.called("answerCallbackQuery"))
    her.tap(data)
    await bot.settle()
    assert len(api.called("answerCallbackQuery")) == answered + 1
    expected = oracle.says(Button(STALE))
    assert [m["text"] for m in bot_messages(her)[-len(expected):]] == expected
    assert "update_failed" not in caplog.text
    assert data not in caplog.text or not data


async def test_429_is_retried_once(api: FakeBotApi, bot: Harness, world: Any) -> None:
    her = api.woman(1800, language_code="en")
    api.fail("sendMessage", 429, retry_after=1)  # Telegram never says 0
    her.say("/start")
    await bot.settle()
    assert len(api.called("sendMessage")) == 2
    assert bot_messages(her)[-1]["text"] == Oracle(world, "en").says(Start("en"))[-1]


async def test_429_twice_gives_up_quietly(api: FakeBotApi, bot: Harness, world: Any,
                                          caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    her = api.woman(1810, language_code="en")
    api.fail("sendMessage", 429, times=2, retry_after=1)
    her.say("/start")
    await bot.settle()
    assert not bot_messages(her)
    assert "api_gave_up method=sendMessage reason=retry_after" in caplog.text
    assert "update_failed" not in caplog.text
    her.say("/start")
    await bot.settle()
    assert bot_messages(her)[-1]["text"] == Oracle(world, "en").says(Start("en"))[-1]


async def test_403_forgets_her(api: FakeBotApi, bot: Harness, world: Any) -> None:
    her = api.woman(1900, language_code="uk")
    await begin(bot, her, Oracle(world, "uk"))
    key = bot.key(1900)
    assert await bot.store.load_session(key) is not None
    assert await bot.store.message_ids(key, NOW)
    api.fail("sendMessage", 403)
    her.say("привіт")
    await bot.settle()
    assert await bot.store.load_session(key) is None
    assert await bot.store.message_ids(key, NOW) == []


async def test_edit_of_a_deleted_screen_sends_instead(api: FakeBotApi, bot: Harness,
                                                      world: Any) -> None:
    her = api.woman(2000, language_code="en")
    oracle = Oracle(world, "en")
    await begin(bot, her, oracle)
    screen = bot_messages(her)[-1]["message_id"]
    del api.chats[2000][screen]  # she deleted it on her phone
    her.tap("main.menu", screen)
    await bot.settle()
    assert bot_messages(her)[-1]["text"] == oracle.says(Button("main.menu"))[-1]
    assert bot_messages(her)[-1]["message_id"] != screen


async def test_sticker_and_unknown_command_are_answered(api: FakeBotApi, bot: Harness,
                                                        world: Any) -> None:
    her = api.woman(2100, language_code="en")
    oracle = Oracle(world, "en")
    await begin(bot, her, oracle)
    her.send_sticker()
    await bot.settle()
    assert bot_messages(her)[-1]["text"] == oracle.says(Text(""))[-1]
    her.say("/nonsense")
    await bot.settle()
    assert bot_messages(her)[-1]["text"] == oracle.says(Command("menu"))[-1]


async def test_a_slash_before_crisis_words_is_her_message(api: FakeBotApi, bot: Harness,
                                                         world: Any) -> None:
    # Telegram marks only Latin names as commands: this is text, and a crisis.
    her = api.woman(2150, language_code="ru")
    oracle = Oracle(world, "ru")
    await begin(bot, her, oracle)
    her.say("/помогите он не дышит")
    await bot.settle()
    says = [r for r in oracle.send(Text("/помогите он не дышит")).replies if isinstance(r, Say)]
    assert world.flows.steps[says[0].step].crisis
    assert bot_messages(her)[-1]["text"] == say_html(says[-1])[0]


# -- staff ------------------------------------------------------------------------------------

async def test_staff_commands_only_for_staff(api: FakeBotApi, bot: Harness, world: Any) -> None:
    her = api.woman(2200, language_code="en")
    oracle = Oracle(world, "en")
    await begin(bot, her, oracle)
    her.say("/stats")
    await bot.settle()
    stranger = bot_messages(her)[-1]["text"]
    her.say("/reload")
    await bot.settle()
    assert bot_messages(her)[-1]["text"] == stranger == oracle.says(Command("menu"))[-1]

    staff = api.woman(42, language_code="en")
    staff.say("/stats")
    await bot.settle()
    assert bot_messages(staff)[-1]["text"] == "No questions counted yet."
    her.tap("main.privacy", bot_messages(her)[-1]["message_id"])
    await bot.settle()
    staff.say("/stats")
    await bot.settle()
    assert bot_messages(staff)[-1]["text"] == (
        f"Questions in the last {STATS_DAYS} days (topic: asked / unanswered):\nprivacy: 1 / 0")
    staff.say("/reload")
    await bot.settle()
    assert bot_messages(staff)[-1]["text"].startswith("Reloaded:")


async def test_answers_are_counted_without_her(api: FakeBotApi, bot: Harness,
                                               world: Any) -> None:
    her = api.woman(2300, language_code="uk")
    oracle = Oracle(world, "uk")
    await begin(bot, her, oracle)
    her.tap("main.privacy", bot_messages(her)[-1]["message_id"])
    her.say("ываываыва")
    await bot.settle()
    rows = await bot.store.stats(NOW.date())
    assert any(r.topic == "privacy" and r.lang == "uk" and r.country == "UA" for r in rows)
    assert any(r.unanswered for r in rows)
