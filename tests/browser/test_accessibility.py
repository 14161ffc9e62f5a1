"""axe-core (Deque's accessibility engine, vendored in tests/browser/vendor) run in Chromium
over every kind of page, with the WCAG 2.1 A and AA rules: an elderly resident with a screen
reader or a large font must be able to use each of them."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx2
import pytest

from tests.backend import execute
from tests.browser.conftest import LiveServer
from tests.helpers import PASSWORD, add_account, add_report, apply

pytestmark = pytest.mark.browser
AXE = Path(__file__).parent / "vendor" / "axe-4.14.1.min.js"
RUN_AXE = """async () => {
  const result = await axe.run(document, {
    runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
  });
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact,
    nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ')),
  }));
}"""


def violations(page: Any) -> list[dict[str, Any]]:
    page.add_script_tag(path=str(AXE))
    return page.evaluate(RUN_AXE)


@pytest.fixture
def audited(browser: Any) -> Any:
    # The CSP forbids the injected engine (as it should forbid any injected script): the
    # test context alone bypasses it to load axe.
    context = browser.new_context(bypass_csp=True, viewport={"width": 360, "height": 740})
    yield context
    context.close()


def resident_pages(server: LiveServer) -> list[str]:
    response = httpx2.post(
        server.url + "/lapor",
        data={
            "category": "sampah",
            "area": "31.71.01.1001",
            "description": "Sampah menumpuk di depan pasar sejak seminggu.",
        },
        follow_redirects=False,
    )
    receipt = response.headers["location"]
    code = re.search(r"/t/(\w{8})/", receipt)[1]
    token = re.search(r"k=(\S+)", receipt)[1]
    apply(server.settings, code, "resolve", public_note="Sudah diangkut.")
    return [
        "/",
        "/lapor",
        f"/t/{code}",
        receipt.split(server.url)[-1],
        f"/t/{code}/p/{token}",
        f"/t/{code}/p/{token}/data",
        "/privasi",
        "/laporan-saya",
        "/kinerja",
        "/offline",
        "/staf/masuk",
    ]


def test_resident_pages_pass_wcag_2_1_aa(live_server: LiveServer, audited: Any) -> None:
    page = audited.new_page()
    found = {}
    for path in resident_pages(live_server):
        page.goto(live_server.url + path)
        page.wait_for_load_state("networkidle")
        if problems := violations(page):
            found[path] = problems
    assert found == {}


def test_resident_form_with_errors_passes_wcag_2_1_aa(
    live_server: LiveServer, audited: Any
) -> None:
    page = audited.new_page()
    page.goto(live_server.url + "/lapor")
    page.evaluate("document.getElementById('lapor-form').removeAttribute('data-outbox')")
    page.evaluate("self.AduanOutboxPage = true")  # the plain post, to get the error page
    page.fill("#description", "pendek")
    page.fill("#reporter_phone", "123")
    with page.expect_navigation():  # submit() returns before the answer page has loaded
        page.evaluate("document.getElementById('lapor-form').submit()")
    page.wait_for_load_state("networkidle")
    assert page.locator(".error-summary").count() == 1
    assert violations(page) == []


def test_staff_pages_pass_wcag_2_1_aa(live_server: LiveServer, audited: Any) -> None:
    settings = live_server.settings
    code = add_report(settings)
    # with the "Kabari via WhatsApp" buttons and the record of a tap under the steps
    execute(
        settings, "UPDATE reports SET notify_by = 'whatsapp' WHERE code = :code", {"code": code}
    )
    admin = add_account(settings, "admin", "admin")
    execute(
        settings,
        "INSERT INTO contact_taps (report_id, event_id, user_id, channel, tapped_at)"
        " SELECT report_id, id, :admin, 'whatsapp', created_at FROM report_events",
        {"admin": admin},
    )
    page = audited.new_page()
    page.goto(live_server.url + "/staf/masuk")
    page.fill("#username", "admin")
    page.fill("#password", PASSWORD)
    page.locator("main button[type=submit]").click()
    page.wait_for_url("**/staf")
    found = {}
    for path in (
        "/staf",
        f"/staf/laporan/{code}",
        "/staf/lapor",
        "/staf/dasbor",
        "/staf/terlambat",
        "/staf/admin/akun",
        f"/staf/admin/akun/{admin}",
        "/staf/admin/tenggat",
        "/staf/admin/libur",
        "/staf/admin/api",
        "/staf/admin/data-pribadi",
    ):
        page.goto(live_server.url + path)
        page.wait_for_load_state("networkidle")
        if problems := violations(page):
            found[path] = problems
    # the office's search for a resident's data, with its results and forms
    page.fill("#kontak", "081234567890")
    page.get_by_role("button", name="Cari", exact=True).click()
    page.wait_for_load_state("networkidle")
    assert page.locator(".account-card").count() == 1
    if problems := violations(page):
        found["/staf/admin/data-pribadi (results)"] = problems
    assert found == {}


def test_the_audit_really_catches_a_field_without_a_label(
    live_server: LiveServer, audited: Any
) -> None:
    page = audited.new_page()
    page.goto(live_server.url + "/lapor")
    page.evaluate("document.querySelector('main').append(document.createElement('input'))")
    assert "label" in {v["id"] for v in violations(page)}


def test_mistakes_caught_on_the_phone_and_a_refused_answer_pass_wcag_2_1_aa(
    live_server: LiveServer, audited: Any
) -> None:
    page = audited.new_page()
    found = {}
    page.goto(live_server.url + "/lapor")
    page.fill("#description", "pendek")
    page.get_by_text("Saya melapor untuk orang lain").click()
    page.fill("#volunteer_name", "Ani")
    page.locator("#lapor-form button[type=submit]").click()
    page.locator("#kesalahan").wait_for()
    if problems := violations(page):
        found["/lapor (checked on the phone)"] = problems
    private = resident_pages(live_server)[4]
    page.goto(live_server.url + private)
    page.get_by_role("button", name="Belum beres, buka kembali").click()
    page.locator("#note-error").wait_for()
    if problems := violations(page):
        found[private + " (refused)"] = problems
    assert found == {}


def test_the_walk_in_desks_receipt_passes_wcag_2_1_aa(
    live_server: LiveServer, audited: Any
) -> None:
    add_account(live_server.settings, "gambir1", areas=["31.71.01.1001"])
    page = audited.new_page()
    page.goto(live_server.url + "/staf/masuk")
    page.fill("#username", "gambir1")
    page.fill("#password", PASSWORD)
    page.locator("main button[type=submit]").click()
    page.wait_for_url("**/staf")
    page.goto(live_server.url + "/staf/lapor")
    page.select_option("#category", "sampah")
    page.select_option("#area", "31.71.01.1001")
    page.fill("#description", "Warga datang: sampah menumpuk di depan pasar.")
    page.get_by_role("button", name="Simpan dan cetak tanda terima").click()
    page.wait_for_url("**/struk")
    assert violations(page) == []
