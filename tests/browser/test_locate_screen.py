"""'Pakai lokasi saya' in real Chromium: the point fills the coordinates and selects the
kelurahan there, which the resident can still change; without JavaScript, coordinates
alone file the report in the right kelurahan."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.helpers import rows

pytestmark = pytest.mark.browser
CIDENG = "31.71.01.1002"
GAMBIR = "31.71.01.1001"


def located_page(browser: Any, url: str, lat: float, lon: float) -> tuple[Any, Any]:
    context = browser.new_context(
        locale="id-ID", permissions=["geolocation"], geolocation={"latitude": 0, "longitude": 0}
    )
    context.set_default_timeout(15_000)
    context.set_geolocation({"latitude": lat, "longitude": lon, "accuracy": 10})
    page = context.new_page()
    page.goto(url + "/lapor")
    return context, page


@pytest.mark.both_backends
def test_tapping_pakai_lokasi_saya_selects_the_kelurahan_which_stays_changeable(
    live_server: Any, browser: Any
) -> None:
    context, page = located_page(browser, live_server.url, -6.1756, 106.8095)
    try:
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        assert page.locator("#area").input_value() == ""
        page.get_by_role("button", name="Pakai lokasi saya sekarang").click()
        expect(page.locator("#area")).to_have_value(CIDENG, timeout=10_000)
        assert page.locator("#lat").input_value() == "-6.175600"
        assert page.locator("#lon").input_value() == "106.809500"
        assert "Cideng, Gambir" in page.locator("#location-status").inner_text()
        page.select_option("#area", GAMBIR)  # the resident knows better
        assert page.locator("#area").input_value() == GAMBIR
        assert errors == []  # no CSP violation, no script error
    finally:
        context.close()


def test_a_point_outside_every_kelurahan_says_so_and_leaves_the_choice_alone(
    live_server: Any, browser: Any
) -> None:
    context, page = located_page(browser, live_server.url, -5.95, 106.95)
    try:
        page.get_by_role("button", name="Pakai lokasi saya sekarang").click()
        status = page.locator("#location-status")
        status.filter(has_text="di luar wilayah layanan").wait_for()
        assert page.locator("#area").input_value() == ""
        assert page.locator("#lat").input_value() == "-5.950000"
    finally:
        context.close()


def test_without_javascript_coordinates_alone_file_the_report_in_their_kelurahan(
    live_server: Any, browser: Any
) -> None:
    context = browser.new_context(java_script_enabled=False, locale="id-ID")
    try:
        page = context.new_page()
        page.goto(live_server.url + "/lapor")
        page.select_option("#category", "jalan")
        page.fill("#description", "Jalan berlubang dalam di depan sekolah, motor sering jatuh.")
        page.fill("#lat", "-6,1756")  # as people write decimals here
        page.fill("#lon", "106,8095")
        page.get_by_role("button", name="Kirim laporan").click()
        page.wait_for_url(re.compile(r"/t/[0-9A-Z]{8}/struk"))
        assert rows(live_server.settings, "SELECT area_code FROM reports")[0][0] == CIDENG
    finally:
        context.close()


def test_with_javascript_typed_coordinates_without_a_kelurahan_go_through_the_outbox(
    live_server: Any, context: Any
) -> None:
    """The form's own check lets a point stand in for the kelurahan, as the server does."""
    page = context.new_page()
    page.goto(live_server.url + "/lapor")
    page.select_option("#category", "jalan")
    page.fill("#description", "Jalan berlubang dalam di depan sekolah, motor sering jatuh.")
    page.fill("#lat", "-6.1754")
    page.fill("#lon", "106.8272")
    page.get_by_role("button", name="Kirim laporan").click()
    page.wait_for_url(re.compile(r"/t/[0-9A-Z]{8}/struk"))
    assert rows(live_server.settings, "SELECT area_code FROM reports")[0][0] == GAMBIR
