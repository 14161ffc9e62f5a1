"""SQL for the areas table (kota → kecamatan → kelurahan/desa): the kelurahan pickers (the
whole list when it is small, kecamatan first when not) and single areas by code."""

from __future__ import annotations

from typing import Any

from db.database import Database

# The one join of a kelurahan/desa (kel) with its kecamatan (kec) and kota (kota); callers
# add conditions with AND and their order.
KELURAHAN_SQL = (
    "SELECT kel.code, kel.name, kec.code AS kecamatan_code, kec.name AS kecamatan_name,"
    " kota.name AS kota_name"
    " FROM areas kel JOIN areas kec ON kec.code = kel.parent_code"
    " JOIN areas kota ON kota.code = kec.parent_code"
    " WHERE kel.level = 4"
)


async def count_kelurahan(db: Database) -> int:
    """How many kelurahan/desa are loaded (the picker asks for the kecamatan above a limit)."""
    row = await db.fetchone("SELECT COUNT(*) AS n FROM areas WHERE level = 4")
    return int(row["n"])


async def kelurahan_list(db: Database, kecamatan: str | None = None) -> list[Any]:
    """Kelurahan/desa with their kecamatan and kota, ordered for a grouped picker."""
    if kecamatan is None:
        return await db.fetchall(KELURAHAN_SQL + " ORDER BY kota.name, kec.name, kel.name")
    return await db.fetchall(
        KELURAHAN_SQL + " AND kec.code = :kecamatan ORDER BY kel.name", {"kecamatan": kecamatan}
    )


async def kecamatan_list(db: Database) -> list[Any]:
    """Every kecamatan with its kota, for the first step of the picker."""
    return await db.fetchall(
        "SELECT kec.code, kec.name, kota.name AS kota_name FROM areas kec"
        " JOIN areas kota ON kota.code = kec.parent_code"
        " WHERE kec.level = 3 ORDER BY kota.name, kec.name"
    )


async def kelurahan(db: Database, code: str) -> Any:
    """One kelurahan/desa (level 4) by code, or None."""
    return await db.lookup(KELURAHAN_SQL + " AND kel.code = :code", {"code": code})


async def area(db: Database, code: str) -> Any:
    """One area of any level by code (every column), or None."""
    return await db.fetchone("SELECT * FROM areas WHERE code = :code", {"code": code})


async def kelurahan_under(db: Database, code: str, *, limit: int) -> list[Any]:
    """The first `limit` kelurahan/desa (code and name, in code order) below an area."""
    return await db.fetchall(
        "SELECT code, name FROM areas WHERE level = 4 AND code LIKE :pattern"
        " ORDER BY code LIMIT :limit",
        {"pattern": code + ".%", "limit": limit},
    )
