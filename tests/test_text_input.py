"""Control characters, bidirectional overrides, invisible padding and undecodable bytes in
every text field that is stored: refused with a message by the field (the rest of the form
kept), or removed where they only disguise the text."""

from __future__ import annotations

import html
import re
import uuid
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.backend import query
from tests.helpers import GAMBIR, add_account, add_report, csrf_of, hidden, login
from tests.images import camera_like, encode
from tests.test_open311 import BASE, assert_errors
from tests.test_open311_post import form as open311_form
from tests.test_open311_post import make_key
from tests.test_open311_post import post as open311_post
from tests.test_reporting import errors_of
from tests.test_tracking import act as resolve
from tests.test_tracking import file_report
from web import text
from web.settings import Settings

VALID = {
    "category": "sampah",
    "area": GAMBIR,
    "description": "Sampah menumpuk empat hari di TPS samping masjid.",
}
CONTROL = "Ada karakter kendali tak terlihat"
UNDECODABLE = "Sebagian teks tidak terbaca"


def rows(settings: Settings, sql: str, params: tuple[Any, ...] = ()) -> list[tuple]:
    return [r.astuple() for r in query(settings, sql, params)]


def count_reports(settings: Settings) -> int:
    return rows(settings, "SELECT COUNT(*) FROM reports")[0][0]


def multipart(fields: dict[str, bytes], boundary: str = "batas1234") -> tuple[bytes, str]:
    """A multipart body built by hand, so a field can carry bytes that are not UTF-8."""
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
        + value
        + b"\r\n"
        for name, value in fields.items()
    ]
    return b"".join(
        parts
    ) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def urlencoded(fields: dict[str, bytes]) -> bytes:
    return b"&".join(name.encode() + b"=" + value for name, value in fields.items())


# --- the cleaner itself ------------------------------------------------------------------------


def test_the_cleaner_removes_disguises_and_refuses_controls() -> None:
    assert text.clean("Budi\u202egpj.exe") == text.Cleaned("Budigpj.exe")
    assert text.clean("a\u2066b\u2069c\u200bd\ufeff") == text.Cleaned("abcd")
    assert text.clean("baris 1\r\nbaris 2\rbaris 3\tx", multiline=True).text == (
        "baris 1\nbaris 2\nbaris 3\tx"
    )
    assert text.clean("satu\nbaris\tsaja").text == "satu baris saja"
    assert text.clean("a\x00b") == text.Cleaned("ab", "control")
    assert text.clean("a\x1b[31mb\x7f\x85", multiline=True) == text.Cleaned("a[31mb", "control")
    assert text.clean("caf\ufffd") == text.Cleaned("caf\ufffd", "undecodable")
    # emoji sequences keep their joiners; ordinary accents and scripts are untouched
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    assert text.clean(f"{family} é ü ß 中文 العربية").text == f"{family} é ü ß 中文 العربية"


def test_visible_length_counts_what_a_reader_sees() -> None:
    assert text.visible_length("\u200b" * 12) == 0
    assert text.visible_length("\u3164" * 12) == 0
    assert text.visible_length("Lampu mati") == 10
    assert text.visible_length("a" + " " * 20 + "b") == 3
    assert text.visible_length("e\u0301" * 10) == 10


# --- the resident's form and the outbox ------------------------------------------------------


@pytest.mark.parametrize("field", ["description", "reporter_name", "address", "volunteer_name"])
def test_a_nul_byte_is_refused_by_its_field_and_the_form_is_kept(
    client: TestClient, settings: Settings, field: str
) -> None:
    data = {**VALID, "reporter_name": "Siti Aminah", "address": "Depan masjid"}
    data["on_behalf"] = "1"
    data["on_behalf_name"] = "Pak Darto"
    data["on_behalf_no_phone"] = "1"
    data["volunteer_name"] = "Rina"
    data[field] = data[field][:5] + "\x00" + data[field][5:]
    response = client.post("/lapor", data=data, follow_redirects=False)
    assert response.status_code == 422
    assert errors_of(response.text)[field].startswith(CONTROL)
    assert "\x00" not in response.text
    assert html.escape(data[field].replace("\x00", ""), quote=True) in response.text
    assert count_reports(settings) == 0


