"""Admin pages for deadlines: each category's targets (`/staf/admin/tenggat`) and the
holiday list that working days skip (`/staf/admin/libur`).

A change applies to reports from then on: to new reports, and to the deadlines a report
gets when it moves (forwarded, reopened). Due times already given are kept, so a resident
is never told one date and then held to another. Every change is written to the audit log
(web/audit.py) in the same transaction, because these rules decide who /kinerja names as late.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from babel.dates import format_date
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from db import deadlines as deadline_db
from web import audit, auth, parse, text, urls
from web.clock import local_today
from web.i18n import current_language, translate
from web.i18n import gettext as _
from web.i18n import lazy_gettext as N_
from web.lifecycle.deadlines import UNIT_LABELS, UNITS
from web.templating import render

TARGET_LABELS = {
    "response": N_("Tanggapan pertama"),
    "dispatch": N_("Diverifikasi dan diteruskan"),
    "resolution": N_("Selesai dikerjakan instansi"),
}
TARGET_HINTS = {
    "response": N_("Jakarta: lurah menanggapi dalam 24 jam."),
    "dispatch": N_("LAPOR!: 3 hari kerja untuk verifikasi dan meneruskan."),
    "resolution": N_("LAPOR!: 5 hari kerja bagi instansi, dihitung sejak laporan diteruskan."),
}
# Generous ceilings that still catch a slip of the keyboard (7200 hours is not a target).
MAX_AMOUNT = {"hours": 720, "workdays": 120}
MAX_HOLIDAY_NAME = 100
HOLIDAY_MESSAGES = {
    "disimpan": N_("Hari libur sudah disimpan."),
    "dihapus": N_("Hari libur sudah dihapus."),
}


# --- targets per category -----------------------------------------------------------------


def _values(category: Any) -> dict[str, str]:
    values: dict[str, str] = {}
    for name in deadline_db.TARGETS:
        values[f"{name}_amount"] = str(category[f"{name}_amount"])
        values[f"{name}_unit"] = str(category[f"{name}_unit"])
    return values


def parse_targets(form: FormData) -> tuple[dict[str, tuple[int, str]], dict[str, str]]:
    """The three targets from a category's form, and errors by field name."""
    targets: dict[str, tuple[int, str]] = {}
    errors: dict[str, str] = {}
    for name in deadline_db.TARGETS:
        unit = str(form.get(f"{name}_unit") or "")
        raw = str(form.get(f"{name}_amount") or "").strip()
        if unit not in UNITS:
            errors[f"{name}_unit"] = _("Pilih jam atau hari kerja.")
            continue
        try:
            targets[name] = (parse.integer(raw, minimum=1, maximum=MAX_AMOUNT[unit]), unit)
        except parse.ParamError:
            errors[f"{name}_amount"] = _("Isi angka 1 sampai %(max)d.") % {"max": MAX_AMOUNT[unit]}
    return targets, errors


async def _targets_page(
    request: Request,
    *,
    typed: dict[str, dict[str, str]] | None = None,
    errors: dict[str, dict[str, str]] | None = None,
    status_code: int = 200,
) -> Response:
    categories = await deadline_db.category_targets(request.state.db)
    typed = typed or {}
    saved = request.query_params.get("ok", "")
    return render(
        request,
        "staf/admin_tenggat.html",
        {
            "categories": categories,
            "values": {c["code"]: typed.get(c["code"]) or _values(c) for c in categories},
            "errors": errors or {},
            "saved": saved if any(c["code"] == saved for c in categories) else "",
            "target_labels": TARGET_LABELS,
            "target_hints": TARGET_HINTS,
            "unit_labels": UNIT_LABELS,
            "max_amount": MAX_AMOUNT,
        },
        status_code=status_code,
    )


async def targets_page(request: Request) -> Response:
    auth.require_account(request, auth.ADMIN_ROLES)
    return await _targets_page(request)


async def save_targets(request: Request) -> Response:
    account = auth.require_account(request, auth.ADMIN_ROLES)
    code = request.path_params["code"]
    form = await auth.read_form(request, max_fields=10)
    targets, errors = parse_targets(form)
    if errors:
        typed = {
            key: str(form.get(key) or "")[:10]
            for name in deadline_db.TARGETS
            for key in (f"{name}_amount", f"{name}_unit")
        }
        return await _targets_page(
            request, typed={code: typed}, errors={code: errors}, status_code=422
        )
    async with request.state.db.write() as conn:
        before = await deadline_db.targets_of(conn, code)
        found = await deadline_db.set_category_targets(conn, code, targets)
        if found:
            await audit.record(
                conn,
                audit.actor_of(account),
                "targets.change",
                table="categories",
                key=code,
                before=before,
                after=await deadline_db.targets_of(conn, code),
            )
    if not found:
        raise HTTPException(404)
    page = urls.path_for(request, "staff_targets")
    return RedirectResponse(f"{page}?ok={code}#k-{code}", status_code=303)


