"""The resident's path in real Chromium: with JavaScript off, and at a phone's width."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx2
import pytest

from tests.images import camera_like, phone_jpeg

pytestmark = pytest.mark.browser
ARTIFACTS = Path(__file__).resolve().parent.parent.parent / "test-artifacts"


def test_home_page_loads_in_chromium(live_server: Any, context: Any) -> None:
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    response = page.goto(live_server.url + "/")
    assert response.status == 200
    assert page.get_by_role("link", name="Lapor sekarang").is_visible()
    assert page.title().endswith("Aduan")
    assert errors == []  # no CSP violation, no script error


@pytest.mark.both_backends
def test_without_javascript_a_report_with_a_gallery_photo_reaches_its_timeline(
    live_server: Any, browser: Any, tmp_path: Path
) -> None:
    photo = tmp_path / "IMG_2041.jpg"
    photo.write_bytes(phone_jpeg())
    context = browser.new_context(java_script_enabled=False, viewport={"width": 360, "height": 640})
    try:
        page = context.new_page()
        page.goto(live_server.url + "/lapor")
        page.select_option("#category", "lampu")
        page.select_option("#area", "31.71.01.1002")
        page.fill("#description", "Tiga lampu jalan mati, gang gelap sekali di malam hari.")
        page.fill("#address", "Gang Sawo dekat musala")
        page.set_input_files("#photo-gallery", str(photo))
        page.get_by_role("button", name="Kirim laporan").click()
        page.wait_for_url(re.compile(r"/t/[0-9A-Z]{8}/struk"))
        code = re.search(r"/t/([0-9A-Z]{8})/", page.url)[1]
        assert page.locator(".code").inner_text() == f"{code[:4]}-{code[4:]}"
        assert page.locator(".qr svg").count() == 1
        page.get_by_role("link", name="Lihat perjalanan laporan").click()
        page.wait_for_url(f"**/t/{code}")
        steps = page.locator("ol.timeline li .step").all_inner_texts()
        assert steps == [
            "Diterima",
            "Diverifikasi",
            "Diteruskan ke instansi",
            "Sedang dikerjakan",
            "Selesai",
        ]
        assert page.locator("ol.timeline li.todo").count() == 4
        thumb = page.locator(".photos img").first
        assert thumb.evaluate("img => img.naturalWidth") > 0
    finally:
        context.close()
    (row,) = live_server.rows("SELECT category_code, channel, location_source FROM reports")
    assert tuple(row) == ("lampu", "web", "photo")
    assert live_server.rows("SELECT COUNT(*) FROM photos")[0][0] == 1


def test_without_javascript_a_mistake_keeps_what_was_typed(
    live_server: Any, browser: Any, tmp_path: Path
) -> None:
    photo = tmp_path / "sampah.jpg"
    camera_like((900, 700)).save(photo, "JPEG")
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(live_server.url + "/lapor")
        page.select_option("#category", "sampah")
        page.fill("#description", "Sampah menumpuk di pinggir kali.")
        page.fill("#reporter_name", "Pak Darto")
        page.set_input_files("#photo-camera", str(photo))
        page.get_by_role("button", name="Kirim laporan").click()
        assert page.locator("#area-error").inner_text().startswith("Pilih kelurahan")
        assert page.input_value("#reporter_name") == "Pak Darto"
        assert page.input_value("#description") == "Sampah menumpuk di pinggir kali."
        assert page.locator(".thumbs img").count() == 1  # the photo stayed attached
        page.select_option("#area", "31.71.01.1001")
        page.get_by_role("button", name="Kirim laporan").click()
        page.wait_for_url(re.compile(r"/struk"))
    finally:
        context.close()
    assert live_server.rows("SELECT COUNT(*) FROM photos")[0][0] == 1


@pytest.mark.parametrize("path", ["/", "/lapor", "receipt", "track"])
def test_pages_fit_a_360_px_phone_screen(live_server: Any, browser: Any, path: str) -> None:
    context = browser.new_context(
        viewport={"width": 360, "height": 640},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )
    try:
        page = context.new_page()
        problems: list[str] = []
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        if path in {"receipt", "track"}:
            response = httpx2.post(
                live_server.url + "/lapor",
                data={
                    "category": "jalan",
                    "area": "31.71.01.1001",
                    "description": "Jalan berlubang besar di depan pasar.",
                },
                follow_redirects=False,
            )
            receipt = response.headers["location"]
            page.goto(receipt if path == "receipt" else receipt.split("/struk")[0])
        else:
            page.goto(live_server.url + path)
        overflow = page.evaluate(
            "document.scrollingElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{path} scrolls sideways by {overflow}px at 360px"
        small = page.evaluate("""() => [...document.querySelectorAll(
            'main button, main a.button, main select,'
            + 'main input:not([type=hidden]):not([type=file])')]
            .map(e => ['checkbox', 'radio'].includes(e.type) ? e.closest('label') : e)
            .filter(e => e.offsetParent && e.getBoundingClientRect().height < 44)
            .map(e => e.outerHTML.slice(0, 80))""")
        assert small == [], f"tap targets under 44px: {small}"
        if path == "receipt":
            box = page.locator(".qr svg").bounding_box()
            assert box and box["width"] >= 150  # scaled by CSS, readable by a phone camera
        assert problems == []  # no CSP violation or script error
        ARTIFACTS.mkdir(exist_ok=True)
        name = path.strip("/") or "home"
        page.screenshot(path=str(ARTIFACTS / f"resident-{name}-360.png"), full_page=True)
    finally:
        context.close()
