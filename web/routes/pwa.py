"""The installable, offline-first side of the resident site: the service worker, the web app
manifest, the offline page, "Laporan saya", and the one small status request it makes.

The service worker's source lives in service_worker/sw.js. It is served from the root so its
scope is the whole site, with this deployment's values filled into marked placeholder lines:
the cache version, the versioned URLs to precache, the outbox script it shares with the pages,
and the few words it shows itself (in every language, since it serves pages of any language).
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from db import reports
from web import codes, i18n, urls
from web.i18n import gettext as _
from web.i18n import lazy_gettext as N_
from web.i18n import translate
from web.lifecycle import STATUS_LABELS
from web.static_files import StaticFiles
from web.templating import render

# The pages that make up the shell: what a resident can open with no signal at all.
SHELL_ROUTES = ("home", "report_form", "my_reports", "offline", "manifest")
# Static folders the resident's pages use, less what only staff pages load.
PRECACHE_PREFIXES = ("css/", "js/", "icons/")
STAFF_ONLY_PREFIXES = ("js/staff",)
STATUS_MAX_CODES = 50
# A line of sw.js such as `const PRECACHE = /*PRECACHE*/[];` that the server fills in.
PLACEHOLDER_LINE = re.compile(r'^const (\w+) = "?/\*(\w+)\*/(?:\[\]|\{\}|")?;$', re.MULTILINE)
# Words the service worker writes into a tracking page it serves from its cache.
SW_STRINGS = {
    "stale": N_("Terakhir dilihat {time}. Anda sedang offline; statusnya mungkin sudah berubah."),
    # A push that came without a readable payload still shows a notification.
    "pushTitle": N_("Aduan: ada kabar baru"),
    "pushBody": N_("Ada perkembangan pada laporan yang Anda ikuti. Ketuk untuk melihat."),
}
MANIFEST_ICONS = (
    ("icons/icon-192.png", "192x192", "any"),
    ("icons/icon-512.png", "512x512", "any"),
    ("icons/icon-maskable-512.png", "512x512", "maskable"),
)


def precache_urls(app: Starlette) -> list[str]:
    """The shell pages plus the content-versioned URLs of the static files they use."""
    static: StaticFiles = app.state.static
    files = [
        static.url(rel)
        for rel in sorted(static.files)
        if (rel.startswith(PRECACHE_PREFIXES) and not rel.startswith(STAFF_ONLY_PREFIXES))
        or (rel.startswith("vendor/") and rel.endswith(".js"))
    ]
    return [*(str(app.url_path_for(name)) for name in SHELL_ROUTES), *files]


def _translated(messages: dict[str, str]) -> dict[str, dict[str, str]]:
    return {
        language: {key: i18n.translations(language).gettext(text) for key, text in messages.items()}
        for language in i18n.LANGUAGES
    }


def render_service_worker(app: Starlette) -> str:
    """sw.js with this deployment's values in its placeholder lines.

    The cache version changes whenever a static file or sw.js itself changes, so each
    deployment that changes either gets a fresh shell cache.
    """
    static: StaticFiles = app.state.static
    source = app.state.settings.service_worker_source.read_text(encoding="utf-8")
    version = hashlib.sha256(
        f"{static.version}:{hashlib.sha256(source.encode()).hexdigest()}".encode()
    ).hexdigest()[:12]
    values: dict[str, Any] = {
        "VERSION": version,
        "PRECACHE": precache_urls(app),
        "OUTBOX": static.url("js/outbox-core.js"),
        "STRINGS": _translated(SW_STRINGS),
        "TIMEZONE": app.state.settings.timezone,
    }
    filled: list[str] = []

    def fill(match: re.Match[str]) -> str:
        filled.append(match[2])
        return f"const {match[1]} = {json.dumps(values[match[2]], ensure_ascii=False)};"

    source = PLACEHOLDER_LINE.sub(fill, source)
    if sorted(filled) != sorted(values):
        # A renamed placeholder would ship a worker that caches nothing: fail loudly.
        raise RuntimeError(f"service_worker/sw.js placeholders {filled}, expected {list(values)}")
    return source


async def service_worker(request: Request) -> Response:
    body = render_service_worker(request.app)
    etag = '"' + hashlib.sha256(body.encode()).hexdigest()[:20] + '"'
    headers = {
        # Browsers revalidate the worker on navigation; no-cache + ETag makes that a 304.
        "Cache-Control": "no-cache",
        "Service-Worker-Allowed": "/",
        "ETag": etag,
    }
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="text/javascript; charset=utf-8", headers=headers)


async def manifest(request: Request) -> Response:
    static: StaticFiles = request.app.state.static
    data = {
        "id": "/",
        "name": "Aduan — Lapor Masalah Kota",
        "short_name": "Aduan",
        "description": _(
            "Lapor masalah di lingkungan Anda dan ikuti penanganannya sampai selesai."
        ),
        "lang": "id",
        "dir": "ltr",
        "start_url": urls.path_for(request, "home"),
        "scope": "/",
        "display": "standalone",
        "theme_color": "#0b3d91",
        "background_color": "#ffffff",
        "icons": [
            {"src": static.url(rel), "sizes": sizes, "type": "image/png", "purpose": purpose}
            for rel, sizes, purpose in MANIFEST_ICONS
        ],
    }
    return JSONResponse(
        data, media_type="application/manifest+json", headers={"Cache-Control": "no-cache"}
    )


async def offline(request: Request) -> Response:
    return render(request, "offline.html", headers={"Cache-Control": "no-cache"})


async def my_reports(request: Request) -> Response:
    """A shell that outbox.js fills from the phone's own IndexedDB; the server knows nothing
    about who filed what, and this page shows the same HTML to everyone."""
    return render(request, "laporan_saya.html", headers={"Cache-Control": "no-cache"})


def parse_codes(raw: str) -> list[str]:
    """Valid, distinct tracking codes from `A,B,C`, in order, at most STATUS_MAX_CODES."""
    found: list[str] = []
    for part in raw.split(","):
        code = codes.normalise(part)
        if code and code not in found:
            found.append(code)
            if len(found) == STATUS_MAX_CODES:
                break
    return found


async def report_statuses(request: Request) -> Response:
    """`{"CODE": {"status", "status_label"}}` for the codes a phone holds; unknown codes are
    left out. Only the status: no content, and nothing at all about confidential reports,
    which are never public (the phone that filed one follows it on its private page)."""
    wanted = parse_codes(request.query_params.get("codes", ""))
    result: dict[str, dict[str, str]] = {}
    for row in await reports.public_statuses(request.state.db, wanted):
        label = STATUS_LABELS.get(row["status"], row["status"])
        result[row["code"]] = {"status": row["status"], "status_label": translate(label)}
    return JSONResponse(result, headers={"Cache-Control": "no-store"})


routes = [
    Route("/sw.js", service_worker, name="service_worker"),
    Route("/manifest.webmanifest", manifest, name="manifest"),
    Route("/offline", offline, name="offline"),
    Route("/laporan-saya", my_reports, name="my_reports"),
    Route("/api/v1/reports/status", report_statuses, name="report_statuses"),
]
