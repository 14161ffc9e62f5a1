"""Following a report from a browser through Web Push: `POST /api/v1/reports/{code}/push`
with the browser's PushSubscription JSON subscribes it to the report's public steps (201,
or 200 when it already follows them), `DELETE` the same URL with `{"endpoint": …}` stops
it (204). A confidential report is followed only with its private link's token (`?k=`);
stopping needs no token, only the endpoint, which nobody but its browser knows.

Cross-site requests: like `/api/v1/reports`, these are plain JSON calls our own pages make
with fetch (same origin); CrossOriginProtectionMiddleware (web/middleware.py) refuses a
POST or DELETE a browser sends from another site, and nothing here rests on a cookie.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from db import messages, ratelimit
from db.database import Connection
from web import i18n
from web.client import client_bucket
from web.clock import to_text, utc_now
from web.i18n import gettext as _
from web.lookup import load_public
from web.privatelinks import private_token_valid
from web.push import (
    NO_STORE,
    SUBSCRIPTION_MAX_BYTES,
    BadSubscription,
    json_error,
    parse_endpoint,
    parse_subscription,
    read_json,
)

# New follows per client: "Laporan saya" may follow a resident's every report at once, a
# household behind one address a few more; a script adding endpoints to a report (each
# one a message at every step, written in the officer's transaction) is cut off early.
FOLLOW_LIMITS = (
    ratelimit.Limit(timedelta(minutes=1), 20),
    ratelimit.Limit(timedelta(hours=1), 60),
)


def _not_found(exc: HTTPException) -> JSONResponse:
    """An unknown code (404), or a client past its limit of unknown codes (429)."""
    message = exc.detail if exc.status_code == 429 else _("Laporan tidak ditemukan.")
    return json_error(message, exc.status_code, exc.headers)


async def _report(request: Request) -> Any:
    """The report named in the URL; HTTPException 404 (or 429 for a client guessing)."""
    return await load_public(request, request.path_params["code"])


async def subscribe(request: Request) -> Response:
    try:
        report = await _report(request)
    except HTTPException as exc:
        return _not_found(exc)
    if report["confidential"] and not private_token_valid(
        request, report["code"], request.query_params.get("k", "")
    ):
        return json_error(
            _("Laporan ini rahasia: buka dari tautan pribadinya untuk menerima kabar."), 403
        )
    try:
        subscription = parse_subscription(
            await read_json(request), request.app.state.settings.push_hosts
        )
    except BadSubscription as exc:
        return json_error(i18n.translate(str(exc)), 422)
    now = utc_now()
    # The same browser following the same report again counts once.
    ref = hashlib.sha256(f"{report['id']} {subscription.endpoint}".encode()).hexdigest()[:32]
    bucket = client_bucket(request, "push")

    # Only SQL inside (Database.transact): asked in the same tap as "Dukung", by the same
    # crowd. Returns when a slot frees (if refused) and whether the subscription is new.
    async def follow(conn: Connection) -> tuple[datetime | None, bool]:
        free_at = await ratelimit.take_slot(conn, bucket, FOLLOW_LIMITS, now, ref)
        if free_at is not None:
            return free_at, False
        added = await messages.subscribe_push(
            conn,
            report["id"],
            endpoint=subscription.endpoint,
            p256dh=subscription.p256dh,
            auth=subscription.auth,
            language=i18n.current_language.get(),
            now=to_text(now),
        )
        return None, added

    free_at, added = await request.state.db.transact(follow)
    if free_at is not None:
        message = _("Terlalu banyak langganan dari sambungan ini. Coba lagi nanti.")
        return json_error(message, 429, {"Retry-After": str(ratelimit.retry_after(free_at, now))})
    return JSONResponse(
        {"code": report["code"], "following": True},
        status_code=201 if added else 200,
        headers=NO_STORE,
    )


async def unsubscribe(request: Request) -> Response:
    try:
        report = await _report(request)
    except HTTPException as exc:
        return _not_found(exc)
    try:
        endpoint = parse_endpoint(await read_json(request))
    except BadSubscription as exc:
        return json_error(i18n.translate(str(exc)), 422)
    await request.state.db.transact(messages.unsubscribe_push, report["id"], endpoint)
    return Response(status_code=204, headers=NO_STORE)


routes = [
    Route(
        "/api/v1/reports/{code}/push",
        subscribe,
        methods=["POST"],
        name="push_subscribe",
        max_body_size=SUBSCRIPTION_MAX_BYTES,
    ),
    Route(
        "/api/v1/reports/{code}/push",
        unsubscribe,
        methods=["DELETE"],
        name="push_unsubscribe",
        max_body_size=SUBSCRIPTION_MAX_BYTES,
    ),
]
