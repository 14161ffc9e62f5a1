"""Issue 13's table, every ratio from one run on this machine:

1. `/t/{code}` requests/s with 50 connections (wrk), Aduan vs a bare Starlette page
   (bench/bare_app.py) on the same uvicorn, for one and two workers;
2. submissions/s through `/api/v1/reports` with a phone-shrunk 1600×1200 photo (~400 KB),
   8 clients, vs bare Pillow (decode, re-encode, thumbnail) of the same photos on 2 threads;
3. peak RSS (VmHWM) of one worker while 16 clients upload 12 MP photos, and while 200
   upload at once (what they were answered: 201, or 503 with Retry-After).

Servers run as `aduan serve` would run them, on a fresh data directory with the demo data
(`aduan init --demo`). Each client sends its own X-Forwarded-For (the server trusts
127.0.0.1 as a proxy), so the per-client limit on new reports does not apply.

    .venv/bin/python bench/speed.py                  # everything, 1 and 2 workers
    .venv/bin/python bench/speed.py --only pages --workers 1 --seconds 5
    .venv/bin/python bench/speed.py --only photos --code /tmp/before --code .  # both, one run
    .venv/bin/python bench/speed.py --only pages --before /tmp/pages-before   # both, one run
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from io import BytesIO
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench._client import Connection, multipart, post_head
from bench._photos import photo_like, variants

ROOT = Path(__file__).resolve().parent.parent
ACCEPT = "gzip, deflate, br"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def env_for(data_dir: Path, port: int) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(CODE),
        "ADUAN_DATA_DIR": str(data_dir),
        "ADUAN_SECRET_KEY": "b" * 40,
        "ADUAN_BASE_URL": f"http://127.0.0.1:{port}",
        "ADUAN_ALLOWED_HOSTS": "127.0.0.1",
        "ADUAN_TRUSTED_PROXIES": "127.0.0.1",
        "ADUAN_NO_TASKS": "1",
    }


@contextlib.contextmanager
def running(cmd: list[str], env: dict[str, str], port: int) -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(
        cmd,
        env=env,
        cwd=env.get("PYTHONPATH", ROOT),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"server did not start: {cmd}") from None
                time.sleep(0.2)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# The Aduan to measure: this checkout, or another (--code) to measure the code before a change.
CODE = ROOT


def aduan_cmd(*args: str) -> list[str]:
    return [sys.executable, "-c", "import sys; from web.cli import main; sys.exit(main())", *args]


def aduan(
    data_dir: Path, port: int, workers: int
) -> contextlib.AbstractContextManager[subprocess.Popen[bytes]]:
    cmd = aduan_cmd("serve", "--port", str(port), "--workers", str(workers))
    return running(cmd, env_for(data_dir, port), port)


def bare(port: int, workers: int) -> contextlib.AbstractContextManager[subprocess.Popen[bytes]]:
    cmd = [sys.executable, "-m", "bench.bare_app", "--port", str(port), "--workers", str(workers)]
    return running(cmd, {**os.environ, "PYTHONPATH": str(ROOT)}, port)


def init_data(tmp: Path) -> Path:
    data_dir = tmp / "data"
    subprocess.run(
        aduan_cmd("init", "--demo"),
        env=env_for(data_dir, 8000),
        cwd=CODE,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return data_dir


def db_row(data_dir: Path, sql: str) -> sqlite3.Row:
    conn = sqlite3.connect(data_dir / "aduan.sqlite3")
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute(sql).fetchone()
    finally:
        conn.close()


def wrk(url: str, seconds: float, connections: int = 50) -> float:
    out = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{round(seconds)}s",
            "-H",
            f"Accept-Encoding: {ACCEPT}",
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    if "Non-2xx" in out:
        raise RuntimeError(f"errors from {url}:\n{out}")
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    assert match, out
    return float(match.group(1))


# --- 1. pages ---------------------------------------------------------------------------


def bench_pages(data_dir: Path, workers: int, seconds: float, rounds: int) -> dict[str, float]:
    # the public report with the longest timeline: what a shared link most often shows
    code = db_row(
        data_dir,
        "SELECT r.code FROM reports r JOIN report_events e ON e.report_id = r.id"
        " WHERE r.confidential = 0 GROUP BY r.id ORDER BY count(*) DESC, r.id LIMIT 1",
    )["code"]
    ours: list[float] = []
    ceiling: list[float] = []
    for _round in range(rounds):
        port = free_port()
        with bare(port, workers):
            wrk(f"http://127.0.0.1:{port}/", 2)
            ceiling.append(wrk(f"http://127.0.0.1:{port}/", seconds))
        port = free_port()
        with aduan(data_dir, port, workers):
            wrk(f"http://127.0.0.1:{port}/t/{code}", 2)
            ours.append(wrk(f"http://127.0.0.1:{port}/t/{code}", seconds))
    return {"aduan": statistics.median(ours), "ceiling": statistics.median(ceiling)}


# --- 2. submissions ---------------------------------------------------------------------


def bare_pillow(photos: list[bytes], seconds: float, threads: int = 2) -> float:
    """Decode, re-encode and thumbnail, as plainly as Pillow does it, on `threads` threads."""

    def one(data: bytes) -> None:
        im = Image.open(BytesIO(data))
        im.load()
        im.save(BytesIO(), "JPEG")
        im.thumbnail((400, 400))
        im.save(BytesIO(), "JPEG")

    done = 0
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def worker(offset: int) -> None:
        nonlocal done
        index = offset
        while time.monotonic() < stop:
            one(photos[index % len(photos)])
            index += threads
            with lock:
                done += 1

    started = time.monotonic()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(worker, range(threads)))
    return done / (time.monotonic() - started)


class Submitter:
    """Clients that file reports with one photo each through the outbox's endpoint."""

    def __init__(self, port: int, photos: list[bytes], category: str, area: str) -> None:
        self.port = port
        self.photos = photos
        self.next_photo = 0
        self.sent = 0
        self.statuses: Counter[int] = Counter()
        self.retry_after: set[str] = set()
        self.category = category
        self.area = area

    @classmethod
    def on(cls, data_dir: Path, port: int, photos: list[bytes]) -> Submitter:
        """Filing into the SQLite deployment of `data_dir` (a public category, a kelurahan)."""
        category = db_row(
            data_dir, "SELECT code FROM categories WHERE active = 1 AND confidential = 0"
        )["code"]
        area = db_row(data_dir, "SELECT code FROM areas WHERE level = 4 ORDER BY code")["code"]
        return cls(port, photos, category, area)

    def request(self) -> tuple[bytes, bytes]:
        photo = self.photos[self.next_photo % len(self.photos)]
        self.next_photo += 1
        self.sent += 1
        n = self.sent
        content_type, body = multipart(
            {
                "category": self.category,
                "area": self.area,
                "description": "Jalan berlubang besar di depan sekolah, motor sering jatuh.",
            },
            [("photos", f"foto-{n}.jpg", photo)],
        )
        head = post_head(
            "/api/v1/reports",
            f"127.0.0.1:{self.port}",
            content_type,
            len(body),
            {
                "Idempotency-Key": f"bench-{os.getpid()}-{time.time_ns()}-{n}",
                "X-Forwarded-For": f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}",
                "X-Aduan-Device": "bench-device-secret-0123456789",
            },
        )
        return head, body

    async def client(self, stop: float, once: bool = False) -> None:
        conn = Connection("127.0.0.1", self.port)
        try:
            while time.monotonic() < stop:
                head, body = self.request()
                try:
                    reply = await conn.request(head, body)
                except (ConnectionError, asyncio.IncompleteReadError):
                    self.statuses[0] += 1
                    continue
                self.statuses[reply.status] += 1
                if reply.status == 503:
                    self.retry_after.add(reply.headers.get("retry-after", "-"))
                if once:
                    break
        finally:
            await conn.close()

    def run(self, clients: int, seconds: float, once: bool = False) -> float:
        async def main() -> float:
            stop = time.monotonic() + seconds
            started = time.monotonic()
            await asyncio.gather(*(self.client(stop, once) for _ in range(clients)))
            return time.monotonic() - started

        return asyncio.run(main())


