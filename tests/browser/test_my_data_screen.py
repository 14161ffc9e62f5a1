""" "Data saya" on a 320 px phone with JavaScript off, in real Chromium: reached from the
private page, nothing sideways, every control big enough to tap, and erasing works as a
plain form."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import LiveServer
from tests.browser.test_resident_screens import (
    ARTIFACTS,
    PHONE,
    TAP_TARGETS_UNDER_44,
    file_report,
)

pytestmark = pytest.mark.browser


def test_data_saya_fits_a_320px_phone_and_erases_without_javascript(
    live_server: LiveServer, browser: Any
) -> None:
    code, _receipt = file_report(
        live_server,
        reporter_name="Sulastri Tigaduapuluh",
        reporter_phone="0812 3434 5656",
        reporter_email="sulastri.sempit@contoh.id",
    )
    context = browser.new_context(
        **{**PHONE, "viewport": {"width": 320, "height": 640}}, java_script_enabled=False
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        page.goto(live_server.url + _receipt)
        page.locator(".private-link a").click()
        page.get_by_role("link", name="Data saya: lihat, perbaiki atau hapus kontak Anda").click()
        assert page.get_by_role("heading", name="Data saya").is_visible()
        assert "081234345656" in page.content()
        overflow = page.evaluate(
            "document.scrollingElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"Data saya scrolls sideways by {overflow}px at 320px"
        assert page.evaluate(TAP_TARGETS_UNDER_44) == []
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "data-saya-320.png"), full_page=True)

        page.get_by_label("Saya mengerti, hapus kontak saya.").check()
        page.get_by_role("button", name="Hapus kontak saya sekarang").click()
        page.wait_for_load_state("load")
        assert "Kontak Anda sudah dihapus" in page.content()
        assert "081234345656" not in page.content()
        row = live_server.rows("SELECT reporter_phone FROM reports WHERE code = ?", (code,))[0]
        assert row[0] == ""
    finally:
        context.close()
