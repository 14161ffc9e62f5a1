"""Kelurahan/desa boundaries: read from the packaged GeoJSON (db/data/boundaries/), stored
one row per area as hex WKB, and read back whole for the in-memory lookup (web/locate.py)."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import shape

from db.database import Connection, Database
from db.page_versions import bump_reference

BOUNDARIES_DIR = Path(__file__).parent / "data" / "boundaries"


def boundaries_file(province: str, folder: Path = BOUNDARIES_DIR) -> Path | None:
    """The province's GeoJSON file, or None when it has no boundaries."""
    path = folder / f"kelurahan_{province}.geojson.gz"
    return path if path.is_file() else None


def read_boundaries(path: Path) -> Iterator[tuple[str, str]]:
    """(Kemendagri code, hex WKB) for every feature of a gzip GeoJSON FeatureCollection."""
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        collection = json.load(fh)
    for feature in collection["features"]:
        geometry = shape(feature["geometry"])
        if not geometry.is_valid:
            geometry = shapely.make_valid(geometry)
        yield str(feature["properties"]["kode"]), shapely.to_wkb(geometry, hex=True)


async def load_boundaries(conn: Connection, province: str, folder: Path = BOUNDARIES_DIR) -> int:
    """Insert or replace the boundaries of one province's kelurahan/desa already in `areas`;
    returns how many were written (0 when the province has no boundaries file)."""
    path = boundaries_file(province, folder)
    if path is None:
        return 0
    known = {
        row["code"]
        for row in await conn.fetchall(
            "SELECT code FROM areas WHERE level = 4 AND code LIKE :pattern",
            {"pattern": province + ".%"},
        )
    }
    rows = [{"code": code, "geometry": wkb} for code, wkb in read_boundaries(path) if code in known]
    await conn.executemany(
        "INSERT INTO area_boundaries (area_code, geometry) VALUES (:code, :geometry)"
        " ON CONFLICT (area_code) DO UPDATE SET geometry = excluded.geometry",
        rows,
    )
    await bump_reference(conn)
    return len(rows)


async def all_boundaries(db: Database) -> list[Any]:
    """Every stored boundary (hex WKB) with its kelurahan, kecamatan and kota names."""
    return await db.fetchall(
        "SELECT kel.code, kel.name, kec.code AS kecamatan_code, kec.name AS kecamatan_name,"
        " kota.name AS kota_name, b.geometry"
        " FROM area_boundaries b JOIN areas kel ON kel.code = b.area_code"
        " JOIN areas kec ON kec.code = kel.parent_code"
        " JOIN areas kota ON kota.code = kec.parent_code"
        " ORDER BY kel.code"
    )
