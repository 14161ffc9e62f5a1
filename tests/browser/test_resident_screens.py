"""What a resident sees on a 360 px phone in real Chromium, checked by geometry: the receipt
on one A6 sheet, copying and sharing the code, "Sudah beres?" above the fold, mistakes
caught before queueing, and the timeline after a reopening. Screenshots go to
test-artifacts/ for people; the assertions are on layout, never on pixels."""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

import httpx2
import pytest

from tests.backend import execute
from tests.browser.conftest import LiveServer
from tests.browser.test_offline import wait_until
from tests.helpers import GAMBIR, PASSWORD, add_account, apply, store_photo
from tests.images import camera_like, encode
from web.photos import process_photo

pytestmark = pytest.mark.browser
ARTIFACTS = Path(__file__).resolve().parent.parent.parent / "test-artifacts"
PHONE = {
    "viewport": {"width": 360, "height": 640},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    "locale": "id-ID",
}
# 105 mm x 148 mm in PDF points (1/72 inch).
A6_POINTS = (105 / 25.4 * 72, 148 / 25.4 * 72)
LONG_STORY = (
    "Lampu penerangan jalan di sepanjang Gang Kenari mati sejak dua minggu, warga takut "
    "lewat malam hari karena sudah dua kali ada penjambretan. Mohon segera diperbaiki."
)
OUTBOX_STATES = "() => self.AduanOutbox.listOutbox().then((all) => all.map((e) => e.state))"
TAP_TARGETS_UNDER_44 = """() => [...document.querySelectorAll(
    'main button, main a.button, main select, main summary,'
    + 'main input:not([type=hidden]):not([type=file])')]
    .map(e => ['checkbox', 'radio'].includes(e.type) ? e.closest('label') : e)
    .filter(e => e.offsetParent && e.getBoundingClientRect().height < 44)
    .map(e => e.outerHTML.slice(0, 80))"""


def file_report(server: LiveServer, **fields: str) -> tuple[str, str]:
    """A report filed through the no-JavaScript form: its code and receipt path."""
    data = {
        "category": "lampu",
        "area": GAMBIR,
        "description": LONG_STORY,
        **fields,
    }
    response = httpx2.post(server.url + "/lapor", data=data, follow_redirects=False)
    assert response.status_code == 303, response.text
    receipt = response.headers["location"].removeprefix(server.url)
    return re.search(r"/t/(\w{8})/", receipt)[1], receipt


def phone_page(browser: Any, **options: Any) -> tuple[Any, Any, list[str]]:
    context = browser.new_context(**{**PHONE, **options})
    context.set_default_timeout(15_000)
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    return context, page, problems


def fits_the_screen(page: Any, name: str) -> None:
    overflow = page.evaluate(
        "document.scrollingElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{name} scrolls sideways by {overflow}px at 360px"
    small = page.evaluate(TAP_TARGETS_UNDER_44)
    assert small == [], f"tap targets under 44px on {name}: {small}"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}-360.png"), full_page=True)


def pdf_pages(pdf: bytes) -> list[tuple[float, float]]:
    """Width and height in points of each page of a PDF Chromium wrote."""
    sizes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf)
    pages = len(re.findall(rb"/Type\s*/Page\b(?!s)", pdf))
    assert pages == len(sizes), (pages, sizes)
    return [(float(w), float(h)) for w, h in sizes]


def assert_one_a6_page(pdf: bytes) -> None:
    pages = pdf_pages(pdf)
    assert len(pages) == 1, f"the receipt prints on {len(pages)} pages"
    width, height = pages[0]
    assert abs(width - A6_POINTS[0]) < 1 and abs(height - A6_POINTS[1]) < 1, pages[0]


def log_in(page: Any, server: LiveServer, username: str) -> None:
    page.goto(server.url + "/staf/masuk")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.locator("main button[type=submit]").click()
    page.wait_for_url("**/staf")


# --- the receipt ---------------------------------------------------------------------------


