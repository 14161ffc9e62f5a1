"""db/ratelimit.py, the one module over `rate_events`: what a bucket and a window mean for
every limiter that counts there (failed logins, unknown codes, reports, API keys)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from db import ratelimit
from db.database import Database
from db.timestamps import from_text, to_text

WINDOW = timedelta(minutes=10)


def utc_now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
async def db(empty_database: str | Path) -> AsyncIterator[Database]:
    async with Database(empty_database) as database:
        await database.migrate()
        yield database


async def test_an_event_counts_in_a_window_until_the_window_has_passed_it(db: Database) -> None:
    start = utc_now()
    async with db.write() as conn:
        await ratelimit.record(conn, ["lookup:a"], start, keep=WINDOW)
    counts = [
        await ratelimit.count(db, "lookup:a", WINDOW, start + offset)
        for offset in (timedelta(0), WINDOW - timedelta(seconds=1), WINDOW)
    ]
    assert counts == [1, 1, 0]


async def test_recording_forgets_only_that_buckets_events_older_than_keep(db: Database) -> None:
    start = utc_now()
    later = start + timedelta(hours=2)
    async with db.write() as conn:
        await ratelimit.record(conn, ["login:a", "login:b"], start, keep=WINDOW)
        await ratelimit.record(conn, ["login:a"], later, keep=WINDOW)
    day = timedelta(days=1)
    assert await ratelimit.events(db, "login:a", day, later) == [later]
    assert await ratelimit.events(db, "login:b", day, later) == [start]


async def test_clearing_a_bucket_leaves_the_others(db: Database) -> None:
    now = utc_now()
    async with db.write() as conn:
        await ratelimit.record(conn, ["login:a", "login:b"], now, keep=WINDOW)
        await ratelimit.clear(conn, "login:a")
    assert await ratelimit.count(db, "login:a", WINDOW, now) == 0
    assert await ratelimit.count(db, "login:b", WINDOW, now) == 1


async def test_a_slot_is_refused_until_the_oldest_event_of_a_full_window_leaves_it(
    db: Database,
) -> None:
    start = utc_now()
    limits = [ratelimit.Limit(timedelta(minutes=1), 2)]
    answers = []
    for seconds, ref in ((0, "x"), (0, "x"), (20, "y"), (30, "z"), (60, "z")):
        async with db.write() as conn:
            moment = start + timedelta(seconds=seconds)
            answers.append(await ratelimit.take_slot(conn, "apikey:1", limits, moment, ref))
    # The retry with the same ref counts once; the third distinct event waits until the
    # first leaves the minute; a minute after the first, its slot is free again.
    assert answers == [None, None, None, start + timedelta(minutes=1), None]


def test_stored_time_text_sorts_as_the_moments_do() -> None:
    moment = utc_now()
    assert from_text(to_text(moment)) == moment
    assert to_text(moment) < to_text(moment + timedelta(seconds=1))
    assert to_text(moment).endswith("Z") and len(to_text(moment)) == len("2026-01-01T00:00:00Z")
