"""One numbered migration history for SQLite and PostgreSQL (db/migrations.py)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import inspect

from db.database import Database
from db.migrations import MIGRATIONS_DIR, apply_migrations, load_migrations
from db.sqlite import split_sqlite_statements

EXPECTED_TABLES = {
    "areas",
    "agencies",
    "categories",
    "reports",
    "report_events",
    "photos",
    "users",
    "user_areas",
    "sessions",
    "api_keys",
    "rate_events",
    "holidays",
    "canned_replies",
    "audit_log",
    "held_photos",
    "task_leases",
    "push_subscriptions",
    "push_follows",
    "messages",
    "contact_taps",
    "staff_push_subscriptions",
    "schema_migrations",
}


async def tables(db: Database) -> set[str]:
    async with db.read() as conn:
        return set(await conn.conn.run_sync(lambda c: inspect(c).get_table_names()))


async def test_fresh_database_gets_every_migration_and_every_table(
    empty_database: str | Path,
) -> None:
    async with Database(empty_database) as db:
        applied = await db.migrate()
        assert applied == [m.version for m in load_migrations(dialect=db.dialect.name)]
        assert EXPECTED_TABLES <= await tables(db)
        recorded = await db.fetchall("SELECT version FROM schema_migrations ORDER BY version")
        assert [r["version"] for r in recorded] == applied


async def test_restarting_applies_nothing_and_keeps_data(empty_database: str | Path) -> None:
    async with Database(empty_database) as db:
        await db.migrate()
        async with db.write() as conn:
            await conn.execute("INSERT INTO holidays (day, name) VALUES ('2026-12-25', 'Natal')")
    async with Database(empty_database) as db:
        assert await db.migrate() == []
        row = await db.fetchone("SELECT name FROM holidays")
        assert row["name"] == "Natal"


async def test_servers_starting_together_apply_each_migration_once(
    empty_database: str | Path,
) -> None:
    async with Database(empty_database) as a, Database(empty_database) as b:
        results = await asyncio.gather(a.migrate(), b.migrate(), a.migrate())
        applied = sorted(v for result in results for v in result)
        assert applied == [m.version for m in load_migrations(dialect=a.dialect.name)]
        rows = await a.fetchall("SELECT version FROM schema_migrations")
        assert len(rows) == len(applied)


@pytest.mark.sqlite_only
async def test_connections_use_wal_foreign_keys_and_full_sync(tmp_path: Path) -> None:
    async with Database(tmp_path / "a.sqlite3") as db:
        async with db.read() as conn:
            assert await conn.scalar("PRAGMA journal_mode") == "wal"
            assert await conn.scalar("PRAGMA foreign_keys") == 1
            assert await conn.scalar("PRAGMA synchronous") == 2  # FULL
        async with db.write() as conn:
            assert await conn.scalar("PRAGMA synchronous") == 2
            assert await conn.scalar("PRAGMA foreign_keys") == 1


async def test_a_failing_migration_is_rolled_back_whole(
    empty_database: str | Path, tmp_path: Path
) -> None:
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "0001_first.sql").write_text("CREATE TABLE t (x INTEGER);\n")
    (folder / "0002_broken.sql").write_text(
        "CREATE TABLE u (y INTEGER);\nINSERT INTO missing_table VALUES (1);\n"
    )
    async with Database(empty_database) as db:
        with pytest.raises(Exception, match="missing_table"):
            await apply_migrations(db, folder)
        names = await tables(db)
        assert "t" in names and "u" not in names
        rows = await db.fetchall("SELECT version FROM schema_migrations")
        assert [r["version"] for r in rows] == [1]


async def test_each_backend_runs_its_own_variant_of_a_migration(
    empty_database: str | Path, tmp_path: Path
) -> None:
    (tmp_path / "0001_both.sql").write_text("CREATE TABLE t (x INTEGER);\n")
    (tmp_path / "0002_own.sqlite.sql").write_text("CREATE TABLE on_sqlite (x INTEGER);\n")
    (tmp_path / "0002_own.postgresql.sql").write_text(
        "CREATE FUNCTION f() RETURNS integer LANGUAGE plpgsql AS $$\n"
        "BEGIN\n  RETURN 1;\nEND;\n$$;\n"
        "CREATE TABLE on_postgresql (x INTEGER);\n"
    )
    async with Database(empty_database) as db:
        assert await apply_migrations(db, tmp_path) == [1, 2]
        names = await tables(db)
        assert "t" in names
        other = "on_postgresql" if db.dialect.name == "sqlite" else "on_sqlite"
        assert f"on_{db.dialect.name}" in names and other not in names
        rows = await db.fetchall("SELECT version, name FROM schema_migrations ORDER BY version")
        assert [(r["version"], r["name"]) for r in rows] == [(1, "both"), (2, "own")]


def test_statements_are_split_without_breaking_trigger_bodies() -> None:
    sql = (
        "-- comment\nCREATE TABLE a (x);\n"
        "CREATE TRIGGER t AFTER INSERT ON a BEGIN\n  INSERT INTO a VALUES (1);\n  SELECT 1;\nEND;\n"
        "CREATE INDEX i ON a (x);\n"
    )
    statements = split_sqlite_statements(sql)
    assert len(statements) == 3
    assert statements[1].startswith("CREATE TRIGGER") and statements[1].endswith("END;")


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_migration_files_are_numbered_without_gaps_for_each_backend(dialect: str) -> None:
    migrations = load_migrations(MIGRATIONS_DIR, dialect)
    assert [m.version for m in migrations] == list(range(1, len(migrations) + 1))


def test_both_backends_share_one_history_of_names() -> None:
    sqlite = [(m.version, m.name) for m in load_migrations(MIGRATIONS_DIR, "sqlite")]
    postgresql = [(m.version, m.name) for m in load_migrations(MIGRATIONS_DIR, "postgresql")]
    assert sqlite == postgresql


def test_a_gap_in_numbering_is_refused(tmp_path: Path) -> None:
    (tmp_path / "0001_a.sql").write_text("SELECT 1;")
    (tmp_path / "0003_c.sql").write_text("SELECT 1;")
    with pytest.raises(ValueError, match="numbered"):
        load_migrations(tmp_path)


def test_a_variant_without_its_other_half_is_refused(tmp_path: Path) -> None:
    (tmp_path / "0001_a.sqlite.sql").write_text("SELECT 1;")
    with pytest.raises(ValueError, match="needs both"):
        load_migrations(tmp_path)


def test_a_number_both_portable_and_per_dialect_is_refused(tmp_path: Path) -> None:
    (tmp_path / "0001_a.sql").write_text("SELECT 1;")
    (tmp_path / "0001_a.sqlite.sql").write_text("SELECT 1;")
    (tmp_path / "0001_a.postgresql.sql").write_text("SELECT 1;")
    with pytest.raises(ValueError, match="both portable and per dialect"):
        load_migrations(tmp_path)
