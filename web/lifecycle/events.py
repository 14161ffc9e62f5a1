"""Writing a timeline event, and what a public one causes: every step the public may see
(rules.is_public_event) enqueues its messages to the residents who follow the report, in
the same transaction as the event itself, so a step is never recorded without its
messages nor a message left for a step rolled back. An internal note causes none.
"""

from __future__ import annotations

from typing import Any

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
    public_note: str = "",
    **fields: Any,
) -> int:
    """Append one event to a report's timeline (inside the caller's write transaction, with
    the other fields of `db.reports.insert_event`) and, when the public may see it, enqueue
    its messages; returns the event's id."""
    event_id = await q.insert_event(
        conn, report_id, kind, created_at=created_at, public_note=public_note, **fields
    )
    if is_public_event({"kind": kind, "public_note": public_note}):
        await messages.enqueue_push(conn, report_id, event_id, now=created_at)
    return event_id
