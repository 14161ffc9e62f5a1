"""Moving a city's photos (web/photo_migrate.py): from the data folder to a real SeaweedFS
bucket, every referenced photo copied and proven by its hash, and a target that holds
anything else refused before a byte is written."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

from db.database import Database
from tests.helpers import add_report
from tests.images import camera_like, encode
from tests.seaweedfs import SeaweedFS
from web.photo_migrate import PhotoCopyError, copy_photos, migrate_photos
from web.photo_store import LocalPhotoStore, _write_atomic
from web.photos import Photo, process_photo
from web.s3_photo_store import S3PhotoStore
from web.settings import Settings, SettingsError


@functools.cache
def sample(shade: int) -> Photo:
    im = camera_like((360, 240))
    im.paste((shade, 255 - shade, 90), (0, 0, 120, 80))
    return process_photo(encode(im, "JPEG"))


async def listing(store: S3PhotoStore | LocalPhotoStore) -> list[tuple[str, bool]]:
    return sorted([(item.sha256, item.thumb) async for item in store.stored()])


@pytest.fixture
def city(settings: Settings) -> tuple[Settings, list[Photo], Photo]:
    """A deployment with three photos on two reports and one orphan from a dropped form."""
    store = LocalPhotoStore(settings.photo_dir)
    used = [sample(10), sample(80), sample(160)]
    orphan = sample(240)
    for photo in (*used, orphan):
        store._save_files(photo)
    add_report(settings, photos=used[:2])
    add_report(settings, photos=used[2:], confidential=True)
    return settings, used, orphan


async def test_every_photo_of_the_database_is_copied_with_its_thumbnail_and_verified(
    city: tuple[Settings, list[Photo], Photo], seaweedfs: SeaweedFS
) -> None:
    settings, used, orphan = city
    where = seaweedfs.location()
    source = LocalPhotoStore(settings.photo_dir)

    async with Database(settings.database) as db:
        report = await migrate_photos(db, source, where.url, seaweedfs.env())

    assert (report.referenced, report.copied, report.already_there) == (3, 3, 0)
    assert report.complete and not report.missing and not report.damaged
    assert "3 copied and verified" in report.summary()
    target = S3PhotoStore(where)
    assert await listing(target) == sorted(
        (p.sha256, thumb) for p in used for thumb in (False, True)
    )
    for photo in used:
        assert await target.read(photo.sha256) == photo.jpeg
        assert await target.read(photo.sha256, thumb=True) == photo.thumb
    assert not await target.exists(orphan.sha256)  # no report uses it: the sweep's, not ours

    # Again (or after an interruption): nothing to copy, and no refusal.
    again = await copy_photos(source, target, [p.sha256 for p in used])
    assert (again.copied, again.already_there, again.complete) == (0, 3, True)


async def test_an_interrupted_copy_is_finished_by_running_it_again(
    city: tuple[Settings, list[Photo], Photo], seaweedfs: SeaweedFS
) -> None:
    import obstore

    settings, used, _ = city
    source = LocalPhotoStore(settings.photo_dir)
    target = S3PhotoStore(seaweedfs.location())
    await target.save(used[0])
    # Cut between the thumbnail and the photo: the thumbnail goes first.
    sha = used[1].sha256
    await obstore.put_async(target._store, f"{sha[:2]}/{sha}.thumb.jpg", used[1].thumb)

    report = await copy_photos(source, target, [p.sha256 for p in used])

    assert (report.copied, report.already_there, report.complete) == (2, 1, True)
    assert len(await listing(target)) == 6


async def test_a_target_holding_another_deployments_photos_is_refused_before_any_write(
    city: tuple[Settings, list[Photo], Photo], seaweedfs: SeaweedFS
) -> None:
    settings, used, orphan = city
    source = LocalPhotoStore(settings.photo_dir)
    target = S3PhotoStore(seaweedfs.location())
    await target.save(orphan)  # a photo no report here uses: another city's

    with pytest.raises(PhotoCopyError, match="another deployment") as refused:
        await copy_photos(source, target, [p.sha256 for p in used])

    assert target.location in str(refused.value)
    assert await listing(target) == [(orphan.sha256, False), (orphan.sha256, True)]


async def test_a_target_holding_a_different_file_under_a_photos_name_is_refused(
    city: tuple[Settings, list[Photo], Photo], seaweedfs: SeaweedFS
) -> None:
    import obstore

    settings, used, _ = city
    source = LocalPhotoStore(settings.photo_dir)
    target = S3PhotoStore(seaweedfs.location())
    sha = used[1].sha256
    await obstore.put_async(target._store, f"{sha[:2]}/{sha}.thumb.jpg", b"another thumbnail")

    with pytest.raises(PhotoCopyError, match=f"different thumbnail of photo {sha}"):
        await copy_photos(source, target, [p.sha256 for p in used])

    assert await listing(target) == [(sha, True)]  # nothing written, nothing replaced


async def test_photos_missing_or_damaged_at_the_source_are_named_and_the_rest_copied(
    city: tuple[Settings, list[Photo], Photo], seaweedfs: SeaweedFS
) -> None:
    settings, used, _ = city
    source = LocalPhotoStore(settings.photo_dir)
    target = S3PhotoStore(seaweedfs.location())
    source.path(used[0].sha256).unlink()
    damaged = source.path(used[1].sha256)
    damaged.write_bytes(damaged.read_bytes()[:500])

    report = await copy_photos(source, target, [p.sha256 for p in used])

    assert (report.copied, report.missing, report.damaged) == (
        1,
        [used[0].sha256],
        [used[1].sha256],
    )
    assert not report.complete
    assert used[0].sha256 in report.summary() and "damaged" in report.summary()
    assert await listing(target) == [(used[2].sha256, False), (used[2].sha256, True)]


class ShortWritingStore(LocalPhotoStore):
    """A target that loses the end of what it is given, as a failing disk or a broken
    gateway would: the copy must notice by reading back."""

    async def save(self, photo: Photo) -> str:
        _write_atomic(self.path(photo.sha256, thumb=True), photo.thumb)
        _write_atomic(self.path(photo.sha256), photo.jpeg[:-100])
        return photo.sha256


async def test_a_copy_that_does_not_read_back_as_written_fails(
    city: tuple[Settings, list[Photo], Photo], tmp_path: Path
) -> None:
    settings, used, _ = city
    source = LocalPhotoStore(settings.photo_dir)
    with pytest.raises(PhotoCopyError, match="did not read back"):
        await copy_photos(source, ShortWritingStore(tmp_path / "target"), [used[0].sha256])


async def test_an_unusable_target_address_is_refused_with_its_reason(
    city: tuple[Settings, list[Photo], Photo],
) -> None:
    settings, _, _ = city
    async with Database(settings.database) as db:
        with pytest.raises(SettingsError, match="--photos must be an S3 address"):
            await migrate_photos(db, LocalPhotoStore(settings.photo_dir), "/mnt/foto", {})
