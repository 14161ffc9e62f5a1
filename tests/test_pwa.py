"""The installable side without a browser: /sw.js, the manifest, the offline and "Laporan
saya" shells, and the status endpoint "Laporan saya" calls."""

from __future__ import annotations

import dataclasses
import json
import re
from io import BytesIO
from pathlib import Path

from PIL import Image
from starlette.testclient import TestClient

from tests.backend import execute, scalar
from web.app import create_app
from web.routes.pwa import STATUS_MAX_CODES, precache_urls
from web.settings import Settings


def _sw_constant(body: str, name: str) -> str:
    match = re.search(rf"^const {name} = (.*);$", body, re.MULTILINE)
    assert match, f"{name} not filled in"
    return match.group(1)


def test_service_worker_is_served_from_the_root_uncached(client: TestClient) -> None:
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["service-worker-allowed"] == "/"
    assert "/*" + "PRECACHE*/" not in response.text and "/*VERSION*/" not in response.text


def test_service_worker_precaches_the_shell_under_versioned_urls(client: TestClient) -> None:
    body = client.get("/sw.js").text
    precache = json.loads(_sw_constant(body, "PRECACHE"))
    for page in ("/", "/lapor", "/offline", "/laporan-saya", "/manifest.webmanifest"):
        assert page in precache
    static = client.app.state.static  # type: ignore[attr-defined]
    for rel in ("css/app.css", "js/outbox.js", "icons/icon-192.png", "icons/icon.svg"):
        assert static.url(rel) in precache
    assert any(url.endswith(".js") and "/vendor/htmx-" in url for url in precache)
    assert static.url("js/outbox-core.js") in precache
    assert json.loads(_sw_constant(body, "OUTBOX_SCRIPT")) == static.url("js/outbox-core.js")
    # Every precached static URL is one the server answers as immutable.
    for url in precache:
        if url.startswith("/static/"):
            assert "immutable" in client.get(url).headers["cache-control"]


