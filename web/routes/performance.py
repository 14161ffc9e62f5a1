"""`/kinerja`: the public performance report. For the last full month or the last full
quarter, per kelurahan and per agency: who responded in time — ranked — and, by name, who
did not. Open to everyone, so it holds only counts and times: no report, no text, no
person, and confidential reports are left out of every figure (db.stats, `public=True`).

The figures of a closed period barely move, and anyone may ask for the page, so they are
kept per app for a few minutes rather than recomputed on every request.
"""

from __future__ import annotations

import time
from typing import Any

from babel.dates import format_date
from babel.lists import format_list
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from web import audit, i18n, stats
from web.charts import Bar, bar_chart
from web.i18n import gettext as _
from web.i18n import translate
from web.routes.dashboard import (
    GROUPING_LABELS,
    figures_for,
    group_labels,
    in_time_chart,
    period_label,
    table_row,
)
from web.templating import render

CACHE_SECONDS = 600
GROUPINGS = ("kelurahan", "instansi")
CHART_BARS = 15


async def _figures(request: Request, period: stats.Period) -> stats.Accumulator:
    """The period's figures, recomputed at most every CACHE_SECONDS per app."""
    cache: dict[Any, tuple[float, stats.Accumulator]] = getattr(
        request.app.state, "performance_cache", {}
    )
    request.app.state.performance_cache = cache
    key = (period.first, period.last)
    hit = cache.get(key)
    if hit is not None and time.monotonic() - hit[0] < CACHE_SECONDS:
        return hit[1]
    settings = request.app.state.settings
    figures = await figures_for(
        request.state.db, period, GROUPINGS, tz=settings.timezone, public=True
    )
    cache.clear()  # two periods at most are ever asked for; keep only the fresh one
    cache[key] = (time.monotonic(), figures)
    return figures


async def performance(request: Request) -> Response:
    settings = request.app.state.settings
    today = stats.local_today(settings.timezone)
    kind = "triwulan" if request.query_params.get("periode") == "triwulan" else "bulan"
    period = stats.last_full_quarter(today) if kind == "triwulan" else stats.last_full_month(today)
    figures = await _figures(request, period)
    db = request.state.db
    changed_on = await audit.rule_changes_after_start(db, period, settings.timezone)
    sections = []
    for grouping, title, chart_title in (
        ("kelurahan", _("Per kelurahan"), _("Kelurahan yang paling sering terlambat menanggapi")),
        ("instansi", _("Per instansi"), _("Ditanggapi tepat waktu per instansi")),
    ):
        groups = figures.groups[grouping]
        labels = await group_labels(db, grouping, groups)
        rows = [table_row(labels[f.key], f) for f in stats.ranked(groups.values())]
        late = stats.late_responders(groups.values())
        if grouping == "kelurahan":
            worst = [r for r in reversed(rows) if r["figures"].late][:CHART_BARS]
            chart = _worst_chart(f"grafik-{grouping}", chart_title, worst) if worst else None
        else:
            chart = in_time_chart(f"grafik-{grouping}", chart_title, rows) if rows else None
        sections.append(
            {
                "id": grouping,
                "title": title,
                "header": translate(GROUPING_LABELS[grouping]),
                "rows": rows,
                "chart": chart,
                "late": [(labels[f.key], f) for f in late],
            }
        )
    response = render(
        request,
        "kinerja.html",
        {
            "kind": kind,
            "period": period,
            "period_label": period_label(period),
            "total": table_row(_("Seluruh kota"), figures.total),
            "sections": sections,
            "rules_changed_on": _day_list(changed_on),
        },
    )
    response.headers["Cache-Control"] = f"public, max-age={CACHE_SECONDS}"
    return response


def _day_list(days: list[Any]) -> str:
    """'3 Des 2026 dan 5 Des 2026': the days, no names (the public page names no staff)."""
    if not days:
        return ""
    language = i18n.current_language.get()
    return str(
        format_list([format_date(d, "d MMM yyyy", locale=language) for d in days], locale=language)
    )


def _worst_chart(chart_id: str, title: str, rows: list[dict[str, Any]]) -> Any:
    bars = [Bar(r["label"], r["figures"].in_time_percent, r["in_time"], "bad") for r in rows]
    description = _(
        "Persentase laporan yang ditanggapi dalam target, mulai dari yang terendah. "
        "Angka lengkap ada di tabel."
    )
    return bar_chart(chart_id, title, bars, description=description, max_value=100)


routes = [Route("/kinerja", performance, methods=["GET"], name="performance")]
