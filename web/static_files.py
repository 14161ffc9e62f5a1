"""Static files under content-versioned URLs: `/static/<digest>/css/app.css`.

A URL names one version of a file, so it is cached for a year (`immutable`); a new version
gets a new URL. A request for an outdated digest still gets the current file, briefly cached,
so a page cached by an old service worker never breaks.

Text files (CSS, JavaScript, SVG, the licence) are served precompressed, brotli at its best
quality or gzip at level 9, whichever the browser takes: compressed once per process, in a
thread started with the app (`precompress`), rather than per request at a lower level by the
gzip middleware. There is no build step to do it in (the app runs from its source tree or an
installed package), the files are ~110 KB and take ~0.3 s of one core; being kept by each
file's content digest, a compressed copy can never be stale.
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import anyio.to_thread
import brotli
from starlette.responses import FileResponse, PlainTextResponse, Response

from web.compression import choose_coding

STATIC_DIR = Path(__file__).parent / "static"
LONG_CACHE = "public, max-age=31536000, immutable"
SHORT_CACHE = "public, max-age=300"
# Images are compressed already; everything else is text.
COMPRESSED_TYPES = ("text/", "application/json", "application/manifest+json", "image/svg+xml")

mimetypes.add_type("application/manifest+json", ".webmanifest")
mimetypes.add_type("text/javascript", ".js")


@dataclass(frozen=True)
class StaticFile:
    path: Path
    digest: str  # the URL's: the first characters of sha256
    sha256: str
    media_type: str

    @property
    def compressible(self) -> bool:
        return self.media_type.startswith(COMPRESSED_TYPES)


@dataclass(frozen=True)
class Encoded:
    brotli: bytes
    gzip: bytes


@lru_cache(maxsize=512)
def encoded(path: Path, sha256: str) -> Encoded:
    """A file compressed both ways. Kept per process by path and content digest (so every
    app of a test run shares the work, and a changed file is compressed anew)."""
    body = path.read_bytes()
    return Encoded(
        brotli=brotli.compress(body, quality=11, mode=brotli.MODE_TEXT),
        gzip=gzip.compress(body, compresslevel=9, mtime=0),
    )


class StaticFiles:
    """Index of the static folder, built once per app, and the ASGI app serving it."""

    def __init__(self, directory: Path = STATIC_DIR) -> None:
        self.directory = directory
        self.files: dict[str, StaticFile] = {}
        for path in sorted(directory.rglob("*")):
            if path.is_file():
                rel = path.relative_to(directory).as_posix()
                sha256 = hashlib.sha256(path.read_bytes()).hexdigest()
                media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                if media_type.startswith("text/") or media_type.endswith(("json", "javascript")):
                    media_type += "; charset=utf-8"
                self.files[rel] = StaticFile(path, sha256[:10], sha256, media_type)
        self.version = hashlib.sha256(
            "".join(f.digest for f in self.files.values()).encode()
        ).hexdigest()[:10]
        self._encoded: dict[str, Encoded] = {}

    def url(self, rel: str) -> str:
        """The versioned URL of a static file; a typo fails loudly at render time."""
        return f"/static/{self.files[rel].digest}/{rel}"

    def precompress(self) -> None:
        """Compress every text file now (run in a thread when the app starts)."""
        for rel, entry in self.files.items():
            if entry.compressible:
                self._encoded[rel] = encoded(entry.path, entry.sha256)

    async def response(self, digest: str, rel: str, accept_encoding: str = "") -> Response:
        entry = self.files.get(rel)
        if entry is None:
            return PlainTextResponse("Not found", status_code=404)
        headers = {"Cache-Control": LONG_CACHE if digest == entry.digest else SHORT_CACHE}
        coding = choose_coding(accept_encoding) if entry.compressible else ""
        if entry.compressible:
            headers["Vary"] = "Accept-Encoding"
        if not coding:
            return FileResponse(entry.path, media_type=entry.media_type, headers=headers)
        both = self._encoded.get(rel)
        if both is None:  # asked for before the startup thread came to it: compress it now
            both = await anyio.to_thread.run_sync(encoded, entry.path, entry.sha256)
            self._encoded[rel] = both
        headers["Content-Encoding"] = coding
        body = both.brotli if coding == "br" else both.gzip
        return Response(body, media_type=entry.media_type, headers=headers)
