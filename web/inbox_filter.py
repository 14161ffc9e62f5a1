"""What the staff inbox's query parameters mean (`/staf?status=…&kelurahan=…&q=…`). The
inbox page, its rows and the reports export (`/staf/ekspor/laporan.csv?…`, the same
parameters) all read them here, so the export holds exactly the reports the officer was
looking at.
"""

from __future__ import annotations

from collections.abc import Mapping

from db.staff import InboxFilter
from web import codes, lifecycle

FILTER_PARAMS = ("status", "category", "kelurahan", "channel", "terlambat", "q", "urut")
# `urut=dukungan`: most supported first; anything else (or nothing): by deadline.
SORT_BY_SUPPORT = "dukungan"


def inbox_filter(query: Mapping[str, str]) -> tuple[InboxFilter, dict[str, str]]:
    """The filter from the query string, and the params that define it (for links): no
    status means the open reports, `semua` every status."""
    params = {k: query.get(k, "").strip()[:100] for k in FILTER_PARAMS}
    params = {k: v for k, v in params.items() if v}
    status = params.get("status", "")
    if status in lifecycle.STATUS_LABELS:
        statuses: tuple[str, ...] = (status,)
    elif status == "semua":
        statuses = ()
    else:
        params.pop("status", None)  # the default: open reports
        statuses = tuple(sorted(lifecycle.OPEN_STATUSES))
    if params.get("urut") != SORT_BY_SUPPORT:
        params.pop("urut", None)
    text = params.get("q", "")
    f = InboxFilter(
        statuses=statuses,
        dated_only=bool(statuses) and set(statuses) <= lifecycle.OPEN_STATUSES,
        undated_only=bool(statuses) and set(statuses) <= lifecycle.CLOSED_STATUSES,
        category=params.get("category", ""),
        area=params.get("kelurahan", ""),
        channel=params.get("channel", ""),
        overdue=params.get("terlambat") == "1",
        code=codes.normalise(text) if text else None,
        text=text,
        by_support="urut" in params,
    )
    return f, params
