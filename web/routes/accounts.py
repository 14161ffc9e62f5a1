"""Account administration for admins (`/staf/admin/akun`): create accounts, set their role
and scope (areas or an agency) and the work contacts their alerts also go to (email, mobile
number: web/lifecycle/alerts.py), reset a password, deactivate or reactivate. Every change
is written to the audit log (web/audit.py) in the same transaction, and a password reset or
a deactivation ends every session of the account at once, and its alerts in every browser.

Only an admin sets the work contacts, as they set the scope: they are the city's record of
where an officer is reached, and the log keeps that they changed, never the contact itself.
"""

from __future__ import annotations

import re
from typing import Any

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from db import accounts as account_db
from db import alerts as alert_db
from db import sessions as session_db
from db import staff as staff_db
from web import audit, auth, contact, parse, text, urls, validators
from web.clock import to_text, utc_now
from web.i18n import gettext as _
from web.i18n import lazy_gettext as N_
from web.i18n import translate
from web.passwords import MIN_LENGTH, hash_password
from web.templating import render

USERNAME = re.compile(r"^[A-Za-z0-9._-]{3,40}$")
ROLE_LABELS = {
    "admin": N_("Admin"),
    "supervisor": N_("Supervisor (hanya membaca)"),
    "officer": N_("Petugas"),
}
ADMIN_MESSAGES = {
    "dibuat": N_("Akun sudah dibuat."),
    "lingkup": N_("Peran dan wilayah tugas sudah disimpan."),
    "sandi": N_("Kata sandi baru sudah disimpan. Semua sesi akun ini sudah diakhiri."),
    "nonaktif": N_("Akun dinonaktifkan. Semua sesinya sudah diakhiri."),
    "aktif": N_("Akun diaktifkan kembali."),
    "kontak": N_("Kontak pemberitahuan sudah disimpan."),
}
# The longest email address SMTP carries (RFC 5321).
EMAIL_LENGTH = 254


def _admin_context(request: Request) -> dict[str, Any]:
    done = request.query_params.get("ok", "")
    return {
        "message": _(ADMIN_MESSAGES[done]) if done in ADMIN_MESSAGES else "",
        "role_labels": ROLE_LABELS,
        "min_length": MIN_LENGTH,
        "alert_channels": request.app.state.settings.message_channels,
    }


async def _scope_choices(request: Request) -> dict[str, Any]:
    db = request.state.db
    return {
        "scope_areas": await staff_db.scope_areas(db),
        "agencies": await staff_db.agencies(db),
    }


async def accounts(request: Request) -> Response:
    auth.require_account(request, auth.ADMIN_ROLES)
    context = _admin_context(request)
    context.update(await _scope_choices(request))
    context.update(
        accounts=await account_db.list_accounts(request.state.db),
        values={"role": "officer"},
        errors={},
    )
    return render(request, "staf/admin_akun.html", context)


async def _scope_from_form(
    request: Request, form: FormData, errors: dict[str, str]
) -> tuple[str, str | None, list[str]]:
    """Role, agency and area codes from a form, checked against the reference tables."""
    role = str(form.get("role") or "")
    if role not in account_db.ROLES:
        errors["role"] = _("Pilih peran akun.")
    areas = [str(a) for a in form.getlist("areas") if str(a)]
    agency = str(form.get("agency_code") or "") or None
    async with request.state.db.read() as conn:
        known = await account_db.known_area_codes(conn, areas)
    agency_rows = await staff_db.agencies(request.state.db)
    if set(areas) - known:
        errors["areas"] = _("Ada kode wilayah yang tidak dikenal.")
    if agency and agency not in {g["code"] for g in agency_rows}:
        errors["agency_code"] = _("Instansi tidak dikenal.")
    if role == "officer" and not (areas or agency):
        errors["areas"] = _("Petugas perlu wilayah (kelurahan/kecamatan) atau instansi.")
    if role != "officer":
        areas, agency = [], None  # admins and supervisors see everything anyway
    return role, agency, areas


def _alert_contacts(form: FormData, errors: dict[str, str]) -> tuple[dict[str, str], str]:
    """The work email and mobile number typed for alerts, as typed (shown again on an
    error), and the phone as it is kept: as the gateways take it (+62 8…), '' for none."""
    typed = {
        "alert_email": str(form.get("alert_email") or "").strip()[:300],
        "alert_phone": str(form.get("alert_phone") or "").strip()[:40],
    }
    email = typed["alert_email"]
    if email and (len(email) > EMAIL_LENGTH or not validators.is_email(email)):
        errors["alert_email"] = _("Alamat email tidak dikenali. Contoh: nama@contoh.id.")
    phone = contact.international_phone(typed["alert_phone"]) if typed["alert_phone"] else ""
    if typed["alert_phone"] and not phone:
        errors["alert_phone"] = _("Nomor HP tidak dikenali. Contoh: 0812 3456 7890.")
    return typed, phone


def _contacts_state(email: str, phone: str) -> dict[str, bool]:
    """What the log keeps of an account's work contacts: whether it has each, not which."""
    return {"alert_email": bool(email), "alert_phone": bool(phone)}


