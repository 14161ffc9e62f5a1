"""How a moment is stored: UTC text of fixed width ("2026-05-04T03:02:01Z"), which sorts as
text, so that SQL compares and orders moments without parsing them.

The one place db/ turns moments into stored text and back. It is not a clock: callers pass
the moment, so that tests and tasks decide what "now" is.
"""

from __future__ import annotations

from datetime import UTC, datetime

FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def to_text(moment: datetime) -> str:
    """The stored form of an aware moment (any time zone; stored as UTC, to the second)."""
    return moment.astimezone(UTC).strftime(FORMAT)


def from_text(value: str) -> datetime:
    """The moment a stored text names, as an aware UTC datetime."""
    return datetime.fromisoformat(value.replace("Z", "+00:00"))
