"""Admins make and revoke Open311 API keys in the browser (`aduan apikey` does the same).

A thin page over web/apikeys.py. A new key is shown once, in the response to the POST that
made it (never in a redirect URL, which browsers keep in history), on a staff page that the
session middleware marks `no-store`.
"""

from __future__ import annotations

from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from web import apikeys, audit, auth, parse, text, urls
from web.i18n import gettext as _
from web.i18n import lazy_gettext as N_
from web.i18n import translate
from web.templating import render

PAGE = "/staf/admin/api"
MESSAGES = {
    "dicabut": N_(
        "Kunci sudah dicabut. Aplikasi yang memakainya tidak bisa lagi mengirim laporan."
    ),
}


async def _page(
    request: Request,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    new_key: apikeys.NewKey | None = None,
    status_code: int = 200,
) -> Response:
    done = request.query_params.get("ok", "")
    context = {
        "keys": await apikeys.list_keys(request.state.db),
        "values": values or {"rate_per_minute": apikeys.DEFAULT_RATE_PER_MINUTE},
        "errors": errors or {},
        "new_key": new_key,
        "message": _(MESSAGES[done]) if done in MESSAGES else "",
        "max_rate": apikeys.MAX_RATE_PER_MINUTE,
        "max_name": apikeys.MAX_NAME_LENGTH,
    }
    return render(request, "staf/api_keys.html", context, status_code=status_code)


async def api_keys(request: Request) -> Response:
    auth.require_account(request, auth.ADMIN_ROLES)
    return await _page(request)


async def create_api_key(request: Request) -> Response:
    """Make a key and show it this once; a form with mistakes comes back as typed (422)."""
    account = auth.require_account(request, auth.ADMIN_ROLES)
    form = await auth.read_form(request, max_fields=5, max_part_size=4096)
    cleaned = text.clean(str(form.get("name") or ""))
    name = cleaned.text
    rate_text = str(form.get("rate_per_minute") or "").strip()
    values = {"name": name, "rate_per_minute": rate_text}
    errors: dict[str, str] = {}
    if cleaned.problem:
        errors["name"] = translate(text.MESSAGES[cleaned.problem])
    elif not name or len(name) > apikeys.MAX_NAME_LENGTH:
        errors["name"] = _("Isi nama aplikasi atau instansi (paling banyak %(n)d karakter).") % {
            "n": apikeys.MAX_NAME_LENGTH
        }
    try:
        rate = parse.integer(rate_text, minimum=1, maximum=apikeys.MAX_RATE_PER_MINUTE)
    except parse.ParamError:
        errors["rate_per_minute"] = _("Isi angka 1 sampai %(n)d.") % {
            "n": apikeys.MAX_RATE_PER_MINUTE
        }
    if errors:
        return await _page(request, values=values, errors=errors, status_code=422)
    new_key = await apikeys.create_key(
        request.state.db,
        name,
        rate_per_minute=rate,
        created_by=account.id,
        actor=audit.actor_of(account),
    )
    return await _page(request, new_key=new_key)


async def revoke_api_key(request: Request) -> Response:
    account = auth.require_account(request, auth.ADMIN_ROLES)
    await auth.read_form(request, max_fields=5, max_part_size=4096)
    try:
        key_id = parse.identifier(request.path_params["key_id"])
    except parse.ParamError:
        raise HTTPException(404) from None
    if not any(k.id == key_id for k in await apikeys.list_keys(request.state.db)):
        raise HTTPException(404)
    # Revoking an already revoked key changes nothing and says the same.
    await apikeys.revoke_by_id(request.state.db, key_id, actor=audit.actor_of(account))
    return RedirectResponse(
        urls.path_for(request, "staff_api_keys") + "?ok=dicabut", status_code=303
    )


routes = [
    Route(PAGE, api_keys, methods=["GET"], name="staff_api_keys"),
    Route(PAGE, create_api_key, methods=["POST"], name="staff_api_key_create"),
    Route(
        PAGE + "/{key_id}/cabut",  # not {key_id:int}: its int() raises on 5,000 digits
        revoke_api_key,
        methods=["POST"],
        name="staff_api_key_revoke",
    ),
]
