"""Memory and speed of the staff CSV export on 200,000 reports (a year of a busy city).

A real uvicorn server on a temporary database; 200,000 synthetic reports are written
straight into SQLite (the domain would take minutes to make them one by one); an admin logs
in and downloads `/staf/ekspor/laporan.csv?status=semua` over HTTP, reading the body as a
stream and throwing it away. Two passes:

1. timed, sampling the process's resident memory (VmRSS) every 20 ms during the download;
2. under tracemalloc, for the peak of Python allocations while streaming.

The server and the client run in this one process, so both numbers include the client's
share. Run with `make bench` or `.venv/bin/python bench/csv_export.py [ROWS]`; prints a
Markdown table for BENCHMARKS.md.
"""

from __future__ import annotations

import logging
import random
import re
import sqlite3
import sys
import threading
import time
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx2

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench._server import live_server
from web.clock import to_text
from web.passwords import hash_password

ROWS = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
PASSWORD = "bench-password-123"
ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
WORDS = (
    "sampah menumpuk di depan pasar sudah tiga hari tidak diangkut bau sampai ke rumah "
    "warga jalan berlubang dalam motor sering terperosok saat hujan lampu jalan mati "
    "saluran air tersumbat lumpur pohon tumbang halte rusak parkir liar di trotoar"
).split()
STATUSES = ("received", "verified", "dispatched", "in_progress", "resolved", "closed", "rejected")


def synthetic_reports(db_path: Path, count: int) -> None:
    """`count` reports over a year, across every kelurahan and category, with contacts."""
    rng = random.Random(2026)
    conn = sqlite3.connect(db_path)
    conn.execute("PRAGMA synchronous = OFF")  # a bulk load for a benchmark, not production
    areas = [r[0] for r in conn.execute("SELECT code FROM areas WHERE level = 4")]
    categories = [r[0] for r in conn.execute("SELECT code FROM categories")]
    agencies = [r[0] for r in conn.execute("SELECT code FROM agencies")]
    start = datetime(2025, 11, 1, tzinfo=UTC)
    seconds = 365 * 24 * 3600

    def rows() -> Iterator[tuple[object, ...]]:
        for index in range(count):
            received = start + timedelta(seconds=seconds * index // count)
            status = rng.choice(STATUSES)
            responded = status != "received"
            resolved = status in ("resolved", "closed")
            description = " ".join(rng.choices(WORDS, k=rng.randint(12, 40)))
            yield (
                "".join(rng.choices(ALPHABET, k=10)),
                rng.choice(categories),
                rng.choice(areas),
                rng.choice(agencies) if status in ("dispatched", "in_progress") else None,
                description,
                f"Jl. Contoh No. {rng.randint(1, 200)}, dekat masjid",
                "web",
                f"Warga Nomor {index}",
                f"08{rng.randint(10**9, 10**10 - 1)}",
                f"warga{index}@example.id",
                int(rng.random() < 0.1),
                int(rng.random() < 0.03),
                to_text(received),
                status,
                to_text(received),
                to_text(received + timedelta(hours=24)),
                to_text(received + timedelta(hours=rng.randint(1, 48))) if responded else None,
                to_text(received + timedelta(days=3)),
                to_text(received + timedelta(days=7)),
                to_text(received + timedelta(days=rng.randint(1, 12))) if resolved else None,
                None if resolved or status == "rejected" else to_text(received + timedelta(days=7)),
                to_text(received),
                rng.choice((None, 3, 4, 5)) if status == "closed" else None,
            )

    with conn:
        conn.executemany(
            "INSERT INTO reports (code, category_code, area_code, agency_code, description,"
            " address, channel, reporter_name, reporter_phone, reporter_email, anonymous,"
            " confidential, received_at, status, status_changed_at, response_due_at,"
            " first_response_at, dispatch_due_at, resolution_due_at, resolved_at, next_due_at,"
            " updated_at, rating)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows(),
        )
        conn.execute(
            "INSERT INTO users (username, display_name, password_hash, role, created_at)"
            " VALUES ('bench', 'Bench', ?, 'admin', ?)",
            (hash_password(PASSWORD), to_text(start)),
        )
    conn.close()


def rss_kib() -> int:
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def logged_in(client: httpx2.Client, base: str) -> None:
    page = client.get(base + "/staf/masuk")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    response = client.post(
        base + "/staf/masuk",
        data={"username": "bench", "password": PASSWORD, "csrf_token": token[1]},
    )
    assert response.status_code in (200, 303), response.status_code


def download(client: httpx2.Client, url: str) -> tuple[int, int, int, float]:
    """(bytes, lines, chunks, seconds) of one streamed download, body discarded."""
    size = lines = chunks = 0
    began = time.perf_counter()
    with client.stream("GET", url, headers={"Accept-Encoding": "identity"}) as response:
        assert response.status_code == 200, response.status_code
        for chunk in response.iter_raw():
            size += len(chunk)
            lines += chunk.count(b"\n")  # one byte: never split between two reads
            chunks += 1
    return size, lines, chunks, time.perf_counter() - began


def main() -> None:
    with live_server() as (base, settings):
        logging.getLogger().setLevel(logging.WARNING)  # `aduan init` set INFO for its output
        began = time.perf_counter()
        synthetic_reports(settings.db_path, ROWS)
        print(f"wrote {ROWS:,} synthetic reports in {time.perf_counter() - began:.1f} s")
        url = base + "/staf/ekspor/laporan.csv?status=semua"
        with httpx2.Client(timeout=600, follow_redirects=False) as client:
            logged_in(client, base)
            # Pass 1: time and resident memory, sampled while the download runs.
            baseline = rss_kib()
            peak = [baseline]
            done = threading.Event()

            def sample() -> None:
                while not done.is_set():
                    peak[0] = max(peak[0], rss_kib())
                    time.sleep(0.02)

            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
            size, lines, chunks, seconds = download(client, url)
            done.set()
            sampler.join()
            # Pass 2: the peak of Python allocations while streaming.
            tracemalloc.start()
            tracemalloc.reset_peak()
            download(client, url)
            _current, traced_peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
    mib = 1024 * 1024
    assert lines == ROWS + 1, (lines, ROWS)
    print()
    print(
        "| rows | CSV size | chunks | time | rows/s | RSS before → peak (growth) "
        "| tracemalloc peak |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|")
    print(
        f"| {ROWS:,} | {size / mib:,.1f} MiB | {chunks:,} | {seconds:.1f} s "
        f"| {ROWS / seconds:,.0f} | {baseline / 1024:,.0f} → {peak[0] / 1024:,.0f} MiB "
        f"(+{(peak[0] - baseline) / 1024:,.1f} MiB) | {traced_peak / mib:,.1f} MiB |"
    )
    print(
        f"\nPeak traced allocations are {100 * traced_peak / size:.1f}% of the CSV's size; "
        "memory follows the 1,000-row batch, not the export."
    )


if __name__ == "__main__":
    main()
