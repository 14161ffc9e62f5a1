"""SQL for the kelurahan picker: the whole list when it is small, kecamatan first when not."""

from __future__ import annotations

from typing import Any

from db.database import Database

_KELURAHAN = (
    "SELECT kel.code, kel.name, kec.code AS kecamatan_code, kec.name AS kecamatan_name,"
    " kota.name AS kota_name"
    " FROM areas kel JOIN areas kec ON kec.code = kel.parent_code"
    " JOIN areas kota ON kota.code = kec.parent_code"
    " WHERE kel.level = 4"
)


async def count_kelurahan(db: Database) -> int:
    row = await db.fetchone("SELECT COUNT(*) AS n FROM areas WHERE level = 4")
    return int(row["n"])


async def kelurahan_list(db: Database, kecamatan: str | None = None) -> list[Any]:
    """Kelurahan/desa with their kecamatan and kota, ordered for a grouped picker."""
    if kecamatan is None:
        return await db.fetchall(_KELURAHAN + " ORDER BY kota.name, kec.name, kel.name")
    return await db.fetchall(_KELURAHAN + " AND kec.code = ? ORDER BY kel.name", (kecamatan,))


async def kecamatan_list(db: Database) -> list[Any]:
    return await db.fetchall(
        "SELECT kec.code, kec.name, kota.name AS kota_name FROM areas kec"
        " JOIN areas kota ON kota.code = kec.parent_code"
        " WHERE kec.level = 3 ORDER BY kota.name, kec.name"
    )


async def kelurahan(db: Database, code: str) -> Any:
    """One kelurahan/desa (level 4) by code, or None."""
    return await db.fetchone(_KELURAHAN + " AND kel.code = ?", (code,))
