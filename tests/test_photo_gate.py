"""A crowd of photo uploads (web/photo_gate.py): a few decode at once, a short queue waits,
and beyond it the server answers 503 with Retry-After, keeping what the resident typed.

The app runs as in production on its own event loop (TestClient's portal); the test holds
every photo slot of that loop, as photos being decoded would, and real uploads come in.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable

from starlette.testclient import TestClient

from tests.backend import scalar
from tests.images import camera_like, encode
from tests.test_errors import FIELDS
from web import photo_gate
from web.app import create_app
from web.settings import Settings


def photo() -> tuple[str, tuple[str, bytes, str]]:
    return ("photos", ("jalan.jpg", encode(camera_like((800, 600)), "JPEG"), "image/jpeg"))


def report_count(settings: Settings) -> int:
    return int(scalar(settings, "SELECT COUNT(*) FROM reports"))


def hold_every_slot(client: TestClient, seconds_per_photo: float) -> Callable[[], None]:
    """Take every photo slot of the app's event loop, as photos being decoded would, each
    taking `seconds_per_photo` as far as the server can tell; returns what frees them."""
    assert client.portal is not None

    async def hold() -> tuple[photo_gate.Gate, list[object]]:
        gate = photo_gate.current_gate()
        holders = [object() for _ in range(gate.slots)]
        for holder in holders:
            await gate.limiter.acquire_on_behalf_of(holder)
        gate.seconds = seconds_per_photo
        return gate, holders

    gate, holders = client.portal.call(hold)

    async def release() -> None:
        for holder in holders:
            gate.limiter.release_on_behalf_of(holder)

    return lambda: client.portal.call(release)  # type: ignore[union-attr]


def test_a_busy_server_answers_503_with_retry_after_and_keeps_the_form(settings: Settings):
    with TestClient(create_app(settings)) as client:
        release = hold_every_slot(client, seconds_per_photo=60)
        page = client.post("/lapor", data=FIELDS, files=[photo()])
        release()
        again = client.post("/lapor", data=FIELDS, files=[photo()], follow_redirects=False)

    # Two slots busy for a minute each: the photo would wait half a minute.
    assert page.status_code == 503 and page.headers["retry-after"] == "30"
    assert page.headers["cache-control"] == "no-store"
    assert "Server sedang sibuk mengolah banyak foto. Coba kirim lagi dalam 30 detik." in page.text
    assert FIELDS["description"] in page.text and 'value="Gang Kelor depan masjid"' in page.text
    assert 'value="Siti Aminah"' in page.text
    assert '<option value="banjir" selected>' in page.text
    assert "Traceback" not in page.text
    assert again.status_code == 303
    assert report_count(settings) == 1


def test_the_outbox_is_told_to_come_back_and_its_retry_goes_through(settings: Settings):
    key = str(uuid.uuid4())
    with TestClient(create_app(settings)) as client:
        release = hold_every_slot(client, seconds_per_photo=60)
        busy = client.post(
            "/api/v1/reports", data=FIELDS, files=[photo()], headers={"Idempotency-Key": key}
        )
        release()
        retried = client.post(
            "/api/v1/reports", data=FIELDS, files=[photo()], headers={"Idempotency-Key": key}
        )

    assert busy.status_code == 503 and busy.headers["retry-after"] == "30"
    assert busy.json()["code"] == "busy" and busy.json()["message"]
    assert "x-aduan-code" not in busy.headers  # the outbox keeps the report and retries
    assert retried.status_code == 201 and retried.headers["x-aduan-code"]
    assert report_count(settings) == 1


def test_a_photo_waits_its_turn_when_the_queue_is_short(settings: Settings):
    answers: list[int] = []
    with TestClient(create_app(settings)) as client:
        release = hold_every_slot(client, seconds_per_photo=0.5)
        sender = threading.Thread(
            target=lambda: answers.append(
                client.post(
                    "/lapor", data=FIELDS, files=[photo()], follow_redirects=False
                ).status_code
            )
        )
        sender.start()
        time.sleep(0.5)
        assert not answers  # still waiting for a slot, not refused
        release()
        sender.join(timeout=30)

    assert answers == [303]
    assert report_count(settings) == 1


def test_a_large_upload_waits_for_the_one_in_work_while_phone_photos_go_on(settings: Settings):
    """At most one large upload (a camera's full photo) is decoded at a time, the memory bound
    under a crowd; phone-sized photos keep both slots meanwhile."""
    large = encode(camera_like((2400, 1800)), "PNG")
    assert len(large) > photo_gate.LARGE_UPLOAD_BYTES
    answers: list[int] = []
    with TestClient(create_app(settings)) as client:
        assert client.portal is not None
        holder = object()

        async def hold_large() -> photo_gate.Gate:
            gate = photo_gate.current_gate()
            await gate.large.acquire_on_behalf_of(holder)  # a large photo in work
            return gate

        gate = client.portal.call(hold_large)
        sender = threading.Thread(
            target=lambda: answers.append(
                client.post(
                    "/lapor",
                    data=FIELDS,
                    files=[("photos", ("kamera.png", large, "image/png"))],
                    follow_redirects=False,
                ).status_code
            )
        )
        sender.start()
        time.sleep(0.5)
        small = client.post("/lapor", data=FIELDS, files=[photo()], follow_redirects=False)
        assert small.status_code == 303  # a phone photo did not wait
        assert not answers  # the large one still waits its turn, holding no slot
        assert gate.limiter.available_tokens == gate.slots

        async def release() -> None:
            gate.large.release_on_behalf_of(holder)

        client.portal.call(release)
        sender.join(timeout=30)

    assert answers == [303]
    assert report_count(settings) == 2
