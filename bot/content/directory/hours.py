"""Opening hours: parsing the lines staff write ("mon-fri 09:00-18:00") and "open now".

Days are 0 = Monday ... 6 = Sunday, as in ``datetime.weekday()`` and Babel's
day names. Times are minutes after midnight; a closing time at or before the
opening time runs past midnight into the next day ("fri 20:00-02:00" is open
early on Saturday too), and "24:00" closes at midnight.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo

# Every spelling of a day staff may use: English, Ukrainian and Russian abbreviations.
DAY_NAMES: dict[str, int] = {}
for _day, _names in enumerate((
    ("mon", "monday", "mo", "пн", "понеділок", "понедельник"),
    ("tue", "tuesday", "tu", "вт", "вівторок", "вторник"),
    ("wed", "wednesday", "we", "ср", "середа", "среда"),
    ("thu", "thursday", "th", "чт", "четвер", "четверг"),
    ("fri", "friday", "fr", "пт", "пʼятниця", "п'ятниця", "пятница"),
    ("sat", "saturday", "sa", "сб", "субота", "суббота"),
    ("sun", "sunday", "su", "нд", "вс", "неділя", "воскресенье"),
)):
    for _name in _names:
        DAY_NAMES[_name] = _day
EVERY_DAY = ("daily", "every day", "щодня", "ежедневно")
EXAMPLE = "mon-fri 09:00-18:00"

_LINE = re.compile(
    r"^\s*(?P<days>.+?)\s+(?P<open>\d{1,2}[:.]\d{2})\s*[-–—]\s*(?P<close>\d{1,2}[:.]\d{2})\s*$"
)
_DAY_RANGE = re.compile(r"\s*[-–—]\s*")


@dataclass(frozen=True, slots=True)
class Hours:
    """One line of opening hours: on these days, from ``opens`` to ``closes`` minutes."""

    days: frozenset[int]
    opens: int  # minutes after midnight
    closes: int  # minutes after midnight, 1..1440; <= opens means it closes the next day
    text: str  # the line as staff wrote it, for HSDS descriptions

    @property
    def overnight(self) -> bool:
        return self.closes <= self.opens

    def covers(self, weekday: int, minute: int) -> bool:
        """Whether this line has the place open at ``minute`` of local ``weekday``."""
        if self.overnight:
            return (weekday in self.days and minute >= self.opens) or (
                (weekday - 1) % 7 in self.days and minute < self.closes
            )
        return weekday in self.days and self.opens <= minute < self.closes


def _minutes(text: str) -> int | None:
    hours, minutes = (int(part) for part in re.split(r"[:.]", text))
    if minutes > 59 or hours > 24 or (hours == 24 and minutes):
        return None
    return hours * 60 + minutes


def _days(text: str) -> frozenset[int] | None:
    text = text.casefold().replace("’", "'").strip()
    if text in EVERY_DAY:
        return frozenset(range(7))
    days: set[int] = set()
    for part in text.split(","):
        ends = _DAY_RANGE.split(part.strip())
        if len(ends) > 2 or not all(end in DAY_NAMES for end in ends):
            return None
        first, last = DAY_NAMES[ends[0]], DAY_NAMES[ends[-1]]
        day = first
        days.add(day)
        while day != last:  # "fri-mon" wraps over the weekend
            day = (day + 1) % 7
            days.add(day)
    return frozenset(days)


def parse_hours(text: str) -> Hours | None:
    """Parse one line like "mon-fri 09:00-18:00"; None if it does not parse."""
    match = _LINE.match(text)
    if not match:
        return None
    days = _days(match["days"])
    opens, closes = _minutes(match["open"]), _minutes(match["close"])
    if not days or opens is None or closes is None or opens == 1440:
        return None
    if closes == 0:
        closes = 1440  # "20:00-00:00" closes at midnight
    return Hours(days, opens, closes, text.strip())


def is_open(hours: tuple[Hours, ...], now: datetime, tz: str) -> bool:
    """Whether any line has the place open at the aware datetime ``now``, in zone ``tz``."""
    if now.tzinfo is None:
        raise TypeError("is_open needs an aware datetime")
    local = now.astimezone(ZoneInfo(tz))
    minute = local.hour * 60 + local.minute
    return any(line.covers(local.weekday(), minute) for line in hours)


def as_time(minutes: int) -> time:
    """A clock time for display; midnight closing (1440) shows as 00:00."""
    minutes %= 1440
    return time(minutes // 60, minutes % 60)
