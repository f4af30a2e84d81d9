"""Service cards and hotline lines in her language: labels through the catalog,
hours, dates and distances formatted per locale with Babel, in the service's time zone.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from babel import Locale
from babel.dates import format_date, format_interval, format_skeleton, get_day_names
from babel.units import format_unit

from bot.content.directory.hours import Hours, as_time, is_open
from bot.content.directory.model import Found, Hotline, Service, Texts
from bot.engine.replies import ServiceCard
from bot.vocabulary import NEEDS

# Needs that say who is welcome and on what terms; the rest are what the place offers.
TERMS = ("women_only", "pregnant", "children", "active_use", "free", "anonymous", "no_documents")


class Translator(Protocol):
    """What rendering needs from a translator: gettext and the Babel locale."""

    @property
    def locale(self) -> Locale: ...

    def gettext(self, message: str) -> str: ...


def _text(texts: Texts | None, lang: str) -> str:
    if not texts:
        return ""
    return texts.get(lang) or texts.get("en", "")


def _days(days: frozenset[int], locale: Locale, tr: Translator) -> str:
    """Day runs in the locale's short names: "Mon–Fri, Sun"; all seven is "daily"."""
    if len(days) == 7:
        return tr.gettext("daily")
    names = get_day_names("abbreviated", locale=locale)
    runs: list[tuple[int, int]] = []
    for day in sorted(days):
        if runs and runs[-1][1] == day - 1:
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    parts = []
    for first, last in runs:
        if first == last:
            parts.append(names[first])
        elif last == first + 1:
            parts.append(f"{names[first]}, {names[last]}")
        else:
            parts.append(f"{names[first]}–{names[last]}")
    return ", ".join(parts)


def _times(line: Hours, locale: Locale, tr: Translator) -> str:
    if line.opens == 0 and line.closes == 1440:
        return tr.gettext("around the clock")
    start, end = as_time(line.opens), as_time(line.closes)
    if not line.overnight and line.closes < 1440:
        return format_interval(start, end, "Hm", locale=locale)
    # past midnight or up to 24:00: Babel's interval would read it as going backwards
    first, last = (format_skeleton("Hm", t, locale=locale) for t in (start, end))
    return f"{first}–{last}"


def format_hours(hours: tuple[Hours, ...], tr: Translator) -> str:
    """Opening hours for display, one "days times" group per line of the entry."""
    parts = []
    for line in hours:
        times = _times(line, tr.locale, tr)
        parts.append(times if len(line.days) == 7 and line.opens == 0 and line.closes == 1440
                     else f"{_days(line.days, tr.locale, tr)} {times}")
    return "; ".join(parts)


def format_distance(km: float, tr: Translator) -> str:
    """A distance with the locale's number format and unit: "1,2 км", "120 km"."""
    value: float = round(km, 1) if km < 10 else round(km)
    return format_unit(value, "length-kilometer", "short", locale=tr.locale)


def _address(service: Service, lang: str, tr: Translator) -> str:
    city = service.city.name(lang)
    if service.address_confidential:
        return tr.gettext("{city}: the address is given only by phone").format(city=city)
    if service.approximate or not service.address:
        return tr.gettext("{city}: city only, the exact address is not known yet").format(
            city=city)
    return tr.gettext("Address: {address}, {city}").format(
        address=_text(service.address, lang), city=city)


def render_card(found: Found, lang: str, tr: Translator, now: datetime) -> ServiceCard:
    """Render one found service as a card in her language, for the aware time ``now``."""
    service = found.service
    lines = [_text(service.name, lang)]
    organization = _text(service.organization, lang)
    if organization and organization != lines[0]:
        lines.append(organization)
    if service.description:
        lines.append(_text(service.description, lang))
    if service.for_whom:
        lines.append(tr.gettext("For whom: {text}").format(text=_text(service.for_whom, lang)))
    terms = [tr.gettext(NEEDS[n]) for n in TERMS if service.has(n)]
    if terms:
        lines.append(tr.gettext("Terms: {items}").format(items=" · ".join(terms)))
    offers = [tr.gettext(label) for need, label in NEEDS.items()
              if need not in TERMS and service.has(need)]
    if offers:
        lines.append(tr.gettext("Offers: {items}").format(items=" · ".join(offers)))
    lines.append(_address(service, lang, tr))
    if found.distance_km is not None:
        distance = format_distance(found.distance_km, tr)
        lines.append(
            tr.gettext("about {distance} away (from the city centre)").format(distance=distance)
            if service.approximate else tr.gettext("{distance} away").format(distance=distance))
    for phone in service.phones:
        lines.append(tr.gettext("Phone: {phone}").format(phone=phone))
    if service.hours:
        state = (tr.gettext("open now") if is_open(service.hours, now, service.tz)
                 else tr.gettext("closed now"))
        lines.append(tr.gettext("Hours: {hours} ({state})").format(
            hours=format_hours(service.hours, tr), state=state))
    else:
        lines.append(tr.gettext("Hours: not known yet, call first"))
    if service.women_only_hours:
        lines.append(tr.gettext("Women-only hours: {hours}").format(
            hours=format_hours(service.women_only_hours, tr)))
    if service.verified is None:
        lines.append(tr.gettext("Not yet checked by staff: call before you go."))
    else:
        lines.append(tr.gettext("Checked by staff on {date}").format(
            date=format_date(service.verified, "long", locale=tr.locale)))
    show_pin = not (service.approximate or service.address_confidential)
    return ServiceCard(
        id=service.id,
        text="\n".join(line for line in lines if line),
        phone=service.phones[0] if service.phones else "",
        lat=service.lat if show_pin else None,
        lon=service.lon if show_pin else None,
    )


def render_hotline(hotline: Hotline, lang: str, tr: Translator) -> str:
    """One line for a national hotline: name, number, hours, and whether staff checked it."""
    line = tr.gettext("{name}: {phone}").format(name=_text(hotline.name, lang),
                                               phone=hotline.phone)
    if hotline.hours:
        line += f" ({format_hours(hotline.hours, tr)})"
    if hotline.verified is None:
        line += " " + tr.gettext("(not yet checked by staff)")
    return line
