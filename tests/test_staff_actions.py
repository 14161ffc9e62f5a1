"""Case actions through the staff forms: every allowed and refused transition, the version
check with two officers at once, photos, duplicates, notes, and intake from every channel."""

from __future__ import annotations

import asyncio
import re
import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from images import camera_like, encode
from starlette.testclient import TestClient

from db import reports as report_db
from db.database import Database
from tests.helpers import (
    CIDENG,
    GAMBIR,
    act,
    add_account,
    add_report,
    apply,
    hidden,
    login,
    report_row,
    rows,
    snapshot,
    staff_client,
)
from web import lifecycle
from web.clock import from_text, to_text, utc_now
from web.lifecycle.deadlines import Deadlines, deadlines_for
from web.settings import Settings

FORMS: dict[str, dict[str, str]] = {
    "verify": {"public_note": "Sudah kami cek di lokasi."},
    "dispatch": {"agency_code": "DLH", "public_note": "Diteruskan ke DLH."},
    "progress": {"public_note": "Petugas sudah di lokasi."},
    "resolve": {"public_note": "Sampah sudah diangkut."},
    "reject": {"public_note": "Lokasi di luar wilayah kota."},
    "duplicate": {},  # the main report's code is added per test
    "note": {"internal_note": "Warga minta dihubungi sore hari."},
    "recategorise": {"category_code": "jalan"},
}
# How to bring a new report into each status, with the domain directly.
PATHS: dict[str, list[tuple[str, dict[str, str]]]] = {
    "received": [],
    "verified": [("verify", {})],
    "dispatched": [("dispatch", {"agency_code": "DLH"})],
    "in_progress": [("verify", {}), ("progress", {"public_note": "Mulai"})],
    "resolved": [("resolve", {"public_note": "Selesai"})],
    "rejected": [("reject", {"public_note": "Bukan wewenang kami"})],
    "duplicate": [("duplicate", {})],
    "closed": [("resolve", {"public_note": "Selesai"})],
}


def jpeg(seed: int = 0) -> bytes:
    return encode(camera_like((640 + seed, 480)), "JPEG", quality=90)


def report_in(settings: Settings, status: str, main: str) -> str:
    code = add_report(settings, GAMBIR)
    for kind, fields in PATHS[status]:
        extra = {"duplicate_of_code": main} if kind == "duplicate" else fields
        apply(settings, code, kind, **extra)
    if status == "closed":

        async def confirm() -> None:
            async with Database(settings.database) as db:
                await lifecycle.resident_answer(db, code, fixed=True, rating=5)

        asyncio.run(confirm())
    assert report_row(settings, code)["status"] == status
    return code


@pytest.fixture
def admin(client: TestClient, settings: Settings) -> TestClient:
    add_account(settings, "admin", "admin")
    login(client, "admin")
    return client


@pytest.mark.parametrize("status", list(PATHS))
def test_each_action_is_allowed_or_refused_by_the_status_it_starts_from(
    admin: TestClient, settings: Settings, status: str
) -> None:
    main = add_report(settings, GAMBIR, description="Laporan induk untuk penggabungan.")
    for kind, (allowed_from, target) in lifecycle.TRANSITIONS.items():
        code = report_in(settings, status, main)
        before = snapshot(settings, code)
        version = report_row(settings, code)["version"]
        data = {**FORMS[kind], "duplicate_of": main}
        response = act(admin, code, kind, data)
        row = report_row(settings, code)
        if status in allowed_from:
            assert response.status_code == 303, (status, kind, response.text[:300])
            assert row["status"] == (target or status), (status, kind)
            assert row["version"] == version + 1
            last = rows(
                settings,
                "SELECT kind FROM report_events WHERE report_id = ? ORDER BY id DESC LIMIT 1",
                (row["id"],),
            )
            assert last[0]["kind"] == kind
        else:
            assert response.status_code == 422, (status, kind)
            assert "tidak bisa dilakukan pada laporan berstatus" in response.text
            assert snapshot(settings, code) == before, (status, kind)


