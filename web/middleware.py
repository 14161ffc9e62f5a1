"""Pure ASGI middleware: security headers, cross-origin refusal, language, request log."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import random
import time
from collections.abc import Awaitable, Callable, Iterable

import anyio
from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from web import i18n, parse

log = logging.getLogger("aduan.request")

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "
    "connect-src 'self'; form-action 'self'; manifest-src 'self'; worker-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


async def send_plain(send: Send, status: int, text: str, *, close: bool = False) -> None:
    """A short plain-text answer from a middleware, before any handler ran; `close` ends
    the connection after it (the rest of the request body will not be read)."""
    body = text.encode()
    headers = [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
    ]
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def security_headers(*, hsts: bool = False) -> list[tuple[bytes, bytes]]:
    """The headers every response carries, encoded; HSTS only when served over HTTPS."""
    defaults = [
        ("content-security-policy", CONTENT_SECURITY_POLICY),
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        ("referrer-policy", "same-origin"),
        ("permissions-policy", "camera=(self), geolocation=(self)"),
    ]
    if hsts:
        defaults.append(("strict-transport-security", "max-age=31536000"))
    return [(name.encode(), value.encode()) for name, value in defaults]


class SecurityHeadersMiddleware:
    """Headers every response carries (`security_headers`). A response that set one of them
    itself keeps its own."""

    def __init__(self, app: ASGIApp, *, hsts: bool = False) -> None:
        self.app = app
        # Encoded once: added to every response in one pass over its headers.
        self.defaults = security_headers(hsts=hsts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _value in headers}
                headers.extend(item for item in self.defaults if item[0] not in present)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


class CrossOriginProtectionMiddleware:
    """Refuses state-changing requests that a browser sent from another site.

    Browsers mark every request with `Sec-Fetch-Site`, and send `Origin` on POST; a request
    with neither is not from a browser (an Open311 client, curl) and carries no cookie-based
    authority worth forging, so it passes, as in Go 1.25's CrossOriginProtection. The origin
    compared against is the configured public one, never the `Host` header.
    """

    def __init__(self, app: ASGIApp, *, origin: str) -> None:
        self.app = app
        self.origin = origin

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in UNSAFE_METHODS:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if self.allowed(headers):
            await self.app(scope, receive, send)
            return
        message = i18n.gettext(
            "Permintaan ditolak karena datang dari situs lain. Muat ulang halaman lalu coba lagi."
        )
        await send_plain(send, 403, message)

    def allowed(self, headers: Headers) -> bool:
        site = headers.get("sec-fetch-site")
        if site in {"same-origin", "none"}:
            return True
        origin = headers.get("origin")
        if origin is not None:
            return origin == self.origin
        return site is None


def too_large_message() -> str:
    return i18n.gettext(
        "Kiriman terlalu besar. Kembali, lalu pilih foto yang lebih kecil "
        "(paling besar 15 MB per foto)."
    )


class DeclaredSizeLimitMiddleware:
    """413 before anything else runs for a request whose Content-Length is over the limit.

    The limit itself is Starlette's (`RequestBodyLimitMiddleware`, installed right after
    this one in web/app.py, and `max_body_size` on routes that allow less): it counts the
    body as it arrives and raises a 413 that web/app.py answers in the resident's language.
    But a declared length over its limit Starlette answers itself, in English, in place of
    whatever the app answered, and a length too long for int() it does not see at all. So
    that case is answered here, with the same words, from the header alone.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        declared = Headers(scope=scope).get("content-length") if scope["type"] == "http" else None
        if declared and parse.exceeds(declared, self.max_bytes):
            await send_plain(send, 413, too_large_message())
            return
        await self.app(scope, receive, send)


class BodyTimeout(Exception):
    pass


class BodyReadTimeoutMiddleware:
    """Answers 408 when a request body stops arriving for `timeout` seconds.

    The server waits for a body as long as the client keeps the connection open: a phone
    that lost its signal mid-upload (or a client doing it on purpose) would hold the
    connection and the request forever. The clock restarts with every chunk received, so
    a slow upload that keeps moving is never cut.
    """

    def __init__(self, app: ASGIApp, *, timeout: float) -> None:
        self.app = app
        self.timeout = timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in UNSAFE_METHODS:
            await self.app(scope, receive, send)
            return
        started = False

        async def timed_receive() -> Message:
            try:
                with anyio.fail_after(self.timeout):
                    return await receive()
            except TimeoutError:
                raise BodyTimeout from None

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, timed_receive, tracking_send)
        except BodyTimeout:
            if started:
                raise
            message = i18n.gettext(
                "Pengiriman terhenti terlalu lama. Periksa sinyal, lalu kirim lagi."
            )
            await send_plain(send, 408, message, close=True)


