"""Numbered migrations, one history for SQLite and PostgreSQL, each applied once in its
own transaction, recorded in `schema_migrations` the same way on both.

A migration is either one portable file, `NNNN_name.sql`, run on both backends, or a pair
`NNNN_name.sqlite.sql` + `NNNN_name.postgresql.sql` where the DDL differs (identity
columns, triggers, full-text search). Numbers run 1, 2, 3… without gaps; a number is
either portable or a complete pair.

Safe to run at every start and from several server processes at once: each migration's
transaction first takes the migration lock (SQLite: its `BEGIN IMMEDIATE` is the lock;
PostgreSQL: an advisory lock), and whether it is still pending is decided after that.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from db.database import Database

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
DIALECTS = ("sqlite", "postgresql")
_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)(?:\.(sqlite|postgresql))?\.sql$")
LOCK_KEY = "aduan:migrations"


@dataclass(frozen=True)
class Migration:
    """One numbered migration and its SQL for one backend."""

    version: int
    name: str
    sql: str


def load_migrations(folder: Path = MIGRATIONS_DIR, dialect: str = "sqlite") -> list[Migration]:
    """The migrations of one backend, ordered by number; refuses gaps, duplicates, a
    number that has a portable file and a variant, and a pair with a side missing."""
    if dialect not in DIALECTS:
        raise ValueError(f"unknown dialect {dialect!r}")
    files: dict[int, dict[str | None, Path]] = {}
    names: dict[int, str] = {}
    for path in sorted(folder.glob("*.sql")):
        match = _NAME.match(path.name)
        if not match:
            raise ValueError(
                "migration file name must look like 0001_name.sql, 0001_name.sqlite.sql or "
                f"0001_name.postgresql.sql: {path.name}"
            )
        version, name, variant = int(match[1]), match[2], match[3]
        if names.setdefault(version, name) != name:
            raise ValueError(f"migration {version} has two names: {names[version]}, {name}")
        if variant in files.setdefault(version, {}):
            raise ValueError(f"migration {version} is there twice: {path.name}")
        files[version][variant] = path
    found: list[Migration] = []
    for expected, version in enumerate(sorted(files), start=1):
        if version != expected:
            raise ValueError(f"migrations must be numbered 1, 2, 3…; found {version}")
        variants = files[version]
        if None in variants and len(variants) > 1:
            raise ValueError(f"migration {version} is both portable and per dialect")
        if None not in variants and set(variants) != set(DIALECTS):
            raise ValueError(f"migration {version} needs both .sqlite.sql and .postgresql.sql")
        path = variants.get(None) or variants[dialect]
        found.append(Migration(version, names[version], path.read_text(encoding="utf-8")))
    return found


async def apply_migrations(db: Database, folder: Path = MIGRATIONS_DIR) -> list[int]:
    """Apply pending migrations; returns the versions applied now."""
    async with db.write() as conn:
        await conn.lock(LOCK_KEY)
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
        )
    applied_now: list[int] = []
    for migration in load_migrations(folder, db.dialect.name):
        async with db.write() as conn:
            await conn.lock(LOCK_KEY)
            done = await conn.fetchone(
                "SELECT 1 FROM schema_migrations WHERE version = :version",
                {"version": migration.version},
            )
            if done:
                continue
            await db.dialect.run_script(conn.conn, migration.sql)
            await conn.execute(
                "INSERT INTO schema_migrations (version, name, applied_at)"
                " VALUES (:version, :name, :applied_at)",
                {
                    "version": migration.version,
                    "name": migration.name,
                    "applied_at": datetime.now(UTC).isoformat(timespec="seconds"),
                },
            )
        applied_now.append(migration.version)
    return applied_now


async def applied_count(db: Database) -> int:
    """How many migrations the database has applied: a read that fails when the database
    is missing, unreadable or not ours (the health check answers with it)."""
    row = await db.fetchone("SELECT COUNT(*) AS n FROM schema_migrations")
    return int(row["n"])
