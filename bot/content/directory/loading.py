"""Reading and checking ``directory/*.yaml`` and ``directory/cities.yaml``.

Two passes, every problem reported at once as ``file:line: where: what is wrong``:
pass 1 checks each entry's shape (fields, translations, phones, hours,
coordinates); pass 2 checks what spans files (duplicate ids, cities that
resolve and lie in the file's country, coordinates inside the country).
Soft problems (entries not checked by staff, or checked too long ago) are
``Issue``s: the file still loads.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from babel import localedata
from phonenumbers import shortnumberinfo

from bot.content import yamlsrc
from bot.content.directory.hours import EXAMPLE as HOURS_EXAMPLE
from bot.content.directory.hours import Hours, parse_hours
from bot.content.directory.model import Directory, Hotline, Service, Texts
from bot.content.directory.places import COUNTRIES, City, Gazetteer, city_key
from bot.errors import C_, DataError, Issue, StaffText, nearest, shown_path
from bot.limits import VERIFIED_STALE_DAYS
from bot.vocabulary import LANGS, NEEDS

CITIES_FILE = "cities.yaml"

FILE_FIELDS = ("country", "services", "hotlines")
SERVICE_FIELDS = (
    "id", "name", "organization", "description", "for_whom", "city", "address",
    "coordinates", "approximate", "address_confidential", "phone", "hours",
    "women_only_hours", "attributes", "languages", "website", "verified", "notes", "source",
)
SERVICE_REQUIRED = ("id", "name", "city")
HOTLINE_FIELDS = (
    "id", "name", "description", "phone", "attributes", "hours", "check", "verified",
    "notes", "source",
)
HOTLINE_REQUIRED = ("id", "name", "phone")
CITY_FIELDS = ("names", "aliases", "country", "coordinates", "tz")
CITY_REQUIRED = ("names", "country", "coordinates", "tz")

_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_COORDS = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*[,;]\s*(-?\d+(?:\.\d+)?)\s*$")
_SHORT = re.compile(r"^\d{3,6}$")
_PHONE_SEPARATORS = re.compile(r"[\s\-().]")
COORDS_EXAMPLE = "50.4501, 30.5234"
_LANG_SLIPS = {"ua": "uk", "ukr": "uk", "rus": "ru", "eng": "en"}  # codes staff often mix up
PHONE_EXAMPLE = "+380 44 123 45 67"


def _did_you_mean(word: str, choices: list[str] | tuple[str, ...]) -> StaffText | str:
    close = nearest(word, choices)
    return C_(": did you mean '{name}'?", name=close) if close else ""


def _no_text(key: str, lang: str) -> StaffText:
    """A field of the directory lacks one language (each language its own sentence)."""
    if lang == "uk":
        return C_("'{key}' has no Ukrainian ('uk') text", key=key)
    if lang == "ru":
        return C_("'{key}' has no Russian ('ru') text", key=key)
    return C_("'{key}' has no English ('en') text", key=key)


@dataclass
class _File:
    """One file being checked: where problems go, and how the file is named to staff."""

    shown: str
    errors: list[DataError]
    issues: list[Issue] = field(default_factory=list)

    def error(self, line: int, where: str, message: StaffText) -> None:
        self.errors.append(DataError(self.shown, line, message, where))

    def fields(self, node: yamlsrc.Node, where: str, known: tuple[str, ...],
               required: tuple[str, ...], line: int | None = None) -> None:
        for key in node:
            if key not in known:
                self.error(node.line_of(key), where, C_(
                    "unknown field '{key}'{hint}", key=key, hint=_did_you_mean(key, known)))
        for key in required:
            if key not in node:
                self.error(line or node.line, where, C_("missing field '{key}'", key=key))

    def texts(self, node: yamlsrc.Node, key: str, where: str) -> Texts | None:
        value = node.get(key)
        if value is None:
            return None
        line = node.line_of(key)
        if not isinstance(value, dict):
            self.error(line, where,
                       C_("'{key}' must have a text for each language: uk, ru and en", key=key))
            return None
        texts: Texts = {}
        for lang, text in value.items():
            lang_line = value.line_of(lang) if isinstance(value, yamlsrc.Node) else line
            if lang not in LANGS:
                hint = (C_(": did you mean '{name}'?", name=_LANG_SLIPS[lang])
                        if lang in _LANG_SLIPS
                        else _did_you_mean(lang, LANGS) or C_(": use uk, ru and en"))
                self.error(lang_line, where, C_("'{key}' has an unknown language {lang}{hint}",
                                                key=key, lang=repr(lang), hint=hint))
            elif not isinstance(text, str | int | float) or not str(text).strip():
                self.error(lang_line, where,
                           C_("'{key}' has an empty '{lang}' text", key=key, lang=lang))
            else:
                texts[lang] = str(text).strip()
        for lang in LANGS:
            if lang not in value:
                self.error(line, where, _no_text(key, lang))
        return texts if len(texts) == len(LANGS) else None

    def flag(self, node: yamlsrc.Node, key: str, where: str) -> bool:
        value = node.get(key, False)
        if not isinstance(value, bool):
            self.error(node.line_of(key), where, C_(
                "'{key}' must be true or false, not {value}", key=key, value=repr(value)))
            return False
        return value

    def strings(self, node: yamlsrc.Node, key: str, where: str, like: str) -> list[tuple[str, int]]:
        """A field that holds one string or a list of them, each with its line."""
        value = node.get(key)
        if value is None:
            return []
        if isinstance(value, str | int):
            return [(str(value), node.line_of(key))]
        if isinstance(value, list):
            out = []
            for i, item in enumerate(value):
                line = value.line_of(i) if isinstance(value, yamlsrc.NodeList) else node.line
                if isinstance(item, str | int):
                    out.append((str(item), line))
                else:
                    self.error(line, where, C_(
                        "each item of '{key}' must be a single line, like {example}", key=key,
                        example=repr(like)))
            return out
        self.error(node.line_of(key), where,
                   C_("'{key}' must be a list, like [{example}]", key=key, example=like))
        return []

    def hours(self, node: yamlsrc.Node, key: str, where: str) -> tuple[Hours, ...]:
        lines = []
        for text, line in self.strings(node, key, where, HOURS_EXAMPLE):
            parsed = parse_hours(text)
            if parsed is None:
                self.error(line, where, C_(
                    "opening hours {value} do not parse: write them like {example}",
                    value=repr(text), example=repr(HOURS_EXAMPLE)))
            else:
                lines.append(parsed)
        return tuple(lines)

    def attributes(self, node: yamlsrc.Node, where: str) -> frozenset[str]:
        found = set()
        for text, line in self.strings(node, "attributes", where, "ost, free"):
            if text in NEEDS:
                found.add(text)
            else:
                hint = _did_you_mean(text, tuple(NEEDS)) or C_(": see the list in {file}",
                                                               file="directory/README.md")
                self.error(line, where, C_("unknown attribute {value}{hint}", value=repr(text),
                                           hint=hint))
        return frozenset(found)

    def coordinates(self, node: yamlsrc.Node, where: str) -> tuple[float, float] | None:
        value = node.get("coordinates")
        if value is None:
            return None
        line = node.line_of("coordinates")
        pair: tuple[float, float] | None = None
        if isinstance(value, str):
            match = _COORDS.match(value)
            if match:
                pair = float(match[1]), float(match[2])
        elif (isinstance(value, list) and len(value) == 2
              and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)):
            pair = float(value[0]), float(value[1])
        if pair is None or not (-90 <= pair[0] <= 90 and -180 <= pair[1] <= 180):
            shown = value if isinstance(value, str) else ", ".join(map(str, value)) \
                if isinstance(value, list) else value
            self.error(line, where, C_(
                "coordinates {value} do not parse: write them like {example}",
                value=repr(shown), example=repr(COORDS_EXAMPLE)))
            return None
        return pair

    def verified(self, node: yamlsrc.Node, where: str, today: date) -> date | None:
        value = node.get("verified")
        if value is None:
            return None
        line = node.line_of("verified")
        if isinstance(value, str):
            try:
                value = date.fromisoformat(value.strip())
            except ValueError:
                pass  # not a date: the check below reports it, with its line
        if not isinstance(value, date):
            self.error(line, where, C_("'verified' must be a date like 2025-03-31, not {value}",
                                       value=repr(value)))
            return None
        if value > today:
            self.error(line, where, C_("'verified' date {date} is in the future",
                                       date=value.isoformat()))
            return None
        return value

    def entry_id(self, node: yamlsrc.Node, fallback: str) -> tuple[str, str]:
        """The entry's id (or a stand-in) and the breadcrumb naming it in messages."""
        value = node.get("id")
        if isinstance(value, str) and _ID.match(value):
            return value, f"{fallback.split('[')[0]}[{value}]"
        if value is not None:
            self.error(node.line_of("id"), fallback, C_(
                "id {value} must be lower-case letters, digits and '-', like 'kyiv-sociotherapy'",
                value=repr(value)))
        return "", fallback


