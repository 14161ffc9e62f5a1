"""Filing a report through the real app: the form, validation that loses nothing, photos."""

from __future__ import annotations

import html
import io
import re

import pillow_heif
import pytest
from PIL import Image
from starlette.testclient import TestClient

from tests.backend import query
from tests.helpers import stored_photo, stored_photos, stream_post
from tests.images import JAKARTA, assert_clean_jpeg, camera_like, encode, phone_jpeg
from web.settings import Settings

GAMBIR = "31.71.01.1001"
CIDENG = "31.71.01.1002"
VALID = {
    "category": "jalan",
    "area": GAMBIR,
    "description": "Jalan berlubang dalam di depan sekolah, motor sering jatuh.",
    "address": "Depan SDN 03",
    "rt_rw": "RT 05/RW 02",
}


def jpeg(size: tuple[int, int] = (1200, 900)) -> bytes:
    return encode(camera_like(size), "JPEG", quality=85)


def post(client: TestClient, data: dict[str, str], photos: list[tuple[str, bytes]] = ()):
    files = [("photos", (name, content, "image/jpeg")) for name, content in photos]
    return client.post("/lapor", data=data, files=files or None, follow_redirects=False)


def rows(settings: Settings, sql: str, params: tuple = ()) -> list[tuple]:
    return [r.astuple() for r in query(settings, sql, params)]


def stored_files(settings: Settings) -> list[bytes]:
    """Every photo and thumbnail in the photo store (the data folder or the bucket)."""
    found = []
    for sha in sorted(stored_photos(settings)):
        for thumb in (False, True):
            data = stored_photo(settings, sha, thumb=thumb)
            assert data is not None
            found.append(data)
    return found


def code_from(response) -> str:
    return re.search(r"/t/([0-9A-Z]{8})/struk", response.headers["location"])[1]


def errors_of(page: str) -> dict[str, str]:
    return {
        m[0]: html.unescape(m[1])
        for m in re.findall(r'<p class="field-error" id="([a-z_]+)-error">([^<]+)</p>', page)
    }


def test_form_offers_camera_and_gallery_as_two_clear_choices(client: TestClient) -> None:
    page = client.get("/lapor").text
    camera = re.search(r'<input type="file" id="photo-camera"[^>]*>', page)[0]
    gallery = re.search(r'<input type="file" id="photo-gallery"[^>]*>', page)[0]
    assert 'capture="environment"' in camera and 'name="photos"' in camera
    assert "capture" not in gallery and "multiple" in gallery
    assert "Ambil foto" in page and "Pilih dari galeri" in page
    assert '<optgroup label="Kec. Gambir (Kota Administrasi Jakarta Pusat)">' in page
    assert page.count('<option value="31.') == 267
    for field in (
        "category",
        "area",
        "description",
        "address",
        "rt_rw",
        "lat",
        "lon",
        "reporter_name",
        "reporter_phone",
        "reporter_email",
        "on_behalf_name",
        "on_behalf_phone",
        "volunteer_name",
    ):
        assert f'<label for="{field}">' in page, field


def test_a_valid_report_is_stored_and_redirects_to_its_receipt(
    client: TestClient, settings: Settings
) -> None:
    response = post(
        client,
        {**VALID, "reporter_name": "Siti Rahma", "reporter_phone": "0812-3456-7890"},
        [("jalan.jpg", jpeg())],
    )
    assert response.status_code == 303
    code = code_from(response)
    (report,) = rows(
        settings,
        "SELECT status, channel, reporter_phone, category_code, area_code,"
        " response_due_at > received_at FROM reports WHERE code = ?",
        (code,),
    )
    assert report == ("received", "web", "081234567890", "jalan", GAMBIR, 1)
    assert rows(settings, "SELECT COUNT(*) FROM photos")[0][0] == 1
    assert rows(settings, "SELECT kind FROM report_events")[0][0] == "received"


