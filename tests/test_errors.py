"""What a failed request answers: the 500 page with every security header and the logged
request id, error titles in the reader's language, and 503 + Retry-After when the disk is
full or the data folder cannot be written."""

from __future__ import annotations

import dataclasses
import logging
import shutil
import uuid
from pathlib import Path

import pytest
from starlette.requests import Request
from starlette.routing import Route
from starlette.testclient import TestClient

from tests.backend import scalar
from tests.conftest import make_settings
from tests.images import camera_like, encode
from tests.mounts import fill, tmpfs
from web.app import create_app
from web.settings import Settings

SECURITY_HEADERS = (
    "content-security-policy",
    "x-frame-options",
    "x-content-type-options",
    "referrer-policy",
    "x-request-id",
)


async def broken(request: Request) -> None:
    raise RuntimeError("a bug in a handler")


def test_the_500_page_carries_every_security_header_and_the_logged_request_id(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(settings)
    app.router.routes.append(Route("/rusak", broken))
    caplog.set_level(logging.INFO)
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/rusak")
    assert response.status_code == 500
    for name in SECURITY_HEADERS:
        assert response.headers.get(name), name
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    request_id = response.headers["x-request-id"]
    assert f"Kode kejadian: {request_id}" in response.text
    assert "Traceback" not in response.text and "a bug in a handler" not in response.text
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and f"request_id={request_id}" in errors[0].getMessage()
    assert errors[0].exc_info is not None  # the traceback is in the log, once
    lines = [r.getMessage() for r in caplog.records if r.name == "aduan.request"]
    assert len(lines) == 1
    assert lines[0].startswith(f"request_id={request_id} method=GET route=broken status=500 ")


def test_error_titles_follow_the_language_switch(settings: Settings) -> None:
    app = create_app(settings)
    app.router.routes.append(Route("/rusak", broken))
    with TestClient(app, raise_server_exceptions=False, cookies={"lang": "en"}) as client:
        missing = client.get("/tidak-ada")
        crashed = client.get("/rusak")
        wrong_method = client.put("/lapor")
    assert missing.status_code == 404 and "Page not found" in missing.text
    assert "Halaman tidak ditemukan" not in missing.text
    assert crashed.status_code == 500 and "Something went wrong on the server" in crashed.text
    assert wrong_method.status_code == 405 and "Cara akses" not in wrong_method.text


FIELDS = {
    "category": "banjir",
    "area": "31.71.01.1002",
    "description": "Saluran air tersumbat, setiap hujan langsung tergenang.",
    "address": "Gang Kelor depan masjid",
    "reporter_name": "Siti Aminah",
}


def report_count(settings: Settings) -> int:
    return int(scalar(settings, "SELECT COUNT(*) FROM reports"))


def assert_form_kept(page: str, message: str) -> None:
    assert FIELDS["description"] in page and 'value="Gang Kelor depan masjid"' in page
    assert 'value="Siti Aminah"' in page
    assert '<option value="banjir" selected>' in page
    assert '<option value="31.71.01.1002" selected>' in page
    assert message in page


def test_an_unwritable_photo_folder_answers_503_and_keeps_the_form(settings: Settings) -> None:
    settings = dataclasses.replace(settings, photo_store=None)  # photos in the data folder
    photo = ("photos", ("jalan.jpg", encode(camera_like((800, 600)), "JPEG"), "image/jpeg"))
    with tmpfs(settings.photo_dir, readonly=True):
        with TestClient(create_app(settings)) as client:
            page = client.post("/lapor", data=FIELDS, files=[photo])
            api = client.post(
                "/api/v1/reports",
                data=FIELDS,
                files=[photo],
                headers={"Idempotency-Key": str(uuid.uuid4())},
            )
    assert page.status_code == 503 and page.headers["retry-after"] == "120"
    assert_form_kept(page.text, "Server sedang tidak bisa menyimpan laporan")
    assert "Traceback" not in page.text
    assert api.status_code == 503 and api.headers["retry-after"] == "120"
    assert api.json()["code"] == "storage_unavailable" and api.json()["message"]
    assert "x-aduan-code" not in api.headers  # the outbox keeps the report and retries
    assert report_count(settings) == 0


@pytest.mark.sqlite_only
def test_a_full_disk_answers_503_and_lookups_still_work(
    tmp_path: Path, template_db: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # room for the template database (areas and their boundaries, ~0.4 MB) and its WAL
    with tmpfs(tmp_path / "disk", size="2m") as disk:
        shutil.copy(template_db, disk / "aduan.sqlite3")
        settings = make_settings(disk)
        with TestClient(create_app(settings), cookies={"lang": "en"}) as client:
            known = client.post("/lapor", data=FIELDS, follow_redirects=False)
            code = known.headers["location"].split("/t/")[1].split("/")[0]
            filler = fill(disk)
            page = client.post("/lapor", data=FIELDS)
            api = client.post("/api/v1/reports", data=FIELDS)
            unknown = client.get("/t/ABCD2345")
            typed = client.get("/lacak", params={"kode": "ABCD-2345"})
            found = client.get(f"/t/{code}")
            filler.unlink()  # space again: the retry goes through
            retried = client.post("/api/v1/reports", data=FIELDS)
    assert known.status_code == 303
    assert page.status_code == 503 and page.headers["retry-after"]
    assert_form_kept(page.text, "The server cannot save reports right now")
    assert api.status_code == 503 and api.json()["code"] == "storage_unavailable"
    assert "The server cannot save reports right now" in api.json()["message"]
    assert unknown.status_code == 404 and typed.status_code == 404
    assert found.status_code == 200
    assert retried.status_code == 201
    assert "Traceback" not in caplog.text


def test_a_postgresql_server_that_refuses_connections_answers_503_and_the_retry_goes_through(
    settings: Settings, request: pytest.FixtureRequest, caplog: pytest.LogCaptureFixture
) -> None:
    if settings.uses_sqlite:
        pytest.skip("about a PostgreSQL server (SQLite's full disk is tested above)")
    cluster = request.getfixturevalue("pg_cluster")
    name = settings.database_url.rsplit("/", 1)[1]
    key = str(uuid.uuid4())
    with TestClient(create_app(settings), cookies={"lang": "en"}) as client:
        assert client.get("/").status_code == 200
        # Full: no new connection is allowed, and the ones the app had are gone.
        cluster.admin(f"ALTER DATABASE {name} CONNECTION LIMIT 0")
        cluster.admin(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            f" WHERE datname = '{name}' AND pid <> pg_backend_pid()"
        )
        api = client.post("/api/v1/reports", data=FIELDS, headers={"Idempotency-Key": key})
        cluster.admin(f"ALTER DATABASE {name} CONNECTION LIMIT -1")
        retried = client.post("/api/v1/reports", data=FIELDS, headers={"Idempotency-Key": key})
    assert api.status_code == 503 and api.headers["retry-after"] == "120"
    assert api.json()["code"] == "storage_unavailable"
    assert "x-aduan-code" not in api.headers  # the outbox keeps the report and retries
    assert retried.status_code == 201
    assert report_count(settings) == 1
    assert "Traceback" not in caplog.text
