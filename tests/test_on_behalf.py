"""Filing for someone else: names typed into the "on behalf" fields are never dropped.

Filling them is the consent, as if "Ya, saya membantu orang lain melapor" were ticked: the
report keeps them, or the form comes back saying what is still missing."""

from __future__ import annotations

import re
import uuid

import pytest
from starlette.testclient import TestClient

from tests.backend import query
from tests.helpers import add_account, hidden, login
from web.clock import utc_now
from web.settings import Settings

GAMBIR = "31.71.01.1001"
REPORT = {
    "category": "jalan",
    "area": GAMBIR,
    "description": "Jalan berlubang dalam di depan sekolah, motor sering jatuh.",
}
NAMES = {
    "on_behalf_name": "Mbah Sriyati",
    "on_behalf_no_phone": "1",
    "volunteer_name": "Ani Relawan",
}


def stored(settings: Settings) -> list[tuple[object, ...]]:
    rows = query(
        settings,
        "SELECT on_behalf, on_behalf_name, on_behalf_phone, on_behalf_no_phone,"
        " volunteer_name FROM reports ORDER BY id",
    )
    return [r.astuple() for r in rows]


@pytest.mark.parametrize("route", ["form", "outbox"])
def test_names_filled_without_the_tick_are_kept(
    client: TestClient, settings: Settings, route: str
) -> None:
    if route == "form":
        response = client.post("/lapor", data={**REPORT, **NAMES}, follow_redirects=False)
        assert response.status_code == 303
    else:
        response = client.post(
            "/api/v1/reports",
            data={**REPORT, **NAMES},
            headers={"Idempotency-Key": str(uuid.uuid4())},
        )
        assert response.status_code == 201
    assert stored(settings) == [(1, "Mbah Sriyati", "", 1, "Ani Relawan")]


def test_a_phone_number_alone_also_counts_as_filing_for_someone(
    client: TestClient, settings: Settings
) -> None:
    data = {**REPORT, "on_behalf_name": "Pak Karto", "on_behalf_phone": "0812 7777 8888"}
    assert client.post("/lapor", data=data, follow_redirects=False).status_code == 303
    assert stored(settings) == [(1, "Pak Karto", "081277778888", 0, "")]


@pytest.mark.parametrize("route", ["form", "outbox"])
def test_a_volunteer_name_without_the_person_helped_is_refused_with_a_message(
    client: TestClient, settings: Settings, route: str
) -> None:
    data = {**REPORT, "volunteer_name": "Ani Relawan"}
    if route == "form":
        response = client.post("/lapor", data=data)
        assert response.status_code == 422
        page = response.text
        assert re.search(r'id="on_behalf_name-error">Tulis nama orang yang Anda bantu', page)
        assert 'name="volunteer_name" value="Ani Relawan"' in page  # kept
        assert re.search(r'name="on_behalf" value="1" checked', page)
        assert "<details open>" in page
    else:
        response = client.post(
            "/api/v1/reports", data=data, headers={"Idempotency-Key": str(uuid.uuid4())}
        )
        assert response.status_code == 422
        assert "on_behalf_name" in response.json()["errors"]
    assert stored(settings) == []


def test_nothing_typed_in_the_on_behalf_fields_files_for_oneself(
    client: TestClient, settings: Settings
) -> None:
    data = {**REPORT, "on_behalf_no_phone": "1"}  # a stray tick holds no one's data
    assert client.post("/lapor", data=data, follow_redirects=False).status_code == 303
    assert stored(settings) == [(0, "", "", 0, "")]


def test_staff_intake_keeps_the_names_too(client: TestClient, settings: Settings) -> None:
    add_account(settings, "gambir1", areas=[GAMBIR])
    login(client, "gambir1")
    form = client.get("/staf/lapor").text
    response = client.post(
        "/staf/lapor",
        data={
            **REPORT,
            **NAMES,
            "csrf_token": hidden(form, "csrf_token"),
            "channel": "walk_in",
            "complained_at": utc_now().strftime("%Y-%m-%dT%H:%M"),
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert stored(settings) == [(1, "Mbah Sriyati", "", 1, "Ani Relawan")]
