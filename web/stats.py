"""The figures of who responds in time, in plain Python: percentiles, reporting periods, and
per-group accumulation of report rows. Used by the staff dashboard, the public performance
page and the dashboard's CSV.

Definitions (the same on every page):

- A report belongs to the period in which it was **received** (city time).
- **Responded in time**: first response at or before the response deadline. A report not
  responded to and already past its deadline counts as late; one not responded to and
  still within its deadline is not judged yet, so the percentage is
  in time / (in time + late).
- **Time to first response / to resolution**: clock time from the start of the deadline
  clock (when the resident complained, for complaints taken by staff; else when the report
  was received) to the first response / the (last) resolution.
- **Median**: the middle value, or the mean of the two middle values.
- **Percentile p** (p90): nearest rank — the smallest value such that at least p % of the
  values are at or below it: the value at rank ceil(p/100 × n) in ascending order. It is
  always a time some report really took.
- **Overdue now**: reports of the period still open whose current deadline has passed.

When the clock starts and what is overdue are web.lifecycle.rules' `clock_start` and
`is_overdue`, as on every other page.
"""

from __future__ import annotations

import math
import statistics
from array import array
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from babel.numbers import format_decimal

from web import clock, i18n, parse
from web.clock import from_text
from web.i18n import lazy_gettext as N_
from web.lifecycle.rules import clock_start, is_overdue

# How report rows are grouped: the name used in URLs → the row field holding the key.
GROUPINGS = {
    "kelurahan": "area_code",
    "kecamatan": "kecamatan_code",
    "instansi": "agency_code",
    "kategori": "category_code",
}
LONGEST_RANGE = timedelta(days=731)


def percentile(values: Sequence[float], p: float) -> float | None:
    """Nearest-rank percentile (see the module docstring); None for no values."""
    if not 0 < p <= 100:
        raise ValueError("p must be in (0, 100]")
    if not values:
        return None
    ordered = sorted(values)
    rank = math.ceil(p / 100 * len(ordered))
    return ordered[max(rank, 1) - 1]


