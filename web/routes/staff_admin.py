"""Staff intake of complaints from every channel, and account administration.

Intake reuses the resident form's parser (web/forms.py), so a walk-in complaint is checked
exactly like one filed on a phone; its deadlines run from when the resident complained.
Every account change is written to the audit log (web/audit.py) in the same transaction.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from db import accounts as account_db
from db import areas as area_db
from db import reports as report_db
from db import sessions as session_db
from db import staff as staff_db
from web import audit, auth, codes, lifecycle, parse, receipts, text, urls
from web.clock import to_text, utc_now
from web.forms import MAX_PHOTOS, ReportForm, parse_report_form, stored_photos
from web.i18n import gettext as _
from web.i18n import lazy_gettext as N_
from web.i18n import translate
from web.passwords import MIN_LENGTH, hash_password
from web.photos import PhotoStore
from web.privatelinks import private_token
from web.templating import render

INTAKE_LIMITS: dict[str, Any] = {
    "max_files": MAX_PHOTOS + 2,
    "max_fields": 60,
    "max_part_size": 64 * 1024,
}
LOCAL_INPUT_FORMAT = "%Y-%m-%dT%H:%M"
OLDEST_COMPLAINT = timedelta(days=90)
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
}


# --- intake -------------------------------------------------------------------------------


def parse_complained_at(text: str, *, tz: str, now: datetime) -> datetime:
    """The datetime-local field (city time) as an aware time; ValueError says what is wrong."""
    if not text:
        raise ValueError(_("Isi kapan warga menyampaikan pengaduannya."))
    try:
        local = datetime.strptime(text[:16], LOCAL_INPUT_FORMAT)
    except ValueError:
        raise ValueError(_("Waktu tidak dikenali. Contoh: 23-11-2026 14.05.")) from None
    moment = local.replace(tzinfo=ZoneInfo(tz))
    if moment > now + timedelta(minutes=5):
        raise ValueError(_("Waktu pengaduan tidak boleh di masa depan."))
    if moment < now - OLDEST_COMPLAINT:
        raise ValueError(
            _("Waktu pengaduan lebih dari 90 hari yang lalu. Periksa lagi tanggalnya.")
        )
    return moment


async def _choices(
    request: Request, account: auth.Account
) -> tuple[dict[str, Any], dict[str, Any], list[Any]]:
    """Categories, the kelurahan this account may record complaints for, and those grouped
    by kecamatan for the picker: an area officer sees only their own."""
    db = request.state.db
    categories = {c["code"]: c for c in await report_db.categories(db)}
    if account.takes_complaints_for_own_areas:
        rows = await staff_db.kelurahan_of_user(db, account.id)
    else:
        rows = await area_db.kelurahan_list(db)
    groups: list[Any] = []
    for row in rows:
        label = f"{row['kecamatan_name']} ({row['kota_name']})"
        if not groups or groups[-1][0] != label:
            groups.append((label, []))
        groups[-1][1].append(row)
    return categories, {k["code"]: k for k in rows}, groups


def _intake_page(
    request: Request,
    values: dict[str, Any],
    categories: dict[str, Any],
    groups: list[Any],
    form: ReportForm | None = None,
    *,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "staf/lapor.html",
        {
            "values": values,
            "errors": form.errors if form else {},
            "held": form.photos if form else [],
            "held_token": form.held_token if form else "",
            "categories": list(categories.values()),
            "groups": groups,
            "channels": lifecycle.STAFF_CHANNELS,
            "channel_labels": lifecycle.CHANNEL_LABELS,
            "max_photos": MAX_PHOTOS,
        },
        status_code=status_code,
    )


async def intake_form(request: Request) -> Response:
    account = auth.require_account(request, auth.ACTING_ROLES)
    categories, kelurahan, groups = await _choices(request, account)
    tz = ZoneInfo(request.app.state.settings.timezone)
    values = {
        "channel": "walk_in",
        "complained_at": utc_now().astimezone(tz).strftime(LOCAL_INPUT_FORMAT),
        # The officer of one kelurahan has nothing to choose.
        "area": next(iter(kelurahan)) if len(kelurahan) == 1 else "",
    }
    return _intake_page(request, values, categories, groups)


async def intake(request: Request) -> Response:
    """A complaint taken by staff: 303 to the receipt to print, or the form again (422)."""
    account = auth.require_account(request, auth.ACTING_ROLES)
    settings = request.app.state.settings
    # Only the kelurahan this account may record: another one is refused below, whatever
    # the form was made to send.
    categories, kelurahan, groups = await _choices(request, account)
    form_data = await auth.read_form(request, **INTAKE_LIMITS)
    try:
        channel = str(form_data.get("channel") or "")
        form = await parse_report_form(
            form_data,
            store=PhotoStore(settings.photo_dir),
            secret_key=settings.secret_key,
            categories=categories,
            kelurahan=kelurahan,
            channel=channel if channel in lifecycle.STAFF_CHANNELS else "walk_in",
            parse_complained_at=partial(parse_complained_at, tz=settings.timezone, now=utc_now()),
        )
    finally:
        await form_data.close()
    if channel not in lifecycle.STAFF_CHANNELS:
        form.errors["channel"] = _("Pilih lewat apa warga menyampaikan pengaduan.")
    area = await area_db.area(request.state.db, form.values["area"])
    if "area" in form.errors and area is not None and area["level"] == 4:
        form.errors["area"] = _(
            "Kelurahan ini di luar wilayah tugas Anda. Pilih kelurahan dari daftar, atau "
            "minta petugas kelurahan itu mencatatnya."
        )
    if not form.ok:
        return _intake_page(request, form.values, categories, groups, form, status_code=422)
    assert form.report is not None
    created = await lifecycle.create_report(
        request.state.db,
        form.report,
        stored_photos(form.photos),
        created_by=account.id,
        tz=settings.timezone,
    )
    request.state.report_id = created.id
    return RedirectResponse(
        urls.path_for(request, "intake_receipt", code=created.code), status_code=303
    )


async def intake_receipt(request: Request) -> Response:
    """The walk-in desk's receipt, worded to be handed to the resident, with the private
    link printed on it. Only for the officer who took the complaint: it holds the private
    link, and no one else at the desk should answer "Sudah beres?" in the resident's name."""
    account = auth.require_account(request, auth.ACTING_ROLES)
    db = request.state.db
    code = codes.normalise(request.path_params["code"])
    case = await staff_db.load_case(db, code, account) if code else None
    report = await report_db.report_with_names(db, case["code"]) if case else None
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


