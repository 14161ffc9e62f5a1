"""Web Push in real Chromium: a push delivered to our service worker through the DevTools
protocol shows the step as a notification and a tap brings up the tracking page; "Kabari
saya" asks for the permission only when tapped, and the subscription reaches the server,
from the receipt, the private page and "Laporan saya"; "Berhenti" stops it.

Headless Chromium reaches no real push service, so PushManager.subscribe/getSubscription
(the browser's, nothing of ours) are replaced in the pages by PUSH_SERVICE below, which
answers as a push service would, with a P-256 key and an auth secret each test makes.
"""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from playwright.sync_api import Error as PlaywrightError

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, LiveServer
from tests.browser.notification_daemon import notification_daemon
from tests.browser.test_accessibility import violations
from tests.browser.test_offline import UNTIL_CONTROLLED, fill_report, submit, wait_until
from tests.browser.test_resident_screens import PHONE, file_report, fits_the_screen
from tests.helpers import GAMBIR, PASSWORD, add_account
from web import vapid
from web.codes import display
from web.push import payload

pytestmark = pytest.mark.browser

# Stands in for the push service the browser would ask (none is reachable here). Only the
# browser's PushManager is replaced; the subscription it hands out is kept in the page's
# storage, as the browser keeps a real one across visits.
PUSH_SERVICE = """
(() => {
  const SUBSCRIPTION = %s;
  const STORE = 'test-push-service';
  const b64 = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes)))
    .replace(/\\+/g, '-').replace(/\\//g, '_').replace(/=+$/, '');
  const unb64 = (text) => Uint8Array.from(atob(text.replace(/-/g, '+').replace(/_/g, '/')),
    (c) => c.charCodeAt(0)).buffer;
  const made = (serverKey) => ({
    endpoint: SUBSCRIPTION.endpoint,
    expirationTime: null,
    options: { userVisibleOnly: true, applicationServerKey: unb64(serverKey) },
    getKey: (name) => unb64(SUBSCRIPTION.keys[name]),
    toJSON: () => ({
      endpoint: SUBSCRIPTION.endpoint, expirationTime: null, keys: SUBSCRIPTION.keys,
    }),
    unsubscribe: async () => { localStorage.removeItem(STORE); return true; },
  });
  PushManager.prototype.getSubscription = async function () {
    const serverKey = localStorage.getItem(STORE);
    return serverKey ? made(serverKey) : null;
  };
  PushManager.prototype.subscribe = async function (options) {
    if (Notification.permission !== 'granted' || !options.userVisibleOnly) {
      throw new DOMException('Registration failed - permission denied', 'NotAllowedError');
    }
    localStorage.setItem(STORE, b64(options.applicationServerKey));
    return made(localStorage.getItem(STORE));
  };
})();
"""
# Counts the permission requests and passes each on to the browser unchanged.
COUNT_PERMISSION_REQUESTS = """
(() => {
  if (!self.Notification) return;
  const ask = Notification.requestPermission.bind(Notification);
  self.permissionRequests = 0;
  Notification.requestPermission = (...args) => {
    self.permissionRequests += 1;
    return ask(...args);
  };
})();
"""
NOTIFICATIONS = """() => navigator.serviceWorker.ready
  .then((registration) => registration.getNotifications())
  .then((all) => all.map((n) => ({ title: n.title, body: n.body, tag: n.tag, lang: n.lang,
    icon: n.icon, data: n.data })))"""
SIDEWAYS = "document.scrollingElement.scrollWidth - document.documentElement.clientWidth"
SETTLED_SIDEWAYS = """() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(
  () => done(document.scrollingElement.scrollWidth - document.documentElement.clientWidth))))"""
# What sticks out past the right edge, to name it when a page scrolls sideways.
WIDEST = """() => [...document.querySelectorAll('body *')]
  .filter((e) => e.getBoundingClientRect().right > document.documentElement.clientWidth)
  .map((e) => `${e.tagName.toLowerCase()}.${e.className} ${e.getBoundingClientRect().right}`)
  .slice(0, 5)"""
