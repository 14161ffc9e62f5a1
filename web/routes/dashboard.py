"""Accountability for staff: the dashboard by period and group (`/staf/dasbor`) and the
city's overdue list (`/staf/terlambat`, with the staff alerts that went unanswered), for
supervisors and admins (officers see their own
overdue reports in the inbox). The dashboard's table as CSV is in exports.py, its figures
in web/figures.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from db import alerts as alert_db
from db import staff as staff_db
from db import stats as stats_db
from db.database import Database
from web import auth, lifecycle, parse, stats, urls
from web.charts import Bar, bar_chart
from web.clock import from_text, to_text, utc_now
from web.figures import (
    GROUPING_LABELS,
    dashboard_data,
    group_labels,
    period_label,
)
from web.i18n import gettext as _
from web.i18n import lazy_gettext as N_
from web.i18n import translate
from web.lifecycle.alerts import ALERT_LABELS
from web.templating import bad_cursor_page, render

CHART_BARS = 20
OVERDUE_PAGE = 50
# The unanswered alerts shown: of the last 30 days, at most 50.
UNANSWERED_PERIOD = timedelta(days=30)
UNANSWERED_LIMIT = 50
PERIOD_LABELS = {
    "bulan": N_("Bulan"),
    "triwulan": N_("Triwulan"),
    "rentang": N_("Rentang tanggal"),
}


def _db(request: Request) -> Database:
    return request.state.db  # type: ignore[no-any-return]


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


async def dashboard(request: Request) -> Response:
    auth.require_account(request, auth.SUPERVISOR_ROLES)
    data = await dashboard_data(request)
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


# --- the overdue list ---------------------------------------------------------------------


async def overdue(request: Request) -> Response:
    """Every overdue open report in the city, longest overdue first, 50 a page, with the
    counts per agency and per kelurahan that the lateness is charged to."""
    auth.require_account(request, auth.SUPERVISOR_ROLES)
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
            "unanswered": [] if cursor is not None else await _unanswered(db, now_moment),
            "alert_labels": ALERT_LABELS,
        },
    )


async def _unanswered(db: Database, now: datetime) -> list[Any]:
    """Alerts officers were sent about reports that got no first response by the deadline
    (web/lifecycle/alerts.py), the latest first."""
    return await alert_db.unanswered(
        db, now=to_text(now), since=to_text(now - UNANSWERED_PERIOD), limit=UNANSWERED_LIMIT
    )


def _late_by(now: datetime, due: str) -> str:
    return stats.format_hours((now - from_text(due)).total_seconds() / 3600)


routes = [
    Route("/staf/dasbor", dashboard, methods=["GET"], name="staff_dashboard"),
    Route("/staf/terlambat", overdue, methods=["GET"], name="staff_overdue"),
]
