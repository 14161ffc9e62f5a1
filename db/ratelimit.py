"""Counting events per bucket in a sliding window (failed logins, unknown-code lookups,
API calls), in the database so every server process sees the same counts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from db.database import Database
from web.clock import from_text, to_text


async def count_recent(db: Database, bucket: str, window: timedelta, now: datetime) -> int:
    row = await db.fetchone(
        "SELECT COUNT(*) AS n FROM rate_events WHERE bucket = ? AND at > ?",
        (bucket, to_text(now - window)),
    )
    return int(row["n"])


async def record(db: Database, bucket: str, now: datetime, keep: timedelta) -> None:
    """Record one event, and forget this bucket's events older than `keep`."""
    async with db.write() as conn:
        await conn.execute(
            "INSERT INTO rate_events (bucket, at) VALUES (?, ?)", (bucket, to_text(now))
        )
        await conn.execute(
            "DELETE FROM rate_events WHERE bucket = ? AND at <= ?", (bucket, to_text(now - keep))
        )


async def clear(db: Database, bucket: str) -> None:
    async with db.write() as conn:
        await conn.execute("DELETE FROM rate_events WHERE bucket = ?", (bucket,))


async def take_slot(
    db: Database,
    bucket: str,
    limits: Sequence[tuple[timedelta, int]],
    now: datetime,
    ref: str | None = None,
) -> datetime | None:
    """Count one event in `bucket` unless a limit (at most n events within a window) is
    already reached; the count and the insert are one write transaction, so concurrent
    requests cannot both take the last slot. An event with the same `ref` (a submission's
    idempotency key, retried while the first try is still at work) is counted only once.

    Returns None when counted, else the moment the first full window frees a slot.
    """
    longest = max(window for window, _limit in limits)
    async with db.write() as conn:
        await conn.execute(
            "DELETE FROM rate_events WHERE bucket = ? AND at <= ?", (bucket, to_text(now - longest))
        )
        if ref is not None:
            async with conn.execute(
                "SELECT 1 FROM rate_events WHERE bucket = ? AND ref = ? LIMIT 1", (bucket, ref)
            ) as cur:
                if await cur.fetchone() is not None:
                    return None
        free_at: datetime | None = None
        for window, limit in limits:
            async with conn.execute(
                "SELECT at FROM rate_events WHERE bucket = ? AND at > ? ORDER BY at DESC"
                " LIMIT 1 OFFSET ?",
                (bucket, to_text(now - window), limit - 1),
            ) as cur:
                row = await cur.fetchone()
            if row is not None:  # `limit` events in the window: free once the oldest leaves
                moment = from_text(row["at"]) + window
                free_at = moment if free_at is None else max(free_at, moment)
        if free_at is None:
            await conn.execute(
                "INSERT INTO rate_events (bucket, at, ref) VALUES (?, ?, ?)",
                (bucket, to_text(now), ref),
            )
    return free_at
