"""History is never rewritten: a reopened report keeps its resolution on the timeline, then
the reopening, then the steps still to come."""

from __future__ import annotations

import html
import re

from starlette.testclient import TestClient
from test_tracking import act, file_report

from tests.helpers import add_account, login, store_photo
from tests.images import camera_like, encode
from web.photos import process_photo
from web.settings import Settings

GAMBIR = "31.71.01.1001"


def entries(page: str) -> list[tuple[str, str, str]]:
    """(state, step label, the entry's text) of each top-level timeline entry, in order."""
    timeline = re.search(r'<ol class="timeline"[^>]*>(.*?)</ol>', page, re.S)[1]
    parts = re.split(r'<li class="(done|current|todo)">', timeline)[1:]
    found = []
    for state, body in zip(parts[::2], parts[1::2], strict=True):
        label = re.search(r'<span class="step">([^<]+)</span>', body)[1]
        found.append((state, html.unescape(label), html.unescape(body)))
    return found


def resolved_with_after_photo(client: TestClient, settings: Settings) -> tuple[str, str, str]:
    code, token = file_report(client)
    act(settings, code, "verify")
    act(settings, code, "progress", public_note="Truk dijadwalkan besok pagi.")
    processed = process_photo(encode(camera_like((800, 600)), "JPEG"))
    store_photo(settings, processed)
    act(
        settings,
        code,
        "resolve",
        public_note="Sampah sudah diangkut semua.",
        photos=[processed],
    )
    return code, token, processed.sha256


def test_reopening_keeps_the_resolution_note_and_after_photo_on_the_timeline(
    client: TestClient, settings: Settings
) -> None:
    code, token, after = resolved_with_after_photo(client, settings)
    response = client.post(
        f"/t/{code}/p/{token}/jawab",
        data={"fixed": "belum", "note": "Masih ada sisa sampah di selokan."},
        follow_redirects=False,
    )
    assert response.status_code == 303
    for url in (f"/t/{code}", f"/t/{code}/p/{token}"):
        page = client.get(url).text
        shown = entries(page)
        labels = [(state, label) for state, label, _ in shown]
        assert labels == [
            ("done", "Diterima"),
            ("done", "Diverifikasi"),
            ("done", "Diteruskan ke instansi"),
            ("done", "Sedang dikerjakan"),
            ("done", "Selesai"),
            ("done", "Dibuka kembali oleh pelapor: belum beres"),
            ("current", "Sedang dikerjakan"),
            ("todo", "Selesai"),
        ], url
        resolved = shown[4][2]
        assert "Sampah sudah diangkut semua." in resolved
        assert f"{after}.thumb.jpg" in resolved
        assert "Masih ada sisa sampah di selokan." in shown[5][2]
        assert "Target selesai" in shown[7][2]  # the new deadline sits on the step to come


def test_a_second_resolution_follows_the_reopening(client: TestClient, settings: Settings) -> None:
    code, token, _after = resolved_with_after_photo(client, settings)
    client.post(f"/t/{code}/p/{token}/jawab", data={"fixed": "belum", "note": "Masih bau."})
    act(settings, code, "dispatch", agency_code="DLH", public_note="Diteruskan lagi ke DLH.")
    act(settings, code, "resolve", public_note="Selokan sudah dibersihkan.")
    shown = entries(client.get(f"/t/{code}").text)
    assert [(s, label) for s, label, _ in shown][4:] == [
        ("done", "Selesai"),
        ("done", "Dibuka kembali oleh pelapor: belum beres"),
        ("done", "Sedang dikerjakan"),
        ("done", "Diteruskan ke instansi"),
        ("done", "Selesai"),
    ]
    assert "Sampah sudah diangkut semua." in shown[4][2]
    assert "Diteruskan lagi ke DLH." in shown[7][2]
    assert "Selokan sudah dibersihkan." in shown[8][2]
    assert "Sampah sudah diangkut" not in shown[8][2]


def test_the_staff_report_page_keeps_the_resolution_after_a_reopening(
    client: TestClient, settings: Settings
) -> None:
    code, token, after = resolved_with_after_photo(client, settings)
    client.post(f"/t/{code}/p/{token}/jawab", data={"fixed": "belum", "note": "Masih bau."})
    add_account(settings, "gambir1", areas=[GAMBIR])
    login(client, "gambir1")
    page = client.get(f"/staf/laporan/{code}").text
    history = page[page.index('id="riwayat"') :]
    assert history.index("Sampah sudah diangkut semua.") < history.index("Masih bau.")
    assert f"/staf/foto/{after}?kecil=1" in history
