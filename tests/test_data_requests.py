"""A resident's request that comes to the office (UU PDP): an admin finds every report
holding a phone number (however it is written) or an email address, exports what is held as
CSV or JSON, and erases it; each export and erasure is in the audit log, which names the
reports and never the contact. Nobody but admins may."""

from __future__ import annotations

import csv
import io
import json
import logging

import pytest
from starlette.testclient import TestClient

from tests.backend import execute, query
from tests.helpers import GAMBIR, PASAR_BARU, add_report, hidden, report_row
from tests.test_deadlines import logged_in
from web.settings import Settings

PAGE = "/staf/admin/data-pribadi"
PHONE = "081255443322"
EMAIL = "Dewi.Kantor@Contoh.id"


def reports(settings: Settings) -> dict[str, str]:
    """Dewi's reports under every spelling of her number and her email, someone she filed
    for with the same number, and a neighbour's report."""
    made = {
        "plain": add_report(settings, reporter_name="Dewi Kantorwati", reporter_phone=PHONE),
        "plus": add_report(
            settings, PASAR_BARU, reporter_name="Dewi", reporter_phone="+6281255443322"
        ),
        "spaced": add_report(settings, reporter_name="", reporter_phone="0812 5544-3322"),
        "anonymous": add_report(settings, reporter_phone=PHONE, anonymous=True),
        "email": add_report(settings, reporter_name="Dewi K", reporter_phone=""),
        "helped": add_report(settings, reporter_name="Relawan Lain", reporter_phone="081399990000"),
        "other": add_report(settings, reporter_name="Tetangga Lain", reporter_phone="081255443323"),
    }
    execute(
        settings,
        "UPDATE reports SET reporter_email = :e WHERE code = :c",
        {"e": "dewi.kantor@contoh.id", "c": made["email"]},
    )
    execute(
        settings,
        "UPDATE reports SET on_behalf = 1, on_behalf_name = 'Dewi', on_behalf_phone = :p"
        " WHERE code = :c",
        {"p": PHONE, "c": made["helped"]},
    )
    return made


def post(client: TestClient, action: str, **data: str | list[str]) -> object:
    token = hidden(client.get("/staf").text, "csrf_token")  # every staff page has it
    return client.post(f"{PAGE}/{action}", data={"csrf_token": token, **data})


def audit_entries(settings: Settings) -> list[dict[str, object]]:
    rows = query(settings, "SELECT * FROM audit_log WHERE kind = 'personal_data' ORDER BY id")
    return [dict(r) for r in rows]


def test_an_admin_finds_every_report_with_a_number_however_written_and_nothing_else(
    client: TestClient, settings: Settings
) -> None:
    made = reports(settings)
    logged_in(client, settings, "admin1", "admin")
    for typed in ("0812-5544-3322", "+62 812 5544 3322", "6281255443322"):
        page = post(client, "cari", kontak=typed)
        assert page.status_code == 200
        for name in ("plain", "plus", "spaced", "anonymous", "helped"):
            assert made[name][:4] + "-" + made[name][4:] in page.text, (typed, name)
        for name in ("other", "email"):
            assert made[name][:4] + "-" + made[name][4:] not in page.text, (typed, name)
    page = post(client, "cari", kontak="DEWI.kantor@contoh.ID")
    assert made["email"][:4] in page.text and made["plain"][:4] + "-" not in page.text
    bad = post(client, "cari", kontak="bukan nomor")
    assert bad.status_code == 422 and "Tulis nomor HP" in bad.text
    assert 'value="bukan nomor"' in bad.text


