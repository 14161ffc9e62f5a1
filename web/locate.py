"""Point → kelurahan/desa: the boundaries of db/boundaries.py held in memory with Shapely.

Every app server builds the same index from the database (once, and again only when the
reference data changes), so several servers agree. An STRtree prefilters by bounding box;
the area that contains the point wins (the smallest one, where simplified neighbours
overlap); else the nearest area within `NEAR_METRES`, which covers the slivers that
simplified borders leave between neighbours. Outside them all: None, "di luar wilayah
layanan"."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import shapely
from shapely import STRtree
from starlette.requests import Request

from db import boundaries
from db.database import Database
from db.open311 import kelurahan_exists
from db.page_versions import reference_version
from web.i18n import lazy_gettext as N_

NEAR_METRES = 50
# One degree of latitude is ~111 km; near the equator a degree of longitude is about the
# same (Java lies at 6-8° S, where it is 0.99 of it), so degrees are close enough here.
_NEAR_DEGREES = NEAR_METRES / 111_000
OUTSIDE = N_("Titik itu di luar wilayah layanan.")


@dataclass(frozen=True)
class Place:
    """The kelurahan/desa at a point, with its kecamatan and kota."""

    code: str
    name: str
    kecamatan_code: str
    kecamatan_name: str
    kota_name: str


class Locator:
    """The loaded boundaries; `find(lat, lon)` answers in well under a millisecond."""

    def __init__(self, rows: list[Any]) -> None:
        self.places = [
            Place(r["code"], r["name"], r["kecamatan_code"], r["kecamatan_name"], r["kota_name"])
            for r in rows
        ]
        self.geometries = shapely.from_wkb([r["geometry"] for r in rows])
        shapely.prepare(self.geometries)
        self.tree = STRtree(self.geometries)

    def __len__(self) -> int:
        return len(self.places)

    def find(self, lat: float, lon: float) -> Place | None:
        """The kelurahan/desa at a point (WGS84), or None outside every loaded area."""
        if not self.places:
            return None
        point = shapely.Point(lon, lat)
        inside = self.tree.query(point, predicate="intersects")
        if len(inside) == 1:
            return self.places[int(inside[0])]
        if len(inside) > 1:  # simplified neighbours overlap here: the smaller one is surer
            return self.places[int(min(inside, key=lambda i: self.geometries[i].area))]
        near = self.tree.query_nearest(point, max_distance=_NEAR_DEGREES)
        return self.places[int(near[0])] if len(near) else None


async def load_locator(db: Database) -> Locator:
    """Build the index from every stored boundary."""
    rows = await boundaries.all_boundaries(db)
    return await asyncio.to_thread(Locator, rows)


class LocatorCache:
    """One Locator per process, rebuilt when the reference data's counter moves (another
    `aduan init --region` while the servers run)."""

    def __init__(self) -> None:
        self._version = -1
        self._locator: Locator | None = None
        self._lock = asyncio.Lock()

    async def get(self, db: Database) -> Locator:
        version = await reference_version(db)
        if self._locator is not None and version == self._version:
            return self._locator
        async with self._lock:
            if self._locator is None or version != self._version:
                self._locator = await load_locator(db)
                self._version = version
            return self._locator


async def find_place(request: Request, lat: float, lon: float) -> Place | None:
    """The kelurahan/desa at a point, through the app's cache (`app.state.locator`)."""
    locator = await request.app.state.locator.get(request.state.db)
    return locator.find(lat, lon)


def locator_for(request: Request) -> Callable[[float, float], Awaitable[str | None]]:
    """The kelurahan/desa code at a point, as the report form asks for it (web/forms.py)."""

    async def locate(lat: float, lon: float) -> str | None:
        place = await find_place(request, lat, lon)
        return place.code if place is not None else None

    return locate


async def open311_kelurahan(
    request: Request, given: str, lat: float | None, lon: float | None
) -> tuple[str, str]:
    """(code, problem) for an Open311 POST: the `attribute[kelurahan]` given, else the
    kelurahan at lat/long. The problem ('' when none) is in the standard's error list, in
    English like the rest of it."""
    if given:
        if await kelurahan_exists(request.state.db, given):
            return given, ""
        return given, f"attribute[kelurahan]: unknown kelurahan code {given}"
    locator = await request.app.state.locator.get(request.state.db)
    if lat is not None and lon is not None and len(locator):
        place = locator.find(lat, lon)
        if place is not None:
            return place.code, ""
        return "", (
            "lat/long lie outside the service area (no kelurahan there): "
            "check them, or give attribute[kelurahan]"
        )
    required = "attribute[kelurahan] is required: the kelurahan's official code, e.g. 31.71.01.1001"
    return "", required + (" (or lat and long inside the service area)" if len(locator) else "")
