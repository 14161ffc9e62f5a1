"""SQL for reports, their timeline events and photos. Functions take a connection (or the
Database for reads) and return plain rows; the rules live in web/lifecycle/."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from db.database import Connection, Database

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
    "notify_by",
    "language",
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


_BY_IDEMPOTENCY_KEY = (
    "SELECT id, code, request_hash, idempotency_device FROM reports WHERE idempotency_key = :key"
)


async def code_exists(conn: Connection, code: str) -> bool:
    """Whether a tracking code is already taken."""
    row = await conn.fetchone("SELECT 1 FROM reports WHERE code = :code", {"code": code})
    return row is not None


async def find_by_idempotency_key(conn: Connection, key: str) -> Any:
    """The report an idempotency key already made (id, code, request hash, device), or None."""
    return await conn.fetchone(_BY_IDEMPOTENCY_KEY, {"key": key})


async def look_up_idempotency_key(db: Database, key: str) -> Any:
    """`find_by_idempotency_key` outside a transaction, answered as a point lookup
    (`Database.lookup`): asked before every outbox submission."""
    return await db.lookup(_BY_IDEMPOTENCY_KEY, {"key": key})


async def insert_report(conn: Connection, fields: dict[str, Any]) -> int | None:
    """Insert one report; `fields` holds REPORT_COLUMNS (missing ones take their default).

    Returns its id, or None when its tracking code or its idempotency key is already
    taken (by a report another server committed meanwhile too): nothing is written then,
    and the transaction goes on, so the caller can pick another code or answer the replay.
    """
    names = [c for c in REPORT_COLUMNS if c in fields]
    unknown = set(fields) - set(REPORT_COLUMNS)
    if unknown:
        raise ValueError(f"unknown report columns: {sorted(unknown)}")
    return await conn.insert(
        f"INSERT INTO reports ({', '.join(names)})"
        f" VALUES ({', '.join(':' + n for n in names)})"
        " ON CONFLICT DO NOTHING RETURNING id",
        {n: fields[n] for n in names},
    )


async def update_report(
    conn: Connection, report_id: int, expected_version: int, changes: dict[str, Any]
) -> bool:
    """Apply changes only if the row still has `expected_version`; bumps the version.

    Returns False when someone else changed the report meanwhile (optimistic locking). One
    atomic UPDATE: on PostgreSQL a concurrent change committed first makes it match no row.
    """
    bad = set(changes) - UPDATABLE
    if bad:
        raise ValueError(f"columns not updatable: {sorted(bad)}")
    assignments = ", ".join(f"{name} = :{name}" for name in changes)
    changed = await conn.execute(
        f"UPDATE reports SET {assignments}, version = version + 1"
        " WHERE id = :report_id AND version = :expected_version",
        {**changes, "report_id": report_id, "expected_version": expected_version},
    )
    return changed == 1


async def insert_event(
    conn: Connection,
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
    """Append one event to a report's timeline; returns its id."""
    event_id = await conn.insert(
        "INSERT INTO report_events (report_id, kind, status_after, public_note, internal_note,"
        " actor, user_id, related_report_id, created_at) VALUES (:report_id, :kind,"
        " :status_after, :public_note, :internal_note, :actor, :user_id, :related_report_id,"
        " :created_at) RETURNING id",
        {
            "report_id": report_id,
            "kind": kind,
            "status_after": status_after,
            "public_note": public_note,
            "internal_note": internal_note,
            "actor": actor,
            "user_id": user_id,
            "related_report_id": related_report_id,
            "created_at": created_at,
        },
    )
    assert event_id is not None
    return event_id


async def insert_photo(
    conn: Connection,
    report_id: int,
    sha256: str,
    width: int,
    height: int,
    *,
    position: int,
    created_at: str,
    event_id: int | None = None,
) -> None:
    """Attach a stored photo to a report, or to one of its events."""
    await conn.execute(
        "INSERT INTO photos (report_id, event_id, sha256, width, height, position, created_at)"
        " VALUES (:report_id, :event_id, :sha256, :width, :height, :position, :created_at)",
        {
            "report_id": report_id,
            "event_id": event_id,
            "sha256": sha256,
            "width": width,
            "height": height,
            "position": position,
            "created_at": created_at,
        },
    )


async def holidays(conn: Connection) -> set[date]:
    """The holidays as dates, for working-day arithmetic."""
    rows = await conn.fetchall("SELECT day FROM holidays")
    return {date.fromisoformat(r["day"]) for r in rows}


async def category(conn: Connection, code: str, *, active_only: bool = True) -> Any:
    """One category (every column), or None; `active_only=False` also finds a retired one,
    which the reports already filed under it keep using for their deadlines."""
    sql = "SELECT * FROM categories WHERE code = :code" + (" AND active = 1" if active_only else "")
    return await conn.fetchone(sql, {"code": code})


async def known_agency(conn: Connection, code: str) -> str | None:
    """The agency's code if it exists, read in the caller's transaction."""
    row = await conn.fetchone("SELECT code FROM agencies WHERE code = :code", {"code": code})
    return str(row["code"]) if row is not None else None


async def known_kelurahan(conn: Connection, code: str) -> str | None:
    """The kelurahan's (level 4 area's) code if it exists, read in the caller's transaction."""
    row = await conn.fetchone(
        "SELECT code FROM areas WHERE code = :code AND level = 4", {"code": code}
    )
    return str(row["code"]) if row is not None else None


async def report_for_update(conn: Connection, code: str) -> Any:
    """A report (every column) by tracking code, read in the caller's write transaction and
    locked until it ends (PostgreSQL; SQLite's writer is alone anyway), so that a decision
    taken on what was read cannot be overtaken by another server's change."""
    return await conn.fetchone(
        f"SELECT * FROM reports WHERE code = :code{conn.dialect.for_update}", {"code": code}
    )


