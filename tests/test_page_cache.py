"""Public pages served from what they last were (web/pagecache.py): the tracking page, home,
/lapor and /kinerja are rendered once per version of what they show and language, answered
304 from their key alone, and every change made through another app server on the same
database shows on the very next request, with a new ETag. A confidential report's content
never comes out of the cache; one language is never handed to a reader of the other."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Iterator

import pytest
from starlette.testclient import TestClient

from db import reference
from db.database import Database
from tests.helpers import act, add_account, add_report, apply, login, run_async, staff_client
from tests.test_autoclose import DUE, close_at, resolved_report
from tests.test_deadlines import GAMBIR, create, move
from tests.test_kinerja import last_month_day
from tests.test_tracking import file_report
from web import lifecycle
from web.app import create_app
from web.settings import Settings

SECRET_TEXT = "Pungutan liar di loket kelurahan, petugas minta uang tambahan."


@pytest.fixture
def reader(settings: Settings) -> Iterator[TestClient]:
    """A resident's browser on one app server; the changes come through others."""
    with TestClient(create_app(settings)) as client:
        yield client


def renders(client: TestClient) -> int:
    return int(client.app.state.page_cache.renders)  # type: ignore[attr-defined]


def vary(response: object) -> set[str]:
    header = response.headers.get("vary", "")  # type: ignore[attr-defined]
    return {part.strip().lower() for part in header.split(",") if part.strip()}


def domain(settings: Settings, change: Callable[[Database], object]) -> None:
    """A change made by another server: its own connections to the same database."""

    async def run() -> None:
        async with Database(settings.database) as db:
            result = change(db)
            if asyncio.iscoroutine(result):
                await result

    run_async(run())


def test_a_staff_action_through_one_server_shows_on_the_very_next_request_to_another(
    reader: TestClient, settings: Settings
) -> None:
    add_account(settings, "lurah", "admin")
    code = add_report(settings)
    first = reader.get(f"/t/{code}")
    again = reader.get(f"/t/{code}")
    assert first.status_code == again.status_code == 200
    assert "Diterima" in first.text and again.text == first.text
    assert renders(reader) == 1  # the second came from the cache
    with staff_client(settings, "lurah") as staff:
        assert act(staff, code, "verify").status_code == 303
    after = reader.get(f"/t/{code}")
    assert after.status_code == 200
    assert 'class="status verified">Diverifikasi' in after.text
    assert after.headers["etag"] != first.headers["etag"]
    assert renders(reader) == 2


CHANGES = {
    # name: (how the report is made ready, the change by another server, what then shows)
    "resident reopens": (
        lambda s, code: apply(s, code, "resolve", public_note="Sampah sudah diangkut."),
        lambda s, code: domain(
            s, lambda db: lifecycle.resident_answer(db, code, fixed=False, note="Masih bocor.")
        ),
        "Masih bocor.",
    ),
    "automatic close": (
        None,
        lambda s, code: close_at(s, DUE),
        "Ditutup otomatis",
    ),
    "recategorised": (
        None,
        lambda s, code: apply(s, code, "recategorise", category_code="jalan"),
        "Jalan rusak",
    ),
    "public note": (
        lambda s, code: apply(s, code, "verify"),
        lambda s, code: apply(s, code, "note", public_note="Tim datang besok pagi."),
        "Tim datang besok pagi.",
    ),
}


@pytest.mark.parametrize("name", list(CHANGES))
def test_every_change_to_a_report_made_elsewhere_is_on_its_cached_page_at_once(
    reader: TestClient, settings: Settings, name: str
) -> None:
    prepare, change, shown = CHANGES[name]
    code = resolved_report(settings) if name == "automatic close" else add_report(settings)
    if prepare is not None:
        prepare(settings, code)
    before = reader.get(f"/t/{code}")
    assert reader.get(f"/t/{code}").text == before.text
    assert shown not in before.text
    count = renders(reader)
    change(settings, code)
    after = reader.get(f"/t/{code}")
    assert shown in after.text, name
    assert after.headers["etag"] != before.headers["etag"]
    assert renders(reader) == count + 1


