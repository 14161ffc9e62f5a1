"""Open311 GeoReport v2, reading side: discovery, services, requests, tokens, in JSON and XML,
with every filter, every error, and nothing personal or confidential in any body."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import timedelta
from functools import partial
from typing import Any

import pytest
from starlette.testclient import TestClient

from web import codes, lifecycle
from web.clock import to_text, utc_now
from web.photos import Photo

BASE = "/open311/v2"
KELURAHAN = "31.71.01.1001"  # Gambir, Jakarta Pusat
DECLARATION = '<?xml version="1.0" encoding="utf-8"?>'
ISO_WITH_OFFSET = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+07:00$")
FORMATS = ("json", "xml")


# --- helpers shared with the other Open311 tests ------------------------------------------------


def file_report(
    client: TestClient,
    *,
    category: str = "jalan",
    description: str = "Jalan berlubang di depan sekolah",
    photos: tuple[Photo, ...] = (),
    days_ago: float = 0,
    **fields: Any,
) -> lifecycle.Created:
    """A report created through the domain, in the app's own event loop and database."""
    db = client.app_state["db"]
    new = lifecycle.NewReport(category=category, area=KELURAHAN, description=description, **fields)
    now = utc_now() - timedelta(days=days_ago)
    return client.portal.call(partial(lifecycle.create_report, db, new, photos, now=now))


def act(client: TestClient, code: str, kind: str, **fields: Any) -> None:
    """A staff action on a report, as the staff workspace performs it."""
    db = client.app_state["db"]
    row = client.portal.call(
        db.fetchone, "SELECT version FROM reports WHERE code = :code", {"code": code}
    )
    action = lifecycle.Action(kind=kind, expected_version=row["version"], **fields)
    client.portal.call(partial(lifecycle.apply_action, db, code, action))


def parse(response: Any, fmt: str) -> Any:
    """The body as plain data: JSON as is, XML checked (declaration, parser) and returned as
    its root element."""
    if fmt == "json":
        assert response.headers["content-type"] == "application/json; charset=utf-8"
        return response.json()
    assert response.headers["content-type"] == "text/xml; charset=utf-8"
    assert response.text.startswith(DECLARATION)
    return ET.fromstring(response.content)


def request_ids(response: Any, fmt: str) -> list[str]:
    body = parse(response, fmt)
    if fmt == "json":
        assert isinstance(body, list)
        return [item["service_request_id"] for item in body]
    assert body.tag == "service_requests"
    assert all(child.tag == "request" for child in body)
    return [child.findtext("service_request_id") or "" for child in body]


def assert_errors(response: Any, fmt: str, status: int) -> list[str]:
    """The standard's error list with the status code in each error; returns descriptions."""
    assert response.status_code == status, response.text
    body = parse(response, fmt)
    if fmt == "json":
        assert isinstance(body, list) and body
        assert all(error["code"] == status for error in body)
        descriptions = [error["description"] for error in body]
    else:
        assert body.tag == "errors" and len(body) >= 1
        assert all(child.tag == "error" for child in body)
        assert all(child.findtext("code") == str(status) for child in body)
        descriptions = [child.findtext("description") or "" for child in body]
    assert all(descriptions)
    return descriptions


def display(created: lifecycle.Created) -> str:
    return codes.display(created.code)


# --- discovery and services ---------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_discovery_names_the_endpoint_and_both_formats(client: TestClient, fmt: str) -> None:
    response = client.get(f"{BASE}/discovery.{fmt}")
    assert response.status_code == 200
    body = parse(response, fmt)
    if fmt == "json":
        assert isinstance(body, dict)
        endpoint = body["endpoints"][0]
        assert endpoint["url"] == "http://testserver/open311/v2"
        assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
        assert endpoint["formats"] == ["text/xml", "application/json"]
        assert ISO_WITH_OFFSET.match(body["changeset"])
    else:
        assert body.tag == "discovery"
        assert body.findtext("endpoints/endpoint/url") == "http://testserver/open311/v2"
        formats = [f.text for f in body.findall("endpoints/endpoint/formats/format")]
        assert formats == ["text/xml", "application/json"]
        assert body.findtext("endpoints/endpoint/type") == "production"


