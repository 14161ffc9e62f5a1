"""Closing resolved reports the resident did not answer (LAPOR!: after 10 working days),
with a "closed" timeline event by the system. web/tasks.py runs it every hour and for
`aduan tasks run`.

Safe to run from several places at once (the server and cron): a report is closed only if
it is still resolved, at the resolution that was read, under the write lock.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from datetime import datetime
from typing import Any

from db import deadlines as deadline_db
from db import reports as q
from db.database import Database
from web.clock import from_text, to_text, utc_now
from web.lifecycle.deadlines import autoclose_at, autoclose_candidates_before
from web.lifecycle.events import add_event

log = logging.getLogger("aduan.tasks")


async def close_unanswered(
    db: Database,
    *,
    workdays: int,
    tz: str = "Asia/Jakarta",
    now: datetime | None = None,
    send_by: Collection[str] = (),
) -> int:
    """Close every resolved report whose resident has not answered within `workdays`
    working days of its resolution. Returns how many were closed.

    A resident who answered is no longer "resolved" (closed with a rating, or reopened), so
    is never touched; a report reopened and resolved again counts from the new resolution.
    Each report is closed in its own transaction, checked again under the write lock, so a
    resident answering at the same moment wins or loses cleanly, never half.
    """
    if workdays <= 0:
        return 0
    moment = now or utc_now()
    stamp = to_text(moment)
    bound = to_text(autoclose_candidates_before(moment, workdays))
    closed = 0
    after_id = 0
    while True:
        candidates = await deadline_db.resolved_before(db, bound, after_id=after_id)
        if not candidates:
            break
        after_id = candidates[-1]["id"]
        async with db.read() as conn:
            holidays = await q.holidays(conn)
        due = [
            c
            for c in candidates
            if autoclose_at(from_text(c["resolved_at"]), workdays, holidays, tz) <= moment
        ]
        for candidate in due:
            if await _close_one(db, candidate, stamp, send_by):
                closed += 1
    if closed:
        log.info("closed %d resolved reports the resident did not answer", closed)
    return closed


async def _close_one(db: Database, candidate: Any, stamp: str, send_by: Collection[str]) -> bool:
    async with db.write() as conn:
        report = await q.report_by_id(conn, candidate["id"])
        if (
            report is None
            or report["status"] != "resolved"
            or report["resolved_at"] != candidate["resolved_at"]
        ):
            return False
        changes = {
            "status": "closed",
            "status_changed_at": stamp,
            "closed_at": stamp,
            "next_due_at": None,
            "updated_at": stamp,
        }
        if not await q.update_report(conn, report["id"], report["version"], changes):
            return False
        await add_event(
            conn,
            report["id"],
            "closed",
            status_after="closed",
            actor="system",
            created_at=stamp,
            send_by=send_by,
        )
        return True
