"""SQL of the staff CSV export: the reports of the inbox's filter, in the account's scope,
read in keyset batches by id so that a year of reports streams out without sitting in
memory.

The scope is `db.staff.scope_clause`, the one the inbox and the report page use, so the
export can never show a report the account could not open. Reporter contact is selected
only where the report page would show it (SECURITY.md "Access"): never for anonymous reports,
and for confidential ones only to the inspectorate and admins — left out of the row itself,
not hidden later.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from db.database import Database
from db.reports import REPORT_JOINS
from db.staff import InboxFilter, Scoped, contact_columns, filter_sql, scope_clause

BATCH_SIZE = 1000

EXPORT_COLUMNS = """
    r.id, r.code, r.received_at, r.written_at, r.channel, r.status, r.category_code,
    c.name_id AS category_name_id, c.name_en AS category_name_en,
    a.name AS area_name, k.name AS kecamatan_name,
    g.name_id AS agency_name_id, g.name_en AS agency_name_en,
    r.response_due_at, r.first_response_at, r.dispatch_due_at, r.resolution_due_at,
    r.resolved_at, r.closed_at, r.next_due_at, r.reopen_count, r.rating,
    r.anonymous, r.confidential, r.address, r.rt_rw, r.lat, r.lon, r.description
"""
CONTACT = ("reporter_name", "reporter_phone", "reporter_email")


async def report_batches(
    db: Database,
    account: Scoped,
    f: InboxFilter,
    *,
    now: str,
    batch_size: int = BATCH_SIZE,
) -> AsyncIterator[list[Any]]:
    """The filtered reports in scope, in id order, `batch_size` rows per read.

    Each batch is a separate short read (no reader is held while the client downloads), so
    a report changed during a long export shows as it was when its batch was read; none is
    ever repeated or skipped, because the keyset is the immutable id.
    """
    scope, scope_params = scope_clause(account)
    contact, contact_params = contact_columns(account, CONTACT)
    where, params = filter_sql(f, now, dialect=db.dialect)
    condition = " AND ".join([scope, *where, "r.id > :last_id"])
    sql = (
        f"SELECT {EXPORT_COLUMNS}, {contact} {REPORT_JOINS} WHERE {condition}"
        " ORDER BY r.id LIMIT :batch_size"
    )
    last_id = 0
    while True:
        rows = await db.fetchall(
            sql,
            {
                **contact_params,
                **scope_params,
                **params,
                "last_id": last_id,
                "batch_size": batch_size,
            },
        )
        if not rows:
            return
        yield rows
        if len(rows) < batch_size:
            return
        last_id = rows[-1]["id"]
