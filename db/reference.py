"""Reference data: official areas from wilayah.csv, agencies and categories from the seed."""

from __future__ import annotations

import csv
import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from db import audit
from db.audit import CONSOLE, Actor
from db.database import Connection
from db.page_versions import bump_reference
from db.timestamps import to_text

DATA_DIR = Path(__file__).parent / "data"
WILAYAH_CSV = DATA_DIR / "wilayah.csv"
SEED_FILE = DATA_DIR / "seed.toml"
_PROVINCE = re.compile(r"^\d{2}$")
UNITS = ("hours", "workdays")


class ReferenceError(ValueError):
    """Reference data that cannot be loaded; the message is meant for the operator."""


@dataclass(frozen=True)
class Area:
    """One row of wilayah.csv: a province, kota/kabupaten, kecamatan or kelurahan/desa."""

    code: str
    name: str
    level: int
    parent_code: str | None


def read_province(province: str, csv_path: Path = WILAYAH_CSV) -> Iterator[Area]:
    """The province and every kota/kabupaten, kecamatan and kelurahan/desa below it."""
    if not _PROVINCE.match(province):
        raise ReferenceError(f"province code must be two digits, e.g. 31 (got {province!r})")
    found = False
    with csv_path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            code = row["kode"].strip()
            if code != province and not code.startswith(province + "."):
                continue
            found = True
            parts = code.split(".")
            parent = ".".join(parts[:-1]) or None
            yield Area(code, row["nama"].strip(), len(parts), parent)
    if not found:
        raise ReferenceError(f"no province with code {province} in {csv_path.name}")


async def load_areas(conn: Connection, province: str) -> int:
    """Insert or rename the areas of one province; returns how many rows were written.
    Parents come before their children (wilayah.csv's order), as the foreign key wants."""
    rows = [
        {"code": a.code, "name": a.name, "level": a.level, "parent_code": a.parent_code}
        for a in read_province(province)
    ]
    await conn.executemany(
        "INSERT INTO areas (code, name, level, parent_code)"
        " VALUES (:code, :name, :level, :parent_code)"
        " ON CONFLICT (code) DO UPDATE SET name = excluded.name",
        rows,
    )
    await bump_reference(conn)
    return len(rows)