def _phone(raw: object, country: str, allow_short: bool
           ) -> tuple[str | None, StaffText | None, bool]:
    """Normalise a phone number: (E.164 or short number, problem, unknown short number)."""
    example = repr(PHONE_EXAMPLE)
    if isinstance(raw, bool) or not isinstance(raw, str | int):
        return None, C_("phone number {value} must be written as text, like {example}",
                        value=repr(raw), example=example), False
    text = str(raw).strip()
    if isinstance(raw, int) and len(text) >= 10:
        text = "+" + text  # YAML read an unquoted "+380..." as a number and dropped the "+"
    digits = _PHONE_SEPARATORS.sub("", text)
    if _SHORT.match(digits):
        if not allow_short:
            return None, C_("phone number {value} is a short number: only hotlines may have one; "
                            "write the full number, like {example}", value=repr(text),
                            example=example), False
        short = phonenumbers.parse(digits, country)
        known = shortnumberinfo.is_valid_short_number_for_region(short, country)
        return digits, None, not known
    parsed: phonenumbers.PhoneNumber | None
    try:
        parsed = phonenumbers.parse(text, country)
    except phonenumbers.NumberParseException:
        parsed = None
    if parsed is None or not phonenumbers.is_valid_number(parsed):
        return None, C_("phone number {value} is not a valid number: write it like {example}",
                        value=repr(text), example=example), False
    region = phonenumbers.region_code_for_number(parsed)
    if region != country:
        where: object = (COUNTRIES[region].names if region in COUNTRIES
                         else region or C_("no country"))
        return None, C_("phone number {value} is a number in {country}, but this file is for "
                        "{file_country}", value=repr(text), country=where,
                        file_country=COUNTRIES[country].names), False
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164), None, False


