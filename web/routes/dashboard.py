"""Accountability for staff: the dashboard by period and group (`/staf/dasbor`), the city's
overdue list (`/staf/terlambat`), and the CSV exports of the dashboard table and of the
inbox's reports.

The dashboard and the overdue list are for supervisors and admins (officers see their own
overdue cases in the inbox). The report export is for every staff account, limited to its
scope, with reporter contact only where the case page would show it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from db import exports as export_db
from db import staff as staff_db
from db import stats as stats_db
from db.database import Database
from web import auth, clock, codes, i18n, lifecycle, parse, stats, urls
from web.charts import Bar, bar_chart
from web.clock import from_text, to_text, utc_now
from web.csvfile import csv_chunk, csv_response
from web.figures import (
    GROUPING_LABELS,
    figures_csv,
    figures_for,
    group_labels,
    period_label,
    table_row,
)
from web.i18n import gettext as _
from web.i18n import lazy_gettext as N_
from web.i18n import translate
from web.templating import bad_cursor_page, render

SUPERVISOR_ROLES = ("admin", "supervisor")
CHART_BARS = 20
OVERDUE_PAGE = 50
PERIOD_LABELS = {
    "bulan": N_("Bulan"),
    "triwulan": N_("Triwulan"),
    "rentang": N_("Rentang tanggal"),
}


def _db(request: Request) -> Database:
    return request.state.db  # type: ignore[no-any-return]


def _tz(request: Request) -> str:
    return str(request.app.state.settings.timezone)


def in_time_chart(
    chart_id: str, title: str, rows: Sequence[dict[str, Any]], *, note: str = ""
) -> Any:
    bars = [
        Bar(
            r["label"],
            r["figures"].in_time_percent,
            r["in_time"] if r["figures"].judged else _("belum ada"),
        )
        for r in rows
    ]
    description = _("Persentase laporan yang ditanggapi dalam target. Angka lengkap ada di tabel.")
    return bar_chart(chart_id, title, bars, description=description, max_value=100, note=note)


# --- the dashboard ------------------------------------------------------------------------


async def _dashboard_data(request: Request) -> dict[str, Any]:
    tz = _tz(request)
    params = {k: v.strip()[:20] for k, v in request.query_params.items()}
    today = clock.local_today(tz)
    period, period_error = stats.parse_period(params, today)
    grouping = params.get("kelompok", "kelurahan")
    if grouping not in stats.GROUPINGS:
        grouping = "kelurahan"
    db = _db(request)
    accumulator = await figures_for(db, period, [grouping], tz=tz, public=False)
    groups = accumulator.groups[grouping]
    labels = await group_labels(db, grouping, groups)
    rows = [table_row(labels[f.key], f) for f in stats.ranked(groups.values())]
    query = {"periode": period.kind, "kelompok": grouping}
    if period.kind == "bulan":
        query["bulan"] = period.month_value
    elif period.kind == "triwulan":
        query["triwulan"] = period.quarter_value
    else:
        query.update(dari=period.first.isoformat(), sampai=period.last.isoformat())
    return {
        "period": period,
        "period_error": translate(period_error) if period_error else "",
        "period_label": period_label(period),
        "grouping": grouping,
        "rows": rows,
        "total": table_row(_("Seluruh kota"), accumulator.total),
        "query": urlencode(query),
        "today": today,
    }


async def dashboard(request: Request) -> Response:
    auth.require_account(request, SUPERVISOR_ROLES)
    data = await _dashboard_data(request)
    rows = data["rows"]
    busiest = {id(r) for r in sorted(rows, key=lambda r: -r["figures"].received)[:CHART_BARS]}
    chart_rows = [r for r in rows if id(r) in busiest]  # the busiest groups, in rank order
    group_name = translate(GROUPING_LABELS[data["grouping"]]).lower()
    overdue_rows = sorted(
        (r for r in rows if r["figures"].overdue_now), key=lambda r: -r["figures"].overdue_now
    )[:CHART_BARS]
    overdue_chart = bar_chart(
        "grafik-terlambat",
        _("Terlambat saat ini per %(group)s") % {"group": group_name},
        [
            Bar(r["label"], r["figures"].overdue_now, str(r["figures"].overdue_now), "bad")
            for r in overdue_rows
        ],
        description=_("Laporan periode ini yang masih terbuka dan sudah lewat tenggat."),
    )
    data.update(
        in_time_chart=in_time_chart(
            "grafik-tepat-waktu",
            _("Ditanggapi tepat waktu per %(group)s") % {"group": group_name},
            chart_rows,
            note=_("%(n)d kelompok dengan laporan terbanyak; semua angka ada di tabel.")
            % {"n": CHART_BARS}
            if len(rows) > len(chart_rows)
            else "",
        ),
        overdue_chart=overdue_chart if overdue_rows else None,
        grouping_labels=GROUPING_LABELS,
        period_labels=PERIOD_LABELS,
        months=stats.recent_months(data["today"]),
        quarters=stats.recent_quarters(data["today"]),
        period_name=period_label,
    )
    return render(request, "staf/dasbor.html", data)


async def dashboard_csv(request: Request) -> Response:
    """The dashboard's table (the groups and the city total) as CSV."""
    auth.require_account(request, SUPERVISOR_ROLES)
    data = await _dashboard_data(request)
    period: stats.Period = data["period"]
    name = f"aduan-dasbor-{data['grouping']}-{period.first:%Y%m%d}-{period.last:%Y%m%d}.csv"
    group_header = translate(GROUPING_LABELS[data["grouping"]])
    return csv_response(figures_csv(group_header, data["rows"], data["total"]), name)


