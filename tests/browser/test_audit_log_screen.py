"""The audit log page in real Chromium on a 360 px phone: every change readable without
sideways scrolling, long names wrapped, the filter usable as a plain form."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.browser.test_accessibility import audited, violations  # noqa: F401 (fixture)
from tests.browser.test_dashboard_screens import ARTIFACTS, phone, watch
from tests.helpers import PASSWORD, add_account
from tests.test_audit_log_page import holiday_added, targets_changed, write_entries

pytestmark = pytest.mark.browser
LONG_NAME = "Cuti bersama Hari Raya Idul Fitri 1448 Hijriah dan Hari Lahir Pancasila"


def test_the_change_log_fits_a_360_px_phone(live_server: Any, browser: Any) -> None:
    settings = live_server.settings
    now = datetime.now(UTC)
    write_entries(
        settings,
        [
            holiday_added("2026-03-19", now - timedelta(hours=3), name=LONG_NAME),
            targets_changed("sampah", now - timedelta(hours=2)),
            (
                "account.edit",
                "users",
                "12",
                {
                    "username": "petugas.kecamatan.gambir",
                    "role": "officer",
                    "agency_code": None,
                    "areas": ["31.71.01.1001"],
                    "active": True,
                },
                {
                    "username": "petugas.kecamatan.gambir",
                    "role": "officer",
                    "agency_code": "DLH",
                    "areas": ["31.71.01.1001", "31.71.01.1002", "31.71.01.1003", "31.71.01.1004"],
                    "active": True,
                    "display_name_changed": True,
                },
                now - timedelta(hours=1),
            ),
        ],
    )
    add_account(settings, "spv", "supervisor")
    context = phone(browser)
    try:
        page = context.new_page()
        problems = watch(page)
        page.goto(f"{live_server.url}/staf/admin/log")
        page.get_by_label("Nama pengguna").fill("spv")
        page.get_by_label("Kata sandi").fill(PASSWORD)
        page.get_by_role("button", name="Masuk").click()
        page.wait_for_url("**/staf/admin/log")
        assert page.locator("h1").inner_text() == "Log perubahan aturan"
        cards = page.locator("li.audit-entry")
        assert cards.count() == 3
        overflow = page.evaluate(
            "document.scrollingElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"the log scrolls sideways by {overflow}px at 360px"
        for index in range(cards.count()):
            box = cards.nth(index).bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 360
        assert "Gambir (31.71.01.1001)" in cards.first.inner_text()
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "staf-admin-log-360.png"), full_page=True)
        # The filter is a plain GET form.
        page.get_by_label("Jenis perubahan").select_option("holiday")
        page.get_by_role("button", name="Tampilkan", exact=True).click()
        page.wait_for_url("**jenis=holiday**")
        assert page.locator("li.audit-entry").count() == 1
        assert LONG_NAME in page.locator("li.audit-entry").inner_text()
        assert problems == []
    finally:
        context.close()


def test_the_change_log_passes_wcag_2_1_aa(
    live_server: Any,
    audited: Any,  # noqa: F811 (fixture)
) -> None:
    now = datetime.now(UTC)
    write_entries(
        live_server.settings,
        [holiday_added("2026-03-19", now, name=LONG_NAME), targets_changed("sampah", now)],
    )
    add_account(live_server.settings, "spv", "supervisor")
    page = audited.new_page()
    page.goto(f"{live_server.url}/staf/masuk")
    page.get_by_label("Nama pengguna").fill("spv")
    page.get_by_label("Kata sandi").fill(PASSWORD)
    page.get_by_role("button", name="Masuk").click()
    page.wait_for_url(f"{live_server.url}/staf")
    for path in ("/staf/admin/log", "/staf/admin/log?jenis=x&dari=kemarin&sampai=2026-01-01"):
        page.goto(live_server.url + path)
        assert page.locator("h1").inner_text() == "Log perubahan aturan"
        assert violations(page) == [], path
