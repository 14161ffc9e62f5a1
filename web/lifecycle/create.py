"""Creating a report, whatever the channel (the resident's form, the phone's outbox, staff
intake, Open311): its due times, its first timeline event and its photos, in one write
transaction; and answering a replay of an idempotency key with the report it made."""

from __future__ import annotations

import hmac
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from db import reports as q
from db.database import Connection, Database
from web import codes
from web.clock import from_text, to_text, utc_now
from web.i18n import lazy_gettext as N_
from web.lifecycle.alerts import case_came_in
from web.lifecycle.deadlines import deadlines_for
from web.lifecycle.errors import DomainError, IdempotencyMismatch
from web.lifecycle.events import add_event
from web.lifecycle.rules import clock_start
from web.photos import Photo


@dataclass
class NewReport:
    category: str
    area: str
    description: str
    channel: str = "web"
    address: str = ""
    rt_rw: str = ""
    lat: float | None = None
    lon: float | None = None
    location_source: str | None = None
    reporter_name: str = ""
    reporter_phone: str = ""
    reporter_email: str = ""
    anonymous: bool = False
    confidential: bool = False
    on_behalf: bool = False
    on_behalf_name: str = ""
    on_behalf_phone: str = ""
    on_behalf_no_phone: bool = False
    volunteer_name: str = ""
    written_at: datetime | None = None
    # Open311: a client's photo link (recorded, never fetched) and its device id
    media_url: str = ""
    device_id: str = ""
    # The channels the reporter agreed to hear back on (web.contact.CHANNELS, in that order,
    # comma-separated; '' none) and the language their messages are written in
    notify_by: str = ""
    language: str = "id"


@dataclass(frozen=True)
class Created:
    id: int
    code: str
    replay: bool = False
    # A replay from the device that sent the original (both sent the same device secret):
    # only such a replay may be given the report's private link.
    same_device: bool = False


def _replay(existing: Any, request_hash: str | None, device_hash: str | None) -> Created:
    """The answer to a key that already made a report: that report, or IdempotencyMismatch
    when the key came back with other content."""
    if existing["request_hash"] != request_hash:
        raise IdempotencyMismatch(N_("Kunci pengiriman ini sudah dipakai untuk laporan lain."))
    stored = existing["idempotency_device"]
    same = bool(stored and device_hash and hmac.compare_digest(stored, device_hash))
    return Created(existing["id"], existing["code"], replay=True, same_device=same)


async def key_used(db: Database, idempotency_key: str) -> bool:
    """Whether a report was already made with this idempotency key."""
    return await q.look_up_idempotency_key(db, idempotency_key) is not None


async def find_replay(
    db: Database, idempotency_key: str, request_hash: str, device_hash: str | None = None
) -> Created | None:
    """The report this key already made, to answer a replay before any photo is decoded;
    None when the key is new. Raises IdempotencyMismatch for the same key with other content.
    """
    existing = await q.look_up_idempotency_key(db, idempotency_key)
    return None if existing is None else _replay(existing, request_hash, device_hash)


async def add_photos(
    conn: Any,
    report_id: int,
    event_id: int,
    photos: Sequence[Photo],
    created_at: str,
) -> None:
    """Attach photos, in the order given, to the timeline event that brought them."""
    for position, photo in enumerate(photos):
        await q.insert_photo(
            conn,
            report_id,
            photo.sha256,
            photo.width,
            photo.height,
            position=position,
            created_at=created_at,
            event_id=event_id,
        )


async def create_report(
    db: Database,
    new: NewReport,
    photos: Sequence[Photo] = (),
    *,
    idempotency_key: str | None = None,
    request_hash: str | None = None,
    device_hash: str | None = None,
    created_by: int | None = None,
    tz: str = "Asia/Jakarta",
    now: datetime | None = None,
    send_by: Collection[str] = (),
) -> Created:
    """Create a report with its first timeline event and its photos, in one transaction.

    With an idempotency key, a replay returns the report the key created, and the same key
    with other content raises IdempotencyMismatch; the key's unique index decides between
    concurrent replays (on any server), so only one report can ever exist per key.
    `device_hash` (the sha256 of the sending device's secret) is kept beside the key to
    tell replays from that device. `send_by`: the contact channels with a sender
    (web/lifecycle/events.py).
    """
    received = now or utc_now()

    # Only SQL awaited inside: one trip to SQLite's writer thread (Database.transact).
    async def write_report(conn: Connection) -> Created:
        if idempotency_key:
            existing = await q.find_by_idempotency_key(conn, idempotency_key)
            if existing is not None:
                return _replay(existing, request_hash, device_hash)
        category = await q.category(conn, new.category)
        if category is None:
            raise DomainError(N_("Kategori tidak dikenal."))
        written = new.written_at
        if written is not None and written > received:
            written = received  # a phone clock ahead of ours cannot put a report in the future
        fields: dict[str, Any] = {
            "code": "",
            "idempotency_key": idempotency_key,
            "request_hash": request_hash,
            "category_code": new.category,
            "area_code": new.area,
            "agency_code": None,
            "description": new.description,
            "address": new.address,
            "rt_rw": new.rt_rw,
            "lat": new.lat,
            "lon": new.lon,
            "location_source": new.location_source if new.lat is not None else None,
            "channel": new.channel,
            "reporter_name": new.reporter_name,
            "reporter_phone": new.reporter_phone,
            "reporter_email": new.reporter_email,
            "anonymous": int(new.anonymous),
            "confidential": int(new.confidential or bool(category["confidential"])),
            "on_behalf": int(new.on_behalf),
            "on_behalf_name": new.on_behalf_name,
            "on_behalf_phone": new.on_behalf_phone,
            "on_behalf_no_phone": int(new.on_behalf_no_phone),
            "volunteer_name": new.volunteer_name,
            "written_at": to_text(written) if written else None,
            "received_at": to_text(received),
            "status": "received",
            "status_changed_at": to_text(received),
            "created_by": created_by,
            "updated_at": to_text(received),
            "media_url": new.media_url,
            "device_id": new.device_id,
            "idempotency_device": device_hash if idempotency_key else None,
            "notify_by": new.notify_by,
            "language": new.language,
        }
        start = from_text(clock_start(fields))
        due = deadlines_for(category, start, await q.holidays(conn), tz)
        fields.update(
            response_due_at=to_text(due.response),
            dispatch_due_at=to_text(due.dispatch),
            resolution_due_at=to_text(due.resolution),
            next_due_at=to_text(due.response),
        )
        # The unique code and key decide, not a look first: another server may have taken
        # either since. A key taken meanwhile is a replay; a code, a rare collision.
        for _attempt in range(10):
            fields["code"] = code = codes.new_code()
            inserted = await q.insert_report(conn, fields)
            if inserted is not None:
                report_id = inserted
                break
            if idempotency_key:
                existing = await q.find_by_idempotency_key(conn, idempotency_key)
                if existing is not None:
                    return _replay(existing, request_hash, device_hash)
        else:
            raise RuntimeError("no free tracking code after 10 tries")
        event_id = await add_event(
            conn,
            report_id,
            "received",
            status_after="received",
            actor="resident" if created_by is None else "staff",
            user_id=created_by,
            created_at=to_text(received),
            send_by=send_by,
        )
        await add_photos(conn, report_id, event_id, photos, to_text(received))
        await case_came_in(
            conn, report_id, event_id, after=fields, now=to_text(received), send_by=send_by
        )
        return Created(report_id, code)

    return await db.transact(write_report)
