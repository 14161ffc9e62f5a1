"""The `rate_events` table: events counted per bucket in sliding windows, in the database so
that every server process sees the same counts. The one module that reads or writes it —
failed logins (web/auth.py), unknown tracking codes (web/lookup.py), new reports
(web/limits.py) and Open311 requests per API key (web/apikeys.py) all count here.

A *bucket* is one counter: text of the form "purpose:key", where the key is a keyed hash
(never a typed username or a client's address) or an id ("apikey:7"). A *window* is a span
of time back from now: an event counts in it when it happened after `now - window`. A
`Limit` allows at most `events` events in its window. Events a bucket no longer needs are
forgotten when it counts a new one, so the table stays as small as the windows.

Policies (how many, how long, what a refusal says) belong to the callers; this module
only counts.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import NamedTuple

from db.database import Connection, Database
from db.timestamps import from_text, to_text


class Limit(NamedTuple):
    """At most `events` events in any `window`."""

    window: timedelta
    events: int


async def events(db: Database, bucket: str, window: timedelta, now: datetime) -> list[datetime]:
    """When the events of a bucket within the window happened, oldest first."""
    rows = await db.fetchall(
        "SELECT at FROM rate_events WHERE bucket = :bucket AND at > :since ORDER BY at",
        {"bucket": bucket, "since": to_text(now - window)},
    )
    return [from_text(r["at"]) for r in rows]


async def count(db: Database, bucket: str, window: timedelta, now: datetime) -> int:
    """How many events a bucket counted within the window."""
    row = await db.fetchone(
        "SELECT COUNT(*) AS n FROM rate_events WHERE bucket = :bucket AND at > :since",
        {"bucket": bucket, "since": to_text(now - window)},
    )
    return int(row["n"])


async def record(
    conn: Connection, buckets: Sequence[str], now: datetime, *, keep: timedelta
) -> None:
    """Count one event in each bucket, in the caller's write transaction, and forget their
    events older than `keep` (the longest window anyone asks about these buckets)."""
    for bucket in buckets:
        await conn.execute(
            "INSERT INTO rate_events (bucket, at) VALUES (:bucket, :at)",
            {"bucket": bucket, "at": to_text(now)},
        )
        await _forget(conn, bucket, now - keep)


async def clear(conn: Connection, bucket: str) -> None:
    """Forget every event of a bucket (a successful login clears the account's failures)."""
    await conn.execute("DELETE FROM rate_events WHERE bucket = :bucket", {"bucket": bucket})


async def take_slot(
    conn: Connection,
    bucket: str,
    limits: Sequence[Limit],
    now: datetime,
    ref: str | None = None,
) -> datetime | None:
    """Count one event in `bucket` unless one of the limits is already reached.

    Runs in the caller's write transaction with the bucket locked, so the count and the
    insert are one step and concurrent requests — on any server — cannot both take the
    last slot. An event with the same `ref` (a submission's idempotency key, retried while
    the first try is still at work) is counted only once. Returns None when counted, else
    the moment the fullest window frees a slot.
    """
    await conn.lock(f"rate:{bucket}")
    await _forget(conn, bucket, now - max(window for window, _events in limits))
    if ref is not None:
        seen = await conn.fetchone(
            "SELECT 1 FROM rate_events WHERE bucket = :bucket AND ref = :ref LIMIT 1",
            {"bucket": bucket, "ref": ref},
        )
        if seen is not None:
            return None
    free_at: datetime | None = None
    for window, allowed in limits:
        row = await conn.fetchone(
            "SELECT at FROM rate_events WHERE bucket = :bucket AND at > :since ORDER BY at DESC"
            " LIMIT 1 OFFSET :offset",
            {"bucket": bucket, "since": to_text(now - window), "offset": allowed - 1},
        )
        if row is not None:  # `allowed` events in the window: free once the oldest leaves
            moment = from_text(row["at"]) + window
            free_at = moment if free_at is None else max(free_at, moment)
    if free_at is None:
        await conn.execute(
            "INSERT INTO rate_events (bucket, at, ref) VALUES (:bucket, :at, :ref)",
            {"bucket": bucket, "at": to_text(now), "ref": ref},
        )
    return free_at


def retry_after(free_at: datetime, now: datetime) -> int:
    """Whole seconds from `now` until `free_at` (a refused `take_slot`'s answer), at least 1:
    a refusal's `Retry-After`."""
    return max(1, math.ceil((free_at - now).total_seconds()))


async def _forget(conn: Connection, bucket: str, before: datetime) -> None:
    await conn.execute(
        "DELETE FROM rate_events WHERE bucket = :bucket AND at <= :before",
        {"bucket": bucket, "before": to_text(before)},
    )