def test_the_export_holds_exactly_those_reports_and_is_in_the_audit_log(
    client: TestClient, settings: Settings
) -> None:
    made = reports(settings)
    logged_in(client, settings, "admin1", "admin")
    response = post(client, "ekspor", kontak="0812 5544 3322", format="csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["cache-control"] == "no-store"
    table = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    expected = {made[n] for n in ("plain", "plus", "spaced", "anonymous", "helped")}
    assert {row["code"] for row in table} == expected
    by_code = {row["code"]: row for row in table}
    assert by_code[made["plain"]]["reporter_name"] == "Dewi Kantorwati"
    assert by_code[made["helped"]]["on_behalf_phone"] == PHONE
    document = post(client, "ekspor", kontak=PHONE, format="json")
    assert document.headers["content-type"].startswith("application/json")
    assert {r["code"] for r in json.loads(document.content)["reports"]} == expected
    entries = audit_entries(settings)
    assert [e["action"] for e in entries] == ["personal_data.export"] * 2
    assert entries[0]["actor_name"] == "admin1"
    assert set(json.loads(str(entries[0]["after_json"]))["reports"]) == expected
    assert json.loads(str(entries[1]["after_json"]))["format"] == "json"
    for entry in entries:
        for value in (PHONE, "5544", "Dewi"):
            assert value not in json.dumps(entry), value


def test_an_admin_erases_them_the_staff_page_says_so_and_the_log_records_it(
    client: TestClient, settings: Settings
) -> None:
    made = reports(settings)
    logged_in(client, settings, "admin1", "admin")
    found = [made[n] for n in ("plain", "plus", "spaced", "anonymous", "helped")]
    refused = post(client, "hapus", kontak=PHONE, laporan=found)
    assert refused.status_code == 422 and "Centang dulu" in refused.text
    assert report_row(settings, made["plain"])["reporter_phone"] == PHONE
    done = post(client, "hapus", kontak=PHONE, laporan=found, yakin="ya")
    assert done.status_code == 200
    assert "Kontak pada 5 laporan sudah dihapus." in done.text
    for code in found:
        row = report_row(settings, code)
        assert row["reporter_phone"] == row["on_behalf_phone"] == row["reporter_name"] == ""
        assert row["contact_erased_by"] == "office"
    assert report_row(settings, made["other"])["reporter_name"] == "Tetangga Lain"
    assert report_row(settings, made["email"])["reporter_email"] == "dewi.kantor@contoh.id"
    case = client.get(f"/staf/laporan/{made['plain']}")
    assert "Kontak dihapus atas permintaan pelapor ke kantor" in case.text
    (entry,) = audit_entries(settings)
    assert entry["action"] == "personal_data.erase" and entry["actor_name"] == "admin1"
    assert set(json.loads(str(entry["after_json"]))["reports"]) == set(found)
    log = client.get("/staf/admin/log?jenis=personal_data")
    assert "Data pribadi dihapus" in log.text and PHONE not in log.text


def test_a_report_filed_after_the_search_is_not_erased_unseen(
    client: TestClient, settings: Settings
) -> None:
    made = reports(settings)
    logged_in(client, settings, "admin1", "admin")
    post(client, "hapus", kontak=PHONE, laporan=[made["plain"]], yakin="ya")
    assert report_row(settings, made["plain"])["reporter_phone"] == ""
    assert report_row(settings, made["plus"])["reporter_phone"] == "+6281255443322"


@pytest.mark.parametrize("role", ["officer", "supervisor"])
def test_only_admins_may(client: TestClient, settings: Settings, role: str) -> None:
    reports(settings)
    logged_in(client, settings, "staf1", role, areas=[GAMBIR] if role == "officer" else [])
    assert client.get(PAGE).status_code in (403, 404)
    for action in ("cari", "ekspor", "hapus"):
        response = post(client, action, kontak=PHONE, format="csv", yakin="ya")
        assert response.status_code in (403, 404)
        assert PHONE not in response.text
    assert report_row(settings, reports(settings)["plain"])["reporter_phone"] == PHONE
    assert audit_entries(settings) == []


def test_a_post_without_the_session_token_is_refused(
    client: TestClient, settings: Settings
) -> None:
    made = reports(settings)
    logged_in(client, settings, "admin1", "admin")
    response = client.post(
        f"{PAGE}/hapus", data={"kontak": PHONE, "laporan": made["plain"], "yakin": "ya"}
    )
    assert response.status_code == 403
    assert report_row(settings, made["plain"])["reporter_phone"] == PHONE


def test_the_pages_log_no_personal_data(
    client: TestClient, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    made = reports(settings)
    logged_in(client, settings, "admin1", "admin")
    with caplog.at_level(logging.INFO):
        client.get(PAGE)
        post(client, "cari", kontak=PHONE)
        post(client, "ekspor", kontak=EMAIL, format="json")
        post(client, "hapus", kontak=PHONE, laporan=[made["plain"]], yakin="ya")
    text = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("aduan"))
    assert "route=staff_data_erase" in text
    lowered = text.lower()
    for secret in (PHONE, "5544", EMAIL.lower(), "dewi"):
        assert secret not in lowered
