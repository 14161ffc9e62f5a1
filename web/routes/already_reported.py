""" "Sudah dilaporkan?": once the report form knows the category and the point, its script
(js/nearby.js, loaded only then) asks `GET /lapor/sekitar?category=…&lat=…&lon=…` for up to
five open reports of that category within 250 m (web/nearby.py), as an HTML fragment with
its own URL: thumbnail, status, age, distance rounded to 10 m and "Dukung & ikuti". Never a
confidential report, a name, a description or a point. A bad or missing point answers an
empty fragment: this is a hint, and the form never waits for it."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from web import auth, codes, lifecycle, nearby, validators
from web.clock import utc_now
from web.i18n import translate
from web.templating import render

# Asked again whenever the category or the point changes; never kept by a cache.
CACHE = {"Cache-Control": "no-store"}


def _query(request: Request) -> tuple[str, float | None, float | None]:
    params = request.query_params
    category = params.get("category", "").strip()[:40]
    point = validators.coordinates(
        params.get("lat", "").strip()[:40], params.get("lon", "").strip()[:40], decimal_comma=True
    )
    return category, point.lat, point.lon


async def nearby_fragment(request: Request) -> Response:
    category, lat, lon = _query(request)
    if not category or lat is None or lon is None:
        return Response("", media_type="text/html", headers=CACHE)
    now = utc_now()
    found = await nearby.nearby_reports(request.state.db, category, lat, lon)
    items = [
        {
            "code": n.report["code"],
            "display_code": codes.display(n.report["code"]),
            "status": n.report["status"],
            "status_label": translate(lifecycle.STATUS_LABELS[n.report["status"]]),
            "photo": n.report["photo"],
            "distance": nearby.rounded_distance(n.distance_m),
            "days": nearby.age_days(n.report["received_at"], now),
            "support_count": n.report["support_count"],
        }
        for n in found
    ]
    return render(request, "_sekitar.html", {"items": items}, headers=CACHE)


async def staff_nearby_fragment(request: Request) -> Response:
    """The staff intake's list: 1 km, the account's scope, links to the case pages (an
    officer's browser never supports a report: the resident's phone does)."""
    account = auth.require_account(request)
    category, lat, lon = _query(request)
    if not category or lat is None or lon is None:
        return Response("", media_type="text/html", headers=CACHE)
    found = await nearby.near_for_staff(
        request.state.db, account, category, lat, lon, include_confidential=True
    )
    return render(
        request,
        "staf/_sekitar.html",
        {"nearby": found, "status_labels": lifecycle.STATUS_LABELS},
        headers=CACHE,
    )


routes = [
    Route("/lapor/sekitar", nearby_fragment, name="nearby_fragment"),
    Route("/staf/sekitar", staff_nearby_fragment, name="staff_nearby_fragment"),
]
