"""The access matrix: each role, against a case of its own area and of another, through
every read and action URL. A refusal is a 404 (out of scope: existence is not confirmed)
or a 403 (a supervisor acting), the other area's data is absent from the body, and the
database row is unchanged (SECURITY.md "Access", FixMyStreet's report_non_public.t)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import pytest
from images import camera_like, encode
from starlette.testclient import TestClient

from tests.helpers import (
    CIDENG,
    GAMBIR,
    KECAMATAN_GAMBIR,
    PASAR_BARU,
    act,
    add_account,
    add_report,
    apply,
    csrf_of,
    hidden,
    login,
    rows,
    snapshot,
    store_photo,
)
from web.app import create_app
from web.photos import Photo, process_photo
from web.settings import Settings

ACTIONS: dict[str, dict[str, str]] = {
    "verify": {"public_note": "Sudah dicek"},
    "dispatch": {"agency_code": "DLH"},
    "progress": {"public_note": "Sedang dikerjakan"},
    "resolve": {"public_note": "Sudah selesai"},
    "reject": {"public_note": "Di luar wilayah"},
    "duplicate": {"duplicate_of": "X"},  # filled with a real code below
    "note": {"internal_note": "Catatan"},
    "recategorise": {"category_code": "jalan"},
}


@dataclass
class World:
    gambir: str
    cideng: str
    gambir_photo: str
    cideng_photo: str


def stored_photo(settings: Settings, seed: int) -> Photo:
    processed = process_photo(encode(camera_like((320 + seed, 240)), "JPEG", quality=90))
    return store_photo(settings, processed)


@pytest.fixture
def world(settings: Settings) -> World:
    """A case in Gambir and one in Cideng (same kecamatan), each with a photo."""
    gambir_photo, cideng_photo = stored_photo(settings, 1), stored_photo(settings, 2)
    gambir = add_report(
        settings,
        GAMBIR,
        description="Lubang besar GAMBIRTEKS di jalan depan sekolah.",
        reporter_name="Siti Gambirwati",
        photos=[gambir_photo],
    )
    cideng = add_report(
        settings,
        CIDENG,
        description="Sampah CIDENGTEKS menumpuk di pinggir kali.",
        reporter_name="Budi Cidengsono",
        photos=[cideng_photo],
    )
    add_account(settings, "gambir1", areas=[GAMBIR])
    add_account(settings, "kecamatan", areas=[KECAMATAN_GAMBIR])
    add_account(settings, "pasarbaru", areas=[PASAR_BARU])
    add_account(settings, "dlh", agency="DLH")
    add_account(settings, "super", "supervisor")
    add_account(settings, "admin", "admin")
    return World(gambir, cideng, gambir_photo.sha256, cideng_photo.sha256)


def secrets_of(world: World, which: str) -> tuple[str, ...]:
    """What must not appear: text, name, photo, and the code as a link or as displayed.
    (The bare code may appear where the officer typed it: a search box, a form field.)"""
    code, text, name, photo = (
        (world.cideng, "CIDENGTEKS", "Budi Cidengsono", world.cideng_photo)
        if which == "cideng"
        else (world.gambir, "GAMBIRTEKS", "Siti Gambirwati", world.gambir_photo)
    )
    return (f"/staf/laporan/{code}", f"{code[:4]}-{code[4:]}", text, name, photo)


def assert_absent(body: str, world: World, which: str) -> None:
    for secret in secrets_of(world, which):
        assert secret not in body, f"{secret!r} leaked"


def reads(client: TestClient, world: World, which: str) -> dict[str, int]:
    code = world.cideng if which == "cideng" else world.gambir
    sha = world.cideng_photo if which == "cideng" else world.gambir_photo
    return {
        "report": client.get(f"/staf/laporan/{code}").status_code,
        "photo": client.get(f"/staf/foto/{sha}").status_code,
        "thumb": client.get(f"/staf/foto/{sha}?kecil=1").status_code,
    }


@pytest.mark.parametrize("username", ["gambir1", "pasarbaru", "dlh"])
def test_an_officer_cannot_see_or_change_a_report_outside_their_scope(
    settings: Settings, world: World, username: str
) -> None:
    with TestClient(create_app(settings)) as client:
        login(client, username)
        token = hidden(client.get("/staf").text, "csrf_token")
        before = snapshot(settings, world.cideng)
        for name, status in reads(client, world, "cideng").items():
            assert status == 404, name
        url = f"/staf/laporan/{world.cideng}"
        assert_absent(client.get(url).text.replace(url, ""), world, "cideng")
        for url in ("/staf", "/staf/inbox-rows", "/staf?status=semua"):
            assert_absent(client.get(url).text, world, "cideng")
        for query in (world.cideng, world.cideng.lower(), "CIDENGTEKS", "Cidengsono"):
            # The typed query is echoed back; what matters is that nothing is found.
            page = client.get("/staf/inbox-rows", params={"q": query, "status": "semua"})
            assert "Tidak ada laporan yang cocok" in page.text
            assert_absent(page.text.replace(query, ""), world, "cideng")
        for kind, data in ACTIONS.items():
            form = {**data, "csrf_token": token, "version": "1"}
            if kind == "duplicate":
                form["duplicate_of"] = world.gambir
            url = f"/staf/laporan/{world.cideng}/{kind}"
            response = client.post(url, data=form)
            assert response.status_code == 404, kind
            # The error page's language switch echoes the requested path; nothing else.
            assert_absent(response.text.replace(url, ""), world, "cideng")
        assert snapshot(settings, world.cideng) == before


@pytest.mark.parametrize("username", ["gambir1", "kecamatan", "admin"])
def test_an_officer_or_admin_reads_and_acts_on_a_report_in_scope(
    settings: Settings, world: World, username: str
) -> None:
    with TestClient(create_app(settings)) as client:
        login(client, username)
        assert set(reads(client, world, "gambir").values()) == {200}
        page = client.get(f"/staf/laporan/{world.gambir}")
        assert "GAMBIRTEKS" in page.text and "Siti Gambirwati" in page.text
        assert world.gambir in client.get("/staf").text
        response = act(client, world.gambir, "verify", {"public_note": "Sudah dicek"})
        assert response.status_code == 303
        assert rows(settings, "SELECT status FROM reports WHERE code = ?", (world.gambir,))[0][
            0
        ] == ("verified")


def test_a_kecamatan_officer_covers_every_kelurahan_below_it(
    settings: Settings, world: World
) -> None:
    with TestClient(create_app(settings)) as client:
        login(client, "kecamatan")
        inbox = client.get("/staf").text
        assert world.gambir in inbox and world.cideng in inbox
        assert set(reads(client, world, "cideng").values()) == {200}


def test_an_agency_officer_sees_only_reports_forwarded_to_their_agency(
    settings: Settings, world: World
) -> None:
    with TestClient(create_app(settings)) as client:
        login(client, "dlh")
        assert world.gambir not in client.get("/staf").text
        assert client.get(f"/staf/laporan/{world.gambir}").status_code == 404
        apply(settings, world.gambir, "dispatch", agency_code="DLH")
        assert world.gambir in client.get("/staf").text
        assert set(reads(client, world, "gambir").values()) == {200}
        assert (
            act(client, world.gambir, "progress", {"public_note": "Tim DLH ke lokasi"}).status_code
            == 303
        )
        assert_absent(client.get("/staf?status=semua").text, world, "cideng")


def test_a_supervisor_reads_everything_but_every_action_is_refused(
    settings: Settings, world: World
) -> None:
    with TestClient(create_app(settings)) as client:
        login(client, "super")
        for which in ("gambir", "cideng"):
            assert set(reads(client, world, which).values()) == {200}
        page = client.get(f"/staf/laporan/{world.cideng}")
        assert "CIDENGTEKS" in page.text and "hanya dapat membaca" in page.text
        assert 'action="/staf/laporan/' not in page.text
        token = hidden(page.text, "csrf_token")
        before = snapshot(settings, world.cideng)
        for kind, data in ACTIONS.items():
            form = {**data, "csrf_token": token, "version": "1", "duplicate_of": world.gambir}
            response = client.post(f"/staf/laporan/{world.cideng}/{kind}", data=form)
            assert response.status_code == 403, kind
        assert snapshot(settings, world.cideng) == before
        assert client.get("/staf/lapor").status_code == 403
        assert client.get("/staf/admin/akun").status_code == 403


def test_an_officer_cannot_merge_a_report_into_one_outside_their_scope(
    settings: Settings, world: World
) -> None:
    with TestClient(create_app(settings)) as client:
        login(client, "gambir1")
        before = snapshot(settings, world.cideng)
        response = act(client, world.gambir, "duplicate", {"duplicate_of": world.cideng})
        assert response.status_code == 422 and "tidak ditemukan" in response.text
        assert_absent(response.text, world, "cideng")
        assert snapshot(settings, world.cideng) == before
        assert rows(settings, "SELECT status FROM reports WHERE code = ?", (world.gambir,))[0][
            0
        ] == ("received")


def test_unknown_codes_and_photo_names_are_simply_not_found(
    settings: Settings, world: World
) -> None:
    with TestClient(create_app(settings)) as client:
        login(client, "admin")
        assert client.get("/staf/laporan/ZZZZZZZZ").status_code == 404
        assert client.get("/staf/laporan/bukan-kode").status_code == 404
        assert client.get("/staf/foto/" + "0" * 64).status_code == 404
        assert client.get("/staf/foto/..%2F..%2Faduan.sqlite3").status_code == 404
        response = client.post(f"/staf/laporan/{world.gambir}/hapus", data={})
        assert response.status_code == 404


def test_staff_photos_are_private_jpeg_with_nosniff(settings: Settings, world: World) -> None:
    with TestClient(create_app(settings)) as client:
        login(client, "gambir1")
        response = client.get(f"/staf/foto/{world.gambir_photo}")
        assert response.status_code == 200
        assert response.headers["content-type"] == "image/jpeg"
        assert response.headers["cache-control"] == "private, no-store"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.content[:3] == b"\xff\xd8\xff"


# --- reporter contact ---------------------------------------------------------------------


def test_an_anonymous_reporters_contact_is_shown_to_nobody(settings: Settings) -> None:
    code = add_report(settings, GAMBIR, reporter_name="Rahasia Anonimus", anonymous=True)
    add_account(settings, "admin", "admin")
    add_account(settings, "inspektur", agency="INSPEKTORAT")
    with TestClient(create_app(settings)) as client:
        login(client, "admin")
        page = client.get(f"/staf/laporan/{code}").text
        assert "Rahasia Anonimus" not in page and "081234567890" not in page
        assert "pelapor memilih anonim" in page


@pytest.mark.parametrize("confidential_by", ["flag", "category"])
def test_a_confidential_reporters_contact_is_for_the_inspectorate_and_admins_only(
    settings: Settings, confidential_by: str
) -> None:
    code = add_report(
        settings,
        GAMBIR,
        reporter_name="Pelapor Pungliwan",
        category="pungli" if confidential_by == "category" else "sampah",
        confidential=confidential_by == "flag",
    )
    add_account(settings, "gambir1", areas=[GAMBIR])
    add_account(settings, "super", "supervisor")
    add_account(settings, "inspektur", agency="INSPEKTORAT")
    add_account(settings, "admin", "admin")
    expected = {"gambir1": False, "super": False, "inspektur": True, "admin": True}
    for username, sees in expected.items():
        with TestClient(create_app(settings)) as client:
            login(client, username)
            page = client.get(f"/staf/laporan/{code}")
            if username == "gambir1" and confidential_by == "category":
                assert page.status_code == 404  # illegal levies: the inspectorate's alone
                continue
            assert page.status_code == 200, username
            assert ("Pelapor Pungliwan" in page.text) is sees, username
            assert ("081234567890" in page.text) is sees, username


def test_the_inspectorate_sees_confidential_reports_of_every_area(settings: Settings) -> None:
    secret = add_report(settings, PASAR_BARU, category="pungli", description="Pungutan liar X1")
    plain = add_report(settings, PASAR_BARU, description="Sampah biasa di Pasar Baru Y2")
    add_account(settings, "inspektur", agency="INSPEKTORAT")
    with TestClient(create_app(settings)) as client:
        login(client, "inspektur")
        inbox = client.get("/staf").text
        assert secret in inbox and plain not in inbox
        assert client.get(f"/staf/laporan/{plain}").status_code == 404


def test_a_supervisor_sees_the_contact_of_an_ordinary_report(settings: Settings) -> None:
    code = add_report(settings, GAMBIR, reporter_name="Warga Biasa")
    add_account(settings, "super", "supervisor")
    with TestClient(create_app(settings)) as client:
        login(client, "super")
        assert "Warga Biasa" in client.get(f"/staf/laporan/{code}").text


def test_the_scope_filter_is_in_the_loaders_sql(settings: Settings) -> None:
    """Calling the loader directly, without any handler check, still refuses."""
    from db import staff as staff_db
    from db.database import Database
    from web.auth import Account

    code = add_report(settings, CIDENG)
    officer = Account(
        id=add_account(settings, "gambir1", areas=[GAMBIR]),
        username="gambir1",
        display_name="Gambir1",
        role="officer",
        agency_code=None,
        agency_name_id=None,
        agency_name_en=None,
        is_inspectorate=False,
        area_codes=(GAMBIR,),
    )

    async def load() -> object:
        async with Database(settings.database) as db:
            return await staff_db.load_report(db, code, officer)

    assert asyncio.run(load()) is None


def test_a_kota_officer_covers_its_kecamatan_and_nothing_beyond(settings: Settings) -> None:
    central = add_report(settings, GAMBIR, description="Di Jakarta Pusat.")
    other_kecamatan = add_report(settings, PASAR_BARU, description="Di Sawah Besar.")
    north = add_report(settings, "31.72.01.1001", description="Di Jakarta Utara UTARATEKS.")
    add_account(settings, "kota", areas=["31.71"])
    with TestClient(create_app(settings)) as client:
        login(client, "kota")
        inbox = client.get("/staf").text
        assert central in inbox and other_kecamatan in inbox
        assert north not in inbox and "UTARATEKS" not in inbox
        assert client.get(f"/staf/laporan/{north}").status_code == 404


def test_an_illegal_levy_report_stays_out_of_the_kelurahans_inbox(settings: Settings) -> None:
    """A pungli complaint is often about the kelurahan's own staff: only the inspectorate
    (and admins) handle it, whatever area it names."""
    levy = add_report(
        settings, GAMBIR, category="pungli", description="Petugas loket meminta uang Rp50.000 Z9"
    )
    rahasia = add_report(settings, GAMBIR, confidential=True, description="Rahasia biasa Q7")
    add_account(settings, "gambir1", areas=[GAMBIR])
    with TestClient(create_app(settings)) as client:
        login(client, "gambir1")
        inbox = client.get("/staf").text
        assert levy not in inbox and "Rp50.000" not in inbox
        assert rahasia in inbox  # a resident's "Rahasia" flag is not a levy complaint
        assert client.get(f"/staf/laporan/{levy}").status_code == 404
        before = snapshot(settings, levy)
        refused = client.post(
            f"/staf/laporan/{levy}/verify", data={"csrf_token": csrf_of(client), "version": "1"}
        )
        assert refused.status_code == 404 and snapshot(settings, levy) == before
