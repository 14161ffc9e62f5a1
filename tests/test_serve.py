"""`aduan serve` as an operator runs it, in a real child process: it refuses to start in
one plain line when the data folder or database is unusable, closes connections that send
nothing, cuts stalled uploads, stops in bounded time, survives running out of file
descriptors without flooding its log, and every worker writes the request log."""

from __future__ import annotations

import http.client
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import SECRET
from tests.mounts import fill, remount_read_only, tmpfs
from tests.seaweedfs import SeaweedFS


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_env(data_dir: Path, port: int = 8000) -> dict[str, str]:
    env = {
        **os.environ,
        "ADUAN_DATA_DIR": str(data_dir),
        "ADUAN_SECRET_KEY": SECRET,
        "ADUAN_BASE_URL": f"http://127.0.0.1:{port}",
        "ADUAN_NO_TASKS": "1",
    }
    for name in ("ADUAN_DEBUG", "ADUAN_BODY_TIMEOUT"):
        env.pop(name, None)
    return env


def serve_and_wait(
    data_dir: Path, *flags: str, timeout: float = 20, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a serve that is expected to refuse to start; fails the test if it hangs."""
    return subprocess.run(
        [sys.executable, "-m", "web.cli", "serve", "--port", str(free_port()), *flags],
        env={**server_env(data_dir), **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def get(self, path: str, timeout: float = 5) -> int:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=timeout) as r:
            return int(r.status)

    def connect(self) -> socket.socket:
        return socket.create_connection(("127.0.0.1", self.port), timeout=10)

    def stop(self, timeout: float = 20) -> float:
        """SIGTERM, as systemd stops it; returns how long the process took to exit."""
        started = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=timeout)
        return time.monotonic() - started


@contextmanager
def running_server(
    data_dir: Path,
    log_path: Path,
    *flags: str,
    preexec_fn: Callable[[], None] | None = None,
    env: dict[str, str | None] | None = None,
) -> Iterator[Server]:
    """`aduan serve` on a free port, waited for until /healthz answers; `env` is added to
    (or, with None values, removed from) the operator's environment of `server_env`."""
    port = free_port()
    environment = server_env(data_dir, port)
    for name, value in (env or {}).items():
        if value is None:
            environment.pop(name, None)
        else:
            environment[name] = value
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "web.cli", "serve", "--port", str(port), *flags],
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=preexec_fn,
        )
    server = Server(process, port, log_path)
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, server.log
            with suppress(OSError):
                if server.get("/healthz", timeout=2) == 200:
                    break
            assert time.monotonic() < deadline, server.log
            time.sleep(0.1)
        yield server
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


@pytest.fixture
def data_dir(tmp_path: Path, template_db: Path) -> Path:
    path = tmp_path / "data"
    path.mkdir()
    shutil.copy(template_db, path / "aduan.sqlite3")
    return path


def closed_within(sock: socket.socket, seconds: float) -> float:
    """Reads until the server closes the connection; returns how long that took."""
    started = time.monotonic()
    sock.settimeout(seconds)
    while sock.recv(65536):
        pass
    return time.monotonic() - started


# --- refusing to start --------------------------------------------------------------------


def assert_one_plain_line(result: subprocess.CompletedProcess[str], *words: str) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr and "startup failed" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("aduan: error:")]
    assert len(errors) == 1, result.stderr
    for word in words:
        assert word in errors[0], errors[0]


def test_a_corrupt_database_stops_serve_at_once_with_one_plain_line(data_dir: Path) -> None:
    (data_dir / "aduan.sqlite3").write_bytes(os.urandom(8192))
    result = serve_and_wait(data_dir)
    assert_one_plain_line(result, str(data_dir / "aduan.sqlite3"), "not a database")


def test_a_read_only_data_folder_stops_serve_at_once(tmp_path: Path, template_db: Path) -> None:
    with tmpfs(tmp_path / "ro") as folder:
        shutil.copy(template_db, folder / "aduan.sqlite3")
        remount_read_only(folder)
        result = serve_and_wait(folder)
    assert_one_plain_line(result, str(folder), "Read-only file system")


def test_a_full_disk_stops_serve_at_once(tmp_path: Path, template_db: Path) -> None:
    with tmpfs(tmp_path / "full", size="1m") as folder:
        shutil.copy(template_db, folder / "aduan.sqlite3")
        fill(folder)
        result = serve_and_wait(folder)
    assert_one_plain_line(result, str(folder), "No space left on device")


