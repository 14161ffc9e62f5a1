"""The public performance report: last month's figures per kelurahan and per agency, the
ranking, the names of those who did not respond in time — and nothing personal or
confidential, for anyone who asks."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.backend import query
from tests.helpers import add_account, login
from tests.test_deadlines import CIDENG, GAMBIR, PASAR_BARU, WIB, create, move
from web import clock, stats
from web.settings import Settings

NAME, PHONE, EMAIL = "Ratna Sari Dewi", "081377788899", "ratna.dewi@example.id"
PUNGLI_TEXT = "PUNGLI-RAHASIA-petugas-minta-uang"
FLAGGED_TEXT = "RAHASIA-ATAS-PERMINTAAN-PELAPOR"


def last_month_day(day: int, hour: int = 9) -> datetime:
    first = stats.last_full_month(clock.local_today("Asia/Jakarta")).first
    return datetime.combine(first + timedelta(days=day - 1), datetime.min.time(), WIB).replace(
        hour=hour
    )


@pytest.fixture
def last_month(settings: Settings) -> dict[str, str]:
    """Gambir: G1 answered in 2 h (forwarded to DLH), G2 in 30 h (late) · Cideng: K1 in 1 h,
    plus two confidential reports answered late · Pasar Baru: P1 never answered (late)."""
    c = {}
    c["G1"] = create(
        settings,
        last_month_day(2),
        GAMBIR,
        reporter_name=NAME,
        reporter_phone=PHONE,
        reporter_email=EMAIL,
        description="Sampah di depan rumah Bu Ratna, Jalan Kenari 7.",
    )
    move(settings, c["G1"], "verify", last_month_day(2, 11))
    move(settings, c["G1"], "dispatch", last_month_day(3), agency_code="DLH")
    c["G2"] = create(settings, last_month_day(3), GAMBIR)
    move(settings, c["G2"], "verify", last_month_day(4, 15))
    c["K1"] = create(settings, last_month_day(4), CIDENG)
    move(settings, c["K1"], "verify", last_month_day(4, 10))
    c["P1"] = create(settings, last_month_day(5), PASAR_BARU)
    c["pungli"] = create(
        settings,
        last_month_day(6),
        CIDENG,
        category="pungli",
        description=PUNGLI_TEXT,
        reporter_name=NAME,
        reporter_phone=PHONE,
    )
    move(settings, c["pungli"], "verify", last_month_day(9))
    c["flagged"] = create(
        settings, last_month_day(7), CIDENG, confidential=True, description=FLAGGED_TEXT
    )
    move(settings, c["flagged"], "dispatch", last_month_day(10), agency_code="SATPOLPP")
    return c


def test_last_months_figures_rank_who_responded_in_time(
    client: TestClient, last_month: dict[str, str]
) -> None:
    response = client.get("/kinerja")
    assert response.status_code == 200
    html = response.text
    assert "50%" in html and "(2 dari 4)" in html  # the city: confidential ones left out
    ranking = re.search(r'id="tabel-kelurahan".*?</table>', html, re.S)
    assert ranking is not None
    names = re.findall(r'<th scope="row">(?:<a href="/wilayah/[0-9.]+">)?([^<]+)', ranking[0])
    assert names == [
        "Cideng, Kec. Gambir",
        "Gambir, Kec. Gambir",
        "Pasar Baru, Kec. Sawah Besar",
        "Seluruh kota",
    ]
    agencies = re.search(r'id="tabel-instansi".*?</table>', html, re.S)
    assert agencies is not None
    assert "Dinas Lingkungan Hidup" in agencies[0]
    assert "Belum diteruskan ke instansi" in agencies[0]
    assert "Satuan Polisi Pamong Praja" not in html  # its only report is confidential


def test_those_who_did_not_respond_in_time_are_named(
    client: TestClient, last_month: dict[str, str]
) -> None:
    html = client.get("/kinerja").text
    named = re.search(r'aria-labelledby="terlambat-kelurahan">(.*?)</ul>', html, re.S)
    assert named is not None
    assert "<strong>Gambir, Kec. Gambir</strong>" in named[1]
    assert "<strong>Pasar Baru, Kec. Sawah Besar</strong>" in named[1]
    assert "1 laporan terlambat ditanggapi dari 2" in named[1]
    # Cideng's only late answers were to confidential reports, which are not counted.
    assert "Cideng" not in named[1]
    assert 'id="grafik-kelurahan"' in html and 'role="img"' in html


def test_the_public_report_holds_no_personal_data_and_no_confidential_report(
    client: TestClient, last_month: dict[str, str]
) -> None:
    for period in ("", "?periode=triwulan"):
        html = client.get(f"/kinerja{period}").text
        for secret in (NAME, PHONE, EMAIL, PUNGLI_TEXT, FLAGGED_TEXT, "Jalan Kenari", "Pungutan"):
            assert secret not in html, secret
        for code in last_month.values():
            assert code not in html
            assert f"{code[:4]}-{code[4:]}" not in html


def cache_directives(response: Any) -> dict[str, str]:
    found = {}
    for part in response.headers.get("cache-control", "").split(","):
        name, _, value = part.strip().lower().partition("=")
        found[name] = value
    return found


def varies_by_cookie(response: Any) -> bool:
    vary = {v.strip().lower() for v in response.headers.get("vary", "").split(",")}
    return "cookie" in vary or "*" in vary


def test_the_public_report_is_open_to_all(client: TestClient) -> None:
    response = client.get("/kinerja")
    assert response.status_code == 200
    assert "Belum ada laporan pada periode ini." in response.text
    assert "aduan_staf" not in response.headers.get("set-cookie", "")


def test_no_cache_can_hand_one_language_of_the_report_to_a_reader_of_the_other(
    client: TestClient,
) -> None:
    """The language comes from the `lang` cookie, so a copy kept by the browser or a proxy
    must never be reused for a reader with another cookie without asking the server."""
    indonesian = client.get("/kinerja")
    client.cookies.set("lang", "en")
    english = client.get("/kinerja")
    assert "Kinerja penanganan laporan" in indonesian.text
    assert "How reports are handled" in english.text
    for response in (indonesian, english):
        directives = cache_directives(response)
        assert "public" not in directives, response.headers["cache-control"]
        # Every stored copy is checked with the server before use …
        assert "no-cache" in directives or "no-store" in directives or "private" in directives
        # … and a shared cache keeps one copy per cookie.
        assert varies_by_cookie(response)
    # Checking the Indonesian copy for an English reader brings the English page, not a 304.
    assert indonesian.headers["etag"] != english.headers["etag"]
    checked = client.get("/kinerja", headers={"If-None-Match": indonesian.headers["etag"]})
    assert checked.status_code == 200 and "How reports are handled" in checked.text
    # The same reader with the same language gets a 304 of a few bytes.
    again = client.get("/kinerja", headers={"If-None-Match": english.headers["etag"]})
    assert again.status_code == 304 and again.content == b""


def test_every_public_page_in_the_readers_language_varies_by_cookie(client: TestClient) -> None:
    """The same bug on the other resident pages: none may be cached by URL alone."""
    for path in ("/", "/lapor", "/kinerja", "/offline", "/laporan-saya", "/staf/masuk"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "public" not in cache_directives(response), path
        assert varies_by_cookie(response), path


def test_the_quarter_view_names_the_last_full_quarter(client: TestClient) -> None:
    html = client.get("/kinerja?periode=triwulan").text
    quarter = stats.last_full_quarter(clock.local_today("Asia/Jakarta"))
    numeral = ("I", "II", "III", "IV")[(quarter.first.month - 1) // 3]
    assert f"Triwulan {numeral} {quarter.first.year}" in html
    assert 'href="/kinerja?periode=triwulan" aria-current="page"' in html


def test_the_last_full_month_never_includes_this_month() -> None:
    today = clock.local_today("Asia/Jakarta")
    period = stats.last_full_month(today)
    assert period.last < today.replace(day=1) and period.first.day == 1
    assert period.last + timedelta(days=1) == date(today.year, today.month, 1)


def chart_rows(html: str, chart_id: str) -> list[tuple[str, float, str]]:
    """(label line, bar width, value text) of each bar of one chart."""
    svg = re.search(rf'<svg class="chart" id="{chart_id}".*?</svg>', html, re.S)
    assert svg is not None, chart_id
    found = []
    for row in re.findall(r'<g class="chart-row">(.*?)</g>', svg[0], re.S):
        label = re.sub(r"<[^>]+>", "", re.search(r'class="chart-label"[^>]*>(.*?)</text>', row)[1])
        bar = re.search(r'class="chart-bar[^"]*"[^>]*width="([\d.]+)"', row)
        value = re.search(r'class="chart-value"[^>]*>([^<]*)</text>', row)[1]
        found.append((label, float(bar[1]) if bar else 0.0, value))
    return found


def test_the_most_often_late_chart_draws_the_share_answered_late(
    client: TestClient, last_month: dict[str, str]
) -> None:
    """Pasar Baru answered its one judged report late, Gambir one of two, Cideng none (its
    late answers were confidential): the bars are the late share, worst first, and a group
    with nothing late is not drawn as an empty "0%" bar."""
    html = client.get("/kinerja").text
    bars = chart_rows(html, "grafik-kelurahan")
    assert [(label, value) for label, _, value in bars] == [
        ("Pasar Baru, Kec. Sawah Besar · 1 dari 1 terlambat", "100%"),
        ("Gambir, Kec. Gambir · 1 dari 2 terlambat", "50%"),
    ]
    full, half = bars[0][1], bars[1][1]
    assert full > 0 and abs(half - full / 2) < 0.2
    assert "Kelurahan yang paling sering terlambat menanggapi" in html
    # Per agency: the reports not forwarded yet (G2 and P1 late, K1 in time); DLH was never
    # late, so it has no bar.
    agencies = chart_rows(html, "grafik-instansi")
    assert [(label, value) for label, _, value in agencies] == [
        ("Belum diteruskan ke instansi · 2 dari 3 terlambat", "66,7%")
    ]
    # The list names the same groups in the same order, for screen readers.
    named = re.search(r'aria-labelledby="terlambat-kelurahan">(.*?)</ul>', html, re.S)
    assert named is not None
    assert named[1].index("Pasar Baru") < named[1].index("Gambir")


def test_the_chart_shows_the_ten_most_often_late_and_names_the_others_behind_one_tap(
    client: TestClient, settings: Settings
) -> None:
    areas = [
        r["code"]
        for r in query(settings, "SELECT code FROM areas WHERE level = 4 ORDER BY code LIMIT 14")
    ]
    for index, area in enumerate(areas):
        for n in range(index % 3 + 1):  # never answered: late
            create(settings, last_month_day(2 + n), area)
    html = client.get("/kinerja").text
    assert len(chart_rows(html, "grafik-kelurahan")) == 10
    assert "10 yang paling sering terlambat dari 14" in html
    more = re.search(r'<details class="more-late">(.*?)</details>', html, re.S)
    assert more is not None and "4 lagi yang terlambat" in more[1]
    assert more[1].count("<li>") == 4
    # Every group is still in the ranking, one tap away, in three columns.
    ranking = re.search(r'<details class="ranking">(.*?)</details>', html, re.S)
    assert ranking is not None and "Peringkat semua kelurahan (14)" in ranking[1]
    assert ranking[1].count('<th scope="row">') == 15  # and the city
    assert ranking[1].count('<th scope="col"') == 3


def test_the_public_page_speaks_plainly_and_the_dashboard_keeps_the_exact_definition(
    client: TestClient, settings: Settings, last_month: dict[str, str]
) -> None:
    html = client.get("/kinerja").text
    assert "9 dari 10 laporan ditanggapi dalam" in html
    assert "Separuh laporan ditanggapi dalam" in html
    for jargon in ("persentil", "peringkat terdekat", "Median", "90%"):
        assert jargon not in html, jargon
    client.cookies.set("lang", "en")
    english = client.get("/kinerja").text
    assert "9 out of 10 reports answered within" in english
    for jargon in ("percentile", "nearest rank", "Median", "90%"):
        assert jargon not in english, jargon
    client.cookies.delete("lang")
    add_account(settings, "spv", "supervisor")
    login(client, "spv")
    dashboard = client.get("/staf/dasbor").text
    assert "persentil ke-90 dengan metode peringkat terdekat" in dashboard
    assert "⌈0,9 × n⌉" in dashboard


def test_every_figure_of_every_group_is_in_the_public_csv(
    client: TestClient, last_month: dict[str, str]
) -> None:
    html = client.get("/kinerja").text
    assert 'href="/kinerja.csv?periode=bulan&amp;kelompok=kelurahan"' in html
    response = client.get("/kinerja.csv?periode=bulan&kelompok=kelurahan")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    lines = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert lines[0][:5] == [
        "Kelurahan",
        "Diterima",
        "Ditanggapi tepat waktu",
        "Ditanggapi terlambat",
        "Tepat waktu (%)",
    ]
    assert len(lines[0]) == 14
    by_name = {line[0]: line for line in lines[1:]}
    assert by_name["Gambir, Kec. Gambir"][1:5] == ["2", "1", "1", "50.0"]
    assert by_name["Seluruh kota"][1:5] == ["4", "2", "2", "50.0"]
    body = response.text
    for secret in (NAME, PHONE, PUNGLI_TEXT, FLAGGED_TEXT, *last_month.values()):
        assert secret not in body
    agencies = client.get("/kinerja.csv?periode=triwulan&kelompok=instansi").text
    assert agencies.lstrip("\ufeff").startswith("Instansi,")
    assert "Satuan Polisi Pamong Praja" not in agencies  # its only report is confidential
