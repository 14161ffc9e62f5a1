"""The two database backends the tests run on, and a backend-neutral way to look inside.

- SQLite: a file in the test's data directory (copied from a template with Jakarta's
  reference data).
- PostgreSQL 15 from Debian's package: one throwaway cluster per test session, in a
  temporary directory on a free port, started as the `postgres` system user when the
  tests run as root (PostgreSQL refuses root), with `fsync=off` (a crash loses nothing
  that matters to a test). A template database holds Jakarta's reference data; each test
  gets its own clone (`CREATE DATABASE … TEMPLATE …`), owned by the unprivileged role the
  app connects as, and dropped afterwards.

`ADUAN_TEST_BACKENDS` picks the backends (default `sqlite,postgresql`). Without the
PostgreSQL binaries the PostgreSQL half is skipped, except under CI, where it fails.

Everything async here runs on one background event loop thread (`run`), so that fixtures
and helpers work in plain tests, in tests that run their own loop, and in browser tests,
where Playwright's loop owns the main thread.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import threading
from collections.abc import Coroutine, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import inspect

from db.database import Database

T = TypeVar("T")

BACKENDS = ("sqlite", "postgresql")
APP_ROLE = "aduan"
APP_PASSWORD = "aduan-test"
# Test databases made ahead of the tests that will use them.
CLONES_AHEAD = 2
PG_BIN_CANDIDATES = ("/usr/lib/postgresql/15/bin", "/usr/lib/postgresql/16/bin")


def selected_backends() -> list[str]:
    """The backends this run tests, from ADUAN_TEST_BACKENDS (default: both)."""
    wanted = [
        b.strip()
        for b in os.environ.get("ADUAN_TEST_BACKENDS", ",".join(BACKENDS)).split(",")
        if b.strip()
    ]
    unknown = set(wanted) - set(BACKENDS)
    if unknown:
        raise ValueError(f"ADUAN_TEST_BACKENDS: unknown backends {sorted(unknown)}")
    return wanted


# --- one event loop for everything the fixtures do asynchronously ---------------------------


class _LoopThread:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 300) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)


_loop: _LoopThread | None = None
_loop_lock = threading.Lock()


def run(coro: Coroutine[Any, Any, T], timeout: float = 300) -> T:
    """Run a coroutine to its end on the tests' background loop, from any thread."""
    global _loop
    with _loop_lock:
        if _loop is None:
            _loop = _LoopThread()
    return _loop.run(coro, timeout)


# --- reading and changing a test's database directly ----------------------------------------

Params = Mapping[str, Any] | Sequence[Any] | None


class Record:
    """A row as sqlite3.Row has it: by column name (`row["code"]`) or position (`row[0]`),
    iterating over its values (`(n,) = row`), with `keys()` (so `dict(row)` works)."""

    def __init__(self, values: Mapping[str, Any]) -> None:
        self._values = dict(values)

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, int | slice):
            return tuple(self._values.values())[key]
        return self._values[key]

    def __iter__(self) -> Iterator[Any]:
        return iter(tuple(self._values.values()))

    def __len__(self) -> int:
        return len(self._values)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Record):
            return self._values == other._values
        if isinstance(other, tuple):
            return self.astuple() == other
        if isinstance(other, dict):
            return self._values == other
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.astuple())

    def __repr__(self) -> str:
        return f"Record({self._values!r})"

    def keys(self) -> Any:
        return self._values.keys()

    def get(self, key: str, default: Any = None) -> Any:
        return self._values.get(key, default)

    def astuple(self) -> tuple[Any, ...]:
        return tuple(self._values.values())


def _named(sql: str, params: Params) -> tuple[str, dict[str, Any] | None]:
    """Tests may write `?` placeholders with a tuple, as sqlite3 does: turned into `:p0`…"""
    if params is None or isinstance(params, Mapping):
        return sql, dict(params) if params is not None else None
    values = list(params)
    parts = sql.split("?")
    if len(parts) - 1 != len(values):
        raise ValueError(f"{len(parts) - 1} placeholders, {len(values)} values: {sql}")
    named = parts[0] + "".join(f":p{i}{part}" for i, part in enumerate(parts[1:]))
    return named, {f"p{i}": value for i, value in enumerate(values)}


async def _query(target: str | Path, sql: str, params: Mapping[str, Any] | None) -> list[Record]:
    async with Database(target, readers=1) as db:
        return [Record(r) for r in await db.fetchall(sql, params)]


async def _execute(target: str | Path, sql: str, params: Mapping[str, Any] | None) -> int:
    async with Database(target, readers=1) as db, db.write() as conn:
        return await conn.execute(sql, params)