def test_a_report_goes_from_received_to_resolved_with_an_after_photo(
    admin: TestClient, settings: Settings
) -> None:
    code = add_report(settings, GAMBIR)
    assert act(admin, code, "verify", FORMS["verify"]).status_code == 303
    assert report_row(settings, code)["first_response_at"] is not None
    assert act(admin, code, "dispatch", FORMS["dispatch"]).status_code == 303
    assert report_row(settings, code)["agency_code"] == "DLH"
    progress = act(
        admin,
        code,
        "progress",
        FORMS["progress"],
        files=[
            ("photos", ("a.jpg", jpeg(1), "image/jpeg")),
            ("photos", ("b.jpg", jpeg(2), "image/jpeg")),
        ],
    )
    assert progress.status_code == 303
    resolved = act(
        admin,
        code,
        "resolve",
        FORMS["resolve"],
        files=[("photos", ("sesudah.jpg", jpeg(3), "image/jpeg"))],
    )
    assert resolved.status_code == 303
    row = report_row(settings, code)
    assert row["status"] == "resolved" and row["resolved_at"] and row["next_due_at"] is None
    events = rows(
        settings, "SELECT * FROM report_events WHERE report_id = ? ORDER BY id", (row["id"],)
    )
    assert [e["kind"] for e in events] == ["received", "verify", "dispatch", "progress", "resolve"]
    assert events[-1]["public_note"] == "Sampah sudah diangkut."
    photos = rows(settings, "SELECT event_id FROM photos WHERE report_id = ?", (row["id"],))
    by_event = [p["event_id"] for p in photos]
    assert by_event.count(events[3]["id"]) == 2 and by_event.count(events[4]["id"]) == 1
    page = admin.get(f"/staf/laporan/{code}").text
    assert page.count("/staf/foto/") >= 6  # three photos, each a thumbnail in a link


def test_a_done_action_comes_back_to_the_report_page_with_a_message(
    admin: TestClient, settings: Settings
) -> None:
    code = add_report(settings, GAMBIR)
    response = act(admin, code, "verify", FORMS["verify"])
    assert response.status_code == 303
    # Back to the message, which sits right above the actions the officer was using.
    assert response.headers["location"] == f"/staf/laporan/{code}?ok=verify#hasil"
    page = admin.get(response.headers["location"]).text
    message = re.search(r'<div id="hasil"[^>]*>\s*<p class="notice ok">([^<]*)</p>', page)
    assert message is not None and message[1] == "Laporan sudah diverifikasi."
    assert "autofocus" in message[0]
    assert page.index('id="hasil"') < page.index('id="tindakan"')
    assert page.index('id="isi-laporan"') < page.index('id="hasil"')


def test_the_second_of_two_officers_gets_changed_meanwhile_and_keeps_their_note(
    client: TestClient, settings: Settings
) -> None:
    add_account(settings, "gambir1", areas=[GAMBIR])
    add_account(settings, "gambir2", areas=[GAMBIR])
    code = add_report(settings, GAMBIR)
    login(client, "gambir1")
    with staff_client(settings, "gambir2") as other:
        # Both opened the case at version 1.
        first = act(client, code, "verify", FORMS["verify"], version=1)
        typed = "Saya sudah telepon pelapornya, besok dicek."
        second = act(other, code, "reject", {"public_note": typed}, version=1)
    assert first.status_code == 303
    assert second.status_code == 409
    assert "baru saja diubah petugas lain" in second.text
    assert f">{typed}</textarea>" in second.text  # nothing the officer typed is lost
    assert "Diverifikasi" in second.text  # the new state is shown
    assert hidden(second.text, "version") == "2"
    row = report_row(settings, code)
    assert row["status"] == "verified" and row["version"] == 2


