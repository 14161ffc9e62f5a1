"""Receipts: the resident's, shown after filing (`/t/{code}/struk`: QR code, WhatsApp
share, A6 print, and the private link when the signed token comes with it). What a receipt
holds is in web/receipts.py.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from web import lifecycle, receipts, urls
from web.i18n import translate
from web.lookup import load_public
from web.privatelinks import private_token_valid
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
    return render(
        request,
        "receipt.html",
        context,
        headers={"Cache-Control": "private, no-store", "Referrer-Policy": "no-referrer"},
    )


routes = [
    Route("/t/{code}/struk", receipt, name="receipt"),
]
