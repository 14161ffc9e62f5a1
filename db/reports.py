"""SQL for reports, their timeline events and photos. Functions take a connection (or the
Database for reads) and return plain rows; the rules live in web/lifecycle/."""

from __future__ import annotations

from datetime import date
from typing import Any

import aiosqlite

from db.database import Database

REPORT_COLUMNS = (
    "code",
    "idempotency_key",
    "request_hash",
    "category_code",
    "area_code",
    "agency_code",
    "description",
    "address",
    "rt_rw",
    "lat",
    "lon",
    "location_source",
    "channel",
    "reporter_name",
    "reporter_phone",
    "reporter_email",
    "anonymous",
    "confidential",
    "on_behalf",
    "on_behalf_name",
    "on_behalf_phone",
    "on_behalf_no_phone",
    "volunteer_name",
    "written_at",
    "received_at",
    "status",
    "status_changed_at",
    "response_due_at",
    "dispatch_due_at",
    "resolution_due_at",
    "next_due_at",
    "created_by",
    "updated_at",
    "media_url",
    "device_id",
    "idempotency_device",
)
UPDATABLE = frozenset(
    {
        "category_code",
        "area_code",
        "agency_code",
        "status",
        "status_changed_at",
        "response_due_at",
        "first_response_at",
        "dispatch_due_at",
        "resolution_due_at",
        "resolved_at",
        "closed_at",
        "next_due_at",
        "duplicate_of",
        "rating",
        "reopen_count",
        "confidential",
        "updated_at",
        "lat",
        "lon",
        "location_source",
    }
)


async def _one(conn: aiosqlite.Connection, sql: str, params: Any = ()) -> Any:
    async with conn.execute(sql, params) as cur:
        return await cur.fetchone()


async def _all(conn: aiosqlite.Connection, sql: str, params: Any = ()) -> list[Any]:
    async with conn.execute(sql, params) as cur:
        return list(await cur.fetchall())


async def code_exists(conn: aiosqlite.Connection, code: str) -> bool:
    return await _one(conn, "SELECT 1 FROM reports WHERE code = ?", (code,)) is not None


async def find_by_idempotency_key(conn: aiosqlite.Connection, key: str) -> Any:
    return await _one(
        conn,
        "SELECT id, code, request_hash, idempotency_device FROM reports WHERE idempotency_key = ?",
        (key,),
    )


async def insert_report(conn: aiosqlite.Connection, fields: dict[str, Any]) -> int:
    """Insert one report; `fields` holds REPORT_COLUMNS (missing ones take their default)."""
    names = [c for c in REPORT_COLUMNS if c in fields]
    unknown = set(fields) - set(REPORT_COLUMNS)
    if unknown:
        raise ValueError(f"unknown report columns: {sorted(unknown)}")
    cur = await conn.execute(
        f"INSERT INTO reports ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)})",
        [fields[n] for n in names],
    )
    assert cur.lastrowid is not None
    return cur.lastrowid


async def update_report(
    conn: aiosqlite.Connection, report_id: int, expected_version: int, changes: dict[str, Any]
) -> bool:
    """Apply changes only if the row still has `expected_version`; bumps the version.

    Returns False when someone else changed the report meanwhile (optimistic locking).
    """
    bad = set(changes) - UPDATABLE
    if bad:
        raise ValueError(f"columns not updatable: {sorted(bad)}")
    assignments = ", ".join(f"{name} = ?" for name in changes)
    cur = await conn.execute(
        f"UPDATE reports SET {assignments}, version = version + 1 WHERE id = ? AND version = ?",
        [*changes.values(), report_id, expected_version],
    )
    return cur.rowcount == 1


async def insert_event(
    conn: aiosqlite.Connection,
    report_id: int,
    kind: str,
    *,
    created_at: str,
    actor: str,
    status_after: str | None = None,
    public_note: str = "",
    internal_note: str = "",
    user_id: int | None = None,
    related_report_id: int | None = None,
) -> int:
    cur = await conn.execute(
        "INSERT INTO report_events (report_id, kind, status_after, public_note, internal_note,"
        " actor, user_id, related_report_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            report_id,
            kind,
            status_after,
            public_note,
            internal_note,
            actor,
            user_id,
            related_report_id,
            created_at,
        ),
    )
    assert cur.lastrowid is not None
    return cur.lastrowid


async def insert_photo(
    conn: aiosqlite.Connection,
    report_id: int,
    sha256: str,
    width: int,
    height: int,
    *,
    position: int,
    created_at: str,
    event_id: int | None = None,
) -> None:
    await conn.execute(
        "INSERT INTO photos (report_id, event_id, sha256, width, height, position, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (report_id, event_id, sha256, width, height, position, created_at),
    )


