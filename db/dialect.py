"""What differs between SQLite and PostgreSQL: the `Dialect` each backend fills in.

Queries elsewhere in db/ are written once, as dialect-neutral SQL with named parameters
(`:name`), and ask the connection's `Dialect` for the few pieces that cannot be written the
same way on both:

- how connections are made and how a write transaction is taken: SQLite has one writer per
  process behind a lock, each transaction a `BEGIN IMMEDIATE`, so every writer of every
  process waits its turn; PostgreSQL runs transactions side by side at READ COMMITTED, so
  a read that decides a change takes a row lock (`for_update`) and a check-then-insert
  takes an advisory lock on its key (`lock`);
- the staff text search (SQLite FTS5 with the trigram tokenizer, PostgreSQL pg_trgm);
- string aggregation (`group_concat` / `string_agg`) and keeping the planner off an index;
- how a migration script runs and which migration file applies (`suffix`);
- what a backup is (SQLite's online backup API; for PostgreSQL, pg_dump).

Each backend is a module of its own, db/sqlite.py and db/postgresql.py; `for_target` picks
one.

What is the same on both stays out of here: upserts are `INSERT … ON CONFLICT … DO
NOTHING/DO UPDATE` and new ids come from `RETURNING id` (SQLite ≥ 3.35 speaks both), flags
are INTEGER 0/1 and moments are fixed-width UTC text (db/timestamps.py) on both, so that
comparisons and ordering behave identically.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncConnection


class BackupError(Exception):
    """A backup could not be made; the message is for the operator."""


# `Dialect.lookup_now` could not answer on the calling thread.
NOT_NOW: Any = object()

# Below this many characters a text search cannot use a trigram index (FTS5's trigram
# tokenizer matches nothing shorter; pg_trgm's index returns every row) and scans instead.
TRIGRAM_MIN_CHARS = 3


class Dialect(ABC):
    """One database backend: its engines, its transactions and its SQL differences."""

    name: str
    # The migration file variant this backend runs (`0001_initial.sqlite.sql`); a file
    # without a variant (`0002_indexes.sql`) runs on both.
    suffix: str
    # Appended to a SELECT whose rows the transaction is about to change.
    for_update: str = ""

    def __init__(self, url: URL) -> None:
        self.url = url

    # --- connections and transactions ---------------------------------------------------

    @abstractmethod
    async def open(self) -> None:
        """Create the engines and connect once, so that a bad database fails now."""

    @abstractmethod
    async def close(self) -> None:
        """Close every pooled connection."""

    @abstractmethod
    def transaction(self) -> Any:
        """An async context manager: one write transaction on an AsyncConnection,
        committed on success and rolled back on any error."""

    async def run_transaction(self, start: Callable[[Any, bool], Awaitable[Any]]) -> Any:
        """One write transaction around `start(conn, on_thread)`'s coroutine, its result
        (db.database's `transact`). Here, as `transaction()` runs a block: `on_thread`
        False, `conn` an AsyncConnection."""
        async with self.transaction() as conn:
            return await start(conn, False)

    @abstractmethod
    def reading(self) -> Any:
        """An async context manager: an AsyncConnection for reads of committed data."""

    def lookup_now(self, sql: str, params: dict[str, Any], *, every_row: bool = False) -> Any:
        """The first row (a dict, or None) of a point query answered on the calling thread
        (with `every_row`, a tuple of every row), or NOT_NOW when this backend cannot (the
        caller then reads as usual)."""
        return NOT_NOW

    @abstractmethod
    async def lock(self, conn: AsyncConnection, key: str) -> None:
        """Serialise, until the transaction ends, every writer that locks the same key
        (a check-then-insert that two servers must not interleave)."""

    @abstractmethod
    async def run_script(self, conn: AsyncConnection, sql: str) -> None:
        """Run a migration script inside the caller's transaction."""

    async def scrub(self) -> None:
        """Make erased data leave the files now (after personal data was erased): SQLite
        copies the WAL back into the database and empties it; PostgreSQL's old row
        versions go at its next vacuum (README: personal data)."""
        return None

    # --- copying a database (db/transfer.py) ---------------------------------------------

    @abstractmethod
    async def begin_snapshot(self, conn: AsyncConnection) -> None:
        """Make the following reads on a read connection see one consistent state."""

    async def end_snapshot(self, conn: AsyncConnection) -> None:
        """End what `begin_snapshot` began (it only read: nothing to keep)."""
        await conn.exec_driver_sql("ROLLBACK")

    @abstractmethod
    def batches(
        self, conn: Any, table: str, columns: list[str], size: int
    ) -> AsyncIterator[list[Any]]:
        """Every row of a table (the named columns), `size` rows at a time, in a stable
        order (`conn` is a db.database.Connection)."""

    @abstractmethod
    async def reset_identity(self, conn: AsyncConnection, table: str) -> None:
        """Move a table's id generator past the ids copied into it."""

    # --- SQL pieces ----------------------------------------------------------------------

    @abstractmethod
    def group_concat(self, expression: str, separator: str, order_by: str) -> str:
        """An aggregate joining `expression` with `separator` (a SQL string literal) in
        `order_by` order (rows must arrive in that order on SQLite: order a subquery)."""

    @abstractmethod
    def unindexed(self, column: str) -> str:
        """`column` in a form the planner will not drive a query by (SQLite's unary +)."""

    @abstractmethod
    def text_search(self, text: str, param: str) -> tuple[str, dict[str, Any]]:
        """A condition on alias `r` for reports whose description or address contains
        `text` (case-insensitive substring), and its parameters named after `param`."""

    # --- presentation --------------------------------------------------------------------

    def describe(self) -> str:
        """The database for messages: never the password."""
        return self.url.render_as_string(hide_password=True)


def like_pattern(text: str) -> str:
    """`%text%` with LIKE's wildcards in `text` escaped by backslash."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


# --- choosing one ---------------------------------------------------------------------------

_URL = re.compile(r"^[a-z][a-z0-9+]*://")


def sqlite_url(path: Path | str) -> str:
    """The URL of a SQLite file."""
    return f"sqlite:///{Path(path).resolve()}"


def for_target(target: str | Path, *, readers: int = 3) -> Dialect:
    """The backend for a SQLite file path, a `sqlite:///…` URL or a `postgresql://…` URL."""
    from db.sqlite import SQLite

    if isinstance(target, Path) or not _URL.match(str(target)):
        return SQLite(make_url(sqlite_url(target)), readers=readers)
    url = make_url(str(target))
    backend = url.get_backend_name()
    if backend == "sqlite":
        return SQLite(url, readers=readers)
    if backend in ("postgresql", "postgres"):
        from db.postgresql import PostgreSQL

        return PostgreSQL(url.set(drivername="postgresql"))
    raise ValueError(
        f"unsupported database URL {url.render_as_string(hide_password=True)!r}: "
        "expected postgresql://user:password@host:port/dbname"
    )