# --- holidays -----------------------------------------------------------------------------


async def _holidays_page(
    request: Request,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    done = request.query_params.get("ok", "")
    return render(
        request,
        "staf/admin_libur.html",
        {
            "holidays": [
                dict(h, label=_day_label(h["day"]))
                for h in await deadline_db.holidays(request.state.db)
            ],
            "today": local_today(request.app.state.settings.timezone).isoformat(),
            "values": values or {},
            "errors": errors or {},
            "message": _(HOLIDAY_MESSAGES[done]) if done in HOLIDAY_MESSAGES else "",
            "max_name": MAX_HOLIDAY_NAME,
        },
        status_code=status_code,
    )


async def holidays_page(request: Request) -> Response:
    auth.require_account(request, auth.ADMIN_ROLES)
    return await _holidays_page(request)


def _day_label(day: str) -> str:
    """'Jumat, 25 Desember 2026': the weekday matters (a Saturday holiday changes nothing)."""
    return str(
        format_date(date.fromisoformat(day), "EEEE, d MMMM yyyy", locale=current_language.get())
    )


def parse_day(text: str) -> date | None:
    try:
        return parse.day(text)
    except parse.ParamError:
        return None


async def save_holiday(request: Request) -> Response:
    """Add a holiday (or rename the one on that date)."""
    account = auth.require_account(request, auth.ADMIN_ROLES)
    form = await auth.read_form(request, max_fields=5)
    name = text.clean(str(form.get("name") or ""))
    values = {
        "day": str(form.get("day") or "")[:20],
        "name": " ".join(name.text.split())[:200],
    }
    errors: dict[str, str] = {}
    day = parse_day(values["day"])
    if day is None:
        errors["day"] = _("Isi tanggal, contoh 2026-12-25.")
    if name.problem:
        errors["name"] = translate(text.MESSAGES[name.problem])
    elif not values["name"]:
        errors["name"] = _("Isi nama hari libur.")
    elif len(values["name"]) > MAX_HOLIDAY_NAME:
        errors["name"] = _("Nama paling panjang %(n)d karakter.") % {"n": MAX_HOLIDAY_NAME}
    if errors or day is None:
        return await _holidays_page(request, values=values, errors=errors, status_code=422)
    async with request.state.db.write() as conn:
        old_name = await deadline_db.holiday_name(conn, day.isoformat())
        await deadline_db.save_holiday(conn, day.isoformat(), values["name"])
        await audit.record(
            conn,
            audit.actor_of(account),
            "holiday.add" if old_name is None else "holiday.rename",
            table="holidays",
            key=day.isoformat(),
            before=None if old_name is None else {"day": day.isoformat(), "name": old_name},
            after={"day": day.isoformat(), "name": values["name"]},
        )
    return RedirectResponse(
        urls.path_for(request, "staff_holidays") + "?ok=disimpan", status_code=303
    )


async def delete_holiday(request: Request) -> Response:
    account = auth.require_account(request, auth.ADMIN_ROLES)
    day = parse_day(request.path_params["day"])
    await auth.read_form(request, max_fields=5)
    if day is None:
        raise HTTPException(404)
    async with request.state.db.write() as conn:
        old_name = await deadline_db.holiday_name(conn, day.isoformat())
        found = await deadline_db.delete_holiday(conn, day.isoformat())
        if found:
            await audit.record(
                conn,
                audit.actor_of(account),
                "holiday.remove",
                table="holidays",
                key=day.isoformat(),
                before={"day": day.isoformat(), "name": old_name},
                after=None,
            )
    if not found:
        raise HTTPException(404)
    return RedirectResponse(
        urls.path_for(request, "staff_holidays") + "?ok=dihapus", status_code=303
    )


routes = [
    Route("/staf/admin/tenggat", targets_page, methods=["GET"], name="staff_targets"),
    Route("/staf/admin/tenggat/{code}", save_targets, methods=["POST"], name="staff_targets_save"),
    Route("/staf/admin/libur", holidays_page, methods=["GET"], name="staff_holidays"),
    Route("/staf/admin/libur", save_holiday, methods=["POST"], name="staff_holiday_save"),
    Route(
        "/staf/admin/libur/{day}/hapus",
        delete_holiday,
        methods=["POST"],
        name="staff_holiday_delete",
    ),
]
