"""Settings from the environment, and ``podruga run`` refusing to start without them."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.adapters.telegram.app import rate_limiter_for
from bot.adapters.telegram.render import chunks, say_html, services_html
from bot.adapters.telegram.run import webhook_path
from bot.cli import main
from bot.config import TELEGRAM_API, api_url, load_settings, webhook_secret
from bot.engine.replies import Choice, Say, ServiceCard, ServiceList
from bot.errors import OptionError, StoreError
from bot.limits import MAX_MESSAGE_CHARS
from bot.store import make_store

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
    ({**GOOD, "PODRUGA_DB": "mysql://bob:hunter2@db/podruga"},
     ["PODRUGA_DB must be a postgresql:// URL or the path of a SQLite file; mysql:// is not"]),
    ({**GOOD, "PODRUGA_DB": "sqlite:///var/lib/podruga.sqlite3"},
     ["sqlite:// is not supported: for SQLite give the file's path itself"]),
    ({**GOOD, "PODRUGA_DB": "PostgreSQL://db/podruga"}, ["write the scheme in lower case"]),
    ({**GOOD, "PODRUGA_DB": "/nonexistent/podruga/x.sqlite3"},
     ["PODRUGA_DB: the folder /nonexistent/podruga does not exist"]),
    # Checked even without a staff chat, where the hours have no use yet.
    ({**GOOD, "PODRUGA_CONSULTANT_HOURS": "whenever"},
     ["PODRUGA_CONSULTANT_HOURS: cannot read 'whenever'"]),
    ({**GOOD, "HTTPS_PROXY": "socks5://127.0.0.1:1080"},
     ["HTTPS_PROXY must be an http:// proxy URL", "socks5:// is not supported"]),
    ({**GOOD, "https_proxy": "https://proxy:3128", "HTTPS_PROXY": "http://proxy:3128"},
     ["https_proxy must be an http:// proxy URL"]),
    ({**GOOD, "HTTPS_PROXY": "proxy.example.org:3128"}, ["a URL without http:// is not"]),
    ({**GOOD, "TELEGRAM_API_URL": "http://127.0.0.1:8081", "http_proxy": "socks5://p:1"},
     ["http_proxy must be an http:// proxy URL"]),
])
def test_bad_settings_name_every_problem(env: dict[str, str], words: list[str]) -> None:
    with pytest.raises(OptionError) as caught:
        load_settings(env)
    for word in words:
        assert word in str(caught.value)


def test_settings_that_are_fine_pass(tmp_path: Path) -> None:
    for extra in ({"PODRUGA_DB": str(tmp_path / "podruga.sqlite3")},
                  {"PODRUGA_DB": "postgresql://podruga:pw@db:5432/podruga?search_path=x"},
                  {"PODRUGA_DB": "postgres://podruga@db/podruga"},
                  {"HTTPS_PROXY": "http://user:pw@proxy.example.org:3128"},
                  # the proxy of the other scheme is not the Bot API's business
                  {"http_proxy": "socks5://127.0.0.1:1080"},
                  {"PODRUGA_CONSULTANT_HOURS": "Mon-Fri 10:00-18:00 Europe/Kyiv"}):
        load_settings({**GOOD, **extra})


def test_a_bad_database_url_never_shows_its_password() -> None:
    with pytest.raises(OptionError) as caught:
        load_settings({**GOOD, "PODRUGA_DB": "mysql://bob:hunter2@db/podruga",
                       "HTTPS_PROXY": "socks5://carol:swordfish@proxy:1080"})
    assert "hunter2" not in str(caught.value) and "swordfish" not in str(caught.value)


def test_the_store_refuses_a_url_it_cannot_open(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(StoreError, match="mysql:// is not supported"):
        make_store("mysql://x")
    assert not any(tmp_path.iterdir())  # no folder called 'mysql:'


def test_run_refuses_a_bad_setting_in_one_line_and_makes_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("PODRUGA_SECRET", "x" * 32)
    monkeypatch.setenv("PODRUGA_DB", "mysql://x")
    assert main(["run"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("podruga: PODRUGA_DB must be") and err.count("\n") == 1
    assert not any(tmp_path.iterdir())


def test_run_refuses_a_plain_http_webhook_for_telegram(monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("PODRUGA_SECRET", "x" * 32)
    monkeypatch.delenv("TELEGRAM_API_URL", raising=False)
    assert main(["run", "--webhook", "http://bot.example.org/tg"]) == 2
    assert "--webhook must be an https:// URL" in capsys.readouterr().err


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
