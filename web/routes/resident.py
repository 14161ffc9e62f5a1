"""Resident pages: home, the report form (and its outbox API twin), receipt, tracking
timeline, the private link's "Sudah beres?" answer, and public photos."""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import segno
from itsdangerous import BadSignature, URLSafeSerializer
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from db import areas, ratelimit
from db import reports as q
from web import codes, domain, formdata, parse, text, timeline
from web.deadlines import utc_now
from web.forms import MAX_PHOTOS, ReportForm, parse_report_form, read_held, stored_photos
from web.i18n import gettext as _
from web.i18n import translate
from web.photos import PhotoStore
from web.templating import render

# Unknown tracking codes a client may try in LOOKUP_WINDOW before being slowed down.
LOOKUP_LIMIT = 20
LOOKUP_WINDOW = timedelta(minutes=10)
FORM_LIMITS: dict[str, Any] = {
    "max_files": MAX_PHOTOS + 2,
    "max_fields": 60,
    "max_part_size": 64 * 1024,
}
MARKER_HEADER = "X-Aduan-Code"
# Above this many kelurahan/desa the picker asks for the kecamatan first.
PICKER_LIMIT = 400


def private_serializer(request: Request) -> URLSafeSerializer:
    return URLSafeSerializer(request.app.state.settings.secret_key, salt="aduan.report-private")


def private_token(request: Request, code: str) -> str:
    """The token of a report's private link: whoever holds it may answer "Sudah beres?"."""
    return str(private_serializer(request).dumps(code))


def private_token_valid(request: Request, code: str, token: str) -> bool:
    try:
        return hmac.compare_digest(str(private_serializer(request).loads(token)), code)
    except BadSignature:
        return False


def photo_store(request: Request) -> PhotoStore:
    return PhotoStore(request.app.state.settings.photo_dir)


def _tz(request: Request) -> str:
    return str(request.app.state.settings.timezone)


async def home(request: Request) -> Response:
    return render(request, "home.html", {"lookup_error": ""})


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
            **await _picker(request, kecamatan),
        },
        status_code=status_code,
    )


async def report_form(request: Request) -> Response:
    kecamatan = request.query_params.get("kecamatan") or None
    return await _form_page(request, None, await _categories(request), kecamatan)


async def _parse(request: Request, channel: str) -> tuple[ReportForm, dict[str, Any], str | None]:
    categories = await _categories(request)
    async with formdata.open_form(request, **FORM_LIMITS) as form_data:
        area_code = str(form_data.get("area") or "")
        chosen = await areas.kelurahan(request.state.db, area_code) if area_code else None
        form = await parse_report_form(
            form_data,
            store=photo_store(request),
            secret_key=request.app.state.settings.secret_key,
            categories=categories,
            kelurahan={chosen["code"]: chosen} if chosen else {},
            channel=channel,
        )
        kecamatan = chosen["kecamatan_code"] if chosen else str(form_data.get("kecamatan") or "")
    return form, categories, kecamatan or None


async def submit_report(request: Request) -> Response:
    """The no-JavaScript path: multipart POST, then 303 to the receipt."""
    form, categories, kecamatan = await _parse(request, "web")
    if not form.ok:
        return await _form_page(request, form, categories, kecamatan, status_code=422)
    assert form.report is not None
    created = await domain.create_report(
        request.state.db, form.report, stored_photos(form.photos), tz=_tz(request)
    )
    request.state.report_id = created.id
    return RedirectResponse(
        request.url_for("receipt", code=created.code).include_query_params(
            k=private_token(request, created.code)
        ),
        status_code=303,
    )


def _created_json(request: Request, created: domain.Created) -> dict[str, str]:
    code = created.code
    return {
        "code": code,
        "display_code": codes.display(code),
        "tracking_url": f"/t/{code}",
        "receipt_url": f"/t/{code}/struk?k={private_token(request, code)}",
        "private_url": f"/t/{code}/p/{private_token(request, code)}",
    }


