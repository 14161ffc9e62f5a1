"""Offline-first, proven in real Chromium with the real service worker and server: a report
filed with no signal waits on the phone and arrives exactly once, whatever the network does."""

from __future__ import annotations

import dataclasses
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageDraw
from playwright.sync_api import Error as PlaywrightError

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, LiveServer
from tests.helpers import stored_photo
from web.app import create_app

pytestmark = pytest.mark.browser

LIMIT_BYTES = 300 * 1024

# Resolves once a service worker is active and controls the page (it claims open pages);
# returns the shell caches present.
UNTIL_CONTROLLED = """async () => {
  const controlled = (async () => {
    await navigator.serviceWorker.ready;
    if (!navigator.serviceWorker.controller) {
      await new Promise((resolve) =>
        navigator.serviceWorker.addEventListener('controllerchange', resolve, { once: true }));
    }
  })();
  const late = new Promise((_, reject) =>
    setTimeout(() => reject(new Error('no service worker controls the page')), 15000));
  await Promise.race([controlled, late]);
  return (await caches.keys()).filter((name) => name.startsWith('aduan-shell-'));
}"""
OUTBOX_STATES = """() => self.AduanOutbox.listOutbox().then((all) => all.map((e) => e.state))"""


def phone_photo(folder: Path, name: str = "foto.jpg", size: tuple[int, int] = (4000, 3000)) -> Path:
    """A 12 MP camera-sized JPEG (~2 MB) with smooth areas, edges and a little grain."""
    width, height = size
    gradient = Image.linear_gradient("L").resize(size)
    across = gradient.transpose(Image.Transpose.ROTATE_90).resize(size)
    blotches = Image.effect_noise((160, 120), 60).resize(size, Image.Resampling.BICUBIC)
    image = Image.merge("RGB", (gradient, blotches, across))
    draw = ImageDraw.Draw(image)
    rnd = random.Random(4)
    for _ in range(60):
        x, y, w = rnd.randrange(width), rnd.randrange(height), rnd.randrange(50, 600)
        draw.ellipse([x, y, x + w, y + w * 0.6], fill=tuple(rnd.randrange(256) for _ in range(3)))
    grain = Image.effect_noise(size, 40).convert("L")
    image = Image.blend(image, Image.merge("RGB", (grain, grain, grain)), 0.05)
    path = folder / name
    image.save(path, "JPEG", quality=90)
    return path


def open_controlled(context: Any, server: LiveServer, path: str = "/lapor") -> Any:
    page = context.new_page()
    page.goto(server.url + path)
    shells = page.evaluate(UNTIL_CONTROLLED)
    assert len(shells) == 1
    return page


def fill_report(page: Any, description: str, photo: Path | None = None) -> None:
    page.select_option("#category", index=1)
    page.select_option("#area", index=1)
    page.fill("#description", description)
    if photo is not None:
        page.set_input_files("#photo-gallery", str(photo))


def submit(page: Any) -> float:
    page.click("#lapor-form button[type=submit]")
    return time.monotonic()


