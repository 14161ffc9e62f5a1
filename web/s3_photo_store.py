"""Photos in a private bucket of an S3-compatible store (ADUAN_PHOTO_STORE=s3://bucket/prefix):
the bucket side of web/photo_store.py's interface, through obstore's async client, so no
request to the store blocks the event loop. A PUT is atomic: an object is whole or absent.

Every request is signed with the key of the settings; nothing here makes an address that
works without it (photos are served through Aduan: web/photo_files.py). A failing store
(unreachable, refusing, no bucket) is PhotoStoreUnavailable, which the app answers 503.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import obstore
from obstore.exceptions import BaseError as ObstoreError
from obstore.exceptions import NotFoundError
from obstore.store import S3Store

from web.photo_store import (
    OpenedPhoto,
    PhotoStore,
    PhotoStoreUnavailable,
    StoredObject,
    check_bytes,
    photo_key,
)
from web.photos import Photo
from web.settings import S3Location

if TYPE_CHECKING:
    from obstore.store import ClientConfig, RetryConfig, S3Config

# A key relative to the store: `ab/abcdef….jpg` or `ab/abcdef….thumb.jpg`.
_KEY_RE = re.compile(r"(?P<shard>[0-9a-f]{2})/(?P<sha>[0-9a-f]{64})(?P<thumb>\.thumb)?\.jpg")
# A request handler waits for the store: a few quick retries, never minutes.
_S3_RETRY: RetryConfig = {"max_retries": 3, "retry_timeout": timedelta(seconds=20)}
_STREAM_CHUNK = 256 * 1024


class S3PhotoStore(PhotoStore):
    """Photo objects under `prefix/` in a private bucket, every request signed."""

    def __init__(self, where: S3Location) -> None:
        self.where = where
        config: S3Config = {"region": where.region}
        if where.endpoint_url:
            config["endpoint"] = where.endpoint_url
        if where.access_key_id:
            config["access_key_id"] = where.access_key_id
            config["secret_access_key"] = where.secret_access_key
        if where.session_token:
            config["session_token"] = where.session_token
        client: ClientConfig = {
            "connect_timeout": timedelta(seconds=5),
            "timeout": timedelta(seconds=30),
            "allow_http": where.endpoint_url.startswith("http://"),
        }
        self._store = S3Store(
            where.bucket,
            prefix=where.prefix or None,
            config=config,
            client_options=client,
            retry_config=_S3_RETRY,
        )

    def __repr__(self) -> str:
        return f"S3PhotoStore({self.where.url!r})"

    @property
    def location(self) -> str:
        return self.where.url

    async def check(self) -> None:
        """One listing request: a wrong endpoint, key or bucket name fails here; an empty
        bucket or prefix (a new deployment) is fine."""
        async with _unavailable("list"):
            with contextlib.suppress(StopAsyncIteration):
                await obstore.list(self._store, None, chunk_size=1).__anext__()

    async def save(self, photo: Photo) -> str:
        check_bytes(photo)
        # Always a PUT, even when the objects are there: it is the touch (module docstring).
        for key, content in (
            (photo_key(photo.sha256, thumb=True), photo.thumb),
            (photo_key(photo.sha256), photo.jpeg),
        ):
            async with _unavailable("save"):
                await obstore.put_async(
                    self._store,
                    key,
                    content,
                    attributes={"Content-Type": "image/jpeg"},
                    use_multipart=False,
                )
        return photo.sha256

    async def exists(self, sha256: str) -> bool:
        return await self._head(photo_key(sha256)) is not None

    async def _head(self, key: str) -> Any:
        async with _unavailable("head"):
            try:
                return await obstore.head_async(self._store, key)
            except (FileNotFoundError, NotFoundError):
                return None

    async def _get(self, key: str) -> Any:
        """The object's GET result (its body not yet read), or None when there is none."""
        async with _unavailable("get"):
            try:
                return await obstore.get_async(self._store, key)
            except (FileNotFoundError, NotFoundError):
                return None

    async def open(self, sha256: str, *, thumb: bool = False) -> OpenedPhoto | None:
        result = await self._get(photo_key(sha256, thumb))
        if result is None:
            return None
        return OpenedPhoto(size=result.meta["size"], chunks=_chunks(result))

    async def read(self, sha256: str, *, thumb: bool = False) -> bytes | None:
        result = await self._get(photo_key(sha256, thumb))
        if result is None:
            return None
        async with _unavailable("get"):
            return bytes(await result.bytes_async())

    async def delete(self, sha256: str) -> None:
        for key in (photo_key(sha256), photo_key(sha256, thumb=True)):
            async with _unavailable("delete"):
                await obstore.delete_async(self._store, key)

    async def stored(self) -> AsyncIterator[StoredObject]:
        listing = obstore.list(self._store, None, chunk_size=1000)
        while True:
            async with _unavailable("list"):
                try:
                    batch = await listing.__anext__()
                except StopAsyncIteration:
                    return
            for meta in batch:
                match = _KEY_RE.fullmatch(meta["path"])
                if match is None or match["shard"] != match["sha"][:2]:
                    continue  # not ours: never listed, so never swept
                yield StoredObject(
                    match["sha"], bool(match["thumb"]), meta["last_modified"].timestamp()
                )

    async def _remove_if_older(self, item: StoredObject, cutoff: float) -> bool:
        key = photo_key(item.sha256, item.thumb)
        meta = await self._head(key)
        if meta is None or meta["last_modified"].timestamp() >= cutoff:
            return False
        async with _unavailable("delete"):
            await obstore.delete_async(self._store, key)
        return True


async def _chunks(result: Any) -> AsyncIterator[bytes]:
    async with _unavailable("get"):
        async for chunk in result.stream(min_chunk_size=_STREAM_CHUNK):
            yield bytes(chunk)


@contextlib.asynccontextmanager
async def _unavailable(operation: str) -> AsyncIterator[None]:
    """obstore's failures (unreachable, refused, timed out) as PhotoStoreUnavailable; a
    missing object is each caller's to handle before this sees it."""
    try:
        yield
    except (FileNotFoundError, NotFoundError) as exc:
        raise PhotoStoreUnavailable(f"{operation}: not found") from exc
    except (ObstoreError, OSError) as exc:
        if isinstance(exc, PhotoStoreUnavailable):
            raise
        raise PhotoStoreUnavailable(f"{operation}: {type(exc).__name__}") from exc
