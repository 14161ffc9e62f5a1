"""A report in the staff workspace: its page with the timeline and the actions this role may
take now, the actions themselves, and staff-only photos.

Every handler starts with `require_account`, reads a report only through
`db.staff.load_report` (scope in the SQL: out of scope is 404) and changes it only through
`web.lifecycle.apply_action` (transition, version and timeline in one transaction).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from db import areas as area_db
from db import contact as contact_db
from db import reports as report_db
from db import staff as staff_db
from web import auth, codes, lifecycle, nearby, notices, parse, text, urls, whatsapp
from web.clock import to_text, utc_now
from web.i18n import gettext as _
from web.i18n import lazy_gettext as N_
from web.i18n import translate
from web.lifecycle import timeline
from web.lifecycle.errors import CHANGED_MEANWHILE
from web.lifecycle.rules import is_public_event
from web.photo_files import photo_response, photo_store
from web.photo_store import PhotoStore
from web.photos import Photo
from web.templating import render
from web.uploads import read_photos, read_uploads

# Photos an action may carry: progress up to 3, resolve one "after" photo.
ACTION_PHOTOS = {"progress": 3, "resolve": 1}
TYPED_FIELDS = (
    "public_note",
    "internal_note",
    "agency_code",
    "duplicate_of",
    "category_code",
    "area_code",
)
DONE_MESSAGES = {
    "verify": N_("Laporan sudah diverifikasi."),
    "dispatch": N_("Laporan sudah diteruskan ke instansi."),
    "progress": N_("Perkembangan sudah dicatat."),
    "resolve": N_("Laporan sudah ditandai selesai."),
    "reject": N_("Laporan ditutup dengan alasan yang Anda tulis."),
    "duplicate": N_("Laporan sudah digabung ke laporan induknya."),
    "note": N_("Catatan internal sudah disimpan."),
    "recategorise": N_("Data laporan sudah diperbarui."),
}


def _db(request: Request) -> Any:
    return request.state.db


def _tz(request: Request) -> str:
    return str(request.app.state.settings.timezone)


def _code(request: Request) -> str:
    code = codes.normalise(request.path_params["code"])
    if code is None:
        raise HTTPException(404)
    return code


# --- the report page ----------------------------------------------------------------------


async def _report_response(
    request: Request,
    account: auth.Account,
    report: Any,
    *,
    status_code: int = 200,
    message: str = "",
    error: str = "",
    error_kind: str = "",
    typed: dict[str, str] | None = None,
) -> Response:
    db = _db(request)
    events = await report_db.events(db, report["id"])
    photos = await report_db.photos(db, report["id"])
    grouped = timeline.group_photos(events, photos)
    actions = lifecycle.available_actions(report["status"], account.role)
    sent, taps = await contact_db.case_notices(db, report["id"])
    context = {
        "report": report,
        "events": events,
        "report_photos": grouped.report,
        "event_photos": grouped.by_event,
        "actions": actions,
        "message": message,
        "error": error,
        "error_kind": error_kind,
        "typed": typed or {},
        "now": to_text(utc_now()),
        "status_labels": lifecycle.STATUS_LABELS,
        "channel_labels": lifecycle.CHANNEL_LABELS,
        "event_labels": timeline.labels(timeline.STAFF),
        "canned": await staff_db.canned_replies(db, report["category_code"]),
        "agencies": await staff_db.agencies(db) if "dispatch" in actions else [],
        "categories": await report_db.categories(db) if "recategorise" in actions else [],
        "kelurahan": await area_db.kelurahan_list(db) if "recategorise" in actions else [],
        "action_photos": ACTION_PHOTOS,
        "public_event": is_public_event,
        "notices": notices.by_event(sent, show_contact=notices.sees_contact(report, account)),
        "notice_channels": notices.CHANNEL_LABELS,
        "notice_states": notices.STATE_LABELS,
        "taps": notices.taps_by_event(taps),
        "tell_whatsapp": whatsapp.may_tell(report, account),
        # Open reports of the same category within 1 km: one tap merges this case into one.
        "nearby": await nearby.near_case(db, account, report) if "duplicate" in actions else [],
    }
    return render(request, "staf/laporan.html", context, status_code=status_code)


async def report_page(request: Request) -> Response:
    account = auth.require_account(request)
    report = await staff_db.load_report(_db(request), _code(request), account)
    if report is None:
        raise HTTPException(404)
    request.state.report_id = report["id"]
    done = request.query_params.get("ok", "")
    message = _(DONE_MESSAGES[done]) if done in DONE_MESSAGES else ""
    return await _report_response(request, account, report, message=message)


async def _action_photos(form: FormData, kind: str, store: PhotoStore) -> tuple[list[Photo], str]:
    """Check and store the action's photos; the error says which photo and why."""
    limit = ACTION_PHOTOS.get(kind, 0)
    uploads = await read_uploads(form)
    if len(uploads) > limit:
        return [], _("Paling banyak %(n)d foto untuk tindakan ini.") % {"n": limit}
    photos, refused = await read_photos(uploads, store)
    return ([], " ".join(refused)) if refused else (photos, "")


