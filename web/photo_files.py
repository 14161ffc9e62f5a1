"""Serving stored photos to residents: the store of this app, and the one way a photo file
is answered (the held photos of a failed attempt, public photos, a confidential report's
photos through its private link). Image work itself is in web/photos.py.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import FileResponse, Response

from web.photos import PhotoStore


def photo_store(request: Request) -> PhotoStore:
    """The photo store under this app's data directory."""
    return PhotoStore(request.app.state.settings.photo_dir)


def photo_response(store: PhotoStore, sha: str, thumb: bool, cache: str) -> Response:
    """A stored photo (or its thumbnail) as JPEG, shown inline, never sniffed as anything
    else; `cache` says who may keep it."""
    return FileResponse(
        store.path(sha, thumb=thumb),
        media_type="image/jpeg",
        headers={
            "Cache-Control": cache,
            "Content-Disposition": "inline",
            "X-Content-Type-Options": "nosniff",
        },
    )
