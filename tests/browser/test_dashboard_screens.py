"""The dashboard and the public performance page in real Chromium on a 360 px phone: no
sideways scrolling, the SVG charts drawn with bars, no CSP or script error. Screenshots go
to test-artifacts/ for people to look at."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.helpers import PASSWORD, add_account
from tests.test_deadlines import create, move
from tests.test_kinerja import last_month_day
from web import clock, stats
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
    period = stats.last_full_month(clock.local_today(settings.timezone))
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
        # Every bar is a share answered late, and drawn: no empty "0%" bars.
        values = page.locator("#grafik-kelurahan text.chart-value").all_inner_texts()
        assert values and "0%" not in values
        # The ranking opens in place and its three columns fit the phone.
        page.get_by_text("Peringkat semua kelurahan (5)").click()
        table = page.locator("#tabel-kelurahan")
        table.scroll_into_view_if_needed()
        assert table.is_visible()
        box = table.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 360
        assert page.evaluate("document.scrollingElement.scrollWidth") <= 360
        page.screenshot(path=str(ARTIFACTS / "kinerja-ranking-360.png"), full_page=True)
        assert problems == []
    finally:
        context.close()


def test_the_public_performance_page_reads_plainly_in_english_on_a_phone(
    live_server: Any, browser: Any
) -> None:
    a_month_of_reports(live_server.settings)
    context = phone(browser)
    context.add_cookies([{"name": "lang", "value": "en", "url": live_server.url}])
    try:
        page = context.new_page()
        problems = watch(page)
        page.goto(f"{live_server.url}/kinerja")
        assert page.locator("h1").inner_text() == "How reports are handled"
        summary = page.locator("dl.tiles").inner_text()
        assert "9 out of 10 reports answered within" in summary
        assert "Half of the reports answered within" in summary
        assert "Kelurahan most often late to respond" in page.locator("main").inner_text()
        assert page.evaluate("document.scrollingElement.scrollWidth") <= 360
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "kinerja-en-360.png"), full_page=True)
        assert problems == []
    finally:
        context.close()


SCREEN = 640
KINERJA_SCREENS = 4  # at 360 × 640, with 30 kelurahan late (14 screens and more before)


def test_the_public_performance_page_stays_a_few_screens_long_for_a_big_city(
    live_server: Any, browser: Any
) -> None:
    """30 kelurahan and 5 agencies, each late at least once: the page used to list every one
    of them three times (list, chart, 10-column table)."""
    settings = live_server.settings
    areas = [
        r[0] for r in live_server.rows("SELECT code FROM areas WHERE level = 4 ORDER BY code")
    ][:30]
    agencies = [r[0] for r in live_server.rows("SELECT code FROM agencies ORDER BY code")][:5]
    for index, area in enumerate(areas):
        for n in range(index % 3 + 1):
            code = create(settings, last_month_day(2 + n, 8), area)
            if n == 1:
                move(settings, code, "verify", last_month_day(2 + n, 9))
            if n == 0:
                agency = agencies[index % len(agencies)]
                move(settings, code, "dispatch", last_month_day(4 + n), agency_code=agency)
    context = browser.new_context(
        viewport={"width": 360, "height": SCREEN}, is_mobile=True, has_touch=True, locale="id-ID"
    )
    try:
        page = context.new_page()
        problems = watch(page)
        page.goto(f"{live_server.url}/kinerja")
        assert page.locator("#tabel-kelurahan tbody tr").count() == 30
        assert page.locator("#grafik-kelurahan rect.chart-bar").count() == 10
        assert page.evaluate("document.scrollingElement.scrollWidth") <= 360
        height = page.evaluate("document.scrollingElement.scrollHeight")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "kinerja-30-kelurahan-360.png"), full_page=True)
        assert height <= KINERJA_SCREENS * SCREEN, f"{height / SCREEN:.1f} screens"
        assert problems == []
    finally:
        context.close()


def test_the_public_performance_page_follows_the_language_switch_at_once(
    live_server: Any, browser: Any
) -> None:
    """A copy of the page in the browser's HTTP cache is used only once the server has
    confirmed it is the same page in the same language: after switching language anywhere,
    the next visit shows the other language at once (it used to keep the old one for ten
    minutes)."""
    a_month_of_reports(live_server.settings)
    context = phone(browser)
    try:
        page = context.new_page()
        page.goto(f"{live_server.url}/kinerja")
        assert page.locator("h1").inner_text() == "Kinerja penanganan laporan"
        page.goto(f"{live_server.url}/")
        page.get_by_role("button", name="English").click()
        page.wait_for_load_state()
        page.get_by_role("link", name="Service performance").click()
        page.wait_for_url("**/kinerja")
        assert page.locator("h1").inner_text() == "How reports are handled"
        page.get_by_role("button", name="Bahasa Indonesia").click()
        page.wait_for_url("**/kinerja")
        assert page.locator("h1").inner_text() == "Kinerja penanganan laporan"
        page.goto(f"{live_server.url}/")
        page.get_by_role("button", name="English").click()
        page.wait_for_load_state()
        page.get_by_role("link", name="Service performance").click()
        page.wait_for_url("**/kinerja")
        assert page.locator("h1").inner_text() == "How reports are handled"
        # A repeat visit in the same language is a 304, not the whole page again.
        live_server.recorder.clear()
        page.goto(f"{live_server.url}/")
        page.get_by_role("link", name="Service performance").click()
        page.wait_for_url("**/kinerja")
        hits = [h for h in live_server.recorder.hits if h.path == "/kinerja"]
        assert hits and hits[-1].status == 304 and hits[-1].bytes_out < 2000
        assert page.locator("h1").inner_text() == "How reports are handled"
    finally:
        context.close()
