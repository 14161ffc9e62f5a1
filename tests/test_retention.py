"""Contact retention (UU PDP): ADUAN_CONTACT_RETENTION_MONTHS (default 12) after a report
closes, the periodic task overwrites its reporter's contact, the people helped, exact
coordinates, notification consent, push follows and messages; the report, its timeline,
photos and figures stay. On SQLite the erased bytes are gone from the database file and
its WAL."""

from __future__ import annotations

import asyncio
import struct
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest

from db.database import Database
from tests.backend import dump, execute, scalar, set_operator_environment
from tests.helpers import report_row, rows, store_photo
from tests.images import camera_like, encode
from tests.test_deadlines import GAMBIR, create, move, wib
from web import cli, tasks
from web.clock import to_text
from web.personal_data import months_before
from web.photos import process_photo
from web.settings import Settings, SettingsError

CLOSED = wib(2026, 1, 5, 10)
NAME = "Wulandari Retensiwati"
PHONE = "081299887766"
EMAIL = "wulan.retensi@contoh.id"
HELPED = "Mbah Sastro Retensi"
HELPED_PHONE = "085711223344"
VOLUNTEER = "Relawan Yuniarti Retensi"
DEVICE = "perangkat-retensi-77"
ENDPOINT = "https://fcm.googleapis.com/fcm/send/retensi-endpoint-123"
LAT, LON = -6.1753924, 106.8271528
PERSONAL = (NAME, PHONE, EMAIL, HELPED, HELPED_PHONE, VOLUNTEER, DEVICE, ENDPOINT)


def closed_report(settings: Settings, at: datetime = CLOSED, **fields: object) -> str:
    """A report with every kind of contact, a photo, a push follow and a sent SMS, closed
    (rejected) at `at`."""
    photo = store_photo(settings, process_photo(encode(camera_like((330, 240)), "JPEG")))
    values: dict[str, object] = {
        "reporter_name": NAME,
        "reporter_phone": PHONE,
        "reporter_email": EMAIL,
        "on_behalf": True,
        "on_behalf_name": HELPED,
        "on_behalf_phone": HELPED_PHONE,
        "volunteer_name": VOLUNTEER,
        "device_id": DEVICE,
        "lat": LAT,
        "lon": LON,
        "location_source": "form",
        **fields,
    }
    code = create(settings, at, GAMBIR, **values)
    report_id = report_row(settings, code)["id"]
    execute(
        settings,
        "INSERT INTO photos (report_id, sha256, width, height, created_at)"
        " VALUES (:r, :sha, :w, :h, :at)",
        {"r": report_id, "sha": photo.sha256, "w": photo.width, "h": photo.height, "at": "x"},
    )
    execute(settings, "UPDATE reports SET notify_by = 'sms,email' WHERE id = :r", {"r": report_id})
    execute(
        settings,
        "INSERT INTO push_subscriptions (endpoint, p256dh, auth, language, created_at,"
        " updated_at) VALUES (:e, 'kunci', 'rahasia', 'id', 'x', 'x')",
        {"e": ENDPOINT},
    )
    execute(
        settings,
        "INSERT INTO push_follows (subscription_id, report_id, created_at)"
        " SELECT id, :r, 'x' FROM push_subscriptions WHERE endpoint = :e",
        {"r": report_id, "e": ENDPOINT},
    )
    move(settings, code, "reject", at, public_note="Bukan wewenang kelurahan.")
    event_id = scalar(
        settings, "SELECT MAX(id) FROM report_events WHERE report_id = ?", (report_id,)
    )
    execute(
        settings,
        "INSERT INTO messages (report_id, event_id, channel, recipient, state,"
        " next_attempt_at, created_at) VALUES (:r, :e, 'sms', :p, 'sent', 'x', 'x')",
        {"r": report_id, "e": event_id, "p": PHONE},
    )
    return code


def run_tasks(settings: Settings, now: datetime) -> tasks.TaskReport:
    async def run() -> tasks.TaskReport:
        async with Database(settings.database) as db:
            return await tasks.run_once(db, settings, now=now)

    return asyncio.run(run())


def test_months_before_counts_calendar_months() -> None:
    assert months_before(wib(2027, 2, 5, 10), 13) == wib(2026, 1, 5, 10)
    assert months_before(wib(2026, 3, 31, 10), 1) == wib(2026, 2, 28, 10)
    assert months_before(wib(2026, 1, 15), 12) == wib(2025, 1, 15)


def test_a_report_closed_thirteen_months_ago_loses_its_contact_on_the_next_run(
    settings: Settings,
) -> None:
    code = closed_report(settings)
    before = report_row(settings, code)
    events = rows(settings, "SELECT * FROM report_events WHERE report_id = ?", (before["id"],))
    photos = rows(settings, "SELECT * FROM photos WHERE report_id = ?", (before["id"],))
    now = wib(2027, 2, 5, 10)
    assert run_tasks(settings, now).contacts_erased == 1
    after = report_row(settings, code)
    for column in (
        "reporter_name",
        "reporter_phone",
        "reporter_email",
        "on_behalf_name",
        "on_behalf_phone",
        "volunteer_name",
        "device_id",
        "notify_by",
    ):
        assert after[column] == "", column
    assert after["lat"] is None and after["lon"] is None and after["location_source"] is None
    assert after["contact_erased_at"] == to_text(now)
    assert after["contact_erased_by"] == "retention"
    # The report, its timeline, photos and figures stay as they were.
    kept = ("description", "status", "closed_at", "received_at", "area_code", "category_code")
    assert {k: after[k] for k in kept} == {k: before[k] for k in kept}
    assert rows(settings, "SELECT * FROM report_events WHERE report_id = ?", (after["id"],)) == (
        events
    )
    assert rows(settings, "SELECT * FROM photos WHERE report_id = ?", (after["id"],)) == photos
    # Its follows, the subscription left following nothing and its messages are gone.
    assert scalar(settings, "SELECT COUNT(*) FROM push_follows") == 0
    assert scalar(settings, "SELECT COUNT(*) FROM push_subscriptions") == 0
    assert scalar(settings, "SELECT COUNT(*) FROM messages") == 0
    everything = dump(settings)
    for value in PERSONAL:
        assert value not in everything
    assert str(LAT) not in everything and str(LON) not in everything
    # Erased once: the next run finds nothing.
    assert run_tasks(settings, wib(2027, 3, 5, 10)).contacts_erased == 0


