""" "Data saya" through a report's private link: shows everything held about that report's
reporter, corrects the contact with the report form's checks (nothing typed lost), and
erases it at once; the report stays, staff see who erased it, and on SQLite the values are
gone from the files. Cross-site posts are refused; logs hold no personal data."""

from __future__ import annotations

import logging
import re
import struct
from pathlib import Path

import pytest
from itsdangerous import URLSafeSerializer
from starlette.testclient import TestClient

from tests.backend import dump, execute, scalar
from tests.helpers import GAMBIR, add_account, add_report, report_row, rows, staff_client
from web.settings import Settings

NAME = "Ratna Datasayawati"
PHONE = "081377665544"
EMAIL = "ratna.datasaya@contoh.id"
HELPED = "Nenek Datasaya Sumirah"
LAT, LON = -6.1761234, 106.8265432
OTHER_NAME = "Bambang Tetangga Lain"
OTHER_PHONE = "081300112233"


def private_token(settings: Settings, code: str) -> str:
    return str(URLSafeSerializer(settings.secret_key, salt="aduan.report-private").dumps(code))


def data_url(settings: Settings, code: str) -> str:
    return f"/t/{code}/p/{private_token(settings, code)}/data"


def reported(settings: Settings) -> tuple[str, str]:
    """Ratna's report (with the grandmother she filed for and an exact point) and a
    neighbour's report with his own contact."""
    code = add_report(settings, reporter_name=NAME, reporter_phone=PHONE)
    execute(
        settings,
        "UPDATE reports SET reporter_email = :e, on_behalf = 1, on_behalf_name = :h,"
        " lat = :lat, lon = :lon, location_source = 'form', notify_by = 'email,sms'"
        " WHERE code = :c",
        {"e": EMAIL, "h": HELPED, "lat": LAT, "lon": LON, "c": code},
    )
    other = add_report(settings, reporter_name=OTHER_NAME, reporter_phone=OTHER_PHONE)
    return code, other


def test_data_saya_shows_everything_held_about_this_reporter_only(
    client: TestClient, settings: Settings
) -> None:
    code, _other = reported(settings)
    page = client.get(data_url(settings, code))
    assert page.status_code == 200
    assert page.headers["cache-control"] == "private, no-store"
    for value in (NAME, PHONE, EMAIL, HELPED, "-6.176123", "106.826543", "email, sms"):
        assert value in page.text, value
    assert OTHER_NAME not in page.text and OTHER_PHONE not in page.text
    # Reached from the private page, and only with the right token.
    private = client.get(f"/t/{code}/p/{private_token(settings, code)}")
    assert data_url(settings, code) in private.text
    assert client.get(f"/t/{code}/p/bukan-token/data").status_code == 404
    assert client.get(data_url(settings, _other).replace(_other, code, 1)).status_code == 404


def test_the_page_is_in_english_when_chosen(client: TestClient, settings: Settings) -> None:
    code, _other = reported(settings)
    client.cookies.set("lang", "en")
    page = client.get(data_url(settings, code))
    assert "My data" in page.text and "Erase my contact" in page.text
    assert "Hapus kontak saya" not in page.text


