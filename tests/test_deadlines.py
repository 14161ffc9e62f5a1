"""Working-day arithmetic, the due times a report gets when it arrives and when it moves,
and the admin pages that set the targets and the holidays.

The helpers at the top build synthetic histories at chosen times (reports created, moved
and answered through web.lifecycle with `now=`); the other deadline and dashboard tests
import them from here.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from starlette.testclient import TestClient

from db.database import Database
from tests.helpers import add_account, hidden, login, report_row, rows, run_async
from web import lifecycle
from web.clock import to_text
from web.lifecycle.deadlines import add_working_days, autoclose_at, due_after
from web.settings import Settings

WIB = ZoneInfo("Asia/Jakarta")
GAMBIR = "31.71.01.1001"
CIDENG = "31.71.01.1002"
PASAR_BARU = "31.71.02.1001"  # kecamatan Sawah Besar
SEEDED_HOLIDAYS = {date(2026, 12, 24), date(2026, 12, 25), date(2027, 1, 1)}


# --- helpers shared by the deadline, dashboard, export and auto-close tests ----------------


def wib(year: int, month: int, day: int, hour: int = 9, minute: int = 0) -> datetime:
    """A moment given in Jakarta time (as people there say it), as an aware datetime."""
    return datetime(year, month, day, hour, minute, tzinfo=WIB)


def create(
    settings: Settings,
    at: datetime,
    area: str = GAMBIR,
    *,
    category: str = "sampah",
    description: str = "Sampah menumpuk di depan pasar.",
    **fields: Any,
) -> str:
    """A report received at `at`, through the domain; returns its tracking code."""
    new = lifecycle.NewReport(category=category, area=area, description=description, **fields)

    async def run() -> str:
        async with Database(settings.database) as db:
            created = await lifecycle.create_report(db, new, now=at, tz=settings.timezone)
            return created.code

    return run_async(run())


def move(settings: Settings, code: str, kind: str, at: datetime, **fields: Any) -> None:
    """A staff action at `at` (notes filled in where the rules require them)."""
    if kind in ("resolve", "reject") and "public_note" not in fields:
        fields["public_note"] = "Sudah ditangani petugas."

    async def run() -> None:
        async with Database(settings.database) as db:
            row = await db.fetchone(
                "SELECT version FROM reports WHERE code = :code", {"code": code}
            )
            action = lifecycle.Action(kind=kind, expected_version=row["version"], **fields)
            await lifecycle.apply_action(db, code, action, now=at, tz=settings.timezone)

    run_async(run())


def answer(
    settings: Settings,
    code: str,
    at: datetime,
    *,
    fixed: bool,
    rating: int | None = None,
    note: str = "",
) -> str:
    """The resident's "Sudah beres?" answer at `at`."""

    async def run() -> str:
        async with Database(settings.database) as db:
            return await lifecycle.resident_answer(
                db, code, fixed=fixed, rating=rating, note=note, now=at, tz=settings.timezone
            )

    return run_async(run())


def create_many(settings: Settings, moments: Sequence[datetime], area: str = GAMBIR) -> list[str]:
    """Many reports in one event loop (faster than `create` for hundreds)."""

    async def run() -> list[str]:
        async with Database(settings.database) as db:
            made = []
            for index, moment in enumerate(moments):
                new = lifecycle.NewReport(
                    category="sampah", area=area, description=f"Laporan nomor {index}"
                )
                made.append((await lifecycle.create_report(db, new, now=moment)).code)
            return made

    return run_async(run())


def logged_in(client: TestClient, settings: Settings, username: str, role: str, **kw: Any) -> None:
    add_account(settings, username, role, **kw)
    assert login(client, username).status_code == 303


# --- working-day arithmetic ---------------------------------------------------------------


def test_friday_five_pm_plus_one_working_day_is_monday_five_pm() -> None:
    due = add_working_days(wib(2026, 3, 6, 17), 1, set())
    assert due.astimezone(WIB) == wib(2026, 3, 9, 17)


def test_christmas_eve_and_christmas_are_skipped_with_the_weekend_after() -> None:
    # Wednesday 23 December 2026; 24 and 25 are holidays, 26–27 the weekend.
    due = add_working_days(wib(2026, 12, 23, 10), 1, SEEDED_HOLIDAYS)
    assert due.astimezone(WIB) == wib(2026, 12, 28, 10)
    due = add_working_days(wib(2026, 12, 23, 10), 3, SEEDED_HOLIDAYS)
    assert due.astimezone(WIB) == wib(2026, 12, 30, 10)


def test_new_year_is_skipped_across_the_year_end() -> None:
    # Thursday 31 December 2026 + 1: Friday 1 January is a holiday → Monday 4 January 2027.
    due = add_working_days(wib(2026, 12, 31, 14), 1, SEEDED_HOLIDAYS)
    assert due.astimezone(WIB) == wib(2027, 1, 4, 14)


