"""The receipt (struk): what it names, what it hides without the private link, its paper
size, and the walk-in desk's own receipt after staff intake."""

from __future__ import annotations

import re
from datetime import timedelta

from starlette.testclient import TestClient
from test_tracking import file_report

from tests.backend import Record, query
from tests.helpers import add_account, hidden, login
from web.clock import utc_now
from web.i18n import format_time
from web.settings import Settings

GAMBIR = "31.71.01.1001"
CIDENG = "31.71.01.1002"
PUNGLI = "Petugas loket meminta uang Rp50.000 untuk surat pengantar nikah."


def report_row(settings: Settings, code: str) -> Record:
    return query(settings, "SELECT * FROM reports WHERE code = :code", {"code": code})[0]


def main_of(page: str) -> str:
    return re.search(r"<main id=\"isi\">(.*)</main>", page, re.S)[1]


def test_a_confidential_receipt_without_its_private_link_shows_only_what_tracking_shows(
    client: TestClient, settings: Settings
) -> None:
    code, token = file_report(client, category="pungli", description=PUNGLI)
    row = report_row(settings, code)
    times = [format_time(row["received_at"]), format_time(row["response_due_at"])]
    tracking = main_of(client.get(f"/t/{code}").text)
    for url in (f"/t/{code}/struk", f"/t/{code}/struk?k=forged", f"/t/{code}/struk?k="):
        page = client.get(url)
        assert page.status_code == 200
        body = main_of(page.text)
        assert f"{code[:4]}-{code[4:]}" in body and "dirahasiakan" in body
        for secret in ("Pungutan liar", "pungli", "Gambir", "Rp50.000", *times):
            assert secret not in body, (url, secret)
            assert secret not in tracking, secret  # the tracking page hides the same
        assert "Pungutan" not in page.text  # nor in the title or the share link
    private = client.get(f"/t/{code}/struk?k={token}").text
    assert "Pungutan liar" in private and "Gambir" in private and "Rp50.000" in private


def test_the_receipt_names_the_problem_with_a_short_excerpt(client: TestClient) -> None:
    long_text = (
        "Lampu penerangan jalan di sepanjang Gang Kenari mati sejak dua minggu, "
        "warga takut lewat malam hari karena sudah dua kali ada penjambretan. "
        "Mohon segera diperbaiki sebelum ada korban lagi di gang yang gelap ini."
    )
    code, token = file_report(client, category="lampu", description=long_text)
    for url in (f"/t/{code}/struk", f"/t/{code}/struk?k={token}"):
        body = main_of(client.get(url).text)
        problem = re.search(r'<dd class="problem">(.*?)</dd>', body, re.S)[1]
        assert "Lampu jalan" in problem
        assert "Lampu penerangan jalan di sepanjang Gang Kenari" in problem
        assert "sebelum ada korban" not in problem and "…" in problem


def test_a_volunteers_receipt_names_the_person_helped_only_with_the_private_link(
    client: TestClient,
) -> None:
    code, token = file_report(
        client,
        on_behalf="1",
        on_behalf_name="Mbah Sriyati",
        on_behalf_no_phone="1",
        volunteer_name="Ani Relawan",
    )
    private = main_of(client.get(f"/t/{code}/struk?k={token}").text)
    assert "Mbah Sriyati" in private and "Ani Relawan" in private
    for url in (f"/t/{code}/struk", f"/t/{code}", f"/t/{code}/struk?k=forged"):
        page = client.get(url).text
        assert "Mbah Sriyati" not in page and "Ani Relawan" not in page, url


def test_the_receipt_prints_on_a6_and_has_a_print_button_that_needs_no_inline_script(
    client: TestClient,
) -> None:
    code, token = file_report(client)
    page = client.get(f"/t/{code}/struk?k={token}").text
    css = client.get(re.search(r'href="(/static/[^"]+app\.css)"', page)[1]).text
    assert re.search(r"@page\s*\{[^}]*size:\s*105mm 148mm", css)
    assert "size: A6" not in css
    button = re.search(r"<button[^>]*data-print[^>]*>([^<]+)</button>", page)
    assert button and button[1].strip() == "Cetak" and " hidden" in button[0]
    assert re.search(r'<script src="/static/[^"]+/js/share\.js" defer></script>', page)
    assert "<script>" not in page and "onclick" not in page
    assert "menu Cetak" in page  # without JavaScript, the browser's own print is named