async def api_submit_report(request: Request) -> Response:
    """The outbox's endpoint: same fields as the form, JSON answers, `Idempotency-Key`.

    Only a 2xx carrying the X-Aduan-Code marker tells the phone its report arrived; a
    captive portal's page or a proxy error never carries it.
    """
    key = request.headers.get("idempotency-key", "").strip()
    if key and (len(key) > 100 or not key.isprintable()):
        return JSONResponse(
            {"message": _("Kunci pengiriman tidak sah."), "errors": {}}, status_code=400
        )
    form, _cats, _kecamatan = await _parse(request, "outbox")
    if not form.ok:
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
        created = await domain.create_report(
            request.state.db,
            form.report,
            stored_photos(form.photos),
            idempotency_key=f"outbox:{key}" if key else None,
            request_hash=form.fingerprint(),
            tz=_tz(request),
        )
    except domain.IdempotencyMismatch as exc:
        return JSONResponse(
            {"message": translate(exc.message), "errors": {}, "code": "idempotency_mismatch"},
            status_code=422,
        )
    request.state.report_id = created.id
    return JSONResponse(
        _created_json(request, created),
        status_code=200 if created.replay else 201,
        headers={MARKER_HEADER: created.code, "Cache-Control": "no-store"},
    )


async def _client_bucket(request: Request) -> str:
    # Hash the address with our key: the table never holds a resident's IP address.
    host = request.client.host if request.client else "-"
    digest = hmac.new(
        request.app.state.settings.secret_key.encode(), host.encode(), hashlib.sha256
    ).hexdigest()[:16]
    return f"lookup:{digest}"


async def _load_public(request: Request, typed: str) -> Any:
    """The report for a typed code, rate-limiting clients that try many unknown codes."""
    db = request.state.db
    bucket = await _client_bucket(request)
    now = utc_now()
    if await ratelimit.count_recent(db, bucket, LOOKUP_WINDOW, now) >= LOOKUP_LIMIT:
        raise HTTPException(
            429,
            _("Terlalu banyak kode yang tidak dikenal. Tunggu 10 menit lalu coba lagi."),
            headers={"Retry-After": str(int(LOOKUP_WINDOW.total_seconds()))},
        )
    code = codes.normalise(typed)
    report = await q.report_with_names(db, code) if code else None
    if report is None:
        await ratelimit.record(db, bucket, now, keep=LOOKUP_WINDOW)
        raise HTTPException(404)
    request.state.report_id = report["id"]
    return report


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
        report = await _load_public(request, typed)
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
    return {
        "report": report,
        "display_code": codes.display(report["code"]),
        "hidden": hidden,
        "private": private,
        "status_label": translate(domain.STATUS_LABELS[report["status"]]),
        "entries": [] if hidden else timeline.build(report, events, photos),
        "photos": []
        if hidden
        else [p for p in photos if p["event_id"] is None or p["event_id"] == events[0]["id"]],
        "channel_label": translate(domain.CHANNEL_LABELS[report["channel"]]),
        "private_token": private_token(request, report["code"]) if private else "",
        "can_reopen": domain.can_reopen(report),
    }


async def track(request: Request) -> Response:
    typed = request.path_params["code"]
    report = await _load_public(request, typed)
    if report["code"] != typed:
        return RedirectResponse(request.url_for("track", code=report["code"]), status_code=301)
    context = await _page_context(request, report, private=False)
    return render(request, "track.html", context, headers={"Cache-Control": "no-cache"})


async def receipt(request: Request) -> Response:
    report = await _load_public(request, request.path_params["code"])
    code = report["code"]
    token = request.query_params.get("k", "")
    private = private_token_valid(request, code, token)
    base = request.app.state.settings.base_url
    tracking_url = f"{base}/t/{code}"
    share = _("Laporan saya di Aduan: kode %(code)s. Lacak di %(url)s") % {
        "code": codes.display(code),
        "url": tracking_url,
    }
    qr = segno.make(tracking_url, error="m").svg_inline(
        scale=4,
        omitsize=True,  # a viewBox instead, so CSS sizes it for screen and A6 print
        title=_("Kode QR menuju halaman lacak"),
        svgclass="qr-code",
        lineclass=None,
    )
    return render(
        request,
        "receipt.html",
        {
            "report": report,
            "display_code": codes.display(code),
            "tracking_url": tracking_url,
            "private_url": f"{base}/t/{code}/p/{token}" if private else "",
            "whatsapp_url": "https://wa.me/?text=" + quote(share),
            "qr_svg": qr,
            "status_label": translate(domain.STATUS_LABELS[report["status"]]),
            "category_name": report["category_name_id"],
        },
        headers={"Cache-Control": "private, no-store", "Referrer-Policy": "no-referrer"},
    )