def test_the_last_friday_of_january_plus_one_is_monday_the_second_of_february() -> None:
    due = add_working_days(wib(2026, 1, 30, 8, 30), 1, set())
    assert due.astimezone(WIB) == wib(2026, 2, 2, 8, 30)


def test_a_month_end_holiday_pushes_the_deadline_into_the_next_week() -> None:
    # Thursday 30 April 2026 + 1 with Labour Day (Friday 1 May) a holiday → Monday 4 May.
    due = add_working_days(wib(2026, 4, 30, 16), 1, {date(2026, 5, 1)})
    assert due.astimezone(WIB) == wib(2026, 5, 4, 16)
    # Without the holiday it is simply the next day, in the next month.
    assert add_working_days(wib(2026, 4, 30, 16), 1, set()).astimezone(WIB) == wib(2026, 5, 1, 16)


def test_a_report_arriving_on_saturday_counts_from_monday_morning() -> None:
    # One working day from Saturday is the whole of Monday: due at Tuesday 00:00.
    due = add_working_days(wib(2026, 3, 7, 11), 1, set())
    assert due.astimezone(WIB) == wib(2026, 3, 10, 0)
    assert add_working_days(wib(2026, 3, 7, 11), 0, set()).astimezone(WIB) == wib(2026, 3, 9, 0)


def test_a_report_arriving_on_a_holiday_counts_from_the_next_working_day() -> None:
    # Christmas 2026 is a Friday: counting starts Monday 28 December.
    due = add_working_days(wib(2026, 12, 25, 9), 2, SEEDED_HOLIDAYS)
    assert due.astimezone(WIB) == wib(2026, 12, 30, 0)


def test_clock_hours_run_through_nights_weekends_and_holidays() -> None:
    due = due_after(wib(2026, 12, 24, 17), 24, "hours", SEEDED_HOLIDAYS)
    assert due.astimezone(WIB) == wib(2026, 12, 25, 17)


def test_working_days_follow_the_citys_time_zone() -> None:
    makassar = ZoneInfo("Asia/Makassar")  # WITA, UTC+8
    friday = datetime(2026, 3, 6, 17, tzinfo=makassar)
    due = add_working_days(friday, 1, set(), tz="Asia/Makassar")
    assert due.astimezone(makassar) == datetime(2026, 3, 9, 17, tzinfo=makassar)
    # 23:30 WIB on Friday is already Saturday 00:30 in Makassar: counted from Monday there.
    late_friday = wib(2026, 3, 6, 23, 30)
    assert add_working_days(late_friday, 1, set(), tz="Asia/Makassar").astimezone(
        makassar
    ) == datetime(2026, 3, 10, 0, tzinfo=makassar)


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError):
        add_working_days(wib(2026, 3, 6), -1, set())
    with pytest.raises(ValueError):
        add_working_days(datetime(2026, 3, 6, 9), 1, set())  # no time zone
    with pytest.raises(ValueError):
        due_after(wib(2026, 3, 6), 1, "weeks", set())


def test_autoclose_falls_ten_working_days_after_the_answer() -> None:
    # Resolved Monday 14 December 2026: two weeks, plus the two Christmas holidays.
    closes = autoclose_at(wib(2026, 12, 14, 10), 10, SEEDED_HOLIDAYS)
    assert closes.astimezone(WIB) == wib(2026, 12, 30, 10)


# --- due times of reports -----------------------------------------------------------------


def test_a_report_gets_its_three_due_times_when_it_arrives(settings: Settings) -> None:
    # "sampah": first response 24 hours, forwarded in 1 working day, resolved in 3.
    code = create(settings, wib(2026, 3, 6, 17))  # Friday 17:00
    report = report_row(settings, code)
    assert report["response_due_at"] == to_text(wib(2026, 3, 7, 17))  # clock hours: Saturday
    assert report["dispatch_due_at"] == to_text(wib(2026, 3, 9, 17))
    assert report["resolution_due_at"] == to_text(wib(2026, 3, 11, 17))
    assert report["next_due_at"] == report["response_due_at"]


def test_each_step_waits_on_its_own_deadline(settings: Settings) -> None:
    code = create(settings, wib(2026, 3, 2, 9))  # Monday
    move(settings, code, "verify", wib(2026, 3, 2, 11))
    assert report_row(settings, code)["next_due_at"] == to_text(wib(2026, 3, 3, 9))
    move(settings, code, "progress", wib(2026, 3, 2, 12))  # the kelurahan works on it itself
    report = report_row(settings, code)
    assert report["next_due_at"] == report["resolution_due_at"] == to_text(wib(2026, 3, 5, 9))
    move(settings, code, "resolve", wib(2026, 3, 3, 9))
    assert report_row(settings, code)["next_due_at"] is None


