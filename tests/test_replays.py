"""Replays of the outbox's submissions: answered before any photo is decoded, and with the
report's private link only to the device that sent the original."""

from __future__ import annotations

import asyncio
import hashlib
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
import uvicorn
from PIL import Image
from starlette.testclient import TestClient

from tests.backend import query, scalar
from tests.browser.test_offline import phone_photo
from tests.conftest import make_settings
from tests.images import camera_like, encode
from web.app import create_app
from web.settings import Settings

FIELDS = {
    "category": "banjir",
    "area": "31.71.01.1002",
    "description": "Saluran air tersumbat, setiap hujan langsung tergenang.",
    "written_at": "2026-11-20T08:15:00+07:00",
}
DEVICE = "perangkat-" + "a" * 40
PRIVATE_KEYS = {"receipt_url", "private_url"}


@pytest.fixture
def jpeg_decoders_opened(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many times Pillow opens a JPEG in this process, counted in Pillow's own registry
    of format openers (our code is untouched)."""
    Image.init()
    factory, accept = Image.OPEN["JPEG"]
    opened: list[int] = []

    def counting(*args: Any, **kwargs: Any) -> Any:
        opened.append(1)
        return factory(*args, **kwargs)

    monkeypatch.setitem(Image.OPEN, "JPEG", (counting, accept))
    return opened


def submit(client: TestClient, key: str, device: str | None = None, **extra: Any) -> Any:
    headers = {"Idempotency-Key": key}
    if device is not None:
        headers["X-Aduan-Device"] = device
    return client.post("/api/v1/reports", data=FIELDS, headers=headers, **extra)


def private_token_of(answer: dict[str, str]) -> str:
    return answer["private_url"].rsplit("/", 1)[1]


def leaks(response: Any, token: str) -> bool:
    return token in response.text or any(token in v for v in response.headers.values())


# --- the private link goes only to the device that sent the report -------------------------


def test_a_replay_from_the_same_device_gets_the_private_link_again(client: TestClient) -> None:
    key = str(uuid.uuid4())
    first = submit(client, key, DEVICE)
    again = submit(client, key, DEVICE)
    assert first.status_code == 201 and again.status_code == 200
    assert again.json() == first.json()
    assert PRIVATE_KEYS <= set(again.json())


def test_another_device_replaying_a_key_learns_only_the_public_code(
    settings: Settings, client: TestClient
) -> None:
    key = str(uuid.uuid4())
    first = submit(client, key, DEVICE).json()
    token = private_token_of(first)
    app = create_app(settings)
    with TestClient(app, client=("198.51.100.20", 40000)) as stranger:
        for device in ("perangkat-" + "b" * 40, None, "pendek"):  # another, none, unusable
            replay = submit(stranger, key, device)
            assert replay.status_code == 200
            assert replay.json() == {
                "code": first["code"],
                "display_code": first["display_code"],
                "tracking_url": first["tracking_url"],
            }
            assert replay.headers["x-aduan-code"] == first["code"]
            assert not leaks(replay, token)
    # The phone that sent it, now at another address (mobile networks change them), still
    # gets its links: the device is what counts, never the address.
    with TestClient(app, client=("203.0.113.77", 40000)) as same_phone_elsewhere:
        assert submit(same_phone_elsewhere, key, DEVICE).json() == first


def test_a_report_sent_without_a_device_gives_no_replay_its_private_link(
    client: TestClient,
) -> None:
    key = str(uuid.uuid4())
    first = submit(client, key).json()
    replay = submit(client, key)
    assert replay.status_code == 200 and not PRIVATE_KEYS & set(replay.json())
    assert not leaks(replay, private_token_of(first))


def test_only_a_hash_of_the_device_secret_is_stored(client: TestClient, settings: Settings) -> None:
    submit(client, str(uuid.uuid4()), DEVICE)
    stored = scalar(settings, "SELECT idempotency_device FROM reports")
    assert stored == hashlib.sha256(DEVICE.encode()).hexdigest()
    dump = repr(query(settings, "SELECT * FROM reports"))
    assert DEVICE not in dump
    if settings.uses_sqlite:
        data = b"".join(p.read_bytes() for p in settings.data_dir.glob("aduan.sqlite3*"))
        assert DEVICE.encode() not in data


# --- a replay decodes no photo --------------------------------------------------------------


def test_a_replay_is_answered_without_opening_its_photos(
    client: TestClient, jpeg_decoders_opened: list[int]
) -> None:
    key = str(uuid.uuid4())
    photos = [
        ("photos", (f"{n}.jpg", encode(camera_like((1600, 1200)), "JPEG"), "image/jpeg"))
        for n in range(2)
    ]
    first = submit(client, key, DEVICE, files=photos)
    assert first.status_code == 201 and len(jpeg_decoders_opened) == 2
    for _ in range(5):
        again = submit(client, key, DEVICE, files=photos)
        assert again.status_code == 200 and again.json() == first.json()
    assert len(jpeg_decoders_opened) == 2
    # The same key with other photo bytes is another report's content: refused, as before.
    other = [("photos", ("0.jpg", encode(camera_like((1600, 1200)), "JPEG"), "image/jpeg"))]
    refused = submit(client, key, DEVICE, files=other)
    assert refused.status_code == 422 and refused.json()["code"] == "idempotency_mismatch"


@pytest.fixture
def server(settings: Settings) -> Iterator[str]:
    app = create_app(make_settings(settings.data_dir, "http://127.0.0.1", settings.database_url))
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning")
    served = uvicorn.Server(config)
    thread = threading.Thread(target=served.run, daemon=True)
    thread.start()
    while not served.started:
        time.sleep(0.02)
    port = served.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        served.should_exit = True
        thread.join(timeout=10)


def test_twenty_parallel_replays_of_a_12_mp_photo_cost_less_than_the_original(
    server: str, tmp_path: Path
) -> None:
    photo = phone_photo(tmp_path).read_bytes()  # 4000 x 3000, ~2 MB
    key = str(uuid.uuid4())

    async def send(client: httpx2.AsyncClient) -> httpx2.Response:
        return await client.post(
            f"{server}/api/v1/reports",
            data=FIELDS,
            files=[("photos", ("IMG.jpg", photo, "image/jpeg"))],
            headers={"Idempotency-Key": key, "X-Aduan-Device": DEVICE},
        )

    async def run() -> tuple[float, float, list[httpx2.Response]]:
        async with httpx2.AsyncClient(timeout=120) as client:
            started = time.perf_counter()
            first = await send(client)
            original = time.perf_counter() - started
            assert first.status_code == 201
            started = time.perf_counter()
            replays = await asyncio.gather(*(send(client) for _ in range(20)))
            return original, time.perf_counter() - started, [first, *replays]

    original, replays, responses = asyncio.run(run())
    assert [r.status_code for r in responses[1:]] == [200] * 20
    assert len({r.json()["code"] for r in responses}) == 1
    # Decoding the photo again for each replay took 8 times the original here (two cores);
    # reading and hashing 20 uploads takes about as long as the original's one decode.
    assert replays < original * 4, (original, replays)
