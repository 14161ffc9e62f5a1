"""Open reports near a point, for "Sudah dilaporkan?" before filing and the staff case page:
the SQL side of web/nearby.py, a bounding box on (category_code, lat) and lon, served by the
index reports_category_lat on both backends; the exact distance is web/nearby.py's."""

from __future__ import annotations

from typing import Any

from db.database import Database


async def in_box(
    db: Database,
    *,
    category: str,
    statuses: list[str],
    lat_min: float,
    lat_max: float,
    lon_min: float,
    lon_max: float,
    include_confidential: bool = False,
    exclude_id: int | None = None,
) -> list[Any]:
    """Reports of a category in some of `statuses` whose point lies in the box: id, code,
    status, received_at, lat, lon, support_count, confidential and the hash of its first own
    photo, one that came with the report (None without one). Confidential ones only when
    asked (staff)."""
    return await db.fetchall(
        "SELECT r.id, r.code, r.status, r.received_at, r.lat, r.lon, r.support_count,"
        " r.confidential,"
        " (SELECT p.sha256 FROM photos p WHERE p.report_id = r.id AND (p.event_id IS NULL"
        "  OR p.event_id = (SELECT min(e.id) FROM report_events e WHERE e.report_id = r.id))"
        "  ORDER BY p.position, p.id LIMIT 1) AS photo"
        " FROM reports r"
        " WHERE r.category_code = :category AND r.lat BETWEEN :lat_min AND :lat_max"
        " AND r.lon BETWEEN :lon_min AND :lon_max AND r.status IN :statuses"
        " AND (:confidential = 1 OR r.confidential = 0) AND r.id <> :exclude_id",
        {
            "category": category,
            "lat_min": lat_min,
            "lat_max": lat_max,
            "lon_min": lon_min,
            "lon_max": lon_max,
            "statuses": statuses,
            "confidential": 1 if include_confidential else 0,
            "exclude_id": exclude_id if exclude_id is not None else -1,
        },
    )
