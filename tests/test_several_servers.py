"""Several servers on one database: two Database objects stand for two app servers (on
PostgreSQL, two connection pools whose transactions really run side by side at READ
COMMITTED; on SQLite, two processes' worth of writers on one file). What one server
decides, the other must not undo: one report per idempotency key, one winner among
concurrent actions, unique tracking codes, counters that count every event, periodic tasks
that run once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from db import leases, ratelimit
from db.database import Database
from tests.test_deadlines import GAMBIR, wib
from web import codes, lifecycle, tasks
from web.clock import to_text
from web.settings import Settings

# Resolved on a Monday; ten working days later (automatic closing) is 16 March.
RESOLVED = wib(2026, 3, 2, 10)
NEW = lifecycle.NewReport(
    category="sampah", area=GAMBIR, description="Sampah menumpuk di depan pasar sejak kemarin."
)


@pytest.fixture
async def servers(settings: Settings) -> AsyncIterator[tuple[Database, Database]]:
    async with Database(settings.database) as a, Database(settings.database) as b:
        yield a, b


async def report_count(db: Database) -> int:
    row = await db.fetchone("SELECT COUNT(*) AS n FROM reports")
    return int(row["n"])


async def test_replays_of_one_key_sent_to_both_servers_at_once_make_one_report(
    servers: tuple[Database, Database],
) -> None:
    a, b = servers
    answers = await asyncio.gather(
        *(
            lifecycle.create_report(
                (a, b)[n % 2], NEW, idempotency_key="outbox:k1", request_hash="h1"
            )
            for n in range(10)
        )
    )
    assert len({created.id for created in answers}) == 1
    assert len({created.code for created in answers}) == 1
    assert sum(not created.replay for created in answers) == 1
    assert await report_count(a) == 1
    events = await a.fetchone("SELECT COUNT(*) AS n FROM report_events")
    assert events["n"] == 1


async def test_a_replay_with_other_content_is_refused_on_the_other_server(
    servers: tuple[Database, Database],
) -> None:
    a, b = servers
    await lifecycle.create_report(a, NEW, idempotency_key="outbox:k2", request_hash="h1")
    with pytest.raises(lifecycle.IdempotencyMismatch):
        await lifecycle.create_report(b, NEW, idempotency_key="outbox:k2", request_hash="other")
    assert await report_count(a) == 1


async def test_officers_acting_on_both_servers_at_once_get_one_success_and_one_conflict(
    servers: tuple[Database, Database],
) -> None:
    a, b = servers
    created = await lifecycle.create_report(a, NEW)
    results = await asyncio.gather(
        lifecycle.apply_action(a, created.code, lifecycle.Action("verify", expected_version=1)),
        lifecycle.apply_action(
            b, created.code, lifecycle.Action("note", expected_version=1, internal_note="Dicek.")
        ),
        return_exceptions=True,
    )
    assert sorted(type(r).__name__ for r in results) == ["Conflict", "int"]
    report = await a.fetchone(
        "SELECT version FROM reports WHERE code = :code", {"code": created.code}
    )
    assert report["version"] == 2  # exactly one change, no lost update
    kinds = await a.fetchall(
        "SELECT kind FROM report_events WHERE report_id = :id ORDER BY id", {"id": created.id}
    )
    assert len(kinds) == 2  # "received" and the winner's event


async def test_a_tracking_code_taken_meanwhile_is_replaced_by_a_new_one(
    servers: tuple[Database, Database], monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = servers
    offered = iter(["K7QM3XPA", "K7QM3XPA", "K7QM3XPB"])
    monkeypatch.setattr(codes, "new_code", lambda: next(offered))
    first = await lifecycle.create_report(a, NEW)
    second = await lifecycle.create_report(b, NEW)
    assert (first.code, second.code) == ("K7QM3XPA", "K7QM3XPB")
    assert await report_count(a) == 2


async def test_a_client_limit_counts_every_attempt_made_through_both_servers(
    servers: tuple[Database, Database],
) -> None:
    limit = ratelimit.Limit(timedelta(minutes=1), 6)
    now = datetime.now(UTC).replace(microsecond=0)

    async def attempt(db: Database) -> bool:
        async with db.write() as conn:
            return await ratelimit.take_slot(conn, "report:client", [limit], now) is None

    allowed = await asyncio.gather(*(attempt(servers[n % 2]) for n in range(20)))
    assert sum(allowed) == 6
    assert await ratelimit.count(servers[0], "report:client", limit.window, now) == 6


async def resolved_reports(db: Database, count: int) -> None:
    for _ in range(count):
        created = await lifecycle.create_report(db, NEW, now=RESOLVED - timedelta(days=1))
        await lifecycle.apply_action(
            db,
            created.code,
            lifecycle.Action("resolve", expected_version=1, public_note="Sudah diangkut."),
            now=RESOLVED,
        )


async def test_the_hourly_tasks_run_on_one_server_only(
    settings: Settings, servers: tuple[Database, Database]
) -> None:
    a, b = servers
    await resolved_reports(a, 3)
    due = wib(2026, 3, 17, 10)
    runs = await asyncio.gather(
        tasks.run_once(a, settings, due, every=tasks.INTERVAL, holder="server-a", alerts=False),
        tasks.run_once(b, settings, due, every=tasks.INTERVAL, holder="server-b", alerts=False),
    )
    assert sorted(r.closed for r in runs) == [0, 3]
    # Each task ran on exactly one of them (not necessarily both on the same one).
    assert sorted(name for r in runs for name in r.skipped) == [
        "autoclose",
        "contact_retention",
        "photo_sweep",
    ]
    # Within the hour, neither server runs them again; after it, one does.
    later = await tasks.run_once(
        b,
        settings,
        due + timedelta(minutes=30),
        every=tasks.INTERVAL,
        holder="server-b",
        alerts=False,
    )
    assert later.skipped == ["autoclose", "photo_sweep", "contact_retention"]
    next_hour = await tasks.run_once(
        b,
        settings,
        due + timedelta(minutes=61),
        every=tasks.INTERVAL,
        holder="server-b",
        alerts=False,
    )
    assert next_hour.skipped == []


async def test_a_server_that_died_mid_task_loses_its_lease_when_it_expires(
    settings: Settings, servers: tuple[Database, Database]
) -> None:
    a, b = servers
    await resolved_reports(a, 2)
    due = wib(2026, 3, 17, 10)
    # Server A took the lease and died: it never releases it.
    assert await leases.claim(
        a, "autoclose", "server-a", now=to_text(due), expires_at=to_text(due + tasks.LEASE)
    )
    meanwhile = await tasks.run_once(
        b,
        settings,
        due + timedelta(minutes=5),
        every=tasks.INTERVAL,
        holder="server-b",
        alerts=False,
    )
    assert meanwhile.skipped == ["autoclose"] and meanwhile.closed == 0
    after_expiry = await tasks.run_once(
        b, settings, due + tasks.LEASE, every=tasks.INTERVAL, holder="server-b", alerts=False
    )
    assert "autoclose" not in after_expiry.skipped and after_expiry.closed == 2
    lease = await leases.lease(a, "autoclose")
    assert lease is not None


async def test_the_console_runs_the_tasks_unless_a_server_is_running_them_now(
    settings: Settings, servers: tuple[Database, Database]
) -> None:
    a, b = servers
    due = wib(2026, 3, 17, 10)
    first = await tasks.run_once(a, settings, due, holder="cron")
    again = await tasks.run_once(b, settings, due + timedelta(minutes=1), holder="cron-2")
    assert first.skipped == [] and again.skipped == []
    running = due + timedelta(minutes=2)
    assert await leases.claim(
        a,
        "photo_sweep",
        "server-a",
        now=to_text(running),
        expires_at=to_text(running + tasks.LEASE),
    )
    busy = await tasks.run_once(b, settings, running + timedelta(minutes=1), holder="cron-3")
    assert busy.skipped == ["photo_sweep"]
