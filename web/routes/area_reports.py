"""The public list of one kelurahan's reports, `/wilayah/{kode}` (linked from /kinerja): the
newest first, 20 a page, each with its tracking code, category, status, day and support
count — small enough for 2G. Never a confidential report; never the reporter, the text or
the point (db/reports.py selects none of them)."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from db import areas
from db import reports as q
from web import codes, lifecycle
from web.i18n import translate
from web.templating import render

PAGE_SIZE = 20
# Beyond this a list of old reports is an export's job (and a crawler's loop ends).
MAX_PAGE = 500


def _page_number(text: str) -> int:
    return int(text) if text.isdigit() and 1 <= int(text) <= MAX_PAGE else 1


async def area_reports(request: Request) -> Response:
    db = request.state.db
    area = await areas.kelurahan(db, request.path_params["kode"].strip())
    if area is None:
        raise HTTPException(404)
    page = _page_number(request.query_params.get("hal", "1"))
    rows = await q.public_in_area(
        db, area["code"], limit=PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE
    )
    items = [
        {
            "code": row["code"],
            "display_code": codes.display(row["code"]),
            "status": row["status"],
            "status_label": translate(lifecycle.STATUS_LABELS[row["status"]]),
            "category_name_id": row["category_name_id"],
            "category_name_en": row["category_name_en"],
            "received_at": row["received_at"],
            "support_count": row["support_count"],
        }
        for row in rows[:PAGE_SIZE]
    ]
    return render(
        request,
        "wilayah.html",
        {
            "area": area,
            "items": items,
            "page": page,
            "has_next": len(rows) > PAGE_SIZE and page < MAX_PAGE,
        },
        headers={"Cache-Control": "no-cache"},
    )


routes = [
    Route("/wilayah/{kode}", area_reports, name="area_reports"),
]
