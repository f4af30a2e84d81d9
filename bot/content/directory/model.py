"""The loaded directory: services, national hotlines and the search over them.

Pure: no file reading or YAML here, so the engine can hold and search a
``Directory`` without importing the loader.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from bot.content.directory.hours import Hours
from bot.content.directory.places import COUNTRIES, City, Gazetteer
from bot.engine.geo import haversine_km

Texts = dict[str, str]  # one text per language: uk, ru, en


@dataclass(frozen=True, slots=True)
class Service:
    """One friendly service at one place, as staff described it."""

    id: str
    country: str
    city: City
    name: Texts
    lat: float  # the building, or the city centre when ``approximate``
    lon: float
    attributes: frozenset[str] = frozenset()  # need ids from bot.vocabulary.NEEDS
    organization: Texts | None = None
    description: Texts | None = None
    for_whom: Texts | None = None
    address: Texts | None = None
    approximate: bool = False  # only the city is known: "ask by phone"
    address_confidential: bool = False  # never show the address or a map pin
    phones: tuple[str, ...] = ()  # E.164
    hours: tuple[Hours, ...] = ()
    women_only_hours: tuple[Hours, ...] = ()
    languages: tuple[str, ...] = ()
    website: str = ""
    verified: date | None = None
    path: str = ""
    line: int = 0

    def has(self, need: str) -> bool:
        """Whether the service meets this need; women-only hours count as women-only."""
        if need == "women_only" and self.women_only_hours:
            return True
        return need in self.attributes

    @property
    def tz(self) -> str:
        return self.city.tz


@dataclass(frozen=True, slots=True)
class Hotline:
    """A national phone line (OST, legal aid, violence) from the country file."""

    id: str
    country: str
    name: Texts
    phone: str  # E.164, or a short national number such as "1547"
    attributes: frozenset[str] = frozenset()
    description: Texts | None = None
    hours: tuple[Hours, ...] = ()
    check: bool = False  # the source itself says the number needs checking
    verified: date | None = None
    path: str = ""
    line: int = 0


@dataclass(frozen=True, slots=True)
class Found:
    """A service found by a search, with its distance when a point was given.

    ``elsewhere`` is True when she asked for a city that has no matching service
    and this is one of the nearest in the same country (the card then says so).
    """

    service: Service
    distance_km: float | None = None
    elsewhere: bool = False


@dataclass(frozen=True, slots=True)
class Directory:
    """Every service and hotline, with the cities they are in."""

    gazetteer: Gazetteer
    services: tuple[Service, ...] = ()
    hotline_list: tuple[Hotline, ...] = ()
    by_id: dict[str, Service] = field(default_factory=dict)

    @classmethod
    def build(cls, gazetteer: Gazetteer, services: Iterable[Service],
              hotlines: Iterable[Hotline] = ()) -> Directory:
        ordered = tuple(sorted(services, key=lambda s: (s.country, s.city.id, s.id)))
        return cls(gazetteer, ordered, tuple(hotlines), {s.id: s for s in ordered})

    def find_city(self, text: str) -> City | None:
        """The city she means, in any language or spelling, typos included."""
        return self.gazetteer.find(text)

    def city(self, city_id: str) -> City | None:
        return self.gazetteer.get(city_id)

    def countries(self) -> list[str]:
        return sorted({s.country for s in self.services} | {h.country for h in self.hotline_list})

    def hotlines(self, country: str, needs: Iterable[str] = ()) -> list[Hotline]:
        """The national hotlines of a country; with needs, those that meet any of them first."""
        wanted = set(needs)
        lines = [h for h in self.hotline_list if h.country == country.upper()]
        if wanted:
            lines.sort(key=lambda h: not (wanted & h.attributes))  # stable: file order kept
        return lines

    def search(self, needs: Iterable[str], *, city: str | None = None,
               near: tuple[float, float] | None = None, radius_km: float = 50) -> list[Found]:
        """Services that meet every need, in a stable order.

        With ``near``: those within ``radius_km``, nearest first. With ``city``
        (an id or any spelling): those in the city; if there are none, every
        matching service elsewhere in the same country, nearest to the city
        centre first, flagged ``elsewhere``. Ties are broken by id.
        """
        wanted = tuple(needs)
        matching = [s for s in self.services if all(s.has(n) for n in wanted)]
        if near is not None:
            lat, lon = near
            found = [Found(s, haversine_km(lat, lon, s.lat, s.lon)) for s in matching]
            found = [f for f in found if f.distance_km is not None and f.distance_km <= radius_km]
            return sorted(found, key=lambda f: (f.distance_km, f.service.id))
        if city is None:
            return [Found(s) for s in matching]
        place = self.gazetteer.get(city) or self.gazetteer.find(city)
        if place is None:
            return []
        here = [s for s in matching if s.city.id == place.id]
        if here:
            # exact buildings before city-only entries, then nearest the centre
            return [Found(s) for s in sorted(here, key=lambda s: (
                s.approximate, haversine_km(place.lat, place.lon, s.lat, s.lon), s.id))]
        others = [
            Found(s, haversine_km(place.lat, place.lon, s.lat, s.lon), elsewhere=True)
            for s in matching if s.country == place.country
        ]
        return sorted(others, key=lambda f: (f.distance_km, f.service.id))


def country_name(code: str, lang: str) -> str:
    """The country's name in her language, or its code if the bot does not know it."""
    country = COUNTRIES.get(code)
    return country.names.get(lang, country.names["en"]) if country else code