FOLLOWING = "Anda akan dikabari setiap ada perkembangan."
STOPPED = "Anda tidak akan dikabari lagi tentang laporan ini."
IN_PAGE_CACHE = """(path) => caches.open('aduan-pages').then((c) => c.match(path))
  .then((r) => (r ? r.text() : ''))"""


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def browser_subscription() -> dict[str, Any]:
    """What a push service gives a browser: an https endpoint, the browser's P-256 public key
    (uncompressed, 65 bytes) and a 16-byte auth secret."""
    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    point = key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return {
        "endpoint": "https://fcm.googleapis.com/fcm/send/" + secrets.token_urlsafe(24),
        "keys": {"p256dh": b64url(point), "auth": b64url(secrets.token_bytes(16))},
    }


def resident(
    browser: Any, subscription: dict[str, Any], **options: Any
) -> tuple[Any, Any, list[str]]:
    context = browser.new_context(**{**PHONE, "service_workers": "allow", **options})
    context.set_default_timeout(15_000)
    context.add_init_script(PUSH_SERVICE % json.dumps(subscription))
    context.add_init_script(COUNT_PERMISSION_REQUESTS)
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    return context, page, problems


def follows(server: LiveServer, code: str) -> list[str]:
    """The endpoints following a report, as the server stored them."""
    return [
        row["endpoint"]
        for row in server.rows(
            "SELECT s.endpoint FROM push_follows f"
            " JOIN push_subscriptions s ON s.id = f.subscription_id"
            " JOIN reports r ON r.id = f.report_id WHERE r.code = ?",
            (code,),
        )
    ]


def stored_keys(server: LiveServer, endpoint: str) -> tuple[str, str]:
    row = server.rows(
        "SELECT p256dh, auth FROM push_subscriptions WHERE endpoint = ?", (endpoint,)
    )[0]
    return row["p256dh"], row["auth"]


def fresh_page(page: Any) -> bool:
    """True once the page was replaced (a navigation may be under way while asked)."""
    try:
        return bool(page.evaluate("() => self.beforeTheTap === undefined"))
    except PlaywrightError:
        return False


def push_status(page: Any) -> str:
    return str(page.locator("main [data-push-status]").first.inner_text()).strip()


# --- the service worker -----------------------------------------------------------------------


def registration_id(cdp: Any, page: Any) -> str:
    found: list[dict[str, Any]] = []
    cdp.on("ServiceWorker.workerRegistrationUpdated", lambda e: found.extend(e["registrations"]))
    cdp.send("ServiceWorker.enable")
    wait_until(page, lambda: any(not r["isDeleted"] for r in found), 10, "a registration")
    return str(next(r for r in found if not r["isDeleted"])["registrationId"])


