"""When a message of the outbox (db/messages.py) is tried again. A sender takes a due
message for LEASE (another server takes it again only if this one died mid-send); a
failure worth retrying (a 5xx, a timeout) waits `retry_delay(attempts)`, doubling from
30 seconds up to 6 hours; after MAX_ATTEMPTS tries a message is marked failed, which
staff see on the case page. A gateway's 4xx is failed at once: retrying would not help.
"""

from __future__ import annotations

from datetime import datetime, timedelta

LEASE = timedelta(minutes=2)
FIRST_RETRY = timedelta(seconds=30)
LONGEST_WAIT = timedelta(hours=6)
# 30 s, 1, 2, 4, 8, 16, 32 min, 1 h 4 min: about two hours from the first try to the last.
MAX_ATTEMPTS = 8


def retry_delay(attempts: int) -> timedelta:
    """How long a message that failed its `attempts`-th try waits before the next one."""
    return min(FIRST_RETRY * 2 ** max(attempts - 1, 0), LONGEST_WAIT)


def next_attempt(attempts: int, now: datetime) -> datetime | None:
    """When to try again after the `attempts`-th failed try, or None: give up (failed)."""
    if attempts >= MAX_ATTEMPTS:
        return None
    return now + retry_delay(attempts)
