"""One reader for the numbers, dates, times and page cursors that arrive in URLs and forms.

Python's own parsers are too generous for request input: `str.isdigit()` is true for "²"
(which `int()` then refuses) and for "٣" (which `int()` reads as 3); `int()` takes any
number of digits (and raises past 4,300); SQLite holds at most 64-bit integers; and
`date`/`datetime` arithmetic overflows near the years 1 and 9999 (a date range, a time
zone shift or "90 days before" is enough). Every handler reads such values through here,
so each one comes back in range or raises `ParamError`, which the handler answers with
400, 404 or 422 and a message of its own in the user's language.

Times are kept to the years MIN_YEAR–MAX_YEAR: a complaint system has nothing to say about
other years, and any date arithmetic a page does near them stays far from the calendar's
ends.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from db.staff import Cursor
from web.clock import to_text

MIN_YEAR = 2000
MAX_YEAR = 2100
MAX_ID = 2**63 - 1  # SQLite's INTEGER
_DIGITS = re.compile(r"[0-9]+")
_DAY = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")
_QUARTER = re.compile(r"([0-9]{4})-Q([1-4])")
# ISO 8601 as datetime.fromisoformat reads it, limited to ASCII digits and separators.
_MOMENT = re.compile(r"[0-9]{4}-?[0-9]{2}-?[0-9]{2}([T ][0-9:.,]+)?(Z|[+-][0-9:]+)?")
_STORED_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z")


class ParamError(ValueError):
    """A value that cannot be read or lies out of range; the text (English) says which and
    why, for logs and for machine clients such as Open311."""


def integer(text: str | None, *, minimum: int = 0, maximum: int = MAX_ID, name: str = "") -> int:
    """A whole number written in ASCII digits, within [minimum, maximum]."""
    value = (text or "").strip()
    label = name or "the value"
    if not _DIGITS.fullmatch(value):
        raise ParamError(f"{label} must be a whole number from {minimum} to {maximum}")
    significant = value.lstrip("0") or "0"
    # Compare lengths first: int() of thousands of digits is slow, and refused past 4,300.
    if len(significant) > len(str(maximum)) or not minimum <= int(significant) <= maximum:
        raise ParamError(f"{label} must be a whole number from {minimum} to {maximum}")
    return int(significant)


def exceeds(text: str, limit: int) -> bool:
    """Whether a declared size (a Content-Length header) is over `limit`. Digits too many
    to be small are over without int(); a value that is no number is not (the body is then
    counted as it arrives)."""
    digits = text.strip().lstrip("0")
    if not _DIGITS.fullmatch(digits or "0"):
        return False
    return len(digits) > len(str(limit)) or int(digits or "0") > limit


def optional_integer(
    text: str | None, default: int, *, minimum: int = 0, maximum: int = MAX_ID, name: str = ""
) -> int:
    """`integer`, or `default` when the value is absent or empty."""
    if not (text or "").strip():
        return default
    return integer(text, minimum=minimum, maximum=maximum, name=name)


def identifier(text: str | None, *, name: str = "") -> int:
    """A database row id (1 to 2^63 - 1) from a URL or a form."""
    return integer(text, minimum=1, maximum=MAX_ID, name=name or "the id")


def _check_year(year: int, label: str) -> None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise ParamError(f"{label} must lie in the years {MIN_YEAR} to {MAX_YEAR}")


def day(text: str | None, *, name: str = "") -> date:
    """A calendar day written YYYY-MM-DD."""
    label = name or "the date"
    match = _DAY.fullmatch((text or "").strip())
    if not match:
        raise ParamError(f"{label} must be a date written YYYY-MM-DD")
    _check_year(int(match[1]), label)
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        raise ParamError(f"{label} is not a date in the calendar") from None


def month(text: str | None, *, name: str = "") -> tuple[int, int]:
    """(year, month) from YYYY-MM."""
    label = name or "the month"
    match = _MONTH.fullmatch((text or "").strip())
    if not match or not 1 <= int(match[2]) <= 12:
        raise ParamError(f"{label} must be a month written YYYY-MM")
    _check_year(int(match[1]), label)
    return int(match[1]), int(match[2])


def quarter(text: str | None, *, name: str = "") -> tuple[int, int]:
    """(year, quarter 1–4) from YYYY-Qn."""
    label = name or "the quarter"
    match = _QUARTER.fullmatch((text or "").strip())
    if not match:
        raise ParamError(f"{label} must be a quarter written YYYY-Q1 to YYYY-Q4")
    _check_year(int(match[1]), label)
    return int(match[1]), int(match[2])


def moment(text: str | None, *, zone: str | None = None, name: str = "") -> datetime:
    """An ISO 8601 time (or date, read as its midnight) as an aware datetime.

    Without an offset it is read in `zone`; without an offset and without `zone` it is
    refused, since the instant it names is unknown.
    """
    label = name or "the time"
    value = (text or "").strip()
    if not _MOMENT.fullmatch(value):
        raise ParamError(f"{label} must be an ISO 8601 time, e.g. 2026-11-22T14:05:00+07:00")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ParamError(
            f"{label} must be an ISO 8601 time, e.g. 2026-11-22T14:05:00+07:00"
        ) from None
    _check_year(parsed.year, label)
    if parsed.tzinfo is None:
        if zone is None:
            raise ParamError(f"{label} needs a zone offset, e.g. +07:00")
        parsed = parsed.replace(tzinfo=ZoneInfo(zone))
    elif abs(parsed.utcoffset() or timedelta()) > timedelta(hours=14):
        raise ParamError(f"{label} has a zone offset beyond ±14:00")
    # The years are bounded on the written time; its UTC instant is a day away at most.
    return parsed


def stored_time(text: str | None, *, name: str = "") -> str:
    """A time in the stored form (2026-03-01T08:00:00Z), checked and returned as text."""
    label = name or "the time"
    value = (text or "").strip()
    if not _STORED_TIME.fullmatch(value):
        raise ParamError(f"{label} must be a UTC time written 2026-03-01T08:00:00Z")
    parsed = moment(value, name=label)
    return to_text(parsed)


def cursor(text: str | None, *, name: str = "") -> Cursor | None:
    """A keyset page cursor as `Cursor.encode` writes it (`DUE_ID`, `DUE` empty or a stored
    time); None when absent."""
    value = (text or "").strip()
    if not value:
        return None
    label = name or "the page cursor"
    due, sep, raw_id = value.rpartition("_")
    if not sep:
        raise ParamError(f"{label} must be written TIME_ID")
    if due[:1] == "n" and due[1:].isdigit() and len(due) <= 10:
        # the inbox sorted by support count: `nCOUNT_ID`
        return Cursor(None, identifier(raw_id, name=label), supports=int(due[1:]))
    return Cursor(stored_time(due, name=label) if due else None, identifier(raw_id, name=label))
