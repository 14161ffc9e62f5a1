"""The dashboard and the public performance page in real Chromium on a 360 px phone: no
sideways scrolling, the SVG charts drawn with bars, no CSP or script error. Screenshots go
to test-artifacts/ for people to look at."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.test_deadlines import create, move
from tests.test_kinerja import last_month_day
from tests.test_staff_auth import PASSWORD, add_account
from web import stats
from web.settings import Settings

pytestmark = pytest.mark.browser
ARTIFACTS = Path(__file__).resolve().parent.parent.parent / "test-artifacts"
# Long names on purpose: they must wrap, not push the page sideways.
KELURAHAN = (
    "31.71.01.1001",  # Gambir
    "31.71.01.1002",  # Cideng
    "31.71.02.1004",  # Gunung Sahari Utara
    "31.71.02.1005",  # Mangga Dua Selatan
    "31.71.01.1004",  # Petojo Selatan
)


def a_month_of_reports(settings: Settings) -> None:
    for index, area in enumerate(KELURAHAN):
        for n in range(index + 1):
            code = create(settings, last_month_day(2 + n, 8 + index), area)
            if n % 2 == 0:
                move(settings, code, "verify", last_month_day(2 + n, 9 + index + 2 * n))
            if n == 0:
                move(settings, code, "dispatch", last_month_day(3 + n), agency_code="DLH")
            if n == 1:
                move(settings, code, "resolve", last_month_day(5 + n))


def phone(browser: Any) -> Any:
    return browser.new_context(
        viewport={"width": 360, "height": 740},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="id-ID",
    )


def watch(page: Any) -> list[str]:
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    return problems


def assert_fits_and_charts_render(page: Any, name: str) -> None:
    overflow = page.evaluate(
        "document.scrollingElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{name} scrolls sideways by {overflow}px at 360px"
    charts = page.locator("svg.chart")
    assert charts.count() >= 1
    first = charts.first
    first.scroll_into_view_if_needed()
    box = first.bounding_box()
    assert box is not None and 280 <= box["width"] <= 360
    assert first.get_attribute("role") == "img"
    assert first.locator("title").text_content()
    bars = first.locator("rect.chart-bar")
    assert bars.count() >= 1
    widths = [b["width"] for b in (bars.nth(i).bounding_box() for i in range(bars.count())) if b]
    assert max(widths) > 10  # drawn, not just present
    # A label is legible: at least 11 CSS pixels high on the phone.
    label = first.locator("text.chart-label").first.bounding_box()
    assert label is not None and label["height"] >= 11
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}-360.png"), full_page=True)


def test_the_dashboard_fits_a_360_px_phone_with_its_charts(live_server: Any, browser: Any) -> None:
    settings = live_server.settings
    a_month_of_reports(settings)
    add_account(settings, "spv", "supervisor")
    period = stats.last_full_month(stats.local_today(settings.timezone))
    context = phone(browser)
    try:
        page = context.new_page()
        problems = watch(page)
        page.goto(f"{live_server.url}/staf/dasbor?periode=bulan&bulan={period.month_value}")
        page.get_by_label("Nama pengguna").fill("spv")
        page.get_by_label("Kata sandi").fill(PASSWORD)
        page.get_by_role("button", name="Masuk").click()
        page.wait_for_url("**/staf/dasbor?**")
        assert page.locator("h1").inner_text() == "Dasbor kinerja"
        assert page.locator("table.figures tbody tr").count() == len(KELURAHAN)
        assert_fits_and_charts_render(page, "dashboard")
        # The table scrolls inside its own region, which a keyboard can reach.
        region = page.locator(".table-scroll").first
        assert region.get_attribute("tabindex") == "0"
        assert page.evaluate(
            "(() => { const r = document.querySelector('.table-scroll');"
            " return r.scrollWidth > r.clientWidth; })()"
        )
        # Changing the grouping through the plain form works without any script.
        page.get_by_label("Kelompokkan menurut").select_option("instansi")
        page.get_by_role("button", name="Tampilkan").click()
        page.wait_for_url("**kelompok=instansi**")
        assert "Dinas Lingkungan Hidup" in page.locator("table.figures").inner_text()
        assert problems == []
    finally:
        context.close()


def test_the_public_performance_page_fits_a_360_px_phone_with_its_charts(
    live_server: Any, browser: Any
) -> None:
    a_month_of_reports(live_server.settings)
    context = phone(browser)
    try:
        page = context.new_page()
        problems = watch(page)
        page.goto(f"{live_server.url}/kinerja")
        assert page.locator("h1").inner_text() == "Kinerja penanganan laporan"
        assert page.locator("#tabel-kelurahan tbody tr").count() == len(KELURAHAN)
        assert_fits_and_charts_render(page, "kinerja")
        assert problems == []
    finally:
        context.close()


def test_every_accountability_page_fits_a_320_px_screen(live_server: Any, browser: Any) -> None:
    settings = live_server.settings
    a_month_of_reports(settings)
    add_account(settings, "admin1", "admin")
    period = stats.last_full_month(stats.local_today(settings.timezone))
    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(viewport={"width": 320, "height": 640}, locale="id-ID")
    try:
        page = context.new_page()
        problems = watch(page)
        page.goto(f"{live_server.url}/staf/masuk")
        page.get_by_label("Nama pengguna").fill("admin1")
        page.get_by_label("Kata sandi").fill(PASSWORD)
        page.get_by_role("button", name="Masuk").click()
        page.wait_for_url(f"{live_server.url}/staf")
        for path in (
            f"/staf/dasbor?periode=bulan&bulan={period.month_value}&kelompok=kecamatan",
            "/staf/terlambat",
            "/staf/admin/tenggat",
            "/staf/admin/libur",
            "/kinerja?periode=triwulan",
        ):
            page.goto(live_server.url + path)
            overflow = page.evaluate(
                "document.scrollingElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, f"{path} scrolls sideways by {overflow}px at 320px"
            name = path.split("?")[0].strip("/").replace("/", "-")
            page.screenshot(path=str(ARTIFACTS / f"{name}-320.png"), full_page=True)
        assert problems == []
    finally:
        context.close()
