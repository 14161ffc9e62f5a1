"""The "Kabari saya lewat" choices on the report forms: the channels a city offers, the
consent in plain words, a ticked channel that needs its contact, and what is stored
(reports.notify_by and the language the messages are written in)."""

from __future__ import annotations

import dataclasses
import html
import re
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from starlette.testclient import TestClient

from tests.backend import query, scalar
from tests.helpers import GAMBIR, add_account, csrf_of, login
from tests.images import camera_like, encode
from web.app import create_app
from web.clock import utc_now
from web.settings import Settings, SmtpServer

FORM = {
    "category": "jalan",
    "area": GAMBIR,
    "description": "Jalan berlubang dalam di depan sekolah, motor sering jatuh.",
    "address": "Depan SDN 03",
    "reporter_name": "Siti Aminah",
}
JAKARTA = ZoneInfo("Asia/Jakarta")


@pytest.fixture
def gateways_on(settings: Settings) -> Settings:
    """A city that switched on email and SMS (nothing listens: the form only asks)."""
    return dataclasses.replace(
        settings,
        smtp=SmtpServer("127.0.0.1", 9),
        mail_from="aduan@jakarta.go.id",
        sms_gateway_url="http://127.0.0.1:9/sms",
        gateway_token="rahasia",
    )


@pytest.fixture
def city(gateways_on: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(gateways_on)) as client:
        yield client


def offered(page: str) -> list[str]:
    return re.findall(r'name="notify_by" value="([a-z]+)"', page)


def ticked(page: str) -> list[str]:
    return re.findall(r'name="notify_by" value="([a-z]+)" checked', page)


def errors_of(page: str) -> dict[str, str]:
    return {
        m[0]: html.unescape(m[1])
        for m in re.findall(r'<p class="field-error" id="([a-z_]+)-error">([^<]+)</p>', page)
    }


def stored(settings: Settings) -> tuple[str, str]:
    row = query(settings, "SELECT notify_by, language FROM reports")[0]
    return row[0], row[1]


def test_whatsapp_is_always_offered_and_sms_and_email_only_with_their_gateway(
    client: TestClient, city: TestClient
) -> None:
    assert offered(client.get("/lapor").text) == ["whatsapp"]
    page = city.get("/lapor").text
    assert offered(page) == ["whatsapp", "sms", "email"]
    assert "Kabari saya lewat" in page
    assert "tentang laporan ini saja; bisa berhenti kapan saja" in html.unescape(page)
    city.cookies.set("lang", "en")
    english = html.unescape(city.get("/lapor").text)
    assert "Keep me posted by" in english and "about this report only" in english


def test_a_ticked_channel_without_its_contact_is_shown_by_the_field_and_nothing_is_lost(
    city: TestClient, gateways_on: Settings
) -> None:
    photo = encode(camera_like((800, 600)), "JPEG", quality=85)
    typed = {**FORM, "notify_by": ["sms", "email"], "reporter_phone": ""}
    answer = city.post(
        "/lapor",
        data=typed,
        files=[("photos", ("jalan.jpg", photo, "image/jpeg"))],
        follow_redirects=False,
    )
    assert answer.status_code == 422
    page = answer.text
    errors = errors_of(page)
    assert set(errors) == {"reporter_phone", "reporter_email"}
    assert "WhatsApp atau SMS" in errors["reporter_phone"]
    assert "email" in errors["reporter_email"]
    assert ticked(page) == ["sms", "email"]
    assert 'name="reporter_name" value="Siti Aminah"' in page
    held = re.search(r'name="held_photos" value="([^"]+)"', page)[1]
    assert held  # the photo is kept for the next try
    assert scalar(gateways_on, "SELECT COUNT(*) FROM reports") == 0

    fixed = {**typed, "reporter_phone": "0812 3456 7890", "reporter_email": "siti@contoh.id"}
    again = city.post("/lapor", data={**fixed, "held_photos": held}, follow_redirects=False)
    assert again.status_code == 303
    assert stored(gateways_on) == ("sms,email", "id")
    assert scalar(gateways_on, "SELECT COUNT(*) FROM photos") == 1


