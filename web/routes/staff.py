"""Staff workspace: login and logout, the inbox ordered by deadline, the case page and its
actions, and staff-only photos. Intake and account administration are in staff_admin.py.

Every handler starts with `require_account`, reads a case only through
`db.staff.load_case` (scope in the SQL: out of scope is 404) and changes it only through
`web.lifecycle.apply_action` (transition, version and timeline in one transaction).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import Route

from db import areas as area_db
from db import reports as report_db
from db import staff as staff_db
from web import auth, codes, lifecycle, parse, text, urls
from web.client import client_id
from web.clock import to_text, utc_now
from web.i18n import gettext as _
from web.i18n import lazy_gettext as N_
from web.i18n import translate
from web.lifecycle import timeline
from web.lifecycle.errors import CHANGED_MEANWHILE
from web.photos import Photo, PhotoStore
from web.routes import staff_admin
from web.templating import bad_cursor_page, render
from web.uploads import read_photos, read_uploads

PAGE_SIZE = 25
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


# --- login and logout ---------------------------------------------------------------------


def _login_page(
    request: Request, nonce: str, *, error: str = "", username: str = "", status_code: int = 200
) -> Response:
    settings = request.app.state.settings
    response = render(
        request,
        "staf/masuk.html",
        {
            "login_token": auth.login_form_token(settings.secret_key, nonce),
            "error": error,
            "username": username,
            "next": auth.safe_next(request.query_params.get("next")),
        },
        status_code=status_code,
    )
    response.set_cookie(
        auth.LOGIN_NONCE_COOKIE,
        nonce,
        path=auth.LOGIN_PATH,
        httponly=True,
        samesite="strict",
        secure=settings.https,
    )
    return response


async def login_form(request: Request) -> Response:
    # Shown even to someone logged in: logging in again (another account on a shared PC)
    # replaces the session.
    nonce = request.cookies.get(auth.LOGIN_NONCE_COOKIE) or auth.new_login_nonce()
    return _login_page(request, nonce)


async def login(request: Request) -> Response:
    settings = request.app.state.settings
    form = await request.form(max_files=0, max_fields=10, max_part_size=4096)
    username = str(form.get("username") or "")[:150]
    password = str(form.get("password") or "")[:1024]
    nonce = request.cookies.get(auth.LOGIN_NONCE_COOKIE, "")
    if not auth.login_token_valid(settings.secret_key, nonce, form.get("csrf_token")):
        message = _("Halaman masuk sudah kedaluwarsa. Silakan coba lagi.")
        return _login_page(
            request, auth.new_login_nonce(), error=message, username=username, status_code=403
        )
    outcome = await auth.attempt_login(
        _db(request),
        secret_key=settings.secret_key,
        username=username,
        password=password,
        client=client_id(request),
    )
    if outcome.retry_after:
        response = _login_page(
            request,
            nonce,
            error=auth.retry_message(outcome.retry_after),
            username=username,
            status_code=429,
        )
        response.headers["Retry-After"] = str(outcome.retry_after)
        return response
    if outcome.account_id is None:
        # One message whether the name is unknown, the password wrong or the account off.
        message = _("Nama pengguna atau kata sandi salah.")
        return _login_page(request, nonce, error=message, username=username, status_code=400)
    request.state.account_id = outcome.account_id
    raw_id = await auth.start_session(
        _db(request), outcome.account_id, request.cookies.get(auth.COOKIE_NAME)
    )
    response = RedirectResponse(auth.safe_next(str(form.get("next") or "")), status_code=303)
    auth.set_session_cookie(response, raw_id, secure=settings.https)
    response.delete_cookie(auth.LOGIN_NONCE_COOKIE, path=auth.LOGIN_PATH)
    return response


async def logout(request: Request) -> Response:
    """Ends every session of the account, on every device (a lost phone included)."""
    account = auth.require_account(request)
    await auth.read_form(request, max_fields=5)
    await auth.end_all_sessions(_db(request), account.id)
    response = RedirectResponse(urls.path_for(request, "staff_login_form"), status_code=303)
    auth.clear_session_cookie(response, secure=request.app.state.settings.https)
    return response


# --- inbox --------------------------------------------------------------------------------

FILTER_PARAMS = ("status", "category", "kelurahan", "channel", "terlambat", "q")


def _inbox_query(request: Request) -> tuple[staff_db.InboxFilter, dict[str, str]]:
    """The filter from the query string, and the params that define it (for links)."""
    params = {k: request.query_params.get(k, "").strip()[:100] for k in FILTER_PARAMS}
    params = {k: v for k, v in params.items() if v}
    status = params.get("status", "")
    if status in lifecycle.STATUS_LABELS:
        statuses: tuple[str, ...] = (status,)
    elif status == "semua":
        statuses = ()
    else:
        params.pop("status", None)  # the default: open cases
        statuses = tuple(sorted(lifecycle.OPEN_STATUSES))
    text = params.get("q", "")
    f = staff_db.InboxFilter(
        statuses=statuses,
        dated_only=bool(statuses) and set(statuses) <= lifecycle.OPEN_STATUSES,
        undated_only=bool(statuses) and set(statuses) <= lifecycle.CLOSED_STATUSES,
        category=params.get("category", ""),
        area=params.get("kelurahan", ""),
        channel=params.get("channel", ""),
        overdue=params.get("terlambat") == "1",
        code=codes.normalise(text) if text else None,
        text=text,
    )
    return f, params


async def _inbox_context(
    request: Request, account: auth.Account, after: staff_db.Cursor | None
) -> dict[str, Any]:
    db = _db(request)
    f, params = _inbox_query(request)
    now = to_text(utc_now())
    rows, cursor = await staff_db.inbox_page(db, account, f, now=now, after=after, limit=PAGE_SIZE)
    counts, overdue = await staff_db.status_counts(db, account, f, now=now)
    query = urlencode(params)
    after_text = request.query_params.get("after", "") if after else ""
    poll_query = urlencode({**params, "after": after_text}) if after_text else query
    next_query = urlencode({**params, "after": cursor.encode()}) if cursor else ""
    count_links = {
        status: urlencode({**{k: v for k, v in params.items() if k != "status"}, "status": status})
        for status in lifecycle.STATUS_LABELS
    }
    return {
        "rows": rows,
        "now": now,
        "params": params,
        "query": query,
        "poll_query": poll_query,
        "next_query": next_query,
        "paged": after is not None,
        "counts": counts,
        "count_links": count_links,
        "overdue_count": overdue,
        "total_open": sum(counts.get(s, 0) for s in lifecycle.OPEN_STATUSES),
        "status_labels": lifecycle.STATUS_LABELS,
        "channel_labels": lifecycle.CHANNEL_LABELS,
    }


async def inbox(request: Request) -> Response:
    account = auth.require_account(request)
    try:
        after = parse.cursor(request.query_params.get("after"), name="after")
    except parse.ParamError:
        return bad_cursor_page(request, urls.path_for(request, "staff_inbox"))
    context = await _inbox_context(request, account, after)
    db = _db(request)
    context.update(
        categories=await report_db.categories(db),
        kelurahan=await staff_db.kelurahan_in_scope(db, account),
    )
    return render(request, "staf/inbox.html", context)


async def inbox_rows(request: Request) -> Response:
    """The list alone, at its own URL, for htmx swaps and the 60-second poll."""
    account = auth.require_account(request)
    try:
        after = parse.cursor(request.query_params.get("after"), name="after")
    except parse.ParamError:
        return bad_cursor_page(request, urls.path_for(request, "staff_inbox"))
    context = await _inbox_context(request, account, after)
    headers = {}
    if request.query_params.get("push") == "1":
        # The filter form asks for the list; the address bar should show the page.
        page_query = urlencode({k: v for k, v in request.query_params.items() if k != "push" and v})
        headers["HX-Push-Url"] = urls.path_for(request, "staff_inbox") + (
            f"?{page_query}" if page_query else ""
        )
    return render(request, "staf/_inbox_rows.html", context, headers=headers)


# --- the case page ------------------------------------------------------------------------


async def _case_response(
    request: Request,
    account: auth.Account,
    case: Any,
    *,
    status_code: int = 200,
    message: str = "",
    error: str = "",
    error_kind: str = "",
    typed: dict[str, str] | None = None,
) -> Response:
    db = _db(request)
    events = await report_db.events(db, case["id"])
    photos = await report_db.photos(db, case["id"])
    grouped = timeline.group_photos(events, photos)
    actions = lifecycle.available_actions(case["status"], account.role)
    context = {
        "case": case,
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
        "canned": await staff_db.canned_replies(db, case["category_code"]),
        "agencies": await staff_db.agencies(db) if "dispatch" in actions else [],
        "categories": await report_db.categories(db) if "recategorise" in actions else [],
        "kelurahan": await area_db.kelurahan_list(db) if "recategorise" in actions else [],
        "action_photos": ACTION_PHOTOS,
    }
    return render(request, "staf/laporan.html", context, status_code=status_code)


async def case_page(request: Request) -> Response:
    account = auth.require_account(request)
    case = await staff_db.load_case(_db(request), _code(request), account)
    if case is None:
        raise HTTPException(404)
    request.state.report_id = case["id"]
    done = request.query_params.get("ok", "")
    message = _(DONE_MESSAGES[done]) if done in DONE_MESSAGES else ""
    return await _case_response(request, account, case, message=message)


async def _action_photos(form: FormData, kind: str, store: PhotoStore) -> tuple[list[Photo], str]:
    """Check and store the action's photos; the error says which photo and why."""
    limit = ACTION_PHOTOS.get(kind, 0)
    uploads = await read_uploads(form)
    if len(uploads) > limit:
        return [], _("Paling banyak %(n)d foto untuk tindakan ini.") % {"n": limit}
    photos, refused = await read_photos(uploads, store)
    return ([], " ".join(refused)) if refused else (photos, "")