def test_two_simultaneous_actions_on_one_version_let_exactly_one_win(settings: Settings) -> None:
    add_account(settings, "gambir1", areas=[GAMBIR])
    add_account(settings, "gambir2", areas=[GAMBIR])
    code = add_report(settings, GAMBIR)
    results: dict[str, int] = {}
    with staff_client(settings, "gambir1") as one, staff_client(settings, "gambir2") as two:
        forms = {}
        for name, client in (("one", one), ("two", two)):
            page = client.get(f"/staf/laporan/{code}").text
            forms[name] = (client, {"csrf_token": hidden(page, "csrf_token"), "version": "1"})
        barrier = threading.Barrier(2)

        def post(name: str) -> None:
            client, form = forms[name]
            data = {**form, "public_note": f"Catatan dari {name}"}
            barrier.wait()
            response = client.post(
                f"/staf/laporan/{code}/progress", data=data, follow_redirects=False
            )
            results[name] = response.status_code

        apply(settings, code, "verify")
        for client, form in forms.values():
            form["version"] = "2"
        threads = [threading.Thread(target=post, args=(n,)) for n in forms]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert sorted(results.values()) == [303, 409]
    row = report_row(settings, code)
    assert row["version"] == 3
    progress = rows(
        settings,
        "SELECT COUNT(*) FROM report_events WHERE report_id = ? AND kind = 'progress'",
        (row["id"],),
    )
    assert progress[0][0] == 1


def test_a_refused_action_says_why_and_keeps_what_was_typed(
    admin: TestClient, settings: Settings
) -> None:
    code = add_report(settings, GAMBIR)
    apply(settings, code, "resolve", public_note="Selesai")
    typed = "Mohon dicek lagi minggu depan."
    response = act(admin, code, "progress", {"public_note": typed})
    assert response.status_code == 422
    assert "tidak bisa dilakukan pada laporan berstatus Selesai" in response.text
    assert f">{typed}</textarea>" in response.text


def test_rejecting_needs_a_reason(admin: TestClient, settings: Settings) -> None:
    code = add_report(settings, GAMBIR)
    before = snapshot(settings, code)
    response = act(admin, code, "reject", {"public_note": "   "})
    assert response.status_code == 422 and "Alasan penolakan wajib diisi." in response.text
    assert snapshot(settings, code) == before


def test_a_file_that_is_not_a_photo_is_refused_clearly_and_the_note_is_kept(
    admin: TestClient, settings: Settings
) -> None:
    code = add_report(settings, GAMBIR)
    apply(settings, code, "verify")
    before = snapshot(settings, code)
    typed = "Saluran sudah dibersihkan sebagian."
    response = act(
        admin,
        code,
        "progress",
        {"public_note": typed},
        files=[("photos", ("laporan.jpg", b"bukan gambar sama sekali", "image/jpeg"))],
    )
    assert response.status_code == 422
    assert "bukan foto yang bisa dibaca" in response.text and "laporan.jpg" in response.text
    assert f">{typed}</textarea>" in response.text
    assert snapshot(settings, code) == before


def test_every_refused_photo_of_an_action_is_named_and_nothing_is_recorded(
    admin: TestClient, settings: Settings
) -> None:
    code = add_report(settings, GAMBIR)
    apply(settings, code, "verify")
    before = snapshot(settings, code)
    response = act(
        admin,
        code,
        "progress",
        {"public_note": "Petugas sudah di lokasi."},
        files=[
            ("photos", ("catatan.jpg", b"bukan gambar sama sekali", "image/jpeg")),
            ("photos", ("baik.jpg", jpeg(), "image/jpeg")),
            ("photos", ("kosong.jpg", b"", "image/jpeg")),
        ],
    )
    assert response.status_code == 422
    assert "catatan.jpg" in response.text and "bukan foto yang bisa dibaca" in response.text
    assert "kosong.jpg" in response.text and "kosong." in response.text
    assert "baik.jpg" not in response.text
    assert snapshot(settings, code) == before


