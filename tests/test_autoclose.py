"""Automatic closing: a resolved report the resident did not answer closes 10 working days
later (LAPOR!), with a timeline event by the system; never before, never after an answer.
Run by the periodic task inside the server and by `aduan tasks run`."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from db.database import Database
from tests.backend import set_operator_environment
from tests.helpers import report_row, rows
from tests.test_deadlines import GAMBIR, answer, create, move, wib
from web import cli, lifecycle, tasks
from web.clock import to_text
from web.settings import Settings, SettingsError

# Resolved Monday 2 March 2026 10:00 WIB; ten working days later is Monday 16 March 10:00.
RESOLVED = wib(2026, 3, 2, 10)
DUE = wib(2026, 3, 16, 10)


def close_at(settings: Settings, now: datetime, workdays: int = 10) -> int:
    async def run() -> int:
        async with Database(settings.database) as db:
            return await lifecycle.close_unanswered(db, workdays=workdays, now=now)

    return asyncio.run(run())


def resolved_report(settings: Settings, at: datetime = RESOLVED) -> str:
    code = create(settings, at - timedelta(days=1), GAMBIR)
    move(settings, code, "resolve", at)
    return code


def test_an_unanswered_resolved_report_closes_after_ten_working_days_not_before(
    settings: Settings,
) -> None:
    code = resolved_report(settings)
    assert close_at(settings, DUE - timedelta(seconds=1)) == 0
    assert report_row(settings, code)["status"] == "resolved"
    assert close_at(settings, DUE) == 1
    report = report_row(settings, code)
    assert report["status"] == "closed"
    assert report["closed_at"] == report["status_changed_at"] == to_text(DUE)
    assert report["next_due_at"] is None
    assert report["resolved_at"] == to_text(RESOLVED)  # the resolution time stays
    event = rows(
        settings,
        "SELECT * FROM report_events WHERE report_id = ? ORDER BY id DESC LIMIT 1",
        (report["id"],),
    )[0]
    assert (event["kind"], event["actor"], event["status_after"]) == ("closed", "system", "closed")
    assert event["user_id"] is None and event["created_at"] == to_text(DUE)
    assert close_at(settings, DUE + timedelta(days=30)) == 0  # closed once only


def test_holidays_between_push_the_closing_back(settings: Settings) -> None:
    # Resolved Monday 14 December 2026: with Christmas Eve and Christmas off, it closes on
    # Wednesday 30 December instead of Monday 28.
    code = resolved_report(settings, wib(2026, 12, 14, 10))
    assert close_at(settings, wib(2026, 12, 29, 10)) == 0
    assert close_at(settings, wib(2026, 12, 30, 10)) == 1
    assert report_row(settings, code)["status"] == "closed"


def test_a_report_the_resident_answered_is_never_closed_by_the_system(
    settings: Settings,
) -> None:
    confirmed = resolved_report(settings)
    answer(settings, confirmed, RESOLVED + timedelta(days=1), fixed=True, rating=4)
    reopened = resolved_report(settings)
    answer(settings, reopened, RESOLVED + timedelta(days=2), fixed=False, note="Masih bocor.")
    assert close_at(settings, DUE + timedelta(days=60)) == 0
    assert report_row(settings, reopened)["status"] == "in_progress"
    system_events = rows(settings, "SELECT COUNT(*) FROM report_events WHERE actor = 'system'")
    assert system_events[0][0] == 0


def test_a_report_resolved_again_after_reopening_counts_from_the_new_resolution(
    settings: Settings,
) -> None:
    code = resolved_report(settings)
    answer(settings, code, RESOLVED + timedelta(days=1), fixed=False, note="Belum beres.")
    move(settings, code, "resolve", wib(2026, 3, 9, 10))  # the following Monday
    assert close_at(settings, DUE) == 0
    assert close_at(settings, wib(2026, 3, 23, 10)) == 1


def test_other_open_reports_are_left_alone(settings: Settings) -> None:
    waiting = create(settings, wib(2026, 1, 5), GAMBIR)
    rejected = create(settings, wib(2026, 1, 5), GAMBIR)
    move(settings, rejected, "reject", wib(2026, 1, 6))
    assert close_at(settings, wib(2026, 6, 1)) == 0
    assert report_row(settings, waiting)["status"] == "received"
    assert report_row(settings, rejected)["status"] == "rejected"


def test_the_number_of_working_days_is_a_setting(settings: Settings) -> None:
    code = resolved_report(settings)  # Monday → 3 working days is Thursday 10:00
    assert close_at(settings, wib(2026, 3, 5, 9, 59), workdays=3) == 0
    assert close_at(settings, wib(2026, 3, 5, 10), workdays=3) == 1
    assert report_row(settings, code)["status"] == "closed"
    env = {"ADUAN_DATA_DIR": str(settings.data_dir), "ADUAN_SECRET_KEY": "k" * 40}
    assert Settings.from_env(env).autoclose_workdays == 10
    assert Settings.from_env({**env, "ADUAN_AUTOCLOSE_WORKDAYS": "3"}).autoclose_workdays == 3
    assert Settings.from_env({**env, "ADUAN_AUTOCLOSE_WORKDAYS": "0"}).autoclose_workdays == 0
    for bad in ("-1", "sepuluh", "1.5", "400"):
        with pytest.raises(SettingsError, match="ADUAN_AUTOCLOSE_WORKDAYS"):
            Settings.from_env({**env, "ADUAN_AUTOCLOSE_WORKDAYS": bad})


def test_zero_working_days_turns_automatic_closing_off(settings: Settings) -> None:
    code = resolved_report(settings)
    assert close_at(settings, DUE + timedelta(days=300), workdays=0) == 0
    assert report_row(settings, code)["status"] == "resolved"


def test_the_periodic_task_closes_them(settings: Settings) -> None:
    code = resolved_report(settings)

    async def run() -> tasks.TaskReport:
        async with Database(settings.database) as db:
            return await tasks.run_once(db, settings, now=DUE)

    assert asyncio.run(run()).closed == 1
    assert report_row(settings, code)["status"] == "closed"


def test_aduan_tasks_run_closes_them_for_cron(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code = resolved_report(settings, wib(2026, 1, 5, 10))  # long past by the real clock
    set_operator_environment(settings, monkeypatch)
    assert cli.main(["tasks", "run"]) == 0
    assert "Closed 1 resolved reports" in capsys.readouterr().out
    assert report_row(settings, code)["status"] == "closed"


def test_aduan_tasks_run_without_a_database_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ADUAN_DATA_DIR", str(tmp_path / "leeg"))
    monkeypatch.setenv("ADUAN_SECRET_KEY", "k" * 40)
    assert cli.main(["tasks", "run"]) == 2
    assert "no database" in capsys.readouterr().err


def test_the_resident_sees_the_automatic_closing_on_the_timeline(
    client: TestClient, settings: Settings
) -> None:
    code = resolved_report(settings)
    close_at(settings, DUE)
    page = client.get(f"/t/{code}")
    assert page.status_code == 200
    assert "Ditutup otomatis" in page.text
