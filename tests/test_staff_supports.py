"""Supports and nearby reports on the staff side: the inbox shows each case's support count
and sorts by it (paged), and the case page lists open reports of the same category within
1 km that the officer may see, each merged into with one tap."""

from __future__ import annotations

import re

import pytest
from starlette.testclient import TestClient

from tests.backend import execute, scalar
from tests.helpers import CIDENG, GAMBIR, add_account, hidden, login
from tests.test_nearby import report_at
from web.settings import Settings

CODE_LINK = re.compile(r'<a class="case-code" href="/staf/laporan/([0-9A-Z]{8})"')


def supported(settings: Settings, code: str, count: int) -> None:
    execute(
        settings, "UPDATE reports SET support_count = :n WHERE code = :c", {"n": count, "c": code}
    )


@pytest.fixture
def admin(client: TestClient, settings: Settings) -> TestClient:
    add_account(settings, "admin", "admin")
    login(client, "admin")
    return client


def test_the_inbox_sorts_by_support_count_most_first_across_pages(
    admin: TestClient, settings: Settings
) -> None:
    codes = [report_at(settings, north_m=5000 + i) for i in range(30)]
    for i, code in enumerate(codes):
        supported(settings, code, (i * 7) % 11)
    expected = sorted(codes, key=lambda c: (-((codes.index(c) * 7) % 11), -codes.index(c)))
    first = admin.get("/staf?urut=dukungan")
    assert first.status_code == 200
    assert CODE_LINK.findall(first.text) == expected[:25]
    assert "Didukung 10 warga" in first.text
    next_link = re.search(r'rel="next" href="/staf\?([^"]+)"', first.text)
    assert next_link is not None
    second = admin.get("/staf?" + next_link[1].replace("&amp;", "&"))
    assert CODE_LINK.findall(second.text) == expected[25:]
    # by deadline (the default) the order is the filing order
    assert CODE_LINK.findall(admin.get("/staf").text) == codes[:25]


def test_the_case_page_lists_nearby_reports_in_scope_and_merges_with_one_tap(
    client: TestClient, settings: Settings
) -> None:
    add_account(settings, "gambir1", areas=[GAMBIR])
    login(client, "gambir1")
    case = report_at(settings, north_m=0)
    near = report_at(settings, north_m=600)
    report_at(settings, north_m=1500)  # beyond 1 km
    report_at(settings, north_m=50, category="sampah")  # another category
    other_area = report_at(settings, north_m=100, area=CIDENG)  # outside this officer's scope
    page = client.get(f"/staf/laporan/{case}")
    listed = re.findall(r'<li data-code="([0-9A-Z]{8})"', page.text)
    assert listed == [near]
    assert other_area not in page.text
    merged = client.post(
        f"/staf/laporan/{case}/duplicate",
        data={
            "csrf_token": hidden(page.text, "csrf_token"),
            "version": re.search(r'name="version" value="(\d+)"', page.text)[1],  # type: ignore[index]
            "duplicate_of": near,
        },
        follow_redirects=False,
    )
    assert merged.status_code == 303
    assert (
        scalar(settings, "SELECT status FROM reports WHERE code = :c", {"c": case}) == "duplicate"
    )


def test_staff_intake_lists_open_reports_within_1_km_in_scope_only(
    client: TestClient, settings: Settings
) -> None:
    add_account(settings, "gambir1", areas=[GAMBIR])
    near = report_at(settings, north_m=700)
    report_at(settings, north_m=1200)  # beyond 1 km
    other_area = report_at(settings, north_m=100, area=CIDENG)
    params = {"category": "jalan", "lat": "-6.1754", "lon": "106.8272"}
    assert client.get("/staf/sekitar", params=params, follow_redirects=False).status_code in (
        302,
        303,
        401,
    )
    login(client, "gambir1")
    assert 'data-url="/staf/sekitar"' in client.get("/staf/lapor").text
    fragment = client.get("/staf/sekitar", params=params)
    assert re.findall(r'<li data-code="([0-9A-Z]{8})"', fragment.text) == [near]
    assert other_area not in fragment.text
