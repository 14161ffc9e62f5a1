"""Filing a report: the form (`/lapor`, no JavaScript needed), its outbox twin
(`/api/v1/reports`, JSON, `Idempotency-Key`), and the thumbnails of photos kept from a
failed attempt. Both paths check a report the same way (web/forms.py), count it against the
client's limits (web/limits.py) and create it through web/lifecycle."""

from __future__ import annotations

import hashlib
import math
from typing import Any

from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from db import areas, page_versions
from db import reports as q
from db.database import Database
from web import codes, errors, formdata, lifecycle, limits, pagecache, urls
from web.forms import (
    MAX_PHOTOS,
    ReportDraft,
    ReportForm,
    check_report_form,
    client_rules,
    form_values,
    read_held,
    read_report_form,
    sign_held,
)
from web.front import Known
from web.i18n import gettext as _
from web.i18n import ngettext
from web.locate import locator_for
from web.photo_files import photo_response, photo_store
from web.privatelinks import private_token
from web.templating import render

FORM_LIMITS: dict[str, Any] = {
    "max_files": MAX_PHOTOS + 2,
    "max_fields": 60,
    "max_part_size": 64 * 1024,
}
MARKER_HEADER = "X-Aduan-Code"
# A random secret the phone's outbox keeps for itself and sends with every submission.
DEVICE_HEADER = "X-Aduan-Device"
# Above this many kelurahan/desa the picker asks for the kecamatan first.
PICKER_LIMIT = 400


def _tz(request: Request) -> str:
    return str(request.app.state.settings.timezone)


def _grouped(rows: list[Any], label: Any) -> list[tuple[str, list[Any]]]:
    groups: list[tuple[str, list[Any]]] = []
    for row in rows:
        name = label(row)
        if not groups or groups[-1][0] != name:
            groups.append((name, []))
        groups[-1][1].append(row)
    return groups


async def _picker(request: Request, kecamatan: str | None) -> dict[str, Any]:
    """The kelurahan picker without JavaScript: a list grouped by kecamatan when the
    province is small (Jakarta: 267), else kecamatan first (Central Java: 8,500 desa)."""
    db = request.state.db
    if await areas.count_kelurahan(db) <= PICKER_LIMIT:
        rows = await areas.kelurahan_list(db)
        return {
            "groups": _grouped(rows, lambda r: f"{r['kecamatan_name']} ({r['kota_name']})"),
            "kecamatan_groups": [],
            "kecamatan": "",
        }
    rows = await areas.kelurahan_list(db, kecamatan) if kecamatan else []
    kecamatan_rows = await areas.kecamatan_list(db)
    return {
        "groups": _grouped(rows, lambda r: f"{r['kecamatan_name']} ({r['kota_name']})"),
        "kecamatan_groups": _grouped(kecamatan_rows, lambda r: r["kota_name"]),
        "kecamatan": kecamatan if rows else "",
    }


async def _categories(request: Request) -> dict[str, Any]:
    return {c["code"]: c for c in await q.categories(request.state.db)}


async def _form_page(
    request: Request,
    form: ReportForm | None,
    categories: dict[str, Any],
    kecamatan: str | None,
    *,
    status_code: int = 200,
    unavailable: str = "",
    notice: str = "",
    headers: dict[str, str] | None = None,
) -> Response:
    return render(
        request,
        "lapor.html",
        {
            "values": form.values if form else {},
            "errors": form.errors if form else {},
            "held": form.photos if form else [],
            "held_token": form.held_token if form else "",
            "categories": list(categories.values()),
            "max_photos": MAX_PHOTOS,
            "unavailable": unavailable,
            "rules": client_rules(),
            "notice": notice,
            **await _picker(request, kecamatan),
        },
        status_code=status_code,
        headers=headers,
    )


async def report_form(request: Request) -> Response:
    """The empty form, the same for everyone in a language: kept in the page cache
    (web/pagecache.py) until the categories or areas change (their counter is the key)."""
    kecamatan = request.query_params.get("kecamatan") or None

    async def page() -> Response:
        return await _form_page(request, None, await _categories(request), kecamatan)

    version = await page_versions.reference_version(request.state.db)
    return await pagecache.serve(request, _form_key(version), page)


def _form_key(reference_version: int) -> pagecache.Key:
    return ("report_form", reference_version)


async def known_report_form(db: Database, rest: str) -> Known:
    """The empty form's key for the front (web/front.py), as `report_form` reads it."""
    version = await page_versions.reference_version(db)
    return Known(_form_key(version), route="report_form")


async def _area(request: Request, form_data: FormData) -> tuple[dict[str, Any], str | None]:
    """The chosen kelurahan (as the only valid one) and its kecamatan, for the picker."""
    area_code = str(form_data.get("area") or "")
    chosen = await areas.kelurahan(request.state.db, area_code) if area_code else None
    kecamatan = chosen["kecamatan_code"] if chosen else str(form_data.get("kecamatan") or "")
    return ({chosen["code"]: chosen} if chosen else {}), kecamatan or None


