"""Staff login and logout (`/staf/masuk`, `/staf/keluar`). The rules — password checks,
failure limits, sessions, the login form's token — are in web/auth.py."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from db import alerts as alert_db
from web import auth, urls
from web.client import client_id
from web.i18n import gettext as _
from web.templating import render


def _db(request: Request) -> Any:
    return request.state.db


def _login_page(
    request: Request, nonce: str, *, error: str = "", username: str = "", status_code: int = 200
) -> Response:
    settings = request.app.state.settings
    response = render(
        request,
        "staf/masuk.html",
        {
            "login_token": auth.login_form_token(settings.secret_key, nonce),
            "error": error,
            "username": username,
            "next": auth.safe_next(request.query_params.get("next")),
        },
        status_code=status_code,
    )
    response.set_cookie(
        auth.LOGIN_NONCE_COOKIE,
        nonce,
        path=auth.LOGIN_PATH,
        httponly=True,
        samesite="strict",
        secure=settings.https,
    )
    return response


async def login_form(request: Request) -> Response:
    # Shown even to someone logged in: logging in again (another account on a shared PC)
    # replaces the session.
    nonce = request.cookies.get(auth.LOGIN_NONCE_COOKIE) or auth.new_login_nonce()
    return _login_page(request, nonce)


async def login(request: Request) -> Response:
    settings = request.app.state.settings
    form = await request.form(max_files=0, max_fields=10, max_part_size=4096)
    username = str(form.get("username") or "")[:150]
    password = str(form.get("password") or "")[:1024]
    nonce = request.cookies.get(auth.LOGIN_NONCE_COOKIE, "")
    if not auth.login_token_valid(settings.secret_key, nonce, form.get("csrf_token")):
        message = _("Halaman masuk sudah kedaluwarsa. Silakan coba lagi.")
        return _login_page(
            request, auth.new_login_nonce(), error=message, username=username, status_code=403
        )
    outcome = await auth.attempt_login(
        _db(request),
        secret_key=settings.secret_key,
        username=username,
        password=password,
        client=client_id(request),
    )
    if outcome.retry_after:
        response = _login_page(
            request,
            nonce,
            error=auth.retry_message(outcome.retry_after),
            username=username,
            status_code=429,
        )
        response.headers["Retry-After"] = str(outcome.retry_after)
        return response
    if outcome.account_id is None:
        # One message whether the name is unknown, the password wrong or the account off.
        message = _("Nama pengguna atau kata sandi salah.")
        return _login_page(request, nonce, error=message, username=username, status_code=400)
    request.state.account_id = outcome.account_id
    old_raw_id = request.cookies.get(auth.COOKIE_NAME)
    raw_id = await auth.start_session(_db(request), outcome.account_id, old_raw_id)
    if old_raw_id:
        # The alerts turned on in this browser follow the same account into the new
        # session, and stop when another account logs in on it (db/alerts.py).
        async with _db(request).write() as conn:
            await alert_db.hand_over_session(
                conn,
                auth.hash_session_id(old_raw_id),
                auth.hash_session_id(raw_id),
                outcome.account_id,
            )
    response = RedirectResponse(auth.safe_next(str(form.get("next") or "")), status_code=303)
    auth.set_session_cookie(response, raw_id, secure=settings.https)
    response.delete_cookie(auth.LOGIN_NONCE_COOKIE, path=auth.LOGIN_PATH)
    return response


async def logout(request: Request) -> Response:
    """Ends every session of the account, on every device (a lost phone included), and
    with them the alerts turned on in any browser."""
    account = auth.require_account(request)
    await auth.read_form(request, max_fields=5)
    async with _db(request).write() as conn:
        await alert_db.drop_account(conn, account.id)
    await auth.end_all_sessions(_db(request), account.id)
    response = RedirectResponse(urls.path_for(request, "staff_login_form"), status_code=303)
    auth.clear_session_cookie(response, secure=request.app.state.settings.https)
    return response


routes = [
    Route(auth.LOGIN_PATH, login_form, methods=["GET"], name="staff_login_form"),
    Route(auth.LOGIN_PATH, login, methods=["POST"], name="staff_login"),
    Route("/staf/keluar", logout, methods=["POST"], name="staff_logout"),
]
