"""Changing a report's category moves its deadlines to the new category's targets."""

from __future__ import annotations

from datetime import UTC, datetime

from db.database import Database
from web import lifecycle
from web.settings import Settings

MONDAY_9_WIB = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


async def test_a_new_category_brings_its_own_deadlines(settings: Settings) -> None:
    async with Database(settings.database) as db:
        created = await lifecycle.create_report(
            db,
            lifecycle.NewReport(
                category="jalan",
                area="31.71.01.1001",
                description="Dahan besar patah di atas trotoar.",
            ),
            now=MONDAY_9_WIB,
        )
        before = await db.fetchone("SELECT * FROM reports WHERE id = :id", {"id": created.id})
        assert before["response_due_at"] == "2026-11-24T02:00:00Z"  # jalan: 24 hours
        await lifecycle.apply_action(
            db,
            created.code,
            lifecycle.Action(kind="recategorise", expected_version=1, category_code="pohon"),
            now=MONDAY_9_WIB,
        )
        after = await db.fetchone("SELECT * FROM reports WHERE id = :id", {"id": created.id})
    # pohon: first response within 6 hours, forwarded within 12 hours, fixed in 2 working days
    assert after["response_due_at"] == "2026-11-23T08:00:00Z"
    assert after["dispatch_due_at"] == "2026-11-23T14:00:00Z"
    assert after["resolution_due_at"] == "2026-11-25T02:00:00Z"
    assert after["next_due_at"] == after["response_due_at"]


async def test_the_same_category_again_changes_no_deadline(settings: Settings) -> None:
    async with Database(settings.database) as db:
        created = await lifecycle.create_report(
            db,
            lifecycle.NewReport(
                category="jalan", area="31.71.01.1001", description="Jalan berlubang."
            ),
            now=MONDAY_9_WIB,
        )
        before = await db.fetchone("SELECT * FROM reports WHERE id = :id", {"id": created.id})
        await lifecycle.apply_action(
            db,
            created.code,
            lifecycle.Action(
                kind="recategorise",
                expected_version=1,
                category_code="jalan",
                area_code="31.71.01.1002",
            ),
        )
        after = await db.fetchone("SELECT * FROM reports WHERE id = :id", {"id": created.id})
    for column in ("response_due_at", "dispatch_due_at", "resolution_due_at", "next_due_at"):
        assert after[column] == before[column]
    assert after["area_code"] == "31.71.01.1002"
