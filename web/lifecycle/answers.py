"""The resident's answer to "Sudah beres?" on a resolved report, through the private link."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from db import reports as q
from db.database import Database
from web.clock import to_text, utc_now
from web.i18n import lazy_gettext as N_
from web.lifecycle.deadlines import deadlines_for
from web.lifecycle.errors import Conflict, DomainError
from web.lifecycle.events import add_event
from web.lifecycle.rules import awaits_answer, can_reopen
from web.text import visible_length


async def resident_answer(
    db: Database,
    code: str,
    *,
    fixed: bool,
    rating: int | None = None,
    note: str = "",
    tz: str = "Asia/Jakarta",
    now: datetime | None = None,
    send_by: Collection[str] = (),
) -> str:
    """The resident's "Sudah beres?" answer on a resolved report, through the private link.

    Yes closes it with an optional 1–5 rating; "belum beres" within 14 days reopens it with a
    new resolution deadline. Returns the new status.
    """
    moment = now or utc_now()
    stamp = to_text(moment)
    async with db.write() as conn:
        report = await q.report_for_update(conn, code)
        if report is None or not awaits_answer(report):
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
            category = await q.category(conn, report["category_code"], active_only=False)
            due = deadlines_for(category, moment, await q.holidays(conn), tz)
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
        await add_event(
            conn,
            report["id"],
            kind,
            status_after=target,
            actor="resident",
            public_note=note.strip(),
            created_at=stamp,
            send_by=send_by,
        )
        return target
