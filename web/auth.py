"""Staff authentication: server-side sessions, login with counted failures, CSRF tokens, and
`require_account`, the role check every staff handler calls first.

Sessions (SECURITY.md "Sessions"): the cookie holds a random id, the `sessions` table its
sha256; every staff request checks the idle and absolute limits, touching the row at most
once a minute; login always issues a new id; logout, deactivation and a password reset end
every session of the account. Starlette's signed-cookie sessions cannot be revoked, which
is why they are not used here.

CSRF (SECURITY.md "CSRF"): CrossOriginProtectionMiddleware refuses cross-site POSTs first;
on top of that each session has a token that every staff form carries in a hidden field and
htmx sends in the X-CSRF-Token header, compared in constant time by `read_form`.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import quote

from starlette.datastructures import FormData, Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.requests import Request, cookie_parser
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from db import accounts as account_db
from db import ratelimit
from db import sessions as q
from db.database import Database
from web import formdata, i18n
from web.clock import from_text, to_text, utc_now
from web.i18n import gettext as _
from web.lifecycle.rules import ACTING_ROLES  # supervisors read everything, change nothing
from web.passwords import hash_password, needs_rehash, verify_password

log = logging.getLogger("aduan.auth")

COOKIE_NAME = "aduan_staf"
COOKIE_PATH = "/staf"  # the session cookie never travels with resident pages
LOGIN_PATH = "/staf/masuk"
LOGIN_NONCE_COOKIE = "aduan_masuk"
# Staff pages reachable without a session.
PUBLIC_PATHS = frozenset({LOGIN_PATH})
# Staff JSON endpoints a script calls: without a session they answer 403 in JSON rather
# than sending the script to the login page.
STAFF_PUSH_PATH = "/staf/push"
JSON_PATHS = frozenset({STAFF_PUSH_PATH})

IDLE_TIMEOUT = timedelta(hours=8)
ABSOLUTE_AGE = timedelta(days=7)
TOUCH_INTERVAL = timedelta(minutes=1)

# Failed logins: 5 per account in 15 minutes, then a lock that doubles with each further
# failure of the day (1 min, 2, 4 … at most an hour), never a permanent lock. A client
# gets a little more room, because a kelurahan office shares one address.
ACCOUNT_FAILURE_LIMIT = 5
CLIENT_FAILURE_LIMIT = 10
FAILURE_WINDOW = timedelta(minutes=15)
FAILURE_MEMORY = timedelta(hours=24)
FIRST_LOCK = timedelta(minutes=1)
LONGEST_LOCK = timedelta(hours=1)

ALL_ROLES = ("admin", "supervisor", "officer")
ADMIN_ROLES = ("admin",)
# The dashboard, the overdue list and the audit log: who reads every report and figure.
SUPERVISOR_ROLES = ("admin", "supervisor")


@dataclass(frozen=True)
class Account:
    """The staff account of the current request, with its scope."""

    id: int
    username: str
    display_name: str
    role: str
    agency_code: str | None
    agency_name_id: str | None
    agency_name_en: str | None
    is_inspectorate: bool
    area_codes: tuple[str, ...]

    @property
    def can_act(self) -> bool:
        return self.role in ACTING_ROLES

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def reads_everything(self) -> bool:
        return self.role in ("admin", "supervisor")

    @property
    def takes_complaints_for_own_areas(self) -> bool:
        """Walk-in intake: an area officer records complaints of their own kelurahan only;
        admins and agency officers (whose reports come from anywhere) of the whole city."""
        return self.role == "officer" and bool(self.area_codes) and not self.agency_code

    @property
    def sees_confidential_contact(self) -> bool:
        """Reporter contact of confidential reports: the inspectorate and admins only."""
        return self.is_admin or self.is_inspectorate


def hash_session_id(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


# --- sessions -----------------------------------------------------------------------------


async def load_session(db: Database, raw_id: str, now: datetime) -> tuple[Account, str] | None:
    """The account and CSRF token of a live session; expired sessions are deleted."""
    id_hash = hash_session_id(raw_id)
    row = await q.session_account(db, id_hash)
    if row is None:
        return None
    last_seen = from_text(row["last_seen_at"])
    if now - last_seen > IDLE_TIMEOUT or now - from_text(row["created_at"]) > ABSOLUTE_AGE:
        async with db.write() as conn:
            await q.delete_session(conn, id_hash)
        return None
    if now - last_seen >= TOUCH_INTERVAL:
        async with db.write() as conn:
            await q.touch_session(conn, id_hash, to_text(now))
    account = Account(
        id=row["id"],
        username=row["username"],
        display_name=row["display_name"],
        role=row["role"],
        agency_code=row["agency_code"],
        agency_name_id=row["agency_name_id"],
        agency_name_en=row["agency_name_en"],
        is_inspectorate=bool(row["is_inspectorate"]),
        area_codes=tuple(await account_db.area_codes(db, row["id"])),
    )
    return account, row["csrf_token"]


async def start_session(db: Database, user_id: int, old_raw_id: str | None = None) -> str:
    """A new session for a login; the id the browser had before is deleted (no fixation)."""
    raw_id = secrets.token_urlsafe(32)
    now = utc_now()
    async with db.write() as conn:
        if old_raw_id:
            await q.delete_session(conn, hash_session_id(old_raw_id))
        await q.create_session(
            conn, hash_session_id(raw_id), user_id, secrets.token_urlsafe(32), to_text(now)
        )
        await q.delete_stale_sessions(
            conn, to_text(now - IDLE_TIMEOUT), to_text(now - ABSOLUTE_AGE)
        )
    return raw_id


async def end_all_sessions(db: Database, user_id: int) -> None:
    async with db.write() as conn:
        await q.delete_user_sessions(conn, user_id)


def set_session_cookie(response: Response, raw_id: str, *, secure: bool) -> None:
    # No max-age: the cookie dies with the browser (shared office PCs); the server enforces
    # the idle and absolute limits whatever the browser keeps.
    response.set_cookie(
        COOKIE_NAME, raw_id, path=COOKIE_PATH, httponly=True, samesite="lax", secure=secure
    )


def clear_session_cookie(response: Response, *, secure: bool) -> None:
    response.delete_cookie(
        COOKIE_NAME, path=COOKIE_PATH, httponly=True, samesite="lax", secure=secure
    )


class StaffSessionMiddleware:
    """Pure ASGI: on /staf paths, loads the session into `request.state` (`account`,
    `csrf_token`, `account_id` for the log), sends anyone without one to the login page,
    and marks every staff response `Cache-Control: no-store` so no cache — the browser's,
    a proxy's or htmx's history — keeps personal data."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not (path == "/staf" or path.startswith("/staf/")):
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        headers = Headers(scope=scope)
        raw_id = cookie_parser(headers.get("cookie", "")).get(COOKIE_NAME, "")
        loaded = await load_session(state["db"], raw_id, utc_now()) if raw_id else None
        if loaded is not None:
            account, csrf_token = loaded
            state.update(account=account, csrf_token=csrf_token, account_id=account.id)
        elif path in JSON_PATHS:
            refusal = JSONResponse(
                {"message": _("Sesi Anda sudah berakhir. Silakan masuk lagi.")},
                status_code=403,
                headers={"Cache-Control": "no-store"},
            )
            await refusal(scope, _no_body, send)
            return
        elif path not in PUBLIC_PATHS:
            await self._to_login(scope, headers, send)
            return

        async def send_no_store(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).setdefault("Cache-Control", "no-store")
            await send(message)

        await self.app(scope, receive, send_no_store)

    async def _to_login(self, scope: Scope, headers: Headers, send: Send) -> None:
        query = scope.get("query_string", b"").decode("latin-1")
        here = scope["path"] + (f"?{query}" if query else "")
        target = LOGIN_PATH
        if scope["method"] == "GET" and scope["path"] != "/staf/inbox-rows":
            target += "?next=" + quote(here, safe="")
        if headers.get("hx-request") == "true":
            # htmx follows redirects inside fetch and would swap the login page into the
            # list; HX-Redirect makes it navigate the whole page instead.
            response: Response = Response(
                status_code=401, headers={"HX-Redirect": target, "Cache-Control": "no-store"}
            )
        else:
            response = Response(
                status_code=303, headers={"Location": target, "Cache-Control": "no-store"}
            )
        await response(scope, _no_body, send)