def test_a_photo_bucket_that_cannot_be_reached_stops_serve_at_once(
    data_dir: Path, seaweedfs: SeaweedFS
) -> None:
    store = {**seaweedfs.env(), "ADUAN_PHOTO_STORE": "s3://no-such-bucket/kota"}
    result = serve_and_wait(data_dir, env=store)
    assert_one_plain_line(result, "cannot reach the photo store s3://no-such-bucket/kota")
    wrong_key = {**seaweedfs.env(), "AWS_SECRET_ACCESS_KEY": "x" * 40}
    result = serve_and_wait(data_dir, env={**wrong_key, "ADUAN_PHOTO_STORE": "s3://aduan-photos"})
    assert_one_plain_line(result, "cannot reach the photo store s3://aduan-photos")
    assert "x" * 40 not in result.stderr


def test_a_new_empty_bucket_prefix_is_a_fine_place_to_start(
    data_dir: Path, tmp_path: Path, seaweedfs: SeaweedFS
) -> None:
    where = seaweedfs.location()  # a prefix nothing was ever written to
    env: dict[str, str | None] = {**seaweedfs.env(), "ADUAN_PHOTO_STORE": where.url}
    with running_server(data_dir, tmp_path / "serve.log", env=env) as server:
        assert server.get("/healthz") == 200


def test_a_server_whose_database_fails_at_startup_exits(data_dir: Path) -> None:
    """The same failure reached inside the app's startup (as a worker restarting after the
    file broke would): uvicorn gives up, and no database thread keeps the process alive."""
    (data_dir / "aduan.sqlite3").write_bytes(os.urandom(8192))
    code = (
        "import uvicorn; from web.app import create_app; "
        "uvicorn.run(create_app(), port=0, log_level='critical')"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        env=server_env(data_dir),
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
    )
    assert result.returncode == 3


# --- timeouts -----------------------------------------------------------------------------


def test_connections_that_send_nothing_or_stall_in_headers_are_closed(
    data_dir: Path, tmp_path: Path
) -> None:
    with running_server(
        data_dir, tmp_path / "log", "--timeout-header", "1", "--timeout-keep-alive", "1"
    ) as server:
        with server.connect() as silent, server.connect() as partial, server.connect() as idle:
            partial.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            idle.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            assert closed_within(silent, 8) < 4
            assert closed_within(partial, 8) < 4
            assert closed_within(idle, 8) < 4  # after its answer, the keep-alive timeout
        assert server.get("/healthz") == 200


def test_a_connection_that_keeps_asking_stays_open_and_closes_once_quiet(
    data_dir: Path, tmp_path: Path
) -> None:
    """Each answer moves the header deadline: a connection asking every 0.6 s for 3 s is
    never cut at the first 1 s deadline, and is closed about 1 s after its last answer (the
    keep-alive timeout, 30 s here, is not what closes it)."""
    with running_server(
        data_dir, tmp_path / "log", "--timeout-header", "1", "--timeout-keep-alive", "30"
    ) as server:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        conn.connect()
        first_socket = conn.sock
        for _ in range(6):
            conn.request("GET", "/healthz")
            response = conn.getresponse()
            assert response.status == 200
            response.read()
            time.sleep(0.6)
        assert conn.sock is first_socket  # the same connection all along
        assert closed_within(conn.sock, 8) < 2.5
        conn.close()


def stalled_upload(server: Server) -> socket.socket:
    sock = server.connect()
    sock.sendall(
        b"POST /api/v1/reports HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: multipart/form-data; boundary=XyZ\r\n"
        b"Content-Length: 100000\r\n\r\n"
        b'--XyZ\r\nContent-Disposition: form-data; name="description"\r\n\r\nSaluran'
    )
    return sock


def test_a_stalled_upload_is_answered_408_and_closed(data_dir: Path, tmp_path: Path) -> None:
    with running_server(data_dir, tmp_path / "log", "--timeout-body", "1") as server:
        with stalled_upload(server) as sock:
            sock.settimeout(8)
            answer = sock.recv(65536)
            assert answer.startswith(b"HTTP/1.1 408 ")
            assert closed_within(sock, 8) < 4
        assert server.get("/healthz") == 200
    assert "route=api_submit_report status=408" in server.log


