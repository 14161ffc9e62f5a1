""" "Data saya" through a report's private link (`/t/{code}/p/{token}/data`): everything Aduan
holds about the reporter of that report, a form to correct their contact, and a button that
erases it at once (UU PDP: the rights to see, correct and erase). The report itself stays,
anonymised; staff see that the reporter erased it.

Like the "Sudah beres?" answer, the forms post to the private link without a session token:
the cross-origin check (web/middleware.py) guards every POST, and the link is the secret.
"""

from __future__ import annotations

from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from db import personal_data as pd_db
from web import codes, formdata, pagecache, personal_data
from web.lookup import load_public
from web.privatelinks import private_token_valid
from web.templating import render

PRIVATE_HEADERS = {"Cache-Control": "private, no-store", "Referrer-Policy": "no-referrer"}


async def _load(request: Request) -> Any:
    report = await load_public(request, request.path_params["code"])
    if not private_token_valid(request, report["code"], request.path_params["token"]):
        raise HTTPException(404)
    return report


def _page_url(request: Request, code: str, done: str = "") -> str:
    url = str(request.url_for("my_data", code=code, token=request.path_params["token"]))
    return f"{url}?{done}=1" if done else url


async def _render(
    request: Request,
    report: Any,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    db = request.state.db
    held = await pd_db.held_about(db, report["id"])
    context = {
        "report": report,
        "held": held,
        "display_code": codes.display(report["code"]),
        "private_token": request.path_params["token"],
        "follows": await pd_db.push_follows_of(db, report["id"]),
        "messages": await pd_db.messages_of(db, report["id"]),
        "errors": errors or {},
        "values": values or {name: held[name] for name in personal_data.CONTACT_FIELDS},
        "saved": request.query_params.get("disimpan") == "1",
        "retention_months": request.app.state.settings.contact_retention_months,
    }
    return render(
        request, "data_saya.html", context, status_code=status_code, headers=PRIVATE_HEADERS
    )


async def my_data(request: Request) -> Response:
    report = await _load(request)
    return await _render(request, report)


async def correct(request: Request) -> Response:
    """The reporter's corrected name, phone or email: checked as on the report form; a
    refused one comes back with its message by the field and everything typed kept."""
    report = await _load(request)
    form = await formdata.read_form(request, max_fields=10, max_part_size=8 * 1024)
    held = await pd_db.held_about(request.state.db, report["id"])
    if held["contact_erased_at"]:
        return RedirectResponse(_page_url(request, report["code"]), status_code=303)
    correction = personal_data.check_contact(form, held["notify_by"])
    if correction.errors:
        return await _render(
            request,
            report,
            errors=correction.errors,
            values=correction.values,
            status_code=422,
        )
    await personal_data.correct_contact(request.state.db, report["id"], correction)
    return RedirectResponse(_page_url(request, report["code"], "disimpan"), status_code=303)


async def erase(request: Request) -> Response:
    """Erase this report's contact at once (the report stays, anonymised)."""
    report = await _load(request)
    form = await formdata.read_form(request, max_fields=10, max_part_size=8 * 1024)
    if form.get("yakin") != "ya":
        held = await pd_db.held_about(request.state.db, report["id"])
        values = {name: held[name] for name in personal_data.CONTACT_FIELDS}
        return await _render(
            request, report, errors={"yakin": "confirm"}, values=values, status_code=422
        )
    await personal_data.erase_reports(request.state.db, [report["id"]], by="reporter")
    return RedirectResponse(_page_url(request, report["code"]), status_code=303)


async def privacy(request: Request) -> Response:
    """The whole privacy notice (`/privasi`): the same for everyone in a language."""

    months = request.app.state.settings.contact_retention_months

    async def page() -> Response:
        return render(request, "privasi.html", {"retention_months": months})

    return await pagecache.serve(request, ("privacy", months), page)


routes = [
    Route("/privasi", privacy, name="privacy"),
    Route("/t/{code}/p/{token}/data", my_data, name="my_data"),
    Route("/t/{code}/p/{token}/data/ubah", correct, methods=["POST"], name="my_data_correct"),
    Route("/t/{code}/p/{token}/data/hapus", erase, methods=["POST"], name="my_data_erase"),
]
