"""The figures of the staff dashboard and of the public performance page, computed and
shown the same way for both: one pass over a period's reports, the names people know each
group by, a table row per group, the period's name, and every figure as CSV.

The arithmetic is in web/stats.py, the SQL in db/stats.py.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterable, Sequence
from typing import Any
from urllib.parse import urlencode

from babel.dates import format_date
from starlette.requests import Request

from db import exports as export_db
from db import page_versions
from db import stats as stats_db
from db.database import Database
from web import clock, i18n, stats
from web.clock import to_text, utc_now
from web.csvfile import csv_chunk
from web.i18n import gettext as _
from web.i18n import lazy_gettext as N_
from web.i18n import translate

# The public page's figures of a closed period barely move, and anyone may ask for them: kept
# per app (app.state.performance_cache) until one of the period's reports or the reference
# data changes (read from the database on every request, so a change made through any server
# counts at once), and for at most this long otherwise: the figures that move with time
# alone ("overdue now", "not yet due") follow within this many seconds, on the same
# wall-clock boundaries on every server.
CACHE_SECONDS = 600
# Figures kept per app: a month and a quarter, and the previous version of each.
CACHED_PERIODS = 4
PUBLIC_GROUPINGS = ("kelurahan", "instansi")
GROUPING_LABELS = {
    "kelurahan": N_("Kelurahan"),
    "kecamatan": N_("Kecamatan"),
    "instansi": N_("Instansi"),
    "kategori": N_("Jenis masalah"),
}
NOT_FORWARDED = N_("Belum diteruskan ke instansi")


async def group_labels(db: Database, grouping: str, keys: Iterable[str]) -> dict[str, str]:
    """The name people know each group by, in the current language."""
    english = i18n.current_language.get() == "en"
    keys = list(keys)
    labels: dict[str, str] = {}
    if grouping in ("kelurahan", "kecamatan"):
        areas = await stats_db.area_names(db, keys)
        # "Gambir, Kec. Gambir" and "Gambir, Kota Administrasi Jakarta Pusat": names repeat
        # across kecamatan and kota, so the parent goes with each.
        prefix = _("Kec.") + " " if grouping == "kelurahan" else ""
        for key in keys:
            area = areas.get(key)
            labels[key] = f"{area['name']}, {prefix}{area['parent_name']}" if area else key
    elif grouping == "instansi":
        agencies = await stats_db.agency_names(db)
        for key in keys:
            agency = agencies.get(key)
            if agency is None:
                labels[key] = translate(NOT_FORWARDED) if not key else key
            else:
                labels[key] = agency["name_en"] if english else agency["name_id"]
    else:
        categories = await stats_db.category_names(db)
        for key in keys:
            category = categories.get(key)
            labels[key] = (
                (category["name_en"] if english else category["name_id"]) if category else key
            )
    return labels


async def figures_for(
    db: Database, period: stats.Period, groupings: Sequence[str], *, tz: str, public: bool
) -> stats.Accumulator:
    """Every figure of a period, per grouping, from one pass over its reports."""
    start, end = period.bounds(tz)
    accumulator = stats.Accumulator(groupings, now=to_text(utc_now()))
    async for batch in stats_db.period_batches(db, start, end, public=public):
        accumulator.add_all(batch)
    return accumulator


def table_row(label: str, f: stats.Figures) -> dict[str, Any]:
    """One group's figures as the page shows them."""
    return {
        "label": label,
        "figures": f,
        "in_time": stats.format_percent(f.in_time_percent),
        "median_response": stats.format_hours(f.median_response),
        "p90_response": stats.format_hours(f.p90_response),
        "median_resolution": stats.format_hours(f.median_resolution),
        "p90_resolution": stats.format_hours(f.p90_resolution),
        "rating": stats.format_rating(f.average_rating),
    }


