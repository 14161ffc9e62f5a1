""" "Sudah dilaporkan?": the open reports of one category near a point, nearest first, as
the report form's fragment (`/lapor/sekitar`) — exactly those within 250 m, never a
confidential or closed one, never a name, a description or a point, and small on the wire."""

from __future__ import annotations

import gzip
import math
import re

from starlette.testclient import TestClient

from tests.backend import execute
from tests.helpers import add_report, apply, store_photo
from tests.images import camera_like, encode
from web.photos import process_photo
from web.settings import Settings

MONAS = (-6.1754, 106.8272)
METRES_PER_DEGREE = 6_371_008.8 * math.pi / 180


def place(settings: Settings, code: str, north_m: float = 0.0, east_m: float = 0.0) -> None:
    """Put a report's point `north_m` north and `east_m` east of Monas."""
    lat = MONAS[0] + north_m / METRES_PER_DEGREE
    lon = MONAS[1] + east_m / (METRES_PER_DEGREE * math.cos(math.radians(MONAS[0])))
    execute(
        settings,
        "UPDATE reports SET lat = :lat, lon = :lon WHERE code = :code",
        {"lat": lat, "lon": lon, "code": code},
    )


def report_at(settings: Settings, north_m: float = 0.0, east_m: float = 0.0, **kw: object) -> str:
    code = add_report(settings, category=kw.pop("category", "jalan"), **kw)  # type: ignore[arg-type]
    place(settings, code, north_m, east_m)
    return code


def listed(
    client: TestClient, category: str = "jalan", point: tuple[float, float] = MONAS
) -> list[str]:
    answer = client.get(
        "/lapor/sekitar", params={"category": category, "lat": point[0], "lon": point[1]}
    )
    assert answer.status_code == 200
    return re.findall(r'<li data-code="([0-9A-Z]{8})"', answer.text)


def test_exactly_the_open_reports_of_the_category_within_250_m_show_nearest_first(
    settings: Settings, client: TestClient
) -> None:
    at_180_south = report_at(settings, north_m=-180)
    at_40_north = report_at(settings, north_m=40)
    at_240_west = report_at(settings, east_m=-240)
    at_10 = report_at(settings, north_m=6, east_m=8)
    at_100_east = report_at(settings, east_m=100)
    report_at(settings, north_m=300)  # beyond 250 m
    report_at(settings, north_m=180, east_m=180)  # 255 m: inside the box, beyond the circle
    report_at(settings, north_m=20, category="sampah")  # another category
    assert listed(client) == [at_10, at_40_north, at_100_east, at_180_south, at_240_west]


def test_only_five_show_and_closed_and_confidential_reports_never(
    settings: Settings, client: TestClient
) -> None:
    codes = [report_at(settings, north_m=10 * (i + 1)) for i in range(6)]
    assert listed(client) == codes[:5]
    apply(settings, codes[0], "reject", public_note="Bukan wewenang kelurahan.")
    secret = report_at(settings, north_m=1, category="jalan", confidential=True)
    shown = listed(client)
    assert codes[0] not in shown and secret not in shown
    assert shown == codes[1:6]


def test_the_fragment_holds_no_personal_data_no_point_and_fits_in_3_kb(
    settings: Settings, client: TestClient
) -> None:
    im = camera_like((640, 480))
    for i in range(5):
        photo = store_photo(settings, process_photo(encode(im, "JPEG")))
        report_at(
            settings,
            north_m=30 * i,
            photos=[photo],
            description=f"Jalan berlubang besar nomor {i} di depan rumah Bu Siti.",
            reporter_name="Siti Aminah",
            reporter_phone="081234567890",
        )
    answer = client.get(
        "/lapor/sekitar", params={"category": "jalan", "lat": MONAS[0], "lon": MONAS[1]}
    )
    body = answer.text
    assert body.count("<li ") == 5
    assert body.count(f'src="/foto/{photo.sha256}.thumb.jpg"') == 5
    assert client.get(f"/foto/{photo.sha256}.thumb.jpg").status_code == 200
    for leak in ("Siti", "0812", "berlubang", "-6.17", "106.82"):
        assert leak not in body
    assert "± 30 m" in body and "Dukung & ikuti" in body
    assert answer.headers["cache-control"] == "no-store"
    assert len(gzip.compress(answer.content)) <= 3 * 1024


def test_without_a_point_or_category_the_answer_is_empty(client: TestClient) -> None:
    for params in (
        {"category": "jalan"},
        {"category": "jalan", "lat": "abc", "lon": "106.8"},
        {"lat": str(MONAS[0]), "lon": str(MONAS[1])},
        {"category": "jalan", "lat": "51.5", "lon": "-0.12"},
    ):
        answer = client.get("/lapor/sekitar", params=params)
        assert answer.status_code == 200
        assert answer.text == ""