def _password_error(password: str) -> str:
    if len(password) < MIN_LENGTH:
        return _("Kata sandi paling sedikit %(n)d karakter.") % {"n": MIN_LENGTH}
    if len(password) > 200:
        return _("Kata sandi terlalu panjang.")
    return ""


async def create_account(request: Request) -> Response:
    admin = auth.require_account(request, auth.ADMIN_ROLES)
    form = await auth.read_form(request, max_fields=400)
    display_name = text.clean(str(form.get("display_name") or ""))
    values: dict[str, Any] = {
        "username": str(form.get("username") or "").strip(),
        "display_name": display_name.text[:120],
        "role": str(form.get("role") or ""),
        "agency_code": str(form.get("agency_code") or ""),
        "areas": [str(a) for a in form.getlist("areas")],
    }
    errors: dict[str, str] = {}
    contacts, phone = _alert_contacts(form, errors)
    values.update(contacts)
    if display_name.problem:
        errors["display_name"] = translate(text.MESSAGES[display_name.problem])
    if not USERNAME.match(values["username"]):
        errors["username"] = _("Nama pengguna 3–40 huruf, angka, titik, garis bawah atau strip.")
    password_error = _password_error(str(form.get("password") or ""))
    if password_error:
        errors["password"] = password_error
    role, agency, areas = await _scope_from_form(request, form, errors)
    if not errors:
        async with request.state.db.write() as conn:
            if await account_db.account_by_username(conn, values["username"]) is not None:
                errors["username"] = _("Nama pengguna itu sudah dipakai.")
            else:
                user_id = await account_db.create_account(
                    conn,
                    username=values["username"],
                    password_hash=hash_password(str(form.get("password"))),
                    role=role,
                    created_at=to_text(utc_now()),
                    display_name=values["display_name"],
                    agency_code=agency,
                    area_codes=areas,
                    alert_email=contacts["alert_email"],
                    alert_phone=phone,
                )
                after = await audit.account_snapshot(conn, user_id)
                if after is not None and (contacts["alert_email"] or phone):
                    after.update(_contacts_state(contacts["alert_email"], phone))
                await audit.record(
                    conn,
                    audit.actor_of(admin),
                    "account.create",
                    table="users",
                    key=user_id,
                    before=None,
                    after=after,
                )
    if errors:
        context = _admin_context(request)
        context.update(await _scope_choices(request))
        context.update(
            accounts=await account_db.list_accounts(request.state.db),
            values=values,
            errors=errors,
        )
        return render(request, "staf/admin_akun.html", context, status_code=422)
    return RedirectResponse(
        urls.path_for(request, "staff_accounts") + "?ok=dibuat", status_code=303
    )


async def _target(request: Request) -> Any:
    try:
        user_id = parse.identifier(request.path_params["user_id"])
    except parse.ParamError:
        raise HTTPException(404) from None
    target = await account_db.account_by_id(request.state.db, user_id)
    if target is None:
        raise HTTPException(404)
    return target


async def _edit_page(
    request: Request,
    target: Any,
    *,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
    contacts: dict[str, str] | None = None,
) -> Response:
    context = _admin_context(request)
    context.update(await _scope_choices(request))
    db = request.state.db
    context.update(
        target=target,
        target_areas=await account_db.area_codes(db, target["id"]),
        errors=errors or {},
        contacts=contacts or {k: target[k] for k in ("alert_email", "alert_phone")},
    )
    return render(request, "staf/admin_akun_ubah.html", context, status_code=status_code)


async def account_page(request: Request) -> Response:
    auth.require_account(request, auth.ADMIN_ROLES)
    return await _edit_page(request, await _target(request))


async def account_scope(request: Request) -> Response:
    admin = auth.require_account(request, auth.ADMIN_ROLES)
    target = await _target(request)
    form = await auth.read_form(request, max_fields=400)
    errors: dict[str, str] = {}
    role, agency, areas = await _scope_from_form(request, form, errors)
    display_name = text.clean(str(form.get("display_name") or ""))
    if display_name.problem:
        errors["display_name"] = translate(text.MESSAGES[display_name.problem])
    if target["id"] == admin.id and role != "admin":
        errors["role"] = _("Anda tidak bisa mencabut peran admin dari akun Anda sendiri.")
    if errors:
        return await _edit_page(request, target, errors=errors, status_code=422)
    new_name = display_name.text[:120] or target["username"]
    async with request.state.db.write() as conn:
        found = await account_db.account_with_areas(conn, target["id"])
        if found is None:
            raise HTTPException(404)
        await account_db.set_scope(
            conn,
            target["id"],
            role=role,
            display_name=new_name,
            agency_code=agency,
            area_codes=areas,
        )
        after = await audit.account_snapshot(conn, target["id"])
        if after is not None and new_name != found[0]["display_name"]:
            after["display_name_changed"] = True  # the fact, not the name (web/audit.py)
        await audit.record(
            conn,
            audit.actor_of(admin),
            "account.edit",
            table="users",
            key=target["id"],
            before=audit.account_state(*found),
            after=after,
        )
    return RedirectResponse(
        urls.path_for(request, "staff_account", user_id=target["id"]) + "?ok=lingkup",
        status_code=303,
    )


