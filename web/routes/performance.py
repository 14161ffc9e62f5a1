"""`/kinerja`: the public performance report. For the last full month or the last full
quarter, per kelurahan and per agency: who responded in time — ranked — and, by name, who
did not. Open to everyone, so it holds only counts and times: no report, no text, no
person, and confidential reports are left out of every figure (db.stats, `public=True`).

The figures of a closed period barely move, and anyone may ask for the page, so they are
kept per app for a few minutes rather than recomputed on every request (web/figures.py,
shared with the page's CSV in exports.py).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from babel.dates import format_date
from babel.lists import format_list
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from db import page_versions
from web import audit, i18n, pagecache, stats, urls
from web.charts import Bar, bar_chart
from web.figures import (
    GROUPING_LABELS,
    group_labels,
    period_label,
    public_figures,
    public_figures_key,
    public_period,
    table_row,
)
from web.i18n import gettext as _
from web.i18n import translate
from web.templating import render

# The page is written in the language of the `lang` cookie, so no cache may reuse a copy by
# URL alone. `no-cache` lets the browser and proxies keep a copy but makes them ask the
# server before each use; the ETag (web/pagecache.py: a hash of what the figures are made
# from and of the language) differs per language, so a copy in the other language is never
# confirmed with a 304, while a repeat visit in the same language costs a 304 of a few
# hundred bytes. `Vary: Cookie` tells a shared cache to keep one copy per cookie. A language
# in the URL would be the one way to let a proxy share the page, at the price of a second
# URL scheme for the whole site.
PAGE_CACHE = pagecache.PUBLIC_PAGE_CACHE
# A phone shows the ten most often late as bars (and, for screen readers, as a list); the
# other late ones are one tap away, as is every group's ranking; all figures are in a CSV.
# So the page stays a few screens long whether the city has six kelurahan or six hundred.
CHART_BARS = 10


async def performance(request: Request) -> Response:
    """Kept in the page cache (web/pagecache.py) by what its figures are computed from (the
    reference data's counter in that key covers the names) and by the audit log's last
    entry, which "rules changed on" is read from."""
    kind, period = public_period(request)
    key = await public_figures_key(request, period)
    last_rule_change = await page_versions.last_audit_entry(request.state.db)
    return await pagecache.serve(
        request,
        ("performance", kind, last_rule_change, *key),
        lambda: _page(request, kind, period, key),
        cache_control=PAGE_CACHE,
    )


async def _page(request: Request, kind: str, period: stats.Period, key: Any) -> Response:
    figures = await public_figures(request, period, key)
    db = request.state.db
    changed_on = await audit.rule_changes_after_start(
        db, period, request.app.state.settings.timezone
    )
    sections = []
    for grouping, title, chart_title, everyone in (
        (
            "kelurahan",
            _("Per kelurahan"),
            _("Kelurahan yang paling sering terlambat menanggapi"),
            _("Peringkat semua kelurahan (%(n)d)"),
        ),
        (
            "instansi",
            _("Per instansi"),
            _("Instansi yang paling sering terlambat menanggapi"),
            _("Peringkat semua instansi (%(n)d)"),
        ),
    ):
        groups = figures.groups[grouping]
        labels = await group_labels(db, grouping, groups)
        rows = [table_row(labels[f.key], f) for f in stats.ranked(groups.values())]
        if grouping == "kelurahan":
            # Each kelurahan's name leads to its public list of reports.
            for row, f in zip(rows, stats.ranked(groups.values()), strict=True):
                row["href"] = urls.path_for(request, "area_reports", kode=f.key)
        late = [(labels[f.key], f) for f in stats.late_responders(groups.values())]
        query = urlencode({"periode": kind, "kelompok": grouping})
        sections.append(
            {
                "id": grouping,
                "title": title,
                "header": translate(GROUPING_LABELS[grouping]),
                "rows": rows,
                "everyone": everyone % {"n": len(rows)},
                "chart": _late_chart(f"grafik-{grouping}", chart_title, late) if late else None,
                "late": late[:CHART_BARS],
                "more_late": late[CHART_BARS:],
                "csv": urls.path_for(request, "performance_csv") + f"?{query}",
            }
        )
    return render(
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


def _day_list(days: list[Any]) -> str:
    """'3 Des 2026 dan 5 Des 2026': the days, no names (the public page names no staff)."""
    if not days:
        return ""
    language = i18n.current_language.get()
    return str(
        format_list([format_date(d, "d MMM yyyy", locale=language) for d in days], locale=language)
    )


def _late_chart(chart_id: str, title: str, late: list[tuple[str, stats.Figures]]) -> Any:
    """The groups most often late, as the title says: the share of their judged reports
    answered late (never the share in time), worst first, at most CHART_BARS; groups with
    nothing late or nothing judged yet are left out."""
    bars = [
        Bar(
            label,
            f.late_percent,
            stats.format_percent(f.late_percent),
            "bad",
            detail=_("%(late)d dari %(judged)d terlambat") % {"late": f.late, "judged": f.judged},
        )
        for label, f in late[:CHART_BARS]
    ]
    description = _(
        "Persentase laporan yang terlambat ditanggapi, mulai dari yang tertinggi. "
        "Nama dan angkanya ada di daftar setelah grafik."
    )
    note = ""
    if len(late) > CHART_BARS:
        note = _("%(n)d yang paling sering terlambat dari %(all)d; yang lain di bawah grafik.") % {
            "n": CHART_BARS,
            "all": len(late),
        }
    return bar_chart(chart_id, title, bars, description=description, max_value=100, note=note)


routes = [
    Route("/kinerja", performance, methods=["GET"], name="performance"),
]
