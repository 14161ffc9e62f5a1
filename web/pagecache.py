"""Public pages served from what they last were: the tracking page, home, `/lapor` and
`/kinerja` are rendered once per (what they show, language), compressed once (brotli and
gzip), and answered from memory until what they show changes.

A page's key names its data: a report's version and last timeline event, the reference
tables' change counter, a period's reports — read in one indexed query by the handler
(db/page_versions.py) on every request, so every app server sharing the database sees a
change on the very next request; nothing has to tell the others, and nothing kept in this
process is trusted to say a page is still current. The ETag is a hash of the key and of
the build (code, templates, catalogue, static files, the settings pages show), so a
revalidation is answered 304 from the key alone, before anything is rendered, and a new
deployment never confirms a copy made by the old one.

Language: pages are written in the language of the `lang` cookie. The key and the ETag hold
the language, so neither this cache nor a 304 ever hands one language to a reader of the
other; `Vary: Cookie` says the same to shared caches (honest, if coarse: residents send no
cookie but `lang`). With `Cache-Control: no-cache` a browser, a CDN or nginx may keep a copy
but must ask before each use, and the conditional request carries the reader's own cookie:
even a cache that ignored Vary would get a 200 in the right language, never a 304 for the
wrong one. Only pages that are the same for every reader come through here, never a private
link, a receipt or a staff page; a confidential report's public page is rendered without its
content (web/routes/tracking.py), and its private page never comes here.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import anyio.to_thread
import brotli
from starlette.requests import Request
from starlette.responses import Response

from web import i18n
from web.compression import choose_coding

# Any cache may keep a copy, and must revalidate it before each use (a cheap 304).
PUBLIC_PAGE_CACHE = "no-cache"
VARY = "Accept-Encoding, Cookie"
# Each version of a page is compressed once, so the smallest output is worth its CPU
# (bench/gzip_level.py prints what each level costs and saves).
GZIP_LEVEL = 9
BROTLI_QUALITY = 11
# Rendered pages kept per process, by size (a tracking page is ~10 KB in all three forms).
MAX_BYTES = 32 * 1024 * 1024
# Response headers of a rendered page that its cached copy keeps.
KEPT_HEADERS = ("content-type",)

Key = tuple[Hashable, ...]
Render = Callable[[], Awaitable[Response]]


@dataclass(frozen=True)
class Page:
    """One rendered page: as rendered, and compressed both ways."""

    etag: str
    identity: bytes
    brotli: bytes
    gzip: bytes
    headers: tuple[tuple[str, str], ...]

    @property
    def size(self) -> int:
        return len(self.identity) + len(self.brotli) + len(self.gzip) + 512

    def encoded(self, accept_encoding: str) -> tuple[str, bytes]:
        """(content coding, body) for a browser's `Accept-Encoding` ("" is identity)."""
        coding = choose_coding(accept_encoding)
        return coding, {"br": self.brotli, "gzip": self.gzip}.get(coding, self.identity)

    def response(self, accept_encoding: str, extra: dict[str, str]) -> Response:
        coding, body = self.encoded(accept_encoding)
        headers = dict(self.headers)
        headers.update(extra)
        if coding:
            headers["Content-Encoding"] = coding
        return Response(body, headers=headers)


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """Weak comparison (RFC 9110 13.1.2) of If-None-Match with our ETag."""
    if not if_none_match:
        return False
    opaque = etag.removeprefix("W/")
    for tag in if_none_match.split(","):
        tag = tag.strip()
        if tag == "*" or tag.removeprefix("W/") == opaque:
            return True
    return False


@lru_cache(maxsize=16)
def build_id(sources: tuple[Path, ...], extra: tuple[str, ...] = ()) -> str:
    """A digest of the code, templates, catalogue and static files that render pages (files,
    or folders taken whole), and of the settings that show in them: the same on every
    server of one deployment, new with each deployment that changes any of them. Read once
    per process (a deployment starts new processes)."""
    digest = hashlib.sha256()
    for source in sources:
        files = sorted(source.rglob("*")) if source.is_dir() else [source]
        for path in files:
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(path.as_posix().encode())
                digest.update(hashlib.sha256(path.read_bytes()).digest())
    for value in extra:
        digest.update(b"\0" + value.encode())
    return digest.hexdigest()[:16]


