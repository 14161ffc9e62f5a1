"""Periodic upkeep inside the server (hourly) and `aduan tasks run` for cron:

- close resolved reports the resident did not answer within the configured working days
  (LAPOR!: 10), with a "closed" timeline event by the system;
- remove photos that no report uses (left by forms that were never completed).

Each task is safe to run from several places at once (the server and cron): a report is
closed only if it is still resolved at the version that was read.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import anyio

from db import deadlines as deadline_db
from db import reports as q
from db.database import Database
from web.deadlines import autoclose_at, autoclose_candidates_before, from_text, to_text, utc_now
from web.photos import PhotoStore
from web.settings import Settings

log = logging.getLogger("aduan.tasks")
INTERVAL_SECONDS = 3600
ORPHAN_AGE_SECONDS = 24 * 3600


@dataclass
class TaskReport:
    closed: int = 0
    photos_removed: int = 0


async def sweep_photos(
    db: Database, store: PhotoStore, older_than: float = ORPHAN_AGE_SECONDS
) -> int:
    """Delete stored photos that no report refers to and that are older than a day (a
    resident may still be fixing the form that holds them)."""
    rows = await db.fetchall("SELECT DISTINCT sha256 FROM photos")
    keep = {r["sha256"] for r in rows}
    removed = await anyio.to_thread.run_sync(store.sweep, keep, older_than)
    if removed:
        log.info("swept %d orphan photos", removed)
    return removed


async def close_unanswered(
    db: Database, *, workdays: int, tz: str = "Asia/Jakarta", now: datetime | None = None
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
            if await _close_one(db, candidate, stamp):
                closed += 1
    if closed:
        log.info("closed %d resolved reports the resident did not answer", closed)
    return closed


async def _close_one(db: Database, candidate: Any, stamp: str) -> bool:
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
        await q.insert_event(
            conn, report["id"], "closed", status_after="closed", actor="system", created_at=stamp
        )
        return True


async def run_once(db: Database, settings: Settings, now: datetime | None = None) -> TaskReport:
    """Every task once; one failing task does not keep the others from running."""
    report = TaskReport()
    try:
        report.closed = await close_unanswered(
            db, workdays=settings.autoclose_workdays, tz=settings.timezone, now=now
        )
    except Exception:
        log.exception("automatic closing failed")
    try:
        report.photos_removed = await sweep_photos(db, PhotoStore(settings.photo_dir))
    except Exception:
        log.exception("photo sweep failed")
    return report


async def run_forever(db: Database, settings: Settings) -> None:
    """Runs the tasks every hour until cancelled; one failure never stops the loop."""
    while True:
        try:
            await run_once(db, settings)
        except Exception:
            log.exception("periodic task failed")
        await asyncio.sleep(INTERVAL_SECONDS)


# --- `aduan tasks run` ----------------------------------------------------------------------


def add_parser(sub: Any) -> None:
    tasks = sub.add_parser("tasks", help="periodic upkeep (automatic closing, photo sweep)")
    tasks_sub = tasks.add_subparsers(dest="tasks_command", required=True, metavar="ACTION")
    tasks_sub.add_parser(
        "run",
        help="run the periodic tasks once, e.g. from cron when the server runs with "
        "ADUAN_NO_TASKS=1",
    )


async def run_command(args: argparse.Namespace, settings: Settings) -> int:
    if settings.uses_sqlite and not settings.db_path.exists():
        print(f"aduan: error: no database at {settings.db_path}", file=sys.stderr)
        return 2
    async with Database(settings.database) as db:
        await db.migrate()
        report = await run_once(db, settings)
    print(
        f"Closed {report.closed} resolved reports without an answer from the resident "
        f"(after {settings.autoclose_workdays} working days); "
        f"removed {report.photos_removed} orphan photos."
    )
    return 0