def test_validation_error_keeps_every_field_and_each_error_sits_by_its_field(
    client: TestClient, settings: Settings
) -> None:
    typed = {
        "category": "sampah",
        "area": "",
        "description": "bau",
        "address": "Gang Kelor <b>",
        "rt_rw": "RT 01",
        "lat": "-6,2",
        "lon": "",
        "reporter_name": "Budi",
        "reporter_phone": "12345",
        "reporter_email": "budi@",
        "anonymous": "1",
        "confidential": "1",
        "on_behalf": "1",
        "on_behalf_name": "Mbah Sri",
        "on_behalf_phone": "",
        "volunteer_name": "Ani",
    }
    response = post(client, typed)
    assert response.status_code == 422
    page = response.text
    errors = errors_of(page)
    assert set(errors) == {
        "area",
        "description",
        "lat",
        "reporter_phone",
        "reporter_email",
        "on_behalf_phone",
    }
    assert "10 huruf" in errors["description"]
    assert "tidak punya" in errors["on_behalf_phone"]
    for name in (
        "address",
        "rt_rw",
        "lat",
        "reporter_name",
        "reporter_phone",
        "reporter_email",
        "on_behalf_name",
        "volunteer_name",
    ):
        assert f'name="{name}" value="{html.escape(typed[name], quote=True)}"' in page, name
    assert ">bau</textarea>" in page
    assert '<option value="sampah" selected>' in page
    for flag in ("anonymous", "confidential", "on_behalf"):
        assert re.search(f'name="{flag}" value="1" checked', page), flag
    assert "<details open>" in page
    assert rows(settings, "SELECT COUNT(*) FROM reports")[0][0] == 0


def test_errors_are_in_english_when_english_is_chosen(client: TestClient) -> None:
    client.cookies.set("lang", "en")
    errors = errors_of(post(client, {**VALID, "area": ""}).text)
    assert errors["area"] == "Choose the kelurahan where the problem is."


def test_accepted_photo_stays_attached_after_a_validation_error(
    client: TestClient, settings: Settings
) -> None:
    first = post(client, {**VALID, "description": ""}, [("jalan.jpg", jpeg())])
    assert first.status_code == 422
    held = re.search(r'name="held_photos" value="([^"]+)"', first.text)[1]
    thumb = html.unescape(re.search(r'<img src="(/lapor/foto/[^"]+)"', first.text)[1])
    assert client.get(thumb).headers["content-type"] == "image/jpeg"
    second = post(client, {**VALID, "held_photos": held})
    assert second.status_code == 303
    assert rows(settings, "SELECT COUNT(*) FROM photos")[0][0] == 1
    # a forged token attaches nothing
    forged = post(client, {**VALID, "held_photos": held[:-3] + "abc"})
    assert forged.status_code == 303
    assert rows(settings, "SELECT COUNT(*) FROM photos")[0][0] == 1


def test_phone_photo_is_stored_upright_without_exif_and_its_gps_kept_for_staff_only(
    client: TestClient, settings: Settings
) -> None:
    response = post(client, VALID, [("IMG_0001.jpg", phone_jpeg())])
    code = code_from(response)
    (lat, lon, source) = rows(settings, "SELECT lat, lon, location_source FROM reports")[0]
    assert source == "photo"
    assert (round(lat, 4), round(lon, 4)) == JAKARTA
    (sha, width, height) = rows(settings, "SELECT sha256, width, height FROM photos")[0]
    assert (width, height) == (1200, 1600)
    stored = stored_photo(settings, sha)
    assert stored is not None
    assert assert_clean_jpeg(stored).size == (1200, 1600)
    page = client.get(f"/t/{code}").text
    assert "-6.175" not in page and "106.82" not in page
    served = client.get(f"/foto/{sha}.jpg")
    assert served.content == stored and served.headers["x-content-type-options"] == "nosniff"
    assert "immutable" in served.headers["cache-control"]


def test_png_with_alpha_cmyk_jpeg_and_heic_are_all_accepted(
    client: TestClient, settings: Settings
) -> None:
    png = encode(Image.new("RGBA", (800, 600), (0, 0, 255, 0)), "PNG")
    cmyk = encode(Image.new("CMYK", (800, 600), (0, 255, 255, 0)), "JPEG")
    pillow_heif.register_heif_opener()
    heic = encode(camera_like((800, 600)), "HEIF")
    response = post(client, VALID, [("a.png", png), ("b.jpg", cmyk), ("c.heic", heic)])
    assert response.status_code == 303
    assert rows(settings, "SELECT COUNT(*) FROM photos")[0][0] == 3
    stored = stored_files(settings)
    assert len(stored) == 6
    for data in stored:
        assert_clean_jpeg(data)


