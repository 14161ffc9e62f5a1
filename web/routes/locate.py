"""GET /api/v1/wilayah?lat=&lon=: the kelurahan/desa at a point, for the report form's
"Pakai lokasi saya" (web/static/js/lapor.js), which selects it once the coordinates are in."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from web import validators
from web.forms import COORDINATE_MESSAGES
from web.i18n import translate
from web.locate import OUTSIDE, find_place

# A point says where someone stands: no shared cache keeps it.
_HEADERS = {"Cache-Control": "no-store"}


async def place_at(request: Request) -> Response:
    """200 with the kelurahan, its kecamatan and kota; 404 outside the loaded areas; 400 for
    coordinates that are not a point in Indonesia. The message is in the page's language."""
    point = validators.coordinates(
        request.query_params.get("lat", "").strip(),
        request.query_params.get("lon", "").strip(),
        decimal_comma=True,
    )
    if point.problem or point.lat is None or point.lon is None:
        problem = point.problem or "half"
        return JSONResponse(
            {"error": translate(COORDINATE_MESSAGES[problem])}, status_code=400, headers=_HEADERS
        )
    place = await find_place(request, point.lat, point.lon)
    if place is None:
        return JSONResponse({"error": translate(OUTSIDE)}, status_code=404, headers=_HEADERS)
    return JSONResponse(
        {
            "kode": place.code,
            "nama": place.name,
            "kecamatan": {"kode": place.kecamatan_code, "nama": place.kecamatan_name},
            "kota": place.kota_name,
        },
        headers=_HEADERS,
    )


routes = [Route("/api/v1/wilayah", place_at, name="place_at")]