@pytest.mark.parametrize("fmt", FORMATS)
def test_services_are_the_categories_in_bahasa_indonesia(client: TestClient, fmt: str) -> None:
    response = client.get(f"{BASE}/services.{fmt}")
    assert response.status_code == 200
    body = parse(response, fmt)
    if fmt == "json":
        assert isinstance(body, list) and len(body) == 13
        jalan = next(s for s in body if s["service_code"] == "jalan")
        assert jalan == {
            "service_code": "jalan",
            "service_name": "Jalan rusak",
            "description": "Jalan berlubang, aspal rusak, trotoar rusak",
            "metadata": True,
            "type": "realtime",
            "keywords": "jalan,lubang,aspal,trotoar,road,pothole",
            "group": "Infrastruktur",
        }
        # a confidential category is a service a client may file into
        assert any(s["service_code"] == "pungli" for s in body)
    else:
        assert body.tag == "services" and len(body) == 13
        assert all(child.tag == "service" for child in body)
        jalan = next(s for s in body if s.findtext("service_code") == "jalan")
        assert jalan.findtext("service_name") == "Jalan rusak"
        assert jalan.findtext("metadata") == "true"
        assert jalan.findtext("group") == "Infrastruktur"


@pytest.mark.parametrize("fmt", FORMATS)
def test_service_definition_names_the_kelurahan_attribute_optional_where_points_find_it(
    client: TestClient, fmt: str
) -> None:
    """Jakarta's boundaries are loaded: lat/long alone name the kelurahan (web/locate.py)."""
    response = client.get(f"{BASE}/services/sampah.{fmt}")
    assert response.status_code == 200
    body = parse(response, fmt)
    if fmt == "json":
        assert isinstance(body, dict) and body["service_code"] == "sampah"
        (attribute,) = body["attributes"]
        assert attribute["code"] == "kelurahan" and attribute["required"] is False
        assert attribute["variable"] is True and attribute["datatype"] == "string"
        assert attribute["order"] == 1 and attribute["values"] == []
        assert "31.71.01.1001" in attribute["datatype_description"]
    else:
        assert body.tag == "service_definition"
        attribute = body.find("attributes/attribute")
        assert attribute is not None
        assert attribute.findtext("code") == "kelurahan"
        assert attribute.findtext("required") == "false"
        assert attribute.findtext("order") == "1"
        values = attribute.find("values")
        assert values is not None and len(values) == 0


def test_service_texts_follow_the_language_cookie(client: TestClient) -> None:
    client.cookies.set("lang", "en")
    attribute = client.get(f"{BASE}/services/sampah.json").json()["attributes"][0]
    assert attribute["description"] == "The kelurahan/village where the problem is"


# --- requests: shapes with 0, 1 and many --------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_no_requests_is_an_empty_list(client: TestClient, fmt: str) -> None:
    response = client.get(f"{BASE}/requests.{fmt}")
    assert response.status_code == 200
    if fmt == "json":
        assert response.json() == []
    else:
        assert response.text == DECLARATION + "\n<service_requests />"
        assert len(parse(response, fmt)) == 0


