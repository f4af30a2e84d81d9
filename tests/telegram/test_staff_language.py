"""What the bot tells staff is in PODRUGA_STAFF_LANG: hand-over notices, /reload (and the
problems it refuses), /stats."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from conftest import bot_messages, open_case, start_bot, stop_bot
from fakeapi import FakeBotApi

from bot.config import load_settings
from bot.content.world import load_world
from bot.errors import OptionError

STAFF_CHAT = -1001234567890
CASE_KEY = b"k" * 32
SECRET = "s" * 48



def test_staff_language_is_a_setting() -> None:
    env = {"PODRUGA_SECRET": SECRET}
    assert load_settings(env, need_token=False).staff_lang == "en"
    assert load_settings({**env, "PODRUGA_STAFF_LANG": "UK"}, need_token=False).staff_lang == "uk"
    with pytest.raises(OptionError, match="PODRUGA_STAFF_LANG must be one of en, uk, ru"):
        load_settings({**env, "PODRUGA_STAFF_LANG": "de"}, need_token=False)


@pytest.mark.e2e
@pytest.mark.parametrize(("lang", "opened", "closed", "stats", "reloaded"), [
    ("uk", "Нове звернення {number} · мова ru · країна UA", "Звернення {number} закрито.",
     ("Запитання за останні 30 днів", "Запитань поки не було."), "Перезавантажено: кроків — "),
    ("ru", "Новое обращение {number} · язык ru · страна UA", "Обращение {number} закрыто.",
     ("Вопросы за последние 30 дней", "Вопросов пока не было."), "Перезагружено: шагов — "),
    ("en", "New case {number} · language ru · country UA", "Case {number} closed.",
     ("Questions in the last 30 days", "No questions counted yet."), "Reloaded: "),
])
async def test_staff_read_the_bot_in_their_language(api: FakeBotApi, world: Any, tmp_path: Path,
                                                     lang: str, opened: str, closed: str,
                                                     stats: tuple[str, str],
                                                     reloaded: str) -> None:
    bot = await start_bot(api, world, tmp_path / "podruga.sqlite3", staff_chat=STAFF_CHAT,
                          case_key=CASE_KEY, staff_lang=lang,
                          staff_ids=frozenset({42, 900001}))  # 900001: the fake's consultant
    try:
        her = api.woman(7100, language_code="ru")  # she reads Russian whatever staff read
        number = await open_case(bot, her)
        staff = api.consultant(STAFF_CHAT)
        assert staff.messages()[-1]["text"].startswith(opened.format(number=number))
        staff.say("/close", reply_to=staff.messages()[-1]["message_id"])
        await bot.settle()
        assert staff.messages()[-1]["text"] == closed.format(number=number)
        assert "Консультантка завершила" in bot_messages(her)[-1]["text"]

        member = api.woman(42, language_code="en")  # in PODRUGA_STAFF_IDS
        member.say("/stats")
        await bot.settle()
        assert bot_messages(member)[-1]["text"].startswith(stats)
        member.say("/reload")
        await bot.settle()
        assert bot_messages(member)[-1]["text"].startswith(reloaded)
    finally:
        await stop_bot(bot)


@pytest.mark.e2e
@pytest.mark.parametrize(("lang", "refused", "problem"), [
    ("uk", "Перезавантаження відхилено", "крок 'start': невідоме поле 'sya'; можливо, 'say'?"),
    ("ru", "Перезагрузка отменена", "шаг 'start': неизвестное поле 'sya'; возможно, 'say'?"),
    ("en", "Reload refused", "step 'start': unknown field 'sya'; did you mean 'say'?"),
])
async def test_reload_names_a_broken_file_in_the_staff_language(
        api: FakeBotApi, tmp_path: Path, lang: str, refused: str, problem: str) -> None:
    root = tmp_path / "content"
    source = Path(__file__).resolve().parents[2]
    for name in ("flows", "locales", "directory"):
        shutil.copytree(source / name, root / name)
    world, errors, _ = load_world(root)
    assert world is not None, errors
    bot = await start_bot(api, world, tmp_path / "podruga.sqlite3", staff_lang=lang)
    try:
        ost = root / "flows" / "ost.yaml"
        lines = ost.read_text(encoding="utf-8").splitlines(keepends=True)
        line = next(i for i, text in enumerate(lines) if text.startswith("    say:")) + 1
        lines[line - 1] = lines[line - 1].replace("say:", "sya:")
        ost.write_text("".join(lines), encoding="utf-8")
        member = api.woman(42, language_code="en")  # in PODRUGA_STAFF_IDS
        member.say("/reload")
        await bot.settle()
        answer = bot_messages(member)[-1]["text"]
        assert answer.startswith(refused)
        assert f"flows/ost.yaml:{line}: {problem}" in answer.splitlines()
    finally:
        await stop_bot(bot)
