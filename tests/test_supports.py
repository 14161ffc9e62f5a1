"""Supporting a report ("Dukung & ikuti") instead of filing it again: one support per
phone across reloads and replays, by the JSON call and by the plain form, shown on the
tracking page and in "Laporan saya"; never a new report, never a confidential one."""

from __future__ import annotations

from starlette.testclient import TestClient

from tests.backend import scalar
from tests.helpers import add_report, apply
from web.app import create_app
from web.settings import Settings


def reports(settings: Settings) -> int:
    return int(scalar(settings, "SELECT COUNT(*) FROM reports"))


def support_count(settings: Settings, code: str) -> int:
    return int(scalar(settings, "SELECT support_count FROM reports WHERE code = :c", {"c": code}))


def test_a_phone_supports_a_report_once_however_often_it_taps_or_replays(
    settings: Settings, client: TestClient
) -> None:
    code = add_report(settings)
    before = reports(settings)
    first = client.post(f"/api/v1/reports/{code}/dukung")
    assert first.status_code == 201, first.text
    assert first.json()["support_count"] == 1
    assert first.json()["label"] == "Didukung 1 warga"
    for _ in range(3):
        again = client.post(f"/api/v1/reports/{code}/dukung")
        assert again.status_code == 200
        assert again.json()["support_count"] == 1
    # the plain form, from the same phone (same cookie): still one
    plain = client.post(f"/t/{code}/dukung", follow_redirects=False)
    assert plain.status_code == 303
    assert plain.headers["location"].endswith(f"/t/{code}#dukung")
    assert support_count(settings, code) == 1
    assert int(scalar(settings, "SELECT COUNT(*) FROM supports")) == 1
    assert reports(settings) == before


def test_another_phone_adds_a_second_support_and_the_tracking_page_shows_it(
    settings: Settings, client: TestClient
) -> None:
    code = add_report(settings)
    page = client.get(f"/t/{code}")
    assert "Didukung 0 warga" in page.text
    assert "Dukung & ikuti" in page.text
    client.post(f"/t/{code}/dukung")
    with TestClient(create_app(settings)) as other:
        other.post(f"/t/{code}/dukung")
    page = client.get(f"/t/{code}")
    assert "Didukung 2 warga" in page.text
    assert support_count(settings, code) == 2


def test_a_stored_supporter_cookie_is_only_a_random_id_kept_as_a_hash(
    settings: Settings, client: TestClient
) -> None:
    code = add_report(settings)
    client.post(f"/api/v1/reports/{code}/dukung")
    raw = client.cookies.get("aduan_dukung")
    assert raw and len(raw) == 64
    stored = scalar(settings, "SELECT supporter FROM supports")
    assert stored != raw and len(stored) == 64


def test_a_confidential_report_cannot_be_supported_and_shows_no_count(
    settings: Settings, client: TestClient
) -> None:
    code = add_report(settings, category="pungli", confidential=True)
    answer = client.post(f"/api/v1/reports/{code}/dukung")
    assert answer.status_code == 404
    assert "Didukung" not in client.get(f"/t/{code}").text
    assert int(scalar(settings, "SELECT COUNT(*) FROM supports")) == 0


def test_a_closed_report_is_not_supported_and_the_plain_form_says_why(
    settings: Settings, client: TestClient
) -> None:
    code = add_report(settings)
    apply(settings, code, "reject", public_note="Bukan wewenang kelurahan.")
    answer = client.post(f"/t/{code}/dukung")
    assert answer.status_code == 409
    assert "sudah ditutup" in answer.text
    assert support_count(settings, code) == 0


def test_an_unknown_code_is_not_found(client: TestClient) -> None:
    answer = client.post("/api/v1/reports/ABCDEFGH/dukung")
    assert answer.status_code == 404
    assert answer.json()["message"] == "Laporan tidak ditemukan."


def test_laporan_saya_lists_the_reports_this_phone_supported_and_only_those(
    settings: Settings, client: TestClient
) -> None:
    mine = add_report(settings)
    other = add_report(settings, description="Lampu jalan mati di depan sekolah dasar.")
    client.post(f"/api/v1/reports/{mine}/dukung")
    fragment = client.get("/dukungan-saya/daftar")
    assert fragment.headers["cache-control"] == "no-store"
    assert mine in fragment.text and other not in fragment.text
    assert "Didukung 1 warga" in fragment.text
    with TestClient(create_app(settings)) as stranger:
        assert mine not in stranger.get("/dukungan-saya").text
    assert "/dukungan-saya/daftar" in client.get("/laporan-saya").text


def test_a_support_from_another_site_is_refused(settings: Settings, client: TestClient) -> None:
    code = add_report(settings)
    answer = client.post(
        f"/api/v1/reports/{code}/dukung",
        headers={"Sec-Fetch-Site": "cross-site", "Origin": "https://jahat.example"},
    )
    assert answer.status_code == 403
    assert support_count(settings, code) == 0


def test_a_client_adding_many_supports_is_slowed_down_but_a_repeat_is_not_counted(
    settings: Settings, client: TestClient
) -> None:
    codes = [
        add_report(settings, description=f"Jalan rusak parah nomor {i} dekat pasar.")
        for i in range(11)
    ]
    for code in codes[:10]:
        assert client.post(f"/api/v1/reports/{code}/dukung").status_code == 201
    assert client.post(f"/api/v1/reports/{codes[0]}/dukung").status_code == 200
    refused = client.post(f"/api/v1/reports/{codes[10]}/dukung")
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) > 0
    assert "Terlalu banyak dukungan" in refused.json()["message"]
    assert support_count(settings, codes[10]) == 0
