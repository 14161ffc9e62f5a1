"""A real uvicorn server on a temporary data directory, for benchmarks."""

from __future__ import annotations

import os
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvicorn

from web.app import create_app
from web.cli import main as cli
from web.settings import Settings


@contextmanager
def live_server(
    demo: bool = False, wrap: Callable[[Any], Any] | None = None
) -> Iterator[tuple[str, Settings]]:
    """A server on a fresh data directory; `wrap` may put an ASGI wrapper (a byte counter)
    around the app."""
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "data"
        os.environ["ADUAN_DATA_DIR"] = str(data_dir)
        cli(["init", *(["--demo"] if demo else [])])
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        settings = Settings(
            data_dir=data_dir,
            secret_key="b" * 40,
            base_url=f"http://127.0.0.1:{port}",
            allowed_hosts=("127.0.0.1",),
            run_tasks=False,
        )
        app = create_app(settings)
        server = uvicorn.Server(
            uvicorn.Config(wrap(app) if wrap else app, log_level="warning", access_log=False)
        )
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.02)
        try:
            yield f"http://127.0.0.1:{port}", settings
        finally:
            server.should_exit = True
            thread.join(timeout=10)
