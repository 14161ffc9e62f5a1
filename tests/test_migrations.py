from __future__ import annotations

from pathlib import Path

import pytest

from db.database import Database
from db.migrations import MIGRATIONS_DIR, apply_migrations, load_migrations, split_statements

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
    "schema_migrations",
}


async def tables(db: Database) -> set[str]:
    rows = await db.fetchall("SELECT name FROM sqlite_master WHERE type = 'table'")
    return {r["name"] for r in rows}


async def test_fresh_database_gets_every_migration_and_every_table(tmp_path: Path) -> None:
    async with Database(tmp_path / "a.sqlite3") as db:
        applied = await db.migrate()
        assert applied == [m.version for m in load_migrations()]
        assert EXPECTED_TABLES <= await tables(db)
        recorded = await db.fetchall("SELECT version FROM schema_migrations ORDER BY version")
        assert [r["version"] for r in recorded] == applied


async def test_restarting_applies_nothing_and_keeps_data(tmp_path: Path) -> None:
    path = tmp_path / "a.sqlite3"
    async with Database(path) as db:
        await db.migrate()
        async with db.write() as conn:
            await conn.execute("INSERT INTO holidays (day, name) VALUES ('2026-12-25', 'Natal')")
    async with Database(path) as db:
        assert await db.migrate() == []
        row = await db.fetchone("SELECT name FROM holidays")
        assert row["name"] == "Natal"


async def test_connections_use_wal_foreign_keys_and_full_sync(tmp_path: Path) -> None:
    async with Database(tmp_path / "a.sqlite3") as db:
        async with db.read() as conn:
            async with conn.execute("PRAGMA journal_mode") as cur:
                assert (await cur.fetchone())[0] == "wal"
            async with conn.execute("PRAGMA foreign_keys") as cur:
                assert (await cur.fetchone())[0] == 1
            async with conn.execute("PRAGMA synchronous") as cur:
                assert (await cur.fetchone())[0] == 2  # FULL
        async with db.writer.execute("PRAGMA synchronous") as cur:
            assert (await cur.fetchone())[0] == 2


async def test_a_failing_migration_is_rolled_back_whole(tmp_path: Path) -> None:
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "0001_first.sql").write_text("CREATE TABLE t (x INTEGER);\n")
    (folder / "0002_broken.sql").write_text(
        "CREATE TABLE u (y INTEGER);\nINSERT INTO missing_table VALUES (1);\n"
    )
    async with Database(tmp_path / "a.sqlite3") as db:
        with pytest.raises(Exception, match="missing_table"):
            await apply_migrations(db.writer, folder)
        names = await tables(db)
        assert "t" in names and "u" not in names
        rows = await db.fetchall("SELECT version FROM schema_migrations")
        assert [r["version"] for r in rows] == [1]


def test_statements_are_split_without_breaking_trigger_bodies() -> None:
    sql = (
        "-- comment\nCREATE TABLE a (x);\n"
        "CREATE TRIGGER t AFTER INSERT ON a BEGIN\n  INSERT INTO a VALUES (1);\n  SELECT 1;\nEND;\n"
        "CREATE INDEX i ON a (x);\n"
    )
    statements = split_statements(sql)
    assert len(statements) == 3
    assert statements[1].startswith("CREATE TRIGGER") and statements[1].endswith("END;")


def test_migration_files_are_numbered_without_gaps() -> None:
    versions = [m.version for m in load_migrations(MIGRATIONS_DIR)]
    assert versions == list(range(1, len(versions) + 1))


def test_a_gap_in_numbering_is_refused(tmp_path: Path) -> None:
    (tmp_path / "0001_a.sql").write_text("SELECT 1;")
    (tmp_path / "0003_c.sql").write_text("SELECT 1;")
    with pytest.raises(ValueError, match="numbered"):
        load_migrations(tmp_path)