@dataclass
class _Draft:
    """A service that passed pass 1, waiting for its city and coordinates to be checked."""

    fields: dict[str, Any]
    city_text: str
    city_line: int
    coords: tuple[float, float] | None
    coords_line: int
    where: str
    file: _File


def load(directory_dir: Path, today: date | None = None
         ) -> tuple[Directory, list[DataError], list[Issue]]:
    """Load and check the whole directory; return it with every error and issue found."""
    today = today or date.today()
    root = directory_dir.parent
    errors: list[DataError] = []
    issues: list[Issue] = []

    def shown(path: Path) -> str:
        return shown_path(path, root)

    gazetteer = _load_cities(directory_dir / CITIES_FILE, shown(directory_dir / CITIES_FILE),
                             errors)
    drafts: list[_Draft] = []
    hotlines: list[Hotline] = []
    seen: dict[str, str] = {}  # id -> "file:line" of its first use
    for path in sorted(directory_dir.glob("*.yaml")):
        if path.name == CITIES_FILE:
            continue
        file = _File(shown(path), errors)
        data, problems = yamlsrc.read(path, file.shown)
        errors.extend(problems)
        if data is None:
            continue
        _check_country_file(data, file, today, drafts, hotlines, seen)
        issues.extend(file.issues)

    services = [s for d in drafts if (s := _place(d, gazetteer)) is not None]
    items: list[Service | Hotline] = [*services, *hotlines]
    for item in items:
        service = isinstance(item, Service)
        if item.verified is None:
            issues.append(Issue(item.path, item.line, C_(
                "service {id} has not been checked by staff yet: call them, then add "
                "'verified: YYYY-MM-DD'", id=repr(item.id)) if service else C_(
                "hotline {id} has not been checked by staff yet: call them, then add "
                "'verified: YYYY-MM-DD'", id=repr(item.id))))
        elif today - item.verified > timedelta(days=VERIFIED_STALE_DAYS):
            issues.append(Issue(item.path, item.line, C_(
                "service {id} was last verified on {date}, more than 6 months ago: call them "
                "and update 'verified'", id=repr(item.id), date=item.verified.isoformat())
                if service else C_(
                "hotline {id} was last verified on {date}, more than 6 months ago: call them "
                "and update 'verified'", id=repr(item.id), date=item.verified.isoformat())))
    return Directory.build(gazetteer, services, hotlines), errors, issues


