"""An officer in real Chromium: logs in, verifies, forwards and resolves a case with an
"after" photo through the htmx forms, and the resident's tracking page shows each step."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from images import camera_like, encode
from playwright.sync_api import expect

from tests.helpers import GAMBIR, PASSWORD, add_account, add_report, apply

pytestmark = pytest.mark.browser


def console_errors(page: Any) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


@pytest.mark.both_backends
def test_an_officer_moves_a_report_to_resolved_and_the_resident_sees_every_step(
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
    report_url = page.url
    flash = page.locator("#hasil")

    # Verify: htmx posts the form and swaps the case in place (no navigation).
    page.locator("#aksi-verify summary").click()
    page.locator("#verify-public_note").fill("Sudah kami cek di lokasi, memang menumpuk.")
    page.get_by_role("button", name="Verifikasi laporan").click()
    expect(flash).to_contain_text("diverifikasi")
    assert page.url == report_url
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
        page.get_by_text("Cari dan saring").click()
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


ARTIFACTS = Path(__file__).resolve().parent.parent.parent / "test-artifacts"
PHONE = {"width": 360, "height": 640}


def log_in(page: Any, server: Any, username: str, target: str = "/staf") -> None:
    page.goto(f"{server.url}/staf/masuk")
    page.get_by_label("Nama pengguna").fill(username)
    page.get_by_label("Kata sandi").fill(PASSWORD)
    page.get_by_role("button", name="Masuk").click()
    page.wait_for_url(f"{server.url}/staf")
    if target != "/staf":
        page.goto(server.url + target)


def in_viewport(page: Any, selector: str) -> dict[str, float]:
    box = page.locator(selector).bounding_box()
    assert box is not None, selector
    assert 0 <= box["y"] and box["y"] + box["height"] <= PHONE["height"], (selector, box)
    return box


@pytest.mark.parametrize("javascript", [True, False], ids=["htmx", "no-js"])
def test_the_success_message_shows_where_the_officer_is_working(
    live_server: Any, browser: Any, javascript: bool
) -> None:
    """The officer scrolls down to the actions; after saving, the message is on screen next
    to them, with and without JavaScript (the 303 carries #hasil)."""
    settings = live_server.settings
    add_account(settings, "gambir1", areas=[GAMBIR])
    code = add_report(settings, GAMBIR, description="Lampu jalan mati di depan pasar. " * 8)
    context = browser.new_context(
        viewport=PHONE,
        is_mobile=True,
        has_touch=True,
        locale="id-ID",
        java_script_enabled=javascript,
    )
    try:
        page = context.new_page()
        errors = console_errors(page)
        log_in(page, live_server, "gambir1", f"/staf/laporan/{code}")
        page.locator("#aksi-verify summary").click()
        page.locator("#verify-public_note").fill("Sudah kami cek, lampunya memang mati.")
        button = page.get_by_role("button", name="Verifikasi laporan")
        button.scroll_into_view_if_needed()
        assert page.evaluate("window.scrollY") > PHONE["height"] // 2  # far from the top
        button.click()
        message = page.locator(".notice.ok", has_text="Laporan sudah diverifikasi.")
        expect(message).to_be_visible()
        if not javascript:
            assert page.url.endswith(f"/staf/laporan/{code}?ok=verify#hasil")
        in_viewport(page, "#hasil .notice")
        # What comes next is right below it: the actions, not the top of the case.
        actions = page.locator("#tindakan").bounding_box()
        assert actions is not None and actions["y"] < PHONE["height"]
        if javascript:
            assert page.evaluate("document.activeElement.id") == "hasil"
        ARTIFACTS.mkdir(exist_ok=True)
        name = "htmx" if javascript else "nojs"
        page.screenshot(path=str(ARTIFACTS / f"staff-action-message-{name}-360.png"))
        assert errors == [], errors
    finally:
        context.close()


@pytest.mark.parametrize("role", ["officer", "admin"])
def test_the_first_report_is_on_the_first_phone_screen(
    live_server: Any, browser: Any, role: str
) -> None:
    """At 360 × 640 the menu and the filters fold away: the first case shows at once, for an
    officer and for an admin with the longest menu and every status counted."""
    settings = live_server.settings
    add_account(settings, "staf1", role, areas=[GAMBIR] if role == "officer" else ())
    for kind in ("verify", "dispatch", "resolve", "reject", None):
        code = add_report(settings, GAMBIR, description="Saluran air tersumbat di gang.")
        if kind == "dispatch":
            apply(settings, code, kind, agency_code="DLH")
        elif kind:
            apply(settings, code, kind, public_note="Sudah ditangani.")
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="id-ID")
    try:
        page = context.new_page()
        errors = console_errors(page)
        log_in(page, live_server, "staf1")
        assert page.evaluate("document.scrollingElement.scrollWidth") <= PHONE["width"]
        first = page.locator("ol.cases > li").first.bounding_box()
        assert first is not None
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"staff-inbox-{role}-360.png"))
        assert first["y"] + 80 <= PHONE["height"], first  # its code and status, at least
        # The menu is one tap away and reaches every page.
        page.get_by_text("Menu", exact=True).click()
        expect(page.get_by_role("link", name="Catat pengaduan")).to_be_visible()
        expect(page.get_by_role("button", name="Keluar")).to_be_visible()
        # A filter in use keeps the filters open, so the officer sees what is applied.
        page.goto(f"{live_server.url}/staf?category=sampah")
        expect(page.locator("#f-category")).to_be_visible()
        page.goto(f"{live_server.url}/staf?q=saluran")
        expect(page.locator("#q")).to_be_visible()
        assert errors == [], errors
    finally:
        context.close()


