"""Open311 GeoReport v2, filing side: POST /requests with API keys, validation, idempotency,
rate limits, and a round trip through the staff workflow."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from functools import partial
from typing import Any
from urllib.parse import urlencode

import pytest
from starlette.testclient import TestClient

from tests.helpers import stream_post
from tests.test_open311 import BASE, FORMATS, KELURAHAN, act, assert_errors, parse
from web import apikeys, codes
from web.clock import utc_now


def make_key(client: TestClient, name: str = "JAKI", rate: int = 60) -> str:
    db = client.app_state["db"]
    new = client.portal.call(partial(apikeys.create_key, db, name, rate_per_minute=rate))
    return new.secret


@pytest.fixture
def key(client: TestClient) -> str:
    return make_key(client)


def form(key: str, **overrides: str) -> dict[str, str]:
    data = {
        "api_key": key,
        "service_code": "jalan",
        "lat": "-6.1754",
        "long": "106.8272",
        "description": "Jalan berlubang besar di depan halte",
        "attribute[kelurahan]": KELURAHAN,
    }
    data.update(overrides)
    return {name: value for name, value in data.items() if value != "<absent>"}


def report_row(client: TestClient, display_code: str) -> Any:
    db = client.app_state["db"]
    code = codes.normalise(display_code)
    return client.portal.call(
        db.fetchone, "SELECT * FROM reports WHERE code = :code", {"code": code}
    )


def count_reports(client: TestClient) -> int:
    db = client.app_state["db"]
    return client.portal.call(db.fetchone, "SELECT COUNT(*) AS n FROM reports")["n"]


def post(client: TestClient, fmt: str, data: dict[str, str], **headers: str) -> Any:
    return client.post(f"{BASE}/requests.{fmt}", data=data, headers=headers)


def created_id(response: Any, fmt: str) -> str:
    assert response.status_code == 200, response.text
    body = parse(response, fmt)
    if fmt == "json":
        (item,) = body
        assert item["account_id"] == ""
        assert item["service_notice"].startswith("Laporan diterima. Tanggapan pertama")
        return str(item["service_request_id"])
    assert body.tag == "service_requests" and [c.tag for c in body] == ["request"]
    assert body.findtext("request/account_id") == ""
    return body.findtext("request/service_request_id") or ""


# --- creating --------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_request_becomes_an_open311_report_with_deadlines_and_timeline(
    client: TestClient, key: str, fmt: str
) -> None:
    data = form(
        key,
        first_name="Siti",
        last_name="Rahma",
        email="siti@example.id",
        phone="+62 812-3456-7890",
        address_string="Jl. Kebon Sirih 10",
        media_url="https://cdn.example.org/p/1.jpg",
        device_id="hp-siti-1",
    )
    service_request_id = created_id(post(client, fmt, data), fmt)
    assert codes.normalise(service_request_id) is not None
    row = report_row(client, service_request_id)
    assert row["channel"] == "open311" and row["status"] == "received"
    assert row["category_code"] == "jalan" and row["area_code"] == KELURAHAN
    assert row["reporter_name"] == "Siti Rahma" and row["reporter_email"] == "siti@example.id"
    assert row["reporter_phone"] == "+62 812-3456-7890"
    assert row["address"] == "Jl. Kebon Sirih 10" and row["location_source"] == "form"
    assert row["media_url"] == "https://cdn.example.org/p/1.jpg"
    assert row["device_id"] == "hp-siti-1"
    assert row["response_due_at"] and row["resolution_due_at"]
    # readable straight away, without the reporter's contact
    read = client.get(f"{BASE}/requests/{service_request_id}.json").json()[0]
    assert read["status"] == "open" and read["media_url"] == "https://cdn.example.org/p/1.jpg"
    assert "Siti" not in str(read) and "hp-siti-1" not in str(read)


def test_the_notice_follows_the_language_and_names_the_first_response_deadline(
    client: TestClient, key: str
) -> None:
    client.cookies.set("lang", "en")
    (item,) = post(client, "json", form(key)).json()
    assert item["service_notice"].startswith("Report received. First response by ")
    assert "WIB" in item["service_notice"]


def test_an_address_or_address_id_alone_is_a_location(client: TestClient, key: str) -> None:
    by_address = form(key, lat="<absent>", long="<absent>", address_string="Pasar Baru")
    assert post(client, "json", by_address).status_code == 200
    by_id = form(key, lat="<absent>", long="<absent>", address_id="A-991")
    row = report_row(client, created_id(post(client, "json", by_id), "json"))
    assert row["address"] == "address_id A-991" and row["lat"] is None


def test_a_body_over_256_kb_is_refused_with_413_from_its_length(
    client: TestClient, key: str
) -> None:
    response = post(client, "json", form(key, description="x" * (300 * 1024)))
    assert response.status_code == 413
    assert count_reports(client) == 0


def test_a_body_over_256_kb_sent_without_its_length_is_refused_as_it_arrives(
    client: TestClient, key: str
) -> None:
    # Forty fields of 60 KB: each within the parser's limit for one field, 2.4 MB in all.
    fields = {f"attribute[catatan{n}]": "x" * (60 * 1024) for n in range(40)}
    body = urlencode(form(key, **fields)).encode()
    chunks = [body[start : start + 64 * 1024] for start in range(0, len(body), 64 * 1024)]
    answer = stream_post(
        client, f"{BASE}/requests.json", chunks, "application/x-www-form-urlencoded"
    )
    assert answer.status == 413
    assert [error["code"] for error in json.loads(answer.body)] == [413]
    assert answer.chunks_read == 5 < len(chunks)  # 256 KB and one chunk more
    assert count_reports(client) == 0


def test_a_description_of_exactly_4000_characters_is_accepted(client: TestClient, key: str) -> None:
    assert post(client, "json", form(key, description="x" * 4000)).status_code == 200


def test_a_confidential_service_may_be_filed_but_is_never_shown(
    client: TestClient, key: str
) -> None:
    service_request_id = created_id(post(client, "json", form(key, service_code="pungli")), "json")
    assert report_row(client, service_request_id)["confidential"] == 1
    assert client.get(f"{BASE}/requests/{service_request_id}.json").status_code == 404
    assert client.get(f"{BASE}/requests.json").json() == []


# --- refusals ---------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    ("overrides", "status"),
    [
        ({"api_key": "<absent>"}, 403),
        ({"api_key": ""}, 403),
        ({"api_key": "ak_not-a-real-key"}, 403),
        ({"service_code": "<absent>"}, 400),
        ({"service_code": "tidak-ada"}, 404),
        ({"jurisdiction_id": "surabaya.go.id"}, 404),
        ({"lat": "<absent>", "long": "<absent>"}, 400),
        ({"long": "<absent>"}, 400),
        ({"lat": "utara"}, 400),
        ({"lat": "nan", "long": "nan"}, 400),
        ({"lat": "106.8272", "long": "-6.1754"}, 400),
        ({"description": "x" * 4001}, 400),
        (
            {
                "attribute[kelurahan]": "<absent>",
                "lat": "<absent>",
                "long": "<absent>",
                "address_string": "Jl. Medan Merdeka Barat",
            },
            400,
        ),
        ({"attribute[kelurahan]": "31.71.01"}, 400),
        ({"attribute[kelurahan]": "99.99.99.9999"}, 400),
        ({"email": "bukan email"}, 400),
        ({"phone": "telepon saya"}, 400),
        ({"media_url": "javascript:alert(1)"}, 400),
        ({"first_name": "x" * 61}, 400),
    ],
)
def test_bad_requests_are_refused_with_the_standard_status_and_error_list(
    client: TestClient, key: str, fmt: str, overrides: dict[str, str], status: int
) -> None:
    assert_errors(post(client, fmt, form(key, **overrides)), fmt, status)
    assert count_reports(client) == 0


@pytest.mark.parametrize(
    ("overrides", "description"),
    [
        ({"long": "<absent>"}, "lat and long must both be given, as decimal degrees (WGS84)"),
        (
            {"lat": "nan", "long": "<absent>"},
            "lat and long must both be given, as decimal degrees (WGS84)",
        ),
        ({"lat": "utara"}, "lat and long must both be given, as decimal degrees (WGS84)"),
        # Decimal degrees are written with a point, whatever the city's custom.
        ({"lat": "-6,1754"}, "lat and long must both be given, as decimal degrees (WGS84)"),
        ({"lat": "nan", "long": "nan"}, "lat and long must be numbers"),
        ({"lat": "-6.2", "long": "inf"}, "lat and long must be numbers"),
        (
            {"lat": "106.8272", "long": "-6.1754"},
            "lat/long lie outside Indonesia (are they swapped?)",
        ),
        ({"email": "bukan email"}, "email is not an email address"),
        ({"email": "siti@example"}, "email is not an email address"),
        ({"phone": "telepon saya"}, "phone may hold only digits, spaces, +, -, ( and )"),
        ({"phone": "12345"}, "phone may hold only digits, spaces, +, -, ( and )"),
    ],
)
def test_each_location_and_contact_problem_has_its_own_description(
    client: TestClient, key: str, overrides: dict[str, str], description: str
) -> None:
    assert assert_errors(post(client, "json", form(key, **overrides)), "json", 400) == [description]


@pytest.mark.parametrize(
    "overrides",
    [
        {"phone": "(021) 345-6789"},  # a landline: a relaying system may hold one
        {"phone": "+44 20 7946 0958"},
        {"lat": " -6.1754 ", "long": "106.8272"},
        {"lat": "-12", "long": "94"},  # the corners of the extent are inside
        {"lat": "7", "long": "142"},
    ],
)
def test_any_telephone_number_and_the_edges_of_the_extent_are_taken(
    client: TestClient, key: str, overrides: dict[str, str]
) -> None:
    assert post(client, "json", form(key, **overrides)).status_code == 200


def test_several_problems_are_listed_together(client: TestClient, key: str) -> None:
    data = form(key, lat="<absent>", long="<absent>", description="x" * 4001)
    data.pop("attribute[kelurahan]")
    descriptions = assert_errors(post(client, "xml", data), "xml", 400)
    assert len(descriptions) == 3


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_revoked_key_is_refused(client: TestClient, key: str, fmt: str) -> None:
    db = client.app_state["db"]
    assert post(client, fmt, form(key)).status_code == 200
    client.portal.call(apikeys.revoke_by_prefix, db, key[: apikeys.PREFIX_LENGTH])
    assert_errors(post(client, fmt, form(key)), fmt, 403)


def test_a_body_that_is_not_a_form_is_refused(client: TestClient, key: str) -> None:
    response = client.post(f"{BASE}/requests.json", json=form(key))
    assert_errors(response, "json", 400)
    too_big = client.post(f"{BASE}/requests.xml", data=form(key, description="x" * (300 * 1024)))
    assert too_big.status_code == 413  # the route's max_body_size, from the Content-Length


def test_a_browser_post_from_another_site_is_refused(client: TestClient, key: str) -> None:
    response = client.post(
        f"{BASE}/requests.json", data=form(key), headers={"Origin": "https://evil.example"}
    )
    assert response.status_code == 403 and count_reports(client) == 0


# --- idempotency ------------------------------------------------------------------------------


def test_a_replay_returns_the_same_request(client: TestClient, key: str) -> None:
    data = form(key, device_id="hp-1")
    first = created_id(post(client, "json", data, **{"Idempotency-Key": "k-1"}), "json")
    again = created_id(post(client, "xml", data, **{"Idempotency-Key": "k-1"}), "xml")
    assert first == again and count_reports(client) == 1


def test_the_same_key_with_other_content_is_400(client: TestClient, key: str) -> None:
    headers = {"Idempotency-Key": "k-1"}
    post(client, "json", form(key, device_id="hp-1"), **headers)
    changed = form(key, device_id="hp-1", description="Sesuatu yang lain sama sekali")
    (description,) = assert_errors(post(client, "json", changed, **headers), "json", 400)
    assert "Idempotency-Key" in description and count_reports(client) == 1


def test_idempotency_needs_both_device_id_and_key_and_is_per_device(
    client: TestClient, key: str
) -> None:
    headers = {"Idempotency-Key": "k-1"}
    post(client, "json", form(key), **headers)
    post(client, "json", form(key), **headers)  # no device_id: not a replay
    post(client, "json", form(key, device_id="hp-1"), **headers)
    post(client, "json", form(key, device_id="hp-2"), **headers)  # another device
    other_client_key = make_key(client, "Qlue")
    post(client, "json", form(other_client_key, device_id="hp-1"), **headers)
    assert count_reports(client) == 5


def test_concurrent_replays_make_one_report(client: TestClient, key: str) -> None:
    data = form(key, device_id="hp-1")

    def send(_: int) -> str:
        return created_id(post(client, "json", data, **{"Idempotency-Key": "same"}), "json")

    with ThreadPoolExecutor(max_workers=8) as pool:
        ids = set(pool.map(send, range(16)))
    assert len(ids) == 1 and count_reports(client) == 1


# --- rate limit -------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_each_key_is_limited_per_minute(client: TestClient, fmt: str) -> None:
    slow = make_key(client, "Kecil", rate=3)
    other = make_key(client, "Lain", rate=3)
    assert post(client, fmt, form(slow)).status_code == 200
    assert post(client, fmt, form(slow, description="x" * 4001)).status_code == 400  # counts too
    assert post(client, fmt, form(slow)).status_code == 200
    limited = post(client, fmt, form(slow))
    assert_errors(limited, fmt, 429)
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    assert post(client, fmt, form(other)).status_code == 200
    assert count_reports(client) == 3


def test_the_limit_frees_up_a_minute_later_and_old_counts_are_pruned(client: TestClient) -> None:
    db = client.app_state["db"]
    secret = make_key(client, "Kecil", rate=2)
    key = client.portal.call(apikeys.authenticate, db, secret)
    start = utc_now()
    take = partial(apikeys.take_request_slot, db, key)
    assert client.portal.call(partial(take, now=start)) == 0
    assert client.portal.call(partial(take, now=start + timedelta(seconds=20))) == 0
    assert client.portal.call(partial(take, now=start + timedelta(seconds=30))) == 30
    assert client.portal.call(partial(take, now=start + timedelta(seconds=61))) == 0
    rows = client.portal.call(
        db.fetchall,
        "SELECT at FROM rate_events WHERE bucket = :bucket",
        {"bucket": f"apikey:{key.id}"},
    )
    assert len(rows) == 2  # the first one, over a minute old, is gone


# --- round trip -------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_round_trip_from_api_through_staff_back_to_closed(
    client: TestClient, key: str, fmt: str
) -> None:
    service_request_id = created_id(post(client, fmt, form(key, service_code="sampah")), fmt)
    code = codes.normalise(service_request_id)
    assert code is not None
    act(client, code, "verify")
    act(client, code, "dispatch", agency_code="DLH", internal_note="Hubungi Pak RT dulu")
    act(client, code, "progress", public_note="Truk sampah dijadwalkan besok pagi.")
    act(client, code, "resolve", public_note="Sampah sudah diangkut.")
    response = client.get(f"{BASE}/requests/{service_request_id}.{fmt}?extensions=true")
    assert "Hubungi Pak RT" not in response.text
    body = parse(response, fmt)
    if fmt == "json":
        (item,) = body
        notes = item["extended_attributes"]["notes"]
        kinds = [n["type"] for n in notes]
        descriptions = [n["description"] for n in notes]
        assert item["extended_attributes"]["channel"] == "open311"
    else:
        element = body.find("request")
        assert isinstance(element, ET.Element)
        item = {child.tag: child.text or "" for child in element}
        notes_xml = element.findall("extended_attributes/notes/note")
        kinds = [n.findtext("type") for n in notes_xml]
        descriptions = [n.findtext("description") for n in notes_xml]
        assert element.findtext("extended_attributes/channel") == "open311"
    assert item["status"] == "closed"
    assert item["agency_responsible"] == "Dinas Lingkungan Hidup"
    assert item["status_notes"] == "Sampah sudah diangkut."
    assert kinds == ["received", "verify", "dispatch", "progress", "resolve"]
    assert descriptions == [
        "Diterima",
        "Diverifikasi",
        "Diteruskan ke instansi",
        "Truk sampah dijadwalkan besok pagi.",
        "Sampah sudah diangkut.",
    ]
    closed = client.get(f"{BASE}/requests.{fmt}?status=closed&service_code=sampah")
    assert service_request_id in closed.text


@pytest.mark.parametrize("fmt", FORMATS)
def test_coordinates_without_the_kelurahan_attribute_file_the_report_in_the_kelurahan_there(
    client: TestClient, key: str, fmt: str
) -> None:
    """Most Open311 clients send only lat/long: inside Cideng, the report is Cideng's."""
    data = form(key, lat="-6.1756", long="106.8095")
    data.pop("attribute[kelurahan]")
    display_code = created_id(post(client, fmt, data), fmt)
    row = report_row(client, display_code)
    assert row["area_code"] == "31.71.01.1002"
    assert (row["lat"], row["lon"]) == (-6.1756, 106.8095)


@pytest.mark.parametrize("fmt", FORMATS)
def test_coordinates_outside_every_kelurahan_are_refused_with_the_reason(
    client: TestClient, key: str, fmt: str
) -> None:
    data = form(key, lat="-5.95", long="106.95")  # the Java Sea
    data.pop("attribute[kelurahan]")
    (description,) = assert_errors(post(client, fmt, data), fmt, 400)
    assert "outside the service area" in description
    assert count_reports(client) == 0


def test_the_kelurahan_attribute_wins_over_the_point(client: TestClient, key: str) -> None:
    display_code = created_id(
        post(client, "json", form(key, lat="-6.1756", long="106.8095")), "json"
    )
    assert report_row(client, display_code)["area_code"] == KELURAHAN
