"""Content codings: which one a browser takes, and gzip for the responses that are compressed
per request (staff pages, private links, receipts, exports).

Pages kept by web/pagecache.py and static text files (web/static_files.py) are compressed
once, at their best, and go out as they are. Starlette's GZipMiddleware made a compressor
(zlib's state is a few hundred KB to allocate and clear) for every request whose browser takes
gzip, before knowing whether the response would be compressed: on a cached tracking page that
was a third of the time the app spent (issue 13). This one makes it only for a response it
compresses, at the level bench/gzip_level.py chose (web/app.py).
"""

from __future__ import annotations

import zlib
from functools import lru_cache

import anyio.to_thread
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Not worth a compressor: the gzip header and checksum eat what little would be saved.
MINIMUM_SIZE = 500
# Bodies this large are compressed off the event loop.
THREAD_MINIMUM_SIZE = 128 * 1024
# Text is compressed; images, archives and fonts are compressed already. An event stream is
# sent as it comes: compressing would hold each event back.
TEXT_TYPES = ("application/json", "application/xml", "application/javascript", "image/svg+xml")
EXCLUDED_TYPES = ("text/event-stream",)


def compressible(media_type: str) -> bool:
    """Whether a response of this media type (no parameters, lower case) is worth gzip."""
    if media_type in EXCLUDED_TYPES:
        return False
    return (
        media_type.startswith("text/")
        or media_type in TEXT_TYPES
        or media_type.endswith(("+json", "+xml"))
    )


def accepted(accept_encoding: str) -> dict[str, float]:
    """Coding → quality from an Accept-Encoding header (q=0 refuses a coding)."""
    found: dict[str, float] = {}
    for item in accept_encoding.lower().split(","):
        name, _sep, params = item.partition(";")
        quality = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                quality = float(params[2:])
            except ValueError:
                quality = 0.0
        if name.strip():
            found[name.strip()] = quality
    return found


@lru_cache(maxsize=256)
def choose_coding(accept_encoding: str, offered: tuple[str, ...] = ("br", "gzip")) -> str:
    """The first of `offered` the browser takes, or "" (identity). Remembered: browsers send
    a handful of distinct headers, and it is asked twice a request."""
    codings = accepted(accept_encoding)
    for coding in offered:
        if codings.get(coding, codings.get("*", 0.0)) > 0:
            return coding
    return ""


def _gzip_taken(scope: Scope) -> bool:
    for name, value in scope.get("headers", ()):
        if name == b"accept-encoding":
            return choose_coding(value.decode("latin-1"), ("gzip",)) == "gzip"
    return False


class GZipMiddleware:
    """Pure ASGI: gzip at `level` for a text response the browser may take compressed, that is
    not compressed already, not partial (206), and not under MINIMUM_SIZE when sent whole. A
    streamed response is flushed chunk by chunk, so each chunk reaches the browser when the app
    sends it."""

    def __init__(self, app: ASGIApp, *, level: int) -> None:
        self.app = app
        self.level = level

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _gzip_taken(scope):
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        packer: zlib._Compress | None = None
        passthrough = False

        async def compressing_send(message: Message) -> None:
            nonlocal start, packer, passthrough
            if passthrough:
                await send(message)
                return
            if message["type"] == "http.response.start":
                headers = Headers(raw=message["headers"])
                media_type = headers.get("content-type", "").partition(";")[0].strip().lower()
                if (
                    "content-encoding" in headers
                    or message["status"] == 206
                    or not compressible(media_type)
                ):
                    passthrough = True
                    await send(message)
                else:
                    start = message
                return
            assert start is not None
            if message["type"] != "http.response.body":  # a file sent by the server itself
                passthrough = True
                await send(start)
                await send(message)
                return
            body: bytes = message.get("body", b"")
            more: bool = message.get("more_body", False)
            if packer is None:
                if not more and len(body) < MINIMUM_SIZE:
                    passthrough = True
                    await send(start)
                    await send(message)
                    return
                packer = zlib.compressobj(self.level, zlib.DEFLATED, 31)
                headers = MutableHeaders(scope=start)
                headers["Content-Encoding"] = "gzip"
                headers.add_vary_header("Accept-Encoding")
                data = await self._pack(packer, body, more)
                if more:
                    del headers["Content-Length"]
                else:
                    headers["Content-Length"] = str(len(data))
                await send(start)
            else:
                data = await self._pack(packer, body, more)
            await send({"type": "http.response.body", "body": data, "more_body": more})

        await self.app(scope, receive, compressing_send)

    @staticmethod
    async def _pack(packer: zlib._Compress, body: bytes, more: bool) -> bytes:
        def pack() -> bytes:
            return packer.compress(body) + packer.flush(
                zlib.Z_SYNC_FLUSH if more else zlib.Z_FINISH
            )

        if len(body) >= THREAD_MINIMUM_SIZE:
            return await anyio.to_thread.run_sync(pack)
        return pack()