def test_a_report_merged_into_another_shows_on_the_others_page_whose_row_did_not_change(
    reader: TestClient, settings: Settings
) -> None:
    original = add_report(settings, description="Lampu jalan mati di depan sekolah dasar.")
    duplicate = add_report(settings, description="Lampu jalan depan SD mati sejak kemarin.")
    before = reader.get(f"/t/{original}")
    assert "Laporan lain digabung" not in before.text
    assert reader.get(f"/t/{original}").text == before.text
    assert renders(reader) == 1
    apply(settings, duplicate, "duplicate", duplicate_of_code=original)
    after = reader.get(f"/t/{original}")
    assert "Laporan lain digabung" in after.text
    assert duplicate[:4] in after.text
    assert after.headers["etag"] != before.headers["etag"]


def test_a_revalidation_is_answered_304_before_rendering_and_a_change_brings_a_new_etag(
    reader: TestClient, settings: Settings
) -> None:
    code = add_report(settings)
    first = reader.get(f"/t/{code}")
    etag = first.headers["etag"]
    assert first.headers["cache-control"] == "no-cache"
    assert {"accept-encoding", "cookie"} <= vary(first)
    for _ in range(3):
        checked = reader.get(f"/t/{code}", headers={"If-None-Match": etag})
        assert checked.status_code == 304 and checked.content == b""
        assert checked.headers["etag"] == etag
        assert {"accept-encoding", "cookie"} <= vary(checked)
    assert renders(reader) == 1
    apply(settings, code, "verify")
    changed = reader.get(f"/t/{code}", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and "Diverifikasi" in changed.text
    assert changed.headers["etag"] != etag
    # Home and the form revalidate the same way.
    for path in ("/", "/lapor"):
        page = reader.get(path)
        again = reader.get(path, headers={"If-None-Match": page.headers["etag"]})
        assert again.status_code == 304, path


def test_a_confidential_report_is_never_served_from_the_cache_without_its_token(
    reader: TestClient, settings: Settings
) -> None:
    code, token = file_report(
        reader, description=SECRET_TEXT, confidential="1", reporter_name="Budi Santoso"
    )
    private = reader.get(f"/t/{code}/p/{token}")
    assert SECRET_TEXT in private.text
    assert private.headers["cache-control"] == "private, no-store"
    assert "etag" not in private.headers
    receipt = reader.get(f"/t/{code}/struk?k={token}")
    assert receipt.status_code == 200 and "etag" not in receipt.headers
    count = renders(reader)
    for _ in range(2):
        public = reader.get(f"/t/{code}")
        assert public.status_code == 200
        assert "dirahasiakan" in public.text
        assert SECRET_TEXT not in public.text and "Budi" not in public.text
    assert renders(reader) == count + 1  # the public page is cached, hidden
    # The private page stays whole, never the cached public one.
    assert SECRET_TEXT in reader.get(f"/t/{code}/p/{token}").text


def test_a_report_made_confidential_elsewhere_is_hidden_on_the_next_request(
    reader: TestClient, settings: Settings
) -> None:
    code = add_report(settings, description=SECRET_TEXT)
    assert SECRET_TEXT in reader.get(f"/t/{code}").text
    assert SECRET_TEXT in reader.get(f"/t/{code}").text
    assert renders(reader) == 1
    apply(settings, code, "recategorise", category_code="pungli")
    hidden = reader.get(f"/t/{code}")
    assert SECRET_TEXT not in hidden.text and "dirahasiakan" in hidden.text


@pytest.mark.parametrize("path", ["/t/{code}", "/", "/lapor", "/kinerja"])
def test_a_reader_of_one_language_never_gets_the_page_of_the_other(
    reader: TestClient, settings: Settings, path: str
) -> None:
    url = path.format(code=add_report(settings))
    indonesian = reader.get(url)
    reader.cookies.set("lang", "en")
    english = reader.get(url)
    assert indonesian.headers["etag"] != english.headers["etag"]
    assert '<html lang="id">' in indonesian.text and '<html lang="en">' in english.text
    # The Indonesian copy, checked by an English reader, brings the English page.
    checked = reader.get(url, headers={"If-None-Match": indonesian.headers["etag"]})
    assert checked.status_code == 200 and '<html lang="en">' in checked.text
    reader.cookies.delete("lang")
    again = reader.get(url)
    assert '<html lang="id">' in again.text and again.text == indonesian.text
    for response in (indonesian, english, checked, again):
        assert {"accept-encoding", "cookie"} <= vary(response)
        assert response.headers["cache-control"] == "no-cache"
    assert renders(reader) == 2  # one per language, each then served from the cache


@pytest.mark.parametrize("coding", ["br", "gzip", "identity"])
def test_each_coding_of_a_cached_page_holds_the_same_page(
    reader: TestClient, settings: Settings, coding: str
) -> None:
    code = add_report(settings)
    plain = reader.get(f"/t/{code}", headers={"Accept-Encoding": "identity"})
    response = reader.get(f"/t/{code}", headers={"Accept-Encoding": coding})
    assert response.headers.get("content-encoding", "identity") == coding
    assert response.text == plain.text
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert renders(reader) == 1


def rename_category(settings: Settings, code: str, name: str) -> None:
    seed = reference.read_seed()
    for category in seed["categories"]:
        if category["code"] == code:
            category["name_id"] = name

    async def load(db: Database) -> None:
        async with db.write() as conn:
            await reference.load_seed(conn, seed)

    domain(settings, load)


def test_reference_data_changed_elsewhere_shows_on_the_form_and_tracking_pages_at_once(
    reader: TestClient, settings: Settings
) -> None:
    code = add_report(settings, category="sampah")
    form = reader.get("/lapor")
    track = reader.get(f"/t/{code}")
    assert reader.get("/lapor").text == form.text
    assert renders(reader) == 2
    rename_category(settings, "sampah", "Sampah liar menumpuk")
    assert "Sampah liar menumpuk" in reader.get("/lapor").text
    assert "Sampah liar menumpuk" in reader.get(f"/t/{code}").text
    # A holiday saved by an admin on another server is a new version of the form too.
    form = reader.get("/lapor")
    add_account(settings, "admin1", "admin")
    with TestClient(create_app(settings)) as admin:
        login(admin, "admin1")
        page = admin.get("/staf/admin/libur")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)[1]
        saved = admin.post(
            "/staf/admin/libur",
            data={"csrf_token": token, "day": "2026-03-19", "name": "Hari Suci Nyepi"},
            follow_redirects=False,
        )
        assert saved.status_code == 303
    assert reader.get("/lapor").headers["etag"] != form.headers["etag"]
    assert reader.get(f"/t/{code}").headers["etag"] != track.headers["etag"]


def test_last_months_figures_change_on_the_next_request_after_an_action_elsewhere(
    reader: TestClient, settings: Settings
) -> None:
    code = create(settings, last_month_day(3), GAMBIR)
    before = reader.get("/kinerja")
    assert reader.get("/kinerja").text == before.text
    assert renders(reader) == 1
    move(settings, code, "verify", last_month_day(3, 11))
    after = reader.get("/kinerja")
    assert after.headers["etag"] != before.headers["etag"]
    assert after.text != before.text
    create(settings, last_month_day(4), GAMBIR)
    assert reader.get("/kinerja").headers["etag"] != after.headers["etag"]


def test_a_page_that_is_not_a_plain_200_is_not_kept(reader: TestClient) -> None:
    assert reader.get("/t/ABCDEFGH").status_code == 404
    assert reader.get("/t/abcd-efgh").status_code in {301, 404}
    assert renders(reader) == 0