def bomb_png() -> bytes:
    return encode(Image.new("1", (20000, 20000)), "PNG")


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("bom.png", bomb_png(), "50 megapiksel"),
        ("potong.jpg", jpeg()[: len(jpeg()) // 2], "rusak"),
        ("catatan.jpg", b"ini bukan foto, hanya teks biasa\n" * 20, "bukan foto"),
        ("besar.jpg", b"\xff\xd8\xff" + b"0" * (16 * 1024 * 1024), "15 MB"),
    ],
)
def test_refused_photo_gets_a_clear_message_and_nothing_is_stored(
    client: TestClient, settings: Settings, name: str, content: bytes, message: str
) -> None:
    response = post(client, VALID, [(name, content)])
    assert response.status_code == 422
    error = errors_of(response.text)["photos"]
    assert message in error and name in error
    assert rows(settings, "SELECT COUNT(*) FROM reports")[0][0] == 0
    assert stored_files(settings) == []
    assert f'value="{VALID["address"]}"' in response.text


def test_a_fourth_photo_is_refused_with_a_message(client: TestClient, settings: Settings) -> None:
    photos = [(f"{n}.jpg", jpeg((600 + n, 400))) for n in range(4)]
    response = post(client, VALID, photos)
    assert response.status_code == 422
    assert "Paling banyak 3 foto" in errors_of(response.text)["photos"]
    assert rows(settings, "SELECT COUNT(*) FROM reports")[0][0] == 0
    held = re.search(r'name="held_photos" value="([^"]+)"', response.text)[1]
    assert post(client, {**VALID, "held_photos": held}).status_code == 303
    assert rows(settings, "SELECT COUNT(*) FROM photos")[0][0] == 3


def test_a_body_over_the_limit_is_refused_before_it_is_read(client: TestClient) -> None:
    huge = io.BytesIO(b"0" * (47 * 1024 * 1024))
    response = client.post("/lapor", data=VALID, files={"photos": ("x.jpg", huge, "image/jpeg")})
    assert response.status_code == 413
    assert "terlalu besar" in response.text


def test_a_body_sent_without_its_length_is_cut_at_the_limit_with_the_same_message(
    client: TestClient, settings: Settings
) -> None:
    megabyte = b"0" * (1024 * 1024)
    opening = (
        b"--batas\r\n"
        b'Content-Disposition: form-data; name="photos"; filename="besar.jpg"\r\n'
        b"Content-Type: image/jpeg\r\n\r\n"
    )
    answer = stream_post(
        client, "/lapor", [opening, *[megabyte] * 60], "multipart/form-data; boundary=batas"
    )
    assert answer.status == 413 and "terlalu besar" in answer.body.decode()
    assert "default-src 'none'" in answer.headers["content-security-policy"]
    assert answer.chunks_read == 1 + 46  # refused at the limit, not after all 60 MB
    assert rows(settings, "SELECT COUNT(*) FROM reports")[0][0] == 0


def test_coordinates_outside_indonesia_and_half_given_are_refused(client: TestClient) -> None:
    assert (
        "di luar Indonesia"
        in errors_of(post(client, {**VALID, "lat": "106.8", "lon": "-6.2"}).text)["lat"]
    )
    assert "keduanya" in errors_of(post(client, {**VALID, "lat": "-6.2"}).text)["lat"]


NUMBER = "Koordinat harus berupa angka, contoh -6.1754 dan 106.8272."
BOTH = "Isi lintang dan bujur keduanya, atau kosongkan keduanya."
OUTSIDE = "Lokasi itu di luar Indonesia. Periksa lagi angkanya (lintang dulu, lalu bujur)."
PHONE = "Nomor HP tidak dikenali. Contoh: 0812 3456 7890."


