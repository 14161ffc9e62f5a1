"""Business rules of a complaint: creation, status transitions, deadlines, resident answers.

Plain Python called by the web form, the outbox API, the staff workspace and Open311, so a
report follows the same rules whatever the channel. Each change is one write transaction
that writes the report and its timeline event together.
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from db import reports as q
from db.database import Database
from web import codes
from web.deadlines import due_after, from_text, to_text, utc_now
from web.i18n import lazy_gettext as N_
from web.text import visible_length

STATUS_LABELS = {
    "received": N_("Diterima"),
    "verified": N_("Diverifikasi"),
    "dispatched": N_("Diteruskan ke instansi"),
    "in_progress": N_("Sedang dikerjakan"),
    "resolved": N_("Selesai"),
    "rejected": N_("Tidak dapat ditindaklanjuti"),
    "duplicate": N_("Digabung dengan laporan lain"),
    "closed": N_("Ditutup"),
}
# The steps a resident sees on the timeline, in order.
STEPS = ("received", "verified", "dispatched", "in_progress", "resolved")
OPEN_STATUSES = frozenset({"received", "verified", "dispatched", "in_progress"})
CLOSED_STATUSES = frozenset({"resolved", "rejected", "duplicate", "closed"})
CHANNELS = ("web", "outbox", "walk_in", "whatsapp", "phone", "email", "social", "open311")
STAFF_CHANNELS = ("walk_in", "whatsapp", "phone", "email", "social")
CHANNEL_LABELS = {
    "web": N_("Situs web"),
    "outbox": N_("Situs web (dari antrean HP)"),
    "walk_in": N_("Datang langsung"),
    "whatsapp": N_("WhatsApp"),
    "phone": N_("Telepon"),
    "email": N_("Email"),
    "social": N_("Media sosial"),
    "open311": N_("Aplikasi lain (Open311)"),
}
REOPEN_WINDOW = timedelta(days=14)
# Staff actions: the statuses each may start from, and the status it leads to (None: same).
TRANSITIONS: dict[str, tuple[frozenset[str], str | None]] = {
    "verify": (frozenset({"received"}), "verified"),
    "dispatch": (frozenset({"received", "verified", "dispatched", "in_progress"}), "dispatched"),
    "progress": (frozenset({"verified", "dispatched", "in_progress"}), "in_progress"),
    "resolve": (frozenset({"received", "verified", "dispatched", "in_progress"}), "resolved"),
    "reject": (OPEN_STATUSES, "rejected"),
    "duplicate": (OPEN_STATUSES, "duplicate"),
    "note": (frozenset(STATUS_LABELS), None),
    "recategorise": (OPEN_STATUSES, None),
}
# Actions that count as the first response to the resident.
RESPONDING_ACTIONS = frozenset({"verify", "dispatch", "progress", "resolve", "reject", "duplicate"})


class DomainError(Exception):
    """A rule refused the change; `message` is an Indonesian msgid to translate and show."""

    def __init__(self, message: str, **params: Any) -> None:
        super().__init__(message)
        self.message = message
        self.params = params


class IdempotencyMismatch(DomainError):
    """The same idempotency key came back with different content."""


class Conflict(DomainError):
    """Someone changed the report since the form was shown."""


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


@dataclass(frozen=True)
class StoredPhoto:
    sha256: str
    width: int
    height: int


@dataclass(frozen=True)
class Created:
    id: int
    code: str
    replay: bool = False
    # A replay from the device that sent the original (both sent the same device secret):
    # only such a replay may be given the report's private link.
    same_device: bool = False


@dataclass
class Deadlines:
    response: datetime
    dispatch: datetime
    resolution: datetime


def next_due(status: str, report: dict[str, Any]) -> str | None:
    """The deadline the report is waiting on in a status (what the inbox orders by)."""
    if status == "received":
        return report.get("response_due_at")
    if status == "verified":
        return report.get("dispatch_due_at")
    if status in {"dispatched", "in_progress"}:
        return report.get("resolution_due_at")
    return None


async def compute_deadlines(conn: Any, category: Any, start: datetime, tz: str) -> Deadlines:
    holidays = await q.holidays(conn)
    return Deadlines(
        response=due_after(
            start, category["response_amount"], category["response_unit"], holidays, tz
        ),
        dispatch=due_after(
            start, category["dispatch_amount"], category["dispatch_unit"], holidays, tz
        ),
        resolution=due_after(
            start, category["resolution_amount"], category["resolution_unit"], holidays, tz
        ),
    )


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
    async with db.read() as conn:
        return await q.find_by_idempotency_key(conn, idempotency_key) is not None


async def find_replay(
    db: Database, idempotency_key: str, request_hash: str, device_hash: str | None = None
) -> Created | None:
    """The report this key already made, to answer a replay before any photo is decoded;
    None when the key is new. Raises IdempotencyMismatch for the same key with other content.
    """
    async with db.read() as conn:
        existing = await q.find_by_idempotency_key(conn, idempotency_key)
    return None if existing is None else _replay(existing, request_hash, device_hash)


async def create_report(
    db: Database,
    new: NewReport,
    photos: Sequence[StoredPhoto] = (),
    *,
    idempotency_key: str | None = None,
    request_hash: str | None = None,
    device_hash: str | None = None,
    created_by: int | None = None,
    tz: str = "Asia/Jakarta",
    now: datetime | None = None,
) -> Created:
    """Create a report with its first timeline event and its photos, in one transaction.

    With an idempotency key, a replay returns the report the key created, and the same key
    with other content raises IdempotencyMismatch; the key's unique index decides between
    concurrent replays (on any server), so only one report can ever exist per key.
    `device_hash` (the sha256 of the sending device's secret) is kept beside the key to
    tell replays from that device.
    """
    received = now or utc_now()
    async with db.write() as conn:
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
        # Complaints taken by staff are timed from when the resident made them; a report from
        # the phone's outbox from when it reached us (nobody could act on it before).
        start = written if (written and new.channel in STAFF_CHANNELS) else received
        due = await compute_deadlines(conn, category, start, tz)
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
            "response_due_at": to_text(due.response),
            "dispatch_due_at": to_text(due.dispatch),
            "resolution_due_at": to_text(due.resolution),
            "next_due_at": to_text(due.response),
            "created_by": created_by,
            "updated_at": to_text(received),
            "media_url": new.media_url,
            "device_id": new.device_id,
            "idempotency_device": device_hash if idempotency_key else None,
        }
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
        event_id = await q.insert_event(
            conn,
            report_id,
            "received",
            status_after="received",
            actor="resident" if created_by is None else "staff",
            user_id=created_by,
            created_at=to_text(received),
        )
        for position, photo in enumerate(photos):
            await q.insert_photo(
                conn,
                report_id,
                photo.sha256,
                photo.width,
                photo.height,
                position=position,
                created_at=to_text(received),
                event_id=event_id,
            )
        return Created(report_id, code)


@dataclass
class Action:
    """A staff action on a report. `expected_version` is the version the form was shown with."""

    kind: str
    expected_version: int
    user_id: int | None = None
    public_note: str = ""
    internal_note: str = ""
    agency_code: str | None = None
    duplicate_of_code: str | None = None
    category_code: str | None = None
    area_code: str | None = None
    photos: Sequence[StoredPhoto] = field(default_factory=tuple)


async def apply_action(
    db: Database,
    code: str,
    action: Action,
    *,
    tz: str = "Asia/Jakarta",
    now: datetime | None = None,
) -> int:
    """Apply one staff action: checks the transition and the version, writes the report and
    its timeline event together, stamps first-response and resolution times. Returns the new
    version. Raises Conflict when the report changed since `expected_version`."""
    if action.kind not in TRANSITIONS:
        raise DomainError(N_("Tindakan tidak dikenal."))
    moment = now or utc_now()
    stamp = to_text(moment)
    allowed_from, target = TRANSITIONS[action.kind]
    async with db.write() as conn:
        report = await q.report_for_update(conn, code)
        if report is None:
            raise DomainError(N_("Laporan tidak ditemukan."))
        if report["version"] != action.expected_version:
            raise Conflict(
                N_(
                    "Laporan ini baru saja diubah petugas lain. Periksa keadaan "
                    "terbarunya di bawah, lalu ulangi bila masih perlu."
                )
            )
        if report["status"] not in allowed_from:
            raise DomainError(
                N_("Tindakan ini tidak bisa dilakukan pada laporan berstatus %(status)s."),
                status=report["status"],
            )
        row = dict(report)
        changes: dict[str, Any] = {"updated_at": stamp}
        related_id: int | None = None
        # A note of blank-looking characters says nothing (web/text.py).
        if action.kind == "reject" and not visible_length(action.public_note):
            raise DomainError(N_("Alasan penolakan wajib diisi."))
        if action.kind == "resolve" and not visible_length(action.public_note):
            raise DomainError(N_("Tulis apa yang sudah dikerjakan untuk warga."))
        if action.kind == "note" and not (
            visible_length(action.internal_note) or visible_length(action.public_note)
        ):
            raise DomainError(N_("Catatan tidak boleh kosong."))
        if action.kind == "dispatch":
            agency = await _one(
                conn, "SELECT code FROM agencies WHERE code = :code", action.agency_code or ""
            )
            if agency is None:
                raise DomainError(N_("Pilih instansi tujuan."))
            changes["agency_code"] = agency["code"]
            # LAPOR!: the agency's time to resolve runs from when it receives the case, so
            # the kelurahan's days to verify and forward are not charged to the agency. A
            # forward to another agency gives it its own full time; forwarding again to the
            # same agency does not reset its clock.
            category = await q.category(conn, report["category_code"])
            if category is not None and agency["code"] != report["agency_code"]:
                due = await compute_deadlines(conn, category, moment, tz)
                changes["resolution_due_at"] = row["resolution_due_at"] = to_text(due.resolution)
        if action.kind == "duplicate":
            target_code = codes.normalise(action.duplicate_of_code or "")
            original = await q.report_for_update(conn, target_code) if target_code else None
            if original is None or original["id"] == report["id"]:
                raise DomainError(N_("Kode laporan induk tidak ditemukan."))
            if original["status"] == "duplicate":
                raise DomainError(N_("Laporan induk itu sendiri sudah digabung; pakai induknya."))
            changes["duplicate_of"] = original["id"]
            related_id = original["id"]
        if action.kind == "recategorise":
            if action.category_code:
                category = await q.category(conn, action.category_code)
                if category is None:
                    raise DomainError(N_("Kategori tidak dikenal."))
                changes["category_code"] = category["code"]
                if category["confidential"]:
                    changes["confidential"] = 1
                if category["code"] != report["category_code"]:
                    # The new category's targets apply, counted from the same start as before;
                    # a deadline already met stays met (only future steps move).
                    start = from_text(
                        report["written_at"]
                        if report["channel"] in STAFF_CHANNELS and report["written_at"]
                        else report["received_at"]
                    )
                    due = await compute_deadlines(conn, category, start, tz)
                    renewed = {"response_due_at": due.response, "dispatch_due_at": due.dispatch}
                    if report["agency_code"] is None:
                        renewed["resolution_due_at"] = due.resolution
                    for column, moment in renewed.items():
                        changes[column] = row[column] = to_text(moment)
                    changes["next_due_at"] = next_due(report["status"], row)
            if action.area_code:
                area = await _one(
                    conn,
                    "SELECT code FROM areas WHERE code = :code AND level = 4",
                    action.area_code,
                )
                if area is None:
                    raise DomainError(N_("Kelurahan tidak dikenal."))
                changes["area_code"] = area["code"]
        if target is not None:
            changes["status"] = target
            changes["status_changed_at"] = stamp
            changes["next_due_at"] = next_due(target, row)
            if target == "resolved":
                changes["resolved_at"] = stamp
            if target in {"rejected", "duplicate"}:
                changes["closed_at"] = stamp
        if action.kind in RESPONDING_ACTIONS and not report["first_response_at"]:
            changes["first_response_at"] = stamp
        if not await q.update_report(conn, report["id"], report["version"], changes):
            raise Conflict(N_("Laporan ini baru saja diubah petugas lain."))
        event_id = await q.insert_event(
            conn,
            report["id"],
            action.kind,
            status_after=target,
            actor="staff",
            user_id=action.user_id,
            public_note=action.public_note.strip(),
            internal_note=action.internal_note.strip(),
            related_report_id=related_id,
            created_at=stamp,
        )
        for position, photo in enumerate(action.photos):
            await q.insert_photo(
                conn,
                report["id"],
                photo.sha256,
                photo.width,
                photo.height,
                position=position,
                created_at=stamp,
                event_id=event_id,
            )
        if related_id is not None:
            await q.insert_event(
                conn,
                related_id,
                "merged_in",
                actor="staff",
                user_id=action.user_id,
                related_report_id=report["id"],
                created_at=stamp,
            )
        return int(report["version"]) + 1


async def _one(conn: Any, sql: str, code: str) -> Any:
    return await conn.fetchone(sql, {"code": code})


def can_reopen(report: Any, now: datetime | None = None) -> bool:
    if report["status"] != "resolved" or not report["resolved_at"]:
        return False
    return (now or utc_now()) - from_text(report["resolved_at"]) <= REOPEN_WINDOW


async def resident_answer(
    db: Database,
    code: str,
    *,
    fixed: bool,
    rating: int | None = None,
    note: str = "",
    tz: str = "Asia/Jakarta",
    now: datetime | None = None,
) -> str:
    """The resident's "Sudah beres?" answer on a resolved report, through the private link.

    Yes closes it with an optional 1–5 rating; "belum beres" within 14 days reopens it with a
    new resolution deadline. Returns the new status.
    """
    moment = now or utc_now()
    stamp = to_text(moment)
    async with db.write() as conn:
        report = await q.report_for_update(conn, code)
        if report is None or report["status"] != "resolved":
            raise DomainError(N_("Laporan ini tidak sedang menunggu jawaban Anda."))
        if fixed:
            if rating is not None and not 1 <= rating <= 5:
                raise DomainError(N_("Pilih nilai 1 sampai 5."))
            changes: dict[str, Any] = {
                "status": "closed",
                "status_changed_at": stamp,
                "closed_at": stamp,
                "rating": rating,
                "next_due_at": None,
                "updated_at": stamp,
            }
            kind, target = "confirmed", "closed"
        else:
            if not can_reopen(report, moment):
                raise DomainError(
                    N_(
                        "Batas 14 hari untuk membuka kembali laporan ini sudah "
                        "lewat. Silakan buat laporan baru."
                    )
                )
            if not visible_length(note):
                raise DomainError(N_("Ceritakan apa yang belum beres."))
            category = await q.category(conn, report["category_code"])
            due = await compute_deadlines(conn, category, moment, tz)
            changes = {
                "status": "in_progress",
                "status_changed_at": stamp,
                "resolved_at": None,
                "resolution_due_at": to_text(due.resolution),
                "next_due_at": to_text(due.resolution),
                "reopen_count": report["reopen_count"] + 1,
                "updated_at": stamp,
            }
            kind, target = "reopened", "in_progress"
        if not await q.update_report(conn, report["id"], report["version"], changes):
            raise Conflict(N_("Laporan ini baru saja berubah. Muat ulang halaman."))
        await q.insert_event(
            conn,
            report["id"],
            kind,
            status_after=target,
            actor="resident",
            public_note=note.strip(),
            created_at=stamp,
        )
        return target