def test_stopping_the_server_does_not_wait_for_a_stalled_upload(
    data_dir: Path, tmp_path: Path
) -> None:
    with running_server(data_dir, tmp_path / "log", "--timeout-graceful-shutdown", "1") as server:
        sock = stalled_upload(server)
        time.sleep(0.3)
        took = server.stop()
        sock.close()
    assert took < 6, server.log


def test_running_out_of_file_descriptors_logs_once_and_recovers(
    data_dir: Path, tmp_path: Path
) -> None:
    def low_limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))

    with running_server(
        data_dir, tmp_path / "log", "--timeout-header", "30", preexec_fn=low_limit
    ) as server:
        silent = [server.connect() for _ in range(120)]
        time.sleep(4)
        for sock in silent:
            sock.close()
        deadline = time.monotonic() + 10
        while True:
            with suppress(OSError):
                if server.get("/healthz", timeout=2) == 200:
                    break
            assert time.monotonic() < deadline, "the server did not serve again"
            time.sleep(0.2)
        server.stop()
    log = server.log
    assert 1 <= log.count("cannot accept new connections: Too many open files") <= 2, log[-3000:]
    assert "socket.accept() out of system resource" not in log
    assert "Traceback" not in log
    assert len(log.splitlines()) < 100


# --- logging ------------------------------------------------------------------------------


def test_a_client_leaving_mid_upload_is_logged_as_499_without_a_traceback(
    data_dir: Path, tmp_path: Path
) -> None:
    with running_server(data_dir, tmp_path / "log") as server:
        sock = stalled_upload(server)
        time.sleep(0.3)
        sock.close()
        time.sleep(0.5)
        server.stop()
    log = server.log
    assert "route=api_submit_report status=499" in log and "outcome=client_closed" in log
    assert "Traceback" not in log and "status=500" not in log


def test_every_worker_writes_the_request_log(data_dir: Path, tmp_path: Path) -> None:
    with running_server(data_dir, tmp_path / "log", "--workers", "2") as server:
        for _ in range(6):
            assert server.get("/healthz") == 200
        server.stop()
    lines = [line for line in server.log.splitlines() if " aduan.request " in line]
    assert len([line for line in lines if "route=healthz status=200" in line]) >= 6


def test_a_limit_that_is_not_a_positive_whole_number_is_refused(data_dir: Path) -> None:
    result = serve_and_wait(data_dir, "--timeout-body", "0")
    assert result.returncode == 2 and "whole number from 1" in result.stderr


def test_connections_of_a_worker_socket_get_tcp_nodelay() -> None:
    """With --workers > 1 uvicorn listens on a socket it made itself (proto 0), on whose
    connections asyncio does not set TCP_NODELAY; without it each response written in two
    parts waits for the client's delayed ACK (~40 ms)."""
    import threading

    import uvicorn
    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    from web import server as aduan_server

    async def hello(request: object) -> PlainTextResponse:
        return PlainTextResponse("ok")

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)  # as uvicorn's bind_socket
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    assert listener.proto == 0
    config = uvicorn.Config(
        Starlette(routes=[Route("/", hello)]),
        log_level="warning",
        http=aduan_server.protocol(header_timeout=5),
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    try:
        while not server.started:
            time.sleep(0.02)
        with socket.create_connection(listener.getsockname(), timeout=5) as client:
            client.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            assert client.recv(1024).startswith(b"HTTP/1.1 200")
            (connection,) = server.server_state.connections
            sock = connection.transport.get_extra_info("socket")  # type: ignore[attr-defined]
            assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_one_connection_carries_pages_heads_and_not_modified_answers_whole(
    data_dir: Path, tmp_path: Path
) -> None:
    """Heads held back to leave with their bodies (web/server.py) still go out when no
    body follows: HEAD and 304 answers on a kept-alive connection, then a page again."""
    with running_server(data_dir, tmp_path / "log") as server:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
        try:
            conn.request("GET", "/")
            first = conn.getresponse()
            body = first.read()
            assert first.status == 200 and b"</html>" in body
            assert first.getheader("server") is None  # the software is nobody's business
            etag = first.getheader("etag")
            assert etag
            conn.request("HEAD", "/")
            head = conn.getresponse()
            assert head.status == 200 and head.read() == b""
            conn.request("GET", "/", headers={"If-None-Match": etag})
            unchanged = conn.getresponse()
            assert unchanged.status == 304 and unchanged.read() == b""
            conn.request("GET", "/healthz")
            assert conn.getresponse().status == 200
        finally:
            conn.close()