def query(target: Any, sql: str, params: Params = None) -> list[Record]:
    """Rows of a read on a test's database, as an operator would look.

    `target` is Settings (its database), a SQLite path or a database URL.
    """
    return run(_query(getattr(target, "database", target), *_named(sql, params)))


def scalar(target: Any, sql: str, params: Params = None) -> Any:
    """The first column of the first row of a read (None when there is no row)."""
    rows = query(target, sql, params)
    return rows[0][0] if rows else None


def execute(target: Any, sql: str, params: Params = None) -> int:
    """Run one statement in its own write transaction; returns the rows it changed."""
    return run(_execute(getattr(target, "database", target), *_named(sql, params)))


async def _dump(target: str | Path) -> str:
    async with Database(target, readers=1) as db, db.read() as conn:
        names = await conn.conn.run_sync(lambda c: inspect(c).get_table_names())
        parts = []
        for name in sorted(names):
            rows = await conn.fetchall(f"SELECT * FROM {name}")
            parts.append(f"{name}: {[dict(r) for r in rows]!r}")
        return "\n".join(parts)


def dump(target: Any) -> str:
    """Every row of every table as text: to check that something is stored nowhere."""
    return run(_dump(getattr(target, "database", target)))


async def _refuse(target: str | Path, names: list[tuple[str, str, str]], message: str) -> None:
    async with Database(target, readers=1) as db, db.write() as conn:
        if not db.is_sqlite:
            await conn.execute(
                "CREATE OR REPLACE FUNCTION refuse_for_test() RETURNS trigger LANGUAGE plpgsql"
                " AS $$ BEGIN RAISE EXCEPTION '%', TG_ARGV[0]; END $$"
            )
        for name, table, op in names:
            if db.is_sqlite:
                await conn.execute(
                    f"CREATE TRIGGER {name} BEFORE {op} ON {table}"
                    f" BEGIN SELECT RAISE(ABORT, '{message}'); END"
                )
            else:
                await conn.execute(
                    f"CREATE TRIGGER {name} BEFORE {op} ON {table}"
                    f" FOR EACH ROW EXECUTE FUNCTION refuse_for_test('{message}')"
                )


async def _allow(target: str | Path, names: list[tuple[str, str, str]]) -> None:
    async with Database(target, readers=1) as db, db.write() as conn:
        for name, table, _op in names:
            await conn.execute(f"DROP TRIGGER {name}" + ("" if db.is_sqlite else f" ON {table}"))


@contextmanager
def refusing_writes(
    target: Any, tables: Sequence[str], ops: Sequence[str], message: str
) -> Iterator[None]:
    """While inside, every `ops` (INSERT, UPDATE, DELETE) on `tables` fails with `message`,
    as a full disk or a bug would (a trigger on either backend)."""
    database = getattr(target, "database", target)
    names = [(f"refuse_{t}_{op.lower()}", t, op) for t in tables for op in ops]
    run(_refuse(database, names, message))
    try:
        yield
    finally:
        run(_allow(database, names))