# --- account administration ---------------------------------------------------------------


def _admin_context(request: Request) -> dict[str, Any]:
    done = request.query_params.get("ok", "")
    return {
        "message": _(ADMIN_MESSAGES[done]) if done in ADMIN_MESSAGES else "",
        "role_labels": ROLE_LABELS,
        "min_length": MIN_LENGTH,
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
                )
                await audit.record(
                    conn,
                    audit.actor_of(admin),
                    "account.create",
                    table="users",
                    key=user_id,
                    before=None,
                    after=await audit.account_snapshot(conn, user_id),
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
    request: Request, target: Any, *, errors: dict[str, str] | None = None, status_code: int = 200
) -> Response:
    context = _admin_context(request)
    context.update(await _scope_choices(request))
    db = request.state.db
    context.update(
        target=target,
        target_areas=await account_db.area_codes(db, target["id"]),
        errors=errors or {},
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
    Route("/staf/lapor/{code}/struk", intake_receipt, name="intake_receipt"),
    Route("/staf/lapor", intake_form, methods=["GET"], name="staff_intake_form"),
    Route("/staf/lapor", intake, methods=["POST"], name="staff_intake"),
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
        "/staf/admin/akun/{user_id}/{state:str}",
        account_active,
        methods=["POST"],
        name="staff_account_active",
    ),
]
