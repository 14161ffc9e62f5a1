"""Where photos are kept: one small interface, two places (DESIGN.md "Beyond one machine").

- `LocalPhotoStore`: files under ADUAN_DATA_DIR/photos, the default. Each file is written
  to a temp name in its folder, fsynced and renamed (SECURITY.md, "Photos").
- `S3PhotoStore` (web/s3_photo_store.py): objects in a private bucket of an S3-compatible
  store (ADUAN_PHOTO_STORE=s3://bucket/prefix), through obstore's async client, so no
  request to the store blocks the event loop. A PUT is atomic: an object is whole or absent.

Both name a photo by the sha256 of its clean JPEG, `ab/abcdef….jpg`, with its thumbnail
beside it as `ab/abcdef….thumb.jpg` (under the prefix on S3). A name is its content, so
saving a photo again never changes what is stored; it only makes the photo young again,
which keeps the orphan sweep from removing an old photo that a new report is using right
now. On disk that is a touch of the files; on S3 it is a PUT of both objects again: S3's
Last-Modified is what the sweep reads, a PUT is the one write every S3-compatible store
sets it on (a copy onto itself is refused by AWS unless the metadata changes), and the
bytes are at hand anyway. Recording the time in the database instead would make the
sweep depend on a table the store knows nothing of, for a photo of some hundred KB.

Photos are served through Aduan, never by a link into the bucket: the bucket stays
private, and a confidential report's photo has no address that works without Aduan's
checks. Nothing here logs: a photo is personal data.
"""

from __future__ import annotations

import abc
import contextlib
import errno
import hashlib
import os
import pathlib
import re
import tempfile
import time
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass, field

import anyio.to_thread

from web.photos import Photo
from web.settings import Settings, parse_photo_store

ORPHAN_AGE_SECONDS = 24 * 3600

_SHA_RE = re.compile(r"[0-9a-f]{64}")
# A stored file's name within its shard folder.
_STORED_RE = re.compile(r"(?P<sha>[0-9a-f]{64})(?P<thumb>\.thumb)?\.jpg")
_SHARD_RE = re.compile(r"[0-9a-f]{2}")
_TEMP_RE = re.compile(r"\..+\.tmp")  # mkstemp(prefix=".", suffix=".tmp") in _write_atomic


class PhotoStoreUnavailable(OSError):
    """The photo store cannot be reached or refused us (down, wrong keys, no bucket).

    An OSError with EIO, so web/errors.py answers 503 with Retry-After as for a full disk:
    nothing is wrong with the request, and the phone's outbox sends the report again later.
    The message names the failing operation only, never a key or a photo's name.
    """

    def __init__(self, operation: str) -> None:
        super().__init__(errno.EIO, f"photo store unavailable ({operation})")


@dataclass(frozen=True)
class StoredObject:
    """One stored file: a photo or its thumbnail, with when it was last written."""

    sha256: str
    thumb: bool
    modified: float  # seconds since the epoch


@dataclass
class OpenedPhoto:
    """A stored photo opened for serving: a local file (sent with sendfile) or a stream of
    the object's bytes. A stream must be read or closed by the caller."""

    size: int
    path: pathlib.Path | None = None
    chunks: AsyncIterator[bytes] | None = field(default=None, repr=False)


def check_sha(sha256: str) -> str:
    """`sha256` if it is a photo id (64 lowercase hex characters), else ValueError."""
    if not isinstance(sha256, str) or not _SHA_RE.fullmatch(sha256):
        raise ValueError("not a photo id")
    return sha256


def photo_key(sha256: str, thumb: bool = False) -> str:
    """The name of a photo (or its thumbnail) relative to the store: `ab/abcdef….jpg`."""
    check_sha(sha256)
    return f"{sha256[:2]}/{sha256}.thumb.jpg" if thumb else f"{sha256[:2]}/{sha256}.jpg"


