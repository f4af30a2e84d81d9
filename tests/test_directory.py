"""Tests of the directory: loading and its errors, city lookup, search, cards, hotlines,
HSDS export and the ``podruga find`` / ``directory export`` commands."""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from babel import Locale

from bot.cli.directory import export_main
from bot.cli.find import find_main
from bot.content.directory import Found, load, render_card, render_hotline
from bot.content.directory.hours import is_open, parse_hours
from bot.engine.geo import haversine_km
from bot.vocabulary import NEEDS

ROOT = Path(__file__).resolve().parent.parent
BAD = ROOT / "tests" / "data" / "bad" / "directory"
TODAY = date(2026, 11, 23)
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)  # a Monday


@dataclass(frozen=True)
class FakeTr:
    """A translator that returns the msgid, with a real Babel locale for formatting."""

    locale: Locale

    def gettext(self, message: str) -> str:
        return message

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return singular if n == 1 else plural

    def pgettext(self, context: str, message: str) -> str:
        return message


def tr(lang: str) -> FakeTr:
    return FakeTr(Locale.parse(lang))


# A small directory of test services (not real organisations), written the way staff write.
TEST_FILE = """\
country: UA
services:
  - id: kyiv-a
    name: {uk: А, ru: А, en: A}
    city: Київ
    address: {uk: "вул. Тестова, 1", ru: "ул. Тестовая, 1", en: "1 Test St"}
    coordinates: 50.4600, 30.5200
    phone: "+380 44 123 45 67"
    hours: ["mon-fri 09:00-18:00", "sat 10:00-14:00"]
    attributes: [ost, free, anonymous]
    verified: 2026-10-01
  - id: kyiv-b
    name: {uk: Б, ru: Б, en: B}
    city: kyiv
    coordinates: 50.4501, 30.5234
    hours: ["fri 20:00-02:00"]
    women_only_hours: ["tue 14:00-18:00"]
    attributes: [hiv_test, free]
    verified: 2025-01-01
  - id: kyiv-c
    name: {uk: В, ru: В, en: C}
    city: kyiv
    address_confidential: true
    coordinates: 50.4000, 30.6000
    attributes: [shelter, women_only, pregnant]
  - id: bila-near
    name: {uk: Г, ru: Г, en: D}
    city: zhytomyr
    attributes: [ost]
  - id: dnipro-a
    name: {uk: Ґ, ru: Г, en: E}
    city: Днепр
    attributes: [ost, no_documents]
hotlines:
  - id: ua-test-line
    name: {uk: Лінія, ru: Линия, en: Line}
    phone: "0 800 507 727"
    attributes: [ost]
"""
KZ_FILE = """\
country: KZ
services:
  - id: almaty-a
    name: {uk: Алмати, ru: Алматы, en: Almaty}
    city: almaty
    coordinates: 43.2380, 76.9450
    hours: ["mon-fri 09:00-18:00"]
"""