def test_a_volunteers_receipt_prints_on_one_a6_page_naming_the_problem_and_the_person(
    live_server: LiveServer, browser: Any
) -> None:
    _code, receipt = file_report(
        live_server,
        on_behalf_name="Mbah Sriyati Wirodikromo",
        on_behalf_no_phone="1",
        volunteer_name="Ani Relawan",
        reporter_name="Ani",
    )
    context, page, problems = phone_page(browser)
    try:
        page.goto(live_server.url + receipt)
        card = page.locator(".receipt")
        assert "Lampu jalan mati" in card.inner_text()
        assert "Mbah Sriyati Wirodikromo" in card.inner_text()
        fits_the_screen(page, "receipt")
        page.emulate_media(media="print")
        assert page.locator("header.site").is_hidden()
        assert page.get_by_role("button", name="Cetak").is_hidden()
        pdf = page.pdf(prefer_css_page_size=True, print_background=True)
        (ARTIFACTS / "receipt-a6.pdf").write_bytes(pdf)
        assert_one_a6_page(pdf)
        assert problems == []
    finally:
        context.close()


def test_the_walk_in_desks_receipt_prints_on_one_a6_page_without_the_staff_menu(
    live_server: LiveServer, browser: Any
) -> None:
    add_account(live_server.settings, "gambir1", areas=[GAMBIR])
    context, page, problems = phone_page(browser)
    try:
        log_in(page, live_server, "gambir1")
        page.goto(live_server.url + "/staf/lapor")
        page.select_option("#channel", "walk_in")
        page.select_option("#category", "lampu")
        page.select_option("#area", GAMBIR)
        page.fill("#description", LONG_STORY)
        page.locator("details:not(.staff-menu) > summary").click()
        page.fill("#on_behalf_name", "Mbah Darmo")
        page.check("#on_behalf_no_phone")
        page.get_by_role("button", name="Simpan dan cetak tanda terima").click()
        page.wait_for_url(re.compile(r"/staf/lapor/\w{8}/struk$"))
        assert "Serahkan struk ini kepada warga" in page.inner_text("main")
        assert page.get_by_role("button", name="Cetak").is_visible()
        fits_the_screen(page, "desk-receipt")
        page.emulate_media(media="print")
        assert page.locator("nav.staff-nav").is_hidden()
        assert page.get_by_text("Serahkan struk ini").is_hidden()
        assert "Mbah Darmo" in page.locator(".receipt").inner_text()
        pdf = page.pdf(prefer_css_page_size=True, print_background=True)
        (ARTIFACTS / "desk-receipt-a6.pdf").write_bytes(pdf)
        assert_one_a6_page(pdf)
        assert problems == []
    finally:
        context.close()


def test_print_copy_and_share_on_the_receipt(live_server: LiveServer, browser: Any) -> None:
    code, receipt = file_report(live_server)
    display = f"{code[:4]}-{code[4:]}"
    context, page, problems = phone_page(browser)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    context.add_init_script(
        "window.__printed = 0; window.print = () => { window.__printed += 1; };"
        "window.__shared = [];"
        "navigator.share = (data) => { window.__shared.push(data); return Promise.resolve(); };"
    )
    try:
        page.goto(live_server.url + receipt)
        assert page.locator("[data-print-hint]").is_hidden()  # the button replaces the hint
        page.get_by_role("button", name="Cetak").click()
        assert page.evaluate("window.__printed") == 1

        page.get_by_role("button", name="Salin kode").click()
        page.get_by_role("status").get_by_text(f"Kode {display} sudah disalin.").wait_for()
        assert page.evaluate("navigator.clipboard.readText()") == display

        share = page.get_by_role("link", name="Bagikan", exact=True)  # the phone's own sheet
        share.click()
        (shared,) = page.evaluate("window.__shared")
        assert shared["url"] == f"{live_server.url}/t/{code}"  # never the private link
        assert display in shared["text"] and "/p/" not in shared["text"]
        assert page.url.endswith(receipt)  # stayed on the receipt
        assert problems == []
    finally:
        context.close()


