"""Telling a resident by hand on the staff case page: "Kabari via WhatsApp" under each public
step for a reporter who agreed, the officer's tap recorded and shown to whoever reads the
case (supervisors too), and each outbox message's state under its step."""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from starlette.testclient import TestClient

from db.database import Database
from tests.backend import execute
from tests.helpers import (
    GAMBIR,
    act,
    add_account,
    add_report,
    hidden,
    login,
    rows,
    run_async,
    staff_client,
)
from web import outbox
from web.settings import Settings

BUTTON = "Kabari via WhatsApp"


def wants_whatsapp(settings: Settings, code: str, phone: str = "0812-3456-7890") -> None:
    execute(
        settings,
        "UPDATE reports SET notify_by = 'whatsapp', reporter_phone = :phone WHERE code = :code",
        {"phone": phone, "code": code},
    )


def events(settings: Settings, code: str) -> dict[str, int]:
    found = rows(
        settings,
        "SELECT e.kind, e.id FROM report_events e JOIN reports r ON r.id = e.report_id"
        " WHERE r.code = ? ORDER BY e.id",
        (code,),
    )
    return {r["kind"]: r["id"] for r in found}


def tap(client: TestClient, code: str, event_id: int, token: str | None = None) -> object:
    page = client.get(f"/staf/laporan/{code}")
    data = {"csrf_token": hidden(page.text, "csrf_token") if token is None else token}
    return client.post(f"/staf/laporan/{code}/kabari-wa/{event_id}", data=data)


def wa_link(page: str) -> str:
    refresh = re.search(r'<meta http-equiv="refresh" content="0;url=([^"]+)">', page)
    assert refresh, page
    return html.unescape(refresh.group(1))


@pytest.fixture
def officer(settings: Settings, client: TestClient) -> TestClient:
    add_account(settings, "lurah", areas=[GAMBIR])
    assert login(client, "lurah").status_code == 303
    return client


def test_a_tap_opens_whatsapp_with_the_update_written_and_is_recorded_on_the_case(
    settings: Settings, officer: TestClient
) -> None:
    code = add_report(settings)
    wants_whatsapp(settings, code)
    assert (
        act(officer, code, "verify", {"public_note": "Sudah kami cek di lokasi."}).status_code
        == 303
    )
    page = officer.get(f"/staf/laporan/{code}").text
    assert page.count(BUTTON) == 2  # received and verified: both public steps
    answer = tap(officer, code, events(settings, code)["verify"])
    assert answer.status_code == 200
    link = urlsplit(wa_link(answer.text))
    assert (link.scheme, link.netloc, link.path) == ("https", "wa.me", "/6281234567890")
    text = parse_qs(link.query)["text"][0]
    assert f"{code[:4]}-{code[4:]}" in text
    assert "Sudah kami cek di lokasi." in text
    assert f"http://testserver/t/{code}" in text
    assert "Siti" not in text  # the resident's own name is not written to them by the system
    assert "Buka WhatsApp" in answer.text

    recorded = rows(settings, "SELECT user_id, channel FROM contact_taps")
    assert [(r["channel"]) for r in recorded] == ["whatsapp"]
    tap(officer, code, events(settings, code)["verify"])  # again: still one record
    assert len(rows(settings, "SELECT 1 FROM contact_taps")) == 1

    add_account(settings, "pengawas", role="supervisor")
    with staff_client(settings, "pengawas") as supervisor:
        seen = supervisor.get(f"/staf/laporan/{code}").text
        assert "Dikabari via WhatsApp oleh Lurah" in seen
        assert BUTTON not in seen  # supervisors read, they do not act
        assert tap(supervisor, code, events(settings, code)["verify"]).status_code == 403


def test_no_button_and_no_tap_without_the_residents_consent_or_a_mobile_number(
    settings: Settings, officer: TestClient
) -> None:
    code = add_report(settings)
    assert BUTTON not in officer.get(f"/staf/laporan/{code}").text
    assert tap(officer, code, events(settings, code)["received"]).status_code == 404
    wants_whatsapp(settings, code, phone="021 345 6789")  # a landline has no WhatsApp
    assert BUTTON not in officer.get(f"/staf/laporan/{code}").text
    assert tap(officer, code, events(settings, code)["received"]).status_code == 404
    assert rows(settings, "SELECT 1 FROM contact_taps") == []


def test_anonymous_and_confidential_reporters_are_not_reached_by_an_officer_who_may_not_see_them(
    settings: Settings, officer: TestClient
) -> None:
    for flags in ({"anonymous": True}, {"confidential": True}):
        code = add_report(settings, **flags)
        wants_whatsapp(settings, code)
        assert BUTTON not in officer.get(f"/staf/laporan/{code}").text
        assert tap(officer, code, events(settings, code)["received"]).status_code == 404


def test_only_public_steps_of_this_report_and_a_valid_token_record_a_tap(
    settings: Settings, officer: TestClient
) -> None:
    code = add_report(settings)
    other = add_report(settings)
    wants_whatsapp(settings, code)
    assert act(officer, code, "note", {"internal_note": "Warga minta sore."}).status_code == 303
    assert tap(officer, code, events(settings, code)["note"]).status_code == 404
    assert tap(officer, code, events(settings, other)["received"]).status_code == 404
    assert tap(officer, code, 99999999).status_code == 404
    assert officer.post(f"/staf/laporan/{code}/kabari-wa/x1", data={}).status_code in {403, 404}
    assert tap(officer, code, events(settings, code)["received"], token="salah").status_code == 403
    assert rows(settings, "SELECT 1 FROM contact_taps") == []


def test_each_outbox_message_shows_its_state_under_its_step(
    settings: Settings, officer: TestClient
) -> None:
    code = add_report(settings, reporter_phone="081298765432")
    execute(
        settings,
        "INSERT INTO push_subscriptions (endpoint, p256dh, auth, language, created_at,"
        " updated_at) VALUES ('https://fcm.googleapis.com/fcm/send/abc', 'k', 'a', 'id',"
        " '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')",
    )
    execute(
        settings,
        "INSERT INTO push_follows (subscription_id, report_id, created_at)"
        " SELECT s.id, r.id, '2026-01-01T00:00:00Z' FROM push_subscriptions s, reports r"
        " WHERE r.code = :code",
        {"code": code},
    )
    assert act(officer, code, "verify", {"public_note": "Dicek."}).status_code == 303
    # an officer's alert about the case is not a message to the reporter
    execute(
        settings,
        "INSERT INTO messages (report_id, event_id, channel, recipient, state,"
        " next_attempt_at, created_at, alert) SELECT e.report_id, e.id, 'push',"
        " 'https://fcm.googleapis.com/fcm/send/staf', 'pending', e.created_at, e.created_at,"
        " 'new_case' FROM report_events e WHERE e.kind = 'verify'",
    )
    page = officer.get(f"/staf/laporan/{code}").text
    assert "Notifikasi HP: menunggu dikirim (1 peramban)" in page
    assert "fcm.googleapis.com" not in page  # a browser's endpoint is nobody's business

    async def refused(message: object) -> outbox.Outcome:
        return outbox.Outcome(error="HTTP 400 Bad Request")

    async def deliver() -> None:
        async with Database(settings.database) as db:
            await outbox.deliver_due(db, {"push": refused})

    run_async(deliver())
    page = officer.get(f"/staf/laporan/{code}").text
    assert "Notifikasi HP: gagal (1 peramban) — HTTP 400 Bad Request" in page