def wait_until(
    page: Any, condition: Callable[[], bool], timeout: float = 30, what: str = ""
) -> None:
    """Poll through Playwright's own wait, so route handlers and events keep running."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or condition}")
        page.wait_for_timeout(200)


def uploads(server: LiveServer) -> list[Any]:
    return [h for h in server.recorder.hits if h.method == "POST" and h.path == "/api/v1/reports"]


@pytest.mark.both_backends
def test_report_filed_offline_arrives_once_with_a_shrunk_photo(
    live_server: LiveServer, context: Any, tmp_path: Path
) -> None:
    page = open_controlled(context, live_server)
    photo = phone_photo(tmp_path)
    assert photo.stat().st_size > 1_500_000
    context.set_offline(True)

    fill_report(page, "Lubang besar di jalan depan pasar, motor sering jatuh.", photo)
    # A resident reads the form over before pressing Kirim; the photo is shrunk meanwhile,
    # from the moment it was chosen (tests/browser/test_phone_photo.py proves that).
    page.wait_for_timeout(2000)
    clicked = submit(page)
    waiting = page.locator("#outbox").get_by_text("Menunggu sinyal")
    waiting.wait_for(timeout=5000)
    elapsed = time.monotonic() - clicked
    assert elapsed < 1.0, f"the resident waited {elapsed:.2f} s to see the report saved"
    page.locator("#outbox").get_by_text("Tersimpan di HP Anda").wait_for()

    # Still offline: the service worker serves the page, and the report is still listed.
    page.reload()
    page.locator("#outbox").get_by_text("Menunggu sinyal").wait_for()
    wait_until(page, lambda: page.evaluate(OUTBOX_STATES) == ["waiting"], what="one waiting")
    assert live_server.report_count() == 0
    page.close()

    context.set_offline(False)
    home = context.new_page()
    home.goto(live_server.url + "/")
    wait_until(home, lambda: live_server.report_count() >= 1, what="the report to arrive")
    home.wait_for_timeout(1000)  # any duplicate would have arrived by now
    rows = live_server.rows("SELECT id, code, channel, written_at FROM reports")
    assert len(rows) == 1
    report = rows[0]
    assert report["channel"] == "outbox" and report["written_at"]

    # The photo was shrunk on the phone: a small upload, and a stored photo ≤ 1600 px.
    sent = [h for h in uploads(live_server) if h.status in (200, 201)]
    assert sent and all(h.bytes_in <= LIMIT_BYTES for h in sent), [h.bytes_in for h in sent]
    photos = live_server.rows(
        "SELECT sha256, width, height FROM photos WHERE report_id = ?", (report["id"],)
    )
    assert len(photos) == 1 and max(photos[0]["width"], photos[0]["height"]) <= 1600
    stored = stored_photo(live_server.settings, photos[0]["sha256"])
    assert stored is not None and len(stored) <= LIMIT_BYTES

    # "Laporan saya" lists it with its code, and the queue is empty.
    mine = context.new_page()
    mine.goto(live_server.url + "/laporan-saya")
    code = report["code"]
    link = mine.locator(f"#outbox a[href='/t/{code}']")
    link.wait_for()
    assert link.inner_text() == f"{code[:4]}-{code[4:]}"
    mine.locator("#outbox .status").get_by_text("Diterima").wait_for()
    assert mine.evaluate(OUTBOX_STATES) == []


@pytest.mark.parametrize("failure", ["server_error", "connection_drop", "captive_portal"])
@pytest.mark.both_backends
def test_a_failed_attempt_keeps_the_report_until_it_goes_through(
    live_server: LiveServer, context: Any, tmp_path: Path, failure: str
) -> None:
    page = open_controlled(context, live_server)
    attempts: list[int] = []

    def first_attempt_fails(route: Any) -> None:
        attempts.append(1)
        if len(attempts) > 1:
            route.continue_()
        elif failure == "server_error":
            route.fulfill(status=500, body="Internal Server Error")
        elif failure == "connection_drop":
            route.abort("connectionreset")
        else:  # a hotel wifi login page, answered with 200 and no marker
            route.fulfill(
                status=200,
                content_type="text/html",
                body="<html><body>Masuk ke WiFi Gratis</body></html>",
            )

    page.route("**/api/v1/reports", first_attempt_fails)
    fill_report(
        page,
        "Lampu jalan mati sejak seminggu di gang kami.",
        phone_photo(tmp_path, size=(2000, 1500)),
    )
    submit(page)
    wait_until(page, lambda: len(attempts) >= 1, what="the first attempt")
    page.locator("#outbox").get_by_text("Menunggu sinyal").wait_for()
    assert page.evaluate(OUTBOX_STATES) == ["waiting"]
    assert live_server.report_count() == 0

    # The page's own timer tries again (after 5 s) and the report goes through once.
    page.locator("#outbox").get_by_text("Terkirim", exact=True).wait_for(timeout=20_000)
    assert len(attempts) == 2
    assert live_server.report_count() == 1
    assert page.evaluate(OUTBOX_STATES) == []
    code = live_server.rows("SELECT code FROM reports")[0]["code"]
    assert page.locator(f"#outbox a[href='/t/{code}']").is_visible()


def test_a_refused_report_is_fixed_in_the_form_and_sent_once(
    live_server: LiveServer, context: Any, tmp_path: Path
) -> None:
    page = open_controlled(context, live_server)
    # The phone cannot tell a damaged photo from a real one; the server can: a 422 with
    # the field's message, after the form's own checks passed.
    broken = tmp_path / "IMG_0001.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 not really a photo")
    fill_report(page, "Trotoar ambles sepanjang lima meter di depan halte.", broken)
    submit(page)
    page.locator("#outbox").get_by_text("Perlu diperbaiki").wait_for()
    assert page.evaluate(OUTBOX_STATES) == ["needs_fix"]
    assert "rusak" in page.locator("#outbox").inner_text()
    assert "Tersimpan" not in page.locator("#outbox").inner_text()  # not "saved" and "fix"

    page.locator("#outbox button", has_text="Perbaiki").click()
    page.locator("#outbox .outbox-fixing").wait_for()
    assert page.input_value("#description").startswith("Trotoar ambles")
    assert page.get_attribute("#photo-gallery", "aria-invalid") == "true"
    assert page.locator("#outbox .outbox-fixing img").count() == 1  # the photo stays attached
    page.locator("#outbox button", has_text="Lepas foto").click()
    # Polled from Python: a string predicate that must poll is eval'd in the page, which
    # the strict Content-Security-Policy forbids.
    wait_until(
        page,
        lambda: not page.evaluate("!!document.querySelector('#outbox .outbox-fixing img')"),
        what="the held photo to leave the form",
    )
    page.set_input_files("#photo-gallery", str(phone_photo(tmp_path, size=(1200, 900))))
    submit(page)
    # Sent at once: on to the receipt, as without JavaScript.
    page.wait_for_url("**/struk?k=*", timeout=20_000)
    rows = live_server.rows("SELECT id, code, description FROM reports")
    assert len(rows) == 1 and rows[0]["description"].startswith("Trotoar ambles")
    assert rows[0]["code"] in page.url
    assert len(live_server.rows("SELECT 1 FROM photos WHERE report_id = ?", (rows[0]["id"],))) == 1
    page.goto(live_server.url + "/laporan-saya")
    page.locator(f"#outbox a[href='/t/{rows[0]['code']}']").wait_for()
    assert page.evaluate(OUTBOX_STATES) == []


def test_a_resident_may_delete_a_queued_report(live_server: LiveServer, context: Any) -> None:
    page = open_controlled(context, live_server)
    context.set_offline(True)
    fill_report(page, "Sampah menumpuk di pinggir kali.")
    submit(page)
    page.locator("#outbox").get_by_text("Menunggu sinyal").wait_for()
    messages: list[str] = []

    def answer(dialog: Any) -> None:
        messages.append(dialog.message)
        dialog.dismiss() if len(messages) == 1 else dialog.accept()

    page.on("dialog", answer)
    page.locator("#outbox button", has_text="Hapus").click()  # dismissed: nothing changes
    assert page.evaluate(OUTBOX_STATES) == ["waiting"]
    page.locator("#outbox button", has_text="Hapus").click()
    wait_until(page, lambda: page.evaluate(OUTBOX_STATES) == [], what="the entry to go")
    assert "hilang" in messages[0]
    context.set_offline(False)
    page.wait_for_timeout(1000)
    assert live_server.report_count() == 0


@pytest.mark.both_backends
def test_a_new_service_worker_keeps_and_sends_two_queued_reports(
    live_server: LiveServer, context: Any, tmp_path: Path
) -> None:
    page = open_controlled(context, live_server)
    [old_shell] = page.evaluate(UNTIL_CONTROLLED)
    context.set_offline(True)
    for text in ("Pohon tumbang menutup jalan.", "Saluran air tersumbat dan meluap."):
        fill_report(page, text)
        submit(page)
        wait_until(
            page, lambda n=text: n not in page.input_value("#description"), what="form reset"
        )
    wait_until(
        page,
        lambda: page.evaluate(OUTBOX_STATES) == ["waiting", "waiting"],
        what="two reports waiting",
    )

    # Signal comes back, but the server cannot take reports yet, while a new version is
    # deployed (Background Sync fires on reconnecting, and gets a 503 as well).
    live_server.recorder.unavailable.add("/api/v1/reports")
    context.set_offline(False)
    # The new version: another sw.js, served on the same address over the same database
    # (the database the first app's lifespan opened reaches the new app with each request).
    source = tmp_path / "sw.js"
    source.write_text(live_server.settings.service_worker_source.read_text() + "// deploy-2\n")
    deployed = dataclasses.replace(live_server.settings, service_worker_source=source)
    live_server.recorder.app = create_app(deployed)
    new_shell = page.evaluate("""async () => {
      const reg = await navigator.serviceWorker.getRegistration();
      const changed = new Promise((resolve) =>
        navigator.serviceWorker.addEventListener('controllerchange', resolve, { once: true }));
      await reg.update();
      await changed;
      // The new worker controls the page from activation on; wait for its activate
      // handler (which drops the old caches) to finish too.
      const worker = navigator.serviceWorker.controller;
      if (worker.state !== 'activated') {
        await new Promise((resolve) => worker.addEventListener('statechange', () => {
          if (worker.state === 'activated') resolve();
        }));
      }
      return (await caches.keys()).filter((name) => name.startsWith('aduan-shell-'));
    }""")
    assert len(new_shell) == 1 and new_shell != [old_shell]  # the old shell cache is gone
    page.reload()
    page.evaluate(UNTIL_CONTROLLED)
    states = page.evaluate(OUTBOX_STATES)  # the reloaded page may be trying one right now
    assert len(states) == 2 and set(states) <= {"waiting", "sending"}
    page.locator("#outbox li[data-state=waiting]").nth(1).wait_for()
    assert live_server.report_count() == 0

    live_server.recorder.unavailable.clear()
    page.locator("#outbox button", has_text="Kirim sekarang").click()
    wait_until(page, lambda: live_server.report_count() == 2, what="both reports")
    wait_until(page, lambda: page.evaluate(OUTBOX_STATES) == [], what="an empty queue")
    texts = {r["description"] for r in live_server.rows("SELECT description FROM reports")}
    assert texts == {"Pohon tumbang menutup jalan.", "Saluran air tersumbat dan meluap."}


def test_a_repeat_visit_fetches_no_static_file_from_the_network(
    live_server: LiveServer, context: Any
) -> None:
    first = open_controlled(context, live_server)
    first.close()
    live_server.recorder.clear()
    page = context.new_page()
    page.goto(live_server.url + "/lapor")
    page.wait_for_load_state("load")
    page.evaluate(UNTIL_CONTROLLED)
    reached = [h.path for h in live_server.recorder.hits]
    assert not [p for p in reached if p.startswith("/static/")], reached
    assert "/lapor" in reached  # the page itself is network-first, so it is fresh


def test_a_tracking_page_seen_before_shows_its_last_status_offline(
    live_server: LiveServer, context: Any
) -> None:
    page = open_controlled(context, live_server)
    fill_report(page, "Jembatan kayu di RW 03 retak dan goyang.")
    submit(page)
    page.wait_for_url("**/struk?k=*", timeout=20_000)  # sent at once: its receipt
    code = live_server.rows("SELECT code FROM reports")[0]["code"]
    page.get_by_role("link", name="Lihat perjalanan laporan").click()
    page.wait_for_url(f"**/t/{code}")
    assert "Terakhir dilihat" not in page.inner_text("main")

    context.set_offline(True)
    page.reload()
    notice = page.locator("main .offline-copy")
    notice.wait_for()
    assert "Terakhir dilihat" in notice.inner_text() and "offline" in notice.inner_text()
    assert code[:4] in page.inner_text("main")  # the page itself, from the phone's copy

    # A page never seen gives the offline page, which offers the (cached) form.
    page.goto(live_server.url + "/t/ZZZZ9999")
    assert "Anda sedang offline" in page.inner_text("main")
    page.click("main a[href='/lapor']")
    page.locator("#lapor-form").wait_for()


def test_upload_progress_is_shown_as_a_real_percentage(
    live_server: LiveServer, context: Any, tmp_path: Path
) -> None:
    page = open_controlled(context, live_server)
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {
            "offline": False,
            "latency": 200,
            "downloadThroughput": 50_000,
            "uploadThroughput": 50_000,
        },
    )
    fill_report(page, "Trotoar rusak dan licin di depan halte.", phone_photo(tmp_path))
    submit(page)
    seen: set[str] = set()
    while "/struk" not in page.url:  # sent: on to the receipt
        try:
            text = page.evaluate("(document.getElementById('outbox') || {}).innerText || ''")
        except PlaywrightError:  # leaving for the receipt right now
            continue
        seen.update(w for w in text.split("\n") if w.startswith("Mengirim…"))
        page.wait_for_timeout(100)
    percents = sorted({int(t.split()[1]) for t in seen if t.endswith("%")})
    # A ~200 KB upload at 400 kbit/s takes seconds: several steps between 0 and 100 show.
    assert len(percents) >= 3 and 0 < percents[len(percents) // 2] < 100, seen


def test_the_site_is_installable_and_its_pages_break_no_policy(
    live_server: LiveServer, context: Any
) -> None:
    page = open_controlled(context, live_server, "/laporan-saya")
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    for path in ("/lapor", "/offline", "/laporan-saya"):
        page.goto(live_server.url + path)
        page.wait_for_load_state("load")
    page.locator("#outbox").get_by_text("Belum ada laporan").wait_for()
    assert problems == []  # no CSP violation, no script error


def test_chrome_finds_the_site_installable(
    live_server: LiveServer, browser: Any, tmp_path: Path
) -> None:
    # A normal (non-incognito) profile: Chrome never offers installing in incognito.
    profile = browser.browser_type.launch_persistent_context(
        str(tmp_path / "profile"),
        executable_path=str(CHROMIUM),
        args=CHROMIUM_ARGS,
        headless=True,
    )
    try:
        page = open_controlled(profile, live_server, "/laporan-saya")
        cdp = profile.new_cdp_session(page)
        manifest = cdp.send("Page.getAppManifest")
        assert manifest["errors"] == [] and manifest["url"].endswith("/manifest.webmanifest")
        assert cdp.send("Page.getInstallabilityErrors")["installabilityErrors"] == []
    finally:
        profile.close()


def test_a_photos_gps_survives_shrinking_on_the_phone_for_staff_only(
    live_server: LiveServer, context: Any, tmp_path: Path
) -> None:
    from tests.images import JAKARTA, phone_jpeg

    photo = tmp_path / "IMG_0042.jpg"
    photo.write_bytes(phone_jpeg())  # EXIF orientation 6 and GPS at Monas
    page = context.new_page()
    page.goto(live_server.url + "/lapor")
    fill_report(page, "Pohon tumbang menutup separuh jalan di depan kantor pos.", photo)
    submit(page)
    wait_until(page, lambda: live_server.report_count() == 1, what="the report to arrive")
    (row,) = live_server.rows("SELECT code, lat, lon, location_source, channel FROM reports")
    assert row["channel"] == "outbox" and row["location_source"] == "photo"
    assert (round(row["lat"], 4), round(row["lon"], 4)) == JAKARTA
    (stored,) = live_server.rows("SELECT width, height FROM photos")
    assert stored["height"] > stored["width"]  # drawn upright from EXIF orientation
    public = page.request.get(f"{live_server.url}/t/{row['code']}").text()
    assert "-6.175" not in public and "106.827" not in public


def test_a_channel_ticked_offline_is_checked_on_the_phone_and_survives_the_queue(
    live_server: LiveServer, context: Any
) -> None:
    """Ticking "Kabari saya lewat WhatsApp" without a number is shown by the phone field at once,
    before anything is queued (as the server would); once the number is typed, the outbox
    sends the form's fields as they are, the ticked channel with them."""
    page = open_controlled(context, live_server)
    context.set_offline(True)
    fill_report(page, "Lampu jalan mati sepanjang gang, gelap sekali malam hari.")
    page.check("#notify_by-whatsapp")
    submit(page)
    error = page.locator("#reporter_phone-error")
    error.wait_for()
    assert "WhatsApp atau SMS" in error.inner_text()
    assert page.evaluate(OUTBOX_STATES) == []
    assert page.is_checked("#notify_by-whatsapp")

    page.fill("#reporter_phone", "0812 3456 7890")
    submit(page)
    page.locator("#outbox").get_by_text("Menunggu sinyal").wait_for()
    page.reload()  # kept on the phone, offline
    page.locator("#outbox").get_by_text("Menunggu sinyal").wait_for()
    page.close()
    context.set_offline(False)
    home = context.new_page()
    home.goto(live_server.url + "/")
    wait_until(home, lambda: live_server.report_count() >= 1, what="the report to arrive")
    rows = live_server.rows("SELECT notify_by, reporter_phone, channel FROM reports")
    assert [tuple(r[k] for k in ("notify_by", "reporter_phone", "channel")) for r in rows] == [
        ("whatsapp", "081234567890", "outbox")
    ]