def test_without_a_share_sheet_bagikan_is_the_whatsapp_link(
    live_server: LiveServer, browser: Any
) -> None:
    code, _receipt = file_report(live_server)
    context, page, problems = phone_page(browser)
    context.add_init_script("delete Navigator.prototype.share;")
    try:
        page.goto(f"{live_server.url}/t/{code}")
        link = page.get_by_role("link", name="Bagikan lewat WhatsApp")
        assert link.get_attribute("href").startswith("https://wa.me/?text=")
        assert page.get_by_role("button", name="Salin kode").is_visible()
        for control in (link, page.get_by_role("button", name="Salin kode")):
            box = control.bounding_box()
            assert box["height"] >= 44 and box["y"] < 640  # at hand, above the fold
        fits_the_screen(page, "track")
        assert problems == []
    finally:
        context.close()


def test_copy_falls_back_to_selecting_the_code_without_the_clipboard_api(
    live_server: LiveServer, browser: Any
) -> None:
    code, _receipt = file_report(live_server)
    context, page, _problems = phone_page(browser)
    context.add_init_script("Object.defineProperty(navigator, 'clipboard', { value: undefined });")
    try:
        page.goto(f"{live_server.url}/t/{code}")
        page.get_by_role("button", name="Salin kode").click()
        wait_until(page, lambda: page.evaluate("String(getSelection()).length > 0"))
        assert page.evaluate("String(getSelection())") == f"{code[:4]}-{code[4:]}"
        share_status = page.locator("[data-share-status]")  # "Kabari saya" has its own
        wait_until(page, lambda: share_status.inner_text().strip() != "")
    finally:
        context.close()


def test_without_javascript_the_receipt_names_the_browsers_print_menu(
    live_server: LiveServer, browser: Any
) -> None:
    _code, receipt = file_report(live_server)
    context, page, _problems = phone_page(browser, java_script_enabled=False)
    try:
        page.goto(live_server.url + receipt)
        assert page.get_by_text("gunakan menu Cetak di peramban").is_visible()
        assert page.get_by_role("button", name="Cetak").count() == 0  # hidden: not offered
        assert page.get_by_role("button", name="Salin kode").count() == 0
        assert page.get_by_role("link", name="Bagikan lewat WhatsApp").is_visible()
    finally:
        context.close()


# --- "Sudah beres?" ---------------------------------------------------------------------------


def resolved_with_after_photo(server: LiveServer) -> tuple[str, str]:
    """A report resolved with a note and an "after" photo: its code and private path."""
    code, receipt = file_report(server, category="sampah")
    token = re.search(r"k=(\S+)", receipt)[1]
    processed = process_photo(encode(camera_like((800, 600)), "JPEG"))
    store_photo(server.settings, processed)
    apply(server.settings, code, "verify")
    apply(
        server.settings,
        code,
        "resolve",
        public_note="Sampah sudah diangkut truk DLH.",
        photos=[processed],
    )
    return code, f"/t/{code}/p/{token}"


def in_view(box: dict[str, float], height: int = 640) -> bool:
    return box["y"] >= 0 and box["y"] + box["height"] <= height


def test_sudah_beres_is_asked_above_the_fold_and_a_refusal_comes_back_by_the_note(
    live_server: LiveServer, browser: Any
) -> None:
    _code, private = resolved_with_after_photo(live_server)
    context, page, problems = phone_page(browser)
    try:
        page.goto(live_server.url + private)
        question = page.get_by_role("heading", name="Sudah beres?")
        assert in_view(question.bounding_box()), question.bounding_box()
        assert in_view(page.get_by_role("button", name="Ya, sudah beres").bounding_box(), 2 * 640)
        fits_the_screen(page, "private-resolved")

        page.get_by_role("button", name="Belum beres, buka kembali").click()
        page.wait_for_load_state("load")
        assert page.evaluate("document.activeElement.id") == "note"
        error = page.locator("#note-error")
        note = page.locator("#note")
        assert "belum beres" in error.inner_text()
        error_box, note_box = error.bounding_box(), note.bounding_box()
        assert in_view(error_box) and in_view(note_box), (error_box, note_box)
        gap = note_box["y"] - (error_box["y"] + error_box["height"])
        assert 0 <= gap <= 16, gap  # right above the note it is about
        assert abs(error_box["x"] - note_box["x"]) <= 2
        assert note.get_attribute("aria-describedby") == "note-error"
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "private-refused-360.png"))  # what the eye sees

        note.fill("Masih ada sisa sampah di selokan.")
        page.get_by_role("button", name="Belum beres, buka kembali").click()
        page.wait_for_url(live_server.url + private)
        assert page.locator(".status").first.inner_text() == "Sedang dikerjakan"
        assert [p for p in problems if "status of 422" not in p] == []  # the refusal itself
    finally:
        context.close()