def test_forwarding_gives_the_agency_its_full_resolution_time_from_that_moment(
    settings: Settings,
) -> None:
    code = create(settings, wib(2026, 3, 2, 9))  # Monday; resolution target Thursday 09:00
    move(settings, code, "verify", wib(2026, 3, 2, 10))
    move(settings, code, "dispatch", wib(2026, 3, 4, 15), agency_code="DLH")  # Wednesday
    report = report_row(settings, code)
    # 3 working days from Wednesday 15:00 → Monday 15:00, not Thursday 09:00.
    assert report["resolution_due_at"] == to_text(wib(2026, 3, 9, 15))
    assert report["next_due_at"] == report["resolution_due_at"]
    # Forwarding again to the same agency does not restart its clock …
    move(settings, code, "dispatch", wib(2026, 3, 6, 9), agency_code="DLH")
    assert report_row(settings, code)["resolution_due_at"] == to_text(wib(2026, 3, 9, 15))
    # … forwarding to another agency gives that agency its own time.
    move(settings, code, "dispatch", wib(2026, 3, 6, 9), agency_code="SDA")
    assert report_row(settings, code)["resolution_due_at"] == to_text(wib(2026, 3, 11, 9))


def test_a_reopened_report_gets_a_new_resolution_deadline(settings: Settings) -> None:
    code = create(settings, wib(2026, 3, 2, 9))
    move(settings, code, "resolve", wib(2026, 3, 3, 9))
    answer(settings, code, wib(2026, 3, 5, 10), fixed=False, note="Masih menumpuk.")
    assert report_row(settings, code)["next_due_at"] == to_text(wib(2026, 3, 10, 10))


def test_a_report_whose_category_was_retired_can_still_be_reopened_and_forwarded(
    settings: Settings,
) -> None:
    code = create(settings, wib(2026, 3, 2, 9))
    move(settings, code, "resolve", wib(2026, 3, 3, 9))

    async def retire() -> None:
        async with Database(settings.database) as db, db.write() as conn:
            await conn.execute("UPDATE categories SET active = 0 WHERE code = 'sampah'")

    run_async(retire())
    # A retired category takes no new reports, but its reports keep their deadlines.
    answer(settings, code, wib(2026, 3, 5, 10), fixed=False, note="Masih menumpuk.")
    assert report_row(settings, code)["next_due_at"] == to_text(wib(2026, 3, 10, 10))
    move(settings, code, "dispatch", wib(2026, 3, 6, 9), agency_code="SDA")
    assert report_row(settings, code)["agency_code"] == "SDA"


# --- admin: targets per category ----------------------------------------------------------


def targets_form(client: TestClient, **values: str) -> dict[str, str]:
    form = {
        "csrf_token": hidden(client.get("/staf/admin/tenggat").text, "csrf_token"),
        "response_amount": "24",
        "response_unit": "hours",
        "dispatch_amount": "1",
        "dispatch_unit": "workdays",
        "resolution_amount": "3",
        "resolution_unit": "workdays",
    }
    form.update(values)
    return form


