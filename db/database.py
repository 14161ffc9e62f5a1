"""The database behind an async facade, the same for SQLite and PostgreSQL.

`Database(target)` takes a SQLite file path or a URL (`ADUAN_DATABASE_URL`:
`postgresql://user:password@host:port/dbname`); db/dialect.py holds what differs between
the two (engines, how a write transaction is taken, the few SQL pieces that differ).

Every write goes through `Database.write()`: one transaction, committed when the block
ends and rolled back on any error (or `Database.transact(work)`, the same for a function
that only runs SQL: on SQLite it runs whole on the writer's thread). Reads use
`Database.read()` (several queries) or `fetchone`/`fetchall` (one), on connections that
see committed data and never wait on a writer (`lookup`/`lookup_all`: small reads by a
key that busy public paths make, on SQLite answered on the calling thread). Queries are
SQLAlchemy `text()` with named parameters (`:code`); a list or tuple value expands into
an `IN (…)` list. Rows are mappings: `row["code"]`, `dict(row)`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection as SyncConnection
from sqlalchemy import RowMapping, bindparam, text
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import TextClause

from db import dialect as dialects
from db.dialect import Dialect
from db.sqlite import SQLite

Params = Mapping[str, Any] | None
Row = RowMapping
T = TypeVar("T")


@lru_cache(maxsize=2048)
def _statement(sql: str, expanding: frozenset[str]) -> TextClause:
    statement = text(sql)
    if expanding:
        statement = statement.bindparams(*(bindparam(name, expanding=True) for name in expanding))
    return statement


def statement(sql: str, params: Params) -> TextClause:
    """The `text()` of `sql`, with list and tuple parameters expanding into `IN` lists."""
    expanding = frozenset(
        name for name, value in (params or {}).items() if isinstance(value, list | tuple)
    )
    return _statement(sql, expanding)


class Connection:
    """One connection: inside a write transaction (`Database.write()`) or for reads
    (`Database.read()`). db/ functions take it; nothing outside db/ runs SQL on it."""

    def __init__(self, conn: AsyncConnection, dialect: Dialect) -> None:
        self.conn = conn
        self.dialect = dialect

    async def _result(self, statement: TextClause, params: Any) -> Any:
        return await self.conn.execute(statement, params)

    async def fetchone(self, sql: str, params: Params = None) -> Any:
        """The first row (a mapping), or None."""
        result = await self._result(statement(sql, params), dict(params or {}))
        return result.mappings().first()

    async def fetchall(self, sql: str, params: Params = None) -> list[Row]:
        """Every row."""
        result = await self._result(statement(sql, params), dict(params or {}))
        return list(result.mappings().all())

    async def scalar(self, sql: str, params: Params = None) -> Any:
        """The first column of the first row, or None."""
        result = await self._result(statement(sql, params), dict(params or {}))
        return result.scalar()

    async def execute(self, sql: str, params: Params = None) -> int:
        """Run a statement; returns how many rows it changed."""
        result = await self._result(statement(sql, params), dict(params or {}))
        return int(result.rowcount)

    async def executemany(self, sql: str, rows: Sequence[Mapping[str, Any]]) -> None:
        """Run one statement for each parameter set."""
        if rows:
            await self._result(text(sql), [dict(r) for r in rows])

    async def insert(self, sql: str, params: Params = None) -> int | None:
        """Run an INSERT ending in `RETURNING id`; the new id, or None when `ON CONFLICT
        DO NOTHING` left the row out."""
        value = await self.scalar(sql, params)
        return None if value is None else int(value)

    async def lock(self, key: str) -> None:
        """Serialise every write transaction that locks `key` until this one ends."""
        await self.dialect.lock(self.conn, key)


class ThreadConnection(Connection):
    """A write transaction's connection on SQLite's writer thread (`Database.transact`):
    each statement runs at once, so its methods never suspend."""

    def __init__(self, conn: SyncConnection, dialect: Dialect) -> None:
        self.conn = conn  # type: ignore[assignment]
        self.dialect = dialect

    async def _result(self, statement: TextClause, params: Any) -> Any:
        return self.conn.execute(statement, params)


class Database:
    """The application's database: `write()` for transactions, `read()` and
    `fetchone/fetchall` for reads."""

    def __init__(self, target: str | Path, readers: int = 3) -> None:
        self.dialect = dialects.for_target(target, readers=readers)

    @property
    def path(self) -> Path | None:
        """The SQLite file, or None on PostgreSQL."""
        return self.dialect.path if isinstance(self.dialect, SQLite) else None

    @property
    def is_sqlite(self) -> bool:
        return isinstance(self.dialect, SQLite)

    def describe(self) -> str:
        """The database for messages (a file path, or a URL without its password)."""
        return self.dialect.describe()

    async def open(self) -> None:
        """Connect (SQLite: create the file and switch it to WAL). On failure (a corrupt
        file, a read-only folder, a server that refuses) nothing is left open."""
        await self.dialect.open()

    async def migrate(self) -> list[int]:
        """Apply pending schema migrations (see db/migrations.py)."""
        from db.migrations import apply_migrations

        return await apply_migrations(self)

    async def close(self) -> None:
        await self.dialect.close()

    async def scrub(self) -> None:
        """After erasing personal data: make the erased bytes leave the database's files
        (SQLite: checkpoint and empty the WAL); see Dialect.scrub."""
        await self.dialect.scrub()

    async def __aenter__(self) -> Database:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @asynccontextmanager
    async def write(self) -> AsyncIterator[Connection]:
        """One write transaction, committed at the end of the block, rolled back on error.

        SQLite: one at a time (`BEGIN IMMEDIATE` behind a lock); PostgreSQL: side by side
        at READ COMMITTED, so db/ functions lock what they read to change.
        """
        async with self.dialect.transaction() as conn:
            yield Connection(conn, self.dialect)

    async def transact(self, work: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any) -> T:
        """`await work(conn, *args, **kwargs)` in one write transaction, as inside `write()`:
        committed when it returns, rolled back when it raises; its result.

        For the writes a crowd makes (a new report, its rate-limit slot): `work` awaits
        nothing but its connection's methods (db/ functions given `conn`), so on SQLite it
        runs whole on the writer's thread, each statement at once, and the one write lock is
        held for the SQL's own time instead of a trip through a busy event loop per
        statement (issue 13: a submission's two transactions held it ~20 ms with 8 clients
        filing, ~6 ms with one). Awaiting anything else there raises RuntimeError and rolls
        back. PostgreSQL runs it as `write()` would.
        """

        def start(conn: Any, on_thread: bool) -> Awaitable[T]:
            wrapped = (ThreadConnection if on_thread else Connection)(conn, self.dialect)
            return work(wrapped, *args, **kwargs)

        return await self.dialect.run_transaction(start)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Connection]:
        """A connection for several reads (each sees committed data)."""
        async with self.dialect.reading() as conn:
            yield Connection(conn, self.dialect)

    async def fetchone(self, sql: str, params: Params = None) -> Any:
        """The first row (a mapping) of one read, or None."""
        async with self.read() as conn:
            return await conn.fetchone(sql, params)

    async def fetchall(self, sql: str, params: Params = None) -> list[Row]:
        """Every row of one read."""
        async with self.read() as conn:
            return await conn.fetchall(sql, params)

    async def lookup(self, sql: str, params: Params = None) -> Any:
        """The first row of a point query (by a unique or primary key), as `fetchone`.

        For the few queries a busy public page runs on every request (db/page_versions.py):
        SQLite answers them on the calling thread (db/sqlite.py, `lookup_now`); PostgreSQL
        as any read. Only plain values as parameters (no list expanding into `IN`).
        """
        found = self.dialect.lookup_now(sql, dict(params or {}))
        if found is not dialects.NOT_NOW:
            return found
        return await self.fetchone(sql, params)

    async def lookup_all(self, sql: str, params: Params = None) -> Sequence[Any]:
        """Every row of a small query by an index (a reference table's few dozen rows), as
        `fetchall` but answered on the calling thread on SQLite, as `lookup`."""
        found = self.dialect.lookup_now(sql, dict(params or {}), every_row=True)
        if found is not dialects.NOT_NOW:
            return found
        return await self.fetchall(sql, params)


def backup(source: Path, target: Path) -> str:
    """Copy the SQLite database at `source` into a new file `target` with the online backup
    API (consistent while a server writes); returns the copy's integrity check."""
    backend = dialects.for_target(source)
    assert isinstance(backend, SQLite)
    return backend.backup(target)
