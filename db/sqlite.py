"""SQLite's side of `db.dialect`: one file in WAL mode, one writer per process (an aiosqlite
connection for `transaction()` blocks and a plain one on a thread of its own for whole
transactions), a few read-only connections, and point lookups answered on the event loop's
thread."""

from __future__ import annotations

import asyncio
import contextvars
import sqlite3
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, closing
from pathlib import Path
from types import MappingProxyType
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from db.dialect import NOT_NOW, TRIGRAM_MIN_CHARS, Dialect, like_pattern

BUSY_TIMEOUT_MS = 10_000
BACKUP_BUSY_TIMEOUT_MS = 30_000
# Point lookups remembered until the next commit (`SQLite.lookup_now`).
LOOKUPS_KEPT = 4096


class SQLite(Dialect):
    """One file in WAL mode: one writer per process behind an asyncio lock, each
    transaction `BEGIN IMMEDIATE` (a deferred transaction that later writes fails at once
    with "database is locked" whatever the busy timeout; IMMEDIATE waits for the other
    process instead), and a few read-only connections that never wait on the writer (WAL
    lets them read the last committed state while a write is in progress).

    The writer has two connections, both used only behind that lock: an aiosqlite one for
    `transaction()` blocks, each statement a trip between the event loop and its thread,
    and a plain one on a thread of its own for `run_transaction`, which runs a whole
    transaction there in one trip. Reads the busy public paths make by a key are answered
    on the event loop's thread (`lookup_now`)."""

    name = "sqlite"
    suffix = "sqlite"

    def __init__(self, url: URL, readers: int = 3) -> None:
        super().__init__(url)
        if not url.database:
            raise ValueError("a SQLite URL needs a file path")
        self.path = Path(url.database)
        self._readers = readers
        self._write_lock = asyncio.Lock()
        self._writer: AsyncEngine | None = None
        # `run_transaction`'s writer: a plain connection on a thread of its own.
        self._thread_writer: Engine | None = None
        self._writer_thread: ThreadPoolExecutor | None = None
        self._reader: AsyncEngine | None = None
        self._lookups: sqlite3.Connection | None = None
        self._lookup_version: int | None = None
        # A row (or None), or with `every_row` a tuple of rows, by (sql, every_row, params).
        self._looked_up: dict[tuple[Any, ...], Any] = {}

    def _engine(self, *, readonly: bool, size: int) -> AsyncEngine:
        engine = create_async_engine(
            self.url.set(drivername="sqlite+aiosqlite"),
            pool_size=size,
            max_overflow=0,
            # A pooled connection is never stale: the file stays where it is.
            pool_pre_ping=False,
        )

        _configure(engine.sync_engine, readonly=readonly)
        return engine

    async def open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._writer = self._engine(readonly=False, size=1)
        self._reader = self._engine(readonly=True, size=self._readers)
        self._thread_writer = create_engine(
            self.url.set(drivername="sqlite+pysqlite"),
            pool_size=1,
            max_overflow=0,
            pool_pre_ping=False,
            # Only the writer thread uses it (SQLite need not check that).
            connect_args={"check_same_thread": False},
        )
        _configure(self._thread_writer, readonly=False)
        self._writer_thread = ThreadPoolExecutor(1, thread_name_prefix="aduan-sqlite-writer")
        try:
            # The writer first: it creates the file and switches it to WAL.
            async with self._writer.connect() as conn:
                await conn.exec_driver_sql("SELECT 1")
            async with self._reader.connect() as conn:
                await conn.exec_driver_sql("SELECT 1")
            await asyncio.get_running_loop().run_in_executor(
                self._writer_thread, _connect_once, self._thread_writer
            )
            self._lookups = _lookup_connection(self.path)
        except BaseException:
            await self.close()
            raise

    async def close(self) -> None:
        if self._lookups is not None:
            self._lookups.close()
            self._lookups = None
        self._lookup_version = None
        self._looked_up.clear()
        for engine in (self._reader, self._writer):
            if engine is not None:
                await engine.dispose()
        self._reader = self._writer = None
        if self._writer_thread is not None:
            if self._thread_writer is not None:
                await asyncio.get_running_loop().run_in_executor(
                    self._writer_thread, self._thread_writer.dispose
                )
            self._writer_thread.shutdown()
        self._thread_writer = self._writer_thread = None

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        if self._writer is None:
            raise RuntimeError("database is not open")
        _refuse_on_writer_thread()
        async with self._write_lock, self._writer.begin() as conn:
            yield conn

    async def run_transaction(self, start: Callable[[Any, bool], Awaitable[Any]]) -> Any:
        # The whole transaction in one trip to the writer thread, behind the same lock as
        # `transaction()`. A caller cancelled meanwhile (a client gone) lets the lock go
        # while the thread finishes and commits; the next `transaction()` then waits in
        # BEGIN IMMEDIATE (busy timeout) as for another process's writer, and the next
        # `run_transaction` behind it on the one thread. The function sees the caller's
        # context variables (the request's language), as `asyncio.to_thread` would give.
        if self._writer_thread is None or self._thread_writer is None:
            raise RuntimeError("database is not open")
        context = contextvars.copy_context()
        async with self._write_lock:
            done = asyncio.get_running_loop().run_in_executor(
                self._writer_thread, context.run, _run_whole, self._thread_writer, start
            )
            return await asyncio.shield(done)

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncConnection]:
        if self._reader is None:
            raise RuntimeError("database is not open")
        _refuse_on_writer_thread()
        async with self._reader.connect() as conn:
            yield conn

    def lookup_now(self, sql: str, params: dict[str, Any], *, every_row: bool = False) -> Any:
        # A point query takes microseconds, while a trip to a reader thread waits for the
        # GIL (up to the 5 ms switch interval when the event loop is busy): with 50 requests
        # at once, a cached tracking page took the app ~150 µs this way and ~760 µs through
        # the reader threads (issue 13).
        # In WAL mode a reader does not wait for the writer; this connection has no busy
        # timeout, so it never sleeps on the event loop: when SQLite is momentarily busy
        # (a checkpoint resetting the WAL) the reader threads answer instead.
        # Answers are remembered until the database changes: `PRAGMA data_version` of this
        # connection (which never writes) changes with every commit of any other connection,
        # in this process or another — SQLite's own signal, a third of a query's cost. The
        # answer kept was read after the version it is kept under, and is dropped at the
        # first commit after that version was read, so it is never older than a fresh read.
        # Only the event loop's thread uses this connection and what it kept.
        _refuse_on_writer_thread()
        if self._lookups is None:
            return NOT_NOW
        try:
            version = self._lookups.execute("PRAGMA data_version").fetchone()[0]
            if version != self._lookup_version:
                self._lookup_version = version
                self._looked_up.clear()
            key = (sql, every_row, *sorted(params.items()))
            if key in self._looked_up:
                return self._looked_up[key]
            cursor = self._lookups.execute(sql, params)
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                return NOT_NOW
            raise
        try:
            # Each statement is its own read transaction, ended when its cursor closes: no
            # snapshot is held between lookups.
            rows = cursor.fetchall() if every_row else [cursor.fetchone()]
            names = [column[0] for column in cursor.description]
        finally:
            cursor.close()
        # Read-only, as PostgreSQL's rows are: one kept answer serves every caller.
        mappings = tuple(
            None if row is None else MappingProxyType(dict(zip(names, row, strict=True)))
            for row in rows
        )
        found = mappings if every_row else mappings[0]
        if len(self._looked_up) >= LOOKUPS_KEPT:
            self._looked_up.clear()
        self._looked_up[key] = found
        return found

    async def lock(self, conn: AsyncConnection, key: str) -> None:
        # Every write transaction already holds the database's one write lock.
        return None

    async def run_script(self, conn: AsyncConnection, sql: str) -> None:
        # Statement by statement: the driver's executescript would commit first.
        for statement in split_sqlite_statements(sql):
            await conn.exec_driver_sql(statement)

    async def scrub(self) -> None:
        # The WAL keeps the pages as they were before an erasure until a checkpoint copies
        # them back and TRUNCATE empties the file; secure_delete (set on every connection)
        # has already zeroed the freed space in the database file's pages.
        def checkpoint() -> None:
            with closing(sqlite3.connect(self.path, isolation_level=None)) as conn:
                conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()

        async with self._write_lock:
            await asyncio.to_thread(checkpoint)

    async def begin_snapshot(self, conn: AsyncConnection) -> None:
        # The reader runs without implicit transactions: a deferred one holds the WAL
        # snapshot of its first read until it ends, while a server goes on writing.
        await conn.exec_driver_sql("BEGIN")

    async def batches(
        self, conn: Any, table: str, columns: list[str], size: int
    ) -> AsyncIterator[list[Any]]:
        last = 0
        selected = ", ".join(columns)
        while True:
            rows = await conn.fetchall(
                f"SELECT rowid AS _rowid_, {selected} FROM {table}"
                " WHERE rowid > :last ORDER BY rowid LIMIT :size",
                {"last": last, "size": size},
            )
            if not rows:
                return
            last = rows[-1]["_rowid_"]
            yield [{c: r[c] for c in columns} for r in rows]

    async def reset_identity(self, conn: AsyncConnection, table: str) -> None:
        # A rowid table's next id is always past its largest.
        return None

    def group_concat(self, expression: str, separator: str, order_by: str) -> str:
        return f"group_concat({expression}, {separator})"

    def unindexed(self, column: str) -> str:
        return f"+{column}"

    def text_search(self, text: str, param: str) -> tuple[str, dict[str, Any]]:
        if len(text) >= TRIGRAM_MIN_CHARS:
            # An FTS5 phrase: the trigram tokenizer makes it a case-insensitive substring
            # match over both indexed columns (migration 0006).
            phrase = '"' + text.replace('"', '""') + '"'
            return (
                f"r.id IN (SELECT rowid FROM reports_fts WHERE reports_fts MATCH :{param})",
                {param: phrase},
            )
        return (
            f"(r.description LIKE :{param} ESCAPE '\\' OR r.address LIKE :{param} ESCAPE '\\')",
            {param: like_pattern(text)},
        )

    def describe(self) -> str:
        return str(self.path)

    def backup(self, target: Path) -> str:
        """Copy the database into a new file `target` with SQLite's online backup API,
        consistent while a server writes; returns the copy's integrity check ("ok" when
        sound). Synchronous: it runs from the console, not inside the server."""
        src = sqlite3.connect(self.path, timeout=BACKUP_BUSY_TIMEOUT_MS / 1000)
        dest = sqlite3.connect(target)
        try:
            src.execute(f"PRAGMA busy_timeout = {BACKUP_BUSY_TIMEOUT_MS}")
            # One step, inside one read transaction: copying in slices lets any write by
            # another connection restart the copy, and a busy server's copy would never
            # finish. WAL lets the server keep writing meanwhile; the copy is the state
            # when the step began.
            src.backup(dest, pages=-1)
            return str(dest.execute("PRAGMA integrity_check").fetchone()[0])
        finally:
            dest.close()
            src.close()


