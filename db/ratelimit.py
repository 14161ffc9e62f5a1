"""Counting events per bucket in a sliding window (failed logins, unknown-code lookups,
API calls), in the database so every server process sees the same counts."""

from __future__ import annotations

from datetime import datetime, timedelta

from db.database import Database


def _text(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


async def count_recent(db: Database, bucket: str, window: timedelta, now: datetime) -> int:
    row = await db.fetchone(
        "SELECT COUNT(*) AS n FROM rate_events WHERE bucket = ? AND at > ?",
        (bucket, _text(now - window)),
    )
    return int(row["n"])


async def record(db: Database, bucket: str, now: datetime, keep: timedelta) -> None:
    """Record one event, and forget this bucket's events older than `keep`."""
    async with db.write() as conn:
        await conn.execute(
            "INSERT INTO rate_events (bucket, at) VALUES (?, ?)", (bucket, _text(now))
        )
        await conn.execute(
            "DELETE FROM rate_events WHERE bucket = ? AND at <= ?", (bucket, _text(now - keep))
        )


async def clear(db: Database, bucket: str) -> None:
    async with db.write() as conn:
        await conn.execute("DELETE FROM rate_events WHERE bucket = ?", (bucket,))
