"""Who is supporting ("Dukung"): a phone, known only by a random id it keeps in a cookie.

The cookie works the same with and without JavaScript (the plain form and the JSON call
both carry it), holds nothing about the person, and the database keeps only its sha256,
so one phone counts once per report however often it reloads or replays the tap.
Clearing the browser's cookies makes a new supporter; the per-client limit
(web/routes/supports.py) keeps that from inflating a count quickly.
"""

from __future__ import annotations

import hashlib
import secrets

from starlette.requests import Request
from starlette.responses import Response

COOKIE_NAME = "aduan_dukung"
# Two years: a phone that supported a report keeps seeing it in "Laporan saya".
COOKIE_MAX_AGE = 2 * 365 * 24 * 3600


def _valid(raw: str) -> bool:
    return len(raw) == 64 and all(ch in "0123456789abcdef" for ch in raw)


def supporter_of(request: Request) -> str | None:
    """The hash of this phone's supporter id, or None when it has none yet."""
    raw = request.cookies.get(COOKIE_NAME, "")
    return hashlib.sha256(raw.encode()).hexdigest() if _valid(raw) else None


def ensure_supporter(request: Request) -> tuple[str, str | None]:
    """(hash, new raw id or None): the phone's supporter hash, making an id when it has none;
    pass the new id to `remember` on the response."""
    raw = request.cookies.get(COOKIE_NAME, "")
    fresh = None
    if not _valid(raw):
        raw = fresh = secrets.token_hex(32)
    return hashlib.sha256(raw.encode()).hexdigest(), fresh


def remember(request: Request, response: Response, fresh: str | None) -> None:
    """Set the new supporter id's cookie (HttpOnly, SameSite=Lax) on the response."""
    if fresh is None:
        return
    response.set_cookie(
        COOKIE_NAME,
        fresh,
        max_age=COOKIE_MAX_AGE,
        path="/",
        httponly=True,
        samesite="lax",
        secure=request.app.state.settings.https,
    )
