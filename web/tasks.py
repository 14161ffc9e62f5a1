"""Periodic upkeep inside the server and `aduan tasks run` for cron:

- close resolved reports the resident did not answer within the configured working days
  (LAPOR!: 10): web/lifecycle/autoclose.py (hourly);
- remove photos that no report uses (left by forms that were never completed) (hourly);
- queue the staff alerts of first-response deadlines coming due and passing:
  web/lifecycle/alerts.py (every minute);
- erase the contact details of reports closed more than ADUAN_CONTACT_RETENTION_MONTHS ago
  (UU PDP): web/personal_data.py (hourly).

`aduan tasks run` also sends the messages to residents that are due (web/notify.py; the
server does that every few seconds by itself).

Each task runs once across every server: a server runs it only while holding the task's
lease (db/leases.py), taken when no other server holds it and, in the server's loop, when
the last run finished an hour ago or more. A server that dies mid-task loses its lease when
it expires (LEASE), and the next server to look runs the task again; each task is safe to
repeat (a report is closed only if it is still resolved at the version that was read).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import random
import socket
import sys
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from db import leases
from db import reports as report_db
from db.database import Database
from web import notify
from web.clock import to_text, utc_now
from web.lifecycle.alerts import deadline_alerts
from web.lifecycle.autoclose import close_unanswered
from web.personal_data import erase_expired
from web.photo_store import ORPHAN_AGE_SECONDS, PhotoStore, open_photo_store
from web.settings import Settings

log = logging.getLogger("aduan.tasks")
# How often the tasks run (across all servers), how often each server looks whether they
# are due, and how long a server's lease on a running task lasts before another may take it.
INTERVAL = timedelta(hours=1)
CHECK_SECONDS = 300
# The deadline alerts: looked for every minute (a little less, so that jitter never skips
# a minute).
ALERT_INTERVAL = timedelta(seconds=50)
ALERT_SECONDS = 60
LEASE = timedelta(minutes=15)
# This process, as lease holders are named (host, process, and a random part).
HOLDER = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass
class TaskReport:
    closed: int = 0
    photos_removed: int = 0
    alerts: int = 0
    contacts_erased: int = 0
    # Tasks another server was running (or had run within the interval): left to it.
    skipped: list[str] = field(default_factory=list)


async def sweep_photos(
    db: Database, store: PhotoStore, older_than: float = ORPHAN_AGE_SECONDS
) -> int:
    """Delete stored photos that no report refers to and that are older than a day (a
    resident may still be fixing the form that holds them)."""
    keep = await report_db.photo_hashes(db)
    removed = await store.sweep(keep, older_than)
    if removed:
        log.info("swept %d orphan photos", removed)
    return removed


async def run_once(
    db: Database,
    settings: Settings,
    now: datetime | None = None,
    *,
    every: timedelta | None = None,
    holder: str = HOLDER,
    store: PhotoStore | None = None,
    hourly: bool = True,
    alerts: bool = True,
) -> TaskReport:
    """Every task once, each under its lease; one failing task does not keep the others
    from running. `every`: only tasks whose last run finished that long ago (the server's
    loop); without it, any task no other server is running now (`aduan tasks run`).
    `store`: the app's photo store (default: the one the settings name). `hourly` and
    `alerts`: which of the tasks (the server's loop runs them at their own pace)."""
    report = TaskReport()

    async def autoclose() -> None:
        report.closed = await close_unanswered(
            db,
            workdays=settings.autoclose_workdays,
            tz=settings.timezone,
            now=now,
            send_by=settings.message_channels,
        )

    async def photo_sweep() -> None:
        report.photos_removed = await sweep_photos(db, store or open_photo_store(settings))

    async def contact_retention() -> None:
        report.contacts_erased = await erase_expired(
            db, months=settings.contact_retention_months, now=now
        )

    async def staff_alerts() -> None:
        report.alerts = await deadline_alerts(db, now=now, send_by=settings.message_channels)

    tasks: list[tuple[str, Callable[[], Awaitable[None]]]] = []
    if hourly:
        tasks += [
            ("autoclose", autoclose),
            ("photo_sweep", photo_sweep),
            ("contact_retention", contact_retention),
        ]
    if alerts:
        tasks.append(("deadline_alerts", staff_alerts))
    for name, task in tasks:
        moment = now or utc_now()
        try:
            claimed = await leases.claim(
                db,
                name,
                holder,
                now=to_text(moment),
                expires_at=to_text(moment + LEASE),
                finished_before=to_text(moment - every) if every else None,
            )
        except Exception:
            log.exception("could not take the lease of task %s", name)
            continue
        if not claimed:
            report.skipped.append(name)
            continue
        finished = False
        try:
            await task()
            finished = True
            # The minute's alert task would fill the log.
            (log.debug if name == "deadline_alerts" else log.info)(
                "task %s ran on this server", name
            )
        except Exception:
            log.exception("task %s failed", name)
        finally:
            try:
                await leases.release(
                    db, name, holder, now=to_text(now or utc_now()), finished=finished
                )
            except Exception:
                log.exception("could not release the lease of task %s", name)
    return report


async def run_forever(db: Database, settings: Settings, store: PhotoStore | None = None) -> None:
    """Looks every minute whether the deadline alerts are due and every few minutes whether
    the hourly tasks are (across all servers: the leases decide which server runs them)
    until cancelled; one failure never stops it."""
    first = True
    loop = asyncio.get_running_loop()
    next_hourly = loop.time()
    while True:
        hourly = loop.time() >= next_hourly
        try:
            await run_once(db, settings, every=ALERT_INTERVAL, hourly=False, store=store)
            if hourly:
                next_hourly = loop.time() + CHECK_SECONDS * random.uniform(0.8, 1.2)
                report = await run_once(db, settings, every=INTERVAL, alerts=False, store=store)
                if first and report.skipped:
                    log.info(
                        "task %s left to another server (running there, or ran within the hour)",
                        ", ".join(report.skipped),
                    )
                first = False
        except Exception:
            log.exception("periodic task failed")
        # Jitter: servers started together do not all look at the same moment.
        await asyncio.sleep(ALERT_SECONDS * random.uniform(0.8, 1.0))


# --- `aduan tasks run` ----------------------------------------------------------------------


def add_parser(sub: Any) -> None:
    tasks = sub.add_parser(
        "tasks",
        help="periodic upkeep (automatic closing, photo sweep, staff deadline alerts, messages)",
    )
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
        taken = await notify.deliver_now(db, settings)
    print(
        f"Closed {report.closed} resolved reports without an answer from the resident "
        f"(after {settings.autoclose_workdays} working days); "
        f"removed {report.photos_removed} orphan photos; "
        f"queued {report.alerts} staff deadline alerts; "
        f"erased the contact details of {report.contacts_erased} reports closed more than "
        f"{settings.contact_retention_months} months ago."
    )
    print(f"Sent or tried {taken} due messages to residents.")
    if report.skipped:
        print(f"Left to the server running them now: {', '.join(report.skipped)}.")
    return 0
