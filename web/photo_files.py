"""Serving stored photos: the store of this app, and the one way a photo file is answered
(the held photos of a failed attempt, public photos, a confidential report's photos through
its private link, a report's photos for staff). Image work itself is in web/photos.py,
where photos are kept in web/photo_store.py.

Every photo goes through Aduan, from a folder or from a private bucket alike: never a
redirect to a presigned URL, which would work for anyone holding it, without the checks
the caller made (README, "Photos in an object store").
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, Response, StreamingResponse

from web.photo_store import PhotoStore


def photo_store(request: Request) -> PhotoStore:
    """The photo store this app opened at its start (a folder or a bucket)."""
    store: PhotoStore = request.app.state.photo_store
    return store


async def photo_response(store: PhotoStore, sha: str, thumb: bool, cache: str) -> Response:
    """A stored photo (or its thumbnail) as JPEG, shown inline, never sniffed as anything
    else; `cache` says who may keep it. 404 when it is not stored (or `sha` is no photo id).

    A file on disk goes out with sendfile (FileResponse); an object is streamed from the
    store as it arrives, with its length, never held whole in memory."""
    try:
        opened = await store.open(sha, thumb=thumb)
    except ValueError:
        raise HTTPException(404) from None
    if opened is None:
        raise HTTPException(404)
    headers = {
        "Cache-Control": cache,
        "Content-Disposition": "inline",
        "X-Content-Type-Options": "nosniff",
    }
    if opened.path is not None:
        return FileResponse(opened.path, media_type="image/jpeg", headers=headers)
    assert opened.chunks is not None
    headers["Content-Length"] = str(opened.size)
    return StreamingResponse(opened.chunks, media_type="image/jpeg", headers=headers)