async def _check(
    request: Request, draft: ReportDraft, categories: dict[str, Any], channel: str
) -> tuple[ReportForm, str | None]:
    kelurahan, kecamatan = await _area(request, draft.form)
    form = await check_report_form(
        draft,
        store=photo_store(request),
        secret_key=request.app.state.settings.secret_key,
        categories=categories,
        kelurahan=kelurahan,
        channel=channel,
        offered=request.app.state.settings.offered_channels,
        locate=locator_for(request),
    )
    if kecamatan is None and form.values.get("area"):  # picked from the point
        kecamatan = form.values["area"].rsplit(".", 1)[0]
    return form, kecamatan


def _wait_message(seconds: int) -> str:
    minutes = max(1, math.ceil(seconds / 60))
    return ngettext(
        "Terlalu banyak laporan dikirim dari sambungan ini dalam waktu singkat. "
        "Coba kirim lagi dalam %(n)d menit.",
        "Terlalu banyak laporan dikirim dari sambungan ini dalam waktu singkat. "
        "Coba kirim lagi dalam %(n)d menit.",
        minutes,
    ) % {"n": minutes}


async def _throttled_form(
    request: Request, form_data: FormData, categories: dict[str, Any], wait: int
) -> Response:
    """The form again with everything typed and the photos held before; new photos are
    not opened (refusing the work is the point), so the resident is asked to pick them
    again."""
    secret_key = request.app.state.settings.secret_key
    held = await read_held(
        secret_key, str(form_data.get("held_photos") or ""), photo_store(request)
    )
    form = ReportForm(values=form_values(form_data), photos=held)
    form.held_token = sign_held(secret_key, held)
    if any(isinstance(f, UploadFile) and f.filename for f in form_data.getlist("photos")):
        form.errors["photos"] = _(
            "Foto yang baru Anda pilih belum disimpan. Pilih lagi sebelum mengirim ulang."
        )
    _kelurahan, kecamatan = await _area(request, form_data)
    return await _form_page(
        request,
        form,
        categories,
        kecamatan,
        status_code=429,
        notice=_wait_message(wait),
        headers={"Retry-After": str(wait)},
    )


async def submit_report(request: Request) -> Response:
    """The no-JavaScript path: multipart POST, then 303 to the receipt."""
    form: ReportForm | None = None
    submitted: FormData | None = None
    try:
        wait = await limits.take_report_slot(request)  # before any photo is read
        categories = await _categories(request)
        async with formdata.open_form(request, **FORM_LIMITS) as form_data:
            submitted = form_data
            if wait:
                return await _throttled_form(request, form_data, categories, wait)
            draft = await read_report_form(
                form_data,
                store=photo_store(request),
                secret_key=request.app.state.settings.secret_key,
            )
            form, kecamatan = await _check(request, draft, categories, "web")
        if not form.ok:
            await limits.hold_photos(request, [p.sha256 for p in form.photos])
            return await _form_page(request, form, categories, kecamatan, status_code=422)
        assert form.report is not None
        created = await lifecycle.create_report(
            request.state.db,
            form.report,
            form.photos,
            tz=_tz(request),
            send_by=request.app.state.settings.message_channels,
        )
    except Exception as exc:
        answer = errors.unavailable(exc)
        if answer is None:
            raise
        return await _unavailable_form(request, form, submitted, exc, answer)
    request.state.report_id = created.id
    return RedirectResponse(
        request.url_for("receipt", code=created.code).include_query_params(
            k=private_token(request, created.code)
        ),
        status_code=303,
    )


async def _unavailable_form(
    request: Request,
    parsed: ReportForm | None,
    submitted: FormData | None,
    exc: Exception,
    answer: errors.Unavailable,
) -> Response:
    """503 with the form as the resident filled it: the disk is full or unwritable, or too
    many photos are waiting here, so nothing was saved, but nothing typed is lost and the
    photos already kept stay kept."""
    errors.log_unavailable("report form", exc)
    if submitted is None:  # the failure came before the body was read
        submitted = await formdata.read_form(request, **FORM_LIMITS)
    if parsed is None:
        store = photo_store(request)
        token = str(submitted.get("held_photos") or "")
        held = await read_held(request.app.state.settings.secret_key, token, store)
        parsed = ReportForm(values=form_values(submitted), photos=held, held_token=token)
    parsed.errors = {}
    area = await areas.kelurahan(request.state.db, str(parsed.values.get("area") or ""))
    return await _form_page(
        request,
        parsed,
        await _categories(request),
        area["kecamatan_code"] if area else None,
        status_code=503,
        unavailable=answer.message,
        headers=answer.headers,
    )


