"""Which open reports are near a point: FixMyStreet's "Already been reported?" — up to five
open reports of the same category within 250 m (staff: 1 km), nearest first.

The database narrows by a bounding box (db/nearby.py); the exact great-circle distance
(haversine) is computed here, the same on both backends.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from db import nearby as q
from db import staff as staff_db
from db.database import Database
from db.timestamps import from_text
from web.lifecycle import OPEN_STATUSES

RESIDENT_RADIUS_M = 250
STAFF_RADIUS_M = 1000
LIMIT = 5
EARTH_RADIUS_M = 6_371_008.8


@dataclass(frozen=True)
class Nearby:
    report: Any
    distance_m: float


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres between two points (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def box(lat: float, lon: float, radius_m: float) -> tuple[float, float, float, float]:
    """(lat_min, lat_max, lon_min, lon_max) of a box holding every point within radius_m."""
    dlat = math.degrees(radius_m / EARTH_RADIUS_M)
    # Indonesia lies within 11° of the equator: cos never comes near zero.
    dlon = math.degrees(radius_m / (EARTH_RADIUS_M * math.cos(math.radians(lat))))
    return lat - dlat, lat + dlat, lon - dlon, lon + dlon


async def nearby_reports(
    db: Database,
    category: str,
    lat: float,
    lon: float,
    *,
    radius_m: float = RESIDENT_RADIUS_M,
    staff: bool = False,
    exclude_id: int | None = None,
    limit: int = LIMIT,
) -> list[Nearby]:
    """Up to `limit` open reports of `category` within `radius_m` of the point, nearest first
    (ties: the older report first). Confidential reports only for staff."""
    lat_min, lat_max, lon_min, lon_max = box(lat, lon, radius_m)
    rows = await q.in_box(
        db,
        category=category,
        statuses=sorted(OPEN_STATUSES),
        lat_min=lat_min,
        lat_max=lat_max,
        lon_min=lon_min,
        lon_max=lon_max,
        include_confidential=staff,
        exclude_id=exclude_id,
    )
    found = [Nearby(row, distance_m(lat, lon, row["lat"], row["lon"])) for row in rows]
    found = [n for n in found if n.distance_m <= radius_m]
    found.sort(key=lambda n: (n.distance_m, n.report["received_at"], n.report["id"]))
    return found[:limit]


def rounded_distance(metres: float) -> int:
    """A distance to show: to 10 m, so a list says how near, not where exactly."""
    return max(10, round(metres / 10.0) * 10)


def age_days(received_at: str, now: datetime) -> int:
    return max(0, (now - from_text(received_at)).days)


async def near_for_staff(
    db: Database,
    account: Any,
    category: str,
    lat: float,
    lon: float,
    *,
    include_confidential: bool,
    exclude_id: int | None = None,
) -> list[Nearby]:
    """Up to five open reports of `category` within 1 km of the point that this account may
    see (db/staff.py's loader, the scope in its SQL), nearest first."""
    found = await nearby_reports(
        db,
        category,
        lat,
        lon,
        radius_m=STAFF_RADIUS_M,
        staff=include_confidential,
        exclude_id=exclude_id,
        limit=4 * LIMIT,
    )
    seen: list[Nearby] = []
    for n in found:
        if await staff_db.load_report(db, n.report["code"], account) is not None:
            seen.append(n)
        if len(seen) == LIMIT:
            break
    return seen


async def near_case(db: Database, account: Any, report: Any) -> list[Nearby]:
    """For the staff case page: the open reports near the case to merge it into.
    Confidential reports only beside a confidential case: merging a public report into one
    would link the two on the public timeline."""
    if report["lat"] is None or report["lon"] is None:
        return []
    return await near_for_staff(
        db,
        account,
        report["category_code"],
        report["lat"],
        report["lon"],
        include_confidential=bool(report["confidential"]),
        exclude_id=report["id"],
    )