def test_the_reporter_corrects_the_contact(client: TestClient, settings: Settings) -> None:
    code, other = reported(settings)
    response = client.post(
        data_url(settings, code) + "/ubah",
        data={
            "reporter_name": "Ratna D.",
            "reporter_phone": "0813-7766-0000",
            "reporter_email": "",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"].endswith("/data?disimpan=1")
    report = report_row(settings, code)
    assert (report["reporter_name"], report["reporter_phone"]) == ("Ratna D.", "081377660000")
    assert report["reporter_email"] == ""
    assert report["notify_by"] == "sms"  # email went with the address
    assert report_row(settings, other)["reporter_phone"] == OTHER_PHONE
    page = client.get(response.headers["location"])
    assert "Perbaikan kontak Anda sudah disimpan." in page.text


def test_a_wrong_phone_or_email_comes_back_with_its_message_and_nothing_typed_lost(
    client: TestClient, settings: Settings
) -> None:
    code, _other = reported(settings)
    response = client.post(
        data_url(settings, code) + "/ubah",
        data={"reporter_name": "Ratna Baru", "reporter_phone": "12345", "reporter_email": "x@"},
    )
    assert response.status_code == 422
    assert "Nomor HP tidak dikenali" in response.text
    assert "Alamat email tidak dikenali" in response.text
    for typed in ('value="Ratna Baru"', 'value="12345"', 'value="x@"'):
        assert typed in response.text
    assert re.search(r'id="reporter_phone"[^>]*aria-invalid="true"', response.text)
    assert report_row(settings, code)["reporter_phone"] == PHONE  # nothing stored


def test_erasing_removes_exactly_this_reports_contact_and_keeps_the_report(
    client: TestClient, settings: Settings
) -> None:
    code, other = reported(settings)
    report_id = report_row(settings, code)["id"]
    events = rows(settings, "SELECT * FROM report_events WHERE report_id = ?", (report_id,))
    # Without the tick nothing is erased, and the page says what is missing.
    refused = client.post(data_url(settings, code) + "/hapus", data={})
    assert refused.status_code == 422 and "Centang dulu" in refused.text
    assert report_row(settings, code)["reporter_phone"] == PHONE
    response = client.post(
        data_url(settings, code) + "/hapus", data={"yakin": "ya"}, follow_redirects=False
    )
    assert response.status_code == 303
    report = report_row(settings, code)
    assert report["reporter_name"] == report["reporter_phone"] == report["reporter_email"] == ""
    assert report["on_behalf_name"] == "" and report["lat"] is None
    assert report["notify_by"] == "" and report["contact_erased_by"] == "reporter"
    assert report["description"] and report["status"] == "received"
    assert rows(settings, "SELECT * FROM report_events WHERE report_id = ?", (report_id,)) == (
        events
    )
    assert report_row(settings, other)["reporter_name"] == OTHER_NAME  # not someone else's
    everything = dump(settings)
    for value in (NAME, PHONE, EMAIL, HELPED):
        assert value not in everything
    page = client.get(response.headers["location"])
    assert "Kontak Anda sudah dihapus" in page.text and PHONE not in page.text
    assert 'action="' + data_url(settings, code) + '/ubah"' not in page.text
    # A correction after the erasure stores nothing.
    client.post(data_url(settings, code) + "/ubah", data={"reporter_phone": PHONE})
    assert report_row(settings, code)["reporter_phone"] == ""
    # Staff see who erased it.
    add_account(settings, "gambir1", areas=[GAMBIR])
    with staff_client(settings, "gambir1") as staff:
        case = staff.get(f"/staf/laporan/{code}")
        assert "Kontak dihapus oleh pelapor" in case.text


def test_erased_values_are_nowhere_in_the_sqlite_files_while_the_server_runs(
    client: TestClient, settings: Settings
) -> None:
    if not settings.uses_sqlite:
        pytest.skip("the files of SQLite")
    code, _other = reported(settings)
    client.get(data_url(settings, code))  # the server's connections are open
    client.post(data_url(settings, code) + "/hapus", data={"yakin": "ya"})
    path = settings.db_path
    for file in (path, Path(f"{path}-wal")):
        if not file.exists():
            continue
        data = file.read_bytes()
        for value in (NAME, PHONE, EMAIL, HELPED):
            assert value.encode() not in data, (file.name, value)
        for number in (LAT, LON):
            assert struct.pack(">d", number) not in data, (file.name, number)
    assert OTHER_PHONE.encode() in path.read_bytes() + Path(f"{path}-wal").read_bytes()


def test_a_cross_site_post_changes_nothing(client: TestClient, settings: Settings) -> None:
    code, _other = reported(settings)
    for action, data in (("/hapus", {"yakin": "ya"}), ("/ubah", {"reporter_name": "X"})):
        response = client.post(
            data_url(settings, code) + action,
            data=data,
            headers={"Origin": "https://jahat.example", "Sec-Fetch-Site": "cross-site"},
        )
        assert response.status_code == 403
    assert report_row(settings, code)["reporter_name"] == NAME


def test_the_pages_log_no_personal_data(
    client: TestClient, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    code, _other = reported(settings)
    token = private_token(settings, code)
    with caplog.at_level(logging.INFO):
        client.get(data_url(settings, code))
        client.post(data_url(settings, code) + "/ubah", data={"reporter_phone": "123"})
        client.post(
            data_url(settings, code) + "/ubah",
            data={"reporter_name": "Ratna Lagi", "reporter_phone": PHONE},
        )
        client.post(data_url(settings, code) + "/hapus", data={"yakin": "ya"})
        client.get("/privasi")
    # Aduan's own lines (the test client logs the URLs it asks for).
    text = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("aduan"))
    assert "route=my_data" in text and "route=my_data_erase" in text
    for secret in (NAME, "Ratna Lagi", PHONE, EMAIL, HELPED, token, "-6.176"):
        assert secret not in text
    assert scalar(settings, "SELECT COUNT(*) FROM reports WHERE contact_erased_at IS NULL") == 1
