"""`/staf/admin/data-pribadi`: a resident's request that comes to the office (UU PDP). An
admin finds every report holding a phone number or email address, hands over what is held
(CSV or JSON) and erases it. Each export and erasure is written to the audit log, which
names the reports and never the contact.

The number or address travels only in POST bodies, never in a URL (which browsers, proxies
and access logs keep); the pages are staff pages, so the session middleware marks them
`no-store`.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from web import audit, auth, personal_data
from web.clock import utc_now
from web.csvfile import csv_chunk, csv_response
from web.i18n import gettext as _
from web.templating import render

FORMATS = ("csv", "json")


async def _page(
    request: Request,
    *,
    query: personal_data.ContactQuery | None = None,
    reports: list[Any] | None = None,
    message: str = "",
    confirm_error: bool = False,
    status_code: int = 200,
) -> Response:
    context = {
        "query": query,
        "reports": reports or [],
        "message": message,
        "confirm_error": confirm_error,
    }
    return render(request, "staf/admin_data_pribadi.html", context, status_code=status_code)


async def data_requests(request: Request) -> Response:
    auth.require_account(request, auth.ADMIN_ROLES)
    return await _page(request)


async def _search(
    request: Request,
) -> tuple[Any, personal_data.ContactQuery, list[Any], FormData]:
    """The admin, what they typed, the reports holding it, and the form."""
    account = auth.require_account(request, auth.ADMIN_ROLES)
    form = await auth.read_form(request, max_fields=10, max_part_size=4096)
    query = personal_data.read_contact_query(str(form.get("kontak") or ""))
    reports = await personal_data.find_reports(request.state.db, query)
    return account, query, reports, form


async def search(request: Request) -> Response:
    """Every report holding the typed number or address (a wrong one comes back typed)."""
    _account, query, reports, _form = await _search(request)
    return await _page(
        request, query=query, reports=reports, status_code=422 if query.problem else 200
    )


async def export(request: Request) -> Response:
    """What is held about the person, as CSV or JSON, recorded in the audit log."""
    account, query, reports, form = await _search(request)
    fmt = str(form.get("format") or "csv")
    if query.problem or fmt not in FORMATS:
        return await _page(request, query=query, reports=reports, status_code=422)
    await personal_data.record_export(request.state.db, audit.actor_of(account), reports, fmt)
    rows = personal_data.export_rows(reports)
    stamp = utc_now().strftime("%Y%m%d-%H%M")
    if fmt == "json":
        body = json.dumps({"reports": rows}, ensure_ascii=False, indent=2)
        return Response(
            body,
            media_type="application/json; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="aduan-data-pribadi-{stamp}.json"',
                "Cache-Control": "no-store",
                "X-Content-Type-Options": "nosniff",
            },
        )

    async def body_csv() -> AsyncIterator[bytes]:
        yield "\ufeff".encode()
        yield csv_chunk([list(personal_data.EXPORT_FIELDS)])
        yield csv_chunk([["" if v is None else v for v in row.values()] for row in rows])

    return csv_response(body_csv(), f"aduan-data-pribadi-{stamp}.csv")


async def erase(request: Request) -> Response:
    """Erase the contact on every report found (the ones the admin saw: their codes come
    with the form, so a report filed meanwhile is not erased unseen)."""
    account, query, reports, form = await _search(request)
    seen = set(form.getlist("laporan"))
    reports = [r for r in reports if r["code"] in seen and not r["contact_erased_at"]]
    if query.problem:
        return await _page(request, query=query, status_code=422)
    if form.get("yakin") != "ya":
        found = await personal_data.find_reports(request.state.db, query)
        return await _page(request, query=query, reports=found, confirm_error=True, status_code=422)
    erased = await personal_data.erase_for_office(
        request.state.db, audit.actor_of(account), reports
    )
    found = await personal_data.find_reports(request.state.db, query)
    message = _("Kontak pada %(n)d laporan sudah dihapus.") % {"n": erased}
    return await _page(request, query=query, reports=found, message=message)


routes = [
    Route("/staf/admin/data-pribadi", data_requests, name="staff_data_requests"),
    Route("/staf/admin/data-pribadi/cari", search, methods=["POST"], name="staff_data_search"),
    Route("/staf/admin/data-pribadi/ekspor", export, methods=["POST"], name="staff_data_export"),
    Route("/staf/admin/data-pribadi/hapus", erase, methods=["POST"], name="staff_data_erase"),
]
