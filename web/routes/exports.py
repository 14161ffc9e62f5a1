"""Every CSV download, and who may have it: the dashboard's table (supervisors), the
public performance figures (everyone), the inbox's reports (every staff account, limited to
its scope, with reporter contact only where the report page would show it; each download
is written to the audit log with who took it) and the audit log (supervisors).

Each is streamed in batches, headed in the request's language, with every cell a spreadsheet
could run as a formula neutralised (web/csvfile.py). The figures are computed as their
pages compute them (web/figures.py); the SQL is in db/.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from db import audit as audit_db
from db import exports as export_db
from web import audit, auth, i18n, lifecycle, personal_data, stats
from web.clock import from_text, to_text, utc_now
from web.csvfile import csv_chunk, csv_response
from web.figures import (
    GROUPING_LABELS,
    PUBLIC_GROUPINGS,
    dashboard_data,
    figures_csv,
    group_labels,
    public_figures,
    public_period,
    table_row,
)
from web.i18n import gettext as _
from web.i18n import translate
from web.inbox_filter import inbox_filter

# --- the dashboard's table ----------------------------------------------------------------


async def dashboard_csv(request: Request) -> Response:
    """The dashboard's table (the groups and the city total) as CSV."""
    auth.require_account(request, auth.SUPERVISOR_ROLES)
    data = await dashboard_data(request)
    period: stats.Period = data["period"]
    name = f"aduan-dasbor-{data['grouping']}-{period.first:%Y%m%d}-{period.last:%Y%m%d}.csv"
    group_header = translate(GROUPING_LABELS[data["grouping"]])
    return csv_response(figures_csv(group_header, data["rows"], data["total"]), name)


# --- the public performance figures -------------------------------------------------------


async def performance_csv(request: Request) -> Response:
    """Every figure of every group of the page's period, for those who want all the numbers
    (the page itself shows three per group, to stay readable on a phone)."""
    _kind, period = public_period(request)
    grouping = request.query_params.get("kelompok", "kelurahan")
    if grouping not in PUBLIC_GROUPINGS:
        grouping = "kelurahan"
    figures = await public_figures(request, period)
    groups = figures.groups[grouping]
    labels = await group_labels(request.state.db, grouping, groups)
    rows = [table_row(labels[f.key], f) for f in stats.ranked(groups.values())]
    total = table_row(_("Seluruh kota"), figures.total)
    name = f"aduan-kinerja-{grouping}-{period.first:%Y%m%d}-{period.last:%Y%m%d}.csv"
    body = figures_csv(translate(GROUPING_LABELS[grouping]), rows, total)
    return csv_response(body, name)


# --- the inbox's reports ------------------------------------------------------------------


async def export_reports(request: Request) -> Response:
    """The inbox's reports as CSV, streamed in batches of 1,000 rows (a year of a big city
    never sits in memory), local times, names in the current language."""
    account = auth.require_account(request)
    f, params = inbox_filter(request.query_params)
    db = request.state.db
    # It holds reporters' contacts (where the account may see them): who took it is logged.
    await personal_data.record_staff_csv(db, audit.actor_of(account), "laporan.csv", params)
    tz = str(request.app.state.settings.timezone)
    zone = ZoneInfo(tz)
    now = to_text(utc_now())
    english = i18n.current_language.get() == "en"
    zone_name = {"Asia/Jakarta": "WIB", "Asia/Makassar": "WITA", "Asia/Jayapura": "WIT"}.get(tz, tz)
    header = [
        _("Kode lacak"),
        _("Diterima (%(zone)s)") % {"zone": zone_name},
        _("Disampaikan warga (%(zone)s)") % {"zone": zone_name},
        _("Saluran"),
        _("Status"),
        _("Jenis masalah"),
        _("Kelurahan"),
        _("Kecamatan"),
        _("Instansi"),
        _("Tenggat tanggapan"),
        _("Tanggapan pertama"),
        _("Tenggat diteruskan"),
        _("Target selesai"),
        _("Selesai"),
        _("Ditutup"),
        _("Tenggat berikutnya"),
        _("Terlambat"),
        _("Dibuka kembali"),
        _("Nilai dari pelapor"),
        _("Rahasia"),
        _("Anonim"),
        _("Alamat atau titik kenal"),
        _("RT/RW"),
        _("Lintang"),
        _("Bujur"),
        _("Isi laporan"),
        _("Nama pelapor"),
        _("Telepon pelapor"),
        _("Email pelapor"),
    ]
    yes, no = _("ya"), _("tidak")
    status_labels = {k: translate(v) for k, v in lifecycle.STATUS_LABELS.items()}
    channel_labels = {k: translate(v) for k, v in lifecycle.CHANNEL_LABELS.items()}

    def local(value: str | None) -> str:
        return from_text(value).astimezone(zone).strftime("%Y-%m-%d %H:%M") if value else ""

    def line(r: Any) -> list[Any]:
        late = lifecycle.is_overdue(r, now)
        return [
            r["code"],
            local(r["received_at"]),
            local(r["written_at"]),
            channel_labels.get(r["channel"], r["channel"]),
            status_labels.get(r["status"], r["status"]),
            r["category_name_en"] if english else r["category_name_id"],
            r["area_name"],
            r["kecamatan_name"] or "",
            (r["agency_name_en"] if english else r["agency_name_id"]) or "",
            local(r["response_due_at"]),
            local(r["first_response_at"]),
            local(r["dispatch_due_at"]),
            local(r["resolution_due_at"]),
            local(r["resolved_at"]),
            local(r["closed_at"]),
            local(r["next_due_at"]),
            yes if late else no,
            r["reopen_count"],
            r["rating"] if r["rating"] is not None else "",
            yes if r["confidential"] else no,
            yes if r["anonymous"] else no,
            r["address"],
            r["rt_rw"],
            r["lat"] if r["lat"] is not None else "",
            r["lon"] if r["lon"] is not None else "",
            r["description"],
            r["reporter_name"],
            r["reporter_phone"],
            r["reporter_email"],
        ]

    async def body() -> AsyncIterator[bytes]:
        yield "\ufeff".encode()
        yield csv_chunk([header])
        async for batch in export_db.report_batches(db, account, f, now=now):
            yield csv_chunk(line(r) for r in batch)

    stamp = utc_now().astimezone(zone).strftime("%Y%m%d-%H%M")
    return csv_response(body(), f"aduan-laporan-{stamp}.csv")


# --- the audit log ------------------------------------------------------------------------


async def log_csv(request: Request) -> Response:
    """The entries of the same filter as CSV, newest first, streamed in batches; every cell
    a spreadsheet could run as a formula is neutralised (web/csvfile.py)."""
    auth.require_account(request, auth.SUPERVISOR_ROLES)
    tz = request.app.state.settings.timezone
    f, _values, _errors = audit.log_filter(request.query_params, tz)
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
    Route("/staf/dasbor.csv", dashboard_csv, methods=["GET"], name="staff_dashboard_csv"),
    Route("/kinerja.csv", performance_csv, methods=["GET"], name="performance_csv"),
    Route("/staf/ekspor/laporan.csv", export_reports, methods=["GET"], name="staff_export"),
    Route("/staf/admin/log.csv", log_csv, methods=["GET"], name="staff_audit_log_csv"),
]
