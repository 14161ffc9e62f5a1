"""The app with its photos in a private bucket of a real SeaweedFS (ADUAN_PHOTO_STORE):
reports filed through the form and the outbox store their photos there and serve them back
through Aduan with the same headers as from disk, confidential photos stay private, photos
held by a refused form come back, and the hourly sweep removes orphans from the bucket."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import html
import re
import time
import uuid
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from db.database import Database
from tests.backend import query
from tests.helpers import GAMBIR, add_account, login, run_async
from tests.images import camera_like, encode
from tests.seaweedfs import SeaweedFS
from web.app import create_app
from web.photos import process_photo
from web.s3_photo_store import S3PhotoStore
from web.settings import Settings
from web.tasks import sweep_photos

FIELDS = {
    "category": "jalan",
    "area": GAMBIR,
    "description": "Jalan berlubang dalam di depan sekolah, motor sering jatuh.",
}
PUBLIC = "public, max-age=31536000, immutable"


@pytest.fixture
def s3_settings(settings: Settings, seaweedfs: SeaweedFS) -> Settings:
    """Photos in a bucket on either database (on PostgreSQL `settings` has one already)."""
    return dataclasses.replace(settings, photo_store=seaweedfs.location())


@pytest.fixture
def s3_client(s3_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(s3_settings)) as client:
        yield client


def jpeg(width: int) -> bytes:
    return encode(camera_like((width, width * 3 // 4)), "JPEG", quality=85)


def shas(settings: Settings) -> list[str]:
    return [row["sha256"] for row in query(settings, "SELECT sha256 FROM photos ORDER BY id")]


def in_bucket(settings: Settings) -> list[tuple[str, bool]]:
    assert settings.photo_store is not None
    store = S3PhotoStore(settings.photo_store)

    async def listing() -> list[tuple[str, bool]]:
        return sorted([(item.sha256, item.thumb) async for item in store.stored()])

    return run_async(listing())


def assert_only_in_bucket(settings: Settings, sha: str) -> None:
    assert {(sha, False), (sha, True)} <= set(in_bucket(settings))
    assert not list(settings.photo_dir.rglob(f"{sha}*"))


def assert_served_as(response, cache: str) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/jpeg"
    assert response.headers["cache-control"] == cache
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-disposition"] == "inline"
    assert response.headers["content-length"] == str(len(response.content))
    assert response.content[:3] == b"\xff\xd8\xff"


def test_a_report_filed_through_the_form_keeps_its_photos_in_the_bucket_and_serves_them(
    s3_client: TestClient, s3_settings: Settings
) -> None:
    response = s3_client.post(
        "/lapor",
        data=FIELDS,
        files=[
            ("photos", ("depan.jpg", jpeg(1200), "image/jpeg")),
            ("photos", ("samping.jpg", jpeg(900), "image/jpeg")),
        ],
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    code = re.search(r"/t/(\w{8})/struk", response.headers["location"])[1]
    stored = shas(s3_settings)
    assert len(stored) == 2
    assert in_bucket(s3_settings) == sorted((s, t) for s in stored for t in (False, True))
    assert not s3_settings.photo_dir.exists() or not any(s3_settings.photo_dir.rglob("*.jpg"))

    page = s3_client.get(f"/t/{code}").text
    for sha in stored:
        assert f"/foto/{sha}" in page
        photo = s3_client.get(f"/foto/{sha}.jpg")
        assert_served_as(photo, PUBLIC)
        assert hashlib.sha256(photo.content).hexdigest() == sha
        assert_served_as(s3_client.get(f"/foto/{sha}.thumb.jpg"), PUBLIC)
    missing = "0" * 64
    assert s3_client.get(f"/foto/{missing}.jpg").status_code == 404


def test_a_report_sent_by_the_outbox_keeps_its_photo_in_the_bucket(
    s3_client: TestClient, s3_settings: Settings
) -> None:
    response = s3_client.post(
        "/api/v1/reports",
        data={**FIELDS, "category": "banjir"},
        files=[("photos", ("a.jpg", jpeg(1024), "image/jpeg"))],
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    assert response.status_code == 201, response.text
    (sha,) = shas(s3_settings)
    assert (sha, False) in in_bucket(s3_settings)
    assert sha in s3_client.get(response.json()["tracking_url"]).text
    served = s3_client.get(f"/foto/{sha}.jpg")
    assert_served_as(served, PUBLIC)
    assert hashlib.sha256(served.content).hexdigest() == sha


def test_a_confidential_reports_photo_is_served_only_through_its_private_link_and_to_staff(
    s3_client: TestClient, s3_settings: Settings
) -> None:
    response = s3_client.post(
        "/lapor",
        data={**FIELDS, "category": "pungli", "confidential": "1"},
        files=[("photos", ("a.jpg", jpeg(800), "image/jpeg"))],
        follow_redirects=False,
    )
    code, token = re.search(r"/t/(\w{8})/struk\?k=(\S+)", response.headers["location"]).groups()
    (sha,) = shas(s3_settings)
    assert_only_in_bucket(s3_settings, sha)

    assert s3_client.get(f"/foto/{sha}.jpg").status_code == 404
    assert s3_client.get(f"/foto/{sha}.thumb.jpg").status_code == 404
    assert sha not in s3_client.get(f"/t/{code}").text
    assert_served_as(s3_client.get(f"/t/{code}/p/{token}/foto/{sha}.jpg"), "private, no-store")
    assert s3_client.get(f"/t/{code}/p/not-the-token/foto/{sha}.jpg").status_code == 404

    add_account(s3_settings, "admin", "admin")
    assert login(s3_client, "admin").status_code == 303
    assert_served_as(s3_client.get(f"/staf/foto/{sha}"), "private, no-store")
    assert_served_as(s3_client.get(f"/staf/foto/{sha}?kecil=1"), "private, no-store")


def test_a_photo_held_by_a_refused_form_comes_back_from_the_bucket(
    s3_client: TestClient, s3_settings: Settings
) -> None:
    first = s3_client.post(
        "/lapor",
        data={**FIELDS, "description": ""},
        files=[("photos", ("jalan.jpg", jpeg(1000), "image/jpeg"))],
        follow_redirects=False,
    )
    assert first.status_code == 422
    held = re.search(r'name="held_photos" value="([^"]+)"', first.text)[1]
    thumb = html.unescape(re.search(r'<img src="(/lapor/foto/[^"]+)"', first.text)[1])
    assert_only_in_bucket(s3_settings, thumb.split("/")[3].split("?")[0])
    assert_served_as(s3_client.get(thumb), "private, no-store")

    second = s3_client.post("/lapor", data={**FIELDS, "held_photos": held}, follow_redirects=False)
    assert second.status_code == 303
    (sha,) = shas(s3_settings)
    assert_served_as(s3_client.get(f"/foto/{sha}.jpg"), PUBLIC)


def test_the_hourly_sweep_removes_an_orphan_from_the_bucket_and_keeps_report_photos(
    s3_client: TestClient, s3_settings: Settings
) -> None:
    response = s3_client.post(
        "/lapor",
        data=FIELDS,
        files=[("photos", ("a.jpg", jpeg(700), "image/jpeg"))],
        follow_redirects=False,
    )
    assert response.status_code == 303
    (used,) = shas(s3_settings)
    store = s3_client.app.state.photo_store  # type: ignore[attr-defined]
    orphan = process_photo(jpeg(600))  # saved by a form that was never completed
    run_async(store.save(orphan))
    time.sleep(1.1)
    cutoff = time.time()
    time.sleep(1.1)
    fresh = process_photo(jpeg(500))  # its form may be committing right now
    run_async(store.save(fresh))

    async def sweep() -> int:
        async with Database(s3_settings.database) as db:
            return await sweep_photos(db, store, older_than=time.time() - cutoff)

    assert asyncio.run(sweep()) == 1

    assert in_bucket(s3_settings) == sorted(
        (sha, thumb) for sha in (used, fresh.sha256) for thumb in (False, True)
    )
    assert_served_as(s3_client.get(f"/foto/{used}.jpg"), PUBLIC)


def test_a_bucket_that_refuses_the_photo_answers_503_and_keeps_the_form(
    settings: Settings, seaweedfs: SeaweedFS
) -> None:
    """As for a full disk (tests/test_errors.py): the resident loses nothing typed, the
    outbox keeps the report and sends it again after Retry-After."""
    where = dataclasses.replace(seaweedfs.location(), bucket="no-such-bucket")
    photo = ("photos", ("jalan.jpg", jpeg(800), "image/jpeg"))
    with TestClient(create_app(dataclasses.replace(settings, photo_store=where))) as client:
        page = client.post("/lapor", data=FIELDS, files=[photo])
        api = client.post(
            "/api/v1/reports",
            data=FIELDS,
            files=[photo],
            headers={"Idempotency-Key": str(uuid.uuid4())},
        )
    assert page.status_code == 503 and page.headers["retry-after"] == "120"
    assert "Server sedang tidak bisa menyimpan laporan" in page.text
    assert "Jalan berlubang dalam di depan sekolah" in page.text
    assert api.status_code == 503 and api.json()["code"] == "storage_unavailable"
    assert shas(settings) == []
