"""Staff actions on a report. Each action is a small function in ACTIONS that checks what
the action needs and says what it changes; `apply_action` wraps every one of them in the
same steps: the transition and version checks first, then the new status, the
first-response time, the timeline event and its photos, all in one write transaction.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from db import reports as q
from db.database import Database
from web import codes
from web.clock import from_text, to_text, utc_now
from web.i18n import lazy_gettext as N_
from web.lifecycle.alerts import case_came_in
from web.lifecycle.create import add_photos
from web.lifecycle.deadlines import deadlines_for
from web.lifecycle.errors import CHANGED_MEANWHILE, Conflict, DomainError, not_allowed
from web.lifecycle.events import add_event
from web.lifecycle.rules import RESPONDING_ACTIONS, TRANSITIONS, clock_start, next_due
from web.photos import Photo
from web.text import visible_length


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
    photos: Sequence[Photo] = field(default_factory=tuple)


@dataclass
class Change:
    """One action being applied: the report as read, the columns to write, and the due
    times the report will have (what `next_due` reads)."""

    conn: Any
    report: Any
    action: Action
    moment: datetime
    tz: str
    changes: dict[str, Any]
    due: dict[str, Any]
    related_id: int | None = None


async def _nothing_more(change: Change) -> None:
    """Verifying and recording progress need nothing beyond the transition itself."""


async def _resolve(change: Change) -> None:
    # A note of blank-looking characters says nothing (web/text.py).
    if not visible_length(change.action.public_note):
        raise DomainError(N_("Tulis apa yang sudah dikerjakan untuk warga."))


async def _reject(change: Change) -> None:
    if not visible_length(change.action.public_note):
        raise DomainError(N_("Alasan penolakan wajib diisi."))


async def _note(change: Change) -> None:
    action = change.action
    if not (visible_length(action.internal_note) or visible_length(action.public_note)):
        raise DomainError(N_("Catatan tidak boleh kosong."))


async def _dispatch(change: Change) -> None:
    report = change.report
    agency = await q.known_agency(change.conn, change.action.agency_code or "")
    if agency is None:
        raise DomainError(N_("Pilih instansi tujuan."))
    change.changes["agency_code"] = agency
    # LAPOR!: the agency's time to resolve runs from when it receives the report, so the
    # kelurahan's days to verify and forward are not charged to the agency. A forward to
    # another agency gives it its own full time; forwarding again to the same agency does
    # not reset its clock.
    category = await q.category(change.conn, report["category_code"], active_only=False)
    if category is not None and agency != report["agency_code"]:
        holidays = await q.holidays(change.conn)
        due = deadlines_for(category, change.moment, holidays, change.tz)
        change.changes["resolution_due_at"] = change.due["resolution_due_at"] = to_text(
            due.resolution
        )


async def _duplicate(change: Change) -> None:
    target_code = codes.normalise(change.action.duplicate_of_code or "")
    original = await q.report_for_update(change.conn, target_code) if target_code else None
    if original is None or original["id"] == change.report["id"]:
        raise DomainError(N_("Kode laporan induk tidak ditemukan."))
    if original["status"] == "duplicate":
        raise DomainError(N_("Laporan induk itu sendiri sudah digabung; pakai induknya."))
    change.changes["duplicate_of"] = original["id"]
    change.related_id = original["id"]


async def _recategorise(change: Change) -> None:
    report, action, changes = change.report, change.action, change.changes
    if action.category_code:
        category = await q.category(change.conn, action.category_code)
        if category is None:
            raise DomainError(N_("Kategori tidak dikenal."))
        changes["category_code"] = category["code"]
        if category["confidential"]:
            changes["confidential"] = 1
        if category["code"] != report["category_code"]:
            # The new category's targets apply, counted from the same start as before; a
            # deadline already met stays met (only future steps move).
            start = from_text(clock_start(report))
            due = deadlines_for(category, start, await q.holidays(change.conn), change.tz)
            renewed = {"response_due_at": due.response, "dispatch_due_at": due.dispatch}
            if report["agency_code"] is None:
                renewed["resolution_due_at"] = due.resolution
            for column, moment in renewed.items():
                changes[column] = change.due[column] = to_text(moment)
            changes["next_due_at"] = next_due(report["status"], change.due)
    if action.area_code:
        area = await q.known_kelurahan(change.conn, action.area_code)
        if area is None:
            raise DomainError(N_("Kelurahan tidak dikenal."))
        changes["area_code"] = area


# What each action checks and changes beyond the transition; one entry per TRANSITIONS key.
ACTIONS: dict[str, Callable[[Change], Awaitable[None]]] = {
    "verify": _nothing_more,
    "dispatch": _dispatch,
    "progress": _nothing_more,
    "resolve": _resolve,
    "reject": _reject,
    "duplicate": _duplicate,
    "note": _note,
    "recategorise": _recategorise,
}


def _status_change(change: Change, target: str) -> None:
    stamp = change.changes["updated_at"]
    change.changes.update(status=target, status_changed_at=stamp)
    change.changes["next_due_at"] = next_due(target, change.due)
    if target == "resolved":
        change.changes["resolved_at"] = stamp
    if target in {"rejected", "duplicate"}:
        change.changes["closed_at"] = stamp


async def apply_action(
    db: Database,
    code: str,
    action: Action,
    *,
    tz: str = "Asia/Jakarta",
    now: datetime | None = None,
    send_by: Collection[str] = (),
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
            raise Conflict(CHANGED_MEANWHILE)
        if report["status"] not in allowed_from:
            raise not_allowed(report["status"])
        change = Change(conn, report, action, moment, tz, {"updated_at": stamp}, dict(report))
        await ACTIONS[action.kind](change)
        if target is not None:
            _status_change(change, target)
        if action.kind in RESPONDING_ACTIONS and not report["first_response_at"]:
            change.changes["first_response_at"] = stamp
        if not await q.update_report(conn, report["id"], report["version"], change.changes):
            raise Conflict(N_("Laporan ini baru saja diubah petugas lain."))
        event_id = await add_event(
            conn,
            report["id"],
            action.kind,
            status_after=target,
            actor="staff",
            user_id=action.user_id,
            public_note=action.public_note.strip(),
            internal_note=action.internal_note.strip(),
            related_report_id=change.related_id,
            created_at=stamp,
            send_by=send_by,
        )
        await add_photos(conn, report["id"], event_id, action.photos, stamp)
        # Forwarded to an agency, moved to a kelurahan, made confidential: new to someone.
        after = {**report, **change.changes}
        await case_came_in(
            conn, report["id"], event_id, after=after, before=report, now=stamp, send_by=send_by
        )
        if change.related_id is not None:
            await add_event(
                conn,
                change.related_id,
                "merged_in",
                actor="staff",
                user_id=action.user_id,
                related_report_id=report["id"],
                created_at=stamp,
                send_by=send_by,
            )
        return int(report["version"]) + 1
