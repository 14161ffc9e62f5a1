"""Where the "Kabari saya" button is, without a browser: which pages carry it, the URL it
subscribes to (with the private link's token where the page has it), the server's Web Push
key the page hands to the browser, and the words the service worker shows for a push that
comes without a readable payload."""

from __future__ import annotations

import dataclasses
import html
import json
import re

from starlette.testclient import TestClient

from tests.helpers import add_report
from tests.test_push_subscriptions import private_token
from tests.test_pwa import _sw_constant
from web import vapid
from web.app import create_app
from web.settings import Settings


def follow_urls(page: str) -> list[str]:
    return [html.unescape(u) for u in re.findall(r'data-push-subscribe="([^"]*)"', page)]


def page_key(page: str) -> str:
    match = re.search(r'<div id="push-strings" hidden\s+data-key="([^"]*)"', page)
    assert match, "no #push-strings on the page"
    return match[1]


def test_the_receipt_and_tracking_pages_follow_the_report_they_show(
    client: TestClient, settings: Settings
) -> None:
    code = add_report(settings)
    key = vapid.application_server_key(settings)
    script = client.app.state.static.url("js/push.js")  # type: ignore[attr-defined]
    token = private_token(settings, code)
    pages = {
        f"/t/{code}": f"/api/v1/reports/{code}/push",
        f"/t/{code}/struk": f"/api/v1/reports/{code}/push",
        f"/t/{code}/struk?k={token}": f"/api/v1/reports/{code}/push?k={token}",
        f"/t/{code}/p/{token}": f"/api/v1/reports/{code}/push?k={token}",
    }
    for path, url in pages.items():
        page = client.get(path).text
        assert follow_urls(page) == [url], path
        assert page_key(page) == key
        assert f'<script src="{script}" defer></script>' in page
        # Hidden until js/push.js shows it: no dead button without JavaScript.
        assert re.search(
            r"<button [^>]*data-push-subscribe=[^>]* hidden>Kabari saya</button>", page
        )
    client.cookies.set("lang", "en")
    english = client.get(f"/t/{code}").text
    assert ">Notify me</button>" in english
    assert 'data-following="You will be notified of every step."' in english


def test_a_confidential_report_is_followed_only_where_its_token_is(
    client: TestClient, settings: Settings
) -> None:
    code = add_report(settings, confidential=True)
    token = private_token(settings, code)
    for path in (f"/t/{code}", f"/t/{code}/struk", f"/t/{code}/struk?k=wrong"):
        page = client.get(path).text
        assert follow_urls(page) == [] and "js/push" not in page, path
    private = client.get(f"/t/{code}/p/{token}").text
    assert follow_urls(private) == [f"/api/v1/reports/{code}/push?k={token}"]


def test_laporan_saya_carries_the_key_and_the_report_form_does_not_load_the_script(
    client: TestClient, settings: Settings
) -> None:
    static = client.app.state.static  # type: ignore[attr-defined]
    mine = client.get("/laporan-saya").text
    assert page_key(mine) == vapid.application_server_key(settings)
    assert f'<script src="{static.url("js/push.js")}" defer></script>' in mine
    # Its bytes would count against /lapor's budget; outbox.js only draws the buttons.
    assert "js/push.js" not in client.get("/lapor").text


def test_without_a_usable_key_the_pages_show_no_button_instead_of_failing(
    settings: Settings,
) -> None:
    broken = dataclasses.replace(settings, vapid_private_key="not a key")
    code = add_report(settings)
    with TestClient(create_app(broken)) as client:
        page = client.get(f"/t/{code}")
        assert page.status_code == 200
        assert follow_urls(page.text) == []
        assert client.get(f"/t/{code}/struk").status_code == 200


def test_the_service_worker_has_words_for_a_push_it_cannot_read(client: TestClient) -> None:
    strings = json.loads(_sw_constant(client.get("/sw.js").text, "STRINGS"))
    assert strings["id"]["pushTitle"] == "Aduan: ada kabar baru"
    assert strings["en"]["pushTitle"] == "Aduan: there is news"
    assert strings["en"]["pushBody"] and strings["id"]["pushBody"] != strings["en"]["pushBody"]
