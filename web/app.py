"""`create_app(settings)`: routes from web/routes/, middleware, and the lifespan that opens
the database and applies migrations."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.body_limit import RequestBodyLimitMiddleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from db.database import Database
from web import errors, i18n, notify, tasks
from web.auth import StaffSessionMiddleware
from web.client import ClientAddressMiddleware
from web.compression import GZipMiddleware
from web.front import PublicPageFront
from web.i18n import lazy_gettext as N_
from web.locate import LocatorCache
from web.middleware import (
    BodyReadTimeoutMiddleware,
    ConditionalGetMiddleware,
    CrossOriginProtectionMiddleware,
    DeclaredSizeLimitMiddleware,
    LanguageMiddleware,
    RequestLogMiddleware,
    SecurityHeadersMiddleware,
    too_large_message,
)
from web.pagecache import PageCache, build_id
from web.photo_store import open_photo_store
from web.routes import (
    accounts,
    already_reported,
    apikeys_admin,
    area_reports,
    audit_log,
    dashboard,
    data_requests,
    deadlines_admin,
    exports,
    inbox,
    intake,
    locate,
    my_data,
    open311,
    performance,
    push,
    pwa,
    receipts,
    reporting,
    staff_contact,
    staff_login,
    staff_push,
    staff_reports,
    stop,
    supports,
    system,
    tracking,
)
from web.settings import Settings
from web.static_files import StaticFiles
from web.templating import make_environment, render

log = logging.getLogger("aduan")
WEB_DIR = Path(__file__).parent
DB_DIR = WEB_DIR.parent / "db"
# gzip level of the pages compressed per request (staff pages, private links, receipts: those
# web/pagecache.py does not keep). bench/gzip_level.py measures it on the demo's staff pages:
# level 5 sends 1 % more bytes than level 9 for a third of the CPU on every request (level 6
# saves 0.6 % more for 1.8 times the CPU). Pages kept by web/pagecache.py and static files are
# compressed once, at their best.
DYNAMIC_GZIP_LEVEL = 5
# Three photos of up to 15 MB each, plus the form's text fields.
MAX_BODY_BYTES = 3 * 15 * 1024 * 1024 + 1024 * 1024
# Every route module (web/routes/, one per capability), in the order their routes are
# matched. A module left out is not served; tests/test_architecture.py checks none is.
ROUTE_MODULES = (
    # residents and the public; the tracking page first, as the page a crowd asks for (no
    # path of the modules after it overlaps one of its own)
    tracking,
    # the site itself: health, static files, language, the installable shell
    system,
    pwa,
    reporting,
    # point → kelurahan for the form's "Pakai lokasi saya"
    locate,
    receipts,
    # the reporter's own data (UU PDP) and the privacy notice
    my_data,
    performance,
    # one kelurahan's public reports (linked from the performance page)
    area_reports,
    # residents following a report's steps (Web Push), and stopping the messages they
    # agreed to (email, SMS, WhatsApp)
    push,
    stop,
    # residents supporting a report instead of filing it again, and the open reports near
    # the point of a report being written
    supports,
    already_reported,
    # other systems
    open311,
    # staff
    staff_login,
    inbox,
    staff_reports,
    staff_contact,
    intake,
    # officers and supervisors turning alerts on in a browser
    staff_push,
    # supervisors
    dashboard,
    exports,
    audit_log,
    data_requests,
    # admins
    accounts,
    deadlines_admin,
    apikeys_admin,
)


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or Settings.from_env()
    static = StaticFiles()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        db = Database(settings.database)
        await db.open()
        # Static text files compressed once, beside the first requests (web/static_files.py).
        precompress = asyncio.create_task(asyncio.to_thread(static.precompress))
        try:
            applied = await db.migrate()
            if applied:
                log.info("applied migrations %s", applied)
            task = delivery = None
            stop_delivery = asyncio.Event()
            if settings.run_tasks:
                task = asyncio.create_task(tasks.run_forever(db, settings, app.state.photo_store))
                # residents' messages (web/notify.py), every few seconds
                delivery = asyncio.create_task(notify.deliver_forever(db, settings, stop_delivery))
            try:
                yield {"db": db}
            finally:
                if task is not None:
                    task.cancel()
                if delivery is not None:
                    await notify.stop_delivery(delivery, stop_delivery)
        finally:
            precompress.cancel()
            await db.close()

    routes = [route for module in ROUTE_MODULES for route in module.routes]
    # Rendered public pages (web/pagecache.py), kept by what they show; the build in their
    # ETag is the code, templates, catalogue and static files, and the settings pages show.
    page_cache = PageCache(
        build_id(
            (WEB_DIR, *sorted(DB_DIR.glob("*.py"))),
            (
                settings.base_url,
                settings.timezone,
                str(settings.autoclose_workdays),
                str(settings.contact_retention_months),
            ),
        )
    )
    middleware = [
        # A public page already rendered at its current version is answered here, before
        # the rest (web/front.py); anything else goes on unchanged.
        Middleware(
            PublicPageFront,
            cache=page_cache,
            exact={"/": tracking.known_home, "/lapor": reporting.known_report_form},
            prefixes={"/t/": tracking.known_track},
            allowed_hosts=settings.allowed_hosts,
            hsts=settings.https,
        ),
        # Outermost, so that even the error pages RequestLogMiddleware renders carry them.
        Middleware(SecurityHeadersMiddleware, hsts=settings.https),
        # The client's address (from trusted proxies only) before anything counts it.
        Middleware(ClientAddressMiddleware, trusted=settings.trusted_proxies),
        Middleware(
            RequestLogMiddleware,
            on_error=None if settings.debug else errors.error_response,
        ),
        Middleware(BodyReadTimeoutMiddleware, timeout=settings.body_timeout),
        Middleware(TrustedHostMiddleware, allowed_hosts=list(settings.allowed_hosts)),
        Middleware(GZipMiddleware, level=DYNAMIC_GZIP_LEVEL),
        Middleware(ConditionalGetMiddleware),
        Middleware(LanguageMiddleware),
        Middleware(CrossOriginProtectionMiddleware, origin=settings.origin),
        # The body limit (the multipart parser limits fields, not file parts: without it an
        # upload could fill the disk). Starlette's own, what Starlette(max_body_size=...)
        # installs, but placed here rather than outside every middleware so that its answers
        # carry our headers and words; a declared length is answered first (see
        # DeclaredSizeLimitMiddleware). Routes that allow less: Route(..., max_body_size=...).
        Middleware(DeclaredSizeLimitMiddleware, max_bytes=MAX_BODY_BYTES),
        Middleware(RequestBodyLimitMiddleware, max_body_size=MAX_BODY_BYTES),
        Middleware(StaffSessionMiddleware),
    ]
    app = Starlette(
        debug=settings.debug,
        routes=routes,
        middleware=middleware,
        lifespan=lifespan,
        # Exception: only what escapes RequestLogMiddleware (debug mode) reaches this one.
        exception_handlers={
            413: body_too_large,
            HTTPException: http_error,
            Exception: errors.error_response,
        },
    )
    app.state.settings = settings
    # One store for the app's life: files under the data folder, or the S3 bucket.
    app.state.photo_store = open_photo_store(settings)
    app.state.static = static
    app.state.templates = make_environment(
        static, timezone=settings.timezone, retention_months=settings.contact_retention_months
    )
    app.state.page_cache = page_cache
    # figures of the public performance page (web/figures.py), per period
    app.state.performance_cache = {}
    # the kelurahan boundaries in memory (web/locate.py), read on the first lookup
    app.state.locator = LocatorCache()
    return app


ERROR_TITLES = {
    400: N_("Permintaan tidak dapat diproses"),
    403: N_("Akses ditolak"),
    404: N_("Halaman tidak ditemukan"),
    405: N_("Cara akses tidak didukung"),
    408: N_("Waktu pengiriman habis"),
    413: N_("Berkas terlalu besar"),
    429: N_("Terlalu banyak percobaan"),
    503: N_("Layanan sedang terganggu"),
}


async def body_too_large(request: Request, exc: Exception) -> Response:
    """Starlette's body limit tripped while the body arrived: the words the resident gets
    when the declared length alone is too large (web/middleware.py)."""
    return PlainTextResponse(too_large_message(), status_code=413)


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    title = i18n.translate(ERROR_TITLES.get(exc.status_code, N_("Terjadi kesalahan")))
    if exc.status_code == 405 or not hasattr(request.app.state, "templates"):
        return PlainTextResponse(title, status_code=exc.status_code)
    return render(
        request,
        "error.html",
        {"title": title, "detail": exc.detail if exc.status_code != 404 else ""},
        status_code=exc.status_code,
        headers=exc.headers,
    )
