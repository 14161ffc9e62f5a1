"""The privacy notice at collection (UU PDP): beside the contact fields of the form, one or
two plain sentences on what the contact is for, who sees it and how long it is kept (the
months of ADUAN_CONTACT_RETENTION_MONTHS); the whole notice at /privasi, linked from the
form, the receipt and every page's footer; in Indonesian and English; nothing optional
ticked beforehand."""

from __future__ import annotations

import dataclasses
import re

from starlette.testclient import TestClient

from tests.test_tracking import file_report
from web.app import create_app
from web.settings import Settings


def contact_fieldset(page: str) -> str:
    return re.search(
        r"<legend>Kontak Anda.*?</fieldset>|<legend>Your contact.*?</fieldset>", page, re.S
    )[0]


def test_the_form_says_what_the_contact_is_for_who_sees_it_and_how_long(
    client: TestClient,
) -> None:
    fieldset = contact_fieldset(client.get("/lapor").text)
    assert "Hanya petugas yang menangani laporan Anda yang melihatnya" in fieldset
    assert "mengabari perkembangannya" in fieldset and "halaman umum" in fieldset
    assert "Kontak dihapus 12 bulan setelah laporan ditutup." in fieldset
    assert 'href="/privasi"' in fieldset
    client.cookies.set("lang", "en")
    fieldset = contact_fieldset(client.get("/lapor").text)
    assert "Only the officers handling your report see it" in fieldset
    assert "erased 12 months after the report is closed" in fieldset
    assert 'href="/privasi"' in fieldset


def test_nothing_optional_is_ticked_beforehand(client: TestClient) -> None:
    form = client.get("/lapor").text
    assert re.findall(r"<input[^>]*\bchecked\b[^>]*>", form) == []


def test_the_whole_notice_is_at_privasi_in_both_languages(client: TestClient) -> None:
    page = client.get("/privasi")
    assert page.status_code == 200
    for words in (
        "UU No. 27 Tahun 2022",
        "Untuk apa",
        "Siapa yang melihat",
        "12 bulan",
        "Hak Anda",
        "Data saya",
    ):
        assert words in page.text, words
    client.cookies.set("lang", "en")
    page = client.get("/privasi")
    for words in ("Law No. 27 of 2022", "What for", "Who sees it", "12 months", "Your rights"):
        assert words in page.text, words
    assert "Siapa yang melihat" not in page.text


def test_the_months_follow_the_setting(settings: Settings) -> None:
    shorter = dataclasses.replace(settings, contact_retention_months=6)
    with TestClient(create_app(shorter)) as client:
        assert "Kontak dihapus 6 bulan setelah" in client.get("/lapor").text
        assert "otomatis 6 bulan setelah" in client.get("/privasi").text


def test_the_receipt_and_every_footer_link_to_the_notice(client: TestClient) -> None:
    code, token = file_report(client)
    receipt = client.get(f"/t/{code}/struk?k={token}").text
    assert receipt.count('href="/privasi"') >= 2  # beside the private link, and the footer
    assert "Data saya" in receipt
    for path in ("/", f"/t/{code}", "/kinerja"):
        footer = re.search(r'<footer class="site">.*?</footer>', client.get(path).text, re.S)[0]
        assert 'href="/privasi"' in footer, path
