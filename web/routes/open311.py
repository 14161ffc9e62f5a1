"""Open311 GeoReport v2 under /open311/v2 (../shared/OPEN311.md), in JSON and XML.

Categories are the services; a request is the public face of a report. Reading needs no
key and shows only what the public tracking page shows (db/open311.py selects nothing
else); filing needs an API key, is rate-limited per key and per device or address, and
goes through `lifecycle.create_report` like every other channel.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from db import open311 as q
from db.apikeys import ApiKey
from web import apikeys, codes, formdata, i18n, lifecycle, limits, parse, text, validators
from web import open311_format as out
from web.client import client_bucket, keyed_bucket
from web.clock import to_text, utc_now
from web.i18n import gettext as _
from web.locate import open311_kelurahan
from web.settings import Settings

BASE = out.BASE
MAX_PAGE_SIZE = 1000
MAX_WINDOW = timedelta(days=90)
MAX_IDS = 1000
MAX_SERVICE_CODES = 100
# A page past this many is past any city's reports, and keeps OFFSET within SQLite's range.
MAX_PAGE = 1_000_000
MAX_DESCRIPTION = 4000
# The POST body (Route max_body_size). Over it, 413: Starlette's own plain answer when the
# Content-Length says so, this error document when the body gets there as it arrives.
MAX_BODY_BYTES = 256 * 1024
TOO_LARGE = f"the request body may be at most {MAX_BODY_BYTES} bytes"
# Parameter limits of POST /requests (characters), beyond the standard's description.
LIMITS = {
    "address_string": 300,
    "address_id": 100,
    "first_name": 60,
    "last_name": 60,
    "email": 200,
    "phone": 30,
    "device_id": 200,
    "media_url": 2000,
    "account_id": 200,
}
MAX_IDEMPOTENCY_KEY = 200
# The standard's words for what web/validators.py finds wrong with lat and long.
COORDINATE_PROBLEMS = {
    "not_a_number": "lat and long must both be given, as decimal degrees (WGS84)",
    "half": "lat and long must both be given, as decimal degrees (WGS84)",
    "not_finite": "lat and long must be numbers",
    "outside": "lat/long lie outside Indonesia (are they swapped?)",
}
KELURAHAN_ATTRIBUTE = "attribute[kelurahan]"


def jurisdiction_id(settings: Settings) -> str:
    """Aduan serves one jurisdiction, named by the host of its public address."""
    return urlsplit(settings.base_url).hostname or "aduan"


def _param(params: Mapping[str, Any], name: str) -> str:
    """A parameter's value, stripped; absent and empty are the same (OPEN311.md)."""
    value = params.get(name)
    return value.strip() if isinstance(value, str) else ""


