"""Writing a timeline event, and what a public one causes: every step the public may see
(rules.is_public_event) enqueues its messages to the residents who follow the report, in
the same transaction as the event itself, so a step is never recorded without its
messages nor a message left for a step rolled back. An internal note causes none.
"""

from __future__ import annotations

from db import messages
from db import reports as q
from db.database import Connection
from web.lifecycle.rules import is_public_event


async def add_event(
    conn: Connection,
    report_id: int,
    kind: str,
    *,
    created_at: str,
    actor: str,
    status_after: str | None = None,
    public_note: str = "",
    internal_note: str = "",
    user_id: int | None = None,
    related_report_id: int | None = None,
) -> int:
    """Append one event to a report's timeline (inside the caller's write transaction) and,
    when the public may see it, enqueue its messages; returns the event's id."""
    event_id = await q.insert_event(
        conn,
        report_id,
        kind,
        created_at=created_at,
        actor=actor,
        status_after=status_after,
        public_note=public_note,
        internal_note=internal_note,
        user_id=user_id,
        related_report_id=related_report_id,
    )
    if is_public_event({"kind": kind, "public_note": public_note}):
        await messages.enqueue_push(conn, report_id, event_id, now=created_at)
    return event_id
