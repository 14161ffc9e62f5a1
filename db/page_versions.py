"""What a cached public page was rendered from, read in one indexed query, so that every app
server sharing the database knows when its copy is stale (web/pagecache.py). Nothing is
kept in a process to say so: a change made through one server is seen by the very next
request to any other.

- A tracking page changes with its report's row (`version`, bumped by every update: staff
  actions, the resident's answer, reopening, recategorising, the automatic close), with its
  `support_count` (a support leaves `version` alone: staff actions check it, and a support
  must not make an officer's form stale) and with its timeline (`last_event_id`:
  "merged_in" is appended to the report a duplicate joins, whose row does not change; events
  of one report are appended under its row lock, so their ids grow in commit order).
- The names and rules pages show come from the reference tables, counted by
  `data_versions.reference`, which every writer of those tables bumps in its own
  transaction (`bump_reference`): an UPDATE of one row, so the counter grows in commit order
  on PostgreSQL too.
- The public figures of a period change with its reports: their count and the sum of their
  versions (rows are never deleted and versions only grow, so any change to any of them
  changes the pair).

A page read after its key is never older than the key: the key is read first.
"""

from __future__ import annotations

from typing import Any

from db.database import Connection, Database

REFERENCE = "reference"


async def report_page_version(db: Database, code: str) -> Any:
    """(id, code, version, support_count, last_event_id, reference_version) of the report
    with this tracking code, or None: a lookup by the unique code, one by (report_id, id) on
    report_events, one by primary key on data_versions."""
    return await db.lookup(
        "SELECT r.id, r.code, r.version, r.support_count,"
        " (SELECT max(e.id) FROM report_events e WHERE e.report_id = r.id) AS last_event_id,"
        " (SELECT v.version FROM data_versions v WHERE v.name = :reference)"
        " AS reference_version"
        " FROM reports r WHERE r.code = :code",
        {"reference": REFERENCE, "code": code},
    )


async def reference_version(db: Database) -> int:
    """The change counter of areas, agencies, categories and holidays (0 before any)."""
    row = await db.lookup(
        "SELECT version FROM data_versions WHERE name = :name", {"name": REFERENCE}
    )
    return int(row["version"]) if row is not None else 0


async def bump_reference(conn: Connection) -> None:
    """Count a change to the reference tables; call it in the transaction that made it,
    after its other writes (the counter's row stays locked until the commit)."""
    await conn.execute(
        "INSERT INTO data_versions (name, version) VALUES (:name, 1)"
        " ON CONFLICT (name) DO UPDATE SET version = data_versions.version + 1",
        {"name": REFERENCE},
    )


async def last_audit_entry(db: Database) -> int:
    """The id of the audit log's newest entry (0 before any): `/kinerja` says when the rules
    of its period changed, from that log (the primary key's last value, one index step)."""
    row = await db.lookup("SELECT max(id) AS id FROM audit_log")
    return int(row["id"] or 0) if row is not None else 0


async def period_version(db: Database, start: str, end: str) -> tuple[int, int]:
    """(count, sum of versions) of the reports received in [start, end): one range read of
    the received_at index."""
    row = await db.fetchone(
        "SELECT count(*) AS n, coalesce(sum(version), 0) AS versions FROM reports"
        " WHERE received_at >= :start AND received_at < :end",
        {"start": start, "end": end},
    )
    return int(row["n"]), int(row["versions"])
