"""The outbox's endpoint: same fields as the form, JSON answers, idempotent on its key."""

from __future__ import annotations

import asyncio
import threading
import uuid
from io import BytesIO

import httpx2
import uvicorn
from PIL import Image, ImageCms

from tests.backend import query, scalar
from tests.conftest import make_settings
from tests.helpers import stored_photo
from tests.images import JAKARTA, RED, assert_clean_jpeg, camera_like, encode, exif_with, gps_tags
from web.app import create_app
from web.settings import Settings

FIELDS = {
    "category": "banjir",
    "area": "31.71.01.1002",
    "description": "Saluran air tersumbat, setiap hujan langsung tergenang.",
    "written_at": "2026-11-20T08:15:00+07:00",
}


def count(settings: Settings, sql: str = "SELECT COUNT(*) FROM reports") -> int:
    return int(scalar(settings, sql))


def test_created_report_answers_json_with_the_marker_header(client, settings: Settings) -> None:
    photo = encode(camera_like((1024, 768)), "JPEG")
    response = client.post(
        "/api/v1/reports",
        data=FIELDS,
        files=[("photos", ("a.jpg", photo, "image/jpeg"))],
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    assert response.status_code == 201
    body = response.json()
    assert response.headers["x-aduan-code"] == body["code"]
    assert body["tracking_url"] == f"/t/{body['code']}"
    assert body["display_code"] == f"{body['code'][:4]}-{body['code'][4:]}"
    assert body["private_url"].startswith(f"/t/{body['code']}/p/")
    channel, written, received = query(
        settings, "SELECT channel, written_at, received_at FROM reports"
    )[0].astuple()
    assert channel == "outbox" and written == "2026-11-20T01:15:00Z" and received > written
    page = client.get(body["tracking_url"]).text
    assert "Ditulis di HP" in page and "20 Nov 2026 08.15 WIB" in page


def test_a_sequential_replay_returns_the_same_report(client, settings: Settings) -> None:
    key = str(uuid.uuid4())
    first = client.post("/api/v1/reports", data=FIELDS, headers={"Idempotency-Key": key})
    again = client.post("/api/v1/reports", data=FIELDS, headers={"Idempotency-Key": key})
    assert first.status_code == 201 and again.status_code == 200
    assert again.json()["code"] == first.json()["code"]
    assert again.headers["x-aduan-code"] == first.json()["code"]
    assert count(settings) == 1


def test_the_same_key_with_different_content_is_refused(client, settings: Settings) -> None:
    key = str(uuid.uuid4())
    assert (
        client.post("/api/v1/reports", data=FIELDS, headers={"Idempotency-Key": key}).status_code
        == 201
    )
    other = client.post(
        "/api/v1/reports",
        data={**FIELDS, "description": "Sesuatu yang lain."},
        headers={"Idempotency-Key": key},
    )
    assert other.status_code == 422 and other.json()["code"] == "idempotency_mismatch"
    assert "x-aduan-code" not in other.headers
    assert count(settings) == 1


def test_validation_errors_come_back_by_field_without_the_marker(client, settings) -> None:
    response = client.post(
        "/api/v1/reports",
        data={**FIELDS, "area": "31.71"},
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    assert response.status_code == 422
    assert set(response.json()["errors"]) == {"area"}
    assert "x-aduan-code" not in response.headers
    assert count(settings) == 0


def test_twenty_parallel_replays_of_one_key_make_one_report(settings: Settings) -> None:
    """Against a real uvicorn server, as phones retrying over a flaky link would."""
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(make_settings(settings.data_dir, "http://127.0.0.1", settings.database_url)),
            host="127.0.0.1",
            port=0,
            log_level="warning",
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        threading.Event().wait(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    key = str(uuid.uuid4())
    photo = encode(camera_like((1600, 1200)), "JPEG")

    async def replay(client: httpx2.AsyncClient) -> httpx2.Response:
        return await client.post(
            f"http://127.0.0.1:{port}/api/v1/reports",
            data=FIELDS,
            files=[("photos", ("a.jpg", photo, "image/jpeg"))],
            headers={"Idempotency-Key": key},
        )

    async def all_at_once() -> list[httpx2.Response]:
        async with httpx2.AsyncClient(timeout=60) as client:
            return await asyncio.gather(*(replay(client) for _ in range(20)))

    try:
        responses = asyncio.run(all_at_once())
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    assert sorted(r.status_code for r in responses) == [200] * 19 + [201]
    assert len({r.json()["code"] for r in responses}) == 1
    assert count(settings) == 1
    assert count(settings, "SELECT COUNT(*) FROM photos") == 1
    assert count(settings, "SELECT COUNT(*) FROM report_events") == 1


def test_the_position_read_on_the_phone_is_kept_for_staff_when_nothing_was_typed(
    client, settings: Settings
) -> None:
    def post(**extra: str) -> None:
        response = client.post(
            "/api/v1/reports",
            data={**FIELDS, **extra},
            headers={"Idempotency-Key": str(uuid.uuid4())},
        )
        assert response.status_code == 201

    post(photo_lat="-6.1754", photo_lon="106.8272")
    post(photo_lat="48.85", photo_lon="2.35")  # not in Indonesia: ignored
    post(photo_lat="-6.1754", photo_lon="106.8272", lat="-6.2", lon="106.8")  # typed wins
    rows = [
        r.astuple()
        for r in query(settings, "SELECT lat, lon, location_source FROM reports ORDER BY id")
    ]
    assert rows == [(-6.1754, 106.8272, "photo"), (None, None, None), (-6.2, 106.8, "form")]


def test_a_webp_photo_from_the_phone_is_stored_as_a_jpeg_without_its_metadata(
    client, settings: Settings
) -> None:
    # What photo-shrink.js sends where the browser encodes WebP; this one also carries what a
    # WebP may hold (EXIF with the Make and GPS, XMP, an ICC profile), none of which is kept.
    im = camera_like((1600, 1200))
    im.paste(RED, (0, 0, 200, 200))
    photo = encode(
        im,
        "WEBP",
        quality=70,
        exif=exif_with(gps=gps_tags(*JAKARTA)),
        xmp=b'<x:xmpmeta xmlns:x="adobe:ns:meta/">Jl. Rumah Saya 1</x:xmpmeta>',
        icc_profile=ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes(),
    )
    assert Image.open(BytesIO(photo)).getexif()[0x010F] == "PhoneMaker"
    response = client.post(
        "/api/v1/reports",
        data=FIELDS,
        files=[("photos", ("foto.webp", photo, "image/webp"))],
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    assert response.status_code == 201, response.text
    sha, width, height = query(settings, "SELECT sha256, width, height FROM photos")[0].astuple()
    stored = stored_photo(settings, sha)
    assert stored is not None
    kept = assert_clean_jpeg(stored)
    assert (kept.width, kept.height) == (width, height) == (1600, 1200)
    assert kept.getpixel((50, 50))[0] > 200  # the photo itself, upright
    assert b"Rumah Saya" not in stored and b"PhoneMaker" not in stored