def test_a_description_of_invisible_characters_is_too_short(
    client: TestClient, settings: Settings
) -> None:
    for padding in ("\u200b" * 12, "\u3164" * 12, "ab" + "\u200b" * 10, "a" + " " * 12 + "b"):
        response = client.post("/lapor", data={**VALID, "description": padding})
        assert response.status_code == 422
        assert "paling sedikit 10 huruf" in errors_of(response.text)["description"]
    assert count_reports(settings) == 0


def test_bidi_overrides_are_removed_and_newlines_normalised_before_storing(
    client: TestClient, settings: Settings
) -> None:
    data = {
        **VALID,
        "description": "Sampah\r\nmenumpuk\rdi\tpasar \u202esejak seminggu.",
        "reporter_name": "Budi\u202egpj.exe",
        "address": "Gang \u2066Kelor\u2069\u200b",
    }
    assert client.post("/lapor", data=data, follow_redirects=False).status_code == 303
    assert rows(settings, "SELECT description, reporter_name, address FROM reports") == [
        ("Sampah\nmenumpuk\ndi\tpasar sejak seminggu.", "Budigpj.exe", "Gang Kelor")
    ]


def test_invalid_utf8_in_a_multipart_field_is_refused_not_read_as_latin1(
    client: TestClient, settings: Settings
) -> None:
    body, content_type = multipart(
        {
            "category": b"sampah",
            "area": GAMBIR.encode(),
            "description": b"Sampah menumpuk \xff\xfe di depan pasar sejak minggu lalu.",
            "reporter_name": "Siti Ésa".encode(),
        }
    )
    response = client.post("/lapor", content=body, headers={"content-type": content_type})
    assert response.status_code == 422
    assert errors_of(response.text)["description"].startswith(UNDECODABLE)
    assert "Sampah menumpuk \ufffd\ufffd di depan pasar" in response.text
    assert 'value="Siti Ésa"' in response.text  # valid UTF-8 beside it is read as typed
    assert count_reports(settings) == 0


