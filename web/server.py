"""How `aduan serve` runs uvicorn: checks before it starts, a deadline for request headers,
and one logging setup that every worker process applies.

- `preflight` fails fast, in one line, on what would otherwise fail inside the server's
  startup: a data folder that cannot be written (read-only, full) or a database that
  cannot be opened (corrupt). systemd's `Restart=` then sees a process that exited.
- `HeaderTimeoutProtocol` closes connections that do not send a complete request in time:
  uvicorn times out idle keep-alive connections, but waits forever for the first request
  on a new connection and for headers trickling in, so a few hundred silent sockets could
  use up the process's file descriptors.
- It also sets TCP_NODELAY on every connection, which asyncio leaves off for the sockets
  of uvicorn's worker processes.
- `log_config` is handed to uvicorn, which applies it in each worker (the parent's
  `logging.basicConfig` does not reach spawned workers, whose request log was lost).
  It also quietens asyncio's "out of system resource" accept errors: under EMFILE the
  event loop retries the accept thousands of times a second, each with a traceback.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import math
import os
import socket
import time
from pathlib import Path
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from uvicorn.protocols.http.h11_impl import H11Protocol, RequestResponseCycle

from db.database import Database
from web.photo_store import open_photo_store
from web.settings import Settings

PROBE_BYTES = 64 * 1024
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


class StartupError(Exception):
    """Why the server cannot start, in words an operator can act on."""


def preflight(settings: Settings) -> None:
    """Raise StartupError unless the data folders take a write, the database opens and
    the photo bucket (if photos are kept in one) answers."""
    local_photos = settings.photo_store is None
    for folder in (settings.data_dir, settings.photo_dir) if local_photos else (settings.data_dir,):
        _check_writable(folder)
    asyncio.run(_check_database(settings.database))
    if not local_photos:
        asyncio.run(_check_photo_store(settings))


async def _check_photo_store(settings: Settings) -> None:
    store = open_photo_store(settings)
    try:
        await store.check()
    except OSError as exc:
        raise StartupError(
            f"cannot reach the photo store {store.location}: {exc.strerror or exc} (check "
            "ADUAN_S3_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION "
            "and that the bucket exists)"
        ) from exc


def _check_writable(folder: Path) -> None:
    probe = folder / f".aduan-probe-{os.getpid()}.tmp"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, b"\0" * PROBE_BYTES)
            os.fsync(fd)
        finally:
            os.close(fd)
            probe.unlink(missing_ok=True)
    except OSError as exc:
        raise StartupError(f"cannot write to {folder}: {exc.strerror or exc}") from exc


async def _check_database(target: str | Path) -> None:
    db = Database(target)
    try:
        async with db:
            await db.migrate()
    except (SQLAlchemyError, OSError) as exc:
        reason = getattr(exc, "orig", None) or exc
        advice = (
            "restore it from a backup if it is damaged"
            if db.is_sqlite
            else "check ADUAN_DATABASE_URL and that the server accepts this user"
        )
        raise StartupError(
            f"cannot open the database {db.describe()}: {reason} ({advice})"
        ) from exc


class CoalescingTransport:
    """The connection's transport, holding a response's head until its body's first bytes so
    that both leave in one write: one system call and, for a page of a few KB, one TCP
    segment instead of two (the sockets have TCP_NODELAY, so each write is a packet).
    uvicorn writes the head as soon as the app starts its response; a head with no body
    after it (a 304, a HEAD request) goes out at the event loop's next turn."""

    # A body this large is written on its own rather than copied behind the head.
    JOIN_LIMIT = 64 * 1024

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._held = b""

    def write(self, data: bytes) -> None:
        if self._held:
            held, self._held = self._held, b""
            if len(data) <= self.JOIN_LIMIT:
                self._transport.write(held + data)
                return
            self._transport.write(held)
        if data.startswith(b"HTTP/"):
            self._held = data
            self._loop.call_soon(self.flush)
        elif data:
            self._transport.write(data)

    def flush(self) -> None:
        if self._held:
            held, self._held = self._held, b""
            self._transport.write(held)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def abort(self) -> None:
        self._held = b""
        self._transport.abort()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class HeaderTimeoutProtocol(H11Protocol):
    """uvicorn's h11 protocol with a deadline for each request's line and headers.

    The clock starts when the connection opens and again when a response is complete; if
    no complete request has arrived by `header_timeout` seconds, the connection is closed.
    A body is not covered here: its timeout is `BodyReadTimeoutMiddleware`'s.
    """

    def __init__(self, *args: Any, header_timeout: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.header_timeout = header_timeout
        # One timer per connection, moved lazily: each response only sets the deadline and
        # the cycle it waits after; when the timer fires early it is set again for the
        # deadline (a timer made and cancelled per request cost ~4 % of a cached page).
        self._header_timer: asyncio.TimerHandle | None = None
        self._header_deadline_at = 0.0
        self._header_cycle: RequestResponseCycle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        # asyncio sets TCP_NODELAY only on sockets whose proto is IPPROTO_TCP, and the
        # listening socket uvicorn makes for --workers > 1 has proto 0: every response sent
        # in two writes (headers, body) then waited ~40 ms for the client's delayed ACK,
        # capping two workers at ~1,100 requests/s (BENCHMARKS.md, issue 13).
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(CoalescingTransport(transport, self.loop))  # type: ignore[arg-type]
        self._wait_for_request()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_header_timer()
        super().connection_lost(exc)

    def on_response_complete(self) -> None:
        # Armed before the parent handles a pipelined request, which then counts as arrived.
        self._wait_for_request()
        super().on_response_complete()

    def _wait_for_request(self) -> None:
        self._header_cycle = self.cycle
        self._header_deadline_at = self.loop.time() + self.header_timeout
        if self._header_timer is None:
            self._header_timer = self.loop.call_at(self._header_deadline_at, self._header_due)

    def _cancel_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _header_due(self) -> None:
        self._header_timer = None
        if self.transport.is_closing():
            return
        if self.loop.time() < self._header_deadline_at:
            # A response completed since this was set: wait for its deadline instead.
            self._header_timer = self.loop.call_at(self._header_deadline_at, self._header_due)
        elif self.cycle is self._header_cycle:
            # No request has arrived since the last response (or since the connection).
            self.transport.close()


def protocol(header_timeout: float) -> Any:
    """The `http` argument for uvicorn: picklable, so `--workers` can pass it on."""
    return functools.partial(HeaderTimeoutProtocol, header_timeout=header_timeout)


class AcceptErrorFilter(logging.Filter):
    """Lets through one "cannot accept connections" line per interval, without traceback.

    Out of file descriptors, asyncio logs every failed accept() — up to the listen backlog
    per loop iteration — with its traceback: 1.3 million lines in 16 seconds were measured.
    """

    PREFIX = "socket.accept() out of system resource"
    # Each failed accept also schedules a retry; those still pending when the server stops
    # fail on the closed socket ("Invalid file descriptor: -1"), one traceback each.
    RETRY_PREFIX = "Exception in callback BaseSelectorEventLoop._start_serving"

    def __init__(self, interval: float = 30.0) -> None:
        super().__init__()
        self.interval = interval
        self.last_shown = -math.inf
        self.suppressed = 0

    def filter(self, record: logging.LogRecord) -> bool:
        message = str(record.msg)
        if message.startswith(self.RETRY_PREFIX):
            self.suppressed += 1
            return False
        if not message.startswith(self.PREFIX):
            return True
        now = time.monotonic()
        if now - self.last_shown < self.interval:
            self.suppressed += 1
            return False
        error = record.exc_info[1] if record.exc_info else None
        reason = getattr(error, "strerror", None) or "out of system resources"
        record.msg = (
            "cannot accept new connections: %s; they wait in the listen queue. Raise the "
            "open-files limit (LimitNOFILE). %d similar errors since the last such line."
        )
        record.args = (reason, self.suppressed)
        record.exc_info = None
        record.exc_text = None
        self.last_shown = now
        self.suppressed = 0
        return True


class LineFormatter(logging.Formatter):
    """LOG_FORMAT's formatter, making the time's text once per second rather than with a
    `strftime` for each line (the request log writes one per request)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._second = -1
        self._second_text = ""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        if datefmt is not None:
            return super().formatTime(record, datefmt)
        second = int(record.created)
        if second != self._second:
            self._second_text = time.strftime(self.default_time_format, self.converter(second))
            self._second = second
        return f"{self._second_text},{int(record.msecs):03d}"  # as the default: "%s,%03d"


class BatchingStreamHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """A StreamHandler that writes the lines logged during one turn of the event loop
    together, at the end of that turn: under a crowd, one system call for dozens of request
    lines instead of a write and a flush each. Lines logged outside the event loop's thread
    (or with no loop) are written at once, after any still waiting; `logging.shutdown`, at
    exit, writes what a stopping loop left."""

    def __init__(self, stream: Any = None) -> None:
        super().__init__(stream)
        self._lines: list[str] = []
        # The process's log records are made without the thread, process and caller fields
        # LOG_FORMAT does not show (the logging HOWTO's "Optimization" section): they were
        # half of what a request's log line cost. Set here, as this handler is made in each
        # worker process by the configuration uvicorn applies there.
        logging.logThreads = False
        logging.logProcesses = False
        logging.logMultiprocessing = False
        logging._srcfile = None  # type: ignore[attr-defined]

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._lines.append(self.format(record) + self.terminator)
            try:
                loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
            except RuntimeError:
                loop = None
            if loop is None:
                self.flush()
            elif len(self._lines) == 1:
                loop.call_soon(self.flush)
        except Exception:
            self.handleError(record)

    def flush(self) -> None:
        self.acquire()
        try:
            if self._lines:
                text = "".join(self._lines)
                self._lines.clear()
                self.stream.write(text)
            if self.stream and hasattr(self.stream, "flush"):
                self.stream.flush()
        except Exception:
            # A stream that cannot be written (stderr closed): drop the lines rather than
            # raise in the loop's callback, whose own error line would come back here.
            self._lines.clear()
        finally:
            self.release()


def log_config(accept_error_interval: float = 30.0) -> dict[str, Any]:
    """uvicorn's `log_config`: our request log and uvicorn's messages, one format, stderr."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "accept_errors": {
                "()": f"{__name__}.AcceptErrorFilter",
                "interval": accept_error_interval,
            }
        },
        "formatters": {"plain": {"()": f"{__name__}.LineFormatter", "format": LOG_FORMAT}},
        "handlers": {
            "stderr": {
                "class": f"{__name__}.BatchingStreamHandler",
                "formatter": "plain",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"handlers": ["stderr"], "level": "INFO"},
        "loggers": {
            "uvicorn": {"handlers": [], "level": "INFO", "propagate": True},
            "uvicorn.error": {"handlers": [], "level": "INFO", "propagate": True},
            # full URLs and client addresses: our request log replaces it (SECURITY.md)
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
            "asyncio": {"filters": ["accept_errors"]},
        },
    }
