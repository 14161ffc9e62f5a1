from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from tests.backend import execute, query, scalar
from tests.conftest import make_settings
from tests.seaweedfs import SeaweedFS
from web.app import create_app
from web.cli import main


def run_cli(*args: str, data_dir: Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """The real console script in a child process, as an operator runs it."""
    env = {**os.environ, "ADUAN_DATA_DIR": str(data_dir)}
    env.pop("ADUAN_DEBUG", None)
    return subprocess.run(
        [sys.executable, "-m", "web.cli", *args],
        input=stdin,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def count(db: str | Path, sql: str) -> int:
    return int(scalar(db, sql))


def test_init_loads_jakarta_by_default(
    data_dir: Path, db: str | Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["init"]) == 0
    assert count(db, "SELECT COUNT(*) FROM areas WHERE level = 2") == 6
    assert count(db, "SELECT COUNT(*) FROM areas WHERE level = 3") == 44
    assert count(db, "SELECT COUNT(*) FROM areas WHERE level = 4") == 267
    assert count(db, "SELECT COUNT(*) FROM categories") >= 12
    assert count(db, "SELECT confidential FROM categories WHERE code = 'pungli'") == 1
    out = capsys.readouterr().out
    assert "267 kelurahan/desa" in out
    assert count(db, "SELECT COUNT(*) FROM area_boundaries") == 267
    assert "Loaded the boundaries of 267 kelurahan/desa" in out


def test_init_of_a_province_without_boundaries_loads_its_areas_as_before(
    data_dir: Path, db: str | Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["init", "--region", "36"]) == 0  # Banten: no file in db/data/boundaries/
    assert count(db, "SELECT COUNT(*) FROM areas WHERE level = 4 AND code LIKE '36.%'") > 1500
    assert count(db, "SELECT COUNT(*) FROM area_boundaries") == 0
    assert "No boundaries for province 36" in capsys.readouterr().out


def test_init_is_repeatable_and_loads_any_province(data_dir: Path, db: str | Path) -> None:
    assert main(["init"]) == 0
    assert main(["init"]) == 0
    assert main(["init", "--region", "33"]) == 0
    assert count(db, "SELECT COUNT(*) FROM areas WHERE code = '33'") == 1
    assert count(db, "SELECT COUNT(*) FROM areas WHERE level = 4 AND code LIKE '31.%'") == 267
    assert count(db, "SELECT COUNT(*) FROM areas WHERE level = 4 AND code LIKE '33.%'") > 8000


def test_init_demo_prints_logins_and_creates_reports_in_many_states(
    data_dir: Path, db: str | Path
) -> None:
    result = run_cli("init", "--demo", data_dir=data_dir)
    assert result.returncode == 0, result.stderr
    assert "admin" in result.stdout and "demo-aduan-2026" in result.stdout
    assert count(db, "SELECT COUNT(*) FROM reports") >= 24
    assert count(db, "SELECT COUNT(DISTINCT status) FROM reports") >= 6
    assert count(db, "SELECT COUNT(*) FROM users") >= 5


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["init", "--region", "99"], "no province with code 99"),
        (["init", "--region", "jakarta"], "two digits"),
        (["user", "add", "ani", "--role", "officer"], "needs a scope"),
        (["user", "add", "ani", "--role", "ruler"], "invalid choice"),
        (["user", "add", "ani", "--role", "officer", "--area", "31.99"], "unknown area"),
        (["user", "add", "ani", "--role", "officer", "--agency", "NOPE"], "unknown agency"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_wrong_arguments_give_one_clear_line_and_no_traceback(
    data_dir: Path, args: list[str], message: str
) -> None:
    assert run_cli("init", data_dir=data_dir).returncode == 0
    result = run_cli(*args, data_dir=data_dir)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_user_add_hashes_the_password_with_argon2id(data_dir: Path, db: str | Path) -> None:
    assert main(["init"]) == 0
    result = run_cli(
        "user",
        "add",
        "Ani",
        "--role",
        "officer",
        "--area",
        "31.71.01.1001",
        "--area",
        "31.71.01.1002",
        "--password-stdin",
        data_dir=data_dir,
        stdin="correct horse battery\n",
    )
    assert result.returncode == 0, result.stderr
    found = query(db, "SELECT password_hash, role FROM users WHERE lower(username) = 'ani'")
    password_hash, role = found[0].astuple()
    areas = query(db, "SELECT area_code FROM user_areas ORDER BY area_code")
    assert password_hash.startswith("$argon2id$") and "correct horse" not in password_hash
    assert role == "officer"
    assert [a[0] for a in areas] == ["31.71.01.1001", "31.71.01.1002"]
    again = run_cli("user", "add", "ANI", "--role", "admin", data_dir=data_dir)
    assert again.returncode == 2 and "already exists" in again.stderr


def test_user_add_without_stdin_generates_and_shows_a_password_once(data_dir: Path) -> None:
    assert main(["init"]) == 0
    result = run_cli("user", "add", "boss", "--role", "admin", data_dir=data_dir)
    assert result.returncode == 0
    assert "Password (shown once):" in result.stdout


def test_short_password_is_refused(data_dir: Path) -> None:
    assert main(["init"]) == 0
    result = run_cli(
        "user",
        "add",
        "x",
        "--role",
        "admin",
        "--password-stdin",
        data_dir=data_dir,
        stdin="short\n",
    )
    assert result.returncode == 2 and "at least 10" in result.stderr


@pytest.mark.sqlite_only
def test_backup_taken_while_another_connection_writes_restores_intact(
    sqlite_data_dir: Path, tmp_path: Path
) -> None:
    data_dir = sqlite_data_dir
    assert main(["init", "--demo"]) == 0
    db = data_dir / "aduan.sqlite3"
    photo = data_dir / "photos" / "ab" / ("ab" + "0" * 62 + ".jpg")
    photo.parent.mkdir(parents=True)
    photo.write_bytes(b"\xff\xd8fake")
    stop = threading.Event()
    written = 0

    def keep_writing() -> None:
        nonlocal written
        conn = sqlite3.connect(db, timeout=30, isolation_level=None)
        while not stop.is_set():
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(
                "INSERT INTO holidays (day, name) VALUES (?, 'load')", (f"2100-{written:06d}",)
            )
            conn.execute("COMMIT")
            written += 1
        conn.close()

    thread = threading.Thread(target=keep_writing)
    thread.start()
    time.sleep(0.2)
    target = tmp_path / "backup"
    try:
        assert main(["backup", str(target)]) == 0
    finally:
        stop.set()
        thread.join()
    assert written > 0
    restored = target / "aduan.sqlite3"
    with sqlite3.connect(restored) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        in_backup = conn.execute("SELECT COUNT(*) FROM holidays WHERE name = 'load'").fetchone()[0]
    assert 0 < in_backup <= written
    assert (target / "photos" / "ab" / photo.name).read_bytes() == b"\xff\xd8fake"
    assert oct((target / "secret_key").stat().st_mode & 0o777) == "0o600"
    assert oct((target / "vapid_private_key.pem").stat().st_mode & 0o777) == "0o600"
    # the restored folder runs as a data directory
    with TestClient(create_app(make_settings(target))) as client:
        assert client.get("/healthz").json()["status"] == "ok"
    assert count(restored, "SELECT COUNT(*) FROM reports") == count(
        db, "SELECT COUNT(*) FROM reports"
    )


def test_backup_with_photos_in_a_bucket_copies_the_database_and_says_where_photos_are(
    data_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    seaweedfs: SeaweedFS,
) -> None:
    assert main(["init"]) == 0
    where = seaweedfs.location()
    monkeypatch.setenv("ADUAN_PHOTO_STORE", where.url)
    for name, value in seaweedfs.env().items():
        monkeypatch.setenv(name, value)
    stray = data_dir / "photos" / "ab" / ("ab" + "0" * 62 + ".jpg")  # from before the move
    stray.parent.mkdir(parents=True)
    stray.write_bytes(b"\xff\xd8old")
    capsys.readouterr()

    assert main(["backup", str(tmp_path / "backup")]) == 0

    said = capsys.readouterr().out
    assert f"Photos are in {where.url} and were not copied" in said
    note = (tmp_path / "backup" / "PHOTOS.txt").read_text()
    assert where.url in note and "rclone copy" in note
    assert not (tmp_path / "backup" / "photos").exists()
    with sqlite3.connect(tmp_path / "backup" / "aduan.sqlite3") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_backup_refuses_a_folder_that_is_not_empty(data_dir: Path, tmp_path: Path) -> None:
    assert main(["init"]) == 0
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    result = run_cli("backup", str(tmp_path / "full"), data_dir=data_dir)
    assert result.returncode == 2 and "not empty" in result.stderr


def test_init_again_keeps_the_deadlines_admins_have_set(data_dir: Path, db: str | Path) -> None:
    assert main(["init"]) == 0
    execute(db, "UPDATE categories SET response_amount = 4, name_id = 'x' WHERE code = 'jalan'")
    assert main(["init"]) == 0
    row = query(db, "SELECT response_amount, name_id FROM categories WHERE code = 'jalan'")[0]
    assert row.astuple() == (4, "Jalan rusak")  # the admin's target stays; the seed's name returns


WRITER = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], timeout=30, isolation_level=None)
n = 0
while True:
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("INSERT INTO holidays (day, name) VALUES (?, 'load')", (f"2100-{n:07d}",))
    conn.execute("COMMIT")
    n += 1
    time.sleep(0.002)
