"""Least access to residents' contacts (UU PDP): an officer sees a reporter's contact only on
the cases in their scope and only for reports that are not anonymous, on the case page and
in the CSV export alike; each staff CSV holding contacts is in the audit log with who took
it, and the log holds no contact."""

from __future__ import annotations

import csv
import io
import json

from starlette.testclient import TestClient

from tests.backend import execute, query
from tests.helpers import CIDENG, GAMBIR, add_account, add_report, staff_client
from tests.test_deadlines import logged_in
from web.settings import Settings

PHONE = "081266778899"
HELPED_PHONE = "085677889900"
NAME = "Yuliana Cakupanwati"


def gambir_report(settings: Settings, *, anonymous: bool = False) -> str:
    code = add_report(
        settings, GAMBIR, reporter_name=NAME, reporter_phone=PHONE, anonymous=anonymous
    )
    execute(
        settings,
        "UPDATE reports SET on_behalf = 1, on_behalf_name = 'Kakek Cakupan',"
        " on_behalf_phone = :p WHERE code = :c",
        {"p": HELPED_PHONE, "c": code},
    )
    return code


def exported(client: TestClient, query_string: str = "?status=semua") -> tuple[str, list[dict]]:
    response = client.get(f"/staf/ekspor/laporan.csv{query_string}")
    assert response.status_code == 200
    text = response.content.decode("utf-8-sig")
    return text, list(csv.DictReader(io.StringIO(text)))


def test_an_officer_of_another_kelurahan_can_neither_see_nor_export_the_contact(
    client: TestClient, settings: Settings
) -> None:
    code = gambir_report(settings)
    logged_in(client, settings, "cideng1", "officer", areas=[CIDENG])
    page = client.get(f"/staf/laporan/{code}")
    assert page.status_code == 404
    text, rows = exported(client)
    assert rows == []
    assert code not in text
    for body in (page.text, text):
        for value in (PHONE, HELPED_PHONE, NAME):
            assert value not in body
    # The officer of Gambir sees and exports it.
    add_account(settings, "gambir1", areas=[GAMBIR])
    with staff_client(settings, "gambir1") as gambir:
        assert PHONE in gambir.get(f"/staf/laporan/{code}").text
        text, rows = exported(gambir)
        assert [r["Kode lacak"] for r in rows] == [code]
        assert rows[0]["Telepon pelapor"] == PHONE


def test_an_anonymous_reporters_contact_is_shown_nowhere_even_in_scope(
    client: TestClient, settings: Settings
) -> None:
    code = gambir_report(settings, anonymous=True)
    execute(
        settings,
        "INSERT INTO messages (report_id, event_id, channel, recipient, state,"
        " next_attempt_at, created_at) SELECT r.id, e.id, 'sms', :p, 'sent', 'x', 'x'"
        " FROM reports r JOIN report_events e ON e.report_id = r.id WHERE r.code = :c",
        {"p": PHONE, "c": code},
    )
    for role, areas in (("officer", [GAMBIR]), ("supervisor", []), ("admin", [])):
        add_account(settings, f"{role}-anon", role, areas=areas)
        with staff_client(settings, f"{role}-anon") as staff:
            page = staff.get(f"/staf/laporan/{code}")
            assert page.status_code == 200
            text, rows = exported(staff)
            assert [r["Kode lacak"] for r in rows] == [code]
            for body in (page.text, text):
                for value in (PHONE, HELPED_PHONE, NAME, "Kakek Cakupan"):
                    assert value not in body, (role, value)


def test_each_staff_csv_holding_contacts_is_logged_with_who_took_it(
    client: TestClient, settings: Settings
) -> None:
    gambir_report(settings)
    user_id = add_account(settings, "gambir1", areas=[GAMBIR])
    with staff_client(settings, "gambir1") as gambir:
        exported(gambir, f"?status=semua&q={NAME}")
        exported(gambir, "?kelurahan=" + GAMBIR)
    entries = query(
        settings, "SELECT * FROM audit_log WHERE action = 'personal_data.staff_csv' ORDER BY id"
    )
    assert len(entries) == 2
    assert {(e["actor_id"], e["actor_name"]) for e in entries} == {(user_id, "gambir1")}
    filters = [json.loads(e["after_json"])["filters"] for e in entries]
    assert filters == ["q=…; status=semua", f"kelurahan={GAMBIR}"]
    everything = json.dumps([dict(e) for e in entries])
    for value in (PHONE, NAME, "Yuliana"):
        assert value not in everything
    # Supervisors read them on the log page.
    logged_in(client, settings, "spv", "supervisor")
    log = client.get("/staf/admin/log?jenis=personal_data")
    assert "CSV laporan berisi kontak diunduh" in log.text and "gambir1" in log.text
