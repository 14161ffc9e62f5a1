"""Staff intake of complaints from every channel (`/staf/lapor`): walk-in, phone,
WhatsApp, email, letters. It reuses the resident form's parser (web/forms.py), so a walk-in
complaint is checked exactly like one filed on a phone; its deadlines run from when the
resident complained. The desk receipt it ends on is in receipts.py.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from db import areas as area_db
from db import reports as report_db
from db import staff as staff_db
from web import auth, lifecycle, urls
from web.clock import utc_now
from web.forms import MAX_PHOTOS, ReportForm, parse_report_form
from web.i18n import gettext as _
from web.photo_files import photo_store
from web.templating import render

INTAKE_LIMITS: dict[str, Any] = {
    "max_files": MAX_PHOTOS + 2,
    "max_fields": 60,
    "max_part_size": 64 * 1024,
}
LOCAL_INPUT_FORMAT = "%Y-%m-%dT%H:%M"
OLDEST_COMPLAINT = timedelta(days=90)


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
            store=photo_store(request),
            secret_key=settings.secret_key,
            categories=categories,
            kelurahan=kelurahan,
            channel=channel if channel in lifecycle.STAFF_CHANNELS else "walk_in",
            parse_complained_at=partial(parse_complained_at, tz=settings.timezone, now=utc_now()),
            offered=settings.offered_channels,
            # the resident's language is not known at the counter: messages in Indonesian
            language="id",
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
        form.photos,
        created_by=account.id,
        tz=settings.timezone,
        send_by=settings.message_channels,
    )
    request.state.report_id = created.id
    return RedirectResponse(
        urls.path_for(request, "intake_receipt", code=created.code), status_code=303
    )


routes = [
    Route("/staf/lapor", intake_form, methods=["GET"], name="staff_intake_form"),
    Route("/staf/lapor", intake, methods=["POST"], name="staff_intake"),
]
