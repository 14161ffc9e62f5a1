"""Copying a city's database from SQLite to PostgreSQL (`aduan migrate --to …`).

Every table of the schema is copied in foreign-key order with its ids kept, from one read
snapshot of the source (a running server may go on writing: the copy is the state when
the snapshot began), then the target's id sequences are moved past the copied ids and the
rows of every table are counted on both sides. The target must be empty: a database of
another application, or an Aduan database that already holds data, is refused before
anything is written to it.

Derived tables are not copied: SQLite's full-text index (reports_fts and its shadow
tables) is rebuilt from the reports by the target's own search index, and
`schema_migrations` is the target's own record of its schema.
"""

from __future__ import annotations

import warnings
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import MetaData, Table, inspect
from sqlalchemy.exc import SAWarning

from db.database import Connection, Database

BATCH_SIZE = 1000
# Tables the copy leaves out: each side keeps its own.
OWN_TABLES = frozenset({"schema_migrations"})
# SQLite's FTS5 index of reports and its shadow tables; PostgreSQL indexes the reports
# themselves (pg_trgm).
DERIVED_PREFIXES = ("reports_fts", "sqlite_")


class TransferError(Exception):
    """The copy cannot be made or did not verify; the message is for the operator."""


@dataclass
class Copied:
    """What was copied: rows per table in the order they were written."""

    rows: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.rows.values())


def _copied(name: str) -> bool:
    return name not in OWN_TABLES and not name.startswith(DERIVED_PREFIXES)


async def _table_names(conn: Connection) -> set[str]:
    names: list[str] = await conn.conn.run_sync(lambda c: inspect(c).get_table_names())
    return set(names)


async def _tables(conn: Connection) -> list[Table]:
    """The schema's tables that are copied, parents before the tables that refer to them."""

    def reflect(sync_conn: Any) -> list[Table]:
        metadata = MetaData()
        with warnings.catch_warnings():
            # Expression indexes (substr(area_code, …)) are not needed to copy rows.
            warnings.filterwarnings("ignore", "Skipped unsupported reflection", SAWarning)
            metadata.reflect(sync_conn, only=lambda name, _metadata: _copied(name))
        return list(metadata.sorted_tables)

    tables: list[Table] = await conn.conn.run_sync(reflect)
    return tables


async def _count(conn: Connection, table: str) -> int:
    return int(await conn.scalar(f"SELECT COUNT(*) FROM {table}"))


async def check_empty(target: Database) -> None:
    """Refuse a target that holds anything: tables of another application before Aduan's
    schema is created in it, or rows in any of Aduan's tables."""
    async with target.read() as conn:
        names = await _table_names(conn)
        if names and "schema_migrations" not in names:
            raise TransferError(
                f"the target database {target.describe()} holds tables that are not Aduan's "
                f"({', '.join(sorted(names)[:5])}); give an empty database"
            )
        for name in sorted(names):
            if _copied(name) and await _count(conn, name):
                raise TransferError(
                    f"the target database {target.describe()} is not empty (table {name} has "
                    "rows); give an empty database"
                )


async def copy_database(
    source: Database,
    target: Database,
    *,
    batch_size: int = BATCH_SIZE,
    progress: Callable[[str, int], Awaitable[None] | None] | None = None,
) -> Copied:
    """Copy every table of `source` into the empty, migrated `target`, verify the counts,
    and return them. Raises TransferError when the schemas differ, the target is not empty
    or a count does not match."""
    await check_empty(target)
    copied = Copied()
    async with source.read() as src, target.write() as dst:
        await source.dialect.begin_snapshot(src.conn)
        try:
            source_tables = {t.name for t in await _tables(src) if _copied(t.name)}
            tables = [t for t in await _tables(dst) if _copied(t.name)]
            missing = source_tables - {t.name for t in tables}
            if missing:
                raise TransferError(
                    f"tables {sorted(missing)} of the source have no place in the target: "
                    "are both at the same Aduan version?"
                )
            for table in tables:
                if table.name not in source_tables:
                    raise TransferError(
                        f"table {table.name} is missing from the source: run any `aduan` "
                        "command on it once to bring its schema up to date"
                    )
                copied.rows[table.name] = await _copy_table(src, dst, table, batch_size)
                if progress is not None:
                    result = progress(table.name, copied.rows[table.name])
                    if result is not None:
                        await result
                await target.dialect.reset_identity(dst.conn, table.name)
            for table in tables:
                source_count = await _count(src, table.name)
                target_count = await _count(dst, table.name)
                if source_count != target_count or target_count != copied.rows[table.name]:
                    raise TransferError(
                        f"table {table.name}: {source_count} rows in the source, "
                        f"{target_count} in the target; nothing was kept"
                    )
        finally:
            await source.dialect.end_snapshot(src.conn)
    return copied


async def _copy_table(src: Connection, dst: Connection, table: Table, batch_size: int) -> int:
    """Copy one table in batches, in the source's row order; returns how many rows."""
    columns = [c.name for c in table.columns]
    # A column referring to its own table (a report merged into another, an area's
    # parent) may name a row copied later: written empty first, filled in at the end.
    self_refs = [fk.parent.name for fk in table.foreign_keys if fk.column.table.name == table.name]
    key = [c.name for c in table.primary_key.columns]
    insert = (
        f"INSERT INTO {table.name} ({', '.join(columns)})"
        f" VALUES ({', '.join(':' + c for c in columns)})"
    )
    later: list[dict[str, Any]] = []
    total = 0
    async for batch in src.dialect.batches(src, table.name, columns, batch_size):
        rows = [dict(r) for r in batch]
        if self_refs:
            for row in rows:
                pending = {c: row[c] for c in self_refs if row[c] is not None}
                if pending:
                    later.append({**{k: row[k] for k in key}, **pending})
                    row.update(dict.fromkeys(pending))
        await dst.executemany(insert, rows)
        total += len(rows)
    for column in self_refs:
        updates = [r for r in later if column in r]
        if updates:
            where = " AND ".join(f"{k} = :{k}" for k in key)
            await dst.executemany(
                f"UPDATE {table.name} SET {column} = :{column} WHERE {where}",
                [{**{k: r[k] for k in key}, column: r[column]} for r in updates],
            )
    return total
