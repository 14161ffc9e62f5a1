"""Receipts: the resident's, shown after filing (`/t/{code}/struk`: QR code, WhatsApp
share, A6 print, and the private link when the signed token comes with it), and the walk-in
desk's, printed for the resident by the officer who took the complaint
(`/staf/lapor/{code}/struk`). What a receipt holds is in web/receipts.py.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from db import reports as report_db
from db import staff as staff_db
from web import auth, codes, lifecycle, receipts, urls
from web.i18n import gettext as _
from web.i18n import translate
from web.lookup import load_public
from web.privatelinks import private_token, private_token_valid
from web.templating import render


async def receipt(request: Request) -> Response:
    report = await load_public(request, request.path_params["code"])
    code = report["code"]
    token = request.query_params.get("k", "")
    private_url = (
        urls.public_url(request, "private_page", code=code, token=token)
        if private_token_valid(request, code, token)
        else ""
    )
    context = receipts.receipt_context(
        report, tracking_url=urls.public_url(request, "track", code=code), private_url=private_url
    )
    context["status_label"] = translate(lifecycle.STATUS_LABELS[report["status"]])
    context["push_url"] = receipts.follow_path(
        urls.path_for(request, "push_subscribe", code=code),
        confidential=bool(report["confidential"]),
        token=token if private_url else "",
    )
    return render(
        request,
        "receipt.html",
        context,
        headers={"Cache-Control": "private, no-store", "Referrer-Policy": "no-referrer"},
    )


async def intake_receipt(request: Request) -> Response:
    """The walk-in desk's receipt, worded to be handed to the resident, with the private
    link printed on it. Only for the officer who took the complaint: it holds the private
    link, and no one else at the desk should answer "Sudah beres?" in the resident's name."""
    account = auth.require_account(request, auth.ACTING_ROLES)
    db = request.state.db
    code = codes.normalise(request.path_params["code"])
    in_scope = await staff_db.load_report(db, code, account) if code else None
    report = await report_db.report_with_names(db, in_scope["code"]) if in_scope else None
    if report is None or report["created_by"] != account.id:
        raise HTTPException(404)
    request.state.report_id = report["id"]
    code = report["code"]
    context = receipts.receipt_context(
        report,
        tracking_url=urls.public_url(request, "track", code=code),
        private_url=urls.public_url(
            request, "private_page", code=code, token=private_token(request, code)
        ),
        desk=True,
    )
    context["status_label"] = _(lifecycle.STATUS_LABELS[report["status"]])
    return render(request, "staf/struk.html", context)


routes = [
    Route("/t/{code}/struk", receipt, name="receipt"),
    Route("/staf/lapor/{code}/struk", intake_receipt, name="intake_receipt"),
]
