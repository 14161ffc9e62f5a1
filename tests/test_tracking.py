"""The receipt, the tracking timeline, privacy on public pages, and "Sudah beres?"."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta

from starlette.testclient import TestClient

from db.database import Database
from tests.backend import execute, query, scalar
from tests.images import camera_like, encode
from web import lifecycle
from web.clock import to_text, utc_now
from web.settings import Settings

GAMBIR = "31.71.01.1001"
PERSONAL = {
    "reporter_name": "Siti Rahmawati",
    "reporter_phone": "081298765432",
    "reporter_email": "siti.rahma@contoh.id",
    "lat": "-6.1754321",
    "lon": "106.8272123",
}


def file_report(client: TestClient, **extra: str) -> tuple[str, str]:
    data = {
        "category": "sampah",
        "area": GAMBIR,
        "description": "Sampah menumpuk empat hari di TPS samping masjid.",
        **extra,
    }
    response = client.post("/lapor", data=data, follow_redirects=False)
    assert response.status_code == 303, response.text
    match = re.search(r"/t/([0-9A-Z]{8})/struk\?k=(\S+)", response.headers["location"])
    return match[1], match[2]


def act(settings: Settings, code: str, kind: str, **kwargs: object) -> None:
    async def run() -> None:
        async with Database(settings.database) as db:
            row = await db.fetchone(
                "SELECT version FROM reports WHERE code = :code", {"code": code}
            )
            await lifecycle.apply_action(
                db, code, lifecycle.Action(kind=kind, expected_version=row["version"], **kwargs)
            )

    asyncio.run(run())


def set_column(settings: Settings, code: str, column: str, value: object) -> None:
    execute(settings, f"UPDATE reports SET {column} = ? WHERE code = ?", (value, code))


def assert_no_personal_data(page: str) -> None:
    for value in ("Siti", "081298765432", "siti.rahma@", "6.175432", "106.827212"):
        assert value not in page, value


def test_receipt_shows_code_qr_whatsapp_link_and_the_private_link(client: TestClient) -> None:
    code, token = file_report(client, **PERSONAL)
    page = client.get(f"/t/{code}/struk?k={token}")
    assert page.headers["cache-control"] == "private, no-store"
    text = page.text
    assert f"{code[:4]}-{code[4:]}" in text
    assert "<svg" in text and "qr-code" in text
    assert re.search(r'href="https://wa\.me/\?text=[^"]*' + code[:4], text)
    assert f"/t/{code}/p/{token}" in text
    assert_no_personal_data(text)
    assert "@page" in client.get(re.search(r'href="(/static/[^"]+app\.css)"', text)[1]).text


def test_receipt_without_the_token_hides_the_private_link(client: TestClient) -> None:
    code, token = file_report(client)
    for url in (f"/t/{code}/struk", f"/t/{code}/struk?k=forged"):
        text = client.get(url).text
        assert f"{code[:4]}-{code[4:]}" in text and token not in text and "/p/" not in text


def test_tracking_page_shows_the_steps_with_the_next_deadline(client: TestClient) -> None:
    code, _ = file_report(client)
    page = client.get(f"/t/{code}").text
    steps = re.findall(r'<li class="(\w+)">\s*<span class="step">([^<]+)</span>', page)
    assert steps == [
        ("current", "Diterima"),
        ("todo", "Diverifikasi"),
        ("todo", "Diteruskan ke instansi"),
        ("todo", "Sedang dikerjakan"),
        ("todo", "Selesai"),
    ]
    assert "Tanggapan pertama paling lambat" in page


def test_each_step_staff_takes_appears_with_its_note_and_after_photo(
    client: TestClient, settings: Settings
) -> None:
    code, _ = file_report(client, **PERSONAL)
    act(
        settings,
        code,
        "verify",
        public_note="Sudah dicek ke lokasi.",
        internal_note="Pelapor tetangga pak RT",
    )
    act(settings, code, "dispatch", agency_code="DLH", public_note="Diteruskan ke DLH.")
    act(settings, code, "progress", public_note="Truk dijadwalkan besok pagi.")
    photo = encode(camera_like((800, 600)), "JPEG")
    from tests.helpers import store_photo
    from web.photos import process_photo

    processed = process_photo(photo)
    store_photo(settings, processed)
    act(
        settings,
        code,
        "resolve",
        public_note="Sampah sudah diangkut.",
        photos=[processed],
    )
    page = client.get(f"/t/{code}").text
    steps = re.findall(r'<li class="(\w+)">\s*<span class="step">([^<]+)</span>', page)
    assert [s for s, _ in steps] == ["done"] * 5
    for note in (
        "Sudah dicek ke lokasi.",
        "Diteruskan ke DLH.",
        "Truk dijadwalkan besok pagi.",
        "Sampah sudah diangkut.",
    ):
        assert note in page
    assert "Dinas Lingkungan Hidup" in page
    assert f"/foto/{processed.sha256}.thumb.jpg" in page
    assert "pak RT" not in page  # internal notes never reach the public
    assert_no_personal_data(page)


def test_rejected_report_shows_its_reason_and_no_steps_to_come(
    client: TestClient, settings: Settings
) -> None:
    code, _ = file_report(client)
    act(settings, code, "reject", public_note="Lokasi di luar wilayah kota.")
    page = client.get(f"/t/{code}").text
    assert "Tidak dapat ditindaklanjuti" in page and "Lokasi di luar wilayah kota." in page
    assert 'class="todo"' not in page


def test_merged_report_links_to_the_report_it_joined_and_back(
    client: TestClient, settings: Settings
) -> None:
    main, _ = file_report(client)
    copy, _ = file_report(client)
    act(settings, copy, "duplicate", duplicate_of_code=main, public_note="Sudah dilaporkan.")
    assert f'href="/t/{main}"' in client.get(f"/t/{copy}").text
    assert f'href="/t/{copy}"' in client.get(f"/t/{main}").text


def test_anonymous_report_shows_no_identity_anywhere_public(client: TestClient) -> None:
    code, token = file_report(client, anonymous="1", **PERSONAL)
    for url in (f"/t/{code}", f"/t/{code}/struk?k={token}", f"/t/{code}/p/{token}"):
        assert_no_personal_data(client.get(url).text)


def test_confidential_report_content_shows_only_through_the_private_link(
    client: TestClient, settings: Settings
) -> None:
    code, token = file_report(client, confidential="1", **PERSONAL)
    public = client.get(f"/t/{code}").text
    assert "Sampah menumpuk" not in public and "dirahasiakan" in public
    assert "Diterima" in public  # the status is still visible
    private = client.get(f"/t/{code}/p/{token}")
    assert "Sampah menumpuk" in private.text
    assert private.headers["cache-control"] == "private, no-store"
    assert client.get(f"/t/{code}/p/not-the-token").status_code == 404


def test_confidential_photos_are_not_served_publicly(
    client: TestClient, settings: Settings
) -> None:
    data = {
        "category": "pungli",
        "area": GAMBIR,
        "description": "Petugas meminta uang untuk surat pengantar.",
    }
    photo = encode(camera_like((640, 480)), "JPEG")
    response = client.post(
        "/lapor",
        data=data,
        files=[("photos", ("a.jpg", photo, "image/jpeg"))],
        follow_redirects=False,
    )
    code, token = re.search(r"/t/(\w{8})/struk\?k=(\S+)", response.headers["location"]).groups()
    sha = scalar(settings, "SELECT sha256 FROM photos")
    assert client.get(f"/foto/{sha}.jpg").status_code == 404
    assert client.get(f"/t/{code}/p/{token}/foto/{sha}.jpg").status_code == 200
    assert sha not in client.get(f"/t/{code}").text


def test_resident_confirms_it_is_fixed_with_a_rating(
    client: TestClient, settings: Settings
) -> None:
    code, token = file_report(client)
    act(settings, code, "resolve", public_note="Sudah diangkut.")
    page = client.get(f"/t/{code}/p/{token}").text
    assert "Sudah beres?" in page
    response = client.post(
        f"/t/{code}/p/{token}/jawab", data={"fixed": "ya", "rating": "4"}, follow_redirects=False
    )
    assert response.status_code == 303
    assert query(settings, "SELECT status, rating FROM reports")[0].astuple() == ("closed", 4)
    assert "Pelapor menyatakan sudah beres" in client.get(f"/t/{code}").text


def test_not_fixed_within_14_days_reopens_with_a_timeline_event(
    client: TestClient, settings: Settings
) -> None:
    code, token = file_report(client)
    act(settings, code, "resolve", public_note="Sudah diangkut.")
    set_column(
        settings,
        code,
        "resolved_at",
        to_text(utc_now() - timedelta(days=13)),
    )
    response = client.post(
        f"/t/{code}/p/{token}/jawab",
        data={"fixed": "belum", "note": "Masih ada sisa sampah."},
        follow_redirects=False,
    )
    assert response.status_code == 303
    status, reopened, due = query(
        settings, "SELECT status, reopen_count, next_due_at FROM reports"
    )[0].astuple()
    assert (status, reopened) == ("in_progress", 1) and due is not None
    page = client.get(f"/t/{code}").text
    assert "Dibuka kembali oleh pelapor" in page and "Masih ada sisa sampah." in page


def test_not_fixed_after_14_days_is_refused_and_the_note_is_kept(
    client: TestClient, settings: Settings
) -> None:
    code, token = file_report(client)
    act(settings, code, "resolve", public_note="Sudah diangkut.")
    set_column(
        settings,
        code,
        "resolved_at",
        to_text(utc_now() - timedelta(days=15)),
    )
    assert "Batas 14 hari" in client.get(f"/t/{code}/p/{token}").text
    response = client.post(
        f"/t/{code}/p/{token}/jawab", data={"fixed": "belum", "note": "Masih kotor."}
    )
    assert response.status_code == 422
    assert "14 hari" in response.text
    assert scalar(settings, "SELECT status FROM reports") == "resolved"


def test_answer_needs_the_private_token(client: TestClient, settings: Settings) -> None:
    code, _token = file_report(client)
    act(settings, code, "resolve", public_note="Sudah.")
    response = client.post(f"/t/{code}/p/forged/jawab", data={"fixed": "ya"})
    assert response.status_code == 404
    assert scalar(settings, "SELECT status FROM reports") == "resolved"


def test_codes_are_case_insensitive_and_the_dash_is_optional(client: TestClient) -> None:
    code, _ = file_report(client)
    for typed in (code.lower(), f"{code[:4]}-{code[4:]}", f" {code[:4]} {code[4:]} "):
        response = client.get("/lacak", params={"kode": typed}, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].endswith(f"/t/{code}")


def test_unknown_code_lookups_are_rate_limited_per_client(client: TestClient) -> None:
    file_report(client)
    for _ in range(20):
        assert client.get("/t/ZZZZZZZZ").status_code == 404
    limited = client.get("/t/YYYYYYYY")
    assert limited.status_code == 429 and "Retry-After" in limited.headers
    assert client.get("/lacak", params={"kode": "YYYY-YYYY"}).status_code == 429


def test_a_code_that_exists_answers_even_after_many_mistyped_ones(client: TestClient) -> None:
    code, token = file_report(client)
    for _ in range(25):
        client.get("/t/ZZZZZZZZ")
    assert client.get("/t/ZZZZZZZZ").status_code == 429
    assert client.get(f"/t/{code}").status_code == 200
    assert client.get(f"/t/{code}/struk", params={"k": token}).status_code == 200
    assert client.get(f"/t/{code}/p/{token}").status_code == 200
    found = client.get("/lacak", params={"kode": code}, follow_redirects=False)
    assert found.status_code == 303


def test_lookup_box_explains_a_mistyped_code(client: TestClient) -> None:
    response = client.get("/lacak", params={"kode": "12"})
    assert response.status_code == 400 and "8 huruf" in response.text
    response = client.get("/lacak", params={"kode": "ZZZZ-ZZZZ"})
    assert response.status_code == 404 and "ZZZZ-ZZZZ" in response.text
