"""Staff alerts in the browser an officer or supervisor is using: `POST /staf/push` with the
browser's PushSubscription JSON turns them on (201, or 200 when already on), `DELETE` with
`{"endpoint": …}` turns them off (204). Which alerts exist and who gets them is in
web/lifecycle/alerts.py.

Like every unsafe staff request these need the session and its CSRF token, here in the
X-CSRF-Token header (the page's script sends it): without a session the answer is a JSON
403 (web/auth.py JSON_PATHS), never the login page. The subscription is tied to the account
and to the session it was made in, and dropped at logout (db/alerts.py).
"""

from __future__ import annotations

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from db import alerts as alert_db
from web import auth, i18n
from web.clock import to_text, utc_now
from web.i18n import gettext as _
from web.lifecycle.alerts import ALERT_ROLES
from web.push import (
    NO_STORE,
    SUBSCRIPTION_MAX_BYTES,
    BadSubscription,
    json_error,
    parse_endpoint,
    parse_subscription,
    read_json,
)


def _refusal(request: Request) -> JSONResponse | None:
    """403 unless an officer or supervisor is logged in and sent the session's token."""
    account = getattr(request.state, "account", None)
    if not isinstance(account, auth.Account) or account.role not in ALERT_ROLES:
        return json_error(_("Akun Anda tidak berwenang melakukan ini."), 403)
    if not auth.csrf_valid(request, FormData()):
        return json_error(
            _("Formulir ini sudah kedaluwarsa atau tidak sah. Muat ulang halaman lalu coba lagi."),
            403,
        )
    return None


async def subscribe(request: Request) -> Response:
    refused = _refusal(request)
    if refused is not None:
        return refused
    account: auth.Account = request.state.account
    try:
        subscription = parse_subscription(await read_json(request))
    except BadSubscription as exc:
        return json_error(i18n.translate(str(exc)), 422)
    session_hash = auth.hash_session_id(request.cookies.get(auth.COOKIE_NAME, ""))
    async with request.state.db.write() as conn:
        added = await alert_db.subscribe(
            conn,
            account.id,
            session_hash=session_hash,
            endpoint=subscription.endpoint,
            p256dh=subscription.p256dh,
            auth=subscription.auth,
            language=i18n.current_language.get(),
            now=to_text(utc_now()),
        )
    return JSONResponse({"alerts": True}, status_code=201 if added else 200, headers=NO_STORE)


async def unsubscribe(request: Request) -> Response:
    refused = _refusal(request)
    if refused is not None:
        return refused
    account: auth.Account = request.state.account
    try:
        endpoint = parse_endpoint(await read_json(request))
    except BadSubscription as exc:
        return json_error(i18n.translate(str(exc)), 422)
    async with request.state.db.write() as conn:
        await alert_db.unsubscribe(conn, account.id, endpoint)
    return Response(status_code=204, headers=NO_STORE)


routes = [
    Route(
        auth.STAFF_PUSH_PATH,
        subscribe,
        methods=["POST"],
        name="staff_push_subscribe",
        max_body_size=SUBSCRIPTION_MAX_BYTES,
    ),
    Route(
        auth.STAFF_PUSH_PATH,
        unsubscribe,
        methods=["DELETE"],
        name="staff_push_unsubscribe",
        max_body_size=SUBSCRIPTION_MAX_BYTES,
    ),
]
