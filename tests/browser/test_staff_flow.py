"""An officer in real Chromium: logs in, verifies, forwards and resolves a case with an
"after" photo through the htmx forms, and the resident's tracking page shows each step."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from images import camera_like, encode
from playwright.sync_api import expect
from test_staff_auth import GAMBIR, PASSWORD, add_account, add_report

pytestmark = pytest.mark.browser


def console_errors(page: Any) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def test_an_officer_moves_a_case_to_resolved_and_the_resident_sees_every_step(
    live_server: Any, context: Any, tmp_path: Path
) -> None:
    settings = live_server.settings
    add_account(settings, "gambir1", areas=[GAMBIR])
    code = add_report(
        settings,
        GAMBIR,
        description="Sampah menumpuk di depan Pasar Gambir sejak Senin.",
        reporter_name="Siti Aminah",
    )
    after_photo = tmp_path / "sesudah.jpg"
    after_photo.write_bytes(encode(camera_like((800, 600)), "JPEG", quality=88))

    page = context.new_page()
    errors = console_errors(page)
    page.goto(f"{live_server.url}/staf")
    assert page.url.startswith(f"{live_server.url}/staf/masuk")
    page.get_by_label("Nama pengguna").fill("gambir1")
    page.get_by_label("Kata sandi").fill(PASSWORD)
    page.get_by_role("button", name="Masuk").click()
    page.wait_for_url(f"{live_server.url}/staf")

    page.get_by_role("link", name=f"{code[:4]}-{code[4:]}").click()
    page.wait_for_url(f"{live_server.url}/staf/laporan/{code}")
    case_url = page.url
    flash = page.locator("#flash")

    # Verify: htmx posts the form and swaps the case in place (no navigation).
    page.locator("#aksi-verify summary").click()
    page.locator("#verify-public_note").fill("Sudah kami cek di lokasi, memang menumpuk.")
    page.get_by_role("button", name="Verifikasi laporan").click()
    expect(flash).to_contain_text("diverifikasi")
    assert page.url == case_url
    assert page.locator("#kasus .case-status .status").inner_text() == "Diverifikasi"

    # Forward to the agency (disposisi); the canned reply select fills the note.
    page.locator("#aksi-dispatch summary").click()
    page.locator("#dispatch-agency").select_option("DLH")
    page.locator("#dispatch-canned").select_option(label="Diteruskan ke dinas")
    assert "sudah kami teruskan" in page.locator("#dispatch-public_note").input_value()
    page.get_by_role("button", name="Teruskan", exact=True).click()
    expect(flash).to_contain_text("diteruskan")
    assert "Diteruskan ke instansi" in page.locator("#kasus .case-status").inner_text()

    # Resolve with an "after" photo (multipart through htmx).
    page.locator("#aksi-resolve summary").click()
    page.locator("#resolve-public_note").fill("Sampah sudah diangkut truk DLH pagi ini.")
    page.locator("#resolve-photos").set_input_files(str(after_photo))
    page.get_by_role("button", name="Tandai selesai").click()
    expect(flash).to_contain_text("selesai")
    assert page.locator("#kasus .case-status .status").inner_text() == "Selesai"
    assert "sudah ditandai selesai" in flash.inner_text()
    timeline = page.locator(".staff-timeline").inner_text()
    for step in ("Diverifikasi", "Diteruskan ke instansi", "Diselesaikan"):
        assert step in timeline
    assert page.locator(".staff-timeline img").count() == 1
    after = page.locator(".staff-timeline img")
    assert after.evaluate("img => img.decode().then(() => img.naturalWidth)") > 0

    report = live_server.rows("SELECT id, status FROM reports WHERE code = ?", (code,))[0]
    assert report["status"] == "resolved"
    resolve_event = live_server.rows(
        "SELECT id FROM report_events WHERE report_id = ? AND kind = 'resolve'", (report["id"],)
    )[0]
    assert (
        live_server.rows("SELECT COUNT(*) FROM photos WHERE event_id = ?", (resolve_event["id"],))[
            0
        ][0]
        == 1
    )

    # The resident's tracking page shows each step, the notes and the "after" photo.
    resident = context.new_page()
    resident.goto(f"{live_server.url}/t/{code}")
    steps = resident.locator("ol.timeline").inner_text()
    for text in (
        "Diverifikasi",
        "Diteruskan ke instansi",
        "Selesai",
        "Sudah kami cek di lokasi",
        "Sampah sudah diangkut truk DLH pagi ini.",
    ):
        assert text in steps
    assert resident.locator("ol.timeline img").count() == 1
    assert "Siti Aminah" not in resident.content()
    assert errors == [], errors


def test_the_inbox_fits_a_360_pixel_phone_and_filters_in_place(
    live_server: Any, browser: Any
) -> None:
    settings = live_server.settings
    add_account(settings, "gambir1", areas=[GAMBIR])
    codes = [
        add_report(settings, GAMBIR, category=c, description=f"Masalah {c} di Gambir.")
        for c in ("sampah", "jalan", "lampu")
    ]
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="id-ID")
    try:
        page = context.new_page()
        errors = console_errors(page)
        page.clock.install()  # to move htmx's 60-second poll along without waiting
        page.goto(f"{live_server.url}/staf/masuk")
        page.get_by_label("Nama pengguna").fill("gambir1")
        page.get_by_label("Kata sandi").fill(PASSWORD)
        page.get_by_role("button", name="Masuk").click()
        page.wait_for_url(f"{live_server.url}/staf")
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        assert page.locator("ol.cases > li").count() == 3
        # Choosing a category swaps the list in place and puts the page URL in the bar.
        live_server.recorder.clear()
        page.locator(".more-filters summary").click()
        page.locator("#f-category").select_option("jalan")
        expect(page.locator("ol.cases > li")).to_have_count(1)
        assert page.url == f"{live_server.url}/staf?category=jalan"
        assert [h.path for h in live_server.recorder.hits] == ["/staf/inbox-rows"]
        assert codes[1] in page.locator("#inbox").inner_text().replace("-", "")
        page.reload()
        assert page.locator("ol.cases > li").count() == 1
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        # A new case in the filter appears by itself: the list polls once a minute.
        fresh = add_report(settings, GAMBIR, category="jalan", description="Jalan amblas baru.")
        page.clock.fast_forward("01:05")
        expect(page.locator("ol.cases > li")).to_have_count(2)
        assert fresh in page.locator("#inbox").inner_text().replace("-", "")
        assert page.url == f"{live_server.url}/staf?category=jalan"  # the poll pushes nothing
        assert errors == [], errors
    finally:
        context.close()