async def _load_private(request: Request) -> Any:
    report = await _load_public(request, request.path_params["code"])
    if not private_token_valid(request, report["code"], request.path_params["token"]):
        raise HTTPException(404)
    return report


async def private_page(request: Request) -> Response:
    report = await _load_private(request)
    context = await _page_context(request, report, private=True)
    context.update({"answer_error": "", "answer_values": {}})
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
            raise domain.DomainError(text.MESSAGES[cleaned_note.problem])
        await domain.resident_answer(
            request.state.db, report["code"], fixed=fixed, rating=rating, note=note, tz=_tz(request)
        )
    except domain.DomainError as exc:
        context = await _page_context(request, report, private=True)
        context.update(
            {
                "answer_error": translate(exc.message) % exc.params,
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


def _photo_response(store: PhotoStore, sha: str, thumb: bool, cache: str) -> Response:
    return FileResponse(
        store.path(sha, thumb=thumb),
        media_type="image/jpeg",
        headers={
            "Cache-Control": cache,
            "Content-Disposition": "inline",
            "X-Content-Type-Options": "nosniff",
        },
    )


def _split_photo_name(name: str) -> tuple[str, bool]:
    sha, _sep, rest = name.partition(".")
    if rest not in {"jpg", "thumb.jpg"} or len(sha) != 64:
        raise HTTPException(404)
    return sha, rest == "thumb.jpg"


async def public_photo(request: Request) -> Response:
    """Photos of reports whose content is public; named by hash, so cached for a year."""
    sha, thumb = _split_photo_name(request.path_params["name"])
    row = await request.state.db.fetchone(
        "SELECT 1 FROM photos p JOIN reports r ON r.id = p.report_id"
        " WHERE p.sha256 = ? AND r.confidential = 0 LIMIT 1",
        (sha,),
    )
    store = photo_store(request)
    if row is None or not store.exists(sha):
        raise HTTPException(404)
    return _photo_response(store, sha, thumb, "public, max-age=31536000, immutable")


async def private_photo(request: Request) -> Response:
    """Photos of a confidential report, for the holder of its private link only."""
    report = await _load_private(request)
    sha, thumb = _split_photo_name(request.path_params["name"])
    row = await request.state.db.fetchone(
        "SELECT 1 FROM photos WHERE sha256 = ? AND report_id = ?", (sha, report["id"])
    )
    store = photo_store(request)
    if row is None or not store.exists(sha):
        raise HTTPException(404)
    return _photo_response(store, sha, thumb, "private, no-store")


async def held_photo(request: Request) -> Response:
    """Thumbnails of photos kept from a failed attempt: shown only to who holds the token."""
    sha = request.path_params["sha"]
    store = photo_store(request)
    held = read_held(
        request.app.state.settings.secret_key, request.query_params.get("t", ""), store
    )
    if sha not in {p.sha256 for p in held}:
        raise HTTPException(404)
    return _photo_response(store, sha, True, "private, no-store")


routes = [
    Route("/", home, name="home"),
    Route("/lapor", report_form, methods=["GET"], name="report_form"),
    Route("/lapor", submit_report, methods=["POST"], name="submit_report"),
    Route("/lapor/foto/{sha}", held_photo, name="held_photo"),
    Route("/api/v1/reports", api_submit_report, methods=["POST"], name="api_submit_report"),
    Route("/lacak", lookup, name="lookup"),
    Route("/t/{code}", track, name="track"),
    Route("/t/{code}/struk", receipt, name="receipt"),
    Route("/t/{code}/p/{token}", private_page, name="private_page"),
    Route("/t/{code}/p/{token}/jawab", answer, methods=["POST"], name="answer"),
    Route("/t/{code}/p/{token}/foto/{name}", private_photo, name="private_photo"),
    Route("/foto/{name}", public_photo, name="public_photo"),
]