def _comma_list(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def _wrong_jurisdiction(request: Request, params: Mapping[str, Any], fmt: str) -> Response | None:
    given = _param(params, "jurisdiction_id")
    if given and given != jurisdiction_id(request.app.state.settings):
        return out.errors(fmt, 404, f"Unknown jurisdiction_id: {given}")
    return None


def _opening(
    request: Request, params: Mapping[str, Any] | None = None
) -> tuple[str, Response | None]:
    """How every handler begins: the format the path asks for, and the refusal to answer
    with instead, if any. An unknown format is 404 in JSON (no other format is known); with
    `params`, a jurisdiction_id in them that is not ours is 404 in the format asked for."""
    fmt = request.path_params["fmt"]
    if fmt not in out.CONTENT_TYPES:
        return "json", out.errors("json", 404, "Unknown format: use .json or .xml")
    if params is not None:
        return fmt, _wrong_jurisdiction(request, params, fmt)
    return fmt, None


# --- discovery and services ------------------------------------------------------------------


async def discovery(request: Request) -> Response:
    fmt, refused = _opening(request)
    if refused is not None:
        return refused
    return out.respond(fmt, "discovery", out.discovery_document(request.app.state.settings))


async def services(request: Request) -> Response:
    fmt, refused = _opening(request, request.query_params)
    if refused is not None:
        return refused
    rows = await q.services(request.state.db)
    return out.respond(fmt, "services", [out.service_document(r) for r in rows])


async def service_definition(request: Request) -> Response:
    fmt, refused = _opening(request, request.query_params)
    if refused is not None:
        return refused
    row = await q.service(request.state.db, request.path_params["service_code"])
    if row is None:
        return out.errors(fmt, 404, "Unknown service_code")
    located = len(await request.app.state.locator.get(request.state.db)) > 0
    document = out.service_definition_document(row, located=located)
    return out.respond(fmt, "service_definition", document)


# --- reading requests ------------------------------------------------------------------------


def _parse_time(value: str, tz: str, name: str) -> datetime:
    """ISO 8601 with or without a zone; without one it is the city's local time."""
    # A "+07:00" typed into a query string unescaped arrives as " 07:00".
    return parse.moment(value.replace(" ", "+") if "T" in value else value, zone=tz, name=name)


def _build_query(query: Mapping[str, Any], tz: str, now: datetime) -> q.RequestQuery:
    """GET /requests parameters as a query; ValueError says what is wrong (→ 400)."""
    page = parse.optional_integer(
        _param(query, "page"), 1, minimum=1, maximum=MAX_PAGE, name="page"
    )
    page_size = parse.optional_integer(
        _param(query, "page_size"), 1000, minimum=1, maximum=MAX_PAGE_SIZE, name="page_size"
    )
    offset = (page - 1) * page_size
    ids = _param(query, "service_request_id")
    if ids:
        typed = _comma_list(ids)
        if len(typed) > MAX_IDS:
            raise ValueError(f"at most {MAX_IDS} service_request_id values at once")
        found = [code for code in (codes.normalise(t) for t in typed) if code]
        return q.RequestQuery(codes=found, limit=page_size, offset=offset)
    service_codes = _comma_list(_param(query, "service_code"))
    if len(service_codes) > MAX_SERVICE_CODES:
        raise ValueError(f"at most {MAX_SERVICE_CODES} service_code values at once")
    statuses: set[str] = set()
    for status in _comma_list(_param(query, "status")):
        if status == "open":
            statuses |= lifecycle.OPEN_STATUSES
        elif status == "closed":
            statuses |= lifecycle.CLOSED_STATUSES
        else:
            raise ValueError(f"status must be open or closed (got {status!r})")
    start = _parse_time(s, tz, "start_date") if (s := _param(query, "start_date")) else None
    end = _parse_time(e, tz, "end_date") if (e := _param(query, "end_date")) else None
    if start is None and end is None:
        end = now
    if start is None:
        assert end is not None
        start = end - MAX_WINDOW
    if end is None:
        end = start + MAX_WINDOW
    if end < start:
        raise ValueError("end_date is before start_date")
    if end - start > MAX_WINDOW:
        raise ValueError("start_date and end_date may be at most 90 days apart")
    return q.RequestQuery(
        service_codes=service_codes,
        received_from=to_text(start),
        received_until=to_text(end),
        statuses=statuses,
        limit=page_size,
        offset=offset,
    )


async def _requests_response(request: Request, fmt: str, rows: list[Any]) -> Response:
    """The list of requests, with `extensions=true`: their channel, photos and timeline."""
    extensions = _param(request.query_params, "extensions").lower() == "true"
    db = request.state.db
    ids = [r["id"] for r in rows]
    events: dict[int, list[Any]] = {i: [] for i in ids}
    for event in await q.public_events(db, ids, lifecycle.PUBLIC_EVENT_KINDS):
        events[event["report_id"]].append(event)
    photos: dict[int, list[Any]] = {i: [] for i in ids}
    for photo in await q.public_photos(db, ids, lifecycle.PUBLIC_EVENT_KINDS):
        photos[photo["report_id"]].append(photo)
    settings = request.app.state.settings
    document = [
        out.request_document(r, events[r["id"]], photos[r["id"]], settings, extensions)
        for r in rows
    ]
    return out.respond(fmt, "service_requests", document)


async def list_requests(request: Request) -> Response:
    fmt, refused = _opening(request, request.query_params)
    if refused is not None:
        return refused
    try:
        query = _build_query(request.query_params, request.app.state.settings.timezone, utc_now())
    except ValueError as exc:
        return out.errors(fmt, 400, str(exc))
    rows = await q.public_requests(request.state.db, query)
    return await _requests_response(request, fmt, rows)


async def _one_public_row(request: Request, typed: str) -> Any:
    code = codes.normalise(typed)
    return await q.public_request(request.state.db, code) if code else None


async def get_request(request: Request) -> Response:
    fmt, refused = _opening(request, request.query_params)
    if refused is not None:
        return refused
    row = await _one_public_row(request, request.path_params["service_request_id"])
    if row is None:
        return out.errors(fmt, 404, "Unknown service_request_id")
    return await _requests_response(request, fmt, [row])


async def get_token(request: Request) -> Response:
    """Aduan files every request at once, so a request's token is its id."""
    fmt, refused = _opening(request, request.query_params)
    if refused is not None:
        return refused
    row = await _one_public_row(request, request.path_params["token"])
    if row is None:
        return out.errors(fmt, 404, "Unknown token")
    code = codes.display(row["code"])
    return out.respond(fmt, "service_requests", [{"service_request_id": code, "token": code}])


# --- filing a request --------------------------------------------------------------------------


async def _read_form(request: Request) -> FormData | str:
    """The urlencoded body, or why it cannot be read (→ 400, or 413 for TOO_LARGE)."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        return "POST bodies must be application/x-www-form-urlencoded"
    try:
        return await formdata.read_form(
            request, max_files=0, max_fields=100, max_part_size=64 * 1024
        )
    except HTTPException as exc:
        if exc.status_code == 413:  # the route's max_body_size, reached as the body arrived
            return TOO_LARGE
        return f"the request body cannot be read: {exc.detail}"


def _request_hash(form: FormData) -> str:
    """A fingerprint of what was sent (the key aside), to refuse a replay with other content."""
    pairs = sorted(
        (name, value.strip())
        for name, value in form.multi_items()
        if isinstance(value, str) and name != "api_key"
    )
    return hashlib.sha256(json.dumps(pairs, ensure_ascii=False).encode("utf-8")).hexdigest()


async def _new_report(request: Request, form: FormData, service_code: str) -> Any:
    """The report to create, or the list of problems with the request (→ 400)."""
    problems: list[str] = []
    fields: dict[str, str] = {}
    for name in (*LIMITS, "description"):
        cleaned = text.clean(_param(form, name), multiline=name == "description")
        fields[name] = cleaned.text
        if cleaned.problem:
            problems.append(text.DESCRIPTIONS[cleaned.problem] % name)
    for name, limit in LIMITS.items():
        if len(fields[name]) > limit:
            problems.append(f"{name} may be at most {limit} characters")
    description = fields["description"]
    if len(description) > MAX_DESCRIPTION:
        problems.append(f"description may be at most {MAX_DESCRIPTION} characters")
    point = validators.coordinates(_param(form, "lat"), _param(form, "long"))
    if point.problem:
        problems.append(COORDINATE_PROBLEMS[point.problem])
    address = fields["address_string"]
    address_id = fields["address_id"]
    coordinates_given = bool(_param(form, "lat") or _param(form, "long"))
    if not (coordinates_given or address or address_id):
        problems.append("a location is required: lat and long, address_string or address_id")
    email, phone = fields["email"], fields["phone"]
    if email and not validators.is_email(email):
        problems.append("email is not an email address")
    if phone and not validators.is_telephone_number(phone):
        problems.append("phone may hold only digits, spaces, +, -, ( and )")
    media_url = fields["media_url"]
    if media_url and (
        urlsplit(media_url).scheme not in {"http", "https"} or not urlsplit(media_url).netloc
    ):
        problems.append("media_url must be an http or https URL")
    # the attribute, else the kelurahan at lat/long (web/locate.py)
    kelurahan, problem = await open311_kelurahan(
        request, _param(form, KELURAHAN_ATTRIBUTE), point.lat, point.lon
    )
    problems += [problem] if problem else []
    if problems:
        return problems
    name = " ".join(p for p in (fields["first_name"], fields["last_name"]) if p)
    if not address and address_id:
        # address_id comes from the client's own address register, which we do not have:
        # keep it readable for staff rather than drop the only location given
        address = f"address_id {address_id}"
    return lifecycle.NewReport(
        category=service_code,
        area=kelurahan,
        description=description,
        channel="open311",
        address=address,
        lat=point.lat,
        lon=point.lon,
        location_source="form" if point.lat is not None else None,
        reporter_name=name,
        reporter_phone=phone,
        reporter_email=email,
        media_url=media_url,
        device_id=fields["device_id"],
    )


def _client_bucket(request: Request, key: ApiKey, new: lifecycle.NewReport) -> str:
    """Whom a new request counts against besides its key: the resident's device when the
    client system names it (an app relaying many residents from one server passes each
    resident's device_id, as the standard intends), else the address it came from."""
    if new.device_id:
        return keyed_bucket(request, f"open311-device:{key.id}", new.device_id)
    return client_bucket(request, f"open311-client:{key.id}")


async def create_request(request: Request) -> Response:
    # The jurisdiction is named in the body, read once the key is known (below).
    fmt, refused = _opening(request)
    if refused is not None:
        return refused
    form = await _read_form(request)
    if isinstance(form, str):
        return out.errors(fmt, 413 if form == TOO_LARGE else 400, form)
    db = request.state.db
    key = await apikeys.authenticate(db, _param(form, "api_key"))
    if key is None:
        return out.errors(fmt, 403, "A valid api_key is required to submit requests")
    wait = await apikeys.take_request_slot(db, key)
    if wait:
        return out.errors(
            fmt,
            429,
            f"Too many requests for this api_key; try again in {wait} seconds",
            headers={"Retry-After": str(wait)},
        )
    if refused := _wrong_jurisdiction(request, form, fmt):
        return refused
    service_code = _param(form, "service_code")
    if not service_code:
        return out.errors(fmt, 400, "service_code is required")
    if await q.service(db, service_code) is None:
        return out.errors(fmt, 404, f"Unknown service_code: {service_code}")
    new = await _new_report(request, form, service_code)
    if isinstance(new, list):
        return out.errors(fmt, 400, *new)
    client_key = request.headers.get("idempotency-key", "").strip()
    if len(client_key) > MAX_IDEMPOTENCY_KEY:
        return out.errors(fmt, 400, f"Idempotency-Key may be at most {MAX_IDEMPOTENCY_KEY} chars")
    idempotency_key = None
    if client_key and new.device_id:
        idempotency_key = f"open311:{key.id}:{new.device_id}:{client_key}"
    if not (idempotency_key and await lifecycle.key_used(db, idempotency_key)):
        wait = await limits.take_report_slot(
            request, bucket=_client_bucket(request, key, new), idempotency_key=idempotency_key
        )
        if wait:
            return out.errors(
                fmt,
                429,
                f"Too many new requests from this device or address; try again in {wait} seconds",
                headers={"Retry-After": str(wait)},
            )
    settings: Settings = request.app.state.settings
    try:
        created = await lifecycle.create_report(
            db,
            new,
            idempotency_key=idempotency_key,
            request_hash=_request_hash(form) if idempotency_key else None,
            tz=settings.timezone,
            send_by=settings.message_channels,  # staff alerts (Open311 asks no consent)
        )
    except lifecycle.IdempotencyMismatch:
        return out.errors(
            fmt, 400, "This device_id and Idempotency-Key were already used for another request"
        )
    except lifecycle.DomainError as exc:
        return out.errors(fmt, 400, lifecycle.message(exc))
    request.state.report_id = created.id
    due = await q.response_due(db, created.id)
    notice = _("Laporan diterima. Tanggapan pertama paling lambat %(time)s.") % {
        "time": i18n.format_time(due, settings.timezone)
    }
    document = [
        {
            "service_request_id": codes.display(created.code),
            "service_notice": notice,
            "account_id": "",
        }
    ]
    return out.respond(fmt, "service_requests", document)


routes = [
    Route(f"{BASE}/discovery.{{fmt}}", discovery, name="open311_discovery"),
    Route(f"{BASE}/services.{{fmt}}", services, name="open311_services"),
    Route(
        f"{BASE}/services/{{service_code}}.{{fmt}}",
        service_definition,
        name="open311_service_definition",
    ),
    Route(f"{BASE}/requests.{{fmt}}", list_requests, name="open311_requests"),
    Route(
        f"{BASE}/requests.{{fmt}}",
        create_request,
        methods=["POST"],
        name="open311_create_request",
        max_body_size=MAX_BODY_BYTES,
    ),
    Route(f"{BASE}/requests/{{service_request_id}}.{{fmt}}", get_request, name="open311_request"),
    Route(f"{BASE}/tokens/{{token}}.{{fmt}}", get_token, name="open311_token"),
]
