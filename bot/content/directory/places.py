"""Places: the countries and cities the directory knows, and finding a city by any spelling.

Theory of operation: every name of a city (its uk/ru/en names and the aliases
staff list in ``directory/cities.yaml``) is reduced to a *key*: case folded,
apostrophes and the words "city", "місто", "город" dropped, Cyrillic
transliterated to Latin, and the letters that spellings disagree on merged
(і/и/ы/й/y → i, ё/є/э → e, х/kh → x, Ukrainian h and Russian g → g, doubled
letters → one). So Київ, Киев, Kyiv, Kiev and "kyiv city" meet at a few keys,
and a typo is one fuzzy comparison (rapidfuzz) away from one of them.

Pure: no file reading here; the directory loader builds the ``Gazetteer``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from bot.vocabulary import COUNTRIES as REGION

FUZZY_CUTOFF = 80  # rapidfuzz ratio (0-100) a typo must reach to count as that city


@dataclass(frozen=True, slots=True)
class Country:
    """A country the directory may list services in, with a rough outline for checks."""

    code: str  # ISO 3166-1 alpha-2, upper case
    names: dict[str, str]  # uk, ru, en
    boxes: tuple[tuple[float, float, float, float], ...]  # (south, west, north, east)

    def contains(self, lat: float, lon: float) -> bool:
        return any(s <= lat <= n and w <= lon <= e for s, w, n, e in self.boxes)


# Bounding boxes are deliberately generous (a few tenths of a degree beyond the
# border): they catch swapped or mistyped coordinates, not a building on the border.
_OUTLINES: dict[str, Country] = {
    c.code: c
    for c in (
        Country("UA", {"uk": "Україна", "ru": "Украина", "en": "Ukraine"},
                ((44.2, 22.0, 52.5, 40.3),)),
        Country("RU", {"uk": "Росія", "ru": "Россия", "en": "Russia"},
                ((54.2, 19.5, 55.4, 23.0),  # Kaliningrad
                 (41.1, 26.9, 82.0, 180.0), (64.0, -180.0, 72.0, -168.9))),
        Country("BY", {"uk": "Білорусь", "ru": "Беларусь", "en": "Belarus"},
                ((51.2, 23.1, 56.2, 32.8),)),
        Country("MD", {"uk": "Молдова", "ru": "Молдова", "en": "Moldova"},
                ((45.4, 26.6, 48.5, 30.2),)),
        Country("GE", {"uk": "Грузія", "ru": "Грузия", "en": "Georgia"},
                ((41.0, 39.9, 43.6, 46.8),)),
        Country("AM", {"uk": "Вірменія", "ru": "Армения", "en": "Armenia"},
                ((38.8, 43.4, 41.4, 46.7),)),
        Country("AZ", {"uk": "Азербайджан", "ru": "Азербайджан", "en": "Azerbaijan"},
                ((38.3, 44.7, 42.0, 50.7),)),
        Country("KZ", {"uk": "Казахстан", "ru": "Казахстан", "en": "Kazakhstan"},
                ((40.5, 46.4, 55.5, 87.4),)),
        Country("KG", {"uk": "Киргизстан", "ru": "Кыргызстан", "en": "Kyrgyzstan"},
                ((39.1, 69.2, 43.3, 80.3),)),
        Country("TJ", {"uk": "Таджикистан", "ru": "Таджикистан", "en": "Tajikistan"},
                ((36.6, 67.3, 41.1, 75.2),)),
        Country("UZ", {"uk": "Узбекистан", "ru": "Узбекистан", "en": "Uzbekistan"},
                ((37.1, 55.9, 45.6, 73.2),)),
        Country("TM", {"uk": "Туркменістан", "ru": "Туркменистан", "en": "Turkmenistan"},
                ((35.1, 52.4, 42.8, 66.7),)),
    )
}
# The countries of the region (bot.vocabulary), in its order, each with its outline: a
# code added there without an outline here stops the import with a KeyError.
COUNTRIES: dict[str, Country] = {code: _OUTLINES[code] for code in REGION}


@dataclass(frozen=True, slots=True)
class City:
    """A city the bot knows: its names, centre and time zone."""

    id: str
    country: str
    names: dict[str, str]  # uk, ru, en
    lat: float
    lon: float
    tz: str  # IANA time zone, e.g. "Europe/Kyiv"
    aliases: tuple[str, ...] = ()

    def name(self, lang: str) -> str:
        return self.names.get(lang) or self.names["en"]


_CYRILLIC = {
    "а": "a", "б": "b", "в": "v", "г": "g", "ґ": "g", "д": "d", "е": "e", "є": "e",
    "ё": "e", "ж": "zh", "з": "z", "и": "i", "і": "i", "ї": "i", "й": "i", "к": "k",
    "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t",
    "у": "u", "ф": "f", "х": "x", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "",
    "ы": "i", "ь": "", "э": "e", "ю": "iu", "я": "ia",
}
# Words around a city name that say nothing about which city it is.
_FILLER = {
    "city", "town", "misto", "mista", "gorod", "goroda", "g", "m", "the", "of", "in",
    "v", "u", "iz", "z",
}
_APOSTROPHES = re.compile(r"['’ʼ`´‘]")
_NOT_LETTER = re.compile(r"[^a-z ]+")
_H_NOT_DIGRAPH = re.compile(r"(?<![szc])h")
_DOUBLED = re.compile(r"(.)\1+")


def city_key(text: str) -> str:
    """Reduce a city name in any script or spelling to its comparison key."""
    text = unicodedata.normalize("NFC", text).casefold()
    text = _APOSTROPHES.sub("", text)
    text = "".join(_CYRILLIC.get(ch, ch) for ch in text)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = _NOT_LETTER.sub(" ", text.replace("-", " "))
    text = text.replace("kh", "x")
    text = _H_NOT_DIGRAPH.sub("g", text)  # Ukrainian Kharkiv/Luhansk vs Russian Lugansk
    text = text.replace("y", "i").replace("j", "i").replace("w", "v")
    text = _DOUBLED.sub(r"\1", text)
    words = [w for w in text.split() if w not in _FILLER]
    return " ".join(words)


class Gazetteer:
    """The known cities, found by id or by any name, alias or near-miss spelling."""

    __slots__ = ("cities", "_by_key", "_keys")

    def __init__(self, cities: Iterable[City]) -> None:
        self.cities: dict[str, City] = {c.id: c for c in cities}
        self._by_key: dict[str, str] = {}
        for city in self.cities.values():
            for name in (city.id, *city.names.values(), *city.aliases):
                key = city_key(name)
                if key:
                    self._by_key.setdefault(key, city.id)
        self._keys = sorted(self._by_key)

    def get(self, city_id: str) -> City | None:
        return self.cities.get(city_id)

    def exact(self, text: str) -> City | None:
        """The city whose id, name or alias this is (any case or script), without guessing."""
        found = self._by_key.get(city_key(text))
        return self.cities[found] if found else None

    def find(self, text: str) -> City | None:
        """The city she most likely means, typos included; None if nothing is close."""
        key = city_key(text)
        if not key:
            return None
        if key in self._by_key:
            return self.cities[self._by_key[key]]
        best = process.extractOne(key, self._keys, scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF)
        if best is not None:
            return self.cities[self._by_key[best[0]]]
        # "я в Харкові зараз": try each run of one to three words, exact keys only
        words = key.split()
        for size in (3, 2, 1):
            for start in range(len(words) - size + 1):
                part = " ".join(words[start:start + size])
                if part in self._by_key and len(part) > 2:
                    return self.cities[self._by_key[part]]
        return None

    def suggest(self, text: str) -> str | None:
        """The id of the closest known city, for a "did you mean" in an error message."""
        best = process.extractOne(city_key(text), self._keys, scorer=fuzz.ratio, score_cutoff=60)
        return self._by_key[best[0]] if best else None
