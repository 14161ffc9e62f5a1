"""Issue 12's table, from one run on this machine: submissions/s and tracking-page req/s
for one and two app processes (`aduan serve --workers N`) on SQLite with photos in the data
folder, and on PostgreSQL with photos in an S3 bucket (SeaweedFS), side by side.

Both deployments start from `aduan init --demo`. The PostgreSQL cluster and SeaweedFS are
started here as the tests start them (tests/backend.py, tests/seaweedfs.py), on the same
machine as the app processes and the load generator, so the figures are for comparing the
rows with each other, not for sizing a real deployment (where the database has its own
machine). Submissions: 8 clients, each report with one phone-shrunk 1600×1200 photo.
Tracking: `/t/{code}` of the demo report with the longest timeline, 50 connections (wrk).

    .venv/bin/python bench/servers.py            # about 3 minutes
    .venv/bin/python bench/servers.py --seconds 5
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench._photos import jpeg, photo_like, variants
from bench.speed import Submitter, aduan_cmd, env_for, free_port, running, wrk
from db.database import Database
from tests.backend import start_cluster
from tests.seaweedfs import start_seaweedfs

LONGEST_TIMELINE = (
    "SELECT r.code FROM reports r JOIN report_events e ON e.report_id = r.id"
    " WHERE r.confidential = 0 GROUP BY r.id, r.code ORDER BY count(*) DESC, r.id LIMIT 1"
)
PUBLIC_CATEGORY = "SELECT code FROM categories WHERE active = 1 AND confidential = 0 ORDER BY code"
KELURAHAN = "SELECT code FROM areas WHERE level = 4 ORDER BY code"


async def first(database: str | Path, sql: str) -> str:
    async with Database(database) as db:
        row = await db.fetchone(sql)
    return str(row["code"])


class Deployment:
    """One way of running Aduan: its environment, its database and a report to track."""

    def __init__(self, name: str, data_dir: Path, extra: dict[str, str]) -> None:
        self.name, self.data_dir, self.extra = name, data_dir, extra
        database = extra.get("ADUAN_DATABASE_URL") or data_dir / "aduan.sqlite3"
        subprocess.run(
            aduan_cmd("init", "--demo"),
            env={**env_for(data_dir, 8000), **extra},
            check=True,
            stdout=subprocess.DEVNULL,
        )
        self.code = asyncio.run(first(database, LONGEST_TIMELINE))
        self.category = asyncio.run(first(database, PUBLIC_CATEGORY))
        self.area = asyncio.run(first(database, KELURAHAN))

    @contextlib.contextmanager
    def serve(self, workers: int) -> Iterator[int]:
        port = free_port()
        cmd = aduan_cmd("serve", "--port", str(port), "--workers", str(workers))
        with running(cmd, {**env_for(self.data_dir, port), **self.extra}, port):
            yield port


def measure(
    deployment: Deployment, workers: int, seconds: float, photos: list[bytes], rounds: int
) -> tuple[float, float]:
    """(submissions/s, tracking req/s), each the median of `rounds` runs."""
    filed: list[float] = []
    tracked: list[float] = []
    with deployment.serve(workers) as port:
        submitter = Submitter(port, photos, deployment.category, deployment.area)
        submitter.run(8, 2)  # warm up: imports, the first decode, the pools
        page = f"http://127.0.0.1:{port}/t/{deployment.code}"
        wrk(page, 2)
        for _round in range(rounds):
            submitter.statuses.clear()
            elapsed = submitter.run(8, seconds)
            if set(submitter.statuses) - {201}:
                print(f"    answers other than 201: {dict(submitter.statuses)}", file=sys.stderr)
            filed.append(submitter.statuses[201] / elapsed)
            tracked.append(wrk(page, seconds))
    return statistics.median(filed), statistics.median(tracked)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    print("making photos…", file=sys.stderr)
    base = photo_like((1600, 1200))
    size = len(jpeg(base, 80)) / 1024
    photos = variants(base, int(args.seconds * 150) + 200, 80)
    results: list[tuple[str, int, float, float]] = []
    cluster = start_cluster()
    with tempfile.TemporaryDirectory() as tmp:
        seaweedfs = start_seaweedfs(Path(tmp) / "seaweedfs")
        try:
            where = seaweedfs.location("bench")
            deployments = [
                Deployment("SQLite, photos in the data folder", Path(tmp) / "sqlite", {}),
                Deployment(
                    "PostgreSQL, photos in S3 (SeaweedFS)",
                    Path(tmp) / "postgresql",
                    {
                        "ADUAN_DATABASE_URL": cluster.url(cluster.create_database()),
                        "ADUAN_PHOTO_STORE": where.url,
                        **seaweedfs.env(),
                    },
                ),
            ]
            for workers in (1, 2):
                for deployment in deployments:
                    print(f"{deployment.name}, {workers} process(es)…", file=sys.stderr)
                    filed, tracked = measure(deployment, workers, args.seconds, photos, args.rounds)
                    results.append((deployment.name, workers, filed, tracked))
        finally:
            seaweedfs.stop()
            cluster.stop()
    sqlite_one = results[0]
    print(
        f"\n8 submitting clients (one {size:.0f} KB photo each), 50 tracking connections; "
        f"median of {args.rounds} runs of {args.seconds:.0f} s; ratios to SQLite, 1 process\n"
    )
    print("| deployment | app processes | submissions/s | ratio | `/t/{code}` req/s | ratio |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, workers, filed, tracked in results:
        print(
            f"| {name} | {workers} | {filed:.1f} | {filed / sqlite_one[2]:.2f} | "
            f"{tracked:,.0f} | {tracked / sqlite_one[3]:.2f} |"
        )


if __name__ == "__main__":
    main()