def _check_country_file(data: Any, file: _File, today: date, drafts: list[_Draft],
                        hotlines: list[Hotline], seen: dict[str, str]) -> None:
    """Pass 1 over one country file: shape of the file and of each entry."""
    if not isinstance(data, yamlsrc.Node):
        file.error(1, "", C_("the file must start with 'country:' and then list 'services:'"))
        return
    file.fields(data, "", FILE_FIELDS, ("country",))
    country = data.get("country")
    if "country" in data and (not isinstance(country, str) or country.upper() not in COUNTRIES):
        codes = tuple(COUNTRIES)
        hint = _did_you_mean(str(country).upper(), codes) or C_(": use one of {codes}",
                                                                 codes=", ".join(codes))
        file.error(data.line_of("country"), "", C_("unknown country {value}{hint}",
                                                   value=repr(country), hint=hint))
        return
    if "country" not in data:
        return
    country = str(country).upper()
    for key, check in (("services", _check_service), ("hotlines", _check_hotline)):
        entries = data.get(key)
        if entries is None:
            continue
        if not isinstance(entries, yamlsrc.NodeList):
            file.error(data.line_of(key), "", C_(
                "'{key}' must be a list of entries, each starting with '- id:'", key=key))
            continue
        for i, entry in enumerate(entries):
            where = f"{key}[{i + 1}]"
            if not isinstance(entry, yamlsrc.Node):
                file.error(entries.line_of(i), where, C_(
                    "each entry must be a set of fields like 'id:', 'name:', 'city:'"))
                continue
            entry_id, where = file.entry_id(entry, where)
            if entry_id:
                place = f"{file.shown}:{entry.line_of('id')}"
                if entry_id in seen:
                    file.error(entry.line_of("id"), where, C_(
                        "id {value} is used twice (first at {place})", value=repr(entry_id),
                        place=seen[entry_id]))
                    continue
                seen[entry_id] = place
            check(entry, entry_id, where, country, file, today, drafts, hotlines)


def _check_service(entry: yamlsrc.Node, entry_id: str, where: str, country: str, file: _File,
                   today: date, drafts: list[_Draft], hotlines: list[Hotline]) -> None:
    before = len(file.errors)
    file.fields(entry, where, SERVICE_FIELDS, SERVICE_REQUIRED)
    phones = []
    for text, line in file.strings(entry, "phone", where, PHONE_EXAMPLE):
        number, problem, _unknown = _phone(text, country, allow_short=False)
        if problem:
            file.error(line, where, problem)
        elif number:
            phones.append(number)
    languages = []
    for code, line in file.strings(entry, "languages", where, "uk, ru"):
        if localedata.exists(code) and re.fullmatch(r"[a-z]{2,3}", code):
            languages.append(code)
        else:
            file.error(line, where, C_(
                "unknown language code {value}: use two-letter codes like uk, ru, en",
                value=repr(code)))
    website = entry.get("website", "")
    if website and not (isinstance(website, str) and re.match(r"https?://\S+$", website)):
        file.error(entry.line_of("website"), where, C_(
            "website {value} must start with https:// (or http://)", value=repr(website)))
        website = ""
    city = entry.get("city")
    if "city" in entry and not isinstance(city, str):
        file.error(entry.line_of("city"), where,
                   C_("city {value} must be a name, like 'kyiv'", value=repr(city)))
    fields = dict(
        id=entry_id, country=country,
        name=file.texts(entry, "name", where),
        organization=file.texts(entry, "organization", where),
        description=file.texts(entry, "description", where),
        for_whom=file.texts(entry, "for_whom", where),
        address=file.texts(entry, "address", where),
        approximate=file.flag(entry, "approximate", where),
        address_confidential=file.flag(entry, "address_confidential", where),
        phones=tuple(phones),
        hours=file.hours(entry, "hours", where),
        women_only_hours=file.hours(entry, "women_only_hours", where),
        attributes=file.attributes(entry, where),
        languages=tuple(languages),
        website=website or "",
        verified=file.verified(entry, where, today),
        path=file.shown, line=entry.line,
    )
    coords = file.coordinates(entry, where)
    if len(file.errors) == before and isinstance(city, str):
        drafts.append(_Draft(fields, city, entry.line_of("city"), coords,
                             entry.line_of("coordinates"), where, file))


def _check_hotline(entry: yamlsrc.Node, entry_id: str, where: str, country: str, file: _File,
                   today: date, drafts: list[_Draft], hotlines: list[Hotline]) -> None:
    before = len(file.errors)
    file.fields(entry, where, HOTLINE_FIELDS, HOTLINE_REQUIRED)
    phone = None
    if "phone" in entry:
        phone, problem, unknown = _phone(entry["phone"], country, allow_short=True)
        if problem:
            file.error(entry.line_of("phone"), where, problem)
        elif unknown:
            file.issues.append(Issue(file.shown, entry.line_of("phone"), C_(
                "{where}: short number {value} is not in the phone-number database for "
                "{country}: check it", where=where, value=repr(phone),
                country=COUNTRIES[country].names)))
    name = file.texts(entry, "name", where)
    description = file.texts(entry, "description", where)
    attributes = file.attributes(entry, where)
    hours = file.hours(entry, "hours", where)
    check = file.flag(entry, "check", where)
    verified = file.verified(entry, where, today)
    if len(file.errors) == before and name and phone:
        hotlines.append(Hotline(entry_id, country, name, phone, attributes, description, hours,
                                check, verified, file.shown, entry.line))


