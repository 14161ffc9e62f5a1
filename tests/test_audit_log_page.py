"""Reading the audit log: `/staf/admin/log` and its CSV for supervisors and admins (never
officers), newest first, paged, filtered; and the public `/kinerja` owning up to rules of its
period that were changed after the period had started."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_date
from starlette.testclient import TestClient

from db.audit import Actor
from db.database import Database
from tests.helpers import (
    GAMBIR,
    add_account,
    add_report,
    hidden,
    login,
    rows,
    run_async,
    staff_client,
)
from tests.test_deadlines import logged_in, targets_form
from web import audit, clock, stats
from web.settings import Settings

WIB = ZoneInfo("Asia/Jakarta")
ENTRY = re.compile(r'<li class="audit-entry">')
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
NOTE = "Target waktu atau hari libur untuk periode ini diubah pada"
Item = tuple[str, str, str, dict[str, Any] | None, dict[str, Any] | None, datetime]


def write_entries(
    settings: Settings, items: Sequence[Item], actor: Actor = Actor(None, "cli")
) -> None:
    """Entries made at chosen times, through the same function the handlers use."""

    async def run() -> None:
        async with Database(settings.database) as db, db.write() as conn:
            for action, table, key, before, after, at in items:
                await audit.record(
                    conn, actor, action, table=table, key=key, before=before, after=after, now=at
                )

    run_async(run())


def holiday_added(day: str, at: datetime, name: str = "Libur") -> Item:
    return ("holiday.add", "holidays", day, None, {"day": day, "name": name}, at)


def targets_changed(code: str, at: datetime, hours: int = 12) -> Item:
    return (
        "targets.change",
        "categories",
        code,
        {"response_amount": 24, "response_unit": "hours"},
        {"response_amount": hours, "response_unit": "hours"},
        at,
    )


def entry_count(html: str) -> int:
    return len(ENTRY.findall(html))


# --- who may read it ----------------------------------------------------------------------


def test_supervisors_and_admins_read_the_log_and_officers_are_refused(
    client: TestClient, settings: Settings
) -> None:
    write_entries(settings, [holiday_added("2026-03-19", datetime.now(UTC))])
    add_account(settings, "gambir1", areas=[GAMBIR])
    add_account(settings, "admin1", "admin")
    assert login(client, "gambir1").status_code == 303
    assert client.get("/staf/admin/log").status_code == 403
    assert client.get("/staf/admin/log.csv").status_code == 403
    assert 'href="/staf/admin/log"' not in client.get("/staf").text
    for username in ("spv", "admin1"):
        if username == "spv":
            add_account(settings, "spv", "supervisor")
        with staff_client(settings, username) as reader:
            page = reader.get("/staf/admin/log")
            assert page.status_code == 200 and entry_count(page.text) == 1
            assert 'href="/staf/admin/log" aria-current="page"' in page.text
            assert reader.get("/staf/admin/log.csv").status_code == 200


def test_visitors_without_a_session_are_sent_to_log_in(client: TestClient) -> None:
    for path in ("/staf/admin/log", "/staf/admin/log.csv"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303 and "/staf/masuk" in response.headers["location"]


# --- what it shows ------------------------------------------------------------------------


def test_the_log_shows_each_change_newest_first_with_before_and_after(
    client: TestClient, settings: Settings
) -> None:
    logged_in(client, settings, "admin1", "admin")
    form = targets_form(client, response_amount="2", response_unit="workdays")
    client.post("/staf/admin/tenggat/sampah", data=form)
    token = form["csrf_token"]
    client.post(
        "/staf/admin/libur", data={"csrf_token": token, "day": "2026-03-19", "name": "Nyepi"}
    )
    page = client.get("/staf/admin/log")
    assert page.status_code == 200
    html = page.text
    assert entry_count(html) == 2
    assert html.index("Hari libur ditambahkan") < html.index("Target waktu diubah")
    assert "Kamis, 19 Maret 2026" in html and "Jenis masalah Sampah" in html
    assert re.search(
        r"Tanggapan pertama:</span> <del>.*24 jam</del> → <ins>.*2 hari kerja</ins>", html
    )
    assert html.count('<span class="actor">admin1</span>') == 2
    assert "Catatan ini tidak dapat diubah atau dihapus." in html
    client.cookies.set("lang", "en")
    english = client.get("/staf/admin/log").text
    assert "Deadline targets changed" in english and "2 working days" in english


def test_the_log_is_paged_newest_first_and_filtered_by_kind_and_date(
    client: TestClient, settings: Settings
) -> None:
    start = datetime(2026, 2, 1, 3, tzinfo=UTC)
    items = [
        holiday_added(f"2027-{1 + i // 28:02d}-{1 + i % 28:02d}", start + timedelta(days=i))
        for i in range(56)
    ]
    items += [targets_changed("sampah", start + timedelta(days=60, hours=i)) for i in range(4)]
    write_entries(settings, items)
    logged_in(client, settings, "spv", "supervisor")
    first = client.get("/staf/admin/log").text
    assert entry_count(first) == 50
    next_link = re.search(r'rel="next" href="([^"]+)"', first)
    assert next_link
    second = client.get(next_link[1].replace("&amp;", "&")).text
    assert entry_count(second) == 10 and 'rel="next"' not in second
    days = re.findall(r'<time datetime="([^"]+)"', first + second)
    assert days == sorted(days, reverse=True) and len(set(days)) == 60
    assert "Ke awal log" in second

    targets = client.get("/staf/admin/log?jenis=targets").text
    assert entry_count(targets) == 4 and "Hari libur ditambahkan" not in targets
    # 1–3 February, city time: the entries made at 10:00 WIB on those days.
    window = client.get("/staf/admin/log?dari=2026-02-01&sampai=2026-02-03").text
    assert entry_count(window) == 3
    assert re.findall(r'<time datetime="([^"]+)"', window) == [
        "2026-02-03T03:00:00Z",
        "2026-02-02T03:00:00Z",
        "2026-02-01T03:00:00Z",
    ]
    paged = client.get("/staf/admin/log?jenis=holiday&sebelum=" + str(57)).text
    assert (
        entry_count(paged) == 50
        and 'rel="next" href="/staf/admin/log?jenis=holiday&amp;sebelum=' in paged
    )


def test_unreadable_filters_are_said_and_a_bad_page_address_is_refused(
    client: TestClient, settings: Settings
) -> None:
    write_entries(settings, [holiday_added("2026-03-19", datetime.now(UTC))])
    logged_in(client, settings, "spv", "supervisor")
    wrong = client.get("/staf/admin/log?jenis=semuanya&dari=31-12-2026&sampai=2026-01-01")
    assert wrong.status_code == 200
    assert "Jenis perubahan tidak dikenal." in wrong.text
    assert "Isi tanggal, contoh 2026-12-25." in wrong.text
    assert 'value="31-12-2026"' in wrong.text and 'aria-invalid="true"' in wrong.text
    backwards = client.get("/staf/admin/log?dari=2026-03-02&sampai=2026-03-01")
    assert "Tanggal akhir tidak boleh sebelum tanggal awal." in backwards.text
    for cursor in ("abc", "²", "9" * 30, "-1"):
        assert client.get(f"/staf/admin/log?sebelum={cursor}").status_code == 400
    assert client.get("/staf/admin/log?dari=9999-12-31").status_code == 200


# --- CSV ----------------------------------------------------------------------------------


def read_csv(body: bytes) -> list[list[str]]:
    text = body.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def test_the_csv_has_the_pages_filter_and_neutralises_formulas(
    client: TestClient, settings: Settings
) -> None:
    now = datetime.now(UTC)
    write_entries(
        settings,
        [
            holiday_added("2026-03-19", now, name='=HYPERLINK("http://evil.example","klik")'),
            holiday_added("2026-03-20", now, name="+62 21 555"),
            targets_changed("sampah", now),
            (
                "apikey.create",
                "api_keys",
                "1",
                None,
                {"prefix": "ak_12345678", "name": "@SUM(A1:A9)", "rate_per_minute": 60},
                now,
            ),
        ],
        actor=Actor(7, "-cmd"),
    )
    logged_in(client, settings, "spv", "supervisor")
    response = client.get("/staf/admin/log.csv?jenis=holiday")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"].startswith('attachment; filename="aduan-log-')
    assert response.headers["cache-control"] == "no-store"
    table = read_csv(response.content)
    header, lines = table[0], table[1:]
    assert header[:3] == ["Waktu (UTC)", "Waktu setempat", "Oleh"]
    assert len(lines) == 2  # holidays only, like the page's filter
    names = {line[header.index("Nama")] for line in lines}
    assert names == {'\'=HYPERLINK("http://evil.example","klik")', "'+62 21 555"}
    assert {line[header.index("Oleh")] for line in lines} == {"'-cmd"}
    everything = read_csv(client.get("/staf/admin/log.csv").content)
    assert len(everything) == 5
    for line in everything:
        for cell in line:
            assert not cell.startswith(FORMULA_START), cell
    assert any(cell == "'@SUM(A1:A9)" for line in everything for cell in line)


# --- nothing personal ---------------------------------------------------------------------


def test_the_log_names_staff_only_by_username(client: TestClient, settings: Settings) -> None:
    add_report(settings, reporter_name="Siti Aminah", reporter_phone="081234567890")
    logged_in(client, settings, "admin1", "admin")
    token = hidden(client.get("/staf/admin/akun").text, "csrf_token")
    client.post(
        "/staf/admin/akun",
        data={
            "csrf_token": token,
            "username": "cideng1",
            "display_name": "Ratna Kusumawati",
            "password": "sandi-awal-panjang",
            "role": "officer",
            "areas": [GAMBIR],
        },
    )
    user_id = rows(settings, "SELECT id FROM users WHERE username = 'cideng1'")[0][0]
    client.post(
        f"/staf/admin/akun/{user_id}/lingkup",
        data={"csrf_token": token, "display_name": "Ratna Dewi", "role": "supervisor"},
    )
    client.post(
        f"/staf/admin/akun/{user_id}/sandi",
        data={"csrf_token": token, "password": "sandi-baru-panjang"},
    )
    made = client.post(
        "/staf/admin/api", data={"csrf_token": token, "name": "JAKI", "rate_per_minute": "60"}
    )
    secret = re.search(r'id="new-key" value="(ak_[A-Za-z0-9_-]{43})"', made.text)
    assert secret
    password_hash = rows(settings, "SELECT password_hash FROM users WHERE id = ?", (user_id,))[0][0]
    add_account(settings, "spv", "supervisor")
    with staff_client(settings, "spv") as reader:
        page = reader.get("/staf/admin/log").text
        export = reader.get("/staf/admin/log.csv").content.decode("utf-8")
    for shown in (page, export):
        assert "cideng1" in shown and "admin1" in shown
        assert "Nama tampilan" in shown  # the fact that the name changed
        for private in (
            "Ratna",
            "Kusumawati",
            "Admin1",  # the admin's display name
            "Siti Aminah",
            "081234567890",
            "sandi-awal-panjang",
            "sandi-baru-panjang",
            password_hash,
            secret[1],
        ):
            assert private not in shown, private


# --- /kinerja -----------------------------------------------------------------------------


def period_start(settings: Settings, kind: str = "bulan") -> datetime:
    today = clock.local_today(settings.timezone)
    period = stats.last_full_quarter(today) if kind == "triwulan" else stats.last_full_month(today)
    return datetime.combine(period.first, time.min, tzinfo=WIB)


def last_month(settings: Settings) -> stats.Period:
    return stats.last_full_month(clock.local_today(settings.timezone))


def shown_day(moment: datetime, locale: str = "id") -> str:
    return str(format_date(moment.astimezone(WIB).date(), "d MMM yyyy", locale=locale))


def test_kinerja_says_when_an_admin_changed_the_targets_after_the_period_started(
    client: TestClient, settings: Settings
) -> None:
    assert NOTE not in client.get("/kinerja").text
    logged_in(client, settings, "admin1", "admin")
    client.post("/staf/admin/tenggat/sampah", data=targets_form(client, response_amount="2"))
    today = shown_day(datetime.now(UTC))
    for path in ("/kinerja", "/kinerja?periode=triwulan"):
        page = client.get(path).text
        assert f"{NOTE} {today} (setelah periode dimulai)." in page
        assert "admin1" not in page and "Admin1" not in page
    client.cookies.set("lang", "en")
    english = client.get("/kinerja").text
    assert (
        "Deadline targets or holidays for this period were changed on "
        f"{shown_day(datetime.now(UTC), 'en')} (after the period had started)." in english
    )


def test_kinerja_lists_each_day_a_rule_of_its_period_changed(
    client: TestClient, settings: Settings
) -> None:
    period = last_month(settings)
    start = period_start(settings)
    in_period = period.first + timedelta(days=4)
    write_entries(
        settings,
        [
            targets_changed("sampah", start + timedelta(days=2, hours=10)),
            holiday_added(in_period.isoformat(), start + timedelta(days=2, hours=11)),
            holiday_added(in_period.isoformat(), start + timedelta(days=5, hours=10)),
        ],
    )
    page = client.get("/kinerja").text
    first = shown_day(start + timedelta(days=2, hours=10))
    second = shown_day(start + timedelta(days=5, hours=10))
    assert f"{NOTE} {first} dan {second} (setelah periode dimulai)." in page


def test_kinerja_says_nothing_of_changes_that_do_not_touch_its_period(
    client: TestClient, settings: Settings
) -> None:
    period = last_month(settings)
    start = period_start(settings)
    now = datetime.now(UTC)
    write_entries(
        settings,
        [
            # The rules the period ran under: changed before it started.
            targets_changed("sampah", start - timedelta(minutes=1)),
            holiday_added(period.first.isoformat(), start - timedelta(days=3)),
            # After it started, but about a day outside it.
            holiday_added((period.last + timedelta(days=40)).isoformat(), now),
            holiday_added((period.first - timedelta(days=1)).isoformat(), now),
            # A confidential category, left out of the public figures.
            targets_changed("pungli", now),
            # Not a rule that judges anyone in time.
            ("account.create", "users", "9", None, {"username": "x", "role": "officer"}, now),
        ],
    )
    assert NOTE not in client.get("/kinerja").text
    write_entries(settings, [holiday_added(period.last.isoformat(), now)])
    assert NOTE in client.get("/kinerja").text


@pytest.mark.parametrize("kind", ["bulan", "triwulan"])
def test_kinerja_counts_a_change_at_the_first_moment_of_its_period(
    client: TestClient, settings: Settings, kind: str
) -> None:
    start = period_start(settings, kind)
    write_entries(settings, [targets_changed("jalan", start)])
    path = "/kinerja?periode=triwulan" if kind == "triwulan" else "/kinerja"
    assert f"{NOTE} {shown_day(start)}" in client.get(path).text