def _created_json(request: Request, created: lifecycle.Created) -> dict[str, str]:
    """The answer to a submission. A replay from another device (or one that did not name
    its device) learns the code, which the public may see, but never the private link."""
    code = created.code
    answer = {
        "code": code,
        "display_code": codes.display(code),
        "tracking_url": urls.path_for(request, "track", code=code),
    }
    if not created.replay or created.same_device:
        token = private_token(request, code)
        answer["receipt_url"] = urls.path_for(request, "receipt", code=code) + f"?k={token}"
        answer["private_url"] = urls.path_for(request, "private_page", code=code, token=token)
    return answer


def _device_hash(request: Request) -> str | None:
    """sha256 of the secret the phone's outbox keeps for itself (X-Aduan-Device), if any."""
    secret = request.headers.get(DEVICE_HEADER, "").strip()
    if not (16 <= len(secret) <= 200 and secret.isascii() and secret.isprintable()):
        return None
    return hashlib.sha256(secret.encode()).hexdigest()


def _mismatch(exc: lifecycle.IdempotencyMismatch) -> Response:
    return JSONResponse(
        {"message": lifecycle.message(exc), "errors": {}, "code": "idempotency_mismatch"},
        status_code=422,
    )


async def api_submit_report(request: Request) -> Response:
    """The outbox's endpoint: same fields as the form, JSON answers, `Idempotency-Key`.

    Only a 2xx carrying the X-Aduan-Code marker tells the phone its report arrived; a
    captive portal's page or a proxy error never carries it. A replay is answered before
    any photo is decoded; a new report counts against the client's limit before any photo
    is read.
    """
    key = request.headers.get("idempotency-key", "").strip()
    if key and (len(key) > 100 or not key.isprintable()):
        return JSONResponse(
            {"message": _("Kunci pengiriman tidak sah."), "errors": {}}, status_code=400
        )
    db = request.state.db
    scoped_key = f"outbox:{key}" if key else None
    device = _device_hash(request)
    if not (scoped_key and await lifecycle.key_used(db, scoped_key)):
        wait = await limits.take_report_slot(request, idempotency_key=scoped_key)
        if wait:
            async for _chunk in request.stream():
                pass  # read to the end, so the phone gets this answer, not a reset
            return JSONResponse(
                {"message": _wait_message(wait), "errors": {}},
                status_code=429,
                headers={"Retry-After": str(wait), "Cache-Control": "no-store"},
            )
    categories = await _categories(request)
    created: lifecycle.Created | None = None
    form: ReportForm | None = None
    async with formdata.open_form(request, **FORM_LIMITS) as form_data:
        draft = await read_report_form(
            form_data,
            store=photo_store(request),
            secret_key=request.app.state.settings.secret_key,
        )
        fingerprint = draft.fingerprint()
        if scoped_key:
            try:
                created = await lifecycle.find_replay(db, scoped_key, fingerprint, device)
            except lifecycle.IdempotencyMismatch as exc:
                return _mismatch(exc)
        if created is None:
            form, _kecamatan = await _check(request, draft, categories, "outbox")
    if created is None:
        assert form is not None
        if not form.ok:
            await limits.hold_photos(request, [p.sha256 for p in form.photos])
            return JSONResponse(
                {
                    "message": _("Laporan belum bisa dikirim. Periksa isian yang ditandai."),
                    "errors": form.errors,
                    "held_photos": form.held_token,
                },
                status_code=422,
            )
        assert form.report is not None
        try:
            created = await lifecycle.create_report(
                db,
                form.report,
                form.photos,
                idempotency_key=scoped_key,
                request_hash=fingerprint,
                device_hash=device,
                tz=_tz(request),
                send_by=request.app.state.settings.message_channels,
            )
        except lifecycle.IdempotencyMismatch as exc:
            await limits.hold_photos(request, [p.sha256 for p in form.photos])
            return _mismatch(exc)
    request.state.report_id = created.id
    return JSONResponse(
        _created_json(request, created),
        status_code=200 if created.replay else 201,
        headers={MARKER_HEADER: created.code, "Cache-Control": "no-store"},
    )


async def held_photo(request: Request) -> Response:
    """Thumbnails of photos kept from a failed attempt: shown only to who holds the token."""
    sha = request.path_params["sha"]
    store = photo_store(request)
    held = await read_held(
        request.app.state.settings.secret_key, request.query_params.get("t", ""), store
    )
    if sha not in {p.sha256 for p in held}:
        raise HTTPException(404)
    return await photo_response(store, sha, True, "private, no-store")


routes = [
    Route("/lapor", report_form, methods=["GET"], name="report_form"),
    Route("/lapor", submit_report, methods=["POST"], name="submit_report"),
    Route("/lapor/foto/{sha}", held_photo, name="held_photo"),
    Route("/api/v1/reports", api_submit_report, methods=["POST"], name="api_submit_report"),
]
