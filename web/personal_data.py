"""Residents' personal data under UU PDP (UU No. 27 Tahun 2022): how long a reporter's contact
is kept and how it is erased, by the periodic task, by the reporter through the private
link, or by an admin answering a request that came to the office.

Erasing overwrites the values (db/personal_data.py), then, on SQLite, checkpoints and empties
the WAL so the old pages leave the files too (`PRAGMA secure_delete` zeroes freed space in
the database file itself). The report, its timeline, photos and figures stay.
"""

from __future__ import annotations

import calendar
import logging
from collections.abc import Sequence
from datetime import datetime

from db import personal_data as pd_db
from db.database import Database
from web.clock import to_text, utc_now

log = logging.getLogger("aduan.personal_data")
# Reports erased per write transaction by the periodic task (keeps each transaction short).
BATCH = 200


def months_before(moment: datetime, months: int) -> datetime:
    """The same day and time `months` calendar months earlier (the 31st becomes the last
    day of a shorter month)."""
    index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def retention_cutoff(now: datetime, months: int) -> str:
    """Reports closed before this stored time have held their contact long enough."""
    return to_text(months_before(now, months))


async def erase_expired(db: Database, *, months: int, now: datetime | None = None) -> int:
    """Erase the contact of every report closed more than `months` months ago; returns how
    many reports were erased. Safe to repeat: an erased report is marked and not read again."""
    moment = now or utc_now()
    cutoff = retention_cutoff(moment, months)
    erased = 0
    while True:
        ids = await pd_db.due_for_erasure(db, cutoff, limit=BATCH)
        if not ids:
            break
        async with db.write() as conn:
            erased += await pd_db.erase_contacts(conn, ids, now=to_text(moment), by="retention")
        if len(ids) < BATCH:
            break
    if erased:
        await db.scrub()
        log.info("erased the contact of %d reports closed over %d months ago", erased, months)
    return erased


async def erase_reports(
    db: Database, report_ids: Sequence[int], *, by: str, now: datetime | None = None
) -> int:
    """Erase the contact of these reports at once (the reporter's or the office's request)."""
    async with db.write() as conn:
        erased = await pd_db.erase_contacts(conn, report_ids, now=to_text(now or utc_now()), by=by)
    await db.scrub()
    return erased