def test_staff_intake_ends_on_the_walk_in_desks_own_receipt(
    client: TestClient, settings: Settings
) -> None:
    add_account(settings, "gambir1", areas=[GAMBIR])
    login(client, "gambir1")
    form = client.get("/staf/lapor").text
    complained = (utc_now() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        "/staf/lapor",
        data={
            "csrf_token": hidden(form, "csrf_token"),
            "channel": "walk_in",
            "complained_at": complained,
            "category": "sampah",
            "area": GAMBIR,
            "description": "Warga datang: sampah menumpuk di depan pasar sejak Senin.",
            "on_behalf_name": "Mbah Darmo",
            "on_behalf_no_phone": "1",
            "volunteer_name": "Pak RT Joko",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    location = response.headers["location"]
    code = re.fullmatch(r"/staf/lapor/([0-9A-Z]{8})/struk", location)[1]
    page = client.get(location)
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    text = page.text
    assert "Serahkan struk ini kepada warga" in text
    # Nothing in the resident's first person ("Laporan saya"): the officer hands it over.
    assert "Laporan saya" not in text and "Pengaduan Anda sudah dicatat" in text
    assert "wa.me/?text=Pengaduan%20Anda%20di%20Aduan" in text
    assert f"{code[:4]}-{code[4:]}" in text and f"/t/{code}/p/" in text
    assert "Mbah Darmo" in text and "Sampah" in text and "depan pasar" in text
    assert 'href="/staf/lapor"' in text  # the next walk-in
    assert re.search(r"<button[^>]*data-print", text)


def test_the_desk_receipt_is_only_for_the_officer_who_took_the_complaint(
    client: TestClient, settings: Settings
) -> None:
    code, _token = file_report(client)  # filed by a resident on the web
    add_account(settings, "gambir1", areas=[GAMBIR])
    add_account(settings, "gambir2", areas=[GAMBIR])
    login(client, "gambir1")
    assert client.get(f"/staf/lapor/{code}/struk").status_code == 404
    form = client.get("/staf/lapor").text
    response = client.post(
        "/staf/lapor",
        data={
            "csrf_token": hidden(form, "csrf_token"),
            "channel": "phone",
            "complained_at": utc_now().strftime("%Y-%m-%dT%H:%M"),
            "category": "sampah",
            "area": GAMBIR,
            "description": "Warga menelepon: saluran mampet di gang tiga.",
        },
        follow_redirects=False,
    )
    mine = response.headers["location"]
    assert client.get(mine).status_code == 200
    login(client, "gambir2")  # the same kelurahan, another officer
    page = client.get(mine)
    assert page.status_code == 404 and "/p/" not in page.text
    assert client.get("/staf/lapor/ZZZZZZZZ/struk").status_code == 404


def test_the_tracking_page_shares_the_public_address_in_the_right_voice(
    client: TestClient,
) -> None:
    code, token = file_report(client)
    public = client.get(f"/t/{code}").text
    private = client.get(f"/t/{code}/p/{token}").text
    for page, voice in ((public, "Laporan%20warga"), (private, "Laporan%20saya")):
        link = re.search(r'href="(https://wa\.me/\?text=[^"]+)"[^>]*data-share', page)[1]
        assert link.startswith(f"https://wa.me/?text={voice}")
        assert link.endswith(f"/t/{code}") and token not in link and "/p/" not in link
        assert re.search(rf'data-share-url="http://testserver/t/{code}"', page)
        assert re.search(rf'<button[^>]*data-copy="{code[:4]}-{code[4:]}"[^>]*hidden>', page)