async def holidays(conn: aiosqlite.Connection) -> set[date]:
    rows = await _all(conn, "SELECT day FROM holidays")
    return {date.fromisoformat(r["day"]) for r in rows}


async def category(conn: aiosqlite.Connection, code: str) -> Any:
    return await _one(conn, "SELECT * FROM categories WHERE code = ? AND active = 1", (code,))


async def known_agency(conn: aiosqlite.Connection, code: str) -> str | None:
    """The agency's code if it exists, read in the caller's transaction."""
    row = await _one(conn, "SELECT code FROM agencies WHERE code = ?", (code,))
    return str(row["code"]) if row is not None else None


async def known_kelurahan(conn: aiosqlite.Connection, code: str) -> str | None:
    """The kelurahan's (level 4 area's) code if it exists, read in the caller's transaction."""
    row = await _one(conn, "SELECT code FROM areas WHERE code = ? AND level = 4", (code,))
    return str(row["code"]) if row is not None else None


async def report_for_update(conn: aiosqlite.Connection, code: str) -> Any:
    return await _one(conn, "SELECT * FROM reports WHERE code = ?", (code,))


async def report_by_id(conn: aiosqlite.Connection, report_id: int) -> Any:
    return await _one(conn, "SELECT * FROM reports WHERE id = ?", (report_id,))


PUBLIC_REPORT_SQL = """
    SELECT r.*, c.name_id AS category_name_id, c.name_en AS category_name_en,
           c.confidential AS category_confidential,
           a.name AS area_name, k.name AS kecamatan_name, kota.name AS kota_name,
           g.name_id AS agency_name_id, g.name_en AS agency_name_en,
           d.code AS duplicate_of_code
      FROM reports r
      JOIN categories c ON c.code = r.category_code
      JOIN areas a ON a.code = r.area_code
      LEFT JOIN areas k ON k.code = a.parent_code
      LEFT JOIN areas kota ON kota.code = k.parent_code
      LEFT JOIN agencies g ON g.code = r.agency_code
      LEFT JOIN reports d ON d.id = r.duplicate_of
"""


async def report_with_names(db: Database, code: str) -> Any:
    """A report joined with the names pages show (category, kelurahan, agency)."""
    return await db.fetchone(PUBLIC_REPORT_SQL + " WHERE r.code = ?", (code,))


async def events(db: Database, report_id: int) -> list[Any]:
    """The whole timeline with who acted; internal notes included, so public pages must
    show only the public parts (web/lifecycle/timeline.py does)."""
    return await db.fetchall(
        "SELECT e.*, rr.code AS related_code, u.display_name AS user_name"
        " FROM report_events e"
        " LEFT JOIN reports rr ON rr.id = e.related_report_id"
        " LEFT JOIN users u ON u.id = e.user_id"
        " WHERE e.report_id = ? ORDER BY e.id",
        (report_id,),
    )


async def photos(db: Database, report_id: int) -> list[Any]:
    return await db.fetchall(
        "SELECT * FROM photos WHERE report_id = ?"
        " ORDER BY event_id IS NOT NULL, event_id, position, id",
        (report_id,),
    )


async def photo_hashes(db: Database) -> set[str]:
    """The hash of every photo some report uses (what the photo sweep keeps)."""
    rows = await db.fetchall("SELECT DISTINCT sha256 FROM photos")
    return {r["sha256"] for r in rows}


async def categories(db: Database) -> list[Any]:
    return await db.fetchall("SELECT * FROM categories WHERE active = 1 ORDER BY sort_order")


async def kelurahan_grouped(db: Database) -> list[Any]:
    """Every kelurahan/desa with its kecamatan and kota, for the grouped picker."""
    return await db.fetchall(
        "SELECT kel.code, kel.name, kec.code AS kecamatan_code, kec.name AS kecamatan_name,"
        " kota.name AS kota_name"
        " FROM areas kel JOIN areas kec ON kec.code = kel.parent_code"
        " JOIN areas kota ON kota.code = kec.parent_code"
        " WHERE kel.level = 4 ORDER BY kota.name, kec.name, kel.name"
    )


async def area(db: Database, code: str) -> Any:
    return await db.fetchone("SELECT * FROM areas WHERE code = ?", (code,))


async def public_statuses(db: Database, codes: list[str]) -> list[Any]:
    """Code and status of the given reports, leaving out confidential ones entirely."""
    if not codes:
        return []
    marks = ",".join("?" * len(codes))
    return await db.fetchall(
        f"SELECT code, status FROM reports WHERE code IN ({marks}) AND confidential = 0", codes
    )
