"""The photo store (web/photo_store.py): the same tests on files in a folder and on a real
SeaweedFS bucket (tests/seaweedfs.py), with real photos made by Pillow."""

from __future__ import annotations

import asyncio
import functools
import hashlib
import os
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from db.database import Database
from tests.helpers import add_report
from tests.images import RED, camera_like, encode
from tests.seaweedfs import SeaweedFS
from web import errors
from web.photo_store import (
    LocalPhotoStore,
    PhotoStore,
    PhotoStoreUnavailable,
    StoredObject,
    open_photo_store,
)
from web.photos import Photo, process_photo
from web.s3_photo_store import S3PhotoStore
from web.settings import S3Location, Settings
from web.tasks import sweep_photos

DAY = 86400


@functools.cache
def sample(colour: tuple[int, int, int]) -> Photo:
    im = camera_like((320, 240))
    im.paste(colour, (0, 0, 100, 100))
    return process_photo(encode(im, "JPEG"))


GREEN, BLUE = (0, 255, 0), (0, 0, 255)


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> PhotoStore:
    if request.param == "local":
        return LocalPhotoStore(tmp_path / "photos")
    seaweedfs: SeaweedFS = request.getfixturevalue("seaweedfs")
    return S3PhotoStore(seaweedfs.location())


async def listing(store: PhotoStore) -> list[tuple[str, bool]]:
    return sorted([(item.sha256, item.thumb) async for item in store.stored()])


async def opened_bytes(store: PhotoStore, sha: str, thumb: bool = False) -> bytes:
    opened = await store.open(sha, thumb=thumb)
    assert opened is not None
    if opened.path is not None:
        data = opened.path.read_bytes()
    else:
        assert opened.chunks is not None
        data = b"".join([chunk async for chunk in opened.chunks])
    assert opened.size == len(data)
    return data


async def test_a_saved_photo_and_its_thumbnail_read_back_whole_and_save_is_idempotent(
    store: PhotoStore,
) -> None:
    photo = sample(RED)
    assert await store.save(photo) == photo.sha256
    assert await store.exists(photo.sha256)
    assert await store.read(photo.sha256) == photo.jpeg
    assert await store.read(photo.sha256, thumb=True) == photo.thumb
    assert await opened_bytes(store, photo.sha256) == photo.jpeg
    assert await opened_bytes(store, photo.sha256, thumb=True) == photo.thumb

    assert await store.save(photo) == photo.sha256
    assert await store.read(photo.sha256) == photo.jpeg
    assert await listing(store) == [(photo.sha256, False), (photo.sha256, True)]


async def test_photos_are_named_by_their_hash_in_a_folder_of_its_first_two_characters(
    store: PhotoStore, tmp_path: Path
) -> None:
    photo = sample(RED)
    await store.save(photo)
    sha = photo.sha256
    if isinstance(store, LocalPhotoStore):
        folder = tmp_path / "photos" / sha[:2]
        assert sorted(p.name for p in folder.iterdir()) == [f"{sha}.jpg", f"{sha}.thumb.jpg"]
        assert store.path(sha) == folder / f"{sha}.jpg"
    else:
        import obstore

        assert isinstance(store, S3PhotoStore)
        prefix = store.where.prefix
        bucket = S3PhotoStore(S3Location(**{**vars(store.where), "prefix": ""}))
        keys = {m["path"] for m in await obstore.list(bucket._store, prefix).collect_async()}
        assert keys == {f"{prefix}/{sha[:2]}/{sha}.jpg", f"{prefix}/{sha[:2]}/{sha}.thumb.jpg"}


async def test_a_missing_photo_is_none_not_an_error(store: PhotoStore) -> None:
    sha = sample(GREEN).sha256
    assert not await store.exists(sha)
    assert await store.open(sha) is None
    assert await store.read(sha, thumb=True) is None
    await store.delete(sha)  # nothing to delete: no error


async def test_save_refuses_a_photo_whose_hash_does_not_match_its_bytes(store: PhotoStore) -> None:
    photo = sample(RED)
    forged = Photo(photo.sha256, 1, 1, jpeg=b"other", thumb=photo.thumb)
    held = Photo(photo.sha256, photo.width, photo.height)  # as a signed token brings it back
    for bad in (forged, held):
        with pytest.raises(ValueError):
            await store.save(bad)
    assert not await store.exists(photo.sha256)
    assert await listing(store) == []


@pytest.mark.parametrize(
    "bad", ["../etc/passwd", "../" + "a" * 61, "A" * 64, "g" * 64, "a" * 63, "a" * 65, ""]
)
async def test_every_method_refuses_anything_but_64_lowercase_hex(
    store: PhotoStore, bad: str
) -> None:
    with pytest.raises(ValueError):
        await store.exists(bad)
    with pytest.raises(ValueError):
        await store.open(bad, thumb=True)
    with pytest.raises(ValueError):
        await store.read(bad)
    with pytest.raises(ValueError):
        await store.delete(bad)