async def _no_body() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


# --- roles and CSRF -----------------------------------------------------------------------


def require_account(request: Request, roles: Sequence[str] = ALL_ROLES) -> Account:
    """The logged-in account, if its role is one of `roles`; 403 otherwise."""
    account = getattr(request.state, "account", None)
    if not isinstance(account, Account):
        # The middleware sends visitors without a session to the login page first.
        raise HTTPException(401)
    if account.role not in roles:
        raise HTTPException(403, detail=_("Akun Anda tidak berwenang melakukan ini."))
    return account


def csrf_valid(request: Request, form: FormData) -> bool:
    """Whether the request carries the session's token, in the htmx header or the form."""
    expected = str(getattr(request.state, "csrf_token", "") or "")
    if not expected:
        return False
    sent = [request.headers.get("x-csrf-token"), form.get("csrf_token")]
    return any(
        isinstance(value, str) and secrets.compare_digest(value.encode(), expected.encode())
        for value in sent
    )


async def read_form(
    request: Request,
    *,
    max_files: int = 0,
    max_fields: int = 50,
    max_part_size: int = 64 * 1024,
) -> FormData:
    """Parse a staff form within limits and refuse it (403) without the session's token.

    Every unsafe staff handler reads its form through here, so none can skip the check.
    """
    form = await formdata.read_form(
        request, max_files=max_files, max_fields=max_fields, max_part_size=max_part_size
    )
    if not csrf_valid(request, form):
        await form.close()
        log.warning("csrf token missing or wrong account_id=%s", request.state.account_id)
        raise HTTPException(
            403,
            detail=_(
                "Formulir ini sudah kedaluwarsa atau tidak sah. Muat ulang halaman lalu coba lagi."
            ),
        )
    return form