def read_seed(path: Path = SEED_FILE) -> dict[str, Any]:
    """Agencies, categories and holidays from the seed file, checked before anything is loaded."""
    try:
        with path.open("rb") as fh:
            seed = tomllib.load(fh)
    except FileNotFoundError as exc:
        raise ReferenceError(f"seed file not found: {path}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ReferenceError(f"seed file {path} is not valid TOML: {exc}") from exc
    agencies = {a["code"] for a in seed.get("agencies", [])}
    for cat in seed.get("categories", []):
        if cat.get("agency") not in agencies:
            raise ReferenceError(
                f"category {cat.get('code')!r}: unknown agency {cat.get('agency')!r}"
            )
        for key in ("response", "dispatch", "resolution"):
            amount, unit = cat.get(key, [1, "hours"])
            if not isinstance(amount, int) or amount <= 0 or unit not in UNITS:
                raise ReferenceError(
                    f"category {cat['code']!r}: {key} must be [amount, 'hours'|'workdays']"
                )
    return seed


async def _mapping(conn: Connection, sql: str) -> dict[str, Any]:
    """The first column's value → the other columns' values, as a tuple."""
    rows = await conn.fetchall(sql)
    found: dict[str, Any] = {}
    for row in rows:
        values = list(row.values())
        found[str(values[0])] = tuple(values[1:])
    return found


async def load_seed(
    conn: Connection, seed: dict[str, Any], *, actor: Actor = CONSOLE
) -> tuple[int, int]:
    """Upsert agencies, categories, canned replies and holidays; returns (agencies, categories).

    Deadline targets are set from the seed only for a category that is new: afterwards
    admins own them (/staf/admin/tenggat), and re-running `aduan init` must not undo that.
    A re-run on a database that already has categories writes what it changed to the audit
    log (a category's agency or confidentiality, a new category, a holiday added or
    renamed), in the same transaction; the first load of a new database is not a change.
    """
    old_categories = await _mapping(
        conn, "SELECT code, default_agency_code, confidential FROM categories"
    )
    old_holidays = await _mapping(conn, "SELECT day, name FROM holidays")
    for a in seed.get("agencies", []):
        await conn.execute(
            "INSERT INTO agencies (code, name_id, name_en, is_inspectorate)"
            " VALUES (:code, :name_id, :name_en, :is_inspectorate)"
            " ON CONFLICT (code) DO UPDATE SET name_id = excluded.name_id,"
            " name_en = excluded.name_en, is_inspectorate = excluded.is_inspectorate",
            {
                "code": a["code"],
                "name_id": a["name_id"],
                "name_en": a["name_en"],
                "is_inspectorate": int(a.get("is_inspectorate", False)),
            },
        )
    for order, c in enumerate(seed.get("categories", [])):
        await conn.execute(
            """INSERT INTO categories (code, name_id, name_en, description_id, description_en,
                   group_id, group_en, keywords, default_agency_code, confidential,
                   response_amount, response_unit, dispatch_amount, dispatch_unit,
                   resolution_amount, resolution_unit, sort_order)
               VALUES (:code, :name_id, :name_en, :description_id, :description_en,
                   :group_id, :group_en, :keywords, :agency, :confidential,
                   :response_amount, :response_unit, :dispatch_amount, :dispatch_unit,
                   :resolution_amount, :resolution_unit, :sort_order)
               ON CONFLICT (code) DO UPDATE SET name_id = excluded.name_id,
                   name_en = excluded.name_en, description_id = excluded.description_id,
                   description_en = excluded.description_en, group_id = excluded.group_id,
                   group_en = excluded.group_en, keywords = excluded.keywords,
                   default_agency_code = excluded.default_agency_code,
                   confidential = excluded.confidential,
                   sort_order = excluded.sort_order""",
            {
                "code": c["code"],
                "name_id": c["name_id"],
                "name_en": c["name_en"],
                "description_id": c.get("description_id", ""),
                "description_en": c.get("description_en", ""),
                "group_id": c.get("group_id", ""),
                "group_en": c.get("group_en", ""),
                "keywords": c.get("keywords", ""),
                "agency": c["agency"],
                "confidential": int(c.get("confidential", False)),
                "response_amount": c["response"][0],
                "response_unit": c["response"][1],
                "dispatch_amount": c["dispatch"][0],
                "dispatch_unit": c["dispatch"][1],
                "resolution_amount": c["resolution"][0],
                "resolution_unit": c["resolution"][1],
                "sort_order": order,
            },
        )
    for r in seed.get("canned_replies", []):
        reply = {"title": r["title"], "category": r.get("category"), "body": r["body"]}
        known = await conn.fetchone(
            "SELECT 1 FROM canned_replies WHERE title = :title"
            " AND (category_code = :category OR (category_code IS NULL AND :category IS NULL))",
            reply,
        )
        if known:
            continue
        await conn.execute(
            "INSERT INTO canned_replies (category_code, title, body)"
            " VALUES (:category, :title, :body)",
            reply,
        )
    for h in seed.get("holidays", []):
        await conn.execute(
            "INSERT INTO holidays (day, name) VALUES (:day, :name)"
            " ON CONFLICT (day) DO UPDATE SET name = excluded.name",
            {"day": h["day"], "name": h["name"]},
        )
    if old_categories:
        await _record_changes(conn, seed, old_categories, old_holidays, actor)
    await bump_reference(conn)
    return len(seed.get("agencies", [])), len(seed.get("categories", []))


async def _record_changes(
    conn: Connection,
    seed: dict[str, Any],
    old_categories: dict[str, Any],
    old_holidays: dict[str, Any],
    actor: Actor,
) -> None:
    at = to_text(datetime.now(UTC))
    record = partial(audit.record, conn, at=at, actor=actor)
    for c in seed.get("categories", []):
        after = {"default_agency_code": c["agency"], "confidential": bool(c.get("confidential"))}
        old = old_categories.get(c["code"])
        if old is None:
            for key in ("response", "dispatch", "resolution"):
                after[f"{key}_amount"], after[f"{key}_unit"] = c[key]
            await record(
                action="routing.add", table="categories", key=c["code"], before=None, after=after
            )
            continue
        before = {"default_agency_code": old[0], "confidential": bool(old[1])}
        if before != after:
            await record(
                action="routing.change",
                table="categories",
                key=c["code"],
                before=before,
                after=after,
            )
    for h in seed.get("holidays", []):
        old_name = old_holidays.get(h["day"], (None,))[0]
        if old_name == h["name"]:
            continue
        await record(
            action="holiday.add" if old_name is None else "holiday.rename",
            table="holidays",
            key=h["day"],
            before=None if old_name is None else {"day": h["day"], "name": old_name},
            after={"day": h["day"], "name": h["name"]},
        )
