"""Supports ("Dukung"): one per report and phone, counted on the report in the same
transaction (`reports.support_count`), and the reports a phone supported."""

from __future__ import annotations

from typing import Any

from db.database import Connection, Database


async def add_support(
    conn: Connection, report_id: int, supporter: str, now: str
) -> tuple[bool, int]:
    """Record one support of `supporter` (a hash, never personal data) for a report:
    (added, the report's support count). Not added when this phone already supported it
    (nothing changes). Call it in a write transaction: the row and the count change
    together."""
    added = await conn.execute(
        "INSERT INTO supports (report_id, supporter, created_at)"
        " VALUES (:report_id, :supporter, :now)"
        " ON CONFLICT (report_id, supporter) DO NOTHING",
        {"report_id": report_id, "supporter": supporter, "now": now},
    )
    if added:
        await conn.execute(
            "UPDATE reports SET support_count = support_count + 1 WHERE id = :id",
            {"id": report_id},
        )
    count = await conn.scalar("SELECT support_count FROM reports WHERE id = :id", {"id": report_id})
    return bool(added), int(count)


async def supported_by(db: Database, supporter: str, limit: int = 100) -> list[Any]:
    """The public reports this phone supported, latest support first: code, status,
    support count, category and kelurahan names. Confidential reports are left out."""
    return await db.fetchall(
        "SELECT r.code, r.status, r.support_count, c.name_id AS category_name_id,"
        " c.name_en AS category_name_en, a.name AS area_name, s.created_at AS supported_at"
        " FROM supports s JOIN reports r ON r.id = s.report_id"
        " JOIN categories c ON c.code = r.category_code JOIN areas a ON a.code = r.area_code"
        " WHERE s.supporter = :supporter AND r.confidential = 0"
        " ORDER BY s.created_at DESC, r.id DESC LIMIT :limit",
        {"supporter": supporter, "limit": limit},
    )
