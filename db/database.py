"""SQLite behind an async facade: one writer, several readers, all pragmas in one place.

Every write goes through `Database.write()`, which holds one lock around a `BEGIN IMMEDIATE`
transaction on the single writer connection. A deferred transaction that later writes fails
at once with "database is locked" regardless of the busy timeout, and a shared connection
used by concurrent requests would interleave their statements; the lock plus IMMEDIATE rules
out both. Reads use a small pool of separate connections, so they never wait on a writer
(WAL lets readers see the last committed state while a write is in progress).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite

BUSY_TIMEOUT_MS = 10_000
BACKUP_BUSY_TIMEOUT_MS = 30_000


async def _configure(conn: aiosqlite.Connection, *, readonly: bool) -> None:
    """Apply the pragmas every connection needs. The one place they are set."""
    conn.row_factory = sqlite3.Row
    pragmas = [
        f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}",
        "PRAGMA foreign_keys = ON",
        # FULL: a report whose tracking code was shown to the resident survives a power cut.
        "PRAGMA synchronous = FULL",
    ]
    pragmas.append("PRAGMA query_only = ON" if readonly else "PRAGMA journal_mode = WAL")
    for pragma in pragmas:
        # Close each cursor: a pragma's unread result row would keep a statement open.
        async with conn.execute(pragma) as cur:
            await cur.fetchall()


async def connect(path: Path, *, readonly: bool = False) -> aiosqlite.Connection:
    """Open one configured connection in autocommit mode (transactions are explicit)."""
    conn = await aiosqlite.connect(path, isolation_level=None)
    try:
        await _configure(conn, readonly=readonly)
    except BaseException:
        # Each connection runs a (non-daemon) thread: left open, it keeps the process alive.
        await conn.close()
        raise
    return conn


class Database:
    """The application's database: `write()` for transactions, `fetchone/fetchall` for reads."""

    def __init__(self, path: Path, readers: int = 3) -> None:
        self.path = Path(path)
        self._reader_count = readers
        self._writer: aiosqlite.Connection | None = None
        self._write_lock = asyncio.Lock()
        self._readers: asyncio.Queue[aiosqlite.Connection] = asyncio.Queue()
        self._all_readers: list[aiosqlite.Connection] = []

    async def open(self) -> None:
        """Open the writer (which creates the file and switches to WAL) and the readers.

        On failure (a corrupt file, a read-only folder) it closes what it opened before
        raising: a connection left open would keep the process from exiting.
        """
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._writer = await connect(self.path)
            for _ in range(self._reader_count):
                conn = await connect(self.path, readonly=True)
                self._all_readers.append(conn)
                self._readers.put_nowait(conn)
        except BaseException:
            await self.close()
            raise

    async def migrate(self) -> list[int]:
        """Apply pending schema migrations (see db/migrations.py)."""
        from db.migrations import apply_migrations

        async with self._write_lock:
            return await apply_migrations(self.writer)

    async def close(self) -> None:
        for conn in self._all_readers:
            await conn.close()
        self._all_readers.clear()
        if self._writer is not None:
            await self._writer.close()
            self._writer = None

    async def __aenter__(self) -> Database:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @asynccontextmanager
    async def write(self) -> AsyncIterator[aiosqlite.Connection]:
        """One write transaction: `BEGIN IMMEDIATE` … `COMMIT`, rolled back on any error.

        Only one transaction runs at a time; callers wait on the lock, not on SQLite.
        """
        if self._writer is None:
            raise RuntimeError("database is not open")
        async with self._write_lock:
            await self._writer.execute("BEGIN IMMEDIATE")
            try:
                yield self._writer
            except BaseException:
                await self._writer.execute("ROLLBACK")
                raise
            else:
                await self._writer.execute("COMMIT")

    @asynccontextmanager
    async def read(self) -> AsyncIterator[aiosqlite.Connection]:
        """Borrow a read-only connection for several queries (each sees committed data)."""
        conn = await self._readers.get()
        try:
            yield conn
        finally:
            self._readers.put_nowait(conn)

    async def fetchone(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> Any:
        async with self.read() as conn:
            async with conn.execute(sql, params) as cur:
                return await cur.fetchone()

    async def fetchall(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[Any]:
        async with self.read() as conn:
            async with conn.execute(sql, params) as cur:
                return list(await cur.fetchall())

    @property
    def writer(self) -> aiosqlite.Connection:
        """The raw writer connection, for maintenance that is not a transaction (backup)."""
        if self._writer is None:
            raise RuntimeError("database is not open")
        return self._writer


def backup(source: Path, target: Path) -> str:
    """Copy the database at `source` into a new file `target` with SQLite's online backup
    API, consistent while a server writes; returns the copy's integrity check ("ok" when
    sound). Synchronous: it runs from the console, not inside the server.
    """
    src = sqlite3.connect(source, timeout=BACKUP_BUSY_TIMEOUT_MS / 1000)
    dest = sqlite3.connect(target)
    try:
        src.execute(f"PRAGMA busy_timeout = {BACKUP_BUSY_TIMEOUT_MS}")
        # One step, inside one read transaction: copying in slices lets any write by another
        # connection restart the copy, and a busy server's copy would never finish. WAL lets
        # the server keep writing meanwhile; the copy is the state when the step began.
        src.backup(dest, pages=-1)
        return str(dest.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        dest.close()
        src.close()
