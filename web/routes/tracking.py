"""A report as the public and its resident follow it: the home page's "Lacak laporan" box,
the tracking timeline (`/t/{code}`), the private link's page and its "Sudah beres?" answer,
and the photos of both (public ones by hash; a confidential report's through its private
link only).
"""

from __future__ import annotations

from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from db import page_versions
from db import reports as q
from db.database import Database
from web import codes, formdata, lifecycle, pagecache, parse, receipts, text, urls
from web.clock import utc_now
from web.front import Known
from web.i18n import gettext as _
from web.i18n import translate
from web.lifecycle import timeline
from web.lookup import load_public
from web.photo_files import photo_response, photo_store
from web.privatelinks import private_token, private_token_valid
from web.templating import render


def _tz(request: Request) -> str:
    return str(request.app.state.settings.timezone)


HOME_KEY = ("home",)


async def home(request: Request) -> Response:
    """The same for everyone in a language: rendered once per deployment and language."""

    async def page() -> Response:
        return render(request, "home.html", {"lookup_error": ""})

    return await pagecache.serve(request, HOME_KEY, page)


async def known_home(db: Database, rest: str) -> Known:
    """The home page's key for the front (web/front.py)."""
    return Known(HOME_KEY, route="home")


async def lookup(request: Request) -> Response:
    """The home page's "Lacak laporan" box (GET form, no JavaScript needed)."""
    typed = request.query_params.get("kode", "")
    if codes.normalise(typed) is None:
        return render(
            request,
            "home.html",
            {
                "lookup_error": _("Kode lacak terdiri dari 8 huruf/angka, contoh K7QM-3XPA."),
                "typed": typed,
            },
            status_code=400,
        )
    try:
        report = await load_public(request, typed)
    except HTTPException as exc:
        if exc.status_code != 404:
            raise
        return render(
            request,
            "home.html",
            {
                "lookup_error": _("Kode %(code)s tidak ditemukan. Periksa lagi hurufnya.")
                % {"code": typed},
                "typed": typed,
            },
            status_code=404,
        )
    return RedirectResponse(request.url_for("track", code=report["code"]), status_code=303)


async def _page_context(request: Request, report: Any, *, private: bool) -> dict[str, Any]:
    db = request.state.db
    events = await q.events(db, report["id"])
    photos = await q.photos(db, report["id"])
    hidden = bool(report["confidential"]) and not private
    token = private_token(request, report["code"]) if private else ""
    grouped = timeline.group_photos(events, photos)
    return {
        "report": report,
        "display_code": codes.display(report["code"]),
        "hidden": hidden,
        "private": private,
        "status_label": translate(lifecycle.STATUS_LABELS[report["status"]]),
        "entries": [] if hidden else timeline.build(report, events, photos),
        "photos": [] if hidden else grouped.report,
        "channel_label": translate(lifecycle.CHANNEL_LABELS[report["channel"]]),
        "private_token": token,
        "push_url": receipts.follow_path(
            urls.path_for(request, "push_subscribe", code=report["code"]),
            confidential=bool(report["confidential"]),
            token=token,
        ),
        "awaits_answer": lifecycle.awaits_answer(report),
        "can_reopen": lifecycle.can_reopen(report, utc_now()),
        "can_support": lifecycle.can_support(report),
        "answer_error": "",
        "answer_field": "",
        "answer_values": {},
        **receipts.share_links(
            report["code"],
            tracking_url=urls.public_url(request, "track", code=report["code"]),
            voice="own" if private else "public",
        ),
    }


async def track(request: Request) -> Response:
    """The public timeline, the page a shared link brings hundreds to at once: answered from
    the page cache (web/pagecache.py) by the report's version, last event and the reference
    data's counter, read in one query on every request, so a staff action or a resident's
    answer shows on the very next request to any server. A confidential report's public
    page holds no content (`hidden`); its content is only ever rendered for the private
    link, which never comes through the cache."""
    typed = request.path_params["code"]
    current = await _page_version(request.state.db, typed)
    if current is None:
        # Unknown codes are counted per client (web/lookup.py) and answered 404 or 429.
        report = await load_public(request, typed)
        response = await _public_page(request, report["code"])
        response.headers["Cache-Control"] = pagecache.PUBLIC_PAGE_CACHE
        return response
    if current["code"] != typed:
        return RedirectResponse(request.url_for("track", code=current["code"]), status_code=301)
    request.state.report_id = current["id"]
    return await pagecache.serve(
        request, _track_key(current), lambda: _public_page(request, current["code"])
    )


async def _page_version(db: Database, typed: str) -> Any:
    """What the tracking page of a typed code shows (db/page_versions.py), or None."""
    code = codes.normalise(typed)
    return await page_versions.report_page_version(db, code) if code else None


