""" "Sudah dilaporkan?" in real Chromium: once the category and the point are on the report
form, the open reports of that category nearby appear, and "Dukung & ikuti" adds one
support without filing a report; the tracking page's button does the same."""

from __future__ import annotations

from typing import Any

import pytest

from tests.test_nearby import MONAS, report_at

pytestmark = pytest.mark.browser


def support_count(live_server: Any, code: str) -> int:
    return int(
        live_server.rows("SELECT support_count FROM reports WHERE code = :c", {"c": code})[0][0]
    )


@pytest.mark.both_backends
def test_nearby_reports_appear_on_the_form_and_dukung_counts_once(
    live_server: Any, context: Any
) -> None:
    settings = live_server.settings
    near = report_at(settings, north_m=30)
    nearer = report_at(settings, east_m=-12)
    report_at(settings, north_m=400)
    report_at(settings, north_m=20, category="sampah")
    reports_before = live_server.report_count()
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(live_server.url + "/lapor")
    assert page.locator("#nearby").is_hidden()
    page.select_option("#category", "jalan")
    page.fill("#lat", str(MONAS[0]))
    page.fill("#lon", str(MONAS[1]))
    items = page.locator("#nearby li")
    items.first.wait_for()
    assert items.evaluate_all("els => els.map(e => e.dataset.code)") == [nearer, near]
    assert "± 10 m" in items.first.inner_text()
    items.first.get_by_role("button", name="Dukung & ikuti").click()
    page.get_by_text("Terima kasih, dukungan Anda tercatat.").wait_for()
    assert "Didukung 1 warga" in items.first.inner_text()
    assert support_count(live_server, nearer) == 1
    assert live_server.report_count() == reports_before
    # The same phone on the tracking page: the count is there, and another tap adds nothing.
    page.goto(live_server.url + f"/t/{nearer}")
    assert page.locator("[data-support-count]").inner_text() == "Didukung 1 warga"
    page.get_by_role("button", name="Dukung & ikuti").click()
    page.get_by_text("Terima kasih, dukungan Anda tercatat.").wait_for()
    assert support_count(live_server, nearer) == 1
    # "Laporan saya" lists it.
    page.goto(live_server.url + "/laporan-saya")
    page.locator(f"#dukungan-saya li[data-code='{nearer}']").wait_for()
    assert errors == []
