"""Compression: static text files go out precompressed (brotli at its best quality, or gzip
at level 9) in whichever coding the browser takes, the same bytes as the file; images and
browsers that take neither get the file as it is."""

from __future__ import annotations

import gzip

import brotli
import pytest
from starlette.testclient import TestClient

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