def _place(draft: _Draft, gazetteer: Gazetteer) -> Service | None:
    """Pass 2 for one service: its city resolves, in its country, and its coordinates too."""
    file, where, country = draft.file, draft.where, draft.fields["country"]
    city = gazetteer.get(draft.city_text) or gazetteer.exact(draft.city_text)
    if city is None:
        close = gazetteer.suggest(draft.city_text)
        hint = (C_(": did you mean '{name}'?", name=close) if close
                else C_(": add it to {file} first", file="directory/cities.yaml"))
        file.error(draft.city_line, where, C_("unknown city {value}{hint}",
                                              value=repr(draft.city_text), hint=hint))
        return None
    if city.country != country:
        file.error(draft.city_line, where, C_(
            "city {value} is in {country}, but this file is for {file_country}",
            value=repr(city.id), country=COUNTRIES[city.country].names,
            file_country=COUNTRIES[country].names))
        return None
    fields = dict(draft.fields)
    if draft.coords is None:
        lat, lon = city.lat, city.lon
        fields["approximate"] = True  # only the city is known
    else:
        lat, lon = draft.coords
        if not COUNTRIES[country].contains(lat, lon):
            file.error(draft.coords_line, where, _outside(lat, lon, country))
            return None
    return Service(city=city, lat=lat, lon=lon, **fields)


def _outside(lat: float, lon: float, country: str) -> StaffText:
    return C_("coordinates {lat}, {lon} are outside {country}: check the numbers, and that "
              "latitude comes first", lat=lat, lon=lon, country=COUNTRIES[country].names)


def _load_cities(path: Path, shown: str, errors: list[DataError]) -> Gazetteer:
    """Read the gazetteer; a broken city is left out and reported."""
    file = _File(shown, errors)
    data, problems = yamlsrc.read(path, shown)
    errors.extend(problems)
    cities: list[City] = []
    if data is None:
        return Gazetteer(())
    if not isinstance(data, yamlsrc.Node):
        file.error(1, "", C_("the file must list cities, each under its id, like 'kyiv:'"))
        return Gazetteer(())
    owner: dict[str, str] = {}  # name key -> city id
    for city_id, entry in data.items():
        where = f"cities[{city_id}]"
        line = data.line_of(city_id)
        if not _ID.match(str(city_id)):
            file.error(line, where, C_(
                "city id {value} must be lower-case letters, digits and '-', like 'kryvyi-rih'",
                value=repr(city_id)))
            continue
        if not isinstance(entry, yamlsrc.Node):
            file.error(line, where,
                       C_("each city needs 'names', 'country', 'coordinates' and 'tz'"))
            continue
        before = len(errors)
        file.fields(entry, where, CITY_FIELDS, CITY_REQUIRED, line)
        names = file.texts(entry, "names", where)
        aliases = [a for a, _ in file.strings(entry, "aliases", where, "Kiev")]
        country = entry.get("country")
        if "country" in entry and country not in COUNTRIES:
            hint = _did_you_mean(str(country), tuple(COUNTRIES))
            file.error(entry.line_of("country"), where, C_("unknown country {value}{hint}",
                                                           value=repr(country), hint=hint))
        coords = file.coordinates(entry, where)
        if coords and country in COUNTRIES and not COUNTRIES[country].contains(*coords):
            file.error(entry.line_of("coordinates"), where,
                       _outside(coords[0], coords[1], str(country)))
        tz = entry.get("tz")
        if "tz" in entry:
            try:
                ZoneInfo(str(tz))
            except (ZoneInfoNotFoundError, ValueError):
                file.error(entry.line_of("tz"), where, C_(
                    "unknown time zone {value}: use a name like 'Europe/Kyiv'", value=repr(tz)))
        if len(errors) > before or not names or not coords:
            continue
        for name in (city_id, *names.values(), *aliases):
            key = city_key(name)
            if owner.get(key, city_id) != city_id:
                file.error(line, where, C_(
                    "the name {value} also belongs to city {city}: keep it on one city only",
                    value=repr(name), city=repr(owner[key])))
            owner.setdefault(key, city_id)
        cities.append(City(city_id, str(country), names, coords[0], coords[1], str(tz),
                           tuple(aliases)))
    return Gazetteer(cities)
