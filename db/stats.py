"""SQL for the accountability figures: the reports of a period (read in keyset batches, so a
year of a big city never sits in memory as rows), the names of the groups, and the overdue
list across the city.

`public=True` leaves confidential reports out entirely — by the report's own flag and by
its category's — for the public performance page.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection, Iterable
from typing import Any

from db.database import Database
from db.reports import REPORT_JOINS

BATCH_SIZE = 1000


def _open(open_statuses: Collection[str]) -> tuple[str, dict[str, list[str]]]:
    """web.lifecycle.rules.OPEN_STATUSES (passed by the caller) in SQL: an open report past
    its next_due_at is overdue."""
    return "r.status IN :open_statuses", {"open_statuses": sorted(open_statuses)}


_PUBLIC_SQL = "r.confidential = 0 AND c.confidential = 0"

# Only what the figures need; nothing personal is ever selected here.
PERIOD_COLUMNS = """
    r.id, r.area_code, a.parent_code AS kecamatan_code, r.agency_code, r.category_code,
    r.channel, r.written_at, r.received_at, r.response_due_at, r.first_response_at,
    r.resolved_at, r.status, r.next_due_at, r.reopen_count, r.rating
"""


async def period_batches(
    db: Database, start: str, end: str, *, public: bool, batch_size: int = BATCH_SIZE
) -> AsyncIterator[list[Any]]:
    """The reports received in [start, end), in (received_at, id) order, a batch at a time.

    Each batch is its own short read, so no reader connection is held between batches.
    """
    where = "r.received_at >= :start AND r.received_at < :end"
    if public:
        where += f" AND {_PUBLIC_SQL}"
    sql = (
        f"SELECT {PERIOD_COLUMNS} {REPORT_JOINS}"
        f" WHERE {where} AND (r.received_at, r.id) > (:last_at, :last_id)"
        " ORDER BY r.received_at, r.id LIMIT :batch_size"
    )
    params: dict[str, Any] = {
        "start": start,
        "end": end,
        "last_at": "",
        "last_id": 0,
        "batch_size": batch_size,
    }
    while True:
        rows = await db.fetchall(sql, params)
        if not rows:
            return
        yield rows
        if len(rows) < batch_size:
            return
        params.update(last_at=rows[-1]["received_at"], last_id=rows[-1]["id"])


def _chunks(values: list[str], size: int = 500) -> Iterable[list[str]]:
    for index in range(0, len(values), size):
        yield values[index : index + size]


async def area_names(db: Database, codes: Iterable[str]) -> dict[str, Any]:
    """code → row (name, level, parent name) for the kelurahan/kecamatan codes given."""
    wanted = sorted({c for c in codes if c})
    found: dict[str, Any] = {}
    for chunk in _chunks(wanted):
        rows = await db.fetchall(
            "SELECT a.code, a.name, a.level, p.name AS parent_name FROM areas a"
            " LEFT JOIN areas p ON p.code = a.parent_code WHERE a.code IN :codes",
            {"codes": chunk},
        )
        found.update({r["code"]: r for r in rows})
    return found


async def agency_names(db: Database) -> dict[str, Any]:
    """code → row (name_id, name_en) of every agency."""
    rows = await db.fetchall("SELECT code, name_id, name_en FROM agencies")
    return {r["code"]: r for r in rows}


async def category_names(db: Database) -> dict[str, Any]:
    """code → row (name_id, name_en) of every category, inactive ones too."""
    rows = await db.fetchall("SELECT code, name_id, name_en FROM categories")
    return {r["code"]: r for r in rows}


# --- overdue across the city --------------------------------------------------------------


async def overdue_total(db: Database, now: str, open_statuses: Collection[str]) -> int:
    """How many open reports are past their next deadline across the city."""
    is_open, statuses = _open(open_statuses)
    row = await db.fetchone(
        f"SELECT COUNT(*) AS n FROM reports r WHERE {is_open} AND r.next_due_at < :now",
        {"now": now, **statuses},
    )
    return int(row["n"])


async def overdue_by(
    db: Database, now: str, grouping: str, open_statuses: Collection[str]
) -> list[Any]:
    """Overdue open reports counted per kelurahan ("kelurahan") or agency ("instansi");
    reports not yet forwarded count against the kelurahan and show under an empty agency."""
    column = {"kelurahan": "r.area_code", "instansi": "r.agency_code"}[grouping]
    is_open, statuses = _open(open_statuses)
    return await db.fetchall(
        f"SELECT {column} AS code, COUNT(*) AS n, MIN(r.next_due_at) AS oldest_due"
        f" FROM reports r WHERE {is_open} AND r.next_due_at < :now"
        f" GROUP BY {column} ORDER BY n DESC, code NULLS FIRST",
        {"now": now, **statuses},
    )


async def overdue_page(
    db: Database,
    now: str,
    open_statuses: Collection[str],
    *,
    after: tuple[str, int] | None = None,
    limit: int = 50,
) -> list[Any]:
    """Overdue open reports, longest overdue first, keyset-paged on (next_due_at, id) along
    the reports_due index; `limit + 1` rows tell the caller whether a next page exists."""
    is_open, statuses = _open(open_statuses)
    keyset, params = "", {"now": now, "limit": limit + 1, **statuses}
    if after is not None:
        keyset = " AND (r.next_due_at, r.id) > (:after_due, :after_id)"
        params.update(after_due=after[0], after_id=after[1])
    return await db.fetchall(
        "SELECT r.id, r.code, r.status, r.next_due_at, r.received_at, r.confidential,"
        " r.area_code, r.agency_code, c.name_id AS category_name_id,"
        " c.name_en AS category_name_en, a.name AS area_name, k.name AS kecamatan_name,"
        " g.name_id AS agency_name_id, g.name_en AS agency_name_en"
        f" {REPORT_JOINS}"
        f" WHERE {is_open} AND r.next_due_at < :now{keyset}"
        " ORDER BY r.next_due_at, r.id LIMIT :limit",
        params,
    )