async def test_delete_removes_the_photo_and_its_thumbnail(store: PhotoStore) -> None:
    photo, other = sample(RED), sample(GREEN)
    await store.save(photo)
    await store.save(other)
    await store.delete(photo.sha256)
    assert not await store.exists(photo.sha256)
    assert await store.read(photo.sha256, thumb=True) is None
    assert await listing(store) == [(other.sha256, False), (other.sha256, True)]


async def test_sweep_removes_only_unreferenced_photos_older_than_the_limit(
    store: PhotoStore,
) -> None:
    kept, orphan = sample(RED), sample(GREEN)
    await store.save(kept)
    await store.save(orphan)
    # A day and a minute from now, both are old; an hour from now, neither is.
    assert await store.sweep({kept.sha256}, DAY, now=time.time() + 3600) == 0
    assert await store.sweep({kept.sha256}, DAY, now=time.time() + DAY + 60) == 1
    assert await store.exists(kept.sha256) and await store.read(kept.sha256, thumb=True)
    assert not await store.exists(orphan.sha256)
    assert await store.read(orphan.sha256, thumb=True) is None
    assert await listing(store) == [(kept.sha256, False), (kept.sha256, True)]


async def test_saving_an_old_orphan_again_protects_it_from_the_sweep(store: PhotoStore) -> None:
    """On disk the save touches the files; on S3 it PUTs both objects again, which gives
    them a new Last-Modified (kept to the second: hence the pauses)."""
    photo = sample(RED)
    await store.save(photo)
    await asyncio.sleep(1.1)
    cutoff = time.time()  # saved before this, the photo would be swept
    await asyncio.sleep(1.1)

    await store.save(photo)  # the same picture is sent again with a new report

    assert await store.sweep(set(), 0, now=cutoff) == 0
    assert await store.exists(photo.sha256) and await store.read(photo.sha256, thumb=True)


async def test_a_file_saved_again_after_the_listing_is_not_deleted(store: PhotoStore) -> None:
    """The sweep looks at each file's age once more just before deleting it, so a save that
    lands between the listing and the deletion keeps the photo."""
    photo = sample(RED)
    await store.save(photo)
    listed = [item async for item in store.stored()]
    await asyncio.sleep(1.1)
    cutoff = time.time()
    await asyncio.sleep(1.1)
    await store.save(photo)
    for item in listed:
        assert item.modified < cutoff  # as the sweep saw it
        assert not await store._remove_if_older(item, cutoff)
    assert await listing(store) == [(photo.sha256, False), (photo.sha256, True)]


async def test_the_hourly_sweep_keeps_photos_of_reports_and_removes_old_orphans(
    store: PhotoStore, settings: Settings
) -> None:
    used, orphan, fresh_orphan = sample(RED), sample(GREEN), sample(BLUE)
    await store.save(used)
    await store.save(orphan)
    await asyncio.sleep(1.1)
    cutoff = time.time()
    await asyncio.sleep(1.1)
    await store.save(fresh_orphan)  # its form may be committing right now
    add_report(settings, photos=[used])

    async with Database(settings.database) as db:
        assert await sweep_photos(db, store, older_than=time.time() - cutoff) == 1

    assert await store.exists(used.sha256) and await store.exists(fresh_orphan.sha256)
    assert not await store.exists(orphan.sha256)


async def test_sweep_of_a_store_never_written_removes_nothing(store: PhotoStore) -> None:
    assert await store.sweep(set(), 0) == 0


# --- on disk ----------------------------------------------------------------------------------


