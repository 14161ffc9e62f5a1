from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from db.database import Database


async def test_fifty_concurrent_writers_lose_no_row_and_never_see_a_lock(tmp_path: Path) -> None:
    path = tmp_path / "a.sqlite3"
    async with Database(path) as db:
        await db.migrate()

        async def writer(n: int) -> None:
            for i in range(10):
                async with db.write() as conn:
                    # read-then-write inside one transaction: a lost update would show
                    async with conn.execute("SELECT COUNT(*) FROM holidays") as cur:
                        before = (await cur.fetchone())[0]
                    await conn.execute(
                        "INSERT INTO holidays (day, name) VALUES (?, ?)",
                        (f"2030-{n:02d}-{i:02d}", str(before)),
                    )

        async def reader() -> int:
            total = 0
            for _ in range(20):
                row = await db.fetchone("SELECT COUNT(*) AS n FROM holidays")
                total = row["n"]
                await asyncio.sleep(0)
            return total

        results = await asyncio.gather(*(writer(n) for n in range(50)), reader(), reader())
        assert all(r is None for r in results[:50])
        row = await db.fetchone("SELECT COUNT(*) AS n, COUNT(DISTINCT name) AS d FROM holidays")
        assert row["n"] == 500
        # every transaction saw the count left by the one before it: strictly serialised
        assert row["d"] == 500


async def test_two_database_objects_on_one_file_write_without_locked_errors(
    tmp_path: Path,
) -> None:
    """As two server processes (uvicorn --workers 2) would: BEGIN IMMEDIATE + busy timeout."""
    path = tmp_path / "a.sqlite3"
    async with Database(path) as first, Database(path) as second:
        await first.migrate()

        async def write(db: Database, prefix: str) -> None:
            for i in range(40):
                async with db.write() as conn:
                    await conn.execute(
                        "INSERT INTO holidays (day, name) VALUES (?, 'x')", (f"{prefix}-{i:03d}",)
                    )

        await asyncio.gather(write(first, "a"), write(second, "b"))
        row = await first.fetchone("SELECT COUNT(*) AS n FROM holidays")
        assert row["n"] == 80


async def test_an_error_inside_a_write_rolls_back_only_that_transaction(tmp_path: Path) -> None:
    async with Database(tmp_path / "a.sqlite3") as db:
        await db.migrate()

        async def failing() -> None:
            async with db.write() as conn:
                await conn.execute("INSERT INTO holidays (day, name) VALUES ('2030-01-01', 'x')")
                raise RuntimeError("boom")

        async def succeeding() -> None:
            async with db.write() as conn:
                await conn.execute("INSERT INTO holidays (day, name) VALUES ('2030-01-02', 'y')")

        results = await asyncio.gather(failing(), succeeding(), return_exceptions=True)
        assert isinstance(results[0], RuntimeError)
        rows = await db.fetchall("SELECT day FROM holidays")
        assert [r["day"] for r in rows] == ["2030-01-02"]


async def test_read_connections_cannot_write(tmp_path: Path) -> None:
    async with Database(tmp_path / "a.sqlite3") as db:
        await db.migrate()
        async with db.read() as conn:
            with pytest.raises(Exception, match=r"readonly|read-only|query_only|attempt to write"):
                await conn.execute("INSERT INTO holidays (day, name) VALUES ('2030-01-01', 'x')")