def test_a_push_shows_the_step_as_one_notification_per_report(
    live_server: LiveServer, browser: Any
) -> None:
    code, _receipt = file_report(live_server)
    context, page, problems = resident(browser, browser_subscription())
    context.grant_permissions(["notifications"], origin=live_server.url)
    try:
        page.goto(f"{live_server.url}/t/{code}")
        page.evaluate(UNTIL_CONTROLLED)
        cdp = context.new_cdp_session(page)
        registration = registration_id(cdp, page)

        def push(data: str | None) -> None:
            message = {"origin": live_server.url, "registrationId": registration}
            cdp.send("ServiceWorker.deliverPushMessage", {**message, "data": data or ""})

        def shown() -> list[dict[str, Any]]:
            return list(page.evaluate(NOTIFICATIONS))

        # What the server sends for a step (web/push.py), made by the server's own code.
        step = {"code": code, "language": "id", "confidential": False}
        verified = payload(
            {**step, "kind": "verified", "public_note": "Petugas datang besok pagi."},
            tracking_path=f"/t/{code}",
        )
        push(json.dumps(verified))
        wait_until(page, lambda: len(shown()) == 1, 10, "the notification")
        [note] = shown()
        assert note["title"] == f"Laporan {display(code)}" == verified["title"]
        assert note["body"] == verified["body"]
        assert note["body"].endswith(": Petugas datang besok pagi.")
        assert note["tag"] == f"aduan-{code}" and note["lang"] == "id"
        assert note["icon"].startswith(live_server.url + "/static/")
        assert note["icon"].endswith("/icons/icon-192.png")
        assert note["data"]["url"] == f"/t/{code}"

        # A newer step replaces the older one: still one notification for the report.
        progress = payload(
            {**step, "kind": "progress", "public_note": "Lampu sudah dipesan."},
            tracking_path=f"/t/{code}",
        )
        push(json.dumps(progress))
        wait_until(page, lambda: shown()[0]["body"] == progress["body"], 10, "the newer step")
        assert len(shown()) == 1

        # No payload, or one we cannot read: still a notification (the browser demands one).
        push(None)
        push("{not json")
        push(json.dumps({"code": "<b>", "title": "x", "url": "https://elsewhere.example/"}))
        wait_until(page, lambda: len(shown()) == 2, 10, "the plain notification")
        plain = next(n for n in shown() if n["tag"] == "aduan")
        assert plain["title"] == "Aduan: ada kabar baru"
        assert plain["data"]["url"] == "/laporan-saya"

        assert problems == []
    finally:
        context.close()


def test_a_tap_on_the_notification_opens_the_tracking_page_even_offline(
    live_server: LiveServer, browser: Any, tmp_path: Path
) -> None:
    # A real tap: Chromium shows the notification through the desktop's notification
    # service (tests/browser/notification_daemon.py), which clicks it as a person would.
    code, _receipt = file_report(live_server)
    with notification_daemon() as desktop:
        context = browser.browser_type.launch_persistent_context(
            str(tmp_path / "profile"),
            executable_path=str(CHROMIUM),
            args=CHROMIUM_ARGS,
            headless=True,
            env={**os.environ, "DBUS_SESSION_BUS_ADDRESS": desktop.address},
            service_workers="allow",
            **PHONE,
        )
        try:
            context.set_default_timeout(15_000)
            context.grant_permissions(["notifications"], origin=live_server.url)
            page = context.pages[0] if context.pages else context.new_page()
            problems: list[str] = []
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.goto(f"{live_server.url}/t/{code}")
            page.evaluate(UNTIL_CONTROLLED)
            cdp = context.new_cdp_session(page)
            registration = registration_id(cdp, page)
            step = payload(
                {
                    "code": code,
                    "language": "id",
                    "confidential": False,
                    "kind": "verified",
                    "public_note": "Petugas datang besok pagi.",
                },
                tracking_path=f"/t/{code}",
            )
            message = {"origin": live_server.url, "registrationId": registration}
            cdp.send("ServiceWorker.deliverPushMessage", {**message, "data": json.dumps(step)})
            wait_until(page, lambda: len(desktop.shown) == 1, 10, "the notification on screen")
            assert desktop.shown[0].summary == f"Laporan {display(code)}"
            assert desktop.shown[0].body.endswith("\n" + step["body"])

            # Tapped while the report's page is open: that tab shows the new step.
            page.evaluate("() => { self.beforeTheTap = true; }")
            desktop.click(desktop.shown[0].id)
            wait_until(page, lambda: fresh_page(page), 10, "the tracking page reloaded")
            assert [p.url for p in context.pages] == [f"{live_server.url}/t/{code}"]

            # Tapped with no signal and the page not open: a new window with the phone's copy.
            page.goto(f"{live_server.url}/laporan-saya")
            cdp.send("ServiceWorker.deliverPushMessage", {**message, "data": json.dumps(step)})
            wait_until(page, lambda: len(desktop.shown) == 2, 10, "the second notification")
            context.set_offline(True)
            with context.expect_page() as opened:
                desktop.click(desktop.shown[1].id)
            tab = opened.value
            tab.wait_for_url(f"**/t/{code}")
            tab.locator("main .offline-copy").wait_for()
            assert display(code) in tab.inner_text("main")
            assert problems == []
        finally:
            context.close()