def _track_key(current: Any) -> pagecache.Key:
    return (
        "track",
        current["version"],
        current["last_event_id"],
        current["reference_version"],
        current["support_count"],
    )


async def known_track(db: Database, typed: str) -> Known | None:
    """The tracking page's key for the front (web/front.py), read as `track` reads it; None
    for an unknown or non-canonical code (`track` counts or redirects those)."""
    current = await _page_version(db, typed)
    if current is None or current["code"] != typed:
        return None
    return Known(_track_key(current), route="track", report_id=current["id"])


async def _public_page(request: Request, code: str) -> Response:
    # Read after the key: the page is never older than the version it is kept under.
    report = await q.report_with_names(request.state.db, code)
    context = await _page_context(request, report, private=False)
    return render(request, "track.html", context)


async def _load_private(request: Request) -> Any:
    report = await load_public(request, request.path_params["code"])
    if not private_token_valid(request, report["code"], request.path_params["token"]):
        raise HTTPException(404)
    return report


async def private_page(request: Request) -> Response:
    report = await _load_private(request)
    context = await _page_context(request, report, private=True)
    return render(
        request,
        "track.html",
        context,
        headers={"Cache-Control": "private, no-store", "Referrer-Policy": "no-referrer"},
    )


async def answer(request: Request) -> Response:
    """The resident's "Sudah beres?" answer through the private link."""
    report = await _load_private(request)
    form = await formdata.read_form(request, max_fields=10, max_part_size=8 * 1024)
    fixed = form.get("fixed") == "ya"
    rating_text = str(form.get("rating") or "")
    cleaned_note = text.clean(str(form.get("note") or ""), multiline=True)
    note = cleaned_note.text
    rating: int | None = None
    if rating_text.strip():
        try:
            rating = parse.integer(rating_text, minimum=1, maximum=5)
        except parse.ParamError:
            rating = 0  # out of range: the domain refuses it with its message, form kept
    try:
        if cleaned_note.problem:
            raise lifecycle.DomainError(text.MESSAGES[cleaned_note.problem])
        await lifecycle.resident_answer(
            request.state.db,
            report["code"],
            fixed=fixed,
            rating=rating,
            note=note,
            tz=_tz(request),
            send_by=request.app.state.settings.message_channels,
        )
    except lifecycle.DomainError as exc:
        # Shown as it is now: another tab or the nightly close may have answered first.
        report = await q.report_with_names(request.state.db, report["code"])
        context = await _page_context(request, report, private=True)
        if isinstance(exc, lifecycle.Conflict) or not lifecycle.awaits_answer(report):
            field = ""  # no longer waiting for an answer: said at the top
        else:
            field = "rating" if fixed else "note"
        context.update(
            {
                "answer_error": lifecycle.message(exc),
                "answer_field": field,
                "answer_values": {
                    "note": note,
                    "rating": rating_text,
                    "fixed": "ya" if fixed else "belum",
                },
            }
        )
        return render(
            request,
            "track.html",
            context,
            status_code=422,
            headers={"Cache-Control": "private, no-store"},
        )
    return RedirectResponse(
        request.url_for("private_page", code=report["code"], token=request.path_params["token"]),
        status_code=303,
    )


def _split_photo_name(name: str) -> tuple[str, bool]:
    sha, _sep, rest = name.partition(".")
    if rest not in {"jpg", "thumb.jpg"} or len(sha) != 64:
        raise HTTPException(404)
    return sha, rest == "thumb.jpg"


async def public_photo(request: Request) -> Response:
    """Photos of reports whose content is public; named by hash, so cached for a year."""
    sha, thumb = _split_photo_name(request.path_params["name"])
    public = await q.photo_is_public(request.state.db, sha)
    if not public:
        raise HTTPException(404)
    return await photo_response(
        photo_store(request), sha, thumb, "public, max-age=31536000, immutable"
    )


async def private_photo(request: Request) -> Response:
    """Photos of a confidential report, for the holder of its private link only."""
    report = await _load_private(request)
    sha, thumb = _split_photo_name(request.path_params["name"])
    ours = await q.photo_of_report(request.state.db, sha, report["id"])
    if not ours:
        raise HTTPException(404)
    return await photo_response(photo_store(request), sha, thumb, "private, no-store")


routes = [
    Route("/", home, name="home"),
    Route("/lacak", lookup, name="lookup"),
    Route("/t/{code}", track, name="track"),
    Route("/t/{code}/p/{token}", private_page, name="private_page"),
    Route("/t/{code}/p/{token}/jawab", answer, methods=["POST"], name="answer"),
    Route("/t/{code}/p/{token}/foto/{name}", private_photo, name="private_photo"),
    Route("/foto/{name}", public_photo, name="public_photo"),
]
