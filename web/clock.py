"""The one clock: the current moment, times as the database stores them, and the bounds of
local days.

Every time is stored as UTC text of fixed width (2026-03-01T08:00:00Z), so stored times sort
and compare as text, in SQL and in Python alike. Showing a time to a person (local zone,
language) is web/i18n.py's `format_time`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

# How a moment is stored is the database's business (db/timestamps.py); the clock uses it.
from db.timestamps import FORMAT as STORED_FORMAT
from db.timestamps import from_text, to_text

__all__ = [
    "STORED_FORMAT",
    "day_range",
    "from_text",
    "local_today",
    "start_of_day",
    "to_text",
    "utc_now",
]


def utc_now() -> datetime:
    """Now, in UTC, to the second (what is stored)."""
    return datetime.now(UTC).replace(microsecond=0)


def local_today(tz: str, now: datetime | None = None) -> date:
    """The date in the city's time zone."""
    return (now or utc_now()).astimezone(ZoneInfo(tz)).date()


def start_of_day(day: date, tz: str) -> datetime:
    """Midnight at the start of `day` in the city's time zone."""
    return datetime.combine(day, datetime.min.time(), tzinfo=ZoneInfo(tz))


def day_range(first: date, last: date, tz: str) -> tuple[str, str]:
    """Whole local days from `first` to `last` inclusive as [start, end) in stored text,
    for `column >= start AND column < end`."""
    return to_text(start_of_day(first, tz)), to_text(start_of_day(last + timedelta(days=1), tz))
