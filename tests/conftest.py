"""Shared fixtures: every test gets its own data directory and SQLite file.

Loading DKI Jakarta from the 91,600-row wilayah.csv takes a moment, so it is done once per
session into a template file that each test copies.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from db import reference
from db.database import Database
from tests.seaweedfs import SeaweedFS, start_seaweedfs
from web.app import create_app
from web.settings import Settings

SECRET = "test-secret-key-0123456789-abcdefghijklmnop"


def make_settings(data_dir: Path, base_url: str = "http://testserver") -> Settings:
    return Settings(
        data_dir=data_dir,
        secret_key=SECRET,
        base_url=base_url,
        allowed_hosts=("testserver", "127.0.0.1", "localhost"),
        run_tasks=False,
    )


async def _build_template(path: Path) -> None:
    async with Database(path) as db:
        await db.migrate()
        async with db.write() as conn:
            await reference.load_areas(conn, "31")
            await reference.load_seed(conn, reference.read_seed())


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "aduan.sqlite3"
    asyncio.run(_build_template(path))
    return path


@pytest.fixture
def settings(tmp_path: Path, template_db: Path) -> Settings:
    """Settings on a fresh data directory holding a database with Jakarta's areas."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    shutil.copy(template_db, data_dir / "aduan.sqlite3")
    return make_settings(data_dir)


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
