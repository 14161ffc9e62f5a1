"""Where a report is and how to reach the person behind it: one set of checks for every
channel that files reports (the resident's form and the phone's outbox, staff intake,
Open311).

A check answers with a value, or with a problem code that the caller words in its own
language: the form in Indonesian or English beside the field (web/forms.py), Open311 in its
standard English error list (web/routes/open311.py). The form's checks are also made on the
phone before a report is queued (js/lapor.js, given these ranges and patterns by
`forms.client_rules`), so each pattern here reads the same as a JavaScript RegExp.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

# Indonesia's extent, with a margin: a point outside it is a typo (swapped lat/long, say).
LAT_RANGE = (-12.0, 7.0)
LON_RANGE = (94.0, 142.0)
# An Indonesian mobile number, written without spaces, dots, dashes or brackets
# (`normalise_phone`): what the resident's form asks for, to reach them by SMS or WhatsApp.
MOBILE_NUMBER = re.compile(r"^(\+62|62|0)8\d{7,12}$")
# Any telephone number as another system may hold it (a landline, a number abroad), as
# written: what Open311 clients relay.
TELEPHONE_NUMBER = re.compile(r"^\+?[0-9 ()\-]{6,30}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE_PUNCTUATION = re.compile(r"[\s\-().]")

# What `coordinates` may find wrong, in the order it looks.
COORDINATE_PROBLEMS = (
    "not_a_number",  # a value that is not a number at all
    "half",  # only one of the two given
    "not_finite",  # "nan" or "inf": numbers to float(), no place on Earth
    "outside",  # a point outside Indonesia
)


@dataclass(frozen=True)
class Coordinates:
    """A point read from typed latitude and longitude: both None when neither was given, or
    when there is a `problem` (one of COORDINATE_PROBLEMS)."""

    lat: float | None = None
    lon: float | None = None
    problem: str | None = None


def in_indonesia(lat: float, lon: float) -> bool:
    """Whether a point lies in Indonesia's extent (a NaN lies nowhere)."""
    return LAT_RANGE[0] <= lat <= LAT_RANGE[1] and LON_RANGE[0] <= lon <= LON_RANGE[1]


def coordinates(lat_text: str, lon_text: str, *, decimal_comma: bool = False) -> Coordinates:
    """Latitude and longitude as typed (stripped), in decimal degrees (WGS84). Neither given
    is no point and no problem. With `decimal_comma`, "-6,1754" is read as -6.1754, as people
    in Indonesia write decimals; a machine client (Open311) writes a point."""
    if decimal_comma:
        lat_text, lon_text = lat_text.replace(",", "."), lon_text.replace(",", ".")
    try:
        lat = float(lat_text) if lat_text else None
        lon = float(lon_text) if lon_text else None
    except ValueError:
        return Coordinates(problem="not_a_number")
    if lat is None and lon is None:
        return Coordinates()
    if lat is None or lon is None:
        return Coordinates(problem="half")
    if not (math.isfinite(lat) and math.isfinite(lon)):
        return Coordinates(problem="not_finite")
    if not in_indonesia(lat, lon):
        return Coordinates(problem="outside")
    return Coordinates(lat, lon)


def normalise_phone(text: str) -> str:
    """A phone number without the spaces, dots, dashes and brackets people write in it."""
    return _PHONE_PUNCTUATION.sub("", text)


def is_mobile_number(number: str) -> bool:
    """Whether a number, once normalised, is an Indonesian mobile number."""
    return MOBILE_NUMBER.match(number) is not None


def is_telephone_number(text: str) -> bool:
    """Whether text, as written, looks like any telephone number."""
    return TELEPHONE_NUMBER.match(text) is not None


def is_email(text: str) -> bool:
    """Whether text looks like an email address (one @, a dot in the domain, no spaces)."""
    return EMAIL.match(text) is not None