# --- the overdue list ---------------------------------------------------------------------


async def overdue(request: Request) -> Response:
    """Every overdue open report in the city, longest overdue first, 50 a page, with the
    counts per agency and per kelurahan that the lateness is charged to."""
    auth.require_account(request, SUPERVISOR_ROLES)
    db = _db(request)
    now_moment = utc_now()
    now = to_text(now_moment)
    try:
        cursor = parse.cursor(request.query_params.get("setelah"), name="setelah")
    except parse.ParamError:
        return bad_cursor_page(request, urls.path_for(request, "staff_overdue"))
    after = (cursor.due, cursor.id) if cursor is not None and cursor.due else None
    rows = await stats_db.overdue_page(
        db, now, lifecycle.OPEN_STATUSES, after=after, limit=OVERDUE_PAGE
    )
    next_cursor = ""
    if len(rows) > OVERDUE_PAGE:
        rows = rows[:OVERDUE_PAGE]
        next_cursor = staff_db.Cursor(rows[-1]["next_due_at"], rows[-1]["id"]).encode()
    by_agency = await stats_db.overdue_by(db, now, "instansi", lifecycle.OPEN_STATUSES)
    by_area = await stats_db.overdue_by(db, now, "kelurahan", lifecycle.OPEN_STATUSES)
    agency_labels = await group_labels(db, "instansi", [r["code"] or "" for r in by_agency])
    area_labels = await group_labels(db, "kelurahan", [r["code"] for r in by_area[:CHART_BARS]])
    agency_chart = bar_chart(
        "grafik-terlambat-instansi",
        _("Laporan terlambat per instansi"),
        [Bar(agency_labels[r["code"] or ""], r["n"], str(r["n"]), "bad") for r in by_agency],
        description=_("Jumlah laporan terbuka yang sudah lewat tenggat. Angka ada di tabel."),
    )
    return render(
        request,
        "staf/terlambat.html",
        {
            "rows": [dict(r, late_by=_late_by(now_moment, r["next_due_at"])) for r in rows],
            "total": await stats_db.overdue_total(db, now, lifecycle.OPEN_STATUSES),
            "by_agency": [(agency_labels[r["code"] or ""], r["n"]) for r in by_agency],
            "by_area": [(area_labels[r["code"]], r["n"]) for r in by_area[:CHART_BARS]],
            "more_areas": sum(r["n"] for r in by_area[CHART_BARS:]),
            "more_area_count": max(0, len(by_area) - CHART_BARS),
            "agency_chart": agency_chart if by_agency else None,
            "next_cursor": next_cursor,
            "paged": cursor is not None,
            "status_labels": lifecycle.STATUS_LABELS,
        },
    )


def _late_by(now: datetime, due: str) -> str:
    return stats.format_hours((now - from_text(due)).total_seconds() / 3600)


# --- the report export --------------------------------------------------------------------

EXPORT_FILTERS = ("status", "category", "kelurahan", "channel", "terlambat", "q")


def export_filter(request: Request) -> staff_db.InboxFilter:
    """The inbox's filter from the same query parameters (`/staf?…` → `/staf/ekspor/…?…`):
    no status means the open cases, `semua` every status."""
    params = {k: request.query_params.get(k, "").strip()[:100] for k in EXPORT_FILTERS}
    status = params["status"]
    if status in lifecycle.STATUS_LABELS:
        statuses: tuple[str, ...] = (status,)
    elif status == "semua":
        statuses = ()
    else:
        statuses = tuple(sorted(lifecycle.OPEN_STATUSES))
    text = params["q"]
    return staff_db.InboxFilter(
        statuses=statuses,
        category=params["category"],
        area=params["kelurahan"],
        channel=params["channel"],
        overdue=params["terlambat"] == "1",
        code=codes.normalise(text) if text else None,
        text=text,
    )


async def export_reports(request: Request) -> Response:
    """The inbox's reports as CSV, streamed in batches of 1,000 rows (a year of a big city
    never sits in memory), local times, names in the current language."""
    account = auth.require_account(request)
    f = export_filter(request)
    db = _db(request)
    tz = _tz(request)
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


routes = [
    Route("/staf/dasbor", dashboard, methods=["GET"], name="staff_dashboard"),
    Route("/staf/dasbor.csv", dashboard_csv, methods=["GET"], name="staff_dashboard_csv"),
    Route("/staf/terlambat", overdue, methods=["GET"], name="staff_overdue"),
    Route("/staf/ekspor/laporan.csv", export_reports, methods=["GET"], name="staff_export"),
]
