"""Moving a city off SQLite: `aduan migrate --to postgresql://…` copies a SQLite
deployment's database into an empty PostgreSQL database (ids kept, counts verified) and
refuses a target that holds anything; `aduan backup` on PostgreSQL hands over to pg_dump."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url
from starlette.testclient import TestClient

from tests.backend import (
    Cluster,
    execute,
    query,
    scalar,
    selected_backends,
    set_operator_environment,
)
from tests.conftest import make_settings
from tests.helpers import add_report
from tests.images import camera_like, encode
from tests.seaweedfs import SeaweedFS
from tests.test_cli import run_cli
from web.app import create_app
from web.cli import main
from web.settings import Settings

NEW_REPORT = {
    "category": "sampah",
    "area": "31.71.01.1001",
    "description": "Sampah menumpuk di pinggir kali sejak minggu lalu.",
}

# Every table `aduan migrate` copies (all of the schema but the migrations' own record).
TABLES = (
    "agencies",
    "api_keys",
    "areas",
    "audit_log",
    "canned_replies",
    "categories",
    "contact_taps",
    "held_photos",
    "holidays",
    "messages",
    "photos",
    "push_follows",
    "push_subscriptions",
    "rate_events",
    "report_events",
    "reports",
    "sessions",
    "staff_push_subscriptions",
    "task_leases",
    "user_areas",
    "users",
)


@pytest.fixture
def cluster(request: pytest.FixtureRequest) -> Cluster:
    if "postgresql" not in selected_backends():
        pytest.skip("PostgreSQL is not among ADUAN_TEST_BACKENDS")
    found: Cluster = request.getfixturevalue("pg_cluster")
    return found


@pytest.fixture
def target(cluster: Cluster) -> Iterator[str]:
    """An empty PostgreSQL database owned by the app's role."""
    name = cluster.create_database()
    try:
        yield cluster.url(name)
    finally:
        cluster.drop_database(name)


