"""Nothing personal or confidential leaves through Open311: not in any endpoint, not in either
format, not with extensions. Each secret is planted in the database, then searched for in
every body the API can give."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from tests.test_open311 import BASE, FORMATS, act, assert_errors, display, file_report, parse
from web import lifecycle
from web.photos import Photo

NAME, PHONE, EMAIL = "Siti Rahmawati", "081298765432", "siti.rahma@example.id"
ON_BEHALF, VOLUNTEER = "Pak Darmo Sutejo", "Relawan Budi Santoso"
INTERNAL = "CATATAN-INTERNAL-jangan-bocor"
ANON_LAT, ANON_LON = -6.177777, 106.833333
EXIF_LAT, EXIF_LON = -6.155555, 106.811111
CONFIDENTIAL_TEXT = "PUNGLI-RAHASIA-lurah-minta-uang"
FLAGGED_TEXT = "RAHASIA-DIMINTA-PELAPOR"
HIDDEN_PHOTO = "c" * 64
SECRETS = (
    NAME,
    PHONE,
    EMAIL,
    ON_BEHALF,
    VOLUNTEER,
    INTERNAL,
    str(ANON_LAT),
    str(ANON_LON),
    str(EXIF_LAT),
    str(EXIF_LON),
    CONFIDENTIAL_TEXT,
    FLAGGED_TEXT,
    HIDDEN_PHOTO,
)


@pytest.fixture
def planted(client: TestClient) -> dict[str, lifecycle.Created]:
    """Reports holding every kind of secret, plus one report that may be shown in full."""
    reports = {
        "named": file_report(
            client,
            reporter_name=NAME,
            reporter_phone=PHONE,
            reporter_email=EMAIL,
            on_behalf=True,
            on_behalf_name=ON_BEHALF,
            volunteer_name=VOLUNTEER,
            lat=-6.2,
            lon=106.8,
            location_source="form",
        ),
        "anonymous": file_report(
            client, anonymous=True, lat=ANON_LAT, lon=ANON_LON, location_source="form"
        ),
        "exif": file_report(client, lat=EXIF_LAT, lon=EXIF_LON, location_source="photo"),
        "pungli": file_report(client, category="pungli", description=CONFIDENTIAL_TEXT),
        "flagged": file_report(client, confidential=True, description=FLAGGED_TEXT),
    }
    # Staff notes: an internal one (with a photo) and a public one beside an internal note.
    act(
        client,
        reports["named"].code,
        "note",
        internal_note=INTERNAL,
        photos=(Photo(HIDDEN_PHOTO, 10, 10),),
    )
    act(client, reports["named"].code, "verify", public_note="Sudah dicek.", internal_note=INTERNAL)
    act(client, reports["pungli"].code, "verify", public_note=CONFIDENTIAL_TEXT)
    return reports


def every_body(client: TestClient, reports: dict[str, lifecycle.Created]) -> Iterator[str]:
    for fmt in FORMATS:
        for extensions in ("", "?extensions=true"):
            yield client.get(f"{BASE}/requests.{fmt}{extensions}").text
            ids = ",".join(display(r) for r in reports.values())
            yield client.get(f"{BASE}/requests.{fmt}?service_request_id={ids}").text
            for created in reports.values():
                yield client.get(f"{BASE}/requests/{display(created)}.{fmt}{extensions}").text
        for created in reports.values():
            yield client.get(f"{BASE}/tokens/{display(created)}.{fmt}").text


def test_no_personal_or_confidential_data_in_any_response(
    client: TestClient, planted: dict[str, lifecycle.Created]
) -> None:
    bodies = list(every_body(client, planted))
    assert len(bodies) == 2 * (2 * (2 + 5) + 5)
    for body in bodies:
        for secret in SECRETS:
            assert secret not in body
    # … while what is public does come through
    everything = "\n".join(bodies)
    assert "Sudah dicek." in everything and display(planted["named"]) in everything


@pytest.mark.parametrize("fmt", FORMATS)
def test_confidential_reports_are_unknown_to_the_api(
    client: TestClient, planted: dict[str, lifecycle.Created], fmt: str
) -> None:
    for key in ("pungli", "flagged"):
        code = display(planted[key])
        assert_errors(client.get(f"{BASE}/requests/{code}.{fmt}"), fmt, 404)
        assert_errors(client.get(f"{BASE}/tokens/{code}.{fmt}"), fmt, 404)
    listed = client.get(f"{BASE}/requests.json").json()
    assert {item["service_request_id"] for item in listed} == {
        display(planted[k]) for k in ("named", "anonymous", "exif")
    }


def test_a_report_recategorised_as_pungli_disappears(client: TestClient) -> None:
    created = file_report(client)
    act(client, created.code, "recategorise", category_code="pungli")
    assert client.get(f"{BASE}/requests/{display(created)}.json").status_code == 404
    assert client.get(f"{BASE}/requests.json").json() == []


@pytest.mark.parametrize("fmt", FORMATS)
def test_hidden_coordinates_are_left_out_not_emptied_to_zero(
    client: TestClient, planted: dict[str, lifecycle.Created], fmt: str
) -> None:
    for key, shown in (("named", True), ("anonymous", False), ("exif", False)):
        body = parse(client.get(f"{BASE}/requests/{display(planted[key])}.{fmt}"), fmt)
        if fmt == "json":
            item = body[0]
            assert ("lat" in item and "long" in item) is shown
        else:
            assert (body.find("request/lat") is not None) is shown
            assert (body.find("request/long") is not None) is shown


def test_internal_only_events_are_not_in_the_public_timeline(
    client: TestClient, planted: dict[str, lifecycle.Created]
) -> None:
    code = display(planted["named"])
    (item,) = client.get(f"{BASE}/requests/{code}.json?extensions=true").json()
    notes = item["extended_attributes"]["notes"]
    assert [n["type"] for n in notes] == ["received", "verify"]
    assert item["extended_attributes"]["media_urls"] == []
    assert item["status_notes"] == "Sudah dicek."