class PhotoStore(abc.ABC):
    """Photos and their thumbnails, named by content hash. Every method is async."""

    @property
    @abc.abstractmethod
    def location(self) -> str:
        """Where the photos are, for people: a folder or an s3:// address."""

    async def check(self) -> None:  # noqa: B027 - a folder is checked by writing to it
        """Raise PhotoStoreUnavailable unless the store answers (for `aduan serve`'s checks
        before it starts)."""

    @abc.abstractmethod
    async def save(self, photo: Photo) -> str:
        """Store the photo and its thumbnail durably (thumbnail first: when the photo is
        there, so is its thumbnail); returns the sha256. Saving again refreshes the photo's
        age (see the module's docstring). Commit the database row only after this returns.

        `photo` is one that `process_photo` made: its bytes must match its hash, so a photo
        without them (held, or read back from a report) is refused with ValueError."""

    @abc.abstractmethod
    async def exists(self, sha256: str) -> bool:
        """Whether the photo (its main file) is stored."""

    @abc.abstractmethod
    async def open(self, sha256: str, *, thumb: bool = False) -> OpenedPhoto | None:
        """The photo (or its thumbnail) opened for serving; None if it is not stored."""

    @abc.abstractmethod
    async def read(self, sha256: str, *, thumb: bool = False) -> bytes | None:
        """The stored bytes of the photo (or its thumbnail); None if it is not stored."""

    @abc.abstractmethod
    async def delete(self, sha256: str) -> None:
        """Remove the photo and its thumbnail if present (the photo first)."""

    @abc.abstractmethod
    def stored(self) -> AsyncIterator[StoredObject]:
        """Every stored photo file and thumbnail with its age, in no particular order.
        Anything under the store that is not named like a photo is not listed."""

    @abc.abstractmethod
    async def _remove_if_older(self, item: StoredObject, cutoff: float) -> bool:
        """Delete one stored file if it is still older than `cutoff` (it may have been
        saved again since it was listed); whether it was deleted."""

    async def _sweep_leftovers(self, cutoff: float) -> None:  # noqa: B027 - optional hook
        """Remove what a crash left behind (temp files), older than `cutoff`."""

    async def sweep(
        self, keep: set[str], older_than: float = ORPHAN_AGE_SECONDS, *, now: float | None = None
    ) -> int:
        """Delete stored photos not in `keep` whose files are older than `older_than`
        seconds; returns how many photos lost at least one file.

        These are orphans of abandoned forms (saved, but no row was committed). The age
        limit protects photos saved moments ago whose row is not committed yet, and a
        photo saved again (a resident re-using an old picture) is young again. Each file
        is checked once more just before it is deleted, so a save between the listing and
        the deletion keeps it.
        """
        cutoff = (time.time() if now is None else now) - older_than
        removed: set[str] = set()
        candidates = [
            item
            async for item in self.stored()
            if item.modified < cutoff and item.sha256 not in keep
        ]
        # The photo before its thumbnail, as `delete` does.
        for item in sorted(candidates, key=lambda i: (i.sha256, i.thumb)):
            if await self._remove_if_older(item, cutoff):
                removed.add(item.sha256)
        await self._sweep_leftovers(cutoff)
        return len(removed)


def check_bytes(photo: Photo) -> None:
    """ValueError unless the photo's JPEG bytes hash to its name."""
    if hashlib.sha256(photo.jpeg).hexdigest() != check_sha(photo.sha256):
        raise ValueError("sha256 does not match the photo bytes")


# --- Local files --------------------------------------------------------------------------