def bench_submissions(
    data_dir: Path, workers: int, seconds: float, photos: list[bytes]
) -> dict[str, float]:
    port = free_port()
    with aduan(data_dir, port, workers):
        submitter = Submitter.on(data_dir, port, photos)
        submitter.run(8, 3)  # warm up: imports, the first decode, the page of SQLite
        submitter.statuses.clear()
        elapsed = submitter.run(8, seconds)
    created = submitter.statuses[201]
    if set(submitter.statuses) - {201}:
        print(f"    answers other than 201: {dict(submitter.statuses)}", file=sys.stderr)
    return {"aduan": created / elapsed, "photos_sent": submitter.next_photo}


# --- 3. memory --------------------------------------------------------------------------


def vm(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise KeyError(field)


def bench_memory(
    data_dir: Path, clients: int, seconds: float, photos: list[bytes], once: bool
) -> dict[str, object]:
    port = free_port()
    with aduan(data_dir, port, 1) as proc:
        submitter = Submitter.on(data_dir, port, photos)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/lapor") as reply:
            reply.read()
        before = vm(proc.pid, "VmRSS")
        elapsed = submitter.run(clients, seconds, once=once)
        peak = vm(proc.pid, "VmHWM")
    return {
        "before": before,
        "peak": peak,
        "statuses": dict(submitter.statuses),
        "retry_after": sorted(submitter.retry_after),
        "seconds": elapsed,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", choices=["pages", "photos", "memory"], action="append")
    parser.add_argument("--workers", type=int, action="append", choices=[1, 2])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--rounds", type=int, default=2, help="page runs per server, median")
    parser.add_argument(
        "--code",
        type=Path,
        action="append",
        help="measure the Aduan in this folder (e.g. a `git archive`); give it twice to "
        "measure before and after in one run",
    )
    parser.add_argument(
        "--before",
        type=Path,
        help="pages only: also measure the Aduan in this folder, in the same run, each on its "
        "own demo data, beside the same ceiling",
    )
    parser.add_argument(
        "--webp",
        action="store_true",
        help="photos: send WebP at quality 70, as Chromium phones do, instead of JPEG 80",
    )
    args = parser.parse_args()
    codes = [code.resolve() for code in args.code or [ROOT]]
    only = set(args.only or ["pages", "photos", "memory"])
    worker_counts = args.workers or [1, 2]
    rows: list[str] = []
    shared: dict[str, object] = {}
    for code in codes:
        label = f"{code.name}: " if len(codes) > 1 else ""
        rows += measure(code, label, only, worker_counts, args, shared)
    print("| measure | Aduan | ceiling | ratio |")
    print("|---|---:|---:|---:|")
    for row in rows:
        print(row)


def measure(
    code: Path,
    label: str,
    only: set[str],
    worker_counts: list[int],
    args: argparse.Namespace,
    shared: dict[str, object],
) -> list[str]:
    """The rows for one checkout; the photos and the bare Pillow ceiling are made once per
    run (`shared`), so every checkout is measured against the same."""
    global CODE
    CODE = code
    print(f"measuring {CODE}", file=sys.stderr)
    rows: list[str] = []
    with tempfile.TemporaryDirectory() as tmp_name:
        data_dir = init_data(Path(tmp_name))
        if "pages" in only:
            after = CODE
            checkouts = [("", after, data_dir)]
            if args.before:
                CODE = args.before.resolve()
                before_dir = Path(tmp_name) / "before"
                before_dir.mkdir()
                checkouts.insert(0, ("before: ", CODE, init_data(before_dir)))
                checkouts[1] = ("after: ", after, data_dir)
            for workers in worker_counts:
                for which, code_dir, data in checkouts:
                    CODE = code_dir
                    print(f"pages, {label}{which}{workers} worker(s)…", file=sys.stderr)
                    r = bench_pages(data, workers, args.seconds, args.rounds)
                    rows.append(
                        f"| {label}{which}`/t/{{code}}` req/s, {workers} worker(s), 50 "
                        f"connections vs bare Starlette | {r['aduan']:,.0f} | "
                        f"{r['ceiling']:,.0f} | {r['aduan'] / r['ceiling']:.2f} |"
                    )
            CODE = after
        if "photos" in only:
            if "photos" not in shared:
                print("making photos…", file=sys.stderr)
                base = photo_like((1600, 1200))
                # JPEG 80 as the issue measured, or WebP 70 as Chromium phones send it
                # (js/photo-shrink.js), which the server re-encodes
                encode, quality = ("WEBP", 70) if args.webp else ("JPEG", 80)
                # enough that no photo is sent twice even at 100/s (a photo seen before
                # could cost less)
                photos = variants(base, int(args.seconds * 100) + 400, quality, encode=encode)
                shared["size"] = len(photos[0])
                shared["photos"] = photos
                shared["ceiling"] = bare_pillow(photos, args.seconds)
            photos = shared["photos"]  # type: ignore[assignment]
            ceiling = float(shared["ceiling"])  # type: ignore[arg-type]
            size = int(shared["size"])  # type: ignore[call-overload]
            for workers in worker_counts:
                print(f"submissions, {workers} worker(s)…", file=sys.stderr)
                r = bench_submissions(data_dir, workers, args.seconds, photos)
                reused = " (photos reused)" if r["photos_sent"] > len(photos) else ""
                rows.append(
                    f"| {label}submissions/s, {workers} worker(s), 8 clients, 1600×1200 "
                    f"{'WebP' if args.webp else 'photo'} "
                    f"of {size / 1024:.0f} KB, vs bare Pillow on 2 threads{reused} | "
                    f"{r['aduan']:.1f} | {ceiling:.1f} | {r['aduan'] / ceiling:.2f} |"
                )
        if "memory" in only:
            if "big" not in shared:
                print("making 12 MP photos…", file=sys.stderr)
                camera = photo_like((4000, 3000), seed=7)
                shared["big"] = variants(camera, 8, 90, seed=3)
            big: list[bytes] = shared["big"]  # type: ignore[assignment]
            print("memory, 16 clients…", file=sys.stderr)
            m16 = bench_memory(data_dir, 16, args.seconds * 2, big, once=False)
            print("memory, 200 uploaders…", file=sys.stderr)
            m200 = bench_memory(data_dir, 200, 120, big, once=True)
            size_mb = sum(map(len, big)) / len(big) / 1024 / 1024
            runs = ((f"16 clients ({args.seconds * 2:.0f} s)", m16), ("200 at once", m200))
            for what, m in runs:
                rows.append(
                    f"| {label}peak RSS of one worker, {what}, 12 MP photos of {size_mb:.1f} MB"
                    f" | {m['peak']:.0f} MB (idle {m['before']:.0f} MB) | — | answers "
                    f"{m['statuses']}, Retry-After {m['retry_after'] or '-'}, "
                    f"{m['seconds']:.0f} s |"
                )
    return rows


if __name__ == "__main__":
    main()
