"""Periodic upkeep inside the server (hourly) and `aduan tasks run` for cron:

- close resolved reports the resident did not answer within the configured working days
  (LAPOR!: 10): web/lifecycle/autoclose.py;
- remove photos that no report uses (left by forms that were never completed).

Each task is safe to run from several places at once (the server and cron).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from db import reports as q
from db.database import Database
from web.lifecycle.autoclose import close_unanswered
from web.photo_store import ORPHAN_AGE_SECONDS, PhotoStore, open_photo_store
from web.settings import Settings

log = logging.getLogger("aduan.tasks")
INTERVAL_SECONDS = 3600


@dataclass
class TaskReport:
    closed: int = 0
    photos_removed: int = 0


async def sweep_photos(
    db: Database, store: PhotoStore, older_than: float = ORPHAN_AGE_SECONDS
) -> int:
    """Delete stored photos that no report refers to and that are older than a day (a
    resident may still be fixing the form that holds them)."""
    keep = await q.photo_hashes(db)
    removed = await store.sweep(keep, older_than)
    if removed:
        log.info("swept %d orphan photos", removed)
    return removed


async def run_once(
    db: Database,
    settings: Settings,
    now: datetime | None = None,
    *,
    store: PhotoStore | None = None,
) -> TaskReport:
    """Every task once; one failing task does not keep the others from running. `store`:
    the app's photo store (default: the one the settings name)."""
    report = TaskReport()
    try:
        report.closed = await close_unanswered(
            db, workdays=settings.autoclose_workdays, tz=settings.timezone, now=now
        )
    except Exception:
        log.exception("automatic closing failed")
    try:
        report.photos_removed = await sweep_photos(db, store or open_photo_store(settings))
    except Exception:
        log.exception("photo sweep failed")
    return report


async def run_forever(db: Database, settings: Settings, store: PhotoStore | None = None) -> None:
    """Runs the tasks every hour until cancelled; one failure never stops the loop."""
    while True:
        try:
            await run_once(db, settings, store=store)
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
    if not settings.db_path.exists():
        print(f"aduan: error: no database at {settings.db_path}", file=sys.stderr)
        return 2
    async with Database(settings.db_path) as db:
        await db.migrate()
        report = await run_once(db, settings)
    print(
        f"Closed {report.closed} resolved reports without an answer from the resident "
        f"(after {settings.autoclose_workdays} working days); "
        f"removed {report.photos_removed} orphan photos."
    )
    return 0
