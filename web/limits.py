"""Per-client limits on filing reports, and on the photos that refused forms leave behind.

Counted in the database (db/ratelimit.py, db/held_photos.py), so every server process
agrees. A client is its address as web/client.py resolves it (behind a proxy, the
resident's, not the proxy's). Staff intake is authenticated and never limited here.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import timedelta

from starlette.requests import Request

from db import held_photos as held_db
from db import ratelimit
from web.client import client_bucket
from web.clock import to_text, utc_now

# New reports per client. A resident files one or two; a volunteer filing for neighbours
# needs a few minutes per form, so well under 30 an hour; a phone coming back into signal
# sends its whole queue back to back, and whatever passes the first 6 in a minute waits
# for Retry-After in the queue (nothing is lost). Flooding the inbox (40 reports in 0.2 s
# were accepted before) is cut to 6 a minute and 30 an hour. Addresses shared by many
# people (mobile carriers' NAT, an office) rarely have 30 residents filing in one hour;
# desks that file for many residents use staff intake, which is not limited.
REPORT_LIMITS = (ratelimit.Limit(timedelta(minutes=1), 6), ratelimit.Limit(timedelta(hours=1), 30))

# Photos kept from failed attempts per client and not used by any report: three forms'
# worth, so two residents behind one address can each fix a form without choosing photos
# again; beyond that the oldest are deleted at once instead of waiting a day for the sweep.
HELD_PHOTOS_PER_CLIENT = 9
HELD_PHOTO_MEMORY = timedelta(hours=24)


async def take_report_slot(
    request: Request, *, bucket: str | None = None, idempotency_key: str | None = None
) -> int:
    """Count one report attempt for this client (or `bucket`); returns 0 when it may go on,
    else the seconds to wait, for Retry-After. Call it before any photo is read. Tries with
    one idempotency key count once."""
    now = utc_now()
    ref = hashlib.sha256(idempotency_key.encode()).hexdigest()[:32] if idempotency_key else None
    free_at = await request.state.db.transact(
        ratelimit.take_slot, bucket or client_bucket(request, "report"), REPORT_LIMITS, now, ref
    )
    if free_at is None:
        return 0
    return ratelimit.retry_after(free_at, now)


async def hold_photos(request: Request, shas: Sequence[str]) -> None:
    """Record the photos a failed attempt keeps for the next one; beyond this client's cap,
    its oldest held photos that no report uses are deleted now."""
    if not shas:
        return
    now = utc_now()
    dropped = await held_db.hold(
        request.state.db,
        client_bucket(request, "held"),
        list(shas),
        now=to_text(now),
        keep=HELD_PHOTOS_PER_CLIENT,
        forget_before=to_text(now - HELD_PHOTO_MEMORY),
    )
    for sha in dropped:
        await request.app.state.photo_store.delete(sha)
