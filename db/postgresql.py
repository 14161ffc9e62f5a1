"""PostgreSQL's side of `db.dialect`: a pool of asyncpg connections, transactions side by
side, row and advisory locks for what SQLite's single writer gave for free."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from db.dialect import BackupError, Dialect, like_pattern

# --- PostgreSQL -----------------------------------------------------------------------------

_ADVISORY_LOCK = text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))")


class PostgreSQL(Dialect):
    """PostgreSQL ≥ 15 through asyncpg: a pool of connections, transactions side by side
    at READ COMMITTED. What SQLite's single writer gave for free is asked for explicitly:
    row locks on what a transaction reads to change (`for_update`), advisory locks around a
    check-then-insert (`lock`), unique indexes with `ON CONFLICT` for what must exist once."""

    name = "postgresql"
    suffix = "postgresql"
    for_update = " FOR UPDATE"

    def __init__(self, url: URL, pool_size: int = 5) -> None:
        super().__init__(url)
        self._pool_size = pool_size
        self._writer: AsyncEngine | None = None
        self._reader: AsyncEngine | None = None

    def _engine(self, *, readonly: bool) -> AsyncEngine:
        settings = {"application_name": "aduan"}
        if readonly:
            settings["default_transaction_read_only"] = "on"
        engine = create_async_engine(
            self.url.set(drivername="postgresql+asyncpg"),
            pool_size=self._pool_size,
            max_overflow=10,
            # A server restarted or failed over leaves dead connections in the pool.
            pool_pre_ping=True,
            connect_args={"server_settings": settings},
        )
        if readonly:
            # Each read sees the data committed when it runs; no transaction around it.
            engine = engine.execution_options(isolation_level="AUTOCOMMIT")
        return engine

    async def open(self) -> None:
        # Two pools, as SQLite's writer and readers: reads never queue behind writes for a
        # connection, and cannot write.
        self._writer = self._engine(readonly=False)
        self._reader = self._engine(readonly=True)
        try:
            async with self._writer.connect() as conn:
                await conn.exec_driver_sql("SELECT 1")
        except BaseException:
            await self.close()
            raise

    async def close(self) -> None:
        for engine in (self._reader, self._writer):
            if engine is not None:
                await engine.dispose()
        self._reader = self._writer = None

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        if self._writer is None:
            raise RuntimeError("database is not open")
        async with self._writer.begin() as conn:
            yield conn

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncConnection]:
        if self._reader is None:
            raise RuntimeError("database is not open")
        async with self._reader.connect() as conn:
            yield conn

    async def lock(self, conn: AsyncConnection, key: str) -> None:
        await conn.execute(_ADVISORY_LOCK, {"key": key})

    async def run_script(self, conn: AsyncConnection, sql: str) -> None:
        # The whole script in one simple-protocol call (function bodies in $$ stay whole),
        # on the transaction the connection has open: the caller has run a statement in it.
        raw = await conn.get_raw_connection()
        driver = raw.driver_connection
        assert driver is not None
        await driver.execute(sql)

    async def begin_snapshot(self, conn: AsyncConnection) -> None:
        await conn.exec_driver_sql("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")

    async def batches(
        self, conn: Any, table: str, columns: list[str], size: int
    ) -> AsyncIterator[list[Any]]:
        # In the snapshot's transaction: a cursor over the table in its physical order.
        result = await conn.conn.stream(text(f"SELECT {', '.join(columns)} FROM {table}"))
        async for partition in result.mappings().partitions(size):
            yield list(partition)

    async def reset_identity(self, conn: AsyncConnection, table: str) -> None:
        result = await conn.execute(
            text(
                "SELECT column_name FROM information_schema.columns"
                " WHERE table_schema = current_schema() AND table_name = :table"
                " AND is_identity = 'YES'"
            ),
            {"table": table},
        )
        for (column,) in result.all():
            await conn.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence(:table, :column),"
                    f" COALESCE((SELECT MAX({column}) FROM {table}), 0) + 1, false)"
                ),
                {"table": table, "column": column},
            )

    def group_concat(self, expression: str, separator: str, order_by: str) -> str:
        return f"string_agg({expression}, {separator} ORDER BY {order_by})"

    def backup(self, target: Path) -> None:
        """Hand the backup over to pg_dump: one consistent snapshot of the database in its
        custom format (restore with pg_restore) at `target`. Raises BackupError when
        pg_dump is missing or fails."""
        program = shutil.which("pg_dump")
        if program is None:
            raise BackupError(
                "pg_dump is not installed: install PostgreSQL's client programs (Debian: "
                "apt-get install postgresql-client), of the server's major version or newer"
            )
        env = {**os.environ}
        if self.url.password:
            env["PGPASSWORD"] = str(self.url.password)
        # libpq's form of the URL, without the password (it would show in `ps`).
        dsn = self.url.set(drivername="postgresql", password=None).render_as_string()
        result = subprocess.run(  # noqa: S603 - pg_dump with arguments we built
            [program, "--format=custom", f"--file={target}", f"--dbname={dsn}"],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            reason = (result.stderr.strip().splitlines() or ["no message"])[-1]
            raise BackupError(f"pg_dump failed: {reason}")

    def unindexed(self, column: str) -> str:
        return column

    def text_search(self, text: str, param: str) -> tuple[str, dict[str, Any]]:
        # pg_trgm's GIN indexes (migration 0006) answer ILIKE '%…%'; shorter patterns
        # have no trigram and PostgreSQL scans, which is still right.
        return (
            f"(r.description ILIKE :{param} OR r.address ILIKE :{param})",
            {param: like_pattern(text)},
        )