def test_a_wrong_contact_keeps_its_own_message(city: TestClient) -> None:
    data = {**FORM, "notify_by": ["whatsapp"], "reporter_phone": "12345"}
    errors = errors_of(city.post("/lapor", data=data).text)
    assert errors["reporter_phone"].startswith("Nomor HP tidak dikenali")


def test_the_messages_are_in_english_for_a_resident_who_filed_in_english(
    city: TestClient, gateways_on: Settings
) -> None:
    city.cookies.set("lang", "en")
    errors = errors_of(city.post("/lapor", data={**FORM, "notify_by": ["email"]}).text)
    assert errors["reporter_email"] == "Enter an email address to hear back by email, or untick it."
    data = {**FORM, "notify_by": ["email", "whatsapp"], "reporter_email": "siti@contoh.id"}
    data["reporter_phone"] = "081234567890"
    assert city.post("/lapor", data=data, follow_redirects=False).status_code == 303
    assert stored(gateways_on) == ("whatsapp,email", "en")


def test_a_channel_the_city_did_not_switch_on_is_not_stored(
    client: TestClient, settings: Settings
) -> None:
    data: dict[str, Any] = {**FORM, "notify_by": ["sms", "email", "fax"]}
    data.update(reporter_phone="081234567890", reporter_email="siti@contoh.id")
    assert client.post("/lapor", data=data, follow_redirects=False).status_code == 303
    assert stored(settings) == ("", "id")


def test_nothing_ticked_stores_no_channel_even_with_contacts(
    city: TestClient, gateways_on: Settings
) -> None:
    data = {**FORM, "reporter_phone": "081234567890", "reporter_email": "siti@contoh.id"}
    assert city.post("/lapor", data=data, follow_redirects=False).status_code == 303
    assert stored(gateways_on) == ("", "id")


def test_the_outbox_api_stores_the_channels_as_the_form_does(
    city: TestClient, gateways_on: Settings
) -> None:
    """The phone's outbox sends the form's fields as they are (several notify_by values)."""
    fields: dict[str, Any] = {**FORM, "notify_by": ["whatsapp", "sms"], "reporter_phone": ""}
    refused = city.post("/api/v1/reports", data=fields, headers={"Idempotency-Key": "k1"})
    assert refused.status_code == 422
    assert set(refused.json()["errors"]) == {"reporter_phone"}
    fields["reporter_phone"] = "+62 812-3456-7890"
    answer = city.post("/api/v1/reports", data=fields, headers={"Idempotency-Key": "k2"})
    assert answer.status_code == 201
    assert stored(gateways_on) == ("whatsapp,sms", "id")


def test_the_staff_intake_form_records_what_the_resident_agreed_to_in_indonesian(
    gateways_on: Settings,
) -> None:
    add_account(gateways_on, "gambir1", areas=[GAMBIR])
    with TestClient(create_app(gateways_on)) as staff:
        login(staff, "gambir1")
        staff.cookies.set("lang", "en")
        page = staff.get("/staf/lapor").text
        assert offered(page) == ["whatsapp", "sms", "email"]
        assert "Keep the resident posted by" in page
        data = {
            **FORM,
            "csrf_token": csrf_of(staff),
            "channel": "walk_in",
            "complained_at": utc_now().astimezone(JAKARTA).strftime("%Y-%m-%dT%H:%M"),
            "notify_by": ["email"],
        }
        refused = staff.post("/staf/lapor", data=data)
        assert refused.status_code == 422
        assert set(errors_of(refused.text)) == {"reporter_email"}
        data["reporter_email"] = "siti@contoh.id"
        assert staff.post("/staf/lapor", data=data, follow_redirects=False).status_code == 303
    assert stored(gateways_on) == ("email", "id")