async def report_by_id(conn: Connection, report_id: int) -> Any:
    """A report (every column) by id, read in the caller's write transaction and locked
    until it ends (as `report_for_update`)."""
    return await conn.fetchone(
        f"SELECT * FROM reports WHERE id = :id{conn.dialect.for_update}", {"id": report_id}
    )


# The one join of a report with what is named by code in it: its category (c), its
# kelurahan (a) with kecamatan (k) and kota (kota), its agency (g) and the report it was
# merged into (d). Tracking, the staff report page and inbox, Open311, exports and the figures
# all select from it. Every report has a category and an area (NOT NULL foreign keys), so
# the inner joins never drop a row. SQLite leaves out a LEFT JOIN on a unique key whose
# table nothing else reads, so an unused kota, agency or merged-into join costs nothing; the
# kecamatan join stays (the kota join reads it), one lookup in the small areas table a row.
REPORT_JOINS = """
      FROM reports r
      JOIN categories c ON c.code = r.category_code
      JOIN areas a ON a.code = r.area_code
      LEFT JOIN areas k ON k.code = a.parent_code
      LEFT JOIN areas kota ON kota.code = k.parent_code
      LEFT JOIN agencies g ON g.code = r.agency_code
      LEFT JOIN reports d ON d.id = r.duplicate_of
"""
# The names report pages show, selected from REPORT_JOINS.
REPORT_NAMES = """
    c.name_id AS category_name_id, c.name_en AS category_name_en,
    c.confidential AS category_confidential,
    a.name AS area_name, k.name AS kecamatan_name, kota.name AS kota_name,
    g.name_id AS agency_name_id, g.name_en AS agency_name_en,
    d.code AS duplicate_of_code
"""


async def report_with_names(db: Database, code: str) -> Any:
    """A report (every column) with the names pages show: category, kelurahan, kecamatan,
    kota, agency and the tracking code it was merged into; None for an unknown code."""
    return await db.fetchone(
        f"SELECT r.*, {REPORT_NAMES} {REPORT_JOINS} WHERE r.code = :code", {"code": code}
    )


async def events(db: Database, report_id: int) -> list[Any]:
    """The whole timeline with who acted; internal notes included, so public pages must
    show only the public parts (web/lifecycle/timeline.py does)."""
    return await db.fetchall(
        "SELECT e.*, rr.code AS related_code, u.display_name AS user_name"
        " FROM report_events e"
        " LEFT JOIN reports rr ON rr.id = e.related_report_id"
        " LEFT JOIN users u ON u.id = e.user_id"
        " WHERE e.report_id = :report_id ORDER BY e.id",
        {"report_id": report_id},
    )


async def photos(db: Database, report_id: int) -> list[Any]:
    """A report's photos: its own first, then those of each event in event order."""
    return await db.fetchall(
        "SELECT * FROM photos WHERE report_id = :report_id"
        " ORDER BY event_id IS NOT NULL, event_id, position, id",
        {"report_id": report_id},
    )


async def photo_hashes(db: Database) -> set[str]:
    """The hash of every photo some report uses (what the photo sweep keeps)."""
    rows = await db.fetchall("SELECT DISTINCT sha256 FROM photos")
    return {r["sha256"] for r in rows}


async def photo_is_public(db: Database, sha256: str) -> bool:
    """Whether a stored photo belongs to at least one report that is not confidential."""
    row = await db.fetchone(
        "SELECT 1 FROM photos p JOIN reports r ON r.id = p.report_id"
        " WHERE p.sha256 = :sha256 AND r.confidential = 0 LIMIT 1",
        {"sha256": sha256},
    )
    return row is not None


async def photo_of_report(db: Database, sha256: str, report_id: int) -> bool:
    """Whether a stored photo belongs to this report."""
    row = await db.fetchone(
        "SELECT 1 FROM photos WHERE sha256 = :sha256 AND report_id = :report_id",
        {"sha256": sha256, "report_id": report_id},
    )
    return row is not None


async def default_agency(db: Database, code: str) -> str | None:
    """The agency a report's category is forwarded to by default; None for an unknown code
    or a category without one."""
    row = await db.fetchone(
        "SELECT c.default_agency_code FROM reports r JOIN categories c"
        " ON c.code = r.category_code WHERE r.code = :code",
        {"code": code},
    )
    return row["default_agency_code"] if row is not None else None


async def categories(db: Database) -> Sequence[Any]:
    """The active categories in display order (a few dozen rows, read on every form)."""
    return await db.lookup_all("SELECT * FROM categories WHERE active = 1 ORDER BY sort_order")


async def public_statuses(db: Database, codes: list[str]) -> list[Any]:
    """Code and status of the given reports, leaving out confidential ones entirely."""
    if not codes:
        return []
    return await db.fetchall(
        "SELECT code, status FROM reports WHERE code IN :codes AND confidential = 0",
        {"codes": list(codes)},
    )


async def public_in_area(db: Database, area_code: str, *, limit: int, offset: int) -> list[Any]:
    """One page of a kelurahan's reports, newest first, as its public list shows them: code,
    status, received_at, support_count and the category's names. Confidential reports are
    left out entirely; nothing about the reporter, the text or the point is selected."""
    return await db.fetchall(
        "SELECT r.code, r.status, r.received_at, r.support_count,"
        " c.name_id AS category_name_id, c.name_en AS category_name_en"
        " FROM reports r JOIN categories c ON c.code = r.category_code"
        " WHERE r.area_code = :area AND r.confidential = 0"
        " ORDER BY r.received_at DESC, r.id DESC LIMIT :limit OFFSET :offset",
        {"area": area_code, "limit": limit, "offset": offset},
    )
