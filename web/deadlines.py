"""Deadline arithmetic: clock hours or working days (Monday–Friday, skipping holidays),
in the city's time zone. Plain Python, shared by the web form, the staff actions and the API.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo


def utc_now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def to_text(moment: datetime) -> str:
    """The stored form: UTC, fixed width, sortable as text."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def from_text(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def is_working_day(day: date, holidays: Collection[date]) -> bool:
    return day.weekday() < 5 and day not in holidays


def add_working_days(
    start: datetime, days: int, holidays: Collection[date], tz: str = "Asia/Jakarta"
) -> datetime:
    """`days` working days after `start`, at the same local time of day.

    A report that arrives on a weekend or holiday starts counting from the next working
    day, at the start of that day, as offices do.
    """
    zone = ZoneInfo(tz)
    local = start.astimezone(zone)
    if not is_working_day(local.date(), holidays):
        day = local.date()
        while not is_working_day(day, holidays):
            day += timedelta(days=1)
        local = datetime.combine(day, datetime.min.time(), tzinfo=zone)
    day = local.date()
    remaining = days
    while remaining > 0:
        day += timedelta(days=1)
        if is_working_day(day, holidays):
            remaining -= 1
    result = datetime.combine(day, local.timetz().replace(tzinfo=None), tzinfo=zone)
    return result.astimezone(UTC)


def due_after(
    start: datetime, amount: int, unit: str, holidays: Collection[date], tz: str = "Asia/Jakarta"
) -> datetime:
    if unit == "hours":
        return start + timedelta(hours=amount)
    if unit == "workdays":
        return add_working_days(start, amount, holidays, tz)
    raise ValueError(f"unknown deadline unit {unit!r}")