def test_service_worker_version_changes_with_the_deployment(
    client: TestClient, settings: Settings, tmp_path: Path
) -> None:
    first = client.get("/sw.js")
    version = json.loads(_sw_constant(first.text, "VERSION"))
    assert re.fullmatch(r"[0-9a-f]{12}", version)
    # Unchanged: the browser's revalidation costs a 304 and no body.
    again = client.get("/sw.js", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    # The next deployment ships another sw.js.
    source = tmp_path / "sw.js"
    source.write_text(settings.service_worker_source.read_text() + "// next\n")
    next_settings = dataclasses.replace(settings, service_worker_source=source)
    with TestClient(create_app(next_settings)) as deployed:
        changed = deployed.get("/sw.js", headers={"If-None-Match": first.headers["etag"]})
    assert changed.status_code == 200
    assert json.loads(_sw_constant(changed.text, "VERSION")) != version


def test_service_worker_carries_its_words_in_every_language(client: TestClient) -> None:
    strings = json.loads(_sw_constant(client.get("/sw.js").text, "STRINGS"))
    assert set(strings) == {"id", "en"}
    assert "{time}" in strings["id"]["stale"] and "offline" in strings["id"]["stale"]


def test_manifest_makes_the_site_installable(client: TestClient) -> None:
    response = client.get("/manifest.webmanifest")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/manifest+json")
    manifest = response.json()
    assert manifest["name"] == "Aduan — Lapor Masalah Kota"
    assert manifest["short_name"] == "Aduan"
    assert manifest["lang"] == "id"
    assert manifest["theme_color"] == "#0b3d91" and manifest["background_color"] == "#ffffff"
    assert manifest["display"] == "standalone"
    assert manifest["start_url"] == "/" and manifest["scope"] == "/"
    seen = set()
    for icon in manifest["icons"]:
        image_response = client.get(icon["src"])
        assert image_response.status_code == 200
        assert len(image_response.content) < 20_000
        with Image.open(BytesIO(image_response.content)) as image:
            assert image.format == "PNG"
            assert f"{image.width}x{image.height}" == icon["sizes"]
        seen.add((icon["sizes"], icon["purpose"]))
    assert seen == {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")}


def test_maskable_icon_fills_the_whole_square(client: TestClient) -> None:
    static = client.app.state.static  # type: ignore[attr-defined]
    with Image.open(static.files["icons/icon-maskable-512.png"].path) as image:
        rgb = image.convert("RGB")
        # Launchers crop to a circle or squircle: the corners must be brand blue, not empty.
        for corner in ((0, 0), (511, 0), (0, 511), (511, 511)):
            assert rgb.getpixel(corner) == (11, 61, 145)


def test_offline_page_and_my_reports_shell_render(client: TestClient) -> None:
    offline = client.get("/offline")
    assert offline.status_code == 200 and "offline" in offline.text
    assert 'href="/lapor"' in offline.text
    mine = client.get("/laporan-saya")
    assert mine.status_code == 200
    assert "<noscript>" in mine.text and 'id="outbox"' in mine.text
    assert 'id="outbox-strings"' in mine.text and 'data-waiting="Menunggu sinyal"' in mine.text
    static = client.app.state.static  # type: ignore[attr-defined]
    core = mine.text.index(f'<script src="{static.url("js/outbox-core.js")}" defer></script>')
    page = mine.text.index(f'<script src="{static.url("js/outbox.js")}" defer></script>')
    assert core < page  # deferred scripts run in document order: the core first
    assert "<script>" not in mine.text and "style=" not in mine.text


def _add_report(settings: Settings, code: str, status: str, *, confidential: bool = False) -> None:
    # Straight into the file: this test is about reading statuses, not about filing.
    category = scalar(settings, "SELECT code FROM categories ORDER BY code LIMIT 1")
    area = scalar(settings, "SELECT code FROM areas WHERE level = 4 ORDER BY code LIMIT 1")
    now = "2026-01-05T03:00:00Z"
    execute(
        settings,
        "INSERT INTO reports (code, category_code, area_code, description, channel,"
        " reporter_name, confidential, received_at, status, status_changed_at, updated_at)"
        " VALUES (?, ?, ?, 'Pungutan liar di loket', 'web', 'Siti', ?, ?, ?, ?, ?)",
        (code, category, area, int(confidential), now, status, now, now),
    )


def test_status_answers_only_for_known_public_codes(client: TestClient, settings: Settings) -> None:
    _add_report(settings, "K7QM3XPA", "in_progress")
    _add_report(settings, "AB12CD34", "received")
    _add_report(settings, "PNGQ1234", "verified", confidential=True)
    response = client.get("/api/v1/reports/status?codes=k7qm-3xpa,AB12CD34,ZZZZ9999,PNGQ1234,junk")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert response.json() == {
        "K7QM3XPA": {"status": "in_progress", "status_label": "Sedang dikerjakan"},
        "AB12CD34": {"status": "received", "status_label": "Diterima"},
    }
    # Status only: nothing the resident wrote, nor who they are.
    assert "Pungutan" not in response.text and "Siti" not in response.text


def test_status_looks_up_at_most_fifty_codes(client: TestClient, settings: Settings) -> None:
    codes = [f"A{n:07d}" for n in range(STATUS_MAX_CODES + 10)]
    for code in (codes[0], codes[STATUS_MAX_CODES - 1], codes[STATUS_MAX_CODES]):
        _add_report(settings, code, "received")
    found = client.get("/api/v1/reports/status", params={"codes": ",".join(codes)}).json()
    assert set(found) == {codes[0], codes[STATUS_MAX_CODES - 1]}
    assert client.get("/api/v1/reports/status").json() == {}


def test_precache_leaves_out_files_the_resident_pages_do_not_use(client: TestClient) -> None:
    urls = precache_urls(client.app)  # type: ignore[arg-type]
    assert not any(url.endswith(".txt") for url in urls)
    assert not any("/js/staff" in url for url in urls)


def test_only_the_report_form_names_the_photo_shrinker_and_the_phone_keeps_it(
    client: TestClient,
) -> None:
    # Not loaded with the page (its bytes count against /lapor's 30 KB): outbox.js fetches
    # it when the first photo is chosen, from the service worker's cache when offline.
    static = client.app.state.static  # type: ignore[attr-defined]
    url = static.url("js/photo-shrink.js")
    view = f'<script src="{static.url("js/outbox.js")}" defer></script>'
    form = client.get("/lapor").text
    assert f'data-shrink="{url}"' in form and f'src="{url}"' not in form
    for path in ("/", "/laporan-saya"):
        page = client.get(path).text
        assert view in page and url not in page
    assert static.url("js/photo-shrink.js") in precache_urls(client.app)  # type: ignore[arg-type]


def test_the_report_form_and_everything_it_loads_fit_in_30_kb_compressed(
    client: TestClient,
) -> None:
    # The budget of bench/page_budget.py: a first visit to /lapor on a slow network.
    gzip = {"Accept-Encoding": "gzip"}
    page = client.get("/lapor", headers=gzip)
    assets = set(re.findall(r'(?:href|src)="(/static/[^"]+|/manifest\.webmanifest)"', page.text))
    assert any(a.endswith("/js/outbox.js") for a in assets)
    total = page.num_bytes_downloaded + sum(
        client.get(asset, headers=gzip).num_bytes_downloaded for asset in assets
    )
    assert total <= 30 * 1024, total
