"""`/staf/admin/log`: who changed the rules that judge staff — deadline targets, holidays,
category routing, accounts and API keys — when, and what they were before and after; and
the same entries as CSV (`/staf/admin/log.csv`). For supervisors and admins.

Newest first, 50 a page, paged by entry id (keyset: entries are only ever appended, so a
page never shifts while someone reads). Filters: the kind of change and a date range in the
city's time. What each entry holds, and what it never holds, is in web/audit.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from db import audit as audit_db
from web import audit, auth, i18n, urls
from web.clock import start_of_day, to_text, utc_now
from web.csvfile import csv_chunk, csv_response
from web.i18n import gettext as _
from web.templating import render

LOG_ROLES = ("admin", "supervisor")
PAGE_SIZE = 50
FILTERS = ("jenis", "dari", "sampai")
MAX_CURSOR_DIGITS = 18  # an entry id always fits in SQLite's 64-bit integer


def _day(text: str) -> date | None:
    if not (text.isascii() and len(text) == 10):
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return None
    return day if 2000 <= day.year <= 2100 else None


def _utc_start_of(day: date, tz: str) -> str:
    return to_text(start_of_day(day, tz))


def parse_filter(
    request: Request, tz: str
) -> tuple[audit_db.LogFilter, dict[str, str], dict[str, str]]:
    """The filter from the query string, what was typed (to show it again), and errors by
    field; a part that cannot be read is left out of the filter and said so."""
    values = {k: request.query_params.get(k, "").strip()[:20] for k in FILTERS}
    errors: dict[str, str] = {}
    kind = values["jenis"]
    if kind and kind not in audit_db.KINDS:
        errors["jenis"] = _("Jenis perubahan tidak dikenal.")
        kind = ""
    days: dict[str, date | None] = {}
    for name in ("dari", "sampai"):
        days[name] = _day(values[name]) if values[name] else None
        if values[name] and days[name] is None:
            errors[name] = _("Isi tanggal, contoh 2026-12-25.")
    first, last = days["dari"], days["sampai"]
    if first and last and first > last:
        errors["sampai"] = _("Tanggal akhir tidak boleh sebelum tanggal awal.")
        last = None
    return (
        audit_db.LogFilter(
            kind=kind,
            since=_utc_start_of(first, tz) if first else None,
            until=_utc_start_of(last + timedelta(days=1), tz) if last else None,
        ),
        values,
        errors,
    )


def _cursor(request: Request) -> int | None:
    text = request.query_params.get("sebelum", "")
    if not text:
        return None
    if not (text.isascii() and text.isdigit() and len(text) <= MAX_CURSOR_DIGITS):
        raise HTTPException(400, _("Alamat halaman log tidak dikenali."))
    return int(text)


def _query(values: dict[str, str], **extra: Any) -> str:
    params = {k: v for k, v in values.items() if v}
    params.update({k: v for k, v in extra.items() if v is not None})
    return ("?" + urlencode(params)) if params else ""


async def log_page(request: Request) -> Response:
    auth.require_account(request, LOG_ROLES)
    tz = request.app.state.settings.timezone
    f, values, errors = parse_filter(request, tz)
    before_id = _cursor(request)
    db = request.state.db
    entries, next_id = await audit_db.page(db, f, before_id=before_id, limit=PAGE_SIZE)
    names = await audit.Names.load(db, entries)
    items = [
        {
            "entry": entry,
            "actor": audit.actor_label(entry),
            "action": audit.action_label(entry),
            "object": audit.object_label(entry, names),
            "changes": audit.changes(entry, names, tz),
        }
        for entry in entries
    ]
    clean = {k: v for k, v in values.items() if k not in errors}
    page = urls.path_for(request, "staff_audit_log")
    return render(
        request,
        "staf/admin_log.html",
        {
            "items": items,
            "values": values,
            "errors": errors,
            "kind_labels": audit.KIND_LABELS,
            "paged": before_id is not None,
            "first_page": page + _query(clean),
            "next_page": page + _query(clean, sebelum=next_id) if next_id else "",
            "csv_url": urls.path_for(request, "staff_audit_log_csv") + _query(clean),
            "filtered": any(clean.values()),
        },
    )


async def log_csv(request: Request) -> Response:
    """The entries of the same filter as CSV, newest first, streamed in batches; every cell
    a spreadsheet could run as a formula is neutralised (web/csvfile.py)."""
    auth.require_account(request, LOG_ROLES)
    tz = request.app.state.settings.timezone
    f, _values, _errors = parse_filter(request, tz)
    db = request.state.db
    header = [
        _("Waktu (UTC)"),
        _("Waktu setempat"),
        _("Oleh"),
        _("ID akun"),
        _("Jenis"),
        _("Tindakan"),
        _("Objek"),
        _("Nama"),
        _("Perubahan"),
        _("Tabel"),
        _("Kunci"),
        _("Sebelum (JSON)"),
        _("Sesudah (JSON)"),
    ]

    def line(entry: audit_db.Entry, names: audit.Names) -> list[Any]:
        return [
            entry.at,
            i18n.format_time(entry.at, tz),
            audit.actor_label(entry),
            entry.actor_id if entry.actor_id is not None else "",
            audit.kind_label(entry),
            audit.action_label(entry),
            audit.object_label(entry, names),
            audit.object_name(entry, names),
            audit.changes_text(audit.changes(entry, names, tz)),
            entry.table,
            entry.key,
            entry.before_json or "",
            entry.after_json or "",
        ]

    async def body() -> AsyncIterator[bytes]:
        yield "\ufeff".encode()
        yield csv_chunk([header])
        async for batch in audit_db.batches(db, f):
            names = await audit.Names.load(db, batch)
            yield csv_chunk(line(entry, names) for entry in batch)

    stamp = utc_now().astimezone(ZoneInfo(tz)).strftime("%Y%m%d-%H%M")
    return csv_response(body(), f"aduan-log-perubahan-{stamp}.csv")


routes = [
    Route("/staf/admin/log", log_page, methods=["GET"], name="staff_audit_log"),
    Route("/staf/admin/log.csv", log_csv, methods=["GET"], name="staff_audit_log_csv"),
]