def median(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


# --- periods ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """Whole local days from `first` to `last` inclusive, in the city's time zone."""

    kind: str  # "bulan", "triwulan" or "rentang"
    first: date
    last: date

    def bounds(self, tz: str) -> tuple[str, str]:
        """[start, end) as stored UTC text, for `received_at >= start AND < end`."""
        return clock.day_range(self.first, self.last, tz)

    @property
    def month_value(self) -> str:
        return f"{self.first:%Y-%m}"

    @property
    def quarter_value(self) -> str:
        return f"{self.first.year}-Q{(self.first.month - 1) // 3 + 1}"


def month(year: int, number: int) -> Period:
    first = date(year, number, 1)
    following = date(year + (number == 12), number % 12 + 1, 1)
    return Period("bulan", first, following - timedelta(days=1))


def quarter(year: int, number: int) -> Period:
    first = date(year, 3 * (number - 1) + 1, 1)
    last = month(year, 3 * number).last
    return Period("triwulan", first, last)


def last_full_month(today: date) -> Period:
    previous = today.replace(day=1) - timedelta(days=1)
    return month(previous.year, previous.month)


def last_full_quarter(today: date) -> Period:
    current = (today.month - 1) // 3 + 1
    if current == 1:
        return quarter(today.year - 1, 4)
    return quarter(today.year, current - 1)


def parse_period(query: Mapping[str, str], today: date) -> tuple[Period, str]:
    """The period chosen in the dashboard's form, and an error msgid ("" when fine).

    Anything unreadable, or outside the years web/parse.py allows, falls back to the
    current month, with the error to show.
    """
    kind = query.get("periode", "bulan")
    fallback = month(today.year, today.month)
    try:
        if kind == "bulan":
            year, number = parse.month(query.get("bulan") or fallback.month_value)
            return month(year, number), ""
        if kind == "triwulan":
            year, number = parse.quarter(query.get("triwulan") or fallback.quarter_value)
            return quarter(year, number), ""
        if kind == "rentang":
            first = parse.day(query.get("dari"))
            last = parse.day(query.get("sampai"))
            if last < first:
                return fallback, N_("Tanggal akhir tidak boleh sebelum tanggal awal.")
            if last - first > LONGEST_RANGE:
                return fallback, N_("Rentang paling panjang dua tahun.")
            return Period("rentang", first, last), ""
    except parse.ParamError:
        pass
    return fallback, N_("Periode tidak dikenali; ditampilkan bulan ini.")


def recent_months(today: date, count: int = 24) -> list[Period]:
    found: list[Period] = []
    year, number = today.year, today.month
    for _ in range(count):
        found.append(month(year, number))
        year, number = (year - 1, 12) if number == 1 else (year, number - 1)
    return found


def recent_quarters(today: date, count: int = 8) -> list[Period]:
    found: list[Period] = []
    year, number = today.year, (today.month - 1) // 3 + 1
    for _ in range(count):
        found.append(quarter(year, number))
        year, number = (year - 1, 4) if number == 1 else (year, number - 1)
    return found


# --- figures ------------------------------------------------------------------------------


@dataclass
class Figures:
    """What the pages show for one group of reports (or for all of them)."""

    key: str
    received: int = 0
    in_time: int = 0
    late: int = 0
    not_yet_due: int = 0
    overdue_now: int = 0
    rejected: int = 0
    reopened: int = 0
    rating_sum: int = 0
    rating_count: int = 0
    # Hours as C doubles: a year of a big city's reports stays a few megabytes.
    response_hours: array[float] = field(default_factory=lambda: array("d"))
    resolution_hours: array[float] = field(default_factory=lambda: array("d"))

    @property
    def judged(self) -> int:
        return self.in_time + self.late

    @property
    def in_time_percent(self) -> float | None:
        return 100 * self.in_time / self.judged if self.judged else None

    @property
    def late_percent(self) -> float | None:
        return 100 * self.late / self.judged if self.judged else None

    @property
    def median_response(self) -> float | None:
        return median(self.response_hours)

    @property
    def p90_response(self) -> float | None:
        return percentile(self.response_hours, 90)

    @property
    def median_resolution(self) -> float | None:
        return median(self.resolution_hours)

    @property
    def p90_resolution(self) -> float | None:
        return percentile(self.resolution_hours, 90)

    @property
    def average_rating(self) -> float | None:
        return self.rating_sum / self.rating_count if self.rating_count else None

    def add(self, row: Mapping[str, Any], now: str) -> None:
        self.received += 1
        responded = row["first_response_at"]
        if responded:
            if responded <= row["response_due_at"]:
                self.in_time += 1
            else:
                self.late += 1
        elif row["response_due_at"] and row["response_due_at"] < now:
            self.late += 1
        else:
            self.not_yet_due += 1
        start = clock_start(row)
        if responded:
            self.response_hours.append(_hours_between(start, responded))
        if row["resolved_at"]:
            self.resolution_hours.append(_hours_between(start, row["resolved_at"]))
        if is_overdue(row, now):
            self.overdue_now += 1
        if row["status"] == "rejected":
            self.rejected += 1
        if row["reopen_count"]:
            self.reopened += 1
        if row["rating"] is not None:
            self.rating_sum += int(row["rating"])
            self.rating_count += 1


def _hours_between(start: str, end: str) -> float:
    return max(0.0, (from_text(end) - from_text(start)).total_seconds() / 3600)


class Accumulator:
    """Figures in total and per group, for several groupings in one pass over the rows."""

    def __init__(self, groupings: Iterable[str], now: str) -> None:
        self.now = now
        self.total = Figures("")
        self.groups: dict[str, dict[str, Figures]] = {g: {} for g in groupings}

    def add(self, row: Mapping[str, Any]) -> None:
        self.total.add(row, self.now)
        for grouping, by_key in self.groups.items():
            key = row[GROUPINGS[grouping]] or ""
            figures = by_key.get(key)
            if figures is None:
                figures = by_key[key] = Figures(key)
            figures.add(row, self.now)

    def add_all(self, rows: Iterable[Mapping[str, Any]]) -> None:
        for row in rows:
            self.add(row)


def ranked(groups: Iterable[Figures]) -> list[Figures]:
    """Best first: highest share responded in time, then more reports judged, then key.

    Groups with nothing judged yet go last.
    """
    return sorted(
        groups,
        key=lambda f: (
            f.in_time_percent is None,
            -(f.in_time_percent or 0),
            -f.judged,
            f.key,
        ),
    )


def late_responders(groups: Iterable[Figures]) -> list[Figures]:
    """Groups with at least one late response (named in public), the most often late first:
    the highest share of late responses, then the most late responses."""
    return sorted(
        (f for f in groups if f.late), key=lambda f: (-(f.late_percent or 0), -f.late, f.key)
    )


# --- display ------------------------------------------------------------------------------


def format_number(value: float, digits: int = 1) -> str:
    """A number as people of the current language write it (1.234,5 or 1,234.5)."""
    pattern = "#,##0" + ("." + "#" * digits if digits else "")
    return str(format_decimal(value, format=pattern, locale=i18n.current_language.get()))


def format_percent(value: float | None) -> str:
    return "—" if value is None else format_number(value) + "%"


def format_hours(value: float | None) -> str:
    """A duration in the unit that reads best: minutes, hours, or days past two days."""
    if value is None:
        return "—"
    if value < 1:
        return i18n.gettext("%(n)s menit") % {"n": format_number(value * 60, 0)}
    if value < 48:
        return i18n.gettext("%(n)s jam") % {"n": format_number(value)}
    return i18n.gettext("%(n)s hari") % {"n": format_number(value / 24)}


def format_rating(value: float | None) -> str:
    return "—" if value is None else format_number(value, 2)
