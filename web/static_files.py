"""Static files under content-versioned URLs: `/static/<digest>/css/app.css`.

A URL names one version of a file, so it is cached for a year (`immutable`); a new version
gets a new URL. A request for an outdated digest still gets the current file, briefly cached,
so a page cached by an old service worker never breaks.
"""

from __future__ import annotations

import hashlib
import mimetypes
from dataclasses import dataclass
from pathlib import Path

from starlette.responses import FileResponse, PlainTextResponse, Response

STATIC_DIR = Path(__file__).parent / "static"
LONG_CACHE = "public, max-age=31536000, immutable"
SHORT_CACHE = "public, max-age=300"

mimetypes.add_type("application/manifest+json", ".webmanifest")
mimetypes.add_type("text/javascript", ".js")


@dataclass(frozen=True)
class StaticFile:
    path: Path
    digest: str


class StaticFiles:
    """Index of the static folder, built once per app, and the ASGI app serving it."""

    def __init__(self, directory: Path = STATIC_DIR) -> None:
        self.directory = directory
        self.files: dict[str, StaticFile] = {}
        for path in sorted(directory.rglob("*")):
            if path.is_file():
                rel = path.relative_to(directory).as_posix()
                digest = hashlib.sha256(path.read_bytes()).hexdigest()[:10]
                self.files[rel] = StaticFile(path, digest)
        self.version = hashlib.sha256(
            "".join(f.digest for f in self.files.values()).encode()
        ).hexdigest()[:10]

    def url(self, rel: str) -> str:
        """The versioned URL of a static file; a typo fails loudly at render time."""
        return f"/static/{self.files[rel].digest}/{rel}"

    def response(self, digest: str, rel: str) -> Response:
        entry = self.files.get(rel)
        if entry is None:
            return PlainTextResponse("Not found", status_code=404)
        cache = LONG_CACHE if digest == entry.digest else SHORT_CACHE
        media_type = mimetypes.guess_type(entry.path.name)[0] or "application/octet-stream"
        if media_type.startswith("text/") or media_type.endswith(("json", "javascript")):
            media_type += "; charset=utf-8"
        return FileResponse(entry.path, media_type=media_type, headers={"Cache-Control": cache})
