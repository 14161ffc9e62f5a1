"""Compression: static text files go out precompressed (brotli at its best quality, or gzip
at level 9) in whichever coding the browser takes, the same bytes as the file; images and
browsers that take neither get the file as it is. Pages made per request are gzipped at the
level bench/gzip_level.py chose, streamed ones chunk by chunk."""

from __future__ import annotations

import gzip
import zlib
from collections.abc import AsyncIterator

import brotli
import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from web.app import DYNAMIC_GZIP_LEVEL
from web.compression import GZipMiddleware
from web.static_files import STATIC_DIR, StaticFiles, encoded

TEXT_FILES = ["css/app.css", "js/outbox.js", "icons/icon.svg"]


def static_url(client: TestClient, rel: str) -> str:
    return client.app.state.static.url(rel)  # type: ignore[attr-defined]


def raw_get(client: TestClient, url: str, accept: str) -> tuple[int, dict[str, str], bytes]:
    """The body as sent (the test client would undo the coding)."""
    with client.stream("GET", url, headers={"Accept-Encoding": accept}) as response:
        return response.status_code, dict(response.headers), b"".join(response.iter_raw())


@pytest.mark.parametrize("rel", TEXT_FILES)
def test_static_text_files_are_sent_precompressed_in_the_coding_the_browser_takes(
    client: TestClient, rel: str
) -> None:
    original = (STATIC_DIR / rel).read_bytes()
    url = static_url(client, rel)
    status, headers, body = raw_get(client, url, "gzip, deflate, br")
    assert status == 200 and headers["content-encoding"] == "br"
    assert brotli.decompress(body) == original
    assert len(body) < len(original)
    assert headers["vary"] == "Accept-Encoding"
    assert headers["cache-control"] == "public, max-age=31536000, immutable"
    status, headers, body = raw_get(client, url, "gzip")
    assert headers["content-encoding"] == "gzip" and gzip.decompress(body) == original
    status, headers, body = raw_get(client, url, "identity")
    assert "content-encoding" not in headers and body == original


def test_the_compressed_copies_are_made_once_at_their_best_level() -> None:
    static = StaticFiles()
    static.precompress()
    entry = static.files["css/app.css"]
    copy = encoded(entry.path, entry.sha256)
    assert copy is encoded(entry.path, entry.sha256)  # made once per process
    body = entry.path.read_bytes()
    assert len(copy.gzip) <= len(gzip.compress(body, compresslevel=9, mtime=0))
    assert len(copy.brotli) <= len(brotli.compress(body, quality=11))


def test_images_are_sent_as_they_are(client: TestClient) -> None:
    status, headers, body = raw_get(client, static_url(client, "icons/icon-192.png"), "br, gzip")
    assert status == 200 and "content-encoding" not in headers
    assert body == (STATIC_DIR / "icons/icon-192.png").read_bytes()


def test_a_page_made_per_request_is_gzipped_at_the_chosen_level(client: TestClient) -> None:
    status, headers, body = raw_get(client, "/staf/masuk", "gzip, deflate, br")
    assert status == 200 and headers["content-encoding"] == "gzip"
    assert "accept-encoding" in headers["vary"].lower()
    page = gzip.decompress(body)
    assert b"<form" in page
    assert int(headers["content-length"]) == len(body)
    # zlib at the chosen level makes the same deflate stream (the gzip header differs).
    packer = zlib.compressobj(DYNAMIC_GZIP_LEVEL, zlib.DEFLATED, -15)
    assert body[10:-8] == packer.compress(page) + packer.flush()
    status, headers, plain = raw_get(client, "/staf/masuk", "identity")
    assert "content-encoding" not in headers and b"<form" in plain


def small_app() -> Starlette:
    async def streamed(request: Request) -> StreamingResponse:
        async def rows() -> AsyncIterator[bytes]:
            for number in range(3):
                yield f"baris {number};".encode() * 200

        return StreamingResponse(rows(), media_type="text/csv")

    async def tiny(request: Request) -> PlainTextResponse:
        return PlainTextResponse("ok")

    async def photo(request: Request) -> Response:
        return Response(b"\xff\xd8" + b"\0" * 4000, media_type="image/jpeg")

    routes = [Route("/csv", streamed), Route("/tiny", tiny), Route("/photo", photo)]
    return Starlette(routes=routes, middleware=[Middleware(GZipMiddleware, level=5)])


def test_a_streamed_response_is_gzipped_chunk_by_chunk_and_arrives_whole() -> None:
    with TestClient(small_app()) as client:
        status, headers, body = raw_get(client, "/csv", "gzip")
        assert headers["content-encoding"] == "gzip" and "content-length" not in headers
        expected = b"".join(f"baris {n};".encode() * 200 for n in range(3))
        assert gzip.decompress(body) == expected
        # Small answers and photos go out as they are.
        for path in ("/tiny", "/photo"):
            status, headers, body = raw_get(client, path, "gzip")
            assert status == 200 and "content-encoding" not in headers, path
        # A browser that refuses gzip gets none.
        status, headers, body = raw_get(client, "/csv", "gzip;q=0, identity")
        assert "content-encoding" not in headers and body == expected
