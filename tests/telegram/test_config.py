"""Settings from the environment, and ``podruga run`` refusing to start without them."""

from __future__ import annotations

import pytest

from bot.cli import main
from bot.config import TELEGRAM_API, api_url, load_settings, webhook_secret
from bot.engine.replies import Choice, Say, ServiceCard, ServiceList
from bot.errors import OptionError
from bot.limits import MAX_MESSAGE_CHARS
from bot.telegram.app import rate_limiter_for
from bot.telegram.render import chunks, say_html, services_html
from bot.telegram.run import webhook_path

TOKEN = "123456:ABCdefGHIjklMNOpqrSTUvwxYZ012345678"
GOOD = {"TELEGRAM_BOT_TOKEN": TOKEN, "PODRUGA_SECRET": "x" * 32}


def test_good_settings_are_read() -> None:
    settings = load_settings({**GOOD, "PODRUGA_STAFF_IDS": "42, 43;44",
                              "TELEGRAM_API_URL": "http://127.0.0.1:8081/"})
    assert settings.staff_ids == frozenset({42, 43, 44})
    assert settings.api_url == "http://127.0.0.1:8081/bot"
    assert settings.webhook_secret == webhook_secret(b"x" * 32)
    assert TOKEN not in repr(settings) and "xxxx" not in repr(settings)


def test_sends_are_paced_to_telegram_unless_turned_off_for_a_local_server() -> None:
    paced = rate_limiter_for(load_settings(GOOD))
    unpaced = rate_limiter_for(load_settings({**GOOD, "PODRUGA_PACING": "off"}))
    assert paced._base_limiter is not None and paced._group_max_rate > 0
    assert unpaced._base_limiter is None and unpaced._group_max_rate == 0


@pytest.mark.parametrize("value, expected", [
    ("", TELEGRAM_API), ("https://api.telegram.org", TELEGRAM_API),
    ("https://api.telegram.org/bot", TELEGRAM_API),
    ("http://h/custom/{token}/x", "http://h/custom/{token}/x")])
def test_api_url_as_ptb_takes_it(value: str, expected: str) -> None:
    assert api_url(value) == expected


@pytest.mark.parametrize("env, words", [
    ({}, ["TELEGRAM_BOT_TOKEN is not set", "PODRUGA_SECRET is not set"]),
    ({**GOOD, "PODRUGA_SECRET": "short"}, ["PODRUGA_SECRET is 5 bytes long"]),
    ({**GOOD, "TELEGRAM_BOT_TOKEN": "nonsense"}, ["does not look like a bot token"]),
    ({**GOOD, "PODRUGA_STAFF_IDS": "42,bob"}, ["'bob' is not a number"]),
    ({**GOOD, "PODRUGA_STAFF_CHAT": "-100123"}, ["PODRUGA_CASE_KEY is not set"]),
    ({**GOOD, "PODRUGA_WEBHOOK_SECRET": "a b"}, ["PODRUGA_WEBHOOK_SECRET may hold only"]),
    ({**GOOD, "PODRUGA_PACING": "fast"}, ["PODRUGA_PACING must be 'telegram'"]),
])
def test_bad_settings_name_every_problem(env: dict[str, str], words: list[str]) -> None:
    with pytest.raises(OptionError) as caught:
        load_settings(env)
    for word in words:
        assert word in str(caught.value)


def test_run_refuses_to_start_without_token_or_secret(monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("TELEGRAM_BOT_TOKEN", "PODRUGA_SECRET"):
        monkeypatch.delenv(name, raising=False)
    assert main(["run"]) == 2
    err = capsys.readouterr().err
    assert "TELEGRAM_BOT_TOKEN is not set" in err and "PODRUGA_SECRET is not set" in err
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("PODRUGA_SECRET", "too short")
    assert main(["run"]) == 2
    assert "at least 32" in capsys.readouterr().err


def test_webhook_path_comes_from_the_url() -> None:
    assert webhook_path("https://bot.example.org/podruga/hook/") == "podruga/hook"
    with pytest.raises(OptionError):
        webhook_path("bot.example.org/hook")


def test_say_is_escaped_with_footer_in_italics() -> None:
    body = say_html(Say("a <b> & c", ((Choice("x", "main.menu"),),), footer="WHO <2014>"))
    assert body == ["a &lt;b&gt; &amp; c\n\n<i>WHO &lt;2014&gt;</i>"]


def test_long_text_is_split_at_lines_within_the_limit() -> None:
    text = "\n".join(["line " * 100] * 30)
    parts = chunks(text)
    assert len(parts) > 1 and all(len(p) <= MAX_MESSAGE_CHARS for p in parts)
    assert "\n".join(parts) == text
    assert all(len(p) <= MAX_MESSAGE_CHARS for p in chunks("y" * 10000))


def test_service_card_phone_is_plain_e164() -> None:
    listed = ServiceList("In Kyiv:", (ServiceCard("s1", "Clinic <A>", phone="+380441234567"),))
    assert services_html(listed) == ["<b>In Kyiv:</b>\n\nClinic &lt;A&gt;\n☎ +380441234567"]
