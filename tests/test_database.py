"""db/database.py on both backends: write transactions, reads, and two Database objects on
one database standing for two server processes."""

from __future__ import annotations

import asyncio
import contextvars
from pathlib import Path

import pytest

from db.database import Connection, Database


async def test_fifty_concurrent_writers_that_lock_one_key_lose_no_row(
    empty_database: str | Path,
) -> None:
    async with Database(empty_database) as db:
        await db.migrate()

        async def writer(n: int) -> None:
            for i in range(10):
                async with db.write() as conn:
                    # read-then-write inside one transaction: a lost update would show
                    await conn.lock("holidays")
                    before = await conn.scalar("SELECT COUNT(*) FROM holidays")
                    await conn.execute(
                        "INSERT INTO holidays (day, name) VALUES (:day, :name)",
                        {"day": f"2030-{n:02d}-{i:02d}", "name": str(before)},
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


async def test_two_database_objects_on_one_database_write_without_errors(
    empty_database: str | Path,
) -> None:
    """As two server processes (or two servers) would: no "database is locked", no loss."""
    async with Database(empty_database) as first, Database(empty_database) as second:
        await first.migrate()

        async def write(db: Database, prefix: str) -> None:
            for i in range(40):
                async with db.write() as conn:
                    await conn.execute(
                        "INSERT INTO holidays (day, name) VALUES (:day, 'x')",
                        {"day": f"{prefix}-{i:03d}"},
                    )

        await asyncio.gather(write(first, "a"), write(second, "b"))
        row = await first.fetchone("SELECT COUNT(*) AS n FROM holidays")
        assert row["n"] == 80


async def test_a_lock_taken_on_one_server_holds_the_other_until_commit(
    empty_database: str | Path,
) -> None:
    async with Database(empty_database) as first, Database(empty_database) as second:
        await first.migrate()
        order: list[str] = []
        holding = asyncio.Event()

        async def holder() -> None:
            async with first.write() as conn:
                await conn.lock("key")
                holding.set()
                await asyncio.sleep(0.3)
                order.append("first commits")

        async def waiter() -> None:
            await holding.wait()
            async with second.write() as conn:
                await conn.lock("key")
                order.append("second has the lock")

        await asyncio.gather(holder(), waiter())
        assert order == ["first commits", "second has the lock"]


async def test_an_error_inside_a_write_rolls_back_only_that_transaction(
    empty_database: str | Path,
) -> None:
    async with Database(empty_database) as db:
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


async def test_read_connections_cannot_write(empty_database: str | Path) -> None:
    async with Database(empty_database) as db:
        await db.migrate()
        async with db.read() as conn:
            with pytest.raises(Exception, match=r"readonly|read-only|query_only|attempt to write"):
                await conn.execute("INSERT INTO holidays (day, name) VALUES ('2030-01-01', 'x')")
        assert await db.fetchall("SELECT day FROM holidays") == []


async def test_rows_are_read_by_column_name_and_lists_expand_into_in(
    empty_database: str | Path,
) -> None:
    async with Database(empty_database) as db:
        await db.migrate()
        async with db.write() as conn:
            await conn.executemany(
                "INSERT INTO holidays (day, name) VALUES (:day, :name)",
                [{"day": f"2030-01-0{n}", "name": f"h{n}"} for n in range(1, 5)],
            )
        rows = await db.fetchall(
            "SELECT day, name FROM holidays WHERE name IN :names ORDER BY day",
            {"names": ["h2", "h4"]},
        )
        assert [(r["day"], r["name"]) for r in rows] == [("2030-01-02", "h2"), ("2030-01-04", "h4")]
        assert dict(rows[0]) == {"day": "2030-01-02", "name": "h2"}


def test_a_postgresql_url_never_shows_its_password() -> None:
    db = Database("postgresql://aduan:s3cret@db.example:5432/aduan")
    assert "s3cret" not in db.describe()
    assert db.path is None and not db.is_sqlite


LOOKUP = "SELECT day, name FROM holidays WHERE day = :day"


async def test_a_point_lookup_sees_every_commit_of_either_server_at_once(
    empty_database: str | Path,
) -> None:
    """`lookup` (the busy public pages' key, db/page_versions.py) is never older than a fresh
    read: a commit through another server, or through this one, shows on the next lookup."""
    async with Database(empty_database) as one, Database(empty_database) as other:
        await one.migrate()
        day = {"day": "2031-01-01"}
        assert await one.lookup(LOOKUP, day) is None
        async with other.write() as conn:
            await conn.execute("INSERT INTO holidays (day, name) VALUES (:day, 'a')", day)
        assert await one.lookup(LOOKUP, day) == {"day": "2031-01-01", "name": "a"}
        for n, writer in enumerate([other, one, other, other, one]):
            async with writer.write() as conn:
                await conn.execute(
                    "UPDATE holidays SET name = :name WHERE day = :day", {**day, "name": str(n)}
                )
            found = await one.lookup(LOOKUP, day)
            assert found == {"day": "2031-01-01", "name": str(n)}
            with pytest.raises(TypeError):  # read-only: one kept answer serves every caller
                found["name"] = "changed by a caller"


async def test_sqlite_runs_a_lookup_again_only_after_a_commit(
    empty_database: str | Path,
) -> None:
    """On SQLite a lookup's answer is kept until any connection commits (PRAGMA data_version):
    the query runs once per change, not once per request."""
    async with Database(empty_database) as db, Database(empty_database) as other:
        if not db.is_sqlite:
            pytest.skip("SQLite keeps lookups; PostgreSQL reads each time")
        await db.migrate()
        ran: list[str] = []
        db.dialect._lookups.set_trace_callback(ran.append)  # type: ignore[attr-defined]
        day = {"day": "2031-02-01"}
        for _ in range(3):
            assert await db.lookup(LOOKUP, day) is None
        assert sum("FROM holidays" in sql for sql in ran) == 1
        async with other.write() as conn:
            await conn.execute("INSERT INTO holidays (day, name) VALUES (:day, 'b')", day)
        for _ in range(3):
            assert await db.lookup(LOOKUP, day) == {"day": "2031-02-01", "name": "b"}
        assert sum("FROM holidays" in sql for sql in ran) == 2


# --- transact: a write transaction given as a function --------------------------------------


async def _insert_holiday(conn: Connection, day: str, name: str = "x") -> int:
    await conn.execute(
        "INSERT INTO holidays (day, name) VALUES (:day, :name)", {"day": day, "name": name}
    )
    return int(await conn.scalar("SELECT COUNT(*) FROM holidays"))


async def test_transact_commits_what_its_function_wrote_and_returns_its_result(
    empty_database: str | Path,
) -> None:
    async with Database(empty_database) as db, Database(empty_database) as other:
        await db.migrate()
        assert await db.transact(_insert_holiday, "2032-01-01", name="a") == 1
        # committed: another server reads it at once
        assert await other.fetchall("SELECT day, name FROM holidays") == [
            {"day": "2032-01-01", "name": "a"}
        ]


async def test_transact_rolls_back_everything_when_its_function_raises(
    empty_database: str | Path,
) -> None:
    async with Database(empty_database) as db:
        await db.migrate()

        async def two_then_fail(conn: Connection) -> None:
            await _insert_holiday(conn, "2032-02-01")
            await _insert_holiday(conn, "2032-02-02")
            raise ValueError("refused")

        with pytest.raises(ValueError, match="refused"):
            await db.transact(two_then_fail)
        assert await db.fetchall("SELECT day FROM holidays") == []
        # the writer is free again
        assert await db.transact(_insert_holiday, "2032-02-03") == 1


async def test_transactions_as_functions_and_as_blocks_are_strictly_serialised(
    empty_database: str | Path,
) -> None:
    """Both ways of writing share one writer per process (on SQLite, two connections behind
    one lock): each read-then-write sees the count the one before it left, and two servers
    writing at once lose nothing."""
    async with Database(empty_database) as db, Database(empty_database) as other:
        await db.migrate()

        async def count_then_insert(conn: Connection, day: str) -> None:
            await conn.lock("holidays")
            before = await conn.scalar("SELECT COUNT(*) FROM holidays")
            await conn.execute(
                "INSERT INTO holidays (day, name) VALUES (:day, :name)",
                {"day": day, "name": str(before)},
            )

        async def as_block(database: Database, day: str) -> None:
            async with database.write() as conn:
                await count_then_insert(conn, day)

        writes = []
        for n in range(60):
            database = db if n % 3 else other
            day = f"2033-{n // 28 + 1:02d}-{n % 28 + 1:02d}"
            if n % 2:
                writes.append(database.transact(count_then_insert, day))
            else:
                writes.append(as_block(database, day))
        await asyncio.gather(*writes)
        row = await db.fetchone("SELECT COUNT(*) AS n, COUNT(DISTINCT name) AS d FROM holidays")
        assert (row["n"], row["d"]) == (60, 60)


async def test_on_sqlite_a_transaction_function_that_awaits_anything_else_fails_whole(
    empty_database: str | Path,
) -> None:
    """It runs on the writer's thread, where nothing else can be awaited: a function that
    tries (a read on another connection, a sleep) gets RuntimeError and writes nothing,
    rather than running its statements interleaved with the event loop."""
    async with Database(empty_database) as db:
        if not db.is_sqlite:
            pytest.skip("PostgreSQL runs the function on the event loop, as write() would")
        await db.migrate()

        async def sleeps(conn: Connection) -> None:
            await _insert_holiday(conn, "2034-01-01")
            await asyncio.sleep(0)

        async def reads_elsewhere(conn: Connection) -> None:
            await _insert_holiday(conn, "2034-01-02")
            await db.lookup(LOOKUP, {"day": "2034-01-01"})

        for work in (sleeps, reads_elsewhere):
            with pytest.raises(RuntimeError):
                await db.transact(work)
        assert await db.fetchall("SELECT day FROM holidays") == []
        assert await db.transact(_insert_holiday, "2034-01-03") == 1


async def test_a_cancelled_transaction_function_still_finishes_before_the_next_write(
    empty_database: str | Path,
) -> None:
    """A request cancelled while its transaction runs (its client gone): what the function
    wrote commits or not as a whole, and the next writer neither fails nor interleaves."""
    async with Database(empty_database) as db:
        await db.migrate()

        async def slow(conn: Connection) -> None:
            await _insert_holiday(conn, "2035-01-01")
            # ~0.2 s of SQL inside the transaction
            await conn.scalar(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n"
                " WHERE i < 1500000) SELECT COUNT(*) FROM n"
            )
            await _insert_holiday(conn, "2035-01-02")

        task = asyncio.create_task(db.transact(slow))
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        async with db.write() as conn:
            count = await conn.scalar("SELECT COUNT(*) FROM holidays")
            await conn.execute("INSERT INTO holidays (day, name) VALUES ('2035-01-03', 'x')")
        assert count in (0, 2)
        rows = await db.fetchall("SELECT day FROM holidays ORDER BY day")
        assert len(rows) == count + 1


_CALLER = contextvars.ContextVar("caller", default="nobody")


async def test_a_transaction_function_sees_its_callers_context(
    empty_database: str | Path,
) -> None:
    """What a request set in context variables (its language) holds inside the function,
    wherever it runs."""
    async with Database(empty_database) as db:
        await db.migrate()

        async def named(conn: Connection) -> str:
            await _insert_holiday(conn, "2038-01-01", name=_CALLER.get())
            return _CALLER.get()

        async def as_caller(name: str) -> str:
            _CALLER.set(name)
            return await db.transact(named)

        assert await asyncio.create_task(as_caller("en")) == "en"
        row = await db.fetchone("SELECT name FROM holidays")
        assert row["name"] == "en"


async def test_lookup_all_reads_every_row_and_sees_each_commit(
    empty_database: str | Path,
) -> None:
    sql = "SELECT day, name FROM holidays WHERE day >= :since ORDER BY day"
    async with Database(empty_database) as db, Database(empty_database) as other:
        await db.migrate()
        since = {"since": "2036-01-01"}
        assert list(await db.lookup_all(sql, since)) == []
        for n, writer in enumerate([other, db, other]):
            await writer.transact(_insert_holiday, f"2036-01-0{n + 1}", name=str(n))
            rows = await db.lookup_all(sql, since)
            assert [dict(r) for r in rows] == [
                {"day": f"2036-01-0{i + 1}", "name": str(i)} for i in range(n + 1)
            ]
        assert await db.lookup_all(sql, {"since": "2037-01-01"}) == type(rows)()
