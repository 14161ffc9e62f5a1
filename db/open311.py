"""SQL behind the Open311 API: the public view of reports, their public timeline and photos.

Privacy is decided here, in the one loader every Open311 read goes through, so that a
forgotten check in a handler cannot leak anything (SECURITY.md, "Access"):

- confidential reports, and reports in a confidential category, are never selected;
- reporter name, phone, email, "on behalf" fields, device id and internal notes are never
  selected at all;
- coordinates come out only when the resident gave them in a form and is not anonymous:
  an anonymous report's position, or one read from a photo's EXIF (staff only), stays NULL.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from db.database import Database
from db.reports import REPORT_JOINS

_PUBLIC_REQUEST_SQL = f"""
    SELECT r.id, r.code, r.category_code, c.name_id AS service_name, r.description,
           r.address, r.rt_rw,
           CASE WHEN r.anonymous = 0 AND r.location_source = 'form' THEN r.lat END AS lat,
           CASE WHEN r.anonymous = 0 AND r.location_source = 'form' THEN r.lon END AS lon,
           r.status, r.received_at, r.updated_at, r.resolution_due_at,
           COALESCE(g.name_id, '') AS agency_name, r.media_url, r.channel
      {REPORT_JOINS}
     WHERE r.confidential = 0 AND c.confidential = 0
"""


def _public_event(public_kinds: Collection[str]) -> tuple[str, dict[str, list[str]]]:
    """web.lifecycle.rules.is_public_event in SQL, with the kinds the caller passes
    (`PUBLIC_EVENT_KINDS`): a public kind, or a public note. An event with only an internal
    note (and the photos attached to it) is for staff."""
    return "(e.kind IN :public_kinds OR e.public_note != '')", {
        "public_kinds": sorted(public_kinds)
    }


@dataclass(frozen=True)
class RequestQuery:
    """What `GET /requests` asks for. `codes` (stored tracking codes) overrides the rest."""

    codes: Sequence[str] | None = None
    service_codes: Sequence[str] = ()
    received_from: str | None = None  # stored UTC text, inclusive
    received_until: str | None = None  # stored UTC text, inclusive
    statuses: Collection[str] = ()  # Aduan statuses, not open/closed
    limit: int = 1000
    offset: int = 0


async def public_requests(db: Database, query: RequestQuery) -> list[Any]:
    """Public rows of non-confidential reports, newest first (see the module docstring)."""
    sql = _PUBLIC_REQUEST_SQL
    params: dict[str, Any] = {}
    if query.codes is not None:
        if not query.codes:
            return []
        sql += " AND r.code IN :codes"
        params["codes"] = list(query.codes)
    else:
        if query.service_codes:
            sql += " AND r.category_code IN :service_codes"
            params["service_codes"] = list(query.service_codes)
        if query.received_from:
            sql += " AND r.received_at >= :received_from"
            params["received_from"] = query.received_from
        if query.received_until:
            sql += " AND r.received_at <= :received_until"
            params["received_until"] = query.received_until
        if query.statuses:
            sql += " AND r.status IN :statuses"
            params["statuses"] = sorted(query.statuses)
    sql += " ORDER BY r.received_at DESC, r.id DESC LIMIT :limit OFFSET :offset"
    params.update(limit=query.limit, offset=query.offset)
    return await db.fetchall(sql, params)


async def public_request(db: Database, code: str) -> Any:
    """One public row by stored tracking code, or None (unknown or confidential alike)."""
    return await db.fetchone(_PUBLIC_REQUEST_SQL + " AND r.code = :code", {"code": code})


async def public_events(
    db: Database, report_ids: Sequence[int], public_kinds: Collection[str]
) -> list[Any]:
    """The public timeline of several reports, oldest first; never the internal note."""
    if not report_ids:
        return []
    public, kinds = _public_event(public_kinds)
    return await db.fetchall(
        "SELECT e.id, e.report_id, e.kind, e.status_after, e.public_note, e.created_at"
        " FROM report_events e WHERE e.report_id IN :report_ids"
        f" AND {public} ORDER BY e.report_id, e.id",
        {"report_ids": list(report_ids), **kinds},
    )


async def public_photos(
    db: Database, report_ids: Sequence[int], public_kinds: Collection[str]
) -> list[Any]:
    """Photos of several reports: the report's own first, then those of public events."""
    if not report_ids:
        return []
    public, kinds = _public_event(public_kinds)
    return await db.fetchall(
        "SELECT p.report_id, p.event_id, p.sha256 FROM photos p"
        " LEFT JOIN report_events e ON e.id = p.event_id"
        " WHERE p.report_id IN :report_ids"
        f" AND (p.event_id IS NULL OR {public})"
        " ORDER BY p.report_id, COALESCE(p.event_id, 0), p.position, p.id",
        {"report_ids": list(report_ids), **kinds},
    )


async def response_due(db: Database, report_id: int) -> str | None:
    """When the first response is due (for the notice shown after filing)."""
    row = await db.fetchone(
        "SELECT response_due_at FROM reports WHERE id = :report_id", {"report_id": report_id}
    )
    return row["response_due_at"] if row else None


async def services(db: Database) -> list[Any]:
    """Active categories in display order (confidential ones too: clients may file them)."""
    return await db.fetchall(
        "SELECT code, name_id, description_id, group_id, keywords FROM categories"
        " WHERE active = 1 ORDER BY sort_order, code"
    )


async def service(db: Database, code: str) -> Any:
    """One active category as an Open311 service, or None."""
    return await db.fetchone(
        "SELECT code, name_id, description_id, group_id, keywords FROM categories"
        " WHERE code = :code AND active = 1",
        {"code": code},
    )


async def kelurahan_exists(db: Database, code: str) -> bool:
    """Whether a kelurahan/desa (level 4) with this code exists."""
    row = await db.fetchone("SELECT 1 FROM areas WHERE code = :code AND level = 4", {"code": code})
    return row is not None