"""


@pytest.mark.sqlite_only
def test_backup_of_a_large_database_finishes_while_another_process_keeps_writing(
    sqlite_data_dir: Path, tmp_path: Path
) -> None:
    data_dir = sqlite_data_dir
    assert main(["init"]) == 0
    db = data_dir / "aduan.sqlite3"
    with sqlite3.connect(db) as conn:  # ~60 MB: many slices for a copy made in steps
        conn.execute("CREATE TABLE bulk (id INTEGER PRIMARY KEY, data BLOB)")
        conn.execute(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 15000)"
            " INSERT INTO bulk (data) SELECT zeroblob(4000) FROM n"
        )
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(db)])
    try:
        while count(db, "SELECT COUNT(*) FROM holidays WHERE name = 'load'") < 20:
            time.sleep(0.05)
        committed_before = count(db, "SELECT COUNT(*) FROM holidays WHERE name = 'load'")
        started = time.monotonic()
        env = {**os.environ, "ADUAN_DATA_DIR": str(data_dir)}
        result = subprocess.run(
            [sys.executable, "-m", "web.cli", "backup", str(tmp_path / "copy")],
            env=env,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        took = time.monotonic() - started
        assert writer.poll() is None  # it really wrote all along
    finally:
        writer.kill()
        writer.wait()
    assert result.returncode == 0, result.stderr
    assert took < 20
    copy = tmp_path / "copy" / "aduan.sqlite3"
    with sqlite3.connect(copy) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("SELECT COUNT(*) FROM bulk").fetchone()[0] == 15000
    assert count(copy, "SELECT COUNT(*) FROM holidays WHERE name = 'load'") >= committed_before