@pytest.fixture(scope="module")
def test_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("proj") / "directory"
    folder.mkdir()
    shutil.copy(ROOT / "directory" / "cities.yaml", folder / "cities.yaml")
    (folder / "ua.yaml").write_text(TEST_FILE, encoding="utf-8")
    (folder / "kz.yaml").write_text(KZ_FILE, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def directory(test_dir: Path):  # type: ignore[no-untyped-def]
    found, errors, _issues = load(test_dir, today=TODAY)
    assert errors == []
    return found


# --- loading ------------------------------------------------------------------------------

def test_shipped_directory_loads_without_errors() -> None:
    found, errors, issues = load(ROOT / "directory", today=TODAY)
    assert [str(e) for e in errors] == []
    assert len(found.services) >= 20
    # nothing shipped is checked by staff yet: every entry is a warning, none silently trusted
    assert all(s.verified is None for s in found.services)
    unverified = [i for i in issues if "has not been checked by staff" in i.message]
    assert len(unverified) == len(found.services) + len(found.hotline_list)
    # nothing invented: the seeds give no phone, address or building coordinates
    assert all(not s.phones and s.approximate and not s.address for s in found.services)
    for service in found.services:
        assert (service.lat, service.lon) == (service.city.lat, service.city.lon)


def test_shipped_cities_lie_in_their_countries_and_cover_the_regions() -> None:
    found, _errors, _issues = load(ROOT / "directory", today=TODAY)
    ids = set(found.gazetteer.cities)
    ukraine = {"kyiv", "kharkiv", "odesa", "dnipro", "kryvyi-rih", "lviv", "kropyvnytskyi",
               "khmelnytskyi", "zaporizhzhia", "vinnytsia", "lutsk", "zhytomyr", "uzhhorod",
               "ivano-frankivsk", "mykolaiv", "poltava", "rivne", "sumy", "ternopil", "kherson",
               "cherkasy", "chernivtsi", "chernihiv"}
    russia = {"moscow", "saint-petersburg", "yekaterinburg", "tomsk", "naberezhnye-chelny",
              "chapaevsk", "kazan", "novosibirsk"}
    capitals = {"minsk", "chisinau", "tbilisi", "yerevan", "baku", "astana", "bishkek",
                "dushanbe", "tashkent", "ashgabat"}
    assert ukraine | russia | capitals <= ids


@pytest.mark.parametrize("path", sorted(BAD.glob("*.yaml")), ids=lambda p: p.name)
def test_bad_file_gives_exact_errors(path: Path, tmp_path: Path) -> None:
    expected = [line.removeprefix("# expect: ") for line in path.read_text().splitlines()
                if line.startswith("# expect: ")]
    assert expected, "a bad file must say what it expects on its first lines"
    folder = tmp_path / "directory"
    folder.mkdir()
    if path.name.startswith("cities"):
        shutil.copy(path, folder / "cities.yaml")
        shown = "directory/cities.yaml"
    else:
        shutil.copy(ROOT / "directory" / "cities.yaml", folder / "cities.yaml")
        shutil.copy(path, folder / path.name)
        shown = f"directory/{path.name}"
    _found, errors, _issues = load(folder, today=TODAY)
    assert [str(e) for e in errors] == [shown + e for e in expected]


def test_errors_in_several_files_are_all_reported(tmp_path: Path) -> None:
    folder = tmp_path / "directory"
    folder.mkdir()
    shutil.copy(ROOT / "directory" / "cities.yaml", folder / "cities.yaml")
    for name in ("bad_phone.yaml", "unknown_city.yaml", "hours_do_not_parse.yaml"):
        shutil.copy(BAD / name, folder / name)
    _found, errors, _issues = load(folder, today=TODAY)
    assert {e.path for e in errors} == {
        "directory/bad_phone.yaml", "directory/unknown_city.yaml",
        "directory/hours_do_not_parse.yaml"}


def test_stale_and_unverified_entries_are_warnings(test_dir: Path) -> None:
    _found, errors, issues = load(test_dir, today=TODAY)
    assert errors == []
    messages = {str(i) for i in issues}
    assert ("directory/ua.yaml:12: service 'kyiv-b' was last verified on 2025-01-01, "
            "more than 6 months ago: call them and update 'verified'") in messages
    assert not any("'kyiv-a'" in m for m in messages)  # verified last month
    assert any("'kyiv-c' has not been checked by staff" in m for m in messages)


def test_phones_are_stored_as_e164(directory) -> None:  # type: ignore[no-untyped-def]
    assert directory.by_id["kyiv-a"].phones == ("+380441234567",)
    assert directory.hotlines("UA")[0].phone == "+380800507727"


def test_no_coordinates_means_city_centre_and_approximate(directory) -> None:  # type: ignore[no-untyped-def]
    service = directory.by_id["bila-near"]
    assert service.approximate
    assert (service.lat, service.lon) == (service.city.lat, service.city.lon)


# --- city lookup --------------------------------------------------------------------------

@pytest.mark.parametrize("text, city", [
    ("Київ", "kyiv"), ("Киев", "kyiv"), ("Kyiv", "kyiv"), ("Kiev", "kyiv"), ("kiev", "kyiv"),
    ("kyiv city", "kyiv"), ("КИЇВ", "kyiv"), ("м. Київ", "kyiv"), ("г. Киев", "kyiv"),
    ("Кіев", "kyiv"), ("Kyjiv", "kyiv"), ("Kyev", "kyiv"), ("Киэв", "kyiv"),
    ("Днепр", "dnipro"), ("Дніпро", "dnipro"), ("Dnipro", "dnipro"),
    ("Dnepropetrovsk", "dnipro"), ("Днепропетровск", "dnipro"), ("Dnipo", "dnipro"),
    ("Харків", "kharkiv"), ("Харьков", "kharkiv"), ("Kharkiv", "kharkiv"),
    ("Kharkov", "kharkiv"), ("Харкив", "kharkiv"), ("Harkov", "kharkiv"),
    ("Кривой Рог", "kryvyi-rih"), ("Кривий Ріг", "kryvyi-rih"), ("Kryvyi Rih", "kryvyi-rih"),
    ("Одесса", "odesa"), ("Odessa", "odesa"), ("Одеса", "odesa"),
    ("Запорожье", "zaporizhzhia"), ("Кировоград", "kropyvnytskyi"),
    ("Луганськ", "luhansk"), ("Lugansk", "luhansk"), ("Ужгород", "uzhhorod"),
    ("Санкт-Петербург", "saint-petersburg"), ("Питер", "saint-petersburg"),
    ("St. Petersburg", "saint-petersburg"), ("Екатеринбург", "yekaterinburg"),
    ("Єкатеринбург", "yekaterinburg"), ("Набережные Челны", "naberezhnye-chelny"),
    ("Чапаевск", "chapaevsk"), ("Кишинёв", "chisinau"), ("Кишинев", "chisinau"),
    ("Алма-Ата", "almaty"), ("Нур-Султан", "astana"),
    ("Кам'янець", None), ("привет", None), ("", None), ("xyz", None),
])
def test_find_city_any_spelling(directory, text: str, city: str | None) -> None:  # type: ignore[no-untyped-def]
    found = directory.find_city(text)
    assert (found.id if found else None) == city


def test_apostrophes_do_not_matter(directory) -> None:  # type: ignore[no-untyped-def]
    assert directory.find_city("Kyiv’") is directory.find_city("Kyiv")


# --- search -------------------------------------------------------------------------------

def test_near_is_nearest_first_with_distances(directory) -> None:  # type: ignore[no-untyped-def]
    here = (50.4547, 30.5238)  # central Kyiv
    found = directory.search([], near=here, radius_km=50)
    assert [f.service.id for f in found] == ["kyiv-b", "kyiv-a", "kyiv-c"]
    distances = [f.distance_km for f in found]
    assert distances == sorted(distances)
    assert distances[0] == pytest.approx(haversine_km(*here, 50.4501, 30.5234))


def test_near_respects_the_radius(directory) -> None:  # type: ignore[no-untyped-def]
    here = (50.4547, 30.5238)
    wide = directory.search([], near=here, radius_km=200)
    assert [f.service.id for f in wide] == ["kyiv-b", "kyiv-a", "kyiv-c", "bila-near"]
    assert directory.search([], near=(46.48, 30.72), radius_km=50) == []  # Odesa: nothing


def test_city_search_lists_the_city_exact_first(directory) -> None:  # type: ignore[no-untyped-def]
    found = directory.search([], city="Киев")
    assert [f.service.id for f in found] == ["kyiv-b", "kyiv-a", "kyiv-c"]
    assert all(f.distance_km is None and not f.elsewhere for f in found)


def test_city_without_services_offers_nearest_in_country(directory) -> None:  # type: ignore[no-untyped-def]
    found = directory.search(["ost"], city="Lviv")
    assert [f.service.id for f in found] == ["bila-near", "kyiv-a", "dnipro-a"]
    assert all(f.elsewhere for f in found)
    assert [f.distance_km for f in found] == sorted(f.distance_km for f in found)
    # never another country's services
    assert directory.search([], city="Minsk") == []


@pytest.mark.parametrize("need", list(NEEDS))
def test_each_filter(directory, need: str) -> None:  # type: ignore[no-untyped-def]
    found = {f.service.id for f in directory.search([need])}
    expected = {s.id for s in directory.services
                if need in s.attributes or (need == "women_only" and s.women_only_hours)}
    assert found == expected
    assert all(directory.by_id[i].has(need) for i in found)


def test_filters_combine(directory) -> None:  # type: ignore[no-untyped-def]
    assert {f.service.id for f in directory.search(["ost"])} == {"kyiv-a", "bila-near",
                                                                  "dnipro-a"}
    assert {f.service.id for f in directory.search(["ost", "free"])} == {"kyiv-a"}
    assert {f.service.id for f in directory.search(["ost", "free", "shelter"])} == set()
    # women-only hours count as women-only
    assert {f.service.id for f in directory.search(["women_only"])} == {"kyiv-b", "kyiv-c"}
    assert [f.service.id for f in directory.search(["free"], city="kyiv")] == ["kyiv-b",
                                                                               "kyiv-a"]


def test_search_order_is_stable(directory) -> None:  # type: ignore[no-untyped-def]
    first = directory.search([], city="Lviv")
    assert first == directory.search([], city="Lviv")
    assert [f.service.id for f in directory.search([])] == sorted(
        (s.id for s in directory.services),
        key=lambda i: (directory.by_id[i].country, directory.by_id[i].city.id, i))


# --- opening hours ------------------------------------------------------------------------

def at(y: int, m: int, d: int, hh: int, mm: int, tz: str) -> datetime:
    from zoneinfo import ZoneInfo

    return datetime(y, m, d, hh, mm, tzinfo=ZoneInfo(tz))


@pytest.mark.parametrize("when, expected", [
    (at(2026, 11, 20, 19, 59, "Europe/Kyiv"), False),  # Friday before opening
    (at(2026, 11, 20, 20, 0, "Europe/Kyiv"), True),
    (at(2026, 11, 20, 23, 59, "Europe/Kyiv"), True),
    (at(2026, 11, 21, 1, 59, "Europe/Kyiv"), True),  # Saturday, still Friday's night
    (at(2026, 11, 21, 2, 0, "Europe/Kyiv"), False),
    (at(2026, 11, 21, 20, 30, "Europe/Kyiv"), False),  # Saturday evening: not a Friday
    (at(2026, 11, 20, 17, 30, "UTC"), False),  # 19:30 in Kyiv
    (at(2026, 11, 20, 23, 30, "UTC"), True),  # 01:30 Saturday in Kyiv
])
def test_open_past_midnight(when: datetime, expected: bool) -> None:
    hours = (parse_hours("fri 20:00-02:00"),)
    assert is_open(hours, when, "Europe/Kyiv") is expected


def test_open_now_depends_on_the_service_time_zone(directory) -> None:  # type: ignore[no-untyped-def]
    # 06:30 UTC in January: 08:30 in Kyiv (closed), midday in Almaty (open)
    instant = datetime(2026, 1, 14, 6, 30, tzinfo=UTC)
    kyiv, almaty = directory.by_id["kyiv-a"], directory.by_id["almaty-a"]
    assert not is_open(kyiv.hours, instant, kyiv.tz)
    assert is_open(almaty.hours, instant, almaty.tz)
    en = tr("en")
    assert "(closed now)" in render_card(Found(kyiv), "en", en, instant).text
    assert "(open now)" in render_card(Found(almaty), "en", en, instant).text


@pytest.mark.parametrize("text, days, opens, closes", [
    ("mon-fri 09:00-18:00", {0, 1, 2, 3, 4}, 540, 1080),
    ("пн-пт 9:00-18:00", {0, 1, 2, 3, 4}, 540, 1080),
    ("сб, нд 10.00–14.00", {5, 6}, 600, 840),
    ("fri-mon 20:00-00:00", {4, 5, 6, 0}, 1200, 1440),
    ("daily 00:00-24:00", set(range(7)), 0, 1440),
])
def test_hours_parse(text: str, days: set[int], opens: int, closes: int) -> None:
    hours = parse_hours(text)
    assert hours is not None
    assert (set(hours.days), hours.opens, hours.closes) == (days, opens, closes)


@pytest.mark.parametrize("text", ["mon-fri 9-18", "weekdays 09:00-18:00", "mon 25:00-26:00",
                                  "mon 09:00", "mon 09:60-10:00", ""])
def test_hours_that_do_not_parse(text: str) -> None:
    assert parse_hours(text) is None


# --- cards --------------------------------------------------------------------------------

def test_card_in_ukrainian(directory) -> None:  # type: ignore[no-untyped-def]
    now = at(2026, 11, 23, 10, 0, "Europe/Kyiv")  # Monday morning
    found = directory.search([], near=(50.4547, 30.5238))
    card = render_card(next(f for f in found if f.service.id == "kyiv-a"), "uk", tr("uk"), now)
    assert card.id == "kyiv-a"
    assert card.phone == "+380441234567"
    assert "Phone: +380441234567" in card.text
    assert "Address: вул. Тестова, 1, Київ" in card.text
    assert re.search(r"\d,\d км away", card.text)  # Ukrainian decimal comma and unit
    assert "пн–пт 09:00–18:00; сб 10:00–14:00 (open now)" in card.text
    assert "Checked by staff on 1 жовтня 2026\u202fр." in card.text
    assert "Not yet checked" not in card.text
    assert (card.lat, card.lon) == (50.46, 30.52)
    assert "Terms: Free · Anonymous" in card.text and "Offers: OST on site" in card.text


def test_card_in_russian_and_english_use_their_texts(directory) -> None:  # type: ignore[no-untyped-def]
    service = directory.by_id["kyiv-a"]
    ru = render_card(Found(service, 1234.6), "ru", tr("ru"), NOW).text
    en = render_card(Found(service, 1.25), "en", tr("en"), NOW).text
    assert "ул. Тестовая, 1, Киев" in ru and "1 235 км" in ru.replace("\xa0", " ")
    assert "1 Test St, Kyiv" in en and "1.2 km away" in en
    assert "October 1, 2026" in en


def test_unverified_card_says_call_first(directory) -> None:  # type: ignore[no-untyped-def]
    card = render_card(Found(directory.by_id["bila-near"]), "en", tr("en"), NOW)
    assert "Not yet checked by staff: call before you go." in card.text
    assert "Zhytomyr: city only, the exact address is not known yet" in card.text
    assert "Hours: not known yet, call first" in card.text
    assert (card.lat, card.lon) == (None, None)  # no map pin for a city centre


def test_confidential_address_shows_only_the_city(directory) -> None:  # type: ignore[no-untyped-def]
    card = render_card(Found(directory.by_id["kyiv-c"], 3.0), "en", tr("en"), NOW)
    assert "Kyiv: the address is given only by phone" in card.text
    assert (card.lat, card.lon) == (None, None)
    assert "50.4" not in card.text


def test_women_only_hours_and_overnight_hours_on_card(directory) -> None:  # type: ignore[no-untyped-def]
    text = render_card(Found(directory.by_id["kyiv-b"]), "uk", tr("uk"), NOW).text
    assert "Women-only hours: вт 14:00–18:00" in text
    assert "пт 20:00–02:00 (closed now)" in text
    assert "Terms: Women only · Free" in text


def test_every_shipped_card_renders_in_every_language() -> None:
    found, _errors, _issues = load(ROOT / "directory", today=TODAY)
    for lang in ("uk", "ru", "en"):
        for service in found.services:
            card = render_card(Found(service), lang, tr(lang), NOW)
            assert card.text.startswith(service.name[lang])
            assert "Not yet checked by staff: call before you go." in card.text


# --- hotlines -----------------------------------------------------------------------------

def test_shipped_national_hotlines() -> None:
    found, _errors, _issues = load(ROOT / "directory", today=TODAY)
    ukraine = {h.id: h for h in found.hotlines("UA")}
    assert ukraine["ua-ost-hotline"].phone == "+380800507727"
    assert ukraine["ua-legal-aid"].phone == "+380800213103"
    assert not ukraine["ua-ost-hotline"].check
    assert ukraine["ua-hiv-hotline"].check  # CONTENT.md marks it (check)
    assert found.hotlines("ua", ["legal"])[0].id == "ua-legal-aid"
    assert found.hotlines("RU")[0].phone == "+78007000600"
    assert found.hotlines("MD")[0].phone == "+37380088008"
    assert found.hotlines("PL") == []
    line = render_hotline(ukraine["ua-violence-1547"], "uk", tr("uk"))
    assert line == ("Урядова гаряча лінія щодо домашнього насильства: 1547 "
                    "(around the clock) (not yet checked by staff)")


# --- HSDS export --------------------------------------------------------------------------

SCHEMAS = ROOT.parent / "shared" / "hsds" / "schema"
TABLE_SCHEMA = {
    "organizations": "organization", "services": "service", "locations": "location",
    "addresses": "address", "phones": "phone", "schedules": "schedule",
    "service_at_locations": "service_at_location", "attributes": "attribute",
    "taxonomies": "taxonomy", "taxonomy_terms": "taxonomy_term",
}
PROFILE_FIELDS = {"translations", "podruga_id", "hotline", "country", "check", "approximate",
                  "address_confidential", "city_id", "timezone_name"}
JSON_TYPES = {"string": str, "number": (int, float), "boolean": bool, "array": list,
              "object": dict}
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@pytest.mark.skipif(not SCHEMAS.is_dir(), reason="the shared HSDS schemas are not here")
def test_hsds_export_has_the_shape_of_the_schemas(directory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from bot.content.directory import export_hsds

    written = export_hsds(directory, tmp_path)
    assert {p.stem for p in written} == set(TABLE_SCHEMA)
    tables = {p.stem: json.loads(p.read_text()) for p in written}
    for table, schema_name in TABLE_SCHEMA.items():
        schema = json.loads((SCHEMAS / f"{schema_name}.json").read_text())
        for record in tables[table]:
            missing = set(schema["required"]) - set(record)
            assert not missing, f"{table}: {record['id']} lacks {missing}"
            for key, value in record.items():
                if key in PROFILE_FIELDS:
                    continue
                spec = schema["properties"].get(key)
                assert spec is not None, f"{table}.{key} is neither HSDS nor in the profile"
                assert isinstance(value, JSON_TYPES[spec["type"]]), f"{table}.{key}"
                if "enum" in spec:
                    assert value in spec["enum"], f"{table}.{key}={value!r}"
                if spec.get("format") == "uuid":
                    assert UUID.match(value), f"{table}.{key}={value!r}"
    services = {s["id"] for s in tables["services"]}
    locations = {loc["id"] for loc in tables["locations"]}
    for link in tables["service_at_locations"]:
        assert link["service_id"] in services and link["location_id"] in locations
    terms = {t["id"] for t in tables["taxonomy_terms"]}
    assert all(a["taxonomy_term_id"] in terms for a in tables["attributes"])
    # the confidential service leaks neither address nor coordinates
    secret = next(loc for loc in tables["locations"] if loc["address_confidential"])
    assert "latitude" not in secret
    assert all(a["location_id"] != secret["id"] for a in tables["addresses"])
    # the same directory always exports the same ids
    again = {p.stem: json.loads(p.read_text()) for p in export_hsds(directory, tmp_path / "b")}
    assert again == tables


# --- commands -----------------------------------------------------------------------------

def run_find(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = find_main(argv, out, err)
    return code, out.getvalue(), err.getvalue()


def test_find_json_by_city(test_dir: Path) -> None:
    code, out, err = run_find(["--city", "Киев", "--need", "free", "--json", "--lang", "ru",
                               "--dir", str(test_dir.parent)])
    assert (code, err) == (0, "")
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["id"] for r in rows] == ["kyiv-b", "kyiv-a"]
    assert rows[1]["name"] == "А" and rows[1]["city"] == "Киев"
    assert rows[1]["ost"] is True and rows[1]["shelter"] is False
    assert set(NEEDS) <= set(rows[0])
    assert "distance_km" not in rows[0]


def test_find_json_near(test_dir: Path) -> None:
    code, out, _err = run_find(["--near", "50.4547,30.5238", "--need", "ost+free", "--json",
                                "--dir", str(test_dir.parent)])
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and [r["id"] for r in rows] == ["kyiv-a"]
    assert 0 < rows[0]["distance_km"] < 2


def test_find_text_says_when_the_city_has_none(test_dir: Path) -> None:
    code, out, _err = run_find(["--city", "Lviv", "--need", "ost", "--dir", str(test_dir.parent)])
    assert code == 0
    assert out.startswith("There are no services in Lviv in my list yet. The nearest:\n\n")
    assert out.index("\nD\n") < out.index("\nA\n") < out.index("\nE\n")


def test_find_with_nothing_shows_hotlines(test_dir: Path) -> None:
    code, out, _err = run_find(["--city", "Odesa", "--need", "pep", "--dir",
                                str(test_dir.parent)])
    assert code == 0
    assert out.startswith("I found no services for this search.")
    assert "\n\nNational hotlines:\n" in out and "Line: +380800507727" in out


@pytest.mark.parametrize("argv, message", [
    ([], "one of the arguments --city --near is required"),
    (["--city", "Kyiv", "--near", "1,2"], "not allowed with argument"),
    (["--near", "50.45"], "--near needs 'LAT,LON'"),
    (["--near", "450,30"], "is not a place on Earth"),
    (["--city", "Kyiv", "--need", "womn_only"], "did you mean 'women_only'?"),
    (["--city", "Kyiv", "--lang", "de"], "--lang must be uk, ru or en"),
])
def test_find_bad_options_exit_2(argv: list[str], message: str) -> None:
    code, out, err = run_find(argv)
    assert code == 2 and out == ""
    assert message in err and err.startswith("podruga find: ")


def test_find_unknown_city_exits_1(test_dir: Path) -> None:
    code, _out, err = run_find(["--city", "Atlantis", "--dir", str(test_dir.parent)])
    assert code == 1 and "no city called 'Atlantis'" in err


def test_export_command(test_dir: Path, tmp_path: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    code = export_main(["export", "--hsds", str(tmp_path / "hsds"), "--dir",
                        str(test_dir.parent)], out, err)
    assert code == 0 and (tmp_path / "hsds" / "services.json").is_file()
    assert export_main(["--hsds"], out, err) == 2


def test_engine_side_import_pulls_in_no_yaml() -> None:
    code = ("import sys, bot.content.directory; "
            "sys.exit(int(any(m in sys.modules for m in ('yaml', 'phonenumbers'))))")
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT).returncode == 0


def test_readme_example_loads_cleanly(tmp_path: Path) -> None:
    text = (ROOT / "directory" / "README.md").read_text(encoding="utf-8")
    example = re.search(r"```yaml\n(.*?)```", text, re.S)
    assert example is not None
    folder = tmp_path / "directory"
    folder.mkdir()
    shutil.copy(ROOT / "directory" / "cities.yaml", folder / "cities.yaml")
    (folder / "ua.yaml").write_text(example[1], encoding="utf-8")
    found, errors, issues = load(folder, today=TODAY)
    assert (errors, issues) == ([], [])
    service = found.by_id["kyiv-example-ost"]
    assert service.women_only_hours and service.phones == ("+380440000000",)
