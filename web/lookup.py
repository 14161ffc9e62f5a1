"""Finding a report by the tracking code a resident typed, for every public page of a
report (tracking, private page, receipt). Unknown codes are counted per client in
rate_events (db/ratelimit.py), so guessing codes is slowed down while codes that exist
always answer.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request

from db import ratelimit
from db import reports as q
from web import codes, errors
from web.client import client_bucket
from web.clock import utc_now
from web.i18n import gettext as _

# Unknown tracking codes a client may try in LOOKUP_WINDOW before being slowed down.
LOOKUP_LIMIT = 20
LOOKUP_WINDOW = timedelta(minutes=10)


async def load_public(request: Request, typed: str) -> Any:
    """The report for a typed code. Codes that exist always answer, whoever asks and however
    many mistakes they made before; only unknown codes are counted per client, and a client
    past the limit is refused further unknown ones (guessing codes, or a broken script)."""
    db = request.state.db
    code = codes.normalise(typed)
    report = await q.report_with_names(db, code) if code else None
    if report is not None:
        request.state.report_id = report["id"]
        return report
    bucket = client_bucket(request, "lookup")
    now = utc_now()
    if await ratelimit.count(db, bucket, LOOKUP_WINDOW, now) >= LOOKUP_LIMIT:
        raise HTTPException(
            429,
            _("Terlalu banyak kode yang tidak dikenal. Tunggu 10 menit lalu coba lagi."),
            headers={"Retry-After": str(int(LOOKUP_WINDOW.total_seconds()))},
        )
    try:
        await db.transact(ratelimit.record, [bucket], now, keep=LOOKUP_WINDOW)
    except Exception as exc:
        # A full disk must not turn "not found" into an error; the count resumes later.
        if not errors.is_storage_error(exc):
            raise
        errors.log_unavailable("unknown-code counter not written", exc)
    raise HTTPException(404)