def test_the_timeline_keeps_the_resolution_after_a_reopening_with_one_dot_per_step(
    live_server: LiveServer, browser: Any
) -> None:
    code, private = resolved_with_after_photo(live_server)
    httpx2.post(
        live_server.url + private + "/jawab",
        data={"fixed": "belum", "note": "Masih ada sisa sampah."},
        follow_redirects=False,
    )
    context, page, problems = phone_page(browser)
    try:
        page.goto(f"{live_server.url}/t/{code}")
        steps = page.locator("ol.timeline > li")
        labels = [t.split("\n")[0] for t in steps.all_inner_texts()]
        assert labels[4:] == [
            "Selesai",
            "Dibuka kembali oleh pelapor: belum beres",
            "Sedang dikerjakan",
            "Selesai",
        ]
        resolved, reopened = steps.nth(4), steps.nth(5)
        after = resolved.locator("img")
        after.scroll_into_view_if_needed()
        wait_until(page, lambda: after.evaluate("img => img.complete && img.naturalWidth > 0"))
        assert "Sampah sudah diangkut truk DLH." in resolved.inner_text()
        assert resolved.bounding_box()["y"] < reopened.bounding_box()["y"]
        # One dot per step, none for the photo listed inside a step.
        dots = page.evaluate("""() => [...document.querySelectorAll('ol.timeline li')]
            .filter((li) => getComputedStyle(li, '::before').content !== 'none')
            .map((li) => li.parentElement.matches('ol.timeline'))""")
        assert dots == [True] * steps.count()
        fits_the_screen(page, "track-reopened")
        assert problems == []
    finally:
        context.close()


# --- the report form with JavaScript ---------------------------------------------------------


def photo_files(folder: Path, count: int) -> list[str]:
    paths = []
    for n in range(count):
        path = folder / f"foto-{n + 1}.jpg"
        path.write_bytes(encode(camera_like((640 + n, 480)), "JPEG"))
        paths.append(str(path))
    return paths


def api_posts(server: LiveServer) -> int:
    return sum(1 for h in server.recorder.hits if h.method == "POST" and h.path.startswith("/api/"))


def test_mistakes_are_shown_by_their_fields_before_anything_is_queued(
    live_server: LiveServer, browser: Any, tmp_path: Path
) -> None:
    context, page, problems = phone_page(browser)
    try:
        page.goto(live_server.url + "/lapor")
        page.select_option("#category", "sampah")
        page.select_option("#area", GAMBIR)
        page.fill("#description", "Rusak")
        first, *rest = photo_files(tmp_path, 4)
        page.set_input_files("#photo-camera", first)
        page.set_input_files("#photo-gallery", rest)
        page.get_by_role("button", name="Kirim laporan").click()

        error = page.locator("#description-error")
        error.wait_for()
        assert "paling sedikit 10 huruf" in error.inner_text()
        assert "paling banyak 3" in page.locator("#photos-error").inner_text()
        assert page.evaluate("document.activeElement.id") == "description"
        error_box = error.bounding_box()
        field_box = page.locator("#description").bounding_box()
        assert in_view(error_box) and in_view(field_box), (error_box, field_box)
        assert 0 <= field_box["y"] - (error_box["y"] + error_box["height"]) <= 16
        described = page.get_attribute("#description", "aria-describedby").split()
        assert "description-error" in described and "description-hint" in described
        assert page.get_attribute("#description", "aria-invalid") == "true"
        summary = page.locator("#kesalahan li a")
        assert summary.count() == 2
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "lapor-mistakes-focused-360.png"))
        fits_the_screen(page, "lapor-mistakes")

        # Nothing was queued, nothing sent, nothing cleared.
        assert page.evaluate(OUTBOX_STATES) == []
        assert api_posts(live_server) == 0
        assert "Tersimpan" not in page.inner_text("main")
        assert page.input_value("#description") == "Rusak"
        assert page.evaluate("document.getElementById('photo-gallery').files.length") == 3
        assert page.evaluate("document.getElementById('photo-camera').files.length") == 1

        page.fill("#description", "Sampah menumpuk di pinggir kali sejak Senin.")
        page.set_input_files("#photo-gallery", rest[:2])
        page.get_by_role("button", name="Kirim laporan").click()
        page.wait_for_url("**/struk?k=*")
        assert live_server.report_count() == 1
        assert live_server.rows("SELECT COUNT(*) FROM photos")[0][0] == 3
        assert problems == []
    finally:
        context.close()