# --- "Kabari saya" --------------------------------------------------------------------------


def test_kabari_saya_asks_only_when_tapped_and_the_server_gets_the_subscription(
    live_server: LiveServer, browser: Any
) -> None:
    code, receipt = file_report(live_server)
    subscription = browser_subscription()
    context, page, problems = resident(browser, subscription)
    try:
        page.goto(live_server.url + receipt)
        follow = page.get_by_role("button", name="Kabari saya")
        follow.wait_for()
        # Nothing asked on load.
        assert page.evaluate("() => [self.permissionRequests, Notification.permission]") == [
            0,
            "default",
        ]
        assert follows(live_server, code) == []
        fits_the_screen(page, "receipt-push")

        context.grant_permissions(["notifications"], origin=live_server.url)
        follow.click()
        stop = page.get_by_role("button", name="Berhenti")
        stop.wait_for()
        wait_until(page, lambda: push_status(page) == FOLLOWING, 5, "the following state")
        assert follow.is_hidden()
        assert page.evaluate("() => self.permissionRequests") == 1
        # The server has the browser's subscription, made with the server's own key.
        assert follows(live_server, code) == [subscription["endpoint"]]
        keys = subscription["keys"]
        assert stored_keys(live_server, subscription["endpoint"]) == (keys["p256dh"], keys["auth"])
        server_key = page.evaluate("() => localStorage.getItem('test-push-service')")
        assert server_key == vapid.application_server_key(live_server.settings)
        fits_the_screen(page, "receipt-following")
        page.set_viewport_size({"width": 320, "height": 640})
        # Once the resize has been laid out (a frame or two on a busy machine).
        settled = page.evaluate(SETTLED_SIDEWAYS)
        assert settled <= 0, f"the receipt scrolls sideways at 320 px: {page.evaluate(WIDEST)}"
        page.set_viewport_size({"width": 360, "height": 640})

        # The tracking page, never opened on this phone, is kept for a tap with no signal.
        wait_until(
            page,
            lambda: display(code) in page.evaluate(IN_PAGE_CACHE, f"/t/{code}"),
            10,
            "the tracking page kept",
        )

        # A later visit knows this browser follows the report.
        page.reload()
        stop.wait_for()
        assert follow.is_hidden()
        stop.click()
        follow.wait_for()
        wait_until(page, lambda: push_status(page) == STOPPED, 5, "the stopped state")
        assert follows(live_server, code) == []
        assert live_server.rows("SELECT COUNT(*) FROM push_subscriptions")[0][0] == 0
        assert page.evaluate("() => self.permissionRequests") == 0  # nothing asked to stop
        assert problems == []
    finally:
        context.close()


def test_a_refused_permission_says_how_to_allow_it_again(
    live_server: LiveServer, browser: Any
) -> None:
    code, _receipt = file_report(live_server)
    context, page, problems = resident(browser, browser_subscription())
    try:
        page.goto(f"{live_server.url}/t/{code}")
        follow = page.get_by_role("button", name="Kabari saya")
        follow.wait_for()
        cdp = context.new_cdp_session(page)
        cdp.send(
            "Browser.setPermission",
            {
                "permission": {"name": "notifications"},
                "setting": "denied",
                "origin": live_server.url,
            },
        )
        follow.click()
        wait_until(page, lambda: "diblokir" in push_status(page), 10, "the explanation")
        assert "izinkan Notifikasi" in push_status(page)
        assert follow.is_visible() and follow.is_enabled()  # to try again once allowed
        assert follows(live_server, code) == []
        fits_the_screen(page, "tracking-push-denied")
        assert problems == []
    finally:
        context.close()


