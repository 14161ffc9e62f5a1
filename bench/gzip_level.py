"""The gzip level for pages compressed per request (web/app.py DYNAMIC_GZIP_LEVEL): staff
pages, private links and receipts, which web/pagecache.py does not keep. For each level, the
bytes on the wire and the CPU per page, over real pages of the demo data, and the level
chosen: the highest whose last step still saves at least 1 % of the bytes, past which more
CPU on every request buys next to nothing. Brotli's qualities are printed beside, for the
pages compressed once (web/pagecache.py, static files).

    .venv/bin/python bench/gzip_level.py
"""

from __future__ import annotations

import re
import sys
import tempfile
import time
import zlib
from pathlib import Path

import brotli
from starlette.testclient import TestClient

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.speed import db_row, init_data
from web.app import create_app
from web.demo import DEMO_PASSWORD
from web.settings import Settings

MIN_SAVING = 0.01


def pages(data_dir: Path) -> dict[str, bytes]:
    settings = Settings(
        data_dir=data_dir,
        secret_key="b" * 40,
        base_url="http://testserver",
        allowed_hosts=("testserver",),
        run_tasks=False,
    )
    code = db_row(data_dir, "SELECT code FROM reports WHERE confidential = 0 LIMIT 1")["code"]
    found: dict[str, bytes] = {}
    with TestClient(create_app(settings)) as client:
        plain = {"Accept-Encoding": "identity"}
        form = client.get("/staf/masuk", headers=plain).text
        token = re.search(r'name="csrf_token" value="([^"]+)"', form)
        assert token, "no login form"
        client.post(
            "/staf/masuk",
            data={"username": "admin", "password": DEMO_PASSWORD, "csrf_token": token[1]},
        )
        for name, path in (
            ("staff inbox", "/staf"),
            ("staff report page", f"/staf/laporan/{code}"),
            ("dashboard", "/staf/dasbor"),
            ("overdue list", "/staf/terlambat"),
            ("report list of a kelurahan", "/staf?status=open"),
        ):
            response = client.get(path, headers=plain)
            assert response.status_code == 200, (path, response.status_code)
            found[name] = response.content
    return found


def timed(compress: object, body: bytes, repeat: int = 30) -> float:
    """Best time of `repeat` runs, in microseconds."""
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        compress(body)  # type: ignore[operator]
        best = min(best, time.perf_counter() - started)
    return best * 1e6


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        found = pages(init_data(Path(tmp)))
    total = sum(map(len, found.values()))
    print(f"{len(found)} pages, {total / 1024:.1f} KB together: {', '.join(found)}")
    print()
    print("| gzip level | bytes (all pages) | saved vs level before | µs per page |")
    print("|---:|---:|---:|---:|")
    sizes: dict[int, int] = {}
    for level in range(1, 10):

        def gzip(body: bytes, level: int = level) -> bytes:
            packer = zlib.compressobj(level, zlib.DEFLATED, 31)
            return packer.compress(body) + packer.flush()

        size = sum(len(gzip(body)) for body in found.values())
        micros = sum(timed(gzip, body) for body in found.values()) / len(found)
        saved = (sizes[level - 1] - size) / sizes[level - 1] if level > 1 else 0.0
        sizes[level] = size
        print(f"| {level} | {size:,} | {saved:.1%} | {micros:.0f} |")
    chosen = 1
    for level in range(2, 10):
        if (sizes[level - 1] - sizes[level]) / sizes[level - 1] >= MIN_SAVING:
            chosen = level
        else:
            break
    print()
    print("| brotli quality | bytes (all pages) | µs per page |")
    print("|---:|---:|---:|")
    for quality in (4, 6, 9, 11):

        def br(body: bytes, quality: int = quality) -> bytes:
            return bytes(brotli.compress(body, quality=quality, mode=brotli.MODE_TEXT))

        size = sum(len(br(body)) for body in found.values())
        micros = sum(timed(br, body, 5) for body in found.values()) / len(found)
        print(f"| {quality} | {size:,} | {micros:.0f} |")
    print()
    print(
        f"chosen gzip level for dynamic pages: {chosen} (the last step that still saves "
        f"≥ {MIN_SAVING:.0%} of the bytes)"
    )


if __name__ == "__main__":
    main()