@pytest.mark.parametrize(
    "raw", [b"Sampah+menumpuk+%FF+di+depan+pasar+lama", b"Sampah menumpuk \xe9 di pasar lama"]
)
def test_invalid_utf8_in_an_urlencoded_field_is_refused(
    client: TestClient, settings: Settings, raw: bytes
) -> None:
    fields = {"category": b"sampah", "area": GAMBIR.encode(), "description": raw}
    response = client.post(
        "/lapor",
        content=urlencoded(fields),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 422
    assert errors_of(response.text)["description"].startswith(UNDECODABLE)
    assert count_reports(settings) == 0


def test_utf8_sent_raw_in_an_urlencoded_body_is_read_as_utf8(
    client: TestClient, settings: Settings
) -> None:
    fields = {
        "category": b"sampah",
        "area": GAMBIR.encode(),
        "description": "Sampah menumpuk di café pasar lama".encode(),
    }
    response = client.post(
        "/lapor",
        content=urlencoded(fields),
        headers={"content-type": "application/x-www-form-urlencoded"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert rows(settings, "SELECT description FROM reports") == [
        ("Sampah menumpuk di café pasar lama",)
    ]


def test_the_outbox_api_answers_422_with_the_field_message(
    client: TestClient, settings: Settings
) -> None:
    body, content_type = multipart(
        {
            "category": b"sampah",
            "area": GAMBIR.encode(),
            "description": b"Sampah menumpuk di depan pasar sejak minggu lalu.",
            "reporter_name": b"Siti\x00",
            "address": b"Depan \xc3\x28 pasar",
        }
    )
    response = client.post(
        "/api/v1/reports",
        content=body,
        headers={"content-type": content_type, "Idempotency-Key": str(uuid.uuid4())},
    )
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert errors["reporter_name"].startswith(CONTROL)
    assert errors["address"].startswith(UNDECODABLE)
    assert count_reports(settings) == 0


def test_a_photo_name_with_an_override_is_shown_without_it(client: TestClient) -> None:
    files = [("photos", ("Budi\u202egpj.exe", b"not a photo at all", "image/jpeg"))]
    response = client.post("/lapor", data=VALID, files=files)
    assert response.status_code == 422
    assert "Budigpj.exe" in response.text and "\u202e" not in response.text


# --- staff ---------------------------------------------------------------------------------


def test_staff_intake_refuses_control_characters(client: TestClient, settings: Settings) -> None:
    add_account(settings, "gambir1", areas=[GAMBIR])
    login(client, "gambir1")
    page = client.get("/staf/lapor").text
    data = {
        **VALID,
        "csrf_token": hidden(page, "csrf_token"),
        "channel": "walk_in",
        "complained_at": hidden_value(page, "complained_at"),
        "description": "Warga datang\x07 melapor sampah menumpuk di pasar.",
    }
    response = client.post("/staf/lapor", data=data)
    assert response.status_code == 422
    assert errors_of(response.text)["description"].startswith(CONTROL)
    assert count_reports(settings) == 0


def hidden_value(page: str, name: str) -> str:
    match = re.search(rf'name="{name}"[^>]*value="([^"]*)"', page)
    assert match
    return match[1]


def test_a_report_note_with_control_characters_is_refused_with_the_note_kept(
    client: TestClient, settings: Settings
) -> None:
    add_account(settings, "gambir1", areas=[GAMBIR])
    code = add_report(settings)
    login(client, "gambir1")
    page = client.get(f"/staf/laporan/{code}").text
    version = re.search(r'name="version" value="(\d+)"', page)[1]
    data = {
        "csrf_token": hidden(page, "csrf_token"),
        "version": version,
        "public_note": "Sudah dicek\x00 petugas",
        "internal_note": "Catatan \u202ekhusus",
    }
    response = client.post(f"/staf/laporan/{code}/verify", data=data)
    assert response.status_code == 422
    assert CONTROL in response.text and "Sudah dicek petugas" in response.text
    assert rows(settings, "SELECT status FROM reports") == [("received",)]
    data["public_note"] = "Sudah dicek petugas"
    response = client.post(f"/staf/laporan/{code}/verify", data=data, follow_redirects=False)
    assert response.status_code == 303
    assert rows(settings, "SELECT internal_note FROM report_events WHERE kind = 'verify'") == [
        ("Catatan khusus",)
    ]


def test_a_rejection_reason_of_invisible_characters_is_no_reason(
    client: TestClient, settings: Settings
) -> None:
    add_account(settings, "gambir1", areas=[GAMBIR])
    code = add_report(settings)
    login(client, "gambir1")
    page = client.get(f"/staf/laporan/{code}").text
    version = re.search(r'name="version" value="(\d+)"', page)[1]
    data = {"csrf_token": hidden(page, "csrf_token"), "version": version}
    for blank in ("\u200b\u2060\u202e", "\u3164\u3164", "\u2800"):
        response = client.post(f"/staf/laporan/{code}/reject", data={**data, "public_note": blank})
        assert response.status_code == 422
        assert "Alasan penolakan wajib diisi." in response.text
    assert rows(settings, "SELECT status FROM reports") == [("received",)]


def test_admin_names_refuse_control_characters(client: TestClient, settings: Settings) -> None:
    other = add_account(settings, "lain1", areas=[GAMBIR])
    add_account(settings, "admin1", "admin")
    login(client, "admin1")
    token = csrf_of(client)
    holidays = rows(settings, "SELECT * FROM holidays ORDER BY day")
    account = client.post(
        "/staf/admin/akun",
        data={
            "csrf_token": token,
            "username": "baru1",
            "display_name": "Petugas\x00 Baru",
            "password": "kata-sandi-baru-123",
            "role": "admin",
        },
    )
    assert account.status_code == 422 and CONTROL in account.text
    scope = client.post(
        f"/staf/admin/akun/{other}/lingkup",
        data={"csrf_token": token, "role": "officer", "areas": GAMBIR, "display_name": "X\x1b"},
    )
    assert scope.status_code == 422 and CONTROL in scope.text
    key = client.post(
        "/staf/admin/api", data={"csrf_token": token, "name": "JAKI\x00", "rate_per_minute": "60"}
    )
    assert key.status_code == 422 and CONTROL in key.text
    holiday = client.post(
        "/staf/admin/libur", data={"csrf_token": token, "day": "2026-12-25", "name": "Natal\x00"}
    )
    assert holiday.status_code == 422 and CONTROL in holiday.text
    assert rows(settings, "SELECT COUNT(*) FROM users WHERE username = 'baru1'") == [(0,)]
    assert rows(settings, "SELECT display_name FROM users WHERE id = ?", (other,)) == [("Lain1",)]
    assert rows(settings, "SELECT COUNT(*) FROM api_keys") == [(0,)]
    assert rows(settings, "SELECT * FROM holidays ORDER BY day") == holidays


# --- the resident's answer -----------------------------------------------------------------


def test_the_residents_note_refuses_control_characters(
    client: TestClient, settings: Settings
) -> None:
    code, token = file_report(client)
    resolve(settings, code, "resolve", public_note="Sudah diangkut.")
    response = client.post(
        f"/t/{code}/p/{token}/jawab", data={"fixed": "belum", "note": "Masih\x00 kotor"}
    )
    assert response.status_code == 422
    assert CONTROL in response.text and "Masih kotor" in response.text
    blank = client.post(f"/t/{code}/p/{token}/jawab", data={"fixed": "belum", "note": "\u3164"})
    assert blank.status_code == 422 and "Ceritakan apa yang belum beres." in blank.text
    assert rows(settings, "SELECT status FROM reports") == [("resolved",)]


# --- Open311 -------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_open311_refuses_control_characters_and_undecodable_text(
    client: TestClient, settings: Settings, fmt: str
) -> None:
    key = make_key(client)
    response = open311_post(client, fmt, open311_form(key, description="Jalan\x00 berlubang"))
    assert "description contains control characters" in assert_errors(response, fmt, 400)[0]
    response = open311_post(client, fmt, open311_form(key, first_name="Budi\x1b"))
    assert "first_name contains control characters" in assert_errors(response, fmt, 400)[0]
    raw = urlencoded(
        {
            "api_key": key.encode(),
            "service_code": b"jalan",
            "address_string": b"Depan halte",
            "description": b"Jalan berlubang \xff",
            "attribute[kelurahan]": GAMBIR.encode(),
        }
    )
    response = client.post(
        f"{BASE}/requests.{fmt}",
        content=raw,
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert "description is not valid UTF-8" in assert_errors(response, fmt, 400)[0]
    assert count_reports(settings) == 0


def test_open311_removes_bidi_overrides(client: TestClient, settings: Settings) -> None:
    key = make_key(client)
    response = open311_post(
        client,
        "json",
        open311_form(key, first_name="Budi\u202egpj.exe", description="Jalan \u2066berlubang"),
    )
    assert response.status_code == 200
    assert rows(settings, "SELECT reporter_name, description FROM reports") == [
        ("Budigpj.exe", "Jalan berlubang")
    ]


# a real photo beside a bad text field keeps the photo for the next attempt
def test_a_refused_text_field_keeps_the_accepted_photo(client: TestClient) -> None:
    photo = encode(camera_like((800, 600)), "JPEG")
    response = client.post(
        "/lapor",
        data={**VALID, "reporter_name": "Siti\x00"},
        files=[("photos", ("a.jpg", photo, "image/jpeg"))],
    )
    assert response.status_code == 422
    assert 'name="held_photos" value="' in response.text