def test_the_private_page_follows_a_confidential_report_with_its_token(
    live_server: LiveServer, browser: Any
) -> None:
    code, receipt = file_report(live_server, confidential="1")
    subscription = browser_subscription()
    context, page, problems = resident(browser, subscription)
    context.grant_permissions(["notifications"], origin=live_server.url)
    try:
        # The public page of a confidential report offers nothing: it cannot be followed there.
        page.goto(f"{live_server.url}/t/{code}")
        page.locator("main .code").wait_for()
        assert page.locator("[data-push-subscribe]").count() == 0
        page.goto(live_server.url + receipt)
        page.get_by_role("link", name=f"{live_server.url}/t/{code}/p/").click()
        follow = page.get_by_role("button", name="Kabari saya")
        follow.wait_for()
        token = page.url.rsplit("/p/", 1)[1]
        assert (
            follow.get_attribute("data-push-subscribe") == f"/api/v1/reports/{code}/push?k={token}"
        )
        follow.click()
        page.get_by_role("button", name="Berhenti").wait_for()
        assert follows(live_server, code) == [subscription["endpoint"]]
        assert problems == []
    finally:
        context.close()


def test_laporan_saya_offers_kabari_saya_under_each_report(
    live_server: LiveServer, browser: Any
) -> None:
    subscription = browser_subscription()
    context, page, problems = resident(browser, subscription)
    context.grant_permissions(["notifications"], origin=live_server.url)
    try:
        page.goto(live_server.url + "/lapor")
        page.evaluate(UNTIL_CONTROLLED)
        for story in ("Got mampet di Jalan Kenari.", "Pohon tumbang menutup trotoar."):
            fill_report(page, story)
            submit(page)
            page.wait_for_url("**/struk?k=*", timeout=20_000)
            page.goto(live_server.url + "/lapor")
        first, second = (
            row["code"] for row in live_server.rows("SELECT code FROM reports ORDER BY id")
        )
        page.goto(live_server.url + "/laporan-saya")
        label = f"Kabari saya tentang laporan {display(first)}"
        # With the private link's token, which a confidential report would need.
        url = page.get_by_role("button", name=label).get_attribute("data-push-subscribe")
        assert re.fullmatch(rf"/api/v1/reports/{first}/push\?k=[\w.-]+", url or ""), url
        page.get_by_role("button", name=label).click()
        page.get_by_role("button", name=f"Berhenti mengabari laporan {display(first)}").wait_for()
        assert follows(live_server, first) == [subscription["endpoint"]]
        assert follows(live_server, second) == []
        page.get_by_role("button", name=f"Kabari saya tentang laporan {display(second)}").wait_for()
        fits_the_screen(page, "laporan-saya-push")
        assert problems == []
    finally:
        context.close()


