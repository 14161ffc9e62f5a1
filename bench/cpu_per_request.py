"""CPU time per request of `/t/{code}` and of the bare Starlette page (bench/bare_app.py),
one worker each, 50 connections (wrk): what each server process spent (user + system, from
/proc) divided by the requests it answered. On a shared, busy machine requests/s swing with
whatever else runs (bench/speed.py's page ratio moved between 0.28 and 0.62 for the same
code in one sitting); the CPU a request costs moves far less, so it shows a change of a few
per cent that a throughput ratio cannot. The servers run alternately, `--rounds` times.

    .venv/bin/python bench/cpu_per_request.py
    .venv/bin/python bench/cpu_per_request.py --code /tmp/before --code .   # before and after
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import speed
from bench.speed import ACCEPT, ROOT, aduan, bare, db_row, free_port, init_data


def cpu_seconds(pid: int) -> float:
    """User + system time of a process (uvicorn runs one worker in the process itself)."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(url: str, pid: int, seconds: int) -> tuple[float, float]:
    """(CPU µs per request, requests/s) over one wrk run, after a warm-up."""
    speed.wrk(url, 2)
    before = cpu_seconds(pid)
    out = subprocess.run(
        ["wrk", "-t1", "-c50", f"-d{seconds}s", "-H", f"Accept-Encoding: {ACCEPT}", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    spent = cpu_seconds(pid) - before
    requests = int(re.search(r"(\d+) requests in", out)[1])  # type: ignore[index]
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out)[1])  # type: ignore[index]
    return spent / requests * 1e6, rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--code", type=Path, action="append", help="an Aduan checkout")
    parser.add_argument("--seconds", type=int, default=6)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print("| checkout | bare µs/req | Aduan µs/req | CPU ratio | bare req/s | Aduan req/s |")
    print("|---|---:|---:|---:|---:|---:|")
    for code in [c.resolve() for c in args.code or [ROOT]]:
        speed.CODE = code
        with tempfile.TemporaryDirectory() as tmp:
            data = init_data(Path(tmp))
            tracking = db_row(
                data,
                "SELECT r.code FROM reports r JOIN report_events e ON e.report_id = r.id"
                " WHERE r.confidential = 0 GROUP BY r.id ORDER BY count(*) DESC, r.id LIMIT 1",
            )["code"]
            ours: list[tuple[float, float]] = []
            ceiling: list[tuple[float, float]] = []
            for _round in range(args.rounds):
                port = free_port()
                with bare(port, 1) as server:
                    ceiling.append(measure(f"http://127.0.0.1:{port}/", server.pid, args.seconds))
                port = free_port()
                with aduan(data, port, 1) as server:
                    url = f"http://127.0.0.1:{port}/t/{tracking}"
                    ours.append(measure(url, server.pid, args.seconds))
        cpu_bare = statistics.median(c for c, _ in ceiling)
        cpu_ours = statistics.median(c for c, _ in ours)
        print(
            f"| {code.name} | {cpu_bare:.0f} | {cpu_ours:.0f} | {cpu_bare / cpu_ours:.2f} | "
            f"{statistics.median(r for _, r in ceiling):,.0f} | "
            f"{statistics.median(r for _, r in ours):,.0f} |"
        )


if __name__ == "__main__":
    main()
