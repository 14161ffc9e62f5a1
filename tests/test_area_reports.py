"""The public list of one kelurahan's reports, `/wilayah/{kode}`: newest first, paged, linked
from /kinerja; never a confidential report, a reporter, a description or a point."""

from __future__ import annotations

import gzip
import re
from datetime import UTC, datetime, timedelta

from starlette.testclient import TestClient

from tests.test_deadlines import CIDENG, GAMBIR, create, create_many
from tests.test_kinerja import last_month_day
from web.settings import Settings


def codes_on(html: str) -> list[str]:
    return re.findall(r'<li class="outbox-item" data-code="([0-9A-Z]{8})"', html)


def test_a_kelurahan_lists_its_reports_newest_first_and_no_confidential_or_personal_data(
    settings: Settings, client: TestClient
) -> None:
    start = datetime(2026, 11, 2, 2, tzinfo=UTC)
    older = create(settings, start, GAMBIR, category="jalan")
    newer = create(
        settings,
        start + timedelta(hours=3),
        GAMBIR,
        reporter_name="Siti Aminah",
        reporter_phone="081234567890",
        reporter_email="siti@contoh.id",
        address="Gang Kelor nomor 7",
        description="Sampah menumpuk di depan rumah Pak Budi sejak seminggu.",
        lat=-6.175412,
        lon=106.827211,
    )
    secret = create(
        settings,
        start + timedelta(hours=4),
        GAMBIR,
        category="pungli",
        confidential=True,
        description="Pungutan liar di loket kelurahan oleh petugas.",
    )
    elsewhere = create(settings, start + timedelta(hours=5), CIDENG)
    page = client.get(f"/wilayah/{GAMBIR}")
    assert page.status_code == 200
    assert codes_on(page.text) == [newer, older]
    for leak in (
        secret,
        elsewhere,
        "Siti",
        "0812",
        "siti@",
        "Gang Kelor",
        "Pak Budi",
        "Pungutan",
        "-6.175",
        "106.827",
    ):
        assert leak not in page.text
    assert "Jalan" in page.text and "Diterima" in page.text


def test_the_list_is_paged_twenty_at_a_time(settings: Settings, client: TestClient) -> None:
    start = datetime(2026, 11, 2, 2, tzinfo=UTC)
    made = create_many(settings, [start + timedelta(minutes=i) for i in range(23)], GAMBIR)
    newest_first = list(reversed(made))
    first = client.get(f"/wilayah/{GAMBIR}")
    assert codes_on(first.text) == newest_first[:20]
    assert f'href="/wilayah/{GAMBIR}?hal=2"' in first.text
    # a full page is one round trip on 2G (HTML only; the CSS is the site's, cached)
    assert len(gzip.compress(first.content)) <= 4 * 1024, len(gzip.compress(first.content))
    second = client.get(f"/wilayah/{GAMBIR}?hal=2")
    assert codes_on(second.text) == newest_first[20:]
    assert "hal=3" not in second.text
    assert codes_on(client.get(f"/wilayah/{GAMBIR}?hal=abc").text) == newest_first[:20]


def test_an_unknown_or_non_kelurahan_code_is_not_found(client: TestClient) -> None:
    assert client.get("/wilayah/99.99.99.9999").status_code == 404
    assert client.get("/wilayah/31.71.01").status_code == 404  # a kecamatan


def test_kinerja_links_each_kelurahan_to_its_list(settings: Settings, client: TestClient) -> None:
    create(settings, last_month_day(3), GAMBIR)
    page = client.get("/kinerja")
    assert f'href="/wilayah/{GAMBIR}"' in page.text