@pytest.mark.parametrize("fmt", FORMATS)
def test_one_request_carries_every_field_of_the_standard(client: TestClient, fmt: str) -> None:
    created = file_report(
        client,
        address="Jl. Medan Merdeka Barat",
        rt_rw="RT 03/RW 05",
        lat=-6.1754,
        lon=106.8272,
        location_source="form",
    )
    response = client.get(f"{BASE}/requests.{fmt}")
    assert response.status_code == 200
    fields = (
        "service_request_id status status_notes service_name service_code description "
        "agency_responsible service_notice requested_datetime updated_datetime "
        "expected_datetime address address_id zipcode lat long media_url"
    ).split()
    body = parse(response, fmt)
    if fmt == "json":
        (item,) = body
        assert list(item) == fields
    else:
        (element,) = body
        assert [child.tag for child in element] == fields
        item = {child.tag: child.text or "" for child in element}
        item["lat"], item["long"] = float(item["lat"]), float(item["long"])
    assert item["service_request_id"] == display(created)
    assert item["status"] == "open" and item["service_code"] == "jalan"
    assert item["service_name"] == "Jalan rusak"
    assert item["address"] == "Jl. Medan Merdeka Barat, RT 03/RW 05"
    assert (item["lat"], item["long"]) == (-6.1754, 106.8272)
    for name in ("requested_datetime", "updated_datetime", "expected_datetime"):
        assert ISO_WITH_OFFSET.match(item[name]), item[name]
    assert item["agency_responsible"] == "" and item["media_url"] == ""


@pytest.mark.parametrize("fmt", FORMATS)
def test_many_requests_come_newest_first_and_page_by_page(client: TestClient, fmt: str) -> None:
    made = [display(file_report(client, days_ago=days)) for days in (3, 2, 1)]
    newest_first = made[::-1]
    assert request_ids(client.get(f"{BASE}/requests.{fmt}"), fmt) == newest_first
    page_one = client.get(f"{BASE}/requests.{fmt}?page_size=2")
    page_two = client.get(f"{BASE}/requests.{fmt}?page_size=2&page=2")
    assert request_ids(page_one, fmt) == newest_first[:2]
    assert request_ids(page_two, fmt) == newest_first[2:]
    assert request_ids(client.get(f"{BASE}/requests.{fmt}?page_size=2&page=3"), fmt) == []


@pytest.mark.parametrize("fmt", FORMATS)
def test_one_request_by_id_is_a_list_of_one(client: TestClient, fmt: str) -> None:
    created = file_report(client)
    file_report(client, description="Another one")
    for typed in (display(created), created.code.lower()):
        response = client.get(f"{BASE}/requests/{typed}.{fmt}")
        assert response.status_code == 200
        assert request_ids(response, fmt) == [display(created)]


@pytest.mark.parametrize("fmt", FORMATS)
def test_token_of_a_request_is_its_id(client: TestClient, fmt: str) -> None:
    created = file_report(client)
    body = parse(client.get(f"{BASE}/tokens/{display(created)}.{fmt}"), fmt)
    if fmt == "json":
        assert body == [{"service_request_id": display(created), "token": display(created)}]
    else:
        assert body.tag == "service_requests"
        assert body.findtext("request/token") == display(created)


# --- filters --------------------------------------------------------------------------------


def test_service_request_id_list_overrides_every_other_filter(client: TestClient) -> None:
    old = file_report(client, days_ago=200, category="sampah")
    new = file_report(client)
    file_report(client)
    query = f"service_request_id={display(old)},{display(new)},NOPE&status=closed&service_code=x"
    ids = request_ids(client.get(f"{BASE}/requests.json?{query}"), "json")
    assert sorted(ids) == sorted([display(old), display(new)])


def test_service_code_and_status_filter_by_comma_lists(client: TestClient) -> None:
    road = file_report(client, category="jalan")
    rubbish = file_report(client, category="sampah")
    lamp = file_report(client, category="lampu")
    act(client, lamp.code, "resolve", public_note="Lampu sudah diganti.")
    get = client.get
    assert set(request_ids(get(f"{BASE}/requests.json?service_code=jalan,sampah"), "json")) == {
        display(road),
        display(rubbish),
    }
    assert request_ids(get(f"{BASE}/requests.json?status=closed"), "json") == [display(lamp)]
    assert len(request_ids(get(f"{BASE}/requests.json?status=open"), "json")) == 2
    assert len(request_ids(get(f"{BASE}/requests.json?status=open,closed"), "json")) == 3
    assert request_ids(get(f"{BASE}/requests.json?service_code=pohon"), "json") == []