@pytest.mark.parametrize(
    ("typed", "field", "message"),
    [
        ({"lat": "utara", "lon": ""}, "lat", NUMBER),
        ({"lat": "", "lon": "timur"}, "lat", NUMBER),
        ({"lat": "-6.2", "lon": ""}, "lat", BOTH),
        ({"lat": "nan", "lon": ""}, "lat", BOTH),
        ({"lat": "nan", "lon": "106.8"}, "lat", OUTSIDE),
        ({"lat": "-6.2", "lon": "inf"}, "lat", OUTSIDE),
        ({"lat": "106.8", "lon": "-6.2"}, "lat", OUTSIDE),
        ({"reporter_phone": "12345"}, "reporter_phone", PHONE),
        ({"reporter_phone": "(021) 345-6789"}, "reporter_phone", PHONE),  # not a mobile
        (
            {"reporter_email": "siti@contoh"},
            "reporter_email",
            "Alamat email tidak dikenali. Contoh: nama@contoh.id.",
        ),
        ({"on_behalf_name": "Mbah Sri", "on_behalf_phone": "0812"}, "on_behalf_phone", PHONE),
    ],
)
def test_each_location_and_contact_problem_has_its_own_message_by_its_field(
    client: TestClient, typed: dict[str, str], field: str, message: str
) -> None:
    assert errors_of(post(client, {**VALID, **typed}).text) == {field: message}


def test_phone_numbers_are_kept_without_their_spaces_dots_dashes_and_brackets(
    client: TestClient, settings: Settings
) -> None:
    typed = {"reporter_phone": "+62 812-3456.7890", "on_behalf_phone": "(0813) 1111 2222"}
    assert post(client, {**VALID, **typed, "on_behalf_name": "Mbah Sri"}).status_code == 303
    assert rows(settings, "SELECT reporter_phone, on_behalf_phone FROM reports") == [
        ("+6281234567890", "081311112222")
    ]


def test_typed_coordinates_win_over_the_photos_gps(client: TestClient, settings: Settings) -> None:
    post(client, {**VALID, "lat": "-6,2001", "lon": "106,8001"}, [("a.jpg", phone_jpeg())])
    assert rows(settings, "SELECT lat, lon, location_source FROM reports")[0] == (
        -6.2001,
        106.8001,
        "form",
    )


def test_volunteer_filing_for_a_neighbour_without_a_phone(
    client: TestClient, settings: Settings
) -> None:
    response = post(
        client,
        {
            **VALID,
            "on_behalf": "1",
            "on_behalf_name": "Mbah Sri",
            "on_behalf_no_phone": "1",
            "volunteer_name": "Ani",
        },
    )
    assert response.status_code == 303
    assert rows(
        settings,
        "SELECT on_behalf, on_behalf_name, on_behalf_no_phone, volunteer_name FROM reports",
    )[0] == (1, "Mbah Sri", 1, "Ani")


def test_confidential_category_makes_the_report_confidential(
    client: TestClient, settings: Settings
) -> None:
    post(client, {**VALID, "category": "pungli"})
    assert rows(settings, "SELECT confidential FROM reports")[0][0] == 1


def test_a_large_province_asks_for_the_kecamatan_first(
    client: TestClient, settings: Settings
) -> None:
    import asyncio

    from db import reference
    from db.database import Database

    async def load_central_java() -> None:
        async with Database(settings.database) as db, db.write() as conn:
            await reference.load_areas(conn, "33")

    asyncio.run(load_central_java())
    page = client.get("/lapor").text
    assert '<select id="kecamatan" name="kecamatan"' in page
    assert 'name="area"' not in page
    assert len(page) < 120_000  # not 8,500 desa in one page
    kecamatan = "33.74.01"  # Semarang Tengah
    page = client.get("/lapor", params={"kecamatan": kecamatan}).text
    options = re.findall(r'<option value="(33\.74\.01\.\d{4})"', page)
    assert options and all(o.startswith(kecamatan + ".") for o in options)
    response = post(client, {**VALID, "area": options[0], "description": "pendek"})
    assert response.status_code == 422
    assert f'<option value="{options[0]}" selected>' in response.text  # still narrowed
    assert post(client, {**VALID, "area": options[0]}).status_code == 303
