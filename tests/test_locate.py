"""Point → kelurahan: the packaged boundaries, the JSON lookup for "Pakai lokasi saya", and
the form that picks the kelurahan from coordinates (typed, or a photo's) without JavaScript."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

import httpx2 as httpx
import shapely
import shapely.ops
from starlette.testclient import TestClient

from db import boundaries
from db.database import Database
from tests.helpers import rows, run_async
from tests.images import JAKARTA, phone_jpeg
from web.locate import load_locator
from web.settings import Settings

GAMBIR = "31.71.01.1001"
CIDENG = "31.71.01.1002"
MONAS = JAKARTA  # (-6.1754, 106.8272)
IN_CIDENG = (-6.1756, 106.8095)  # west of Jl. Tanah Abang II, inside Cideng's polygon
JAVA_SEA = (-5.95, 106.95)  # open sea between Jakarta Bay and Kepulauan Seribu
DESCRIPTION = "Jalan berlubang dalam di depan sekolah, motor sering jatuh."


def place(client: TestClient, lat: float | str, lon: float | str):
    return client.get("/api/v1/wilayah", params={"lat": lat, "lon": lon})


def test_monas_is_in_gambir_and_the_answer_names_its_kecamatan(client: TestClient) -> None:
    response = place(client, *MONAS)
    assert response.status_code == 200
    assert response.json() == {
        "kode": GAMBIR,
        "nama": "Gambir",
        "kecamatan": {"kode": "31.71.01", "nama": "Gambir"},
        "kota": "Kota Administrasi Jakarta Pusat",
    }
    assert response.headers["cache-control"] == "no-store"


def test_a_point_inside_cideng_is_cideng(client: TestClient) -> None:
    assert place(client, *IN_CIDENG).json()["kode"] == CIDENG


def test_a_point_in_the_java_sea_is_outside_the_service_area_in_both_languages(
    client: TestClient,
) -> None:
    response = place(client, *JAVA_SEA)
    assert response.status_code == 404
    assert "di luar wilayah layanan" in response.json()["error"]
    client.cookies.set("lang", "en")
    assert "outside the service area" in place(client, *JAVA_SEA).json()["error"]


def test_coordinates_that_are_not_a_point_get_the_forms_message(client: TestClient) -> None:
    response = place(client, "enam", "106.8")
    assert response.status_code == 400
    assert "angka" in response.json()["error"]
    assert place(client, "-6.17", "").status_code == 400


def test_a_point_in_a_sliver_between_areas_takes_the_nearest_within_50_metres(
    settings: Settings,
) -> None:
    """Simplified borders leave slivers that no polygon covers: there the nearest area
    within 50 m answers; 200 m out to sea, none does."""

    async def check() -> None:
        async with Database(settings.database) as db:
            locator = await load_locator(db)
        assert len(locator) == 267
        everything = shapely.union_all(locator.geometries)
        # a point 10-30 m outside the coastline of Jakarta: covered by no area
        coast = shapely.Point(106.8272, -6.10)  # Jakarta Bay, north of Monas
        edge = shapely.ops.nearest_points(everything, coast)[0]
        step = 0.0002 / max(edge.distance(coast), 1e-9)
        sliver = shapely.Point(
            edge.x + (coast.x - edge.x) * step, edge.y + (coast.y - edge.y) * step
        )
        assert not everything.covers(sliver)
        found = locator.find(sliver.y, sliver.x)
        assert found is not None
        nearest = locator.geometries[[p.code for p in locator.places].index(found.code)]
        assert nearest.distance(sliver) < 0.0003
        far = 0.0018 / max(edge.distance(coast), 1e-9)
        out = (edge.y + (coast.y - edge.y) * far, edge.x + (coast.x - edge.x) * far)
        assert locator.find(*out) is None
        assert locator.find(*JAVA_SEA) is None

    run_async(check())


def test_loading_a_province_without_boundaries_loads_nothing_and_keeps_the_rest(
    settings: Settings, tmp_path
) -> None:
    async def load() -> int:
        async with Database(settings.database) as db, db.write() as conn:
            return await boundaries.load_boundaries(conn, "31", folder=tmp_path)

    assert run_async(load()) == 0
    assert rows(settings, "SELECT COUNT(*) FROM area_boundaries")[0][0] == 267


def lapor(
    client: TestClient,
    *,
    area: str = "",
    point: tuple[float, float] | None = None,
    photos: Sequence[tuple[str, bytes]] = (),
    **fields: str,
) -> httpx.Response:
    """A road report through the form, at `point` (typed coordinates) if given."""
    data = {"category": "jalan", "area": area, "description": DESCRIPTION, **fields}
    if point is not None:
        data.update(lat=str(point[0]), lon=str(point[1]))
    files = [("photos", (name, content, "image/jpeg")) for name, content in photos]
    return client.post("/lapor", data=data, files=files or None, follow_redirects=False)


def test_the_form_without_a_kelurahan_takes_the_one_at_the_typed_coordinates(
    client: TestClient, settings: Settings
) -> None:
    lat = IN_CIDENG[0]
    response = lapor(client, point=IN_CIDENG)
    assert response.status_code == 303
    assert rows(settings, "SELECT area_code, lat, location_source FROM reports")[0] == (
        CIDENG,
        lat,
        "form",
    )


def test_a_chosen_kelurahan_is_kept_even_when_the_point_says_otherwise(
    client: TestClient, settings: Settings
) -> None:
    response = lapor(client, area=GAMBIR, point=IN_CIDENG)
    assert response.status_code == 303
    assert rows(settings, "SELECT area_code FROM reports")[0][0] == GAMBIR


def test_coordinates_outside_every_area_say_so_beside_the_kelurahan_and_keep_everything(
    client: TestClient, settings: Settings
) -> None:
    response = lapor(
        client, point=JAVA_SEA, address="Dermaga", photos=[("jalan.jpg", phone_jpeg())]
    )
    assert response.status_code == 422
    page = html.unescape(response.text)
    assert re.search(r'id="area-error"[^>]*>[^<]*di luar wilayah layanan', page)
    assert DESCRIPTION in page and 'value="Dermaga"' in page
    assert f'value="{JAVA_SEA[0]}"' in page
    assert "Foto yang sudah terkirim tetap terlampir" in page  # the photo is held
    assert rows(settings, "SELECT COUNT(*) FROM reports")[0][0] == 0


def test_a_photos_gps_picks_the_kelurahan_when_no_location_was_given(
    client: TestClient, settings: Settings
) -> None:
    response = lapor(client, photos=[("monas.jpg", phone_jpeg())])
    assert response.status_code == 303
    assert rows(settings, "SELECT area_code, location_source FROM reports")[0] == (
        GAMBIR,
        "photo",
    )


def test_without_kelurahan_or_any_point_the_form_still_asks_for_the_kelurahan(
    client: TestClient,
) -> None:
    response = lapor(client)
    assert response.status_code == 422
    assert "Pilih kelurahan tempat masalahnya." in html.unescape(response.text)
