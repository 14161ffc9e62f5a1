"""The staff inbox (`/staf`): the reports in the account's scope, ordered by deadline and
filtered by status, category, kelurahan, channel, lateness or text; and the list alone at
its own URL (`/staf/inbox-rows`) for htmx swaps and the 60-second poll. The scope is in the
SQL (db/staff.py): a report outside it never appears.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from db import reports as report_db
from db import staff as staff_db
from web import auth, lifecycle, parse, urls
from web.clock import to_text, utc_now
from web.inbox_filter import inbox_filter
from web.lifecycle.alerts import ALERT_ROLES
from web.templating import bad_cursor_page, render

PAGE_SIZE = 25


def _db(request: Request) -> Any:
    return request.state.db


async def _inbox_context(
    request: Request, account: auth.Account, after: staff_db.Cursor | None
) -> dict[str, Any]:
    db = _db(request)
    f, params = inbox_filter(request.query_params)
    now = to_text(utc_now())
    rows, cursor = await staff_db.inbox_page(db, account, f, now=now, after=after, limit=PAGE_SIZE)
    counts, overdue = await staff_db.status_counts(db, account, f, now=now)
    query = urlencode(params)
    after_text = request.query_params.get("after", "") if after else ""
    poll_query = urlencode({**params, "after": after_text}) if after_text else query
    next_query = urlencode({**params, "after": cursor.encode()}) if cursor else ""
    count_links = {
        status: urlencode({**{k: v for k, v in params.items() if k != "status"}, "status": status})
        for status in lifecycle.STATUS_LABELS
    }
    return {
        "rows": rows,
        "now": now,
        "params": params,
        "query": query,
        "poll_query": poll_query,
        "next_query": next_query,
        "paged": after is not None,
        "counts": counts,
        "count_links": count_links,
        "overdue_count": overdue,
        "total_open": sum(counts.get(s, 0) for s in lifecycle.OPEN_STATUSES),
        "status_labels": lifecycle.STATUS_LABELS,
        "channel_labels": lifecycle.CHANNEL_LABELS,
    }


async def inbox(request: Request) -> Response:
    account = auth.require_account(request)
    try:
        after = parse.cursor(request.query_params.get("after"), name="after")
    except parse.ParamError:
        return bad_cursor_page(request, urls.path_for(request, "staff_inbox"))
    context = await _inbox_context(request, account, after)
    db = _db(request)
    context.update(
        categories=await report_db.categories(db),
        kelurahan=await staff_db.kelurahan_in_scope(db, account),
        # Officers and supervisors may turn alerts on in this browser (web/lifecycle/alerts.py).
        offer_alerts=account.role in ALERT_ROLES,
    )
    return render(request, "staf/inbox.html", context)


async def inbox_rows(request: Request) -> Response:
    """The list alone, at its own URL, for htmx swaps and the 60-second poll."""
    account = auth.require_account(request)
    try:
        after = parse.cursor(request.query_params.get("after"), name="after")
    except parse.ParamError:
        return bad_cursor_page(request, urls.path_for(request, "staff_inbox"))
    context = await _inbox_context(request, account, after)
    headers = {}
    if request.query_params.get("push") == "1":
        # The filter form asks for the list; the address bar should show the page.
        page_query = urlencode({k: v for k, v in request.query_params.items() if k != "push" and v})
        headers["HX-Push-Url"] = urls.path_for(request, "staff_inbox") + (
            f"?{page_query}" if page_query else ""
        )
    return render(request, "staf/_inbox_rows.html", context, headers=headers)


routes = [
    Route("/staf", inbox, name="staff_inbox"),
    Route("/staf/inbox-rows", inbox_rows, name="staff_inbox_rows"),
]
