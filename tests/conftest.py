"""Shared fixtures: every test gets its own data directory and database, on each backend.

`settings` (and `client`, and the browser tests' `live_server`) run a test once per backend
of tests/backend.py: SQLite with photos in the data folder (one machine), and PostgreSQL
(a database cloned from a template in the session's cluster) with photos in a SeaweedFS
bucket (several servers). Loading DKI Jakarta from the 91,600-row
wilayah.csv takes a moment, so it is done once per session into each template.
"""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from db import boundaries, reference
from db.database import Database
from tests import backend as backends
from tests.backend import Cluster
from tests.seaweedfs import SeaweedFS, start_seaweedfs
from web.app import create_app
from web.settings import Settings

SECRET = "test-secret-key-0123456789-abcdefghijklmnop"


def make_settings(
    data_dir: Path, base_url: str = "http://testserver", database_url: str = ""
) -> Settings:
    return Settings(
        data_dir=data_dir,
        secret_key=SECRET,
        base_url=base_url,
        allowed_hosts=("testserver", "127.0.0.1", "localhost"),
        run_tasks=False,
        database_url=database_url,
    )


async def _build_template(target: str | Path) -> None:
    async with Database(target) as db:
        await db.migrate()
        async with db.write() as conn:
            await reference.load_areas(conn, "31")
            await boundaries.load_boundaries(conn, "31")
            await reference.load_seed(conn, reference.read_seed())


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "aduan.sqlite3"
    backends.run(_build_template(path))
    return path


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster]:
    cluster = backends.start_cluster()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def pg_template(pg_cluster: Cluster) -> str:
    """A database with Jakarta's reference data that each test's database is cloned from."""
    name = pg_cluster.create_database()
    backends.run(_build_template(pg_cluster.url(name)))
    return name


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Every test that asks for a database runs on each selected backend; a browser test
    (slow) only on the first, unless it is marked `both_backends`."""
    if "backend" not in metafunc.fixturenames:
        return
    chosen = backends.selected_backends()
    browser = "live_server" in metafunc.fixturenames
    if browser and metafunc.definition.get_closest_marker("both_backends") is None:
        chosen = chosen[:1]
    metafunc.parametrize("backend", chosen, indirect=True)


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    """ "sqlite" or "postgresql": the backend this run of the test uses."""
    return str(request.param)


@pytest.fixture
def database(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh database holding Jakarta's reference data: the PostgreSQL URL, or "" for the
    SQLite file `data/aduan.sqlite3` of the test's data directory (Settings.db_path)."""
    data_dir = tmp_path / "data"
    data_dir.mkdir(exist_ok=True)
    if backend == "sqlite":
        shutil.copy(request.getfixturevalue("template_db"), data_dir / "aduan.sqlite3")
        yield ""
        return
    cluster: Cluster = request.getfixturevalue("pg_cluster")
    name = cluster.clone(request.getfixturevalue("pg_template"))
    try:
        yield cluster.url(name)
    finally:
        cluster.drop_database(name)


@pytest.fixture
def empty_database(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[str | Path]:
    """A database with nothing in it (no migrations): a SQLite path or a PostgreSQL URL."""
    if backend == "sqlite":
        yield tmp_path / "empty.sqlite3"
        return
    cluster: Cluster = request.getfixturevalue("pg_cluster")
    name = cluster.create_database()
    try:
        yield cluster.url(name)
    finally:
        cluster.drop_database(name)


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, empty_database: str | Path) -> Path:
    """An operator's data folder and, on PostgreSQL, ADUAN_DATABASE_URL naming an empty
    database: the commands run once per backend."""
    path = tmp_path / "data"
    monkeypatch.setenv("ADUAN_DATA_DIR", str(path))
    monkeypatch.delenv("ADUAN_SECRET_KEY", raising=False)
    if isinstance(empty_database, Path):
        monkeypatch.delenv("ADUAN_DATABASE_URL", raising=False)
    else:
        monkeypatch.setenv("ADUAN_DATABASE_URL", empty_database)
    return path


@pytest.fixture
def db(data_dir: Path, empty_database: str | Path) -> str | Path:
    """The database the commands use: the data folder's SQLite file, or the URL."""
    return data_dir / "aduan.sqlite3" if isinstance(empty_database, Path) else empty_database


@pytest.fixture
def sqlite_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A data folder on SQLite, for what is about the SQLite file itself."""
    path = tmp_path / "data"
    monkeypatch.setenv("ADUAN_DATA_DIR", str(path))
    monkeypatch.delenv("ADUAN_SECRET_KEY", raising=False)
    monkeypatch.delenv("ADUAN_DATABASE_URL", raising=False)
    return path


@pytest.fixture
def settings(
    tmp_path: Path, database: str, backend: str, request: pytest.FixtureRequest
) -> Settings:
    """Settings on a fresh data directory and a database with Jakarta's areas. The
    several-server backend keeps its photos where several servers would: on PostgreSQL,
    photos go to a prefix of their own in the session's SeaweedFS bucket."""
    settings = make_settings(tmp_path / "data", database_url=database)
    if backend == "postgresql":
        seaweedfs: SeaweedFS = request.getfixturevalue("seaweedfs")
        settings = dataclasses.replace(settings, photo_store=seaweedfs.location())
    return settings


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def seaweedfs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedFS]:
    """One real SeaweedFS for the session (tests/seaweedfs.py); each test that uses it takes
    a prefix of its own with `seaweedfs.location()`."""
    server = start_seaweedfs(tmp_path_factory.mktemp("seaweedfs"))
    try:
        yield server
    finally:
        server.stop()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser tests last: Playwright's sync API keeps an event loop running in the main
    thread for the rest of the session, which `asyncio.run` in other tests cannot share."""
    items.sort(key=lambda item: "tests/browser/" in item.nodeid)
