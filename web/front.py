"""The short way in for public pages already rendered: a GET of `/t/{code}`, `/` or `/lapor`
whose current version the page cache holds (web/pagecache.py) is answered here, before the
middleware stack and Starlette's routing — a tracking link shared in a WhatsApp group brings
hundreds of such requests at once, and the stack's fourteen layers cost twice what the
answer itself does (issue 13; BENCHMARKS.md).

It answers from the same key as the page's handler, read from the database on every request
by the same function, so it is exactly as current as the handler: a change made through any
server shows on the very next request. Everything else goes down the full stack unchanged:
another method or a query string, a Host the deployment does not list by name, an unknown or
non-canonical code (counted and answered there), a page not rendered yet (rendered and kept
there), any failure while reading the key (met again there, and answered with the error page).

What the stack gives such a request, it gives here too: the same security headers, a request
id in `X-Request-Id` and in one log line of the same form, the language of the `lang` cookie,
304 for a browser that has this version, the cache headers and the compressed body the
handler's path sends (tests compare the two answers header by header). The layers it skips
act only on request bodies, unsafe methods, staff paths or responses without an ETag.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from starlette.types import ASGIApp, Receive, Scope, Send

from db.database import Database
from web import i18n
from web.middleware import log_request, new_request_id, security_headers
from web.pagecache import PUBLIC_PAGE_CACHE, VARY, Key, PageCache, etag_matches


@dataclass(frozen=True)
class Known:
    """What a public page is at this moment: its key (as its handler serves it), the route's
    name for the request log, and the report it shows, if any."""

    key: Key
    route: str
    report_id: int | None = None


# Reads a page's key from the database, given the rest of its path after the route's
# prefix ("" for an exact path); None sends the request down the full stack.
KeyReader = Callable[[Database, str], Awaitable[Known | None]]


class PublicPageFront:
    """Pure ASGI, outermost of our middleware. `exact` maps paths to their key readers,
    `prefixes` path prefixes (the rest of the path, one segment, is the reader's argument)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        cache: PageCache,
        exact: Mapping[str, KeyReader],
        prefixes: Mapping[str, KeyReader],
        allowed_hosts: tuple[str, ...],
        hsts: bool = False,
    ) -> None:
        self.app = app
        self.cache = cache
        self.exact = dict(exact)
        self.prefixes = tuple(prefixes.items())
        self.any_host = "*" in allowed_hosts
        self.hosts = frozenset(allowed_hosts)
        self.security = security_headers(hsts=hsts)
        self.cache_headers = [
            (b"cache-control", PUBLIC_PAGE_CACHE.encode()),
            (b"vary", VARY.encode()),
        ]

    def reader(self, path: str) -> tuple[KeyReader, str] | None:
        found = self.exact.get(path)
        if found is not None:
            return found, ""
        for prefix, reader in self.prefixes:
            if path.startswith(prefix):
                rest = path[len(prefix) :]
                if rest and "/" not in rest:
                    return reader, rest
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] != "GET"
            or scope["query_string"]
            or not await self.answered(scope, send)
        ):
            await self.app(scope, receive, send)

    async def answered(self, scope: Scope, send: Send) -> bool:
        """Answer the request if its page is kept at its current version; False otherwise,
        having sent nothing."""
        started = time.perf_counter()
        path = scope["path"]
        found = self.reader(path)
        if found is None:
            return False
        host = cookie = if_none_match = accept_encoding = ""
        # The first of each, as Starlette's Headers.get reads them.
        for name, value in scope["headers"]:
            if name == b"host" and not host:
                host = value.decode("latin-1")
            elif name == b"cookie" and not cookie:
                cookie = value.decode("latin-1")
            elif name == b"if-none-match" and not if_none_match:
                if_none_match = value.decode("latin-1")
            elif name == b"accept-encoding" and not accept_encoding:
                accept_encoding = value.decode("latin-1")
        if not self.any_host and host.split(":")[0] not in self.hosts:  # as Starlette reads it
            return False  # TrustedHostMiddleware decides, with its patterns and its answer
        reader, rest = found
        try:
            known = await reader(scope["state"]["db"], rest)
        except Exception:
            # The full stack meets the same failure, logs it and answers with the error page.
            return False
        if known is None:
            return False
        language = i18n.from_cookie_header(cookie)
        full_key = self.cache.full_key(path, b"", language, known.key)
        page = self.cache.get(full_key)
        etag = page.etag if page is not None else self.cache.etag(full_key)
        if etag_matches(if_none_match, etag):
            status, headers, body = 304, [], b""
        else:
            if page is None:
                return False  # rendered and kept by the handler, on the full stack
            coding, body = page.encoded(accept_encoding)
            headers = [(name.encode(), value.encode()) for name, value in page.headers]
            if coding:
                headers.append((b"content-encoding", coding.encode()))
            headers.append((b"content-length", str(len(body)).encode()))
            status = 200
        request_id = new_request_id()
        headers[:0] = [(b"etag", etag.encode()), *self.cache_headers]
        headers.append((b"x-request-id", request_id.encode()))
        headers.extend(self.security)
        try:
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": body})
        finally:
            log_request(request_id, "GET", known.route, status, started, report_id=known.report_id)
        return True