def test_dates_default_to_the_last_90_days_and_may_span_at_most_90(client: TestClient) -> None:
    recent = file_report(client, days_ago=10)
    old = file_report(client, days_ago=120)
    assert request_ids(client.get(f"{BASE}/requests.json"), "json") == [display(recent)]
    start = (utc_now() - timedelta(days=150)).strftime("%Y-%m-%dT%H:%M:%S+07:00")
    end = to_text(utc_now() - timedelta(days=100))
    response = client.get(f"{BASE}/requests.json", params={"start_date": start, "end_date": end})
    assert request_ids(response, "json") == [display(old)]
    # start alone means the 90 days after it; end alone the 90 days before it
    only_start = client.get(f"{BASE}/requests.json", params={"start_date": start})
    assert request_ids(only_start, "json") == [display(old)]
    only_end = client.get(f"{BASE}/requests.json", params={"end_date": end})
    assert request_ids(only_end, "json") == [display(old)]


def test_an_unencoded_plus_in_a_date_still_reads_as_the_zone(client: TestClient) -> None:
    recent = file_report(client, days_ago=1)
    start = (utc_now() - timedelta(days=5)).strftime("%Y-%m-%dT%H:%M:%S+07:00")
    response = client.get(f"{BASE}/requests.json?start_date={start}")  # "+" arrives as " "
    assert request_ids(response, "json") == [display(recent)]


def test_empty_optional_parameters_behave_as_if_absent(client: TestClient) -> None:
    created = file_report(client)
    query = "jurisdiction_id=&service_code=&status=&start_date=&end_date=&page=&page_size="
    assert request_ids(client.get(f"{BASE}/requests.json?{query}"), "json") == [display(created)]
    assert client.get(f"{BASE}/services.json?jurisdiction_id=").status_code == 200


def test_our_own_jurisdiction_id_is_accepted(client: TestClient) -> None:
    created = file_report(client)
    response = client.get(f"{BASE}/requests.json?jurisdiction_id=testserver")
    assert request_ids(response, "json") == [display(created)]


# --- extensions and the round of statuses -------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_extensions_add_channel_photos_and_public_timeline(client: TestClient, fmt: str) -> None:
    before, after = "a" * 64, "b" * 64
    created = file_report(client, photos=(Photo(before, 800, 600),))
    act(client, created.code, "verify", public_note="Petugas sudah melihat lokasi.")
    act(client, created.code, "dispatch", agency_code="BINAMARGA")
    act(
        client,
        created.code,
        "resolve",
        public_note="Lubang sudah ditambal.",
        photos=(Photo(after, 800, 600),),
    )
    response = client.get(f"{BASE}/requests/{display(created)}.{fmt}?extensions=true")
    body = parse(response, fmt)
    urls = [f"http://testserver/foto/{before}.jpg", f"http://testserver/foto/{after}.jpg"]
    if fmt == "json":
        (item,) = body
        extended = item["extended_attributes"]
        assert extended["channel"] == "web"
        assert extended["media_urls"] == urls
        assert [n["type"] for n in extended["notes"]] == [
            "received",
            "verify",
            "dispatch",
            "resolve",
        ]
        descriptions = [n["description"] for n in extended["notes"]]
        assert all(ISO_WITH_OFFSET.match(n["datetime"]) for n in extended["notes"])
        assert item["media_url"] == urls[0]
        assert item["status"] == "closed" and item["status_notes"] == "Lubang sudah ditambal."
        assert item["agency_responsible"] == "Dinas Bina Marga"
    else:
        extended = body.find("request/extended_attributes")
        assert extended is not None
        assert extended.findtext("channel") == "web"
        assert [u.text for u in extended.findall("media_urls/media_url")] == urls
        notes = extended.findall("notes/note")
        assert [n.findtext("type") for n in notes] == ["received", "verify", "dispatch", "resolve"]
        descriptions = [n.findtext("description") for n in notes]
        assert body.findtext("request/media_url") == urls[0]
    assert descriptions == [
        "Diterima",
        "Petugas sudah melihat lokasi.",
        "Diteruskan ke instansi",
        "Lubang sudah ditambal.",
    ]