async def case_action(request: Request) -> Response:
    """One action from the case page: 303 back with a message when done; the page again
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
        case = await staff_db.load_case(db, code, account)
        if case is None:
            raise HTTPException(404)
        request.state.report_id = case["id"]
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

        async def again(status_code: int, error: str, fresh: Any = case) -> Response:
            return await _case_response(
                request,
                account,
                fresh,
                status_code=status_code,
                error=error,
                error_kind=kind,
                typed=typed,
            )

        if version != case["version"]:
            return await again(409, _(CHANGED_MEANWHILE))
        if kind not in lifecycle.available_actions(case["status"], account.role):
            return await again(422, lifecycle.message(lifecycle.not_allowed(case["status"])))
        if note_problem:
            return await again(422, note_problem)
        action = lifecycle.Action(
            kind=kind,
            expected_version=case["version"],
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
            main = await staff_db.load_case(db, main_code, account) if main_code else None
            if main is None:
                return await again(422, _("Kode laporan induk tidak ditemukan."))
            action.duplicate_of_code = main["code"]
        if kind in ACTION_PHOTOS:
            store = PhotoStore(request.app.state.settings.photo_dir)
            photos, photo_error = await _action_photos(form, kind, store)
            if photo_error:
                return await again(422, photo_error)
            action.photos = photos
        try:
            await lifecycle.apply_action(db, code, action, tz=_tz(request))
        except lifecycle.Conflict:
            fresh = await staff_db.load_case(db, code, account)
            if fresh is None:
                raise HTTPException(404) from None
            return await again(409, _(CHANGED_MEANWHILE), fresh)
        except lifecycle.DomainError as exc:
            return await again(422, lifecycle.message(exc))
    finally:
        await form.close()
    if await staff_db.load_case(db, code, account) is None:
        # Moved to a kelurahan outside this account's scope: back to the inbox, whose message
        # says so. htmx would follow a 303 and find no case to swap in; it navigates instead.
        target = urls.path_for(request, "staff_inbox") + "?" + urlencode({"pindah": code})
        if request.headers.get("HX-Request"):
            return Response(headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)
    # The fragment brings the officer back to the message beside the actions, not to the
    # top of the case (a browser keeps it across the redirect, no script needed).
    case_path = urls.path_for(request, "staff_case", code=code)
    return RedirectResponse(f"{case_path}?ok={kind}#hasil", status_code=303)


# --- photos -------------------------------------------------------------------------------


async def photo(request: Request) -> Response:
    """A case photo for staff, only if it belongs to a report in the account's scope."""
    account = auth.require_account(request)
    sha = request.path_params["sha"]
    store = PhotoStore(request.app.state.settings.photo_dir)
    try:
        path = store.path(sha, thumb=request.query_params.get("kecil") == "1")
    except ValueError:
        raise HTTPException(404) from None
    if not await staff_db.photo_in_scope(_db(request), sha, account) or not path.is_file():
        raise HTTPException(404)
    return FileResponse(
        path,
        media_type="image/jpeg",
        headers={
            "Cache-Control": "private, no-store",
            "X-Content-Type-Options": "nosniff",
            "Content-Disposition": "inline",
        },
    )


routes = [
    Route(auth.LOGIN_PATH, login_form, methods=["GET"], name="staff_login_form"),
    Route(auth.LOGIN_PATH, login, methods=["POST"], name="staff_login"),
    Route("/staf/keluar", logout, methods=["POST"], name="staff_logout"),
    Route("/staf", inbox, name="staff_inbox"),
    Route("/staf/inbox-rows", inbox_rows, name="staff_inbox_rows"),
    Route("/staf/laporan/{code}", case_page, name="staff_case"),
    Route("/staf/laporan/{code}/{action}", case_action, methods=["POST"], name="staff_action"),
    Route("/staf/foto/{sha}", photo, name="staff_photo"),
    *staff_admin.routes,
]
