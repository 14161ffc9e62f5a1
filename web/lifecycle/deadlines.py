"""Deadline arithmetic: clock hours or working days (Monday–Friday, skipping holidays),
in the city's time zone. Pure functions: the caller reads the holidays and the clock, so
creating, moving, reopening and automatically closing a report all count the same way.

Working days follow how offices count them: a deadline of N working days falls N working
days later at the same local time of day; a report that arrives on a weekend or holiday is
counted from the start of the next working day (Saturday + 1 working day is the end of
Monday, i.e. Tuesday 00:00).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from web.clock import start_of_day
from web.i18n import lazy_gettext as N_

UNITS = ("hours", "workdays")
UNIT_LABELS = {"hours": N_("jam"), "workdays": N_("hari kerja")}


def is_working_day(day: date, holidays: Collection[date]) -> bool:
    return day.weekday() < 5 and day not in holidays


def next_working_day(day: date, holidays: Collection[date]) -> date:
    """`day` itself if it is a working day, else the first working day after it."""
    # A year of holidays and weekends cannot be longer than this; guards a bad holiday list.
    for _ in range(400):
        if is_working_day(day, holidays):
            return day
        day += timedelta(days=1)
    raise ValueError("no working day within 400 days: check the holiday list")


def add_working_days(
    start: datetime, days: int, holidays: Collection[date], tz: str = "Asia/Jakarta"
) -> datetime:
    """`days` working days after `start`, at the same local time of day (as UTC).

    A report that arrives on a weekend or holiday starts counting from the next working
    day, at the start of that day, as offices do.
    """
    if days < 0:
        raise ValueError("days must not be negative")
    if start.tzinfo is None:
        raise ValueError("start must carry its time zone")
    zone = ZoneInfo(tz)
    local = start.astimezone(zone)
    day = local.date()
    if not is_working_day(day, holidays):
        day = next_working_day(day, holidays)
        local = start_of_day(day, tz)
    remaining = days
    while remaining > 0:
        day = next_working_day(day + timedelta(days=1), holidays)
        remaining -= 1
    result = datetime.combine(day, local.timetz().replace(tzinfo=None), tzinfo=zone)
    return result.astimezone(UTC)


def due_after(
    start: datetime, amount: int, unit: str, holidays: Collection[date], tz: str = "Asia/Jakarta"
) -> datetime:
    """The due time of a target of `amount` `unit`s (clock hours or working days)."""
    if unit == "hours":
        return start + timedelta(hours=amount)
    if unit == "workdays":
        return add_working_days(start, amount, holidays, tz)
    raise ValueError(f"unknown deadline unit {unit!r}")


def autoclose_at(
    resolved_at: datetime, workdays: int, holidays: Collection[date], tz: str = "Asia/Jakarta"
) -> datetime:
    """When a resolved report the resident has not answered closes by itself (LAPOR!: 10
    working days after the answer)."""
    return add_working_days(resolved_at, workdays, holidays, tz)


def autoclose_candidates_before(now: datetime, workdays: int) -> datetime:
    """A resolution time at or before which a report *may* be due for closing.

    N working days are never fewer than N calendar days, so nothing resolved after
    `now - workdays days` can be due; the database narrows the search with this bound and
    `autoclose_at` decides each report exactly.
    """
    return now - timedelta(days=workdays)


@dataclass(frozen=True)
class Deadlines:
    """A report's three due times."""

    response: datetime
    dispatch: datetime
    resolution: datetime


def deadlines_for(
    category: Mapping[str, Any], start: datetime, holidays: Collection[date], tz: str
) -> Deadlines:
    """The due times of a category's three targets, counted from `start`."""
    return Deadlines(
        response=due_after(
            start, category["response_amount"], category["response_unit"], holidays, tz
        ),
        dispatch=due_after(
            start, category["dispatch_amount"], category["dispatch_unit"], holidays, tz
        ),
        resolution=due_after(
            start, category["resolution_amount"], category["resolution_unit"], holidays, tz
        ),
    )