def test_on_a_wide_screen_the_menu_and_search_stay_in_view(live_server: Any, browser: Any) -> None:
    add_account(live_server.settings, "admin1", "admin")
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="id-ID")
    try:
        page = context.new_page()
        log_in(page, live_server, "admin1")
        for name in ("Kotak masuk", "Catat pengaduan", "Dasbor", "Akun petugas"):
            expect(page.get_by_role("link", name=name, exact=True)).to_be_visible()
        expect(page.locator("#q")).to_be_visible()
        page.screenshot(path=str(ARTIFACTS / "staff-inbox-admin-1280.png"))
    finally:
        context.close()


def test_moving_a_report_out_of_the_officers_area_lands_on_the_inbox_with_the_message(
    live_server: Any, browser: Any
) -> None:
    """htmx followed the 303 to the inbox and found no case to swap in: the case vanished
    and no message showed. It now navigates to the inbox, which says what happened."""
    add_account(live_server.settings, "gambir1", areas=[GAMBIR])
    code = add_report(live_server.settings, GAMBIR)
    context = browser.new_context(viewport=PHONE, locale="id-ID")
    try:
        page = context.new_page()
        errors = console_errors(page)
        log_in(page, live_server, "gambir1", f"/staf/laporan/{code}")
        page.locator("#aksi-recategorise summary").click()
        page.locator("#recategorise-area").select_option("31.71.01.1002")  # Cideng
        page.get_by_role("button", name="Simpan perubahan").click()
        page.wait_for_url(f"{live_server.url}/staf?pindah={code}")
        expect(page.get_by_text("Laporan sudah dipindah ke kelurahan di luar")).to_be_visible()
        assert errors == [], errors
    finally:
        context.close()


def test_the_walk_in_form_of_an_officer_of_one_kelurahan_has_it_chosen(
    live_server: Any, browser: Any
) -> None:
    add_account(live_server.settings, "gambir1", areas=[GAMBIR])
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="id-ID")
    try:
        page = context.new_page()
        errors = console_errors(page)
        log_in(page, live_server, "gambir1", "/staf/lapor")
        picker = page.get_by_label("Kelurahan", exact=True)
        assert picker.input_value() == GAMBIR
        assert picker.locator("option[value^='31.']").count() == 1
        expect(page.get_by_text("Hanya kelurahan di wilayah tugas Anda.")).to_be_visible()
        assert page.evaluate("document.scrollingElement.scrollWidth") <= PHONE["width"]
        picker.scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / "staff-intake-one-kelurahan-360.png"))
        assert errors == [], errors
    finally:
        context.close()