def login_form_token(secret_key: str, nonce: str) -> str:
    """The token of the login form, tied to a per-browser nonce cookie (no session yet)."""
    return hmac.new(secret_key.encode(), f"login-form:{nonce}".encode(), "sha256").hexdigest()


def login_token_valid(secret_key: str, nonce: str, sent: object) -> bool:
    if not nonce or not isinstance(sent, str):
        return False
    return secrets.compare_digest(sent.encode(), login_form_token(secret_key, nonce).encode())


def new_login_nonce() -> str:
    return secrets.token_urlsafe(24)


# --- login --------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoginOutcome:
    account_id: int | None
    retry_after: int = 0  # seconds; above zero, refused without looking at the password


def _bucket(secret_key: str, kind: str, value: str) -> str:
    # Keyed hashes: the table never holds typed usernames or client addresses.
    digest = hmac.new(secret_key.encode(), f"{kind}:{value}".encode(), "sha256").hexdigest()
    return f"login:{kind}:{digest[:32]}"


async def _lock_seconds(db: Database, bucket: str, limit: int, now: datetime) -> int:
    times = await ratelimit.events(db, bucket, FAILURE_MEMORY, now)
    recent = [t for t in times if t > now - FAILURE_WINDOW]
    if len(recent) < limit:
        return 0
    lock = min(FIRST_LOCK * 2 ** (len(times) - limit), LONGEST_LOCK)
    remaining = times[-1] + lock - now
    return max(0, math.ceil(remaining.total_seconds()))


async def attempt_login(
    db: Database,
    *,
    secret_key: str,
    username: str,
    password: str,
    client: str,
    now: datetime | None = None,
) -> LoginOutcome:
    """Check a login, counting failures per account name and per client.

    The answer is the same whether or not the account exists (an unknown name is verified
    against a dummy hash, so it takes as long). Logs the account id only, never the typed
    name or password.
    """
    now = now or utc_now()
    name = username.strip()
    account_bucket = _bucket(secret_key, "user", name.casefold())
    client_bucket = _bucket(secret_key, "client", client)
    wait = max(
        await _lock_seconds(db, account_bucket, ACCOUNT_FAILURE_LIMIT, now),
        await _lock_seconds(db, client_bucket, CLIENT_FAILURE_LIMIT, now),
    )
    user = await account_db.account_for_login(db, name) if name else None
    user_id = user["id"] if user is not None else None
    if wait:
        log.warning("staff login refused: too many failures account_id=%s", user_id or "-")
        return LoginOutcome(None, retry_after=wait)
    stored_hash = user["password_hash"] if user is not None and user["active"] else None
    if verify_password(stored_hash, password) and user is not None:
        async with db.write() as conn:
            await ratelimit.clear(conn, account_bucket)
            if needs_rehash(user["password_hash"]):
                await account_db.set_password_hash(conn, user["id"], hash_password(password))
        log.info("staff login ok account_id=%s", user["id"])
        return LoginOutcome(user["id"])
    async with db.write() as conn:
        await ratelimit.record(conn, (account_bucket, client_bucket), now, keep=FAILURE_MEMORY)
    log.info("staff login failed account_id=%s", user_id or "-")
    return LoginOutcome(None)


def retry_message(seconds: int) -> str:
    minutes = max(1, math.ceil(seconds / 60))
    return i18n.ngettext(
        "Terlalu banyak percobaan masuk yang gagal. Coba lagi dalam %(n)d menit.",
        "Terlalu banyak percobaan masuk yang gagal. Coba lagi dalam %(n)d menit.",
        minutes,
    ) % {"n": minutes}


def safe_next(value: str | None) -> str:
    """Where to go after login: only a staff path on this site, never another origin."""
    if (
        not value
        or not value.startswith("/staf")
        or value.startswith("//")
        or "\\" in value
        or value.startswith(LOGIN_PATH)
    ):
        return "/staf"
    return value