async def report_action(request: Request) -> Response:
    """One action from the report page: 303 back with a message when done; the page again
    with 409 (changed meanwhile, new state) or 422 (refused) and the typed text kept."""
    account = auth.require_account(request, auth.ACTING_ROLES)
    kind = request.path_params["action"]
    if kind not in lifecycle.TRANSITIONS:
        raise HTTPException(404)
    code = _code(request)
    db = _db(request)
    # Room for a few files more than allowed, so too many photos get a clear message (with
    # the note kept) instead of the parser's bare 400.
    max_files = ACTION_PHOTOS[kind] + 3 if kind in ACTION_PHOTOS else 0
    form = await auth.read_form(request, max_files=max_files, max_fields=30)
    try:
        report = await staff_db.load_report(db, code, account)
        if report is None:
            raise HTTPException(404)
        request.state.report_id = report["id"]
        typed = {name: str(form.get(name) or "").strip()[:4000] for name in TYPED_FIELDS}
        note_problem = ""
        for name in ("public_note", "internal_note"):
            cleaned = text.clean(typed[name], multiline=True)
            typed[name] = cleaned.text
            if cleaned.problem:
                note_problem = translate(text.MESSAGES[cleaned.problem])
        try:
            version: int | None = parse.identifier(str(form.get("version") or ""))
        except parse.ParamError:
            version = None  # unreadable: answered like a form from before a change

        async def again(status_code: int, error: str, fresh: Any = report) -> Response:
            return await _report_response(
                request,
                account,
                fresh,
                status_code=status_code,
                error=error,
                error_kind=kind,
                typed=typed,
            )

        if version != report["version"]:
            return await again(409, _(CHANGED_MEANWHILE))
        if kind not in lifecycle.available_actions(report["status"], account.role):
            return await again(422, lifecycle.message(lifecycle.not_allowed(report["status"])))
        if note_problem:
            return await again(422, note_problem)
        action = lifecycle.Action(
            kind=kind,
            expected_version=report["version"],
            user_id=account.id,
            public_note=typed["public_note"],
            internal_note=typed["internal_note"],
            agency_code=typed["agency_code"] or None,
            category_code=typed["category_code"] or None,
            area_code=typed["area_code"] or None,
        )
        if kind == "duplicate":
            # The main report must be one this account may see: no probing other areas.
            main_code = codes.normalise(typed["duplicate_of"])
            main = await staff_db.load_report(db, main_code, account) if main_code else None
            if main is None:
                return await again(422, _("Kode laporan induk tidak ditemukan."))
            action.duplicate_of_code = main["code"]
        if kind in ACTION_PHOTOS:
            store = photo_store(request)
            photos, photo_error = await _action_photos(form, kind, store)
            if photo_error:
                return await again(422, photo_error)
            action.photos = photos
        try:
            await lifecycle.apply_action(
                db,
                code,
                action,
                tz=_tz(request),
                send_by=request.app.state.settings.message_channels,
            )
        except lifecycle.Conflict:
            fresh = await staff_db.load_report(db, code, account)
            if fresh is None:
                raise HTTPException(404) from None
            return await again(409, _(CHANGED_MEANWHILE), fresh)
        except lifecycle.DomainError as exc:
            return await again(422, lifecycle.message(exc))
    finally:
        await form.close()
    if await staff_db.load_report(db, code, account) is None:
        # Moved to a kelurahan outside this account's scope: back to the inbox, whose message
        # says so. htmx would follow a 303 and find no report to swap in; it navigates instead.
        target = urls.path_for(request, "staff_inbox") + "?" + urlencode({"pindah": code})
        if request.headers.get("HX-Request"):
            return Response(headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)
    # The fragment brings the officer back to the message beside the actions, not to the
    # top of the report (a browser keeps it across the redirect, no script needed).
    report_path = urls.path_for(request, "staff_report", code=code)
    return RedirectResponse(f"{report_path}?ok={kind}#hasil", status_code=303)


# --- photos -------------------------------------------------------------------------------


async def photo(request: Request) -> Response:
    """A photo for staff, only if it belongs to a report in the account's scope."""
    account = auth.require_account(request)
    sha = request.path_params["sha"]
    if not await staff_db.photo_in_scope(_db(request), sha, account):
        raise HTTPException(404)
    thumb = request.query_params.get("kecil") == "1"
    return await photo_response(photo_store(request), sha, thumb, "private, no-store")


routes = [
    Route("/staf/laporan/{code}", report_page, name="staff_report"),
    Route("/staf/laporan/{code}/{action}", report_action, methods=["POST"], name="staff_action"),
    Route("/staf/foto/{sha}", photo, name="staff_photo"),
]