def _configure(engine: Engine, *, readonly: bool) -> None:
    """Set up every connection `engine` makes: the writer's (`BEGIN IMMEDIATE`, WAL) or a
    reader's (query-only)."""

    @event.listens_for(engine, "connect")
    def configure(dbapi_connection: Any, _record: Any) -> None:
        # Transactions are ours: the driver must not open one by itself before a write.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        pragmas = [
            f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}",
            "PRAGMA foreign_keys = ON",
            # FULL: a report whose tracking code was shown survives a power cut.
            "PRAGMA synchronous = FULL",
            # Erased personal data (UU PDP) is overwritten with zeros, not left in
            # free pages of the file.
            "PRAGMA secure_delete = ON",
            "PRAGMA query_only = ON" if readonly else "PRAGMA journal_mode = WAL",
        ]
        try:
            for pragma in pragmas:
                cursor.execute(pragma)
                cursor.fetchall()
        finally:
            cursor.close()

    if not readonly:

        @event.listens_for(engine, "begin")
        def begin(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")


class _ThreadFlag(threading.local):
    active = False


# Set while the writer thread runs a transaction (`_run_whole`).
_on_writer_thread = _ThreadFlag()


def _refuse_on_writer_thread() -> None:
    """A transaction run on the writer thread may only use its own connection."""
    if _on_writer_thread.active:
        raise RuntimeError(_AWAITED_ELSEWHERE)


_AWAITED_ELSEWHERE = (
    "a transaction on the writer thread awaited something other than its connection"
)


def _connect_once(engine: Engine) -> None:
    with engine.connect() as conn:
        conn.exec_driver_sql("SELECT 1")


def _run_whole(engine: Engine, start: Callable[[Any, bool], Awaitable[Any]]) -> Any:
    """On the writer thread: one transaction around `start`'s coroutine, run to its end in
    one go (its statements never suspend it)."""
    _on_writer_thread.active = True
    try:
        with engine.begin() as conn:
            return _run_at_once(start(conn, True))
    finally:
        _on_writer_thread.active = False


def _run_at_once(awaitable: Awaitable[Any]) -> Any:
    """The result of a coroutine that never suspends; RuntimeError if it tries."""
    coroutine = awaitable.__await__()
    try:
        coroutine.send(None)
    except StopIteration as finished:
        return finished.value
    coroutine.close()
    raise RuntimeError(_AWAITED_ELSEWHERE)


def _lookup_connection(path: Path) -> sqlite3.Connection:
    """A read-only connection for `SQLite.lookup_now`, used on the event loop's thread."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        for pragma in ("PRAGMA busy_timeout = 0", "PRAGMA query_only = ON"):
            conn.execute(pragma).close()
    except BaseException:
        conn.close()
        raise
    return conn


def split_sqlite_statements(sql: str) -> list[str]:
    """Split a script into statements (trigger bodies stay whole)."""
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