async def account_contacts(request: Request) -> Response:
    """Set (or clear) the work email and mobile number an account's alerts go to."""
    admin = auth.require_account(request, auth.ADMIN_ROLES)
    target = await _target(request)
    form = await auth.read_form(request, max_fields=5)
    errors: dict[str, str] = {}
    typed, phone = _alert_contacts(form, errors)
    if errors:
        return await _edit_page(request, target, errors=errors, status_code=422, contacts=typed)
    email = typed["alert_email"]
    async with request.state.db.write() as conn:
        found = await account_db.account_with_areas(conn, target["id"])
        if found is None:
            raise HTTPException(404)
        was = found[0]
        await account_db.set_alert_contacts(conn, target["id"], email=email, phone=phone)
        before = {
            "username": was["username"],
            **_contacts_state(was["alert_email"], was["alert_phone"]),
        }
        after: dict[str, Any] = {"username": was["username"], **_contacts_state(email, phone)}
        # One address replaced by another: the fact, not the address (web/audit.py).
        if was["alert_email"] and email and was["alert_email"] != email:
            after["alert_email_changed"] = True
        if was["alert_phone"] and phone and was["alert_phone"] != phone:
            after["alert_phone_changed"] = True
        await audit.record(
            conn,
            audit.actor_of(admin),
            "account.contacts",
            table="users",
            key=target["id"],
            before=before,
            after=after,
        )
    return RedirectResponse(
        urls.path_for(request, "staff_account", user_id=target["id"]) + "?ok=kontak",
        status_code=303,
    )


async def account_password(request: Request) -> Response:
    admin = auth.require_account(request, auth.ADMIN_ROLES)
    target = await _target(request)
    form = await auth.read_form(request, max_fields=5)
    password = str(form.get("password") or "")
    error = _password_error(password)
    if error:
        return await _edit_page(request, target, errors={"password": error}, status_code=422)
    async with request.state.db.write() as conn:
        await account_db.set_password_hash(conn, target["id"], hash_password(password))
        ended = await session_db.delete_user_sessions(conn, target["id"])
        await alert_db.drop_account(conn, target["id"])
        await audit.record(
            conn,
            audit.actor_of(admin),
            "account.password",
            table="users",
            key=target["id"],
            before=None,
            after={"username": target["username"], "sessions_ended": ended},
        )
    return RedirectResponse(
        urls.path_for(request, "staff_account", user_id=target["id"]) + "?ok=sandi", status_code=303
    )


async def account_active(request: Request) -> Response:
    """Deactivate (ending every session at once) or reactivate an account."""
    admin = auth.require_account(request, auth.ADMIN_ROLES)
    if request.path_params["state"] not in ("aktif", "nonaktif"):
        raise HTTPException(404)
    target = await _target(request)
    await auth.read_form(request, max_fields=5)
    active = request.path_params["state"] == "aktif"
    if not active and target["id"] == admin.id:
        message = _("Anda tidak bisa menonaktifkan akun Anda sendiri.")
        return await _edit_page(request, target, errors={"active": message}, status_code=422)
    async with request.state.db.write() as conn:
        was_active = bool((await audit.account_snapshot(conn, target["id"]) or {}).get("active"))
        await account_db.set_active(conn, target["id"], active)
        ended = 0 if active else await session_db.delete_user_sessions(conn, target["id"])
        if not active:
            await alert_db.drop_account(conn, target["id"])
        if was_active != active:
            after: dict[str, Any] = {"username": target["username"], "active": active}
            if not active:
                after["sessions_ended"] = ended
            await audit.record(
                conn,
                audit.actor_of(admin),
                "account.reactivate" if active else "account.deactivate",
                table="users",
                key=target["id"],
                before={"username": target["username"], "active": was_active},
                after=after,
            )
    done = "aktif" if active else "nonaktif"
    return RedirectResponse(
        urls.path_for(request, "staff_account", user_id=target["id"]) + f"?ok={done}",
        status_code=303,
    )


routes = [
    Route("/staf/admin/akun", accounts, methods=["GET"], name="staff_accounts"),
    Route("/staf/admin/akun", create_account, methods=["POST"], name="staff_account_create"),
    Route("/staf/admin/akun/{user_id}", account_page, methods=["GET"], name="staff_account"),
    Route(
        "/staf/admin/akun/{user_id}/lingkup",
        account_scope,
        methods=["POST"],
        name="staff_account_scope",
    ),
    Route(
        "/staf/admin/akun/{user_id}/sandi",
        account_password,
        methods=["POST"],
        name="staff_account_password",
    ),
    Route(
        "/staf/admin/akun/{user_id}/kontak",
        account_contacts,
        methods=["POST"],
        name="staff_account_contacts",
    ),
    Route(
        "/staf/admin/akun/{user_id}/{state:str}",
        account_active,
        methods=["POST"],
        name="staff_account_active",
    ),
]
