"""What a person sees when a request fails in a way no handler foresaw.

Three cases, told apart in one place (`unavailable`):

- the server cannot write — a full disk, a read-only or unwritable data folder, a database
  SQLite cannot write to, a PostgreSQL server that is down, full, shutting down or now a
  read-only standby. Nothing is wrong with the request, so it is 503 with `Retry-After`:
  the outbox on the phone keeps the report and sends it again later.
- too many photos are waiting to be processed in this server process (PhotosBusy, from
  web/photo_gate.py): 503 as well, with the Retry-After the queue suggests.
- anything else is a bug: a plain 500 page with the request id, the traceback in the log.

The request log middleware calls `error_response` while the security headers still apply,
so these pages carry the same headers as every other answer.
"""

from __future__ import annotations

import errno
import logging
import sqlite3
from typing import NamedTuple

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from web import i18n
from web import open311_format as open311_out
from web.i18n import gettext as _
from web.photo_gate import PhotosBusy
from web.templating import render

log = logging.getLogger("aduan")

# Long enough for an operator to free some space; the outbox also retries on its own timer.
RETRY_AFTER_SECONDS = 120
STORAGE_ERRNOS = frozenset(
    {
        errno.ENOSPC,
        errno.EDQUOT,
        errno.EROFS,
        errno.EACCES,
        errno.EIO,
        errno.EFBIG,
        errno.ECONNREFUSED,  # the database server is down
    }
)
# Primary result codes: "database or disk is full", "attempt to write a readonly database",
# "disk I/O error", "unable to open database file" (e.g. no room for a journal).
SQLITE_STORAGE_CODES = frozenset(
    {sqlite3.SQLITE_FULL, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN}
)
# PostgreSQL SQLSTATEs (prefixes): connection exceptions, insufficient resources (disk
# full, too many connections), operator intervention (shutdown, starting up), and a
# read-only transaction (a standby after a failover).
POSTGRES_STORAGE_STATES = ("08", "53", "57P", "25006")


def is_storage_error(exc: BaseException) -> bool:
    """Whether `exc` (or what caused it) means the server cannot write its files or database."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, sqlite3.Error):
            code = getattr(current, "sqlite_errorcode", None)
            if code is not None and code & 0xFF in SQLITE_STORAGE_CODES:
                return True
        elif isinstance(current, OSError) and current.errno in STORAGE_ERRNOS:
            return True
        elif str(getattr(current, "sqlstate", "") or "").startswith(POSTGRES_STORAGE_STATES):
            return True
        current = current.__cause__ or current.__context__
    return False


def log_unavailable(what: str, exc: BaseException) -> None:
    """One line, no traceback: the cause is the machine's, not the code's."""
    if isinstance(exc, PhotosBusy):
        log.warning("photos busy (%s): retry after %d s", what, exc.retry_after)
        return
    log.error("storage unavailable (%s): %s: %s", what, type(exc).__name__, exc)


def storage_message() -> str:
    return _(
        "Server sedang tidak bisa menyimpan laporan (penyimpanan penuh atau bermasalah). "
        "Coba lagi beberapa menit lagi."
    )


def busy_message(seconds: int) -> str:
    return _("Server sedang sibuk mengolah banyak foto. Coba kirim lagi dalam %(n)d detik.") % {
        "n": seconds
    }


def retry_headers(seconds: int = RETRY_AFTER_SECONDS) -> dict[str, str]:
    return {"Retry-After": str(seconds), "Cache-Control": "no-store"}


class Unavailable(NamedTuple):
    """A 503: what the person reads, its headers (Retry-After) and the API's code."""

    message: str
    headers: dict[str, str]
    code: str


def unavailable(exc: BaseException) -> Unavailable | None:
    """The 503 that `exc` calls for, or None when it is a bug."""
    if isinstance(exc, PhotosBusy):
        return Unavailable(busy_message(exc.retry_after), retry_headers(exc.retry_after), "busy")
    if is_storage_error(exc):
        return Unavailable(storage_message(), retry_headers(), "storage_unavailable")
    return None


async def error_response(request: Request, exc: Exception) -> Response:
    """The answer to an exception no handler caught: 503 for storage, else a plain 500."""
    state = request.scope.get("state", {})
    request_id = state.get("request_id", "-")
    # The language middleware has reset its context by the time the exception gets here.
    token = i18n.current_language.set(i18n.negotiate(state.get("language")))
    try:
        answer = unavailable(exc)
        if answer is not None:
            log_unavailable(f"request_id={request_id}", exc)
            return _unavailable(request, answer)
        log.error("unhandled error request_id=%s", request_id, exc_info=exc)
        return _server_error(request, request_id)
    finally:
        i18n.current_language.reset(token)


def _unavailable(request: Request, answer: Unavailable) -> Response:
    path = request.url.path
    message, headers = answer.message, answer.headers
    if path.startswith("/open311/"):
        fmt = "xml" if path.endswith(".xml") else "json"
        return open311_out.errors(fmt, 503, message, headers=headers)
    if path.startswith("/api/"):
        return JSONResponse(
            {"message": message, "errors": {}, "code": answer.code},
            status_code=503,
            headers=headers,
        )
    try:
        return render(
            request,
            "error.html",
            {"title": _("Layanan sedang terganggu"), "detail": message},
            status_code=503,
            headers=headers,
        )
    except Exception:
        return PlainTextResponse(message, status_code=503, headers=headers)


def _server_error(request: Request, request_id: str) -> Response:
    """A plain page with the request id; the traceback goes to the log, never to the user."""
    try:
        return render(
            request,
            "error.html",
            {
                "title": _("Terjadi kesalahan di server"),
                "detail": _(
                    "Apa yang sudah Anda isi tidak hilang: kembali lalu coba lagi. "
                    "Kode kejadian: %(id)s"
                )
                % {"id": request_id},
            },
            status_code=500,
        )
    except Exception:
        return PlainTextResponse(f"Server error ({request_id})", status_code=500)