def period_label(period: stats.Period) -> str:
    """'November 2026', 'Triwulan IV 2026' or '1 Nov 2026 – 15 Nov 2026'."""
    locale = i18n.current_language.get()
    if period.kind == "bulan":
        return str(format_date(period.first, "LLLL yyyy", locale=locale))
    if period.kind == "triwulan":
        numeral = ("I", "II", "III", "IV")[(period.first.month - 1) // 3]
        return _("Triwulan %(q)s %(year)d") % {"q": numeral, "year": period.first.year}
    first = format_date(period.first, "d MMM yyyy", locale=locale)
    last = format_date(period.last, "d MMM yyyy", locale=locale)
    return f"{first} – {last}"


def figures_csv(
    group_header: str, rows: Sequence[dict[str, Any]], total: dict[str, Any]
) -> AsyncIterator[bytes]:
    """Rows of table_row (then the total) as CSV, for the dashboard and the performance page;
    numbers stay numbers: hours with a decimal point, percentages 0–100. The header is
    translated here, in the request's language, before the body streams."""
    header = [
        group_header,
        _("Diterima"),
        _("Ditanggapi tepat waktu"),
        _("Ditanggapi terlambat"),
        _("Tepat waktu (%)"),
        _("Median tanggapan (jam)"),
        _("P90 tanggapan (jam)"),
        _("Median sampai selesai (jam)"),
        _("P90 sampai selesai (jam)"),
        _("Terlambat saat ini"),
        _("Ditolak"),
        _("Dibuka kembali"),
        _("Rata-rata kepuasan (1–5)"),
        _("Jumlah penilaian"),
    ]

    def line(r: dict[str, Any]) -> list[Any]:
        f: stats.Figures = r["figures"]
        return [
            r["label"],
            f.received,
            f.in_time,
            f.late,
            _round(f.in_time_percent),
            _round(f.median_response),
            _round(f.p90_response),
            _round(f.median_resolution),
            _round(f.p90_resolution),
            f.overdue_now,
            f.rejected,
            f.reopened,
            _round(f.average_rating, 2),
            f.rating_count,
        ]

    async def body() -> AsyncIterator[bytes]:
        yield "\ufeff".encode()  # lets Excel read UTF-8
        yield csv_chunk([header])
        for index in range(0, len(rows), export_db.BATCH_SIZE):
            yield csv_chunk(line(r) for r in rows[index : index + export_db.BATCH_SIZE])
        yield csv_chunk([line(total)])

    return body()


def _round(value: float | None, digits: int = 1) -> float | str:
    return "" if value is None else round(value, digits)


# --- the staff dashboard ------------------------------------------------------------------


async def dashboard_data(request: Request) -> dict[str, Any]:
    """The dashboard's period, grouping and table (the page and its CSV), from the query
    string; every report counts, confidential ones included (staff only)."""
    tz = str(request.app.state.settings.timezone)
    params = {k: v.strip()[:20] for k, v in request.query_params.items()}
    today = clock.local_today(tz)
    period, period_error = stats.parse_period(params, today)
    grouping = params.get("kelompok", "kelurahan")
    if grouping not in stats.GROUPINGS:
        grouping = "kelurahan"
    db = request.state.db
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


# --- the public performance page ----------------------------------------------------------


async def public_figures_key(request: Request, period: stats.Period) -> tuple[Any, ...]:
    """What the public figures of a period are computed from: its reports (their count and
    versions), the reference data's counter and the CACHE_SECONDS slice of time."""
    db = request.state.db
    start, end = period.bounds(request.app.state.settings.timezone)
    count, versions = await page_versions.period_version(db, start, end)
    reference = await page_versions.reference_version(db)
    moment = int(time.time() // CACHE_SECONDS)
    return (period.first, period.last, count, versions, reference, moment)


async def public_figures(
    request: Request, period: stats.Period, key: tuple[Any, ...] | None = None
) -> stats.Accumulator:
    """The public figures of a period (confidential reports left out), computed once per
    `public_figures_key` per app: anyone may ask for them."""
    key = key or await public_figures_key(request, period)
    cache: dict[Any, stats.Accumulator] = request.app.state.performance_cache
    hit = cache.get(key)
    if hit is not None:
        return hit
    settings = request.app.state.settings
    figures = await figures_for(
        request.state.db, period, PUBLIC_GROUPINGS, tz=settings.timezone, public=True
    )
    cache[key] = figures
    while len(cache) > CACHED_PERIODS:
        del cache[next(iter(cache))]
    return figures


def public_period(request: Request) -> tuple[str, stats.Period]:
    """The last full month, or the last full quarter when `periode=triwulan`."""
    today = clock.local_today(request.app.state.settings.timezone)
    kind = "triwulan" if request.query_params.get("periode") == "triwulan" else "bulan"
    period = stats.last_full_quarter(today) if kind == "triwulan" else stats.last_full_month(today)
    return kind, period
