"""The staff dashboard and the city's overdue list, on a synthetic March 2026 whose figures
are worked out by hand below, and who may see them."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from starlette.testclient import TestClient

from tests.helpers import add_account, login
from tests.test_deadlines import (
    CIDENG,
    GAMBIR,
    PASAR_BARU,
    answer,
    create,
    create_many,
    logged_in,
    move,
    wib,
)
from web.settings import Settings

MARCH = "periode=bulan&bulan=2026-03"


@pytest.fixture
def march(settings: Settings) -> dict[str, str]:
    """Seven reports received in March 2026 ("sampah": first response within 24 hours), and
    two just outside it. Hours to first response and to resolution are in the comments.

    Gambir:  A1 2 h, resolved 72 h, rated 5 · A2 30 h (late), resolved 120 h, rated 3 ·
             A3 never answered (late, overdue now)
    Cideng:  B1 4 h, rejected · B2 1 h, resolved then reopened (no resolution; overdue now)
    Pasar Baru (kecamatan Sawah Besar):
             C1 6 h, forwarded to Bina Marga, overdue now ·
             C2 confidential (pungli), 48 h (late), verified only, overdue now
    """
    c = {}
    start = wib(2026, 3, 2, 9)  # Monday
    c["A1"] = create(settings, start)
    move(settings, c["A1"], "verify", start + timedelta(hours=2))
    move(settings, c["A1"], "dispatch", start + timedelta(days=1), agency_code="DLH")
    move(settings, c["A1"], "resolve", start + timedelta(hours=72))
    answer(settings, c["A1"], start + timedelta(days=4), fixed=True, rating=5)

    start = wib(2026, 3, 3, 9)
    c["A2"] = create(settings, start)
    move(settings, c["A2"], "verify", start + timedelta(hours=30))
    move(settings, c["A2"], "resolve", start + timedelta(hours=120))
    answer(settings, c["A2"], start + timedelta(days=6), fixed=True, rating=3)

    c["A3"] = create(settings, wib(2026, 3, 4, 9))

    start = wib(2026, 3, 5, 9)
    c["B1"] = create(settings, start, CIDENG)
    move(settings, c["B1"], "verify", start + timedelta(hours=4))
    move(settings, c["B1"], "reject", start + timedelta(hours=5))

    start = wib(2026, 3, 6, 9)
    c["B2"] = create(settings, start, CIDENG)
    move(settings, c["B2"], "verify", start + timedelta(hours=1))
    move(settings, c["B2"], "resolve", start + timedelta(hours=10))
    answer(settings, c["B2"], start + timedelta(days=2), fixed=False, note="Belum diangkut.")

    start = wib(2026, 3, 9, 9)
    c["C1"] = create(settings, start, PASAR_BARU, category="jalan")
    move(settings, c["C1"], "verify", start + timedelta(hours=6))
    move(settings, c["C1"], "dispatch", start + timedelta(hours=8), agency_code="BINAMARGA")

    start = wib(2026, 3, 10, 9)
    c["C2"] = create(settings, start, PASAR_BARU, category="pungli")
    move(settings, c["C2"], "verify", start + timedelta(hours=48))

    # Just outside March, in Jakarta time (23:30 WIB is 16:30 UTC the same day).
    c["feb"] = create(settings, wib(2026, 2, 28, 23, 30))
    c["apr"] = create(settings, wib(2026, 4, 1, 0, 30))
    return c


def table(client: TestClient, query: str) -> dict[str, dict[str, str]]:
    response = client.get(f"/staf/dasbor.csv?{query}")
    assert response.status_code == 200
    reader = csv.reader(io.StringIO(response.content.decode("utf-8-sig")))
    header, *lines = list(reader)
    return {line[0]: dict(zip(header, line, strict=True)) for line in lines}


def test_the_march_figures_per_kelurahan_are_the_ones_worked_out_by_hand(
    client: TestClient, settings: Settings, march: dict[str, str]
) -> None:
    logged_in(client, settings, "spv", "supervisor")
    figures = table(client, MARCH + "&kelompok=kelurahan")
    assert list(figures) == [
        "Cideng, Kec. Gambir",  # ranked: 100 % in time first
        "Pasar Baru, Kec. Sawah Besar",
        "Gambir, Kec. Gambir",
        "Seluruh kota",
    ]
    gambir = figures["Gambir, Kec. Gambir"]
    assert gambir["Diterima"] == "3"
    assert (gambir["Ditanggapi tepat waktu"], gambir["Ditanggapi terlambat"]) == ("1", "2")
    assert gambir["Tepat waktu (%)"] == "33.3"
    assert gambir["Median tanggapan (jam)"] == "16.0"  # 2 and 30
    assert gambir["P90 tanggapan (jam)"] == "30.0"
    assert gambir["Median sampai selesai (jam)"] == "96.0"  # 72 and 120
    assert gambir["P90 sampai selesai (jam)"] == "120.0"
    assert gambir["Terlambat saat ini"] == "1"
    assert gambir["Rata-rata kepuasan (1–5)"] == "4.0"
    assert gambir["Jumlah penilaian"] == "2"

    cideng = figures["Cideng, Kec. Gambir"]
    assert cideng["Tepat waktu (%)"] == "100.0"
    assert (cideng["Median tanggapan (jam)"], cideng["P90 tanggapan (jam)"]) == ("2.5", "4.0")
    assert cideng["Median sampai selesai (jam)"] == ""  # reopened: not resolved any more
    assert (cideng["Ditolak"], cideng["Dibuka kembali"], cideng["Terlambat saat ini"]) == (
        "1",
        "1",
        "1",
    )

    pasar_baru = figures["Pasar Baru, Kec. Sawah Besar"]
    assert pasar_baru["Diterima"] == "2"  # the confidential report counts for staff
    assert pasar_baru["Tepat waktu (%)"] == "50.0"
    assert pasar_baru["Median tanggapan (jam)"] == "27.0"
    assert pasar_baru["Terlambat saat ini"] == "2"

    city = figures["Seluruh kota"]
    assert city["Diterima"] == "7"  # not the reports of 28 February or 1 April
    assert (city["Ditanggapi tepat waktu"], city["Ditanggapi terlambat"]) == ("4", "3")
    assert city["Tepat waktu (%)"] == "57.1"
    assert city["Median tanggapan (jam)"] == "5.0"  # 1 2 4 6 30 48
    assert city["P90 tanggapan (jam)"] == "48.0"
    assert city["Median sampai selesai (jam)"] == "96.0"
    assert city["Terlambat saat ini"] == "4"
    assert (city["Ditolak"], city["Dibuka kembali"]) == ("1", "1")
    assert city["Rata-rata kepuasan (1–5)"] == "4.0"


def test_the_same_reports_grouped_by_kecamatan_agency_and_category(
    client: TestClient, settings: Settings, march: dict[str, str]
) -> None:
    logged_in(client, settings, "spv", "supervisor")
    by_kecamatan = table(client, MARCH + "&kelompok=kecamatan")
    assert by_kecamatan["Gambir, Kota Administrasi Jakarta Pusat"]["Diterima"] == "5"
    assert by_kecamatan["Sawah Besar, Kota Administrasi Jakarta Pusat"]["Diterima"] == "2"
    by_agency = table(client, MARCH + "&kelompok=instansi")
    assert by_agency["Dinas Lingkungan Hidup"]["Diterima"] == "1"
    assert by_agency["Dinas Bina Marga"]["Terlambat saat ini"] == "1"
    assert by_agency["Belum diteruskan ke instansi"]["Diterima"] == "5"
    by_category = table(client, MARCH + "&kelompok=kategori")
    assert by_category["Sampah"]["Diterima"] == "5"
    assert by_category["Pungutan liar (pungli)"]["Tepat waktu (%)"] == "0.0"


def test_a_quarter_and_a_custom_range_hold_the_reports_received_in_them(
    client: TestClient, settings: Settings, march: dict[str, str]
) -> None:
    logged_in(client, settings, "spv", "supervisor")
    quarter = table(client, "periode=triwulan&triwulan=2026-Q1")
    assert quarter["Seluruh kota"]["Diterima"] == "8"  # March and 28 February
    week = table(client, "periode=rentang&dari=2026-03-02&sampai=2026-03-04")
    assert week["Seluruh kota"]["Diterima"] == "3"  # A1, A2, A3
    assert list(week) == ["Gambir, Kec. Gambir", "Seluruh kota"]


def test_the_dashboard_page_shows_the_figures_as_charts_and_a_table(
    client: TestClient, settings: Settings, march: dict[str, str]
) -> None:
    logged_in(client, settings, "spv", "supervisor")
    page = client.get(f"/staf/dasbor?{MARCH}")
    assert page.status_code == 200
    html = page.text
    assert "Maret 2026" in html
    assert html.count('role="img"') == 2  # in time, and overdue now
    assert (
        '<title id="grafik-tepat-waktu-title">Ditanggapi tepat waktu per kelurahan</title>' in html
    )
    assert 'style="' not in html  # the CSP forbids inline styles
    assert '<th scope="row">Gambir, Kec. Gambir</th>' in html
    assert "57,1%" in html and "(4 dari 7)" in html
    assert "16 jam" in html  # Gambir's median response
    assert "4 hari" in html  # Gambir's median resolution (96 hours)
    assert 'href="/staf/dasbor.csv?periode=bulan&amp;kelompok=kelurahan&amp;bulan=2026-03"' in html
    # The chart bars are drawn to scale: Cideng 100 % fills the track, Gambir a third.
    bars = dict(
        re.findall(
            r'<text class="chart-label"[^>]*>([^<]+)</text>.*?'
            r'class="chart-bar" x="0" y="\d+" width="([\d.]+)"',
            html,
        )
    )
    assert bars["Cideng, Kec. Gambir"] == "250.0"
    assert bars["Gambir, Kec. Gambir"] == "83.3"


def test_an_unreadable_period_is_explained_not_an_error(
    client: TestClient, settings: Settings
) -> None:
    logged_in(client, settings, "spv", "supervisor")
    page = client.get("/staf/dasbor?periode=rentang&dari=2026-03-10&sampai=2026-03-01")
    assert page.status_code == 200
    assert "Tanggal akhir tidak boleh sebelum tanggal awal." in page.text
    assert "Belum ada laporan pada periode ini." in page.text


def test_officers_cannot_see_the_dashboard_or_the_citys_overdue_list(
    client: TestClient, settings: Settings, march: dict[str, str]
) -> None:
    logged_in(client, settings, "gambir1", "officer", areas=[GAMBIR])
    for path in ("/staf/dasbor", f"/staf/dasbor.csv?{MARCH}", "/staf/terlambat"):
        response = client.get(path)
        assert response.status_code == 403, path
        assert "Pasar Baru" not in response.text
        assert march["C2"] not in response.text


def test_without_a_session_the_dashboard_sends_to_the_login_page(client: TestClient) -> None:
    response = client.get("/staf/dasbor", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/staf/masuk")


def test_admins_see_the_dashboard_too(client: TestClient, settings: Settings) -> None:
    logged_in(client, settings, "admin1", "admin")
    assert client.get("/staf/dasbor").status_code == 200
    assert client.get("/staf/terlambat").status_code == 200


# --- the overdue list ---------------------------------------------------------------------


def test_overdue_reports_are_counted_against_their_agency_and_kelurahan(
    client: TestClient, settings: Settings, march: dict[str, str]
) -> None:
    logged_in(client, settings, "spv", "supervisor")
    page = client.get("/staf/terlambat")
    html = page.text
    # A3, B2, C1, C2, and the unanswered reports of 28 February and 1 April.
    assert "6 laporan terbuka sudah lewat tenggat." in html
    agency = re.search(r'aria-labelledby="per-instansi".*?</table>', html, re.S)
    assert agency is not None
    assert re.search(r"Dinas Bina Marga</th><td[^>]*>1<", agency[0])
    assert re.search(r"Belum diteruskan ke instansi</th><td[^>]*>5<", agency[0])
    area = re.search(r'aria-labelledby="per-kelurahan".*?</table>', html, re.S)
    assert area is not None
    assert re.search(r"Gambir, Kec. Gambir</th><td[^>]*>3<", area[0])
    assert re.search(r"Pasar Baru, Kec. Sawah Besar</th><td[^>]*>2<", area[0])
    assert re.search(r"Cideng, Kec. Gambir</th><td[^>]*>1<", area[0])
    # Longest overdue first: the February report, then A3 (response due 5 March).
    order = re.findall(r'class="case-code" href="/staf/laporan/(\w+)"', html)
    assert order[:2] == [march["feb"], march["A3"]]
    assert order[-1] == march["apr"]
    assert set(order) == {march[k] for k in ("feb", "A3", "B2", "C1", "C2", "apr")}
    for done in ("A1", "A2", "B1"):
        assert march[done] not in html
    # No personal data on the list.
    assert "Siti" not in html


def test_the_overdue_list_pages_by_deadline_without_repeating_a_report(
    client: TestClient, settings: Settings
) -> None:
    first = wib(2026, 3, 2, 9)
    codes = create_many(settings, [first + timedelta(minutes=i) for i in range(60)])
    add_account(settings, "spv", "supervisor")
    assert login(client, "spv").status_code == 303
    page = client.get("/staf/terlambat")
    assert "60 laporan terbuka sudah lewat tenggat." in page.text
    seen = re.findall(r'class="case-code" href="/staf/laporan/(\w+)"', page.text)
    assert seen == codes[:50]
    following = re.search(r'rel="next" href="([^"]+)"', page.text)
    assert following is not None
    second = client.get(following[1].replace("&amp;", "&"))
    rest = re.findall(r'class="case-code" href="/staf/laporan/(\w+)"', second.text)
    assert rest == codes[50:]
    assert 'rel="next"' not in second.text