def _compressed(etag: str, body: bytes, headers: tuple[tuple[str, str], ...]) -> Page:
    return Page(
        etag=etag,
        identity=body,
        brotli=brotli.compress(body, quality=BROTLI_QUALITY, mode=brotli.MODE_TEXT),
        gzip=gzip.compress(body, compresslevel=GZIP_LEVEL, mtime=0),
        headers=headers,
    )


class PageCache:
    """Rendered public pages of one app, least recently used dropped beyond `max_bytes`.
    Concurrent requests for a page not yet rendered wait for one rendering."""

    def __init__(self, build: str, max_bytes: int = MAX_BYTES) -> None:
        self.build = build
        self.max_bytes = max_bytes
        self._pages: OrderedDict[Key, Page] = OrderedDict()
        self._bytes = 0
        self._rendering: dict[Key, asyncio.Future[Page | None]] = {}
        self.renders = 0  # pages rendered and kept (tests count them)

    @staticmethod
    def full_key(path: str, query_string: bytes, language: str, key: Key) -> Key:
        """A page's key with what every page's key holds: its URL and language."""
        return (path, query_string, language, *key)

    def get(self, full_key: Key) -> Page | None:
        """The page kept for this key, if it was rendered; nothing is rendered here."""
        hit = self._pages.get(full_key)
        if hit is not None:
            self._pages.move_to_end(full_key)
        return hit

    def etag(self, key: Key) -> str:
        return 'W/"' + hashlib.sha256(repr((self.build, key)).encode()).hexdigest()[:24] + '"'

    async def page(self, key: Key, render: Render) -> Page | Response:
        """The cached page for `key`, rendering it once if needed; a rendering that is not a
        plain 200 is returned as it is and not kept."""
        hit = self.get(key)
        if hit is not None:
            return hit
        pending = self._rendering.get(key)
        if pending is not None:
            page = await asyncio.shield(pending)
            if page is not None:
                return page
            return await render()  # the other rendering failed or was not kept
        future: asyncio.Future[Page | None] = asyncio.get_running_loop().create_future()
        self._rendering[key] = future
        page = None
        try:
            response = await render()
            if response.status_code != 200 or "set-cookie" in response.headers:
                return response
            headers = tuple((k, v) for k, v in response.headers.items() if k in KEPT_HEADERS)
            # Compressing takes milliseconds; both codecs let go of the GIL meanwhile.
            page = await anyio.to_thread.run_sync(
                _compressed, self.etag(key), bytes(response.body), headers
            )
            self._store(key, page)
            self.renders += 1
            return page
        finally:
            del self._rendering[key]
            future.set_result(page)

    def _store(self, key: Key, page: Page) -> None:
        self._pages[key] = page
        self._bytes += page.size
        while self._bytes > self.max_bytes and self._pages:
            _key, dropped = self._pages.popitem(last=False)
            self._bytes -= dropped.size


async def serve(
    request: Request,
    key: Key,
    render: Render,
    *,
    cache_control: str = PUBLIC_PAGE_CACHE,
) -> Response:
    """Answer a public page from the cache: 304 when the reader's copy has our ETag (decided
    from the key alone), else the page as last rendered for this key, rendered now if none.

    `key` names everything the page shows besides its URL and language (which are added
    here); the caller reads it from the database on every request, so a change made through
    any server is seen by the next request to any other. `render` must read what it shows
    after the key was read, so a page is never older than the key it is kept under.
    """
    cache: PageCache = request.app.state.page_cache
    scope = request.scope
    full_key = cache.full_key(
        scope["path"], scope["query_string"], i18n.current_language.get(), key
    )
    etag = cache.etag(full_key)
    headers = {"ETag": etag, "Cache-Control": cache_control, "Vary": VARY}
    if etag_matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    page = await cache.page(full_key, render)
    if isinstance(page, Response):
        return page
    return page.response(request.headers.get("accept-encoding", ""), headers)
