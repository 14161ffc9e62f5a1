"""Telling a resident by hand: an officer's taps on "Kabari via WhatsApp" (contact_taps), and
the messages of a case as its page lists them."""

from __future__ import annotations

from typing import Any

from db import messages
from db.database import Connection, Database


async def public_event(conn: Connection, report_id: int, event_id: int) -> Any:
    """One of the report's timeline events (None if the id is another report's)."""
    return await conn.fetchone(
        "SELECT id, kind, public_note FROM report_events"
        " WHERE id = :event_id AND report_id = :report_id",
        {"event_id": event_id, "report_id": report_id},
    )


async def record_tap(
    conn: Connection, report_id: int, event_id: int, user_id: int, *, now: str
) -> None:
    """The officer opened WhatsApp to tell the resident of this step; the first tap counts."""
    await conn.execute(
        "INSERT INTO contact_taps (report_id, event_id, user_id, channel, tapped_at)"
        " VALUES (:report_id, :event_id, :user_id, 'whatsapp', :now)"
        " ON CONFLICT (event_id, user_id, channel) DO NOTHING",
        {"report_id": report_id, "event_id": event_id, "user_id": user_id, "now": now},
    )


async def case_notices(db: Database, report_id: int) -> tuple[list[Any], list[Any]]:
    """The report's messages (oldest first) and its WhatsApp taps with who tapped."""
    async with db.read() as conn:
        sent = await messages.of_report(conn, report_id)
        taps = await conn.fetchall(
            "SELECT t.event_id, t.channel, t.tapped_at, u.display_name AS user_name"
            " FROM contact_taps t JOIN users u ON u.id = t.user_id"
            " WHERE t.report_id = :report_id ORDER BY t.tapped_at, t.user_id",
            {"report_id": report_id},
        )
    return sent, taps
