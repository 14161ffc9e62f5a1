"""The stop link every email, SMS and WhatsApp message carries (web/contact.py): GET shows
what would stop and asks to confirm, so a link scanner opening it changes nothing; the
POST (through the app's cross-origin protection, like every public form) takes the channel
out of the report's notify_by and fails its messages not yet sent. Works without
JavaScript and shows nothing about the reporter: only the code and the channel, which the
message itself named."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from web import codes, contact, lifecycle
from web.i18n import gettext as _
from web.templating import error_page, render

HEADERS = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex"}


def _channel_name(channel: str) -> str:
    return {"whatsapp": "WhatsApp", "sms": "SMS", "email": _("email")}[channel]


async def _page(request: Request, *, done: bool) -> Response:
    token = request.path_params["token"]
    read = contact.read_stop_token(request.app.state.settings.secret_key, token)
    if read is None:
        return error_page(
            request,
            404,
            _("Tautan berhenti tidak dikenali"),
            _("Periksa apakah tautannya tersalin utuh dari pesan yang Anda terima."),
        )
    code, channel = read
    if done:
        await lifecycle.stop_messages(request.state.db, code, channel)
    return render(
        request,
        "berhenti.html",
        {
            "token": token,
            "code": code,
            "display_code": codes.display(code),
            "channel": _channel_name(channel),
            "done": done,
        },
        headers=HEADERS,
    )


async def stop_form(request: Request) -> Response:
    return await _page(request, done=False)


async def stop(request: Request) -> Response:
    return await _page(request, done=True)


routes = [
    Route("/berhenti/{token}", stop_form, methods=["GET"], name="stop_messages_form"),
    Route("/berhenti/{token}", stop, methods=["POST"], name="stop_messages"),
]
