"""Messages to residents through the gateways a city switches on: a real SMTP server
(aiosmtpd) and a local HTTP gateway receive what web/gateways.py sends for each public step
of a report whose reporter ticked email and SMS on the form; the stop link in every message
stops the later ones."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from starlette.testclient import TestClient

from db.database import Database
from tests.backend import query, scalar
from tests.gateway_servers import Gateway, Mailbox, http_gateway, smtp_server
from tests.helpers import GAMBIR, act, add_account, login, run_async
from web import notify, outbox
from web.app import create_app
from web.clock import utc_now
from web.message_text import gsm7_length
from web.settings import Settings, SmtpServer

FORM = {
    "category": "jalan",
    "area": GAMBIR,
    "description": "Jalan berlubang dalam di depan sekolah, motor sering jatuh.",
    "reporter_name": "Siti Aminah",
    "reporter_phone": "0812-3456-7890",
    "reporter_email": "siti@contoh.id",
}
PHONE = "+6281234567890"
LONG_NOTE = (
    "Lubang sudah ditambal dengan aspal dingin oleh Suku Dinas Bina Marga pagi ini; "
    "pengaspalan ulang seluruh ruas dijadwalkan bulan depan setelah musim hujan reda."
)


@dataclasses.dataclass
class City:
    settings: Settings
    mailbox: Mailbox
    gateway: Gateway
    resident: TestClient
    officer: TestClient


@pytest.fixture
def city(settings: Settings) -> Iterator[City]:
    """An app whose city switched on email (SMTP) and SMS and WhatsApp (HTTP gateway)."""
    with smtp_server() as mailbox, http_gateway() as gateway:
        configured = dataclasses.replace(
            settings,
            base_url="https://aduan.jakarta.go.id",
            allowed_hosts=("testserver", "aduan.jakarta.go.id"),
            smtp=SmtpServer("127.0.0.1", mailbox.port),
            mail_from="aduan@jakarta.go.id",
            sms_gateway_url=gateway.url("/sms"),
            whatsapp_gateway_url=gateway.url("/wa"),
            gateway_token="rahasia-gateway-123",
            whatsapp_template="aduan_kabar",
        )
        add_account(configured, "gambir1", areas=[GAMBIR])
        with browser(configured) as resident, browser(configured) as officer:
            assert login(officer, "gambir1").status_code == 303
            yield City(configured, mailbox, gateway, resident, officer)


def browser(settings: Settings) -> TestClient:
    return TestClient(create_app(settings), base_url=settings.base_url)


def file_report(city: City, channels: list[str], **fields: str) -> str:
    data: dict[str, Any] = {**FORM, **fields, "notify_by": channels}
    answer = city.resident.post("/lapor", data=data, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    return re.search(r"/t/([0-9A-Z]{8})/struk", answer.headers["location"])[1]


def deliver(settings: Settings, now: datetime | None = None) -> int:
    async def run() -> int:
        # through the one registry every server's delivery loop and `aduan tasks run` use
        async with Database(settings.database) as db, notify.senders(settings, db) as senders:
            return await outbox.deliver_due(db, senders, now=now)

    return run_async(run())


def states(settings: Settings, channel: str) -> list[tuple[str, int, str]]:
    found = query(
        settings,
        "SELECT state, attempts, last_error FROM messages WHERE channel = ? ORDER BY id",
        (channel,),
    )
    return [tuple(r) for r in found]  # type: ignore[misc]


def stop_link(text: str) -> str:
    return re.search(r"https://aduan\.jakarta\.go\.id(/berhenti/[0-9A-Za-z_-]+)", text)[1]


def test_each_public_step_reaches_the_resident_by_email_and_sms_and_a_note_sends_nothing(
    city: City,
) -> None:
    code = file_report(city, ["sms", "email"])
    shown = f"{code[:4]}-{code[4:]}"
    steps = [
        ("verify", {"public_note": "Sudah kami cek di lokasi."}),
        ("note", {"internal_note": "Warga minta dihubungi sore. Nomor 0812-3456-7890."}),
        ("resolve", {"public_note": LONG_NOTE}),
    ]
    for kind, form in steps:
        assert act(city.officer, code, kind, form).status_code == 303
    assert deliver(city.settings) == 6  # received, verified, resolved; by email and SMS

    mails = city.mailbox.mails
    assert [m["To"] for m in mails] == ["siti@contoh.id"] * 3
    assert {frm for frm, _to in city.mailbox.envelopes} == {"aduan@jakarta.go.id"}
    subjects = [m["Subject"] for m in mails]
    assert all(shown in s for s in subjects), subjects
    bodies = [m.get_content() for m in mails]
    assert "Sudah kami cek di lokasi." in bodies[1]
    assert LONG_NOTE in bodies[2]
    for mail, body in zip(mails, bodies, strict=True):
        assert f"https://aduan.jakarta.go.id/t/{code}" in body
        assert stop_link(body) in mail["List-Unsubscribe"]
        # nothing about the reporter beyond their own address, nor the internal note
        assert "Siti" not in body and "0812" not in body and "dihubungi sore" not in body

    sms = city.gateway.bodies("sms")
    assert len(sms) == 3
    for body in sms:
        assert body["to"] == PHONE
        assert shown in body["text"] and stop_link(body["text"])
        assert gsm7_length(body["text"]) <= 160
    assert "Lubang sudah" in sms[2]["text"] and "..." in sms[2]["text"]
    path, headers, _body = city.gateway.requests[0]
    assert path == "/sms" and headers["Authorization"] == "Bearer rahasia-gateway-123"
    assert len({b["id"] for b in sms}) == 3
    assert states(city.settings, "email") == [("sent", 1, "")] * 3
    assert deliver(city.settings) == 0  # each once


def test_whatsapp_through_the_business_gateway_names_its_template_and_parameters(
    city: City,
) -> None:
    code = file_report(city, ["whatsapp"])
    assert act(city.officer, code, "verify", {"public_note": "Dicek besok."}).status_code == 303
    assert deliver(city.settings) == 2
    received, verified = city.gateway.bodies("whatsapp")
    assert city.gateway.requests[0][0] == "/wa"
    assert verified["to"] == PHONE and verified["template"] == "aduan_kabar"
    assert verified["language"] == "id"
    shown, _step, note, track, stop = verified["parameters"]
    assert shown == f"{code[:4]}-{code[4:]}" and note == "Dicek besok."
    assert track == f"https://aduan.jakarta.go.id/t/{code}" and "/berhenti/" in stop
    assert received["parameters"][2] == "-"  # no note: templates refuse an empty parameter


def test_a_gateway_error_is_retried_and_a_refusal_is_failed(city: City) -> None:
    file_report(city, ["sms"])
    city.gateway.statuses = [500]
    assert deliver(city.settings) == 1
    ((state, attempts, error),) = states(city.settings, "sms")
    assert (state, attempts) == ("pending", 1) and "500" in error
    assert deliver(city.settings) == 0  # not before its wait
    city.gateway.statuses = [400]
    assert deliver(city.settings, now=utc_now() + timedelta(minutes=1)) == 1
    ((state, attempts, error),) = states(city.settings, "sms")
    assert (state, attempts) == ("failed", 2) and "400" in error
    assert len(city.gateway.bodies("sms")) == 2


def test_an_unreachable_gateway_is_retried(city: City) -> None:
    file_report(city, ["sms"])
    gone = dataclasses.replace(city.settings, sms_gateway_url="http://127.0.0.1:9/sms")
    assert deliver(gone) == 1
    ((state, attempts, error),) = states(city.settings, "sms")
    assert (state, attempts) == ("pending", 1) and error.startswith("gateway:")


@pytest.mark.parametrize(
    ("reply", "state"), [("450 Mailbox busy", "pending"), ("550 No such user", "failed")]
)
def test_smtp_temporary_refusals_are_retried_and_permanent_ones_failed(
    city: City, reply: str, state: str
) -> None:
    file_report(city, ["email"])
    city.mailbox.refuse = reply
    assert deliver(city.settings) == 1
    ((got, attempts, error),) = states(city.settings, "email")
    assert (got, attempts) == (state, 1) and error.startswith(f"SMTP {reply[:3]}")
    assert city.mailbox.mails == []


def test_the_stop_link_asks_first_then_stops_later_messages(city: City) -> None:
    code = file_report(city, ["sms", "email"])
    assert act(city.officer, code, "verify", {"public_note": "Dicek."}).status_code == 303
    assert deliver(city.settings, now=utc_now()) == 4
    link = stop_link(city.mailbox.mails[0].get_content())
    visitor = city.resident
    page = visitor.get(link)
    assert page.status_code == 200 and "no-store" in page.headers["cache-control"]
    assert f"{code[:4]}-{code[4:]}" in page.text and "Siti" not in page.text
    assert scalar(city.settings, "SELECT notify_by FROM reports") == "sms,email"  # GET: nothing

    # A step enqueued before the stop and not yet sent is not sent after it.
    assert act(city.officer, code, "progress", {"public_note": "Dikerjakan."}).status_code == 303
    cross_site = visitor.post(link, headers={"Sec-Fetch-Site": "cross-site"})
    assert cross_site.status_code == 403
    done = visitor.post(link, headers={"Sec-Fetch-Site": "same-origin"})
    assert done.status_code == 200 and "Sudah berhenti" in done.text
    assert scalar(city.settings, "SELECT notify_by FROM reports") == "sms"
    assert act(city.officer, code, "resolve", {"public_note": "Beres."}).status_code == 303
    deliver(city.settings)
    assert len(city.mailbox.mails) == 2  # received and verified only
    assert [s for s, _a, _e in states(city.settings, "email")] == ["sent", "sent", "failed"]
    assert len(city.gateway.bodies("sms")) == 4  # SMS goes on: received .. resolved
    sms_link = stop_link(city.gateway.bodies("sms")[0]["text"])
    assert sms_link != link
    visitor.post(sms_link, headers={"Sec-Fetch-Site": "same-origin"})
    assert scalar(city.settings, "SELECT notify_by FROM reports") == ""


def test_a_forged_stop_link_is_refused_in_the_visitors_language(city: City) -> None:
    code = file_report(city, ["email"])
    deliver(city.settings)
    link = stop_link(city.mailbox.mails[0].get_content())
    visitor = city.resident
    for forged in (
        link[:-1] + ("A" if link[-1] != "A" else "B"),
        f"/berhenti/{code}e",
        "/berhenti/x",
    ):
        answer = visitor.post(forged, headers={"Sec-Fetch-Site": "same-origin"})
        assert answer.status_code == 404, forged
        assert "tidak dikenali" in answer.text
    visitor.cookies.set("lang", "en")
    assert "not recognised" in visitor.get(f"/berhenti/{code}e").text
    assert "Stop receiving news?" in visitor.get(link).text
    assert scalar(city.settings, "SELECT notify_by FROM reports") == "email"


def test_a_resident_who_filed_in_english_gets_english(city: City) -> None:
    city.resident.cookies.set("lang", "en")
    code = file_report(city, ["email", "sms"])
    assert act(city.officer, code, "verify", {"public_note": "Checked."}).status_code == 303
    deliver(city.settings)
    mail = city.mailbox.mails[1]
    assert mail["Subject"].startswith(f"Report {code[:4]}-{code[4:]}")
    assert mail["Content-Language"] == "en"
    assert "Follow it at" in mail.get_content()
    assert city.gateway.bodies("sms")[1]["text"].startswith("Report ")
    assert city.gateway.bodies("sms")[1]["language"] == "en"


def test_a_channel_without_a_sender_enqueues_nothing(settings: Settings) -> None:
    """WhatsApp without a gateway: staff tell the resident by hand (wa.me); no message
    waits in the outbox for a sender that will never come."""
    add_account(settings, "gambir1", areas=[GAMBIR])
    with TestClient(create_app(settings)) as client:
        data: dict[str, Any] = {**FORM, "notify_by": ["whatsapp", "email"]}
        assert client.post("/lapor", data=data, follow_redirects=False).status_code == 303
        assert scalar(settings, "SELECT notify_by FROM reports") == "whatsapp"  # email not offered
        login(client, "gambir1")
        code = scalar(settings, "SELECT code FROM reports")
        assert act(client, code, "verify", {"public_note": "Dicek."}).status_code == 303
    assert scalar(settings, "SELECT COUNT(*) FROM messages") == 0