def test_open311_lists_the_events_the_tracking_page_shows_named_alike(
    client: TestClient,
) -> None:
    created = file_report(client)
    other = file_report(client, description="Lubang yang sama, dilaporkan tetangga")
    act(client, created.code, "note", internal_note="Hanya untuk petugas.")
    act(client, created.code, "note", public_note="Tim sudah dijadwalkan.")
    act(client, other.code, "duplicate", duplicate_of_code=created.code)
    act(client, created.code, "resolve", public_note="Lubang sudah ditambal.")
    db = client.app_state["db"]
    client.portal.call(partial(lifecycle.resident_answer, db, created.code, fixed=True))
    (item,) = client.get(f"{BASE}/requests/{display(created)}.json?extensions=true").json()
    notes = [(n["type"], n["description"]) for n in item["extended_attributes"]["notes"]]
    assert notes == [
        ("received", "Diterima"),
        ("note", "Tim sudah dijadwalkan."),
        ("merged_in", "Laporan lain digabung ke laporan ini"),
        ("resolve", "Lubang sudah ditambal."),
        ("confirmed", "Pelapor menyatakan sudah beres"),
    ]
    tracking = client.get(f"/t/{created.code}").text
    for _kind, description in notes:
        assert description in tracking
    assert "Hanya untuk petugas." not in tracking


def test_without_extensions_there_are_no_extended_attributes(client: TestClient) -> None:
    created = file_report(client)
    (item,) = client.get(f"{BASE}/requests/{display(created)}.json").json()
    assert "extended_attributes" not in item
    (item,) = client.get(f"{BASE}/requests/{display(created)}.json?extensions=false").json()
    assert "extended_attributes" not in item


def test_every_aduan_status_maps_to_open_or_closed(client: TestClient) -> None:
    expected = {}
    for kind in (None, "verify", "dispatch", "progress", "resolve", "reject"):
        created = file_report(client)
        if kind in {"dispatch", "progress"}:
            act(client, created.code, "dispatch", agency_code="DLH")
        if kind == "progress":
            act(client, created.code, "progress")
        elif kind == "reject":
            act(client, created.code, "reject", public_note="Bukan wewenang kota.")
        elif kind not in {None, "dispatch"}:
            act(client, created.code, kind, public_note="Selesai dikerjakan.")
        expected[display(created)] = "closed" if kind in {"resolve", "reject"} else "open"
    original = file_report(client)
    merged = file_report(client)
    act(client, merged.code, "duplicate", duplicate_of_code=original.code)
    expected[display(original)], expected[display(merged)] = "open", "closed"
    body = client.get(f"{BASE}/requests.json").json()
    assert {item["service_request_id"]: item["status"] for item in body} == expected