@pytest.fixture
def city(sqlite_data_dir: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """A SQLite deployment with demo staff and reports, an API key and a holiday changed."""
    assert main(["init", "--demo"]) == 0
    assert main(["apikey", "add", "Qlue"]) == 0
    execute(
        sqlite_data_dir / "aduan.sqlite3", "INSERT INTO rate_events (bucket, at) VALUES ('x', 'y')"
    )
    capsys.readouterr()
    return sqlite_data_dir


def counts(database: str | Path) -> dict[str, int]:
    return {table: int(scalar(database, f"SELECT COUNT(*) FROM {table}")) for table in TABLES}


def test_a_city_moves_to_postgresql_with_every_row_and_id(
    city: Path, target: str, capsys: pytest.CaptureFixture[str]
) -> None:
    source = city / "aduan.sqlite3"
    assert main(["migrate", "--to", target]) == 0
    out = capsys.readouterr().out
    assert "every table's count matches" in out
    assert "aduan-test" not in out  # the password is never printed
    before = counts(source)
    assert counts(target) == before
    assert before["reports"] >= 24 and before["audit_log"] >= 1 and before["api_keys"] == 1
    sql = "SELECT id, code, status, version, duplicate_of FROM reports ORDER BY id"
    assert query(target, sql) == query(source, sql)
    sql = "SELECT id, report_id, kind, user_id FROM report_events ORDER BY id"
    assert query(target, sql) == query(source, sql)
    # The new home works: new rows get ids past the copied ones, search finds old reports.
    settings = make_settings(city, database_url=target)
    code = query(target, "SELECT code FROM reports ORDER BY id LIMIT 1")[0]["code"]
    with TestClient(create_app(settings)) as client:
        assert client.get("/healthz").json()["status"] == "ok"
        assert client.get(f"/t/{code}").status_code == 200
        filed = client.post(
            "/lapor",
            data=NEW_REPORT,
            follow_redirects=False,
        )
        assert filed.status_code == 303
    assert scalar(target, "SELECT MAX(id) FROM reports") == before_max(source) + 1


def before_max(database: str | Path) -> int:
    return int(scalar(database, "SELECT MAX(id) FROM reports"))


def test_a_target_that_holds_data_is_refused_and_left_as_it_was(
    city: Path, target: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["migrate", "--to", target]) == 0
    execute(target, "DELETE FROM rate_events")
    before = counts(target)
    capsys.readouterr()
    assert main(["migrate", "--to", target]) == 2
    assert "is not empty" in capsys.readouterr().err
    assert counts(target) == before


def test_a_database_of_another_application_is_refused_untouched(
    city: Path, target: str, capsys: pytest.CaptureFixture[str]
) -> None:
    execute(target, "CREATE TABLE invoices (id INTEGER PRIMARY KEY)")
    assert main(["migrate", "--to", target]) == 2
    assert "not Aduan's" in capsys.readouterr().err
    names = query(target, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    assert [r["tablename"] for r in names] == ["invoices"]


def test_migrate_needs_a_sqlite_source_and_a_postgresql_target(
    city: Path, target: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad_target = run_cli("migrate", "--to", "mysql://x@y/z", data_dir=city)
    assert bad_target.returncode == 2 and "postgresql://" in bad_target.stderr
    monkeypatch.setenv("ADUAN_DATABASE_URL", target)
    from_postgresql = run_cli("migrate", "--to", target, data_dir=city)
    assert from_postgresql.returncode == 2
    assert "ADUAN_DATABASE_URL unset" in from_postgresql.stderr
    assert "Traceback" not in bad_target.stderr + from_postgresql.stderr


def test_a_city_moves_its_database_and_its_photos_in_one_command(
    city: Path,
    target: str,
    seaweedfs: SeaweedFS,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    on_disk = make_settings(city)
    with TestClient(create_app(on_disk)) as client:
        filed = client.post(
            "/lapor",
            data=NEW_REPORT,
            files=[("photos", ("kali.jpg", encode(camera_like((900, 600)), "JPEG"), "image/jpeg"))],
            follow_redirects=False,
        )
        assert filed.status_code == 303
    sha = scalar(city / "aduan.sqlite3", "SELECT sha256 FROM photos")
    bucket = seaweedfs.location()
    for name, value in seaweedfs.env().items():
        monkeypatch.setenv(name, value)

    assert main(["migrate", "--to", target, "--photos", bucket.url]) == 0
    out = capsys.readouterr().out
    assert "every table's count matches" in out and "1 copied and verified" in out

    moved = dataclasses.replace(make_settings(city, database_url=target), photo_store=bucket)
    shutil.rmtree(city / "photos")  # the new servers have only the database and the bucket
    with TestClient(create_app(moved)) as client:
        served = client.get(f"/foto/{sha}.jpg")
    assert served.status_code == 200
    assert hashlib.sha256(served.content).hexdigest() == sha


def test_migrate_says_what_it_needs(city: Path) -> None:
    nothing = run_cli("migrate", data_dir=city)
    assert nothing.returncode == 2 and "--to postgresql://" in nothing.stderr
    bad = run_cli("migrate", "--photos", "/srv/photos", data_dir=city)
    assert bad.returncode == 2 and "s3://" in bad.stderr
    assert "Traceback" not in nothing.stderr + bad.stderr


# --- backups of a PostgreSQL deployment ------------------------------------------------------


def test_backup_on_postgresql_hands_over_to_pg_dump_and_restores(
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    request: pytest.FixtureRequest,
) -> None:
    if settings.uses_sqlite:
        pytest.skip("SQLite's backup is tested in tests/test_cli.py")
    cluster: Cluster = request.getfixturevalue("pg_cluster")
    set_operator_environment(settings, monkeypatch)
    add_report(settings)
    assert main(["backup", str(tmp_path / "backup")]) == 0
    out = capsys.readouterr().out
    assert "pg_dump" in out and "aduan-test" not in out
    dump = tmp_path / "backup" / "aduan.pgdump"
    restored = cluster.url(cluster.create_database())
    url = make_url(restored)
    result = subprocess.run(
        [
            "pg_restore",
            "--no-owner",
            f"--dbname={url.set(password=None).render_as_string()}",
            str(dump),
        ],
        env={**os.environ, "PGPASSWORD": str(url.password)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert counts(restored) == counts(settings.database_url)
    assert scalar(restored, "SELECT COUNT(*) FROM reports") == 1


def test_backup_on_postgresql_without_pg_dump_says_what_to_install(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    if settings.uses_sqlite:
        pytest.skip("about pg_dump")
    set_operator_environment(settings, monkeypatch)
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    result = run_cli("backup", str(tmp_path / "backup"), data_dir=settings.data_dir)
    assert result.returncode == 2
    assert "pg_dump is not installed" in result.stderr and "Traceback" not in result.stderr
