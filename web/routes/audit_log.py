"""`/staf/admin/log`: who changed the rules that judge staff — deadline targets, holidays,
category routing, accounts and API keys — when, and what they were before and after. For
supervisors and admins; the same entries as CSV (`/staf/admin/log.csv`) are in exports.py.

Newest first, 50 a page, paged by entry id (keyset: entries are only ever appended, so a
page never shifts while someone reads). Filters: the kind of change and a date range in the
city's time. What each entry holds, and what it never holds, is in web/audit.py.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from db import audit as audit_db
from web import audit, auth, urls
from web.i18n import gettext as _
from web.templating import render

PAGE_SIZE = 50
MAX_CURSOR_DIGITS = 18  # an entry id always fits in SQLite's 64-bit integer


def _cursor(request: Request) -> int | None:
    text = request.query_params.get("sebelum", "")
    if not text:
        return None
    if not (text.isascii() and text.isdigit() and len(text) <= MAX_CURSOR_DIGITS):
        raise HTTPException(400, _("Alamat halaman log tidak dikenali."))
    return int(text)


def _query(values: dict[str, str], **extra: Any) -> str:
    params = {k: v for k, v in values.items() if v}
    params.update({k: v for k, v in extra.items() if v is not None})
    return ("?" + urlencode(params)) if params else ""


async def log_page(request: Request) -> Response:
    auth.require_account(request, auth.SUPERVISOR_ROLES)
    tz = request.app.state.settings.timezone
    f, values, errors = audit.log_filter(request.query_params, tz)
    before_id = _cursor(request)
    db = request.state.db
    entries, next_id = await audit_db.page(db, f, before_id=before_id, limit=PAGE_SIZE)
    names = await audit.Names.load(db, entries)
    items = [
        {
            "entry": entry,
            "actor": audit.actor_label(entry),
            "action": audit.action_label(entry),
            "object": audit.object_label(entry, names),
            "changes": audit.changes(entry, names, tz),
        }
        for entry in entries
    ]
    clean = {k: v for k, v in values.items() if k not in errors}
    page = urls.path_for(request, "staff_audit_log")
    return render(
        request,
        "staf/admin_log.html",
        {
            "items": items,
            "values": values,
            "errors": errors,
            "kind_labels": audit.KIND_LABELS,
            "paged": before_id is not None,
            "first_page": page + _query(clean),
            "next_page": page + _query(clean, sebelum=next_id) if next_id else "",
            "csv_url": urls.path_for(request, "staff_audit_log_csv") + _query(clean),
            "filtered": any(clean.values()),
        },
    )


routes = [
    Route("/staf/admin/log", log_page, methods=["GET"], name="staff_audit_log"),
]