def set_operator_environment(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The environment an operator runs `aduan` in, on the test's data and database."""
    monkeypatch.setenv("ADUAN_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("ADUAN_SECRET_KEY", settings.secret_key)
    if settings.database_url:
        monkeypatch.setenv("ADUAN_DATABASE_URL", settings.database_url)
    else:
        monkeypatch.delenv("ADUAN_DATABASE_URL", raising=False)
    store = settings.photo_store
    if store is None:
        monkeypatch.delenv("ADUAN_PHOTO_STORE", raising=False)
        return
    monkeypatch.setenv("ADUAN_PHOTO_STORE", store.url)
    monkeypatch.setenv("ADUAN_S3_ENDPOINT_URL", store.endpoint_url)
    monkeypatch.setenv("AWS_REGION", store.region)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", store.access_key_id)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", store.secret_access_key)


# --- PostgreSQL -------------------------------------------------------------------------------


def _pg_bin() -> Path | None:
    configured = os.environ.get("ADUAN_TEST_PG_BIN")
    candidates = [configured] if configured else list(PG_BIN_CANDIDATES)
    for folder in candidates:
        if folder and (Path(folder) / "initdb").exists():
            return Path(folder)
    found = shutil.which("pg_ctl")
    return Path(found).resolve().parent if found else None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Cluster:
    """A throwaway PostgreSQL cluster (see the module docstring)."""

    def __init__(self, bin_dir: Path) -> None:
        self.bin_dir = bin_dir
        self.root = Path(tempfile.mkdtemp(prefix="aduan-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self._as_postgres = os.geteuid() == 0
        self._names = itertools.count(1)
        self._admin: Any = None
        self._spare: asyncio.Queue[Any] | None = None
        self._cloner: asyncio.Task[None] | None = None
        self._drops: asyncio.Queue[str] | None = None
        self._dropper: asyncio.Task[None] | None = None

    def _run(self, *args: str) -> None:
        command = [str(self.bin_dir / args[0]), *args[1:]]
        if self._as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def start(self) -> None:
        if self._as_postgres:
            entry = pwd.getpwnam("postgres")
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
        )
        options = " ".join(
            [
                f"-p {self.port}",
                f"-k {self.root}",
                "-c listen_addresses=127.0.0.1",
                "-c fsync=off",
                "-c synchronous_commit=off",
                "-c full_page_writes=off",
                "-c max_connections=300",
                "-c shared_buffers=64MB",
                "-c wal_level=minimal",
                "-c max_wal_senders=0",
                "-c max_wal_size=4GB",
                "-c checkpoint_timeout=1h",
                "-c autovacuum=off",
            ]
        )
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.root / "log"),
            "-w",
            "start",
        )
        run(self._connect_admin())
        self.admin(f"CREATE ROLE {APP_ROLE} LOGIN PASSWORD '{APP_PASSWORD}'")

    async def _connect_admin(self) -> None:
        import asyncpg

        self._admin = await asyncpg.connect(
            host="127.0.0.1", port=self.port, user="postgres", database="postgres"
        )

    def admin(self, sql: str) -> None:
        """Run one statement as the superuser (creating and dropping databases)."""
        run(self._admin.execute(sql))

    def url(self, database: str) -> str:
        """What the app is given: the unprivileged role that owns `database`."""
        return f"postgresql://{APP_ROLE}:{APP_PASSWORD}@127.0.0.1:{self.port}/{database}"

    def create_database(self, template: str = "template0") -> str:
        """A new database owned by the app's role, a copy of `template`; its name."""
        name = f"test_{next(self._names)}"
        self.admin(f"CREATE DATABASE {name} OWNER {APP_ROLE} TEMPLATE {template}")
        return name

    def clone(self, template: str) -> str:
        """A fresh copy of `template` (see `create_database`), made ahead of time: while a
        test runs, the next test's copy is being made on another connection."""
        return run(self._take_clone(template))

    async def _take_clone(self, template: str) -> str:
        import asyncpg

        if self._spare is None:
            self._spare = asyncio.Queue(maxsize=CLONES_AHEAD)
            connection = await asyncpg.connect(
                host="127.0.0.1", port=self.port, user="postgres", database="postgres"
            )
            self._cloner = asyncio.get_running_loop().create_task(
                self._keep_cloning(connection, template)
            )
        name = await self._spare.get()
        if isinstance(name, BaseException):
            raise name
        return name

    async def _keep_cloning(self, connection: Any, template: str) -> None:
        assert self._spare is not None
        try:
            while True:
                name = f"test_{next(self._names)}"
                await connection.execute(
                    f"CREATE DATABASE {name} OWNER {APP_ROLE} TEMPLATE {template}"
                )
                await self._spare.put(name)
        except Exception as exc:
            await self._spare.put(exc)
        finally:
            await connection.close()

    def drop_database(self, name: str) -> None:
        """Drop a test's database (in the background: the next test need not wait)."""
        run(self._queue_drop(name))

    async def _queue_drop(self, name: str) -> None:
        import asyncpg

        if self._drops is None:
            self._drops = asyncio.Queue()
            connection = await asyncpg.connect(
                host="127.0.0.1", port=self.port, user="postgres", database="postgres"
            )
            self._dropper = asyncio.get_running_loop().create_task(self._keep_dropping(connection))
        self._drops.put_nowait(name)

    async def _keep_dropping(self, connection: Any) -> None:
        assert self._drops is not None
        try:
            while True:
                name = await self._drops.get()
                await connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        finally:
            await connection.close()

    def stop(self) -> None:
        for task in (self._cloner, self._dropper):
            if task is not None:
                task.get_loop().call_soon_threadsafe(task.cancel)
        if self._admin is not None:
            try:
                run(self._admin.close(), timeout=10)
            except Exception:
                pass
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        except (subprocess.SubprocessError, OSError):
            pid_file = self.data / "postmaster.pid"
            if pid_file.exists():
                os.kill(int(pid_file.read_text().split()[0]), 9)
        shutil.rmtree(self.root, ignore_errors=True)


def start_cluster() -> Cluster:
    """Start the session's cluster, or skip (fail under CI) when PostgreSQL is missing."""
    bin_dir = _pg_bin()
    if bin_dir is None:
        message = "PostgreSQL 15 is missing (apt-get install postgresql): PostgreSQL tests"
        if os.environ.get("CI"):
            pytest.fail(message + " cannot run")
        pytest.skip(message + " skipped")
    cluster = Cluster(bin_dir)
    cluster.start()
    return cluster
