"""A per-client limit on new reports (the form, the outbox's API, Open311), answered with 429
and Retry-After before any photo is opened; staff intake is not limited; and refused forms
leave only a few photo files per client behind."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from starlette.testclient import TestClient

from db import ratelimit
from db.database import Database
from tests.helpers import GAMBIR, add_account, hidden, login, stored_photos
from tests.images import camera_like, encode
from tests.test_open311 import BASE, assert_errors
from tests.test_open311_post import form as open311_form
from tests.test_open311_post import make_key
from tests.test_staff_actions import intake_form, local_input
from web.app import create_app
from web.clock import utc_now
from web.limits import HELD_PHOTOS_PER_CLIENT, REPORT_LIMITS
from web.settings import Settings

BURST = REPORT_LIMITS[0][1]
FIELDS = {
    "category": "sampah",
    "area": GAMBIR,
    "description": "Sampah menumpuk empat hari di TPS samping masjid.",
}


@contextmanager
def resident(settings: Settings, address: str) -> Iterator[TestClient]:
    """A client connecting from `address` (the ASGI scope's client, as a socket gives it)."""
    with TestClient(create_app(settings), client=(address, 50000)) as client:
        yield client


def photo() -> bytes:
    return encode(camera_like((320, 240)), "JPEG")  # random noise: every call is another photo


def used_photos(client: TestClient) -> set[str]:
    db = client.app_state["db"]
    rows = client.portal.call(db.fetchall, "SELECT sha256 FROM photos")
    return {r["sha256"] for r in rows}


def count_reports(client: TestClient) -> int:
    db = client.app_state["db"]
    return client.portal.call(db.fetchone, "SELECT COUNT(*) AS n FROM reports")["n"]


def api_post(client: TestClient, **extra: object) -> object:
    return client.post(
        "/api/v1/reports",
        data=FIELDS,
        headers={"Idempotency-Key": str(uuid.uuid4())},
        **extra,  # type: ignore[arg-type]
    )


def test_the_outbox_api_slows_down_one_client_with_retry_after(settings: Settings) -> None:
    with resident(settings, "203.0.113.5") as phone, resident(settings, "203.0.113.6") as other:
        assert [api_post(phone).status_code for _ in range(BURST)] == [201] * BURST
        refused = api_post(phone)
        assert refused.status_code == 429
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        assert "Terlalu banyak laporan" in refused.json()["message"]
        assert "x-aduan-code" not in refused.headers
        assert api_post(other).status_code == 201  # another client is not affected
        assert count_reports(phone) == BURST + 1


def test_a_refused_submission_opens_no_photo(settings: Settings) -> None:
    with resident(settings, "203.0.113.5") as phone:
        for _ in range(BURST):
            api_post(phone)
        before = stored_photos(settings)
        # A damaged photo would be refused with 422 if it were opened; it is not even read.
        cut = photo()[:2000]
        refused = api_post(phone, files=[("photos", ("a.jpg", cut, "image/jpeg"))])
        assert refused.status_code == 429
        refused = phone.post(
            "/lapor", data=FIELDS, files=[("photos", ("b.jpg", photo(), "image/jpeg"))]
        )
        assert refused.status_code == 429
        assert stored_photos(settings) == before


def test_the_form_refused_for_too_many_reports_keeps_what_was_typed(settings: Settings) -> None:
    with resident(settings, "203.0.113.5") as browser:
        for _ in range(BURST):
            assert browser.post("/lapor", data=FIELDS, follow_redirects=False).status_code == 303
        typed = {**FIELDS, "address": "Gang Kelor no. 7", "reporter_name": "Siti"}
        refused = browser.post(
            "/lapor", data=typed, files=[("photos", ("a.jpg", photo(), "image/jpeg"))]
        )
        assert refused.status_code == 429
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        page = refused.text
        assert "Terlalu banyak laporan dikirim dari sambungan ini" in page
        assert f">{FIELDS['description']}</textarea>" in page
        assert 'value="Gang Kelor no. 7"' in page and 'value="Siti"' in page
        assert re.search(r'<option value="sampah"\s+selected', page)
        assert "Foto yang baru Anda pilih belum disimpan" in page
        assert count_reports(browser) == BURST


def test_the_hourly_limit_holds_beyond_the_burst(settings: Settings) -> None:
    start = utc_now()
    minute, burst = REPORT_LIMITS[0]
    hour, hourly = REPORT_LIMITS[1]

    async def take_all() -> list[object]:
        async with Database(settings.database) as db:
            results = []
            moments = [
                start + minute * (n // burst) + timedelta(seconds=n % burst)
                for n in range(hourly + 1)
            ]
            # Past the hour the client may file again.
            for moment in [*moments, start + hour]:
                async with db.write() as conn:
                    results.append(await ratelimit.take_slot(conn, "b", REPORT_LIMITS, moment))
            return results

    results = asyncio.run(take_all())
    assert results[:hourly] == [None] * hourly
    assert results[hourly] is not None and results[hourly] - start > timedelta(minutes=30)
    assert results[-1] is None


def test_open311_limits_each_device_besides_its_key(client: TestClient) -> None:
    key = make_key(client, rate=1000)
    for n in range(BURST):
        data = open311_form(key, device_id="hp-warga-1", description=f"Jalan berlubang {n}")
        assert client.post(f"{BASE}/requests.json", data=data).status_code == 200
    refused = client.post(f"{BASE}/requests.xml", data=open311_form(key, device_id="hp-warga-1"))
    assert_errors(refused, "xml", 429)
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    # An app relaying many residents from one server names each resident's device.
    other = client.post(f"{BASE}/requests.json", data=open311_form(key, device_id="hp-warga-2"))
    assert other.status_code == 200
    # Without a device, the address is the client.
    for _ in range(BURST):
        assert client.post(f"{BASE}/requests.json", data=open311_form(key)).status_code == 200
    assert_errors(client.post(f"{BASE}/requests.json", data=open311_form(key)), "json", 429)


def test_staff_intake_is_not_limited(client: TestClient, settings: Settings) -> None:
    add_account(settings, "gambir1", areas=[GAMBIR])
    login(client, "gambir1")
    token = hidden(client.get("/staf/lapor").text, "csrf_token")
    walk_in = intake_form(channel="walk_in", complained_at=local_input(utc_now()))
    statuses = [
        client.post(
            "/staf/lapor",
            data={**walk_in, "csrf_token": token},
            follow_redirects=False,
        ).status_code
        for _ in range(BURST * 2)
    ]
    assert statuses == [303] * (BURST * 2)


def test_refused_forms_leave_only_a_few_photos_per_client(settings: Settings) -> None:
    short = {**FIELDS, "description": "Kotor"}  # too short: refused, photos kept for later
    with resident(settings, "203.0.113.5") as browser, resident(settings, "198.51.100.7") as other:
        held_elsewhere = other.post(
            "/lapor", data=short, files=[("photos", ("x.jpg", photo(), "image/jpeg"))]
        )
        assert held_elsewhere.status_code == 422
        for _ in range(BURST - 1):
            response = browser.post(
                "/lapor",
                data=short,
                files=[("photos", (f"{n}.jpg", photo(), "image/jpeg")) for n in range(3)],
            )
            assert response.status_code == 422
        unused = stored_photos(settings) - used_photos(browser)
        assert len(unused) == HELD_PHOTOS_PER_CLIENT + 1  # the other client's photo stays
        # The last attempt's photos are among those kept: fixing the form keeps them.
        token = hidden(response.text, "held_photos")
        fixed = browser.post(
            "/lapor", data={**FIELDS, "held_photos": token}, follow_redirects=False
        )
        assert fixed.status_code == 303
        assert len(used_photos(browser)) == 3
