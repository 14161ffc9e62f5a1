"""The photo half of `aduan migrate --photos s3://…`: copy every photo the database refers
to, with its thumbnail, from one photo store to another (from the data folder to a
bucket, as a city moves off one machine), and prove the copy.

- Before anything is written, the target is checked: a store that already holds photos is
  refused unless every one of them is a photo of this deployment, byte for byte the same
  as here (what an interrupted run leaves; running again then finishes the copy). So two
  cities never end up sharing a bucket prefix, and nothing in the target is overwritten.
- Each copied photo is read back from the target and hashed: the photo must hash to its
  name, the thumbnail to the source thumbnail's hash.
- A photo the database names but the source does not hold (or holds damaged) cannot be
  copied; it is counted and named in the report, and the rest are copied all the same.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field

from db import reports as report_db
from db.database import Database
from web.photo_store import PhotoStore, check_sha, photo_store_at
from web.photos import Photo

CONCURRENCY = 8  # photos in flight at once: a bucket answers each in tens of milliseconds


class PhotoCopyError(Exception):
    """The copy was refused or a copied photo did not verify; the message says which and
    what to do, for the operator."""


@dataclass
class PhotoCopyReport:
    referenced: int = 0  # photos the database refers to
    copied: int = 0  # written to the target by this run, and verified
    already_there: int = 0  # in the target already, identical (an earlier run)
    missing: list[str] = field(default_factory=list)  # not in the source: nothing to copy
    damaged: list[str] = field(default_factory=list)  # in the source, not matching its hash

    @property
    def complete(self) -> bool:
        """Whether the target now holds every photo the database refers to."""
        return self.copied + self.already_there == self.referenced

    def summary(self) -> str:
        text = (
            f"{self.referenced} photos referenced: {self.copied} copied and verified, "
            f"{self.already_there} already in the target and identical"
        )
        if self.missing:
            text += f"; {len(self.missing)} missing in the source ({_some(self.missing)})"
        if self.damaged:
            text += (
                f"; {len(self.damaged)} damaged in the source, not copied ({_some(self.damaged)})"
            )
        return text + "."


def _some(shas: list[str]) -> str:
    shown = ", ".join(sorted(shas)[:5])
    return shown + (", …" if len(shas) > 5 else "")


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


async def copy_photos(
    source: PhotoStore, target: PhotoStore, hashes: Iterable[str]
) -> PhotoCopyReport:
    """Copy the photos named by `hashes` (the database's, e.g. db.reports.photo_hashes)
    with their thumbnails from `source` to `target`, verifying each; see the module's
    docstring. Raises PhotoCopyError, before writing anything, for a target holding other
    photos, and for a copy that does not read back the same."""
    wanted = sorted({check_sha(sha) for sha in hashes})
    report = PhotoCopyReport(referenced=len(wanted))
    wanted_set = set(wanted)

    present: dict[str, set[bool]] = {}
    async for item in target.stored():
        if item.sha256 not in wanted_set:
            raise PhotoCopyError(
                f"{target.location} already holds photos of another deployment (e.g. "
                f"{item.sha256}); copy into an empty bucket or prefix"
            )
        present.setdefault(item.sha256, set()).add(item.thumb)

    sources: dict[str, tuple[bytes, bytes] | None] = {}

    async def from_source(sha: str) -> tuple[bytes, bytes] | None:
        main = await source.read(sha)
        thumb = await source.read(sha, thumb=True)
        if main is None or thumb is None:
            report.missing.append(sha)
            return None
        if _digest(main) != sha:
            report.damaged.append(sha)
            return None
        return main, thumb

    async def check_present(sha: str) -> None:
        files = sources[sha] = await from_source(sha)
        for thumb in sorted(present[sha]):
            there = await target.read(sha, thumb=thumb)
            if there is None or files is None:
                continue  # deleted meanwhile, or nothing here to compare: see copy_one
            if _digest(there) != _digest(files[thumb]):
                what = "thumbnail of photo" if thumb else "photo"
                raise PhotoCopyError(
                    f"{target.location} holds a different {what} {sha} than the source; "
                    "copy into an empty bucket or prefix"
                )

    async def copy_one(sha: str) -> None:
        files = sources[sha] if sha in sources else await from_source(sha)
        if files is None:
            return
        main, thumb = files
        if present.get(sha) == {False, True}:
            report.already_there += 1
            return
        await target.save(Photo(sha, 0, 0, jpeg=main, thumb=thumb))
        back_main = await target.read(sha)
        back_thumb = await target.read(sha, thumb=True)
        if back_main is None or _digest(back_main) != sha:
            raise PhotoCopyError(f"photo {sha} did not read back from {target.location} as written")
        if back_thumb is None or _digest(back_thumb) != _digest(thumb):
            raise PhotoCopyError(
                f"the thumbnail of photo {sha} did not read back from {target.location} as written"
            )
        report.copied += 1

    # All of the target's photos are checked before the first one is written.
    await _each(sorted(present), check_present)
    await _each(wanted, copy_one)
    return report


async def migrate_photos(
    db: Database, source: PhotoStore, address: str, env: Mapping[str, str] | None = None
) -> PhotoCopyReport:
    """`aduan migrate --photos ADDRESS`: every photo `db` refers to, from `source` (the
    deployment's store) to the store at ADDRESS (an s3:// address with the S3 variables of
    `env`). SettingsError for an unusable address, PhotoCopyError as `copy_photos`."""
    target = photo_store_at(address, env)
    return await copy_photos(source, target, await report_db.photo_hashes(db))


async def _each(shas: list[str], work: Callable[[str], Awaitable[None]]) -> None:
    """Run `work(sha)` for every sha, CONCURRENCY at a time; the first error stops the
    rest and is raised as itself."""
    queue = iter(shas)

    async def worker() -> None:
        for sha in queue:
            await work(sha)

    try:
        async with asyncio.TaskGroup() as group:
            for _ in range(min(CONCURRENCY, len(shas))):
                group.create_task(worker())
    except BaseExceptionGroup as failed:
        raise failed.exceptions[0] from None