def test_an_admin_sets_a_categorys_targets_and_new_reports_follow_them(
    client: TestClient, settings: Settings
) -> None:
    logged_in(client, settings, "admin1", "admin")
    page = client.get("/staf/admin/tenggat")
    assert page.status_code == 200
    assert 'id="k-sampah"' in page.text and "Sampah" in page.text
    form = targets_form(client, response_amount="2", response_unit="workdays")
    response = client.post("/staf/admin/tenggat/sampah", data=form, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/staf/admin/tenggat?ok=sampah#k-sampah"
    saved = rows(settings, "SELECT * FROM categories WHERE code = 'sampah'")[0]
    assert (saved["response_amount"], saved["response_unit"]) == (2, "workdays")
    assert "Tenggat sudah disimpan." in client.get("/staf/admin/tenggat?ok=sampah").text
    code = create(settings, wib(2026, 3, 6, 17))  # Friday 17:00 + 2 working days
    assert report_row(settings, code)["response_due_at"] == to_text(wib(2026, 3, 10, 17))


def test_a_wrong_target_is_refused_with_the_typed_values_kept(
    client: TestClient, settings: Settings
) -> None:
    logged_in(client, settings, "admin1", "admin")
    before = rows(settings, "SELECT * FROM categories WHERE code = 'sampah'")[0]
    form = targets_form(
        client, dispatch_amount="0", resolution_amount="999", resolution_unit="workdays"
    )
    response = client.post("/staf/admin/tenggat/sampah", data=form)
    assert response.status_code == 422
    assert "Isi angka 1 sampai 120." in response.text
    assert 'aria-invalid="true"' in response.text
    assert 'value="999"' in response.text
    assert rows(settings, "SELECT * FROM categories WHERE code = 'sampah'")[0] == before
    bad_unit = targets_form(client, response_unit="weeks")
    assert client.post("/staf/admin/tenggat/sampah", data=bad_unit).status_code == 422
    unknown = client.post("/staf/admin/tenggat/tidakada", data=targets_form(client))
    assert unknown.status_code == 404


def test_only_admins_may_change_targets_or_holidays(client: TestClient, settings: Settings) -> None:
    logged_in(client, settings, "spv", "supervisor")
    for path in ("/staf/admin/tenggat", "/staf/admin/libur"):
        assert client.get(path).status_code == 403
    token = hidden(client.get("/staf/dasbor").text, "csrf_token")
    refused = client.post("/staf/admin/tenggat/sampah", data=targets_form_raw(token))
    assert refused.status_code == 403
    assert (
        client.post(
            "/staf/admin/libur", data={"csrf_token": token, "day": "2026-03-19", "name": "Nyepi"}
        ).status_code
        == 403
    )
    assert rows(settings, "SELECT COUNT(*) FROM holidays WHERE day = '2026-03-19'")[0][0] == 0


def targets_form_raw(token: str) -> dict[str, str]:
    return {
        "csrf_token": token,
        "response_amount": "1",
        "response_unit": "hours",
        "dispatch_amount": "1",
        "dispatch_unit": "hours",
        "resolution_amount": "1",
        "resolution_unit": "hours",
    }


def test_a_form_without_the_session_token_changes_nothing(
    client: TestClient, settings: Settings
) -> None:
    logged_in(client, settings, "admin1", "admin")
    form = targets_form(client, csrf_token="wrong")
    assert client.post("/staf/admin/tenggat/sampah", data=form).status_code == 403
    assert (
        rows(settings, "SELECT response_amount FROM categories WHERE code = 'sampah'")[0][0] == 24
    )


# --- admin: holidays ----------------------------------------------------------------------


def test_an_admin_adds_a_holiday_and_working_days_skip_it(
    client: TestClient, settings: Settings
) -> None:
    logged_in(client, settings, "admin1", "admin")
    page = client.get("/staf/admin/libur")
    assert "Hari Raya Natal" in page.text and "Jumat, 25 Desember 2026" in page.text
    token = hidden(page.text, "csrf_token")
    response = client.post(
        "/staf/admin/libur",
        data={"csrf_token": token, "day": "2026-03-19", "name": "Hari Suci Nyepi"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert "Hari libur sudah disimpan." in client.get(response.headers["location"]).text
    # Wednesday 18 March + 1 working day: Thursday 19 is Nyepi → Friday 20.
    code = create(settings, wib(2026, 3, 18, 10))
    assert report_row(settings, code)["dispatch_due_at"] == to_text(wib(2026, 3, 20, 10))
    # The same date again renames it.
    client.post(
        "/staf/admin/libur", data={"csrf_token": token, "day": "2026-03-19", "name": "Nyepi"}
    )
    assert rows(settings, "SELECT name FROM holidays WHERE day = '2026-03-19'")[0][0] == "Nyepi"


def test_an_admin_removes_a_holiday(client: TestClient, settings: Settings) -> None:
    logged_in(client, settings, "admin1", "admin")
    token = hidden(client.get("/staf/admin/libur").text, "csrf_token")
    response = client.post(
        "/staf/admin/libur/2026-12-24/hapus", data={"csrf_token": token}, follow_redirects=False
    )
    assert response.status_code == 303
    assert rows(settings, "SELECT COUNT(*) FROM holidays WHERE day = '2026-12-24'")[0][0] == 0
    code = create(settings, wib(2026, 12, 23, 10))
    assert report_row(settings, code)["dispatch_due_at"] == to_text(wib(2026, 12, 24, 10))
    again = client.post("/staf/admin/libur/2026-12-24/hapus", data={"csrf_token": token})
    assert again.status_code == 404


def test_a_holiday_without_a_valid_date_or_name_is_refused_and_kept_typed(
    client: TestClient, settings: Settings
) -> None:
    logged_in(client, settings, "admin1", "admin")
    token = hidden(client.get("/staf/admin/libur").text, "csrf_token")
    response = client.post(
        "/staf/admin/libur", data={"csrf_token": token, "day": "19-03-2026", "name": "Nyepi"}
    )
    assert response.status_code == 422
    assert "Isi tanggal, contoh 2026-12-25." in response.text
    assert 'value="Nyepi"' in response.text
    empty_name = client.post(
        "/staf/admin/libur", data={"csrf_token": token, "day": "2026-03-19", "name": "  "}
    )
    assert empty_name.status_code == 422
    assert rows(settings, "SELECT COUNT(*) FROM holidays")[0][0] == 3