def test_too_many_photos_get_a_clear_message(admin: TestClient, settings: Settings) -> None:
    code = add_report(settings, GAMBIR)
    response = act(
        admin,
        code,
        "resolve",
        {"public_note": "Selesai dikerjakan."},
        files=[("photos", (f"{n}.jpg", jpeg(n), "image/jpeg")) for n in range(2)],
    )
    assert response.status_code == 422 and "Paling banyak 1 foto" in response.text
    assert report_row(settings, code)["status"] == "received"


def test_a_duplicate_and_its_main_report_link_each_other(
    admin: TestClient, settings: Settings
) -> None:
    main = add_report(settings, GAMBIR, description="Laporan pertama soal sampah pasar.")
    copy = add_report(settings, GAMBIR, description="Laporan kedua soal sampah pasar.")
    response = act(admin, copy, "duplicate", {"duplicate_of": main.lower()})
    assert response.status_code == 303
    copy_row, main_row = report_row(settings, copy), report_row(settings, main)
    assert copy_row["status"] == "duplicate" and copy_row["duplicate_of"] == main_row["id"]
    assert f'href="/staf/laporan/{main}"' in admin.get(f"/staf/laporan/{copy}").text
    assert f'href="/staf/laporan/{copy}"' in admin.get(f"/staf/laporan/{main}").text


def test_a_report_cannot_be_merged_into_itself(admin: TestClient, settings: Settings) -> None:
    code = add_report(settings, GAMBIR)
    response = act(admin, code, "duplicate", {"duplicate_of": code})
    assert response.status_code == 422 and report_row(settings, code)["status"] == "received"


def test_moving_a_report_out_of_the_officers_area_returns_to_the_inbox(
    client: TestClient, settings: Settings
) -> None:
    add_account(settings, "gambir1", areas=[GAMBIR])
    code = add_report(settings, GAMBIR)
    login(client, "gambir1")
    response = act(client, code, "recategorise", {"area_code": CIDENG, "category_code": "jalan"})
    assert response.status_code == 303 and response.headers["location"].startswith("/staf?")
    row = report_row(settings, code)
    assert row["area_code"] == CIDENG and row["category_code"] == "jalan"
    assert client.get(f"/staf/laporan/{code}").status_code == 404


def test_an_internal_note_stays_on_the_staff_side(admin: TestClient, settings: Settings) -> None:
    code = add_report(settings, GAMBIR)
    secret = "Pelapor adalah ketua RT, sudah sering melapor."
    assert act(admin, code, "note", {"internal_note": secret}).status_code == 303
    assert secret in admin.get(f"/staf/laporan/{code}").text
    public = admin.get(f"/t/{code}")
    assert public.status_code == 200 and secret not in public.text


def test_canned_replies_are_offered_as_a_list_and_as_a_select(
    admin: TestClient, settings: Settings
) -> None:
    code = add_report(settings, GAMBIR, category="sampah")
    page = admin.get(f"/staf/laporan/{code}").text
    # Without JavaScript: a list to copy from. With it: a select that fills the note.
    assert "Jawaban siap pakai untuk jenis masalah ini" in page
    assert "Sampah di lokasi sudah diangkut petugas. Terima kasih." in page
    assert 'class="canned js-only"' in page and 'data-fills="verify-public_note"' in page
    assert "Perbaikan jalan sudah masuk jadwal" not in page  # another category's reply


def test_supervisors_get_403_on_every_action(client: TestClient, settings: Settings) -> None:
    add_account(settings, "super", "supervisor")
    code = add_report(settings, GAMBIR)
    login(client, "super")
    token = hidden(client.get("/staf").text, "csrf_token")
    for kind in lifecycle.TRANSITIONS:
        response = client.post(
            f"/staf/laporan/{code}/{kind}", data={"csrf_token": token, "version": "1"}
        )
        assert response.status_code == 403
    assert report_row(settings, code)["version"] == 1


# --- intake -------------------------------------------------------------------------------


