"""Supporting ("Dukung & ikuti") a report someone else filed, instead of filing it again:
`POST /api/v1/reports/{code}/dukung` (JSON, for the pages' script) and
`POST /t/{code}/dukung` (the plain form, no JavaScript needed) add one support per phone
(web/supports.py) and never create a report; `/dukungan-saya` lists the reports this phone
supported (its fragment is what "Laporan saya" shows). Following the report's steps is the
push API's (web/routes/push.py): the page's script asks for it in the same tap.

Cross-site requests: CrossOriginProtectionMiddleware (web/middleware.py) refuses a POST a
browser sends from another site, as for every public POST; the cookie is SameSite=Lax.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from db import ratelimit
from db import supports as q
from db.database import Connection
from web import codes, lifecycle, supports, urls
from web.client import client_bucket
from web.clock import to_text, utc_now
from web.i18n import gettext as _
from web.i18n import ngettext, translate
from web.lookup import load_public
from web.push import NO_STORE, json_error
from web.templating import render

# New supports per client address: a resident supports a few reports, a household or an
# office behind one address a few more; a script clearing its cookie to inflate a count is
# cut off early. A phone supporting the same report again counts once here too.
SUPPORT_LIMITS = (
    ratelimit.Limit(timedelta(minutes=1), 10),
    ratelimit.Limit(timedelta(hours=1), 40),
)


class Refused(Exception):
    def __init__(self, message: str, status: int, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.headers = headers or {}


async def _support(request: Request) -> tuple[Any, bool, str | None]:
    """Add this phone's support to the report in the URL: (report, added, new cookie id)."""
    try:
        report = await load_public(request, request.path_params["code"])
    except HTTPException as exc:
        message = exc.detail if exc.status_code == 429 else _("Laporan tidak ditemukan.")
        raise Refused(message, exc.status_code, dict(exc.headers or {})) from exc
    if report["confidential"]:
        raise Refused(_("Laporan tidak ditemukan."), 404)
    if not lifecycle.can_support(report):
        raise Refused(_("Laporan ini sudah ditutup, jadi tidak bisa didukung lagi."), 409)
    supporter, fresh = supports.ensure_supporter(request)
    now = utc_now()
    ref = hashlib.sha256(f"{report['id']} {supporter}".encode()).hexdigest()[:32]
    bucket = client_bucket(request, "support")

    # Only SQL inside: a crowd from one shared link supports at once (Database.transact).
    async def count_support(conn: Connection) -> tuple[bool, int]:
        free_at = await ratelimit.take_slot(conn, bucket, SUPPORT_LIMITS, now, ref)
        if free_at is not None:
            raise Refused(
                _("Terlalu banyak dukungan dari sambungan ini. Coba lagi nanti."),
                429,
                {"Retry-After": str(ratelimit.retry_after(free_at, now))},
            )
        return await q.add_support(conn, report["id"], supporter, to_text(now))

    added, count = await request.state.db.transact(count_support)
    return {**dict(report), "support_count": count}, added, fresh


async def api_support(request: Request) -> Response:
    try:
        report, added, fresh = await _support(request)
    except Refused as exc:
        return json_error(str(exc), exc.status, exc.headers)
    response = JSONResponse(
        {
            "code": report["code"],
            "supported": True,
            "support_count": report["support_count"],
            "label": support_label(report["support_count"]),
        },
        status_code=201 if added else 200,
        headers=NO_STORE,
    )
    supports.remember(request, response, fresh)
    return response


async def form_support(request: Request) -> Response:
    """The no-JavaScript twin: back to the tracking page, which shows the new count."""
    try:
        report, _added, fresh = await _support(request)
    except Refused as exc:
        return render(
            request,
            "supports_refused.html",
            {"message": str(exc), "code": request.path_params["code"]},
            status_code=exc.status,
            headers={**exc.headers, **NO_STORE},
        )
    response = RedirectResponse(
        urls.path_for(request, "track", code=report["code"]) + "#dukung", status_code=303
    )
    supports.remember(request, response, fresh)
    return response


def support_label(count: int) -> str:
    return ngettext("Didukung %(num)d warga", "Didukung %(num)d warga", count) % {"num": count}


async def _mine(request: Request) -> list[dict[str, Any]]:
    supporter = supports.supporter_of(request)
    rows = await q.supported_by(request.state.db, supporter) if supporter else []
    return [
        {
            **dict(row),
            "display_code": codes.display(row["code"]),
            "status_label": translate(lifecycle.STATUS_LABELS[row["status"]]),
        }
        for row in rows
    ]


async def my_supports(request: Request) -> Response:
    return render(
        request, "dukungan_saya.html", {"supported": await _mine(request)}, headers=NO_STORE
    )


async def my_supports_fragment(request: Request) -> Response:
    return render(
        request, "_dukungan_saya.html", {"supported": await _mine(request)}, headers=NO_STORE
    )


routes = [
    Route("/api/v1/reports/{code}/dukung", api_support, methods=["POST"], name="api_support"),
    Route("/t/{code}/dukung", form_support, methods=["POST"], name="form_support"),
    Route("/dukungan-saya", my_supports, name="my_supports"),
    Route("/dukungan-saya/daftar", my_supports_fragment, name="my_supports_fragment"),
]
