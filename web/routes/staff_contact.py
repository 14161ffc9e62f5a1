""" "Kabari via WhatsApp" on the staff case page: the officer's tap is a small POST that
records who told the resident of which step (db/contact.py) and answers with a page that
opens wa.me at once (a meta refresh, with a big link as fallback), where the officer's own
WhatsApp opens with the update written. Not a redirect: the policy `form-action 'self'`
forbids a form's redirect to another site. A plain form in a new tab, so it works without
JavaScript; the case page shows the tap to everyone who reads the case.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from db import contact as contact_db
from db import staff as staff_db
from web import auth, codes, parse, urls, whatsapp
from web.clock import to_text, utc_now
from web.lifecycle.rules import is_public_event
from web.templating import render


async def tell_on_whatsapp(request: Request) -> Response:
    account = auth.require_account(request, auth.ACTING_ROLES)
    form = await auth.read_form(request, max_fields=5)
    await form.close()
    code = codes.normalise(request.path_params["code"])
    try:
        event_id = parse.identifier(request.path_params["event"])
    except parse.ParamError:
        raise HTTPException(404) from None
    db = request.state.db
    report = await staff_db.load_report(db, code, account) if code else None
    if report is None or not whatsapp.may_tell(report, account):
        raise HTTPException(404)
    request.state.report_id = report["id"]
    async with db.write() as conn:
        event = await contact_db.public_event(conn, report["id"], event_id)
        if event is None or not is_public_event(event):
            raise HTTPException(404)
        await contact_db.record_tap(
            conn, report["id"], event_id, account.id, now=to_text(utc_now())
        )
    message = whatsapp.text(report, event, urls.public_url(request, "track", code=report["code"]))
    context = {"report": report, "wa_link": whatsapp.link(report["reporter_phone"], message)}
    return render(request, "staf/kabari_wa.html", context)


routes = [
    Route(
        "/staf/laporan/{code}/kabari-wa/{event}",
        tell_on_whatsapp,
        methods=["POST"],
        name="staff_tell_whatsapp",
    ),
]
