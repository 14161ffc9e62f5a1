"""The public performance report: last month's figures per kelurahan and per agency, the
ranking, the names of those who did not respond in time — and nothing personal or
confidential, for anyone who asks."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import pytest
from starlette.testclient import TestClient

from tests.test_deadlines import CIDENG, GAMBIR, PASAR_BARU, WIB, create, move
from web import stats
from web.settings import Settings

NAME, PHONE, EMAIL = "Ratna Sari Dewi", "081377788899", "ratna.dewi@example.id"
PUNGLI_TEXT = "PUNGLI-RAHASIA-petugas-minta-uang"
FLAGGED_TEXT = "RAHASIA-ATAS-PERMINTAAN-PELAPOR"


def last_month_day(day: int, hour: int = 9) -> datetime:
    first = stats.last_full_month(stats.local_today("Asia/Jakarta")).first
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
    names = re.findall(r'<th scope="row">([^<]+)</th>', ranking[0])
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
    for query in ("", "?periode=triwulan"):
        html = client.get(f"/kinerja{query}").text
        for secret in (NAME, PHONE, EMAIL, PUNGLI_TEXT, FLAGGED_TEXT, "Jalan Kenari", "Pungutan"):
            assert secret not in html, secret
        for code in last_month.values():
            assert code not in html
            assert f"{code[:4]}-{code[4:]}" not in html


def test_the_public_report_is_open_to_all_and_cacheable(client: TestClient) -> None:
    response = client.get("/kinerja")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "public, max-age=600"
    assert "Belum ada laporan pada periode ini." in response.text
    assert "aduan_staf" not in response.headers.get("set-cookie", "")


def test_the_quarter_view_names_the_last_full_quarter(client: TestClient) -> None:
    html = client.get("/kinerja?periode=triwulan").text
    quarter = stats.last_full_quarter(stats.local_today("Asia/Jakarta"))
    numeral = ("I", "II", "III", "IV")[(quarter.first.month - 1) // 3]
    assert f"Triwulan {numeral} {quarter.first.year}" in html
    assert 'href="/kinerja?periode=triwulan" aria-current="page"' in html


def test_the_last_full_month_never_includes_this_month() -> None:
    today = stats.local_today("Asia/Jakarta")
    period = stats.last_full_month(today)
    assert period.last < today.replace(day=1) and period.first.day == 1
    assert period.last + timedelta(days=1) == date(today.year, today.month, 1)
