"""SQL for deadline settings: each category's targets, the holiday list, and the resolved
reports that wait for the resident's answer (automatic closing)."""

from __future__ import annotations

from typing import Any

from db.database import Connection, Database
from db.page_versions import bump_reference

TARGETS = ("response", "dispatch", "resolution")


async def category_targets(db: Database) -> list[Any]:
    """Every category (inactive ones too: their reports still run on these targets)."""
    return await db.fetchall(
        "SELECT code, name_id, name_en, active, confidential,"
        " response_amount, response_unit, dispatch_amount, dispatch_unit,"
        " resolution_amount, resolution_unit"
        " FROM categories ORDER BY active DESC, sort_order, code"
    )


async def targets_of(conn: Connection, code: str) -> dict[str, Any] | None:
    """A category's three targets as stored ({"response_amount": 24, "response_unit":
    "hours", ...}), read in the caller's transaction; None for an unknown category."""
    columns = ", ".join(f"{name}_amount, {name}_unit" for name in TARGETS)
    row = await conn.fetchone(
        f"SELECT {columns} FROM categories WHERE code = :code", {"code": code}
    )
    return dict(row) if row is not None else None


async def set_category_targets(
    conn: Connection, code: str, targets: dict[str, tuple[int, str]]
) -> bool:
    """Store a category's three targets ({"response": (24, "hours"), ...}); False when the
    category does not exist. Reports already received keep the due times they were given."""
    values: dict[str, Any] = {"code": code}
    for name in TARGETS:
        values[f"{name}_amount"], values[f"{name}_unit"] = targets[name]
    changed = await conn.execute(
        "UPDATE categories SET response_amount = :response_amount,"
        " response_unit = :response_unit, dispatch_amount = :dispatch_amount,"
        " dispatch_unit = :dispatch_unit, resolution_amount = :resolution_amount,"
        " resolution_unit = :resolution_unit WHERE code = :code",
        values,
    )
    await bump_reference(conn)
    return changed == 1


async def holidays(db: Database) -> list[Any]:
    """Every holiday (ISO day and name), in date order."""
    return await db.fetchall("SELECT day, name FROM holidays ORDER BY day")


async def holiday_name(conn: Connection, day: str) -> str | None:
    """The name of the holiday on a day (ISO date), read in the caller's transaction."""
    row = await conn.fetchone("SELECT name FROM holidays WHERE day = :day", {"day": day})
    return str(row["name"]) if row is not None else None


async def save_holiday(conn: Connection, day: str, name: str) -> None:
    """Add a holiday, or rename the one already on that day."""
    await conn.execute(
        "INSERT INTO holidays (day, name) VALUES (:day, :name)"
        " ON CONFLICT (day) DO UPDATE SET name = excluded.name",
        {"day": day, "name": name},
    )
    await bump_reference(conn)


async def delete_holiday(conn: Connection, day: str) -> bool:
    """Remove the holiday on a day (ISO date); False when there was none."""
    deleted = await conn.execute("DELETE FROM holidays WHERE day = :day", {"day": day})
    await bump_reference(conn)
    return deleted == 1


async def resolved_before(
    db: Database, before: str, *, after_id: int = 0, limit: int = 500
) -> list[Any]:
    """Resolved reports (still waiting for the resident) resolved at or before `before`, by id.

    Only a bound: the caller decides each report with working-day arithmetic.
    """
    return await db.fetchall(
        "SELECT id, code, version, resolved_at FROM reports"
        " WHERE status = 'resolved' AND resolved_at <= :before AND id > :after_id"
        " ORDER BY id LIMIT :limit",
        {"before": before, "after_id": after_id, "limit": limit},
    )
