"""Real Chromium against the real app: a uvicorn server per test on a free local port, with
its own data directory and database holding Jakarta's reference data (the parent
conftest's `database`, which is what `aduan init` loads), and one headless browser for the
session. A test runs on SQLite only unless marked `both_backends` (tests/conftest.py).

Service workers need a secure context; http://127.0.0.1 counts as one, so no TLS is needed.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.types import Message, Receive, Scope, Send

from tests.backend import Record, query
from web.app import create_app
from web.settings import Settings

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass
class Hit:
    method: str
    path: str
    status: int = 0
    bytes_in: int = 0  # request body as received (a multipart upload's size)
    bytes_out: int = 0  # status line, headers and body as sent (after gzip)


class Recorder:
    """Pure ASGI wrapper that notes every request reaching the server and what it cost."""

    def __init__(self, app: Starlette) -> None:
        self.app = app
        self.hits: list[Hit] = []
        # Paths answered with 503 for now, whoever asks (a page or the service worker,
        # whose own fetches a page's Playwright route cannot see).
        self.unavailable: set[str] = set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        hit = Hit(scope["method"], scope["path"])
        self.hits.append(hit)

        async def counting_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                hit.bytes_in += len(message.get("body", b""))
            return message

        async def counting_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                hit.status = message["status"]
                # "HTTP/1.1 200 OK\r\n" plus each "name: value\r\n" and the blank line;
                # uvicorn adds date and server headers (~60 bytes), counted here too.
                hit.bytes_out += (
                    17 + 60 + 2 + sum(len(k) + len(v) + 4 for k, v in message.get("headers", []))
                )
            elif message["type"] == "http.response.body":
                hit.bytes_out += len(message.get("body", b""))
            await send(message)

        if scope["path"] in self.unavailable:
            await counting_send({"type": "http.response.start", "status": 503, "headers": []})
            await counting_send({"type": "http.response.body", "body": b""})
            return
        await self.app(scope, counting_receive, counting_send)

    def clear(self) -> None:
        self.hits.clear()


@dataclass
class LiveServer:
    url: str
    settings: Settings
    db_path: Path
    app: Starlette
    recorder: Recorder
    _threads: list[threading.Thread] = field(default_factory=list)

    def rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[Record]:
        """Read the server's database directly, as an operator would."""
        return query(self.settings, sql, params)

    def report_count(self) -> int:
        return int(self.rows("SELECT COUNT(*) FROM reports")[0][0])


def _free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@pytest.fixture
def live_server(
    tmp_path: Path, database: str, backend: str, request: pytest.FixtureRequest
) -> Iterator[LiveServer]:
    data_dir = tmp_path / "data"
    sock = _free_socket()
    port = sock.getsockname()[1]
    settings = Settings(
        data_dir=data_dir,
        secret_key="x" * 40,
        base_url=f"http://127.0.0.1:{port}",
        allowed_hosts=("127.0.0.1", "localhost"),
        run_tasks=False,
        database_url=database,
        # As in tests/conftest.py: on PostgreSQL, photos in the session's SeaweedFS bucket.
        photo_store=(
            request.getfixturevalue("seaweedfs").location() if backend == "postgresql" else None
        ),
    )
    app = create_app(settings)
    recorder = Recorder(app)
    config = uvicorn.Config(
        recorder, log_level="warning", access_log=False, lifespan="on", timeout_graceful_shutdown=2
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield LiveServer(f"http://127.0.0.1:{port}", settings, settings.db_path, app, recorder)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package")
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium); browser tests skipped")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    """A fresh profile: no service worker, caches or IndexedDB from another test."""
    ctx = browser.new_context(service_workers="allow", locale="id-ID")
    ctx.set_default_timeout(15_000)
    try:
        yield ctx
    finally:
        ctx.close()