def test_a_browser_without_push_says_so_instead_of_a_dead_button(
    live_server: LiveServer, browser: Any
) -> None:
    code, receipt = file_report(live_server)
    # Safari on an iPhone, before the site is added to the home screen, has no PushManager.
    context = browser.new_context(**PHONE)
    context.add_init_script("delete self.PushManager;")
    page = context.new_page()
    try:
        page.goto(live_server.url + receipt)
        note = page.locator("main .push-unsupported")
        note.wait_for()
        assert "Layar Utama" in note.inner_text()
        assert page.locator("[data-push-subscribe]").is_hidden()
    finally:
        context.close()
    # Without JavaScript there is no button at all.
    context = browser.new_context(**PHONE, java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/t/{code}")
        assert page.locator("[data-push-subscribe]").is_hidden()
        assert page.get_by_role("button", name="Kabari saya").count() == 0
    finally:
        context.close()


def test_any_button_with_the_data_attributes_follows_and_sends_its_csrf_token(
    live_server: LiveServer, browser: Any
) -> None:
    # The contract staff pages build on: a bare button with data-push-subscribe (and
    # data-push-csrf), added after load, gets its status line and "Berhenti" from push.js.
    code, _receipt = file_report(live_server)
    subscription = browser_subscription()
    context, page, problems = resident(browser, subscription)
    context.grant_permissions(["notifications"], origin=live_server.url)
    sent: list[tuple[str, str | None]] = []

    def note_headers(route: Any) -> None:
        sent.append((route.request.method, route.request.headers.get("x-csrf-token")))
        route.continue_()

    page.route(f"**/api/v1/reports/{code}/push", note_headers)
    try:
        page.goto(live_server.url + "/laporan-saya")
        page.evaluate(
            """(url) => {
              const button = document.createElement('button');
              button.type = 'button';
              button.className = 'secondary';
              button.dataset.pushSubscribe = url;
              button.dataset.pushCsrf = 'token-123';
              button.dataset.pushFollowing = 'Peringatan kasus baru akan masuk ke HP ini.';
              button.textContent = 'Terima peringatan';
              document.querySelector('main').append(button);
            }""",
            f"/api/v1/reports/{code}/push",
        )
        page.get_by_role("button", name="Terima peringatan").click()
        stop = page.get_by_role("button", name="Berhenti")
        stop.wait_for()
        status = page.locator("main [data-push-status]").last
        wait_until(page, lambda: "kasus baru" in status.inner_text(), 5, "its own words")
        assert status.get_attribute("role") == "status"
        assert follows(live_server, code) == [subscription["endpoint"]]
        stop.click()
        page.get_by_role("button", name="Terima peringatan").wait_for()
        assert follows(live_server, code) == []
        assert sent == [("POST", "token-123"), ("DELETE", "token-123")]
        assert problems == []
    finally:
        context.close()


def test_following_and_a_refusal_pass_wcag_2_1_aa(live_server: LiveServer, browser: Any) -> None:
    code, receipt = file_report(live_server)
    # The CSP forbids the injected engine: this context alone bypasses it to load axe.
    context, page, _problems = resident(browser, browser_subscription(), bypass_csp=True)
    try:
        context.grant_permissions(["notifications"], origin=live_server.url)
        page.goto(live_server.url + receipt)
        page.get_by_role("button", name="Kabari saya").click()
        wait_until(page, lambda: push_status(page) == FOLLOWING, 10, "the following state")
        assert violations(page) == []
        context.clear_permissions()
        cdp = context.new_cdp_session(page)
        cdp.send(
            "Browser.setPermission",
            {
                "permission": {"name": "notifications"},
                "setting": "denied",
                "origin": live_server.url,
            },
        )
        page.goto(f"{live_server.url}/t/{code}")
        page.evaluate("() => localStorage.clear()")
        page.reload()
        page.get_by_role("button", name="Kabari saya").click()
        wait_until(page, lambda: "diblokir" in push_status(page), 10, "the explanation")
        assert violations(page) == []
    finally:
        context.close()


def test_an_officer_turns_alerts_on_and_off_from_the_inbox(
    live_server: LiveServer, browser: Any
) -> None:
    add_account(live_server.settings, "lurah", areas=[GAMBIR])
    subscription = browser_subscription()
    context, page, problems = resident(browser, subscription)
    context.grant_permissions(["notifications"], origin=live_server.url)
    try:
        page.goto(live_server.url + "/staf/masuk")
        page.fill("#username", "lurah")
        page.fill("#password", PASSWORD)
        page.locator("main button[type=submit]").click()
        page.wait_for_url("**/staf")
        page.get_by_role("button", name="Nyalakan pemberitahuan").click()
        stop = page.get_by_role("button", name="Berhenti")
        stop.wait_for()
        status = page.locator(".push-offer [data-push-status]")
        wait_until(page, lambda: "menyala" in status.inner_text(), 5, "alerts on")
        stored = live_server.rows("SELECT endpoint FROM staff_push_subscriptions")
        assert [r["endpoint"] for r in stored] == [subscription["endpoint"]]
        assert page.evaluate("self.permissionRequests") == 1
        stop.click()
        page.get_by_role("button", name="Nyalakan pemberitahuan").wait_for()
        assert live_server.rows("SELECT endpoint FROM staff_push_subscriptions") == []
        fits_the_screen(page, "staf-alerts")
        assert problems == []
    finally:
        context.close()
