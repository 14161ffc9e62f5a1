"""Numbered `.sql` migrations, applied in order, each once, each in its own transaction.

Safe to run at every start and from several server processes at once: each migration is
applied inside `BEGIN IMMEDIATE`, and whether it is still pending is decided after that lock
is taken.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import aiosqlite

if TYPE_CHECKING:
    from db.database import Database

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True)
class Migration:
    """One numbered migration file and its SQL."""

    version: int
    name: str
    sql: str


def load_migrations(folder: Path = MIGRATIONS_DIR) -> list[Migration]:
    """All migrations in the folder, ordered by number; refuses gaps and duplicates."""
    found: list[Migration] = []
    for path in sorted(folder.glob("*.sql")):
        match = _NAME.match(path.name)
        if not match:
            raise ValueError(f"migration file name must look like 0001_name.sql: {path.name}")
        found.append(Migration(int(match[1]), match[2], path.read_text(encoding="utf-8")))
    for expected, migration in enumerate(found, start=1):
        if migration.version != expected:
            raise ValueError(f"migrations must be numbered 1, 2, 3…; found {migration.version}")
    return found


def split_statements(sql: str) -> list[str]:
    """Split a script into statements (trigger bodies stay whole), so that they can run
    inside our own transaction: `executescript` would commit it first."""
    statements: list[str] = []
    buffer = ""
    for line in sql.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            if buffer.strip():
                statements.append(buffer.strip())
            buffer = ""
    if buffer.strip() and not all(
        part.strip().startswith("--") or not part.strip() for part in buffer.splitlines()
    ):
        raise ValueError("migration ends with an incomplete statement")
    return statements


async def apply_migrations(conn: aiosqlite.Connection, folder: Path = MIGRATIONS_DIR) -> list[int]:
    """Apply pending migrations on a writer connection; returns the versions applied now."""
    await conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
    )
    applied_now: list[int] = []
    for migration in load_migrations(folder):
        await conn.execute("BEGIN IMMEDIATE")
        try:
            async with conn.execute(
                "SELECT 1 FROM schema_migrations WHERE version = ?", (migration.version,)
            ) as cur:
                done = await cur.fetchone()
            if done:
                await conn.execute("ROLLBACK")
                continue
            for statement in split_statements(migration.sql):
                await conn.execute(statement)
            await conn.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                (
                    migration.version,
                    migration.name,
                    datetime.now(UTC).isoformat(timespec="seconds"),
                ),
            )
            await conn.execute("COMMIT")
        except BaseException:
            await conn.execute("ROLLBACK")
            raise
        applied_now.append(migration.version)
    return applied_now


async def applied_count(db: Database) -> int:
    """How many migrations the database has applied: a read that fails when the file is
    missing, unreadable or not ours (the health check answers with it)."""
    row = await db.fetchone("SELECT COUNT(*) AS n FROM schema_migrations")
    return int(row["n"])