# Each case: what the resident typed differently from a good report.
MISTAKES = [
    {"category": "", "area": ""},
    {"description": "pendek"},
    {"description": "\u200b" * 12},
    {"reporter_phone": "12345"},
    {"reporter_email": "budi@"},
    {"lat": "-6.2"},
    {"lat": "40", "lon": "106.8"},
    {"lat": "utara", "lon": "106.8"},
    {"address": "Gang " * 61},
    {"volunteer_name": "Ani Relawan"},
    {"on_behalf_name": "Mbah Sri", "on_behalf_phone": "999"},
]


def test_the_phone_checks_the_same_rules_with_the_same_words_as_the_server(
    live_server: LiveServer, browser: Any
) -> None:
    good = {"category": "jalan", "area": GAMBIR, "description": LONG_STORY}
    context, page, problems = phone_page(browser)
    try:
        for typed in MISTAKES:
            data = {**good, **typed}
            # Eleven refusals from one address in a minute would meet the per-client limit
            # on new reports; this test compares messages, so each post starts afresh.
            execute(live_server.settings, "DELETE FROM rate_events")
            server = httpx2.post(live_server.url + "/lapor", data=data, follow_redirects=False)
            expected = {
                name: re.sub(r"\s+", " ", message).strip()
                for name, message in re.findall(
                    r'<p class="field-error" id="(\w+)-error">([^<]+)</p>', server.text
                )
            }
            page.goto(live_server.url + "/lapor")
            for name, value in data.items():
                if name in {"category", "area"}:
                    page.select_option(f"#{name}", value)
                else:
                    page.locator(f"#{name}").evaluate("(el, v) => { el.value = v; }", value)
            page.get_by_role("button", name="Kirim laporan").click()
            shown = page.evaluate("""() => Object.fromEntries(
                [...document.querySelectorAll('#lapor-form .field-error[id$="-error"]')]
                .map((p) => [p.id.replace(/-error$/, ''), p.textContent.trim()]))""")
            if "\u200b" in data["description"]:
                # Invisible letters tell nothing: the phone counts visible ones only (as
                # the server does once it strips them; until then it would accept these).
                assert "paling sedikit" in shown.get("description", ""), shown
                continue
            assert shown == {k: html.unescape(v) for k, v in expected.items()}, typed
        assert page.evaluate(OUTBOX_STATES) == []
        assert api_posts(live_server) == 0  # nothing queued, nothing sent
        assert problems == []
    finally:
        context.close()


def test_a_report_sent_at_once_takes_the_resident_to_its_receipt(
    live_server: LiveServer, browser: Any
) -> None:
    context, page, problems = phone_page(browser)
    try:
        page.goto(live_server.url + "/lapor")
        page.select_option("#category", "jalan")
        page.select_option("#area", GAMBIR)
        page.fill("#description", "Jalan berlubang besar di depan pasar, motor sering jatuh.")
        page.get_by_role("button", name="Kirim laporan").click()
        page.wait_for_url(re.compile(r"/t/\w{8}/struk\?k="))
        (row,) = live_server.rows("SELECT code, channel FROM reports")
        assert row["channel"] == "outbox" and row["code"] in page.url
        assert page.get_by_role("heading", name="Laporan diterima").is_visible()
        assert page.get_by_role("button", name="Salin kode").is_visible()
        assert "/p/" in page.locator(".private-link").inner_text()  # as without JavaScript
        assert problems == []
    finally:
        context.close()


