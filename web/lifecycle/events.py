"""Writing a timeline event, and what a public one causes: every step the public may see
(rules.is_public_event) enqueues its messages to the residents who follow the report, in
the same transaction as the event itself, so a step is never recorded without its
messages nor a message left for a step rolled back. An internal note causes none.

Who hears: every browser following the report (Web Push), and the reporter on each channel
they agreed to (`reports.notify_by`) that this server has a sender for (`send_by`, from
Settings.message_channels). A channel agreed to but without a sender (WhatsApp with no
gateway: staff tell the resident by hand through wa.me) enqueues nothing.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from db import messages
from db import reports as q
from db.database import Connection, Database
from web import contact
from web.lifecycle.rules import is_public_event


async def add_event(
    conn: Connection,
    report_id: int,
    kind: str,
    *,
    created_at: str,
    public_note: str = "",
    send_by: Collection[str] = (),
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
        if send_by:
            await _enqueue_contacts(conn, report_id, event_id, send_by, created_at)
    return event_id


async def _enqueue_contacts(
    conn: Connection, report_id: int, event_id: int, send_by: Collection[str], now: str
) -> None:
    row = await messages.contacts_of(conn, report_id)
    for channel in contact.split(row["notify_by"] if row else ""):
        if channel not in send_by:
            continue
        to = contact.recipient(channel, phone=row["reporter_phone"], email=row["reporter_email"])
        if to:
            await messages.enqueue_contact(conn, report_id, event_id, channel, to, now=now)


async def stop_messages(db: Database, code: str, channel: str) -> bool:
    """The reporter's "Berhenti": `channel` leaves the report's notify_by and its messages
    not yet sent are failed, in one transaction. False when there is no such report."""
    async with db.write() as conn:
        row = await messages.notify_by_for_update(conn, code)
        if row is None:
            return False
        remaining = contact.join(c for c in contact.split(row["notify_by"]) if c != channel)
        await messages.stop_channel(conn, row["id"], remaining, channel)
        return True