def test_a_report_closed_eleven_months_ago_keeps_its_contact(settings: Settings) -> None:
    code = closed_report(settings)
    run_tasks(settings, wib(2026, 12, 5, 10))
    report = report_row(settings, code)
    assert (report["reporter_name"], report["reporter_phone"]) == (NAME, PHONE)
    assert (report["on_behalf_name"], report["lat"]) == (HELPED, LAT)
    assert report["contact_erased_at"] is None
    assert scalar(settings, "SELECT COUNT(*) FROM push_follows") == 1
    assert scalar(settings, "SELECT COUNT(*) FROM messages WHERE recipient = ?", (PHONE,)) == 1


def test_open_reports_keep_their_contact_however_old(settings: Settings) -> None:
    code = create(settings, wib(2024, 1, 5), GAMBIR, reporter_name=NAME, reporter_phone=PHONE)
    run_tasks(settings, wib(2027, 2, 5, 10))
    assert report_row(settings, code)["reporter_phone"] == PHONE


def test_a_resolved_report_nobody_closed_counts_from_its_resolution(
    settings: Settings,
) -> None:
    code = create(settings, wib(2026, 1, 2), GAMBIR, reporter_name=NAME, reporter_phone=PHONE)
    move(settings, code, "resolve", CLOSED)
    run_tasks(replace(settings, autoclose_workdays=0), wib(2026, 12, 5, 10))
    assert report_row(settings, code)["reporter_phone"] == PHONE
    run_tasks(replace(settings, autoclose_workdays=0), wib(2027, 2, 5, 10))
    assert report_row(settings, code)["reporter_phone"] == ""
    assert report_row(settings, code)["status"] == "resolved"


def test_a_subscription_still_following_another_report_is_kept(settings: Settings) -> None:
    old = closed_report(settings)
    recent = create(settings, wib(2027, 1, 20), GAMBIR)
    execute(
        settings,
        "INSERT INTO push_follows (subscription_id, report_id, created_at)"
        " SELECT s.id, r.id, 'x' FROM push_subscriptions s, reports r WHERE r.code = :c",
        {"c": recent},
    )
    run_tasks(settings, wib(2027, 2, 5, 10))
    assert report_row(settings, old)["contact_erased_at"] is not None
    assert scalar(settings, "SELECT COUNT(*) FROM push_subscriptions") == 1
    assert scalar(settings, "SELECT COUNT(*) FROM push_follows") == 1


def test_the_retention_is_a_setting(settings: Settings) -> None:
    env = {"ADUAN_DATA_DIR": str(settings.data_dir), "ADUAN_SECRET_KEY": "k" * 40}
    assert Settings.from_env(env).contact_retention_months == 12
    assert (
        Settings.from_env({**env, "ADUAN_CONTACT_RETENTION_MONTHS": "6"}).contact_retention_months
        == 6
    )
    for bad in ("0", "-1", "dua belas", "1.5", "121"):
        with pytest.raises(SettingsError, match="ADUAN_CONTACT_RETENTION_MONTHS"):
            Settings.from_env({**env, "ADUAN_CONTACT_RETENTION_MONTHS": bad})
    code = closed_report(settings)
    shorter = replace(settings, contact_retention_months=6)
    assert run_tasks(shorter, wib(2026, 7, 6, 10)).contacts_erased == 1
    assert report_row(settings, code)["reporter_phone"] == ""


def test_erased_values_are_nowhere_in_the_sqlite_files(settings: Settings) -> None:
    if not settings.uses_sqlite:
        pytest.skip("the files of SQLite; PostgreSQL's old row versions go at its vacuum")
    closed_report(settings)
    path = settings.db_path
    files = [path, Path(f"{path}-wal")]

    async def run() -> dict[str, bytes]:
        # Read while the server still has the database open (closing the last connection
        # would checkpoint and delete the WAL by itself).
        async with Database(settings.database) as db:
            await db.fetchone("SELECT 1")
            held = b"".join(f.read_bytes() for f in files if f.exists())
            assert PHONE.encode() in held  # the search would find them
            await tasks.run_once(db, settings, now=wib(2027, 2, 5, 10))
            return {f.name: f.read_bytes() for f in files if f.exists()}

    for name, data in asyncio.run(run()).items():
        for value in PERSONAL:
            assert value.encode() not in data, (name, value)
        for number in (LAT, LON):
            assert struct.pack(">d", number) not in data, (name, number)


def test_aduan_tasks_run_erases_them_for_cron(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code = closed_report(settings, wib(2024, 1, 5, 10))  # long past by the real clock
    set_operator_environment(settings, monkeypatch)
    assert cli.main(["tasks", "run"]) == 0
    assert "erased the contact details of 1 reports" in capsys.readouterr().out
    assert report_row(settings, code)["reporter_name"] == ""