def test_a_recorded_external_media_url_is_the_media_url_without_photos(client: TestClient) -> None:
    created = file_report(client, media_url="https://cdn.example.org/foto/123.jpg")
    (item,) = client.get(f"{BASE}/requests/{display(created)}.json?extensions=true").json()
    assert item["media_url"] == "https://cdn.example.org/foto/123.jpg"
    assert item["extended_attributes"]["media_urls"] == ["https://cdn.example.org/foto/123.jpg"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_xml_escapes_markup_and_drops_characters_xml_cannot_hold(
    client: TestClient, fmt: str
) -> None:
    text = 'Pipa bocor <b>"parah"</b> & \x0bairnya ke jalan ]]> \U0001f30a'
    created = file_report(client, description=text)
    body = parse(client.get(f"{BASE}/requests/{display(created)}.{fmt}"), fmt)
    if fmt == "json":
        assert body[0]["description"] == text
    else:
        assert body.findtext("request/description") == text.replace("\x0b", "")


# --- errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    "path",
    [
        "services/tidak-ada.{fmt}",
        "requests/ZZZZ-ZZZZ.{fmt}",
        "requests/bukan-kode.{fmt}",
        "tokens/ZZZZ-ZZZZ.{fmt}",
        "services.{fmt}?jurisdiction_id=surabaya.go.id",
        "services/jalan.{fmt}?jurisdiction_id=surabaya.go.id",
        "requests.{fmt}?jurisdiction_id=surabaya.go.id",
        "tokens/ZZZZ-ZZZZ.{fmt}?jurisdiction_id=surabaya.go.id",
    ],
)
def test_unknown_things_are_404_in_the_standard_error_list(
    client: TestClient, fmt: str, path: str
) -> None:
    assert_errors(client.get(f"{BASE}/{path.format(fmt=fmt)}"), fmt, 404)


def test_an_unknown_format_suffix_is_404(client: TestClient) -> None:
    for path in ("services.csv", "requests.html", "discovery.yaml"):
        assert_errors(client.get(f"{BASE}/{path}"), "json", 404)


def test_every_endpoint_answers_an_unknown_format_first_in_json(client: TestClient) -> None:
    code = display(file_report(client))
    for path in ("services/jalan.csv", f"requests/{code}.html", f"tokens/{code}.yaml"):
        found = assert_errors(client.get(f"{BASE}/{path}?jurisdiction_id=x"), "json", 404)
        assert found == ["Unknown format: use .json or .xml"]
    posted = client.post(f"{BASE}/requests.csv", data={"api_key": "ak_not-a-real-key"})
    assert assert_errors(posted, "json", 404) == ["Unknown format: use .json or .xml"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_another_jurisdiction_is_refused_even_for_what_exists_and_discovery_has_none(
    client: TestClient, fmt: str
) -> None:
    code = display(file_report(client))
    other = "jurisdiction_id=surabaya.go.id"
    for path in ("services", "services/jalan", "requests", f"requests/{code}", f"tokens/{code}"):
        found = assert_errors(client.get(f"{BASE}/{path}.{fmt}?{other}"), fmt, 404)
        assert found == ["Unknown jurisdiction_id: surabaya.go.id"]
    assert client.get(f"{BASE}/discovery.{fmt}?{other}").status_code == 200


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    "query",
    [
        "start_date=gisteren",
        "end_date=2026-13-45",
        "start_date=2026-01-01T00:00:00Z&end_date=2026-06-01T00:00:00Z",
        "start_date=2026-06-01T00:00:00Z&end_date=2026-05-01T00:00:00Z",
        "status=pending",
        "status=open,archived",
        "page=0",
        "page=satu",
        "page_size=1001",
        "page_size=-5",
    ],
)
def test_bad_request_parameters_are_400(client: TestClient, fmt: str, query: str) -> None:
    assert_errors(client.get(f"{BASE}/requests.{fmt}?{query}"), fmt, 400)


def test_a_span_of_exactly_90_days_is_allowed(client: TestClient) -> None:
    query = "start_date=2026-01-01T00:00:00Z&end_date=2026-04-01T00:00:00Z"
    assert client.get(f"{BASE}/requests.json?{query}").status_code == 200


def test_other_sites_browser_apps_may_read_the_public_api(client: TestClient) -> None:
    for path in ("/services.json", "/requests.xml", "/discovery.json"):
        response = client.get(BASE + path, headers={"Origin": "https://dasbor.example"})
        assert response.headers["access-control-allow-origin"] == "*"
        assert "access-control-allow-credentials" not in response.headers