class LocalPhotoStore(PhotoStore):
    """Photo files under a root folder (e.g. DATA_DIR/photos). Writes, renames and folder
    scans run in worker threads; a stat is quick enough for the event loop."""

    def __init__(self, root: pathlib.Path) -> None:
        self.root = pathlib.Path(root)

    def __repr__(self) -> str:
        return f"LocalPhotoStore({str(self.root)!r})"

    @property
    def location(self) -> str:
        return str(self.root)

    def path(self, sha256: str, thumb: bool = False) -> pathlib.Path:
        """Where a photo lives; ValueError unless `sha256` is 64 lowercase hex chars."""
        return self.root / photo_key(sha256, thumb)

    async def save(self, photo: Photo) -> str:
        check_bytes(photo)
        await anyio.to_thread.run_sync(self._save_files, photo)
        return photo.sha256

    def _save_files(self, photo: Photo) -> None:
        sha = photo.sha256
        for target, content in (
            (self.path(sha, thumb=True), photo.thumb),
            (self.path(sha), photo.jpeg),
        ):
            if not _touch(target):
                _write_atomic(target, content)

    async def exists(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    async def open(self, sha256: str, *, thumb: bool = False) -> OpenedPhoto | None:
        path = self.path(sha256, thumb)
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            return None
        return OpenedPhoto(size=size, path=path)

    async def read(self, sha256: str, *, thumb: bool = False) -> bytes | None:
        path = self.path(sha256, thumb)
        try:
            return await anyio.to_thread.run_sync(path.read_bytes)
        except FileNotFoundError:
            return None

    async def delete(self, sha256: str) -> None:
        main, thumb = self.path(sha256), self.path(sha256, thumb=True)
        await anyio.to_thread.run_sync(_unlink_all, (main, thumb))

    async def stored(self) -> AsyncIterator[StoredObject]:
        for folder in await anyio.to_thread.run_sync(self._shards):
            for item in await anyio.to_thread.run_sync(_scan_shard, folder):
                yield item

    def _shards(self) -> list[str]:
        if not self.root.is_dir():
            return []
        with os.scandir(self.root) as shards:
            return [
                e.path
                for e in shards
                if _SHARD_RE.fullmatch(e.name) and e.is_dir(follow_symlinks=False)
            ]

    async def _remove_if_older(self, item: StoredObject, cutoff: float) -> bool:
        return await anyio.to_thread.run_sync(
            _unlink_if_older, self.path(item.sha256, item.thumb), cutoff
        )

    async def _sweep_leftovers(self, cutoff: float) -> None:
        await anyio.to_thread.run_sync(self._remove_stale_temp_files, cutoff)

    def _remove_stale_temp_files(self, cutoff: float) -> None:
        for folder in self._shards():
            with os.scandir(folder) as entries:
                stale = [
                    e.path
                    for e in entries
                    if _TEMP_RE.fullmatch(e.name)
                    and e.is_file(follow_symlinks=False)
                    and e.stat(follow_symlinks=False).st_mtime < cutoff
                ]
            _unlink_all(pathlib.Path(p) for p in stale)


def _scan_shard(folder: str) -> list[StoredObject]:
    items = []
    with os.scandir(folder) as entries:
        for entry in entries:
            match = _STORED_RE.fullmatch(entry.name)
            if match is None or not entry.is_file(follow_symlinks=False):
                continue
            modified = entry.stat(follow_symlinks=False).st_mtime
            items.append(StoredObject(match["sha"], bool(match["thumb"]), modified))
    return items


def _unlink_if_older(path: pathlib.Path, cutoff: float) -> bool:
    try:
        if path.lstat().st_mtime >= cutoff:
            return False
        path.unlink()
    except FileNotFoundError:
        return False
    return True


def _unlink_all(paths: Iterable[pathlib.Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)


def _touch(target: pathlib.Path) -> bool:
    """Refresh the age of an existing file; False if it is not there.

    Same name means same content, so an existing file is kept; touching it stops a
    sweep from removing an old orphan that is being used again right now.
    """
    try:
        os.utime(target)
    except FileNotFoundError:
        return False
    return True


def _write_atomic(target: pathlib.Path, content: bytes) -> None:
    folder = target.parent
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=folder, prefix=".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(content)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp_name, target)
    except BaseException:
        pathlib.Path(tmp_name).unlink(missing_ok=True)
        raise
    _fsync_dir(folder)


def _fsync_dir(folder: pathlib.Path) -> None:
    """Make the rename itself durable before the caller commits the row."""
    # Platforms or file systems without directory fsync: the rename is the best we get.
    with contextlib.suppress(OSError):
        dir_fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


# --- Choosing one ---------------------------------------------------------------------------


def photo_store_at(address: str, env: Mapping[str, str] | None = None) -> PhotoStore:
    """The store at an `s3://bucket/prefix` address (e.g. `aduan migrate --photos`), reached
    with the S3 variables of `env` (default: the environment); SettingsError if unusable."""
    from web.s3_photo_store import S3PhotoStore  # obstore is loaded only for a bucket

    where = parse_photo_store(address, dict(os.environ if env is None else env), "--photos")
    return S3PhotoStore(where)


def open_photo_store(settings: Settings) -> PhotoStore:
    """The store the settings name: S3 for ADUAN_PHOTO_STORE=s3://…, else the photo folder.
    Opening makes no request; the first save or read reaches the store."""
    if settings.photo_store is not None:
        from web.s3_photo_store import S3PhotoStore

        return S3PhotoStore(settings.photo_store)
    return LocalPhotoStore(settings.photo_dir)
