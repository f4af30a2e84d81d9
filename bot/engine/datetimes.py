"""Days and times she reads, as a phrase that fits its sentence in every language.

Babel gives the parts in the reader's locale: the time of day from the CLDR
skeleton ``Hm`` (``10:00``) and the time zone as its city (``Київ``, ``Киев``,
``Kyiv``). CLDR has no day names in the case a sentence needs («в понеділок»,
«в среду» are accusative; CLDR's are nominative), so the day with its
preposition is a catalog string, one per weekday, and Babel's time goes into it.
"""

from __future__ import annotations

from datetime import datetime, tzinfo

from babel.dates import format_skeleton, get_timezone_location

from bot.engine.translator import Translator


def _on_weekday(tr: Translator, weekday: int) -> str:
    """'on Monday at {time}' and the rest: written out so that pybabel finds every one."""
    phrases = (
        tr.pgettext("consultants back", "on Monday at {time}"),
        tr.pgettext("consultants back", "on Tuesday at {time}"),
        tr.pgettext("consultants back", "on Wednesday at {time}"),
        tr.pgettext("consultants back", "on Thursday at {time}"),
        tr.pgettext("consultants back", "on Friday at {time}"),
        tr.pgettext("consultants back", "on Saturday at {time}"),
        tr.pgettext("consultants back", "on Sunday at {time}"),
    )
    return phrases[weekday]


def back_at(moment: datetime, zone: tzinfo, now: datetime, tr: Translator) -> str:
    """When someone is back, as it follows "They will be back": "on Monday at 10:00
    (Kyiv time)", «в понеділок з 10:00 (час: Київ)», «в понедельник с 10:00 (время: Киев)».

    ``moment`` is in the future (within a week); the day is said as today, tomorrow or
    the weekday, counted in ``zone``, and the zone is always named: she may live elsewhere.
    """
    local = moment.astimezone(zone)
    ahead = (local.date() - now.astimezone(zone).date()).days
    time = format_skeleton("Hm", local, tzinfo=zone, locale=tr.locale)
    if ahead == 0:
        day = tr.pgettext("consultants back", "today at {time}")
    elif ahead == 1:
        day = tr.pgettext("consultants back", "tomorrow at {time}")
    else:
        day = _on_weekday(tr, local.weekday())
    city = get_timezone_location(zone, locale=tr.locale, return_city=True)
    return tr.pgettext("consultants back", "{when} ({city} time)").format(
        when=day.format(time=time), city=city)