def test_a_report_queued_offline_keeps_the_resident_on_the_form_then_offers_the_code(
    live_server: LiveServer, browser: Any
) -> None:
    context, page, problems = phone_page(browser)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    try:
        page.goto(live_server.url + "/lapor")
        # Let the service worker finish installing first: Chromium logs its own console
        # error when a worker script fetch is cut off by going offline mid-install.
        page.evaluate("navigator.serviceWorker.ready.then(() => true)")
        context.set_offline(True)
        page.select_option("#category", "banjir")
        page.select_option("#area", GAMBIR)
        page.fill("#description", "Saluran air tersumbat, setiap hujan langsung tergenang.")
        page.get_by_role("button", name="Kirim laporan").click()
        saved = page.locator("#outbox").get_by_text("Tersimpan di HP Anda.")
        saved.wait_for()
        assert "Menunggu sinyal" in page.inner_text("#outbox")
        page.wait_for_timeout(1000)
        assert page.url == live_server.url + "/lapor" and page.input_value("#description") == ""

        context.set_offline(False)
        page.evaluate("window.dispatchEvent(new Event('online'))")
        sent = page.locator("#outbox li[data-state=sent]")
        sent.wait_for(timeout=20_000)
        assert page.url == live_server.url + "/lapor"  # not sent at once: the page stays
        code = live_server.rows("SELECT code FROM reports")[0]["code"]
        display = f"{code[:4]}-{code[4:]}"
        sent.get_by_role("button", name="Salin kode").click()
        sent.get_by_role("status").get_by_text(f"Kode {display} sudah disalin.").wait_for()
        assert page.evaluate("navigator.clipboard.readText()") == display
        share = sent.get_by_role("link", name="Bagikan lewat WhatsApp")
        assert f"%2Ft%2F{code}" in share.get_attribute("href")
        fits_the_screen(page, "lapor-sent-later")
        assert [p for p in problems if "ERR_INTERNET_DISCONNECTED" not in p] == []
    finally:
        context.close()


def test_names_typed_for_someone_else_tick_the_box_and_reach_the_report(
    live_server: LiveServer, browser: Any
) -> None:
    context, page, problems = phone_page(browser)
    try:
        page.goto(live_server.url + "/lapor")
        page.select_option("#category", "fasum")
        page.select_option("#area", GAMBIR)
        page.fill("#description", "Pegangan tangga penyeberangan patah, lansia sulit naik.")
        page.get_by_text("Saya melapor untuk orang lain").click()
        assert not page.is_checked("#on_behalf")
        page.fill("#volunteer_name", "Ani Relawan")
        assert page.is_checked("#on_behalf")  # the names are the consent, shown as such
        page.get_by_role("button", name="Kirim laporan").click()
        # The person helped is still missing: said by the field, focused, nothing queued.
        assert page.evaluate("document.activeElement.id") == "on_behalf_name"
        assert "nama orang yang Anda bantu" in page.inner_text("#on_behalf_name-error")
        page.uncheck("#on_behalf")  # unticking does not drop typed names either
        page.fill("#on_behalf_name", "Mbah Sriyati")
        page.check("#on_behalf_no_phone")
        page.get_by_role("button", name="Kirim laporan").click()
        page.wait_for_url("**/struk?k=*")
        assert "Mbah Sriyati" in page.inner_text(".receipt")
        (row,) = live_server.rows(
            "SELECT on_behalf, on_behalf_name, on_behalf_no_phone, volunteer_name FROM reports"
        )
        assert tuple(row) == (1, "Mbah Sriyati", 1, "Ani Relawan")
        assert problems == []
    finally:
        context.close()
