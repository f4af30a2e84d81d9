"""Hand-over to a peer consultant, end to end: cases, hours, quick exit, privacy."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import Harness, bot_messages, open_case, start_bot, stop_bot
from fakeapi import FakeBotApi

from bot.config import consultant_hours
from bot.engine.handover import RELAYS_PER_WINDOW
from bot.engine.state import Status
from bot.errors import OptionError

STAFF = -1001234567890
CASE_KEY = b"k" * 32
SATURDAY_NOON = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
HER_ID = 5550123987
NAME = "Ярослава"
USERNAME = "yaroslava_secret_77"



CONSULTANT = 900001  # Consultant's default id in the fake


async def start(api: FakeBotApi, world: Any, tmp_path: Path, **settings: Any) -> Harness:
    settings.setdefault("staff_ids", frozenset({42, CONSULTANT}))
    return await start_bot(api, world, tmp_path / "podruga.sqlite3", staff_chat=STAFF,
                           case_key=CASE_KEY, **settings)


@pytest.fixture
async def bot(api: FakeBotApi, world: Any, tmp_path: Path) -> AsyncIterator[Harness]:
    harness = await start(api, world, tmp_path)
    try:
        yield harness
    finally:
        await stop_bot(harness)



@pytest.mark.e2e
async def test_a_whole_case(api: FakeBotApi, bot: Harness) -> None:
    her = api.woman(HER_ID, first_name=NAME, username=USERNAME, language_code="uk")
    staff = api.consultant(STAFF)
    number = await open_case(bot, her)
    assert staff.messages()[-1]["text"].startswith(f"New case {number} · language uk · country UA")
    her.say("мені страшно, чи можна мені на ЗПТ")
    await bot.settle()
    relayed = staff.messages()[-1]
    assert relayed["text"] == f"{number} · uk · UA\nмені страшно, чи можна мені на ЗПТ"
    assert "protect_content" in api.called("sendMessage")[-1].params

    staff.say("Так, можна. Напишіть, у якому ви місті.", reply_to=relayed["message_id"])
    await bot.settle()
    answer = bot_messages(her)[-1]
    assert answer["text"] == "💬 Так, можна. Напишіть, у якому ви місті."
    assert [b["callback_data"] for row in answer["reply_markup"]["inline_keyboard"]
            for b in row] == ["do:leave"]
    assert "Marta" not in str(answer) and "900001" not in str(answer)

    staff.say("/close", reply_to=relayed["message_id"])
    await bot.settle()
    assert staff.messages()[-1]["text"] == f"Case {number} closed."
    assert await bot.store.case_for(bot.key(HER_ID)) is None
    state = await bot.store.load_session(bot.key(HER_ID))
    assert state is not None and state.status is Status.ACTIVE
    assert bot_messages(her)[-1]["reply_markup"]["inline_keyboard"][0][0]["callback_data"] \
        == "main.menu"
    before = len(staff.messages())
    her.say("дякую")
    await bot.settle()
    assert len(staff.messages()) == before  # no longer relayed

    # Privacy: the staff group never saw who she is.
    for call in api.calls:
        if call.params.get("chat_id") == STAFF:
            text = str(call.params)
            assert str(HER_ID) not in text and NAME not in text and USERNAME not in text


@pytest.mark.e2e
async def test_she_leaves_the_case(api: FakeBotApi, bot: Harness) -> None:
    her = api.woman(4100, language_code="en")
    staff = api.consultant(STAFF)
    number = await open_case(bot, her)
    her.tap("do:leave")
    await bot.settle()
    assert staff.messages()[-1]["text"] == f"Case {number}: she left the conversation."
    assert await bot.store.case_for(bot.key(4100)) is None


@pytest.mark.e2e
async def test_outside_hours_she_is_told_when_they_are_back(api: FakeBotApi, world: Any,
                                                            tmp_path: Path) -> None:
    bot = await start(api, world, tmp_path, clock=lambda: SATURDAY_NOON,
                      consultant_hours="Mon-Fri 10:00-18:00 Europe/Kyiv")
    try:
        her = api.woman(4200, language_code="en")
        await open_case(bot, her)
        notice = bot_messages(her)[-1]
        assert "Monday" in notice["text"] and "10:00" in notice["text"]
        assert notice["reply_markup"]["inline_keyboard"][0][0]["callback_data"] \
            == "crisis.emergency"
        assert "crisis.emergency" in world.flows.steps
        her.say("is anyone there?")
        await bot.settle()
        assert api.consultant(STAFF).messages()[-1]["text"].endswith("is anyone there?")
    finally:
        await stop_bot(bot)


@pytest.mark.e2e
async def test_quick_exit_during_a_case(api: FakeBotApi, bot: Harness) -> None:
    her = api.woman(4300, language_code="ru")
    staff = api.consultant(STAFF)
    number = await open_case(bot, her)
    her.say("первое сообщение")
    her.say("второе сообщение")
    await bot.settle()
    relayed = [m["message_id"] for m in staff.messages()]
    staff.say("Отвечаю вам", reply_to=relayed[-1])
    await bot.settle()
    her.say("/exit")
    await bot.settle()
    deleted = {i for c in api.called("deleteMessages") if c.params["chat_id"] == STAFF
               for i in c.params["message_ids"]}
    assert set(relayed) <= deleted
    assert staff.messages()[-1]["text"].startswith(f"Case {number} withdrawn")
    assert len(her.screen()) == 1  # the consultant's answer went too
    assert await bot.store.case_for(bot.key(4300)) is None
    assert not set(relayed) & {m["message_id"] for m in staff.messages()}
    staff.say("ещё ответ", reply_to=staff.messages()[-1]["message_id"])  # nobody to reach
    await bot.settle()
    assert "does not belong to an open case" in staff.messages()[-1]["text"]
    assert len(her.screen()) == 1


@pytest.mark.e2e
async def test_staff_message_that_is_not_a_reply(api: FakeBotApi, bot: Harness) -> None:
    her = api.woman(4400, language_code="uk")
    staff = api.consultant(STAFF)
    await open_case(bot, her)
    seen = len(her.screen())
    staff.say("Доброго ранку всім")
    await bot.settle()
    assert staff.messages()[-1]["text"].startswith("To answer a woman, reply to one of her")
    assert len(her.screen()) == seen


@pytest.mark.e2e
async def test_block_and_rate_limit(api: FakeBotApi, bot: Harness) -> None:
    her = api.woman(4500, language_code="en")
    staff = api.consultant(STAFF)
    await open_case(bot, her)
    start = len(staff.messages())
    for i in range(RELAYS_PER_WINDOW + 3):
        her.say(f"message {i}")
    await bot.settle()
    assert len(staff.messages()) - start == RELAYS_PER_WINDOW
    assert sum("writing very fast" in m["text"] for m in bot_messages(her)) == 1
    staff.say("/block", reply_to=staff.messages()[-1]["message_id"])
    await bot.settle()
    assert "blocked" in staff.messages()[-1]["text"]
    case = await bot.store.get_case(await bot.store.case_for(bot.key(4500)) or "")
    assert case is not None and case.blocked


@pytest.mark.e2e
async def test_database_never_holds_her_chat_id_in_the_clear(api: FakeBotApi,
                                                             bot: Harness) -> None:
    her = api.woman(HER_ID, first_name=NAME, username=USERNAME, language_code="uk")
    await open_case(bot, her)
    her.say("привіт")
    await bot.settle()
    files = b"".join(p.read_bytes() for p in bot.db.parent.glob(bot.db.name + "*"))
    assert str(HER_ID).encode() not in files
    assert HER_ID.to_bytes(8, "big") not in files and HER_ID.to_bytes(8, "little") not in files


def test_hours_are_read_and_checked() -> None:
    hours = consultant_hours("uk=Mon-Fri 10:00-18:00 Europe/Kyiv; "
                             "Sat,Sun 12:00-14:00 Europe/Moscow")
    assert set(hours) == {"uk", "*"}
    assert hours["uk"].line.days == frozenset(range(5))
    assert hours["*"].line.days == frozenset({5, 6})
    assert not hours["uk"].is_open(SATURDAY_NOON)
    assert hours["uk"].next_open(SATURDAY_NOON).weekday() == 0
    assert not hours["*"].is_open(SATURDAY_NOON)  # 15:00 in Moscow
    assert hours["*"].is_open(SATURDAY_NOON.replace(hour=9, minute=30))  # 12:30 in Moscow
    for bad in ("Mon-Fri 10-18 Europe/Kyiv", "Mon-Fri 18:00-10:00 Europe/Kyiv",
                "Mon-Fry 10:00-18:00 Europe/Kyiv", "Mon-Fri 10:00-18:00 Mars/Base",
                "de=Mon-Fri 10:00-18:00 Europe/Berlin"):
        with pytest.raises(OptionError):
            consultant_hours(bad)