def age(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


async def test_on_disk_the_sweep_removes_stale_temp_files_and_leaves_strangers(
    tmp_path: Path,
) -> None:
    store = LocalPhotoStore(tmp_path)
    photo = sample(RED)
    await store.save(photo)
    assert not await asyncio.to_thread(lambda: list(tmp_path.rglob("*.tmp")))
    stale_temp = store.path(photo.sha256).parent / ".abc123.tmp"
    stale_temp.write_bytes(b"half a photo")
    age(stale_temp, 2 * DAY)
    fresh_temp = store.path(photo.sha256).parent / ".def456.tmp"
    fresh_temp.write_bytes(b"being written")
    stranger = tmp_path / "README"
    stranger.write_text("not ours")

    assert await store.sweep({photo.sha256}) == 0

    assert not stale_temp.exists() and fresh_temp.exists() and stranger.exists()
    assert await store.exists(photo.sha256)


async def test_on_disk_an_aged_file_is_swept_by_its_modification_time(tmp_path: Path) -> None:
    store = LocalPhotoStore(tmp_path)
    old, young = sample(RED), sample(GREEN)
    for photo in (old, young):
        await store.save(photo)
    for thumb in (False, True):
        age(store.path(old.sha256, thumb), 2 * DAY)
    assert await store.sweep(set()) == 1
    assert not await store.exists(old.sha256) and await store.exists(young.sha256)


# --- on S3 ------------------------------------------------------------------------------------


async def test_the_bucket_is_private_a_photo_has_no_address_that_works_without_keys(
    seaweedfs: SeaweedFS,
) -> None:
    where = seaweedfs.location()
    store = S3PhotoStore(where)
    photo = sample(RED)
    await store.save(photo)
    url = (
        f"{where.endpoint_url}/{where.bucket}/{where.prefix}/{photo.sha256[:2]}/{photo.sha256}.jpg"
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        await asyncio.to_thread(urllib.request.urlopen, url, timeout=5)
    refused.value.close()
    assert refused.value.code == 403
    assert await store.read(photo.sha256) == photo.jpeg  # signed, it is there


async def test_on_s3_each_prefix_is_its_own_store_and_foreign_objects_are_never_swept(
    seaweedfs: SeaweedFS,
) -> None:
    import obstore

    city = seaweedfs.location()
    store, other = S3PhotoStore(city), S3PhotoStore(seaweedfs.location())
    photo = sample(RED)
    await store.save(photo)
    await other.save(sample(GREEN))
    # Objects under the prefix that Aduan did not name: a note, a wrong shard, a bad hash.
    foreign = ["LIHAT.txt", f"zz/{photo.sha256}.jpg", f"{photo.sha256[:2]}/{'F' * 64}.jpg"]
    for key in foreign:
        await obstore.put_async(store._store, key, b"not a photo")

    assert await listing(store) == [(photo.sha256, False), (photo.sha256, True)]
    assert await store.sweep(set(), 0, now=time.time() + 2 * DAY) == 1

    assert await listing(store) == []
    assert await listing(other) == [(sample(GREEN).sha256, False), (sample(GREEN).sha256, True)]
    for key in foreign:
        assert bytes(await (await obstore.get_async(store._store, key)).bytes_async())


async def test_an_unreachable_or_refusing_store_is_a_storage_error_naming_no_secret(
    seaweedfs: SeaweedFS,
) -> None:
    """web/errors.py answers these 503 with Retry-After, as it does for a full disk."""
    from tests.seaweedfs import free_ports

    where = seaweedfs.location()
    wrong_key = S3PhotoStore(S3Location(**{**vars(where), "secret_access_key": "wrong" * 8}))
    (port,) = free_ports(1)
    nobody = S3PhotoStore(S3Location(**{**vars(where), "endpoint_url": f"http://127.0.0.1:{port}"}))
    no_bucket = S3PhotoStore(S3Location(**{**vars(where), "bucket": "no-such-bucket"}))
    for broken in (wrong_key, nobody, no_bucket):
        with pytest.raises(PhotoStoreUnavailable) as failed:
            await broken.save(sample(RED))
        assert isinstance(failed.value, OSError) and errors.is_storage_error(failed.value)
        assert where.secret_access_key not in str(failed.value)
    # A HEAD has no body to tell a missing bucket from a missing photo: only the others.
    for broken in (wrong_key, nobody):
        with pytest.raises(PhotoStoreUnavailable):
            await broken.exists(sample(RED).sha256)
        with pytest.raises(PhotoStoreUnavailable):
            await broken.open(sample(RED).sha256)


def test_the_settings_choose_the_store(tmp_path: Path, seaweedfs: SeaweedFS) -> None:
    local = open_photo_store(Settings(data_dir=tmp_path, secret_key="k" * 40))
    assert isinstance(local, LocalPhotoStore) and local.root == tmp_path / "photos"
    env = {
        "ADUAN_DATA_DIR": str(tmp_path),
        "ADUAN_SECRET_KEY": "k" * 40,
        "ADUAN_PHOTO_STORE": "s3://aduan-photos/kota/bogor/",
        **seaweedfs.env(),
    }
    s3 = open_photo_store(Settings.from_env(env))
    assert isinstance(s3, S3PhotoStore)
    assert s3.location == "s3://aduan-photos/kota/bogor"
    assert "secret" not in repr(s3) and seaweedfs.env()["AWS_SECRET_ACCESS_KEY"] not in repr(s3)


async def hashes(items: AsyncIterator[StoredObject]) -> set[str]:
    return {item.sha256 async for item in items}


async def test_a_photo_read_back_hashes_to_its_name(store: PhotoStore) -> None:
    photo = sample(BLUE)
    await store.save(photo)
    data = await store.read(photo.sha256)
    assert data is not None and hashlib.sha256(data).hexdigest() == photo.sha256
    assert await hashes(store.stored()) == {photo.sha256}