def intake_form(**fields: str) -> dict[str, str]:
    base = {
        "channel": "phone",
        "category": "sampah",
        "area": GAMBIR,
        "description": "Warga menelepon: sampah menumpuk di depan pasar sejak Senin.",
        "reporter_name": "Ibu Ratna",
        "reporter_phone": "0812 3456 7890",
    }
    base.update(fields)
    return base


def local_input(moment: datetime) -> str:
    return moment.astimezone(ZoneInfo("Asia/Jakarta")).strftime("%Y-%m-%dT%H:%M")


def test_a_phone_complaint_is_timed_from_when_the_resident_called(
    client: TestClient, settings: Settings
) -> None:
    officer = add_account(settings, "gambir1", areas=[GAMBIR])
    login(client, "gambir1")
    page = client.get("/staf/lapor")
    assert page.status_code == 200 and 'type="datetime-local"' in page.text
    called = (utc_now() - timedelta(hours=3)).replace(second=0)
    response = client.post(
        "/staf/lapor",
        data={
            **intake_form(complained_at=local_input(called)),
            "csrf_token": hidden(page.text, "csrf_token"),
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    location = response.headers["location"]
    match = re.match(r"^/staf/lapor/([0-9A-Z]{8})/struk$", location)
    assert match, location
    row = report_row(settings, match[1])
    assert row["channel"] == "phone" and row["created_by"] == officer
    assert row["written_at"] == to_text(called)
    assert row["reporter_phone"] == "081234567890"

    async def expected() -> Deadlines:
        async with Database(settings.database) as db, db.read() as conn:
            category = await report_db.category(conn, "sampah")
            holidays = await report_db.holidays(conn)
            return deadlines_for(category, called, holidays, "Asia/Jakarta")

    due = asyncio.run(expected())
    assert row["response_due_at"] == to_text(due.response)
    assert from_text(row["response_due_at"]) == called + timedelta(hours=24)
    assert row["next_due_at"] == row["response_due_at"]
    first = rows(settings, "SELECT * FROM report_events WHERE report_id = ?", (row["id"],))[0]
    assert first["actor"] == "staff" and first["user_id"] == officer
    assert client.get(location).status_code == 200  # the receipt to print


@pytest.mark.parametrize("channel", lifecycle.STAFF_CHANNELS)
def test_intake_records_every_staff_channel(
    client: TestClient, settings: Settings, channel: str
) -> None:
    add_account(settings, "gambir1", areas=[GAMBIR])
    login(client, "gambir1")
    page = client.get("/staf/lapor")
    response = client.post(
        "/staf/lapor",
        data={
            **intake_form(channel=channel, complained_at=local_input(utc_now())),
            "csrf_token": hidden(page.text, "csrf_token"),
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    code = response.headers["location"].split("/")[3]
    assert report_row(settings, code)["channel"] == channel


def test_intake_keeps_what_was_typed_when_something_is_wrong(
    client: TestClient, settings: Settings
) -> None:
    add_account(settings, "gambir1", areas=[GAMBIR])
    login(client, "gambir1")
    token = hidden(client.get("/staf/lapor").text, "csrf_token")
    future = local_input(utc_now() + timedelta(days=1))
    response = client.post(
        "/staf/lapor",
        data={
            **intake_form(channel="web", description="", complained_at=future),
            "csrf_token": token,
        },
    )
    assert response.status_code == 422
    assert "Pilih lewat apa warga menyampaikan pengaduan." in response.text
    assert "tidak boleh di masa depan" in response.text
    assert "paling sedikit" in response.text
    assert 'value="Ibu Ratna"' in response.text and f'value="{future}"' in response.text
    assert rows(settings, "SELECT COUNT(*) FROM reports")[0][0] == 0


def test_intake_needs_the_csrf_token(client: TestClient, settings: Settings) -> None:
    add_account(settings, "gambir1", areas=[GAMBIR])
    login(client, "gambir1")
    response = client.post("/staf/lapor", data=intake_form(complained_at=local_input(utc_now())))
    assert response.status_code == 403
    assert rows(settings, "SELECT COUNT(*) FROM reports")[0][0] == 0


AREA_OPTION = re.compile(r'<option value="(\d{2}\.\d{2}\.\d{2}\.\d{4})"( selected)?>')


def area_options(html: str) -> dict[str, bool]:
    """The kelurahan the intake form offers, and whether each is chosen already."""
    picker = re.search(r'<select id="area".*?</select>', html, re.S)
    assert picker is not None
    return {code: bool(chosen) for code, chosen in AREA_OPTION.findall(picker[0])}


def test_an_officer_of_one_kelurahan_gets_only_theirs_already_chosen(
    client: TestClient, settings: Settings
) -> None:
    add_account(settings, "gambir1", areas=[GAMBIR])
    login(client, "gambir1")
    page = client.get("/staf/lapor").text
    assert area_options(page) == {GAMBIR: True}
    assert "Cideng" not in page


def test_an_officer_of_a_kecamatan_chooses_among_its_kelurahan(
    client: TestClient, settings: Settings
) -> None:
    add_account(settings, "kec", areas=["31.71.01"])  # Kecamatan Gambir
    login(client, "kec")
    options = area_options(client.get("/staf/lapor").text)
    assert GAMBIR in options and CIDENG in options
    assert all(code.startswith("31.71.01.") for code in options)
    assert not any(options.values())  # several: the officer chooses


@pytest.mark.parametrize(("role", "agency"), [("admin", None), ("officer", "DLH")])
def test_admins_and_agency_officers_keep_every_kelurahan_by_kecamatan(
    client: TestClient, settings: Settings, role: str, agency: str | None
) -> None:
    add_account(settings, "someone", role, agency=agency)
    login(client, "someone")
    page = client.get("/staf/lapor").text
    (total,) = rows(settings, "SELECT COUNT(*) FROM areas WHERE level = 4")[0]
    assert len(area_options(page)) == total
    assert '<optgroup label="Kec. Gambir (' in page


def test_intake_refuses_a_kelurahan_outside_the_officers_areas_and_keeps_the_form(
    client: TestClient, settings: Settings
) -> None:
    add_account(settings, "gambir1", areas=[GAMBIR])
    login(client, "gambir1")
    token = hidden(client.get("/staf/lapor").text, "csrf_token")
    response = client.post(
        "/staf/lapor",
        data={
            **intake_form(area=CIDENG, complained_at=local_input(utc_now())),
            "csrf_token": token,
        },
        follow_redirects=False,
    )
    assert response.status_code == 422
    assert "di luar wilayah tugas Anda" in response.text
    assert 'value="Ibu Ratna"' in response.text and "sejak Senin" in response.text
    assert rows(settings, "SELECT COUNT(*) FROM reports")[0][0] == 0


def test_moving_a_report_out_of_scope_goes_to_the_inbox_with_or_without_htmx(
    client: TestClient, settings: Settings
) -> None:
    add_account(settings, "gambir1", areas=[GAMBIR])
    login(client, "gambir1")
    plain, enhanced = add_report(settings, GAMBIR), add_report(settings, GAMBIR)
    moved = act(client, plain, "recategorise", {"area_code": CIDENG})
    assert moved.status_code == 303
    assert moved.headers["location"] == f"/staf?pindah={plain}"
    # htmx would follow a 303 and look for the case in the inbox page: told to navigate.
    page = client.get(f"/staf/laporan/{enhanced}").text
    moved = client.post(
        f"/staf/laporan/{enhanced}/recategorise",
        data={
            "csrf_token": hidden(page, "csrf_token"),
            "version": "1",
            "area_code": CIDENG,
        },
        headers={"HX-Request": "true"},
        follow_redirects=False,
    )
    assert moved.status_code == 200 and moved.headers["hx-redirect"] == f"/staf?pindah={enhanced}"
    assert report_row(settings, enhanced)["area_code"] == CIDENG