class ConditionalGetMiddleware:
    """A weak ETag on public HTML pages, and 304 Not Modified when the browser has that
    version: a repeat visit to /lapor on 2G costs a few hundred bytes instead of the page.

    Pages marked no-store or private (staff, receipts, private links) are left alone, and
    so is anything streamed in several parts or larger than the buffer limit.
    """

    MAX_BUFFER = 256 * 1024

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in {"GET", "HEAD"}:
            await self.app(scope, receive, send)
            return
        wanted = Headers(scope=scope).get("if-none-match", "")
        start: Message | None = None
        chunks: list[bytes] = []
        passthrough = False

        async def buffering_send(message: Message) -> None:
            nonlocal start, passthrough
            if passthrough:
                await send(message)
                return
            if message["type"] == "http.response.start":
                headers = Headers(raw=message["headers"])
                cache = headers.get("cache-control", "")
                if (
                    message["status"] != 200
                    or "etag" in headers
                    or not headers.get("content-type", "").startswith("text/html")
                    or "no-store" in cache
                    or "private" in cache
                ):
                    passthrough = True
                    await send(message)
                    return
                start = message
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body") and sum(map(len, chunks)) <= self.MAX_BUFFER:
                return
            assert start is not None
            body = b"".join(chunks)
            if message.get("more_body"):  # too big to hash whole: send as it comes
                passthrough = True
                await send(start)
                await send({"type": "http.response.body", "body": body, "more_body": True})
                return
            etag = 'W/"' + hashlib.sha256(body).hexdigest()[:20] + '"'
            response_headers = MutableHeaders(scope=start)
            response_headers["ETag"] = etag
            if etag in {tag.strip() for tag in wanted.split(",")}:
                start["status"] = 304
                del response_headers["content-length"]
                await send(start)
                await send({"type": "http.response.body", "body": b""})
                return
            await send(start)
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, buffering_send)


class LanguageMiddleware:
    """Sets the request's language from the `lang` cookie (Bahasa Indonesia by default)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in {"http", "websocket"}:
            await self.app(scope, receive, send)
            return
        language = i18n.from_cookie_header(Headers(scope=scope).get("cookie", ""))
        scope.setdefault("state", {})["language"] = language
        token = i18n.current_language.set(language)
        try:
            await self.app(scope, receive, send)
        finally:
            i18n.current_language.reset(token)


ErrorHandler = Callable[[Request, Exception], Awaitable[Response]]


class RequestLogMiddleware:
    """One structured line per request: route, status, duration, ids — never personal data.

    The path is not logged (it holds tracking codes and private tokens); the route name is.
    Handlers add `account_id` / `report_id` to `request.state` for the line.

    It is also where an exception no handler caught ends: `on_error` renders the answer
    (web/errors.py) and it goes out through this middleware's `send`, so it carries the
    request id that is logged and, the security headers sitting outside, their headers too.
    A client that went away mid-request (a phone losing signal during an upload) is not a
    server error: it is logged as status 499 without a traceback. Without `on_error`
    (debug mode) exceptions go on to Starlette's debug page.
    """

    def __init__(self, app: ASGIApp, *, on_error: ErrorHandler | None = None) -> None:
        self.app = app
        self.on_error = on_error

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = new_request_id()
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        started = time.perf_counter()
        status = 500
        response_started = False
        disconnected = False
        outcome: str | None = None

        async def receive_watched() -> Message:
            nonlocal disconnected
            message = await receive()
            if message["type"] == "http.disconnect":
                disconnected = True
            return message

        async def send_logged(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status = message["status"]
                response_started = True
                MutableHeaders(scope=message).setdefault("X-Request-Id", request_id)
            await send(message)

        try:
            await self.app(scope, receive_watched, send_logged)
        except Exception as exc:
            if disconnected or isinstance(exc, ClientDisconnect):
                status, outcome = 499, "client_closed"
            elif self.on_error is None:
                raise
            elif response_started:
                # Too late for an error page; the server closes the unfinished response.
                outcome = "failed_mid_response"
                log.error(
                    "failed after the response started request_id=%s", request_id, exc_info=exc
                )
            else:
                response = await self.on_error(Request(scope, receive), exc)
                await response(scope, receive, send_logged)
        except asyncio.CancelledError:
            outcome = "cancelled"  # server shutdown cut the request short
            raise
        finally:
            route = scope.get("route")
            log_request(
                request_id,
                scope["method"],
                getattr(route, "name", None) or "-",
                status,
                started,
                account_id=state.get("account_id"),
                report_id=state.get("report_id"),
                outcome=outcome,
            )


def new_request_id() -> str:
    """The id a request is logged under and answered with (`X-Request-Id`): 48 random bits,
    to find a request's line among a deployment's servers, not a secret (it grants nothing),
    so from the process's pseudo-random generator rather than a system call each."""
    return f"{random.getrandbits(48):012x}"


def log_request(
    request_id: str,
    method: str,
    route: str,
    status: int,
    started: float,
    *,
    account_id: int | None = None,
    report_id: int | None = None,
    outcome: str | None = None,
) -> None:
    """The request's one log line; `started` is its `time.perf_counter()` at arrival."""
    fields: Iterable[tuple[str, object]] = (
        ("request_id", request_id),
        ("method", method),
        ("route", route),
        ("status", status),
        ("ms", round((time.perf_counter() - started) * 1000, 1)),
        ("account_id", account_id),
        ("report_id", report_id),
        ("outcome", outcome),
    )
    log.info(" ".join(f"{k}={v}" for k, v in fields if v is not None))
