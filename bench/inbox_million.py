"""The staff inbox on 1,000,000 reports: how long the queries of one inbox page take.

Builds (once) a SQLite file with Jakarta's areas, the seed categories and a million reports
spread over the 267 kelurahan and every status, then times, through the same code the
server runs (db/staff.py), the first page and a deep keyset page, plus the per-status
counts, for an officer of one kelurahan, an officer of a kecamatan, an agency officer and
an admin. Prints the median of N runs in milliseconds and each query's plan.

    python bench/inbox_million.py [--reports 1000000] [--runs 15] [--db PATH] [--rebuild]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import statistics
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from db import reference  # noqa: E402
from db import staff as staff_db  # noqa: E402
from db.database import Database  # noqa: E402
from web.clock import to_text  # noqa: E402

# Share of each status among a city's reports after a few years: most are closed.
STATUS_MIX = [
    ("received", 6),
    ("verified", 4),
    ("dispatched", 6),
    ("in_progress", 8),
    ("resolved", 10),
    ("closed", 52),
    ("rejected", 10),
    ("duplicate", 4),
]
OPEN = {"received", "verified", "dispatched", "in_progress"}
CHANNELS = ["web", "web", "web", "outbox", "outbox", "walk_in", "whatsapp", "phone", "email"]
TEXTS = [
    "Sampah menumpuk di TPS sudah beberapa hari tidak diangkut, bau sampai ke rumah warga.",
    "Jalan berlubang cukup dalam di depan sekolah, motor sering terperosok saat hujan.",
    "Lampu jalan mati tiga tiang berturut-turut, jalan gelap dan rawan.",
    "Saluran air tersumbat lumpur, setiap hujan sebentar langsung tergenang.",
    "Pedagang kaki lima menutup seluruh trotoar sejak pagi.",
]


@dataclass(frozen=True)
class BenchAccount:
    """Stands in for web.auth.Account (db.staff only needs these attributes)."""

    id: int
    role: str
    agency_code: str | None = None
    area_codes: tuple[str, ...] = ()
    is_inspectorate: bool = False
    sees_confidential_contact: bool = False


def remove(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


async def build(path: Path, count: int) -> None:
    async with Database(path) as db:
        await db.migrate()
        async with db.write() as conn:
            await reference.load_areas(conn, "31")
            await reference.load_seed(conn, reference.read_seed())
    conn = sqlite3.connect(path)
    kelurahan = [r[0] for r in conn.execute("SELECT code FROM areas WHERE level = 4")]
    categories = list(conn.execute("SELECT code, default_agency_code FROM categories"))
    statuses = [s for s, weight in STATUS_MIX for _ in range(weight)]
    rng = random.Random(2026)
    now = datetime.now(UTC).replace(microsecond=0)
    start = time.perf_counter()

    def rows() -> Any:
        for number in range(count):
            received = now - timedelta(minutes=rng.randrange(3 * 365 * 24 * 60))
            status = rng.choice(statuses)
            category, agency = rng.choice(categories)
            due = None
            if status in OPEN:
                # Open cases are mostly recent; their deadline is days around now.
                received = now - timedelta(minutes=rng.randrange(20 * 24 * 60))
                due = to_text(received + timedelta(hours=rng.choice([24, 72, 120, 240])))
            forwarded = status in {"dispatched", "in_progress", "resolved", "closed"}
            stamp = to_text(received)
            yield (
                f"B{number:07d}",
                category,
                rng.choice(kelurahan),
                agency if forwarded else None,
                rng.choice(TEXTS),
                "Dekat pos ronda",
                rng.choice(CHANNELS),
                stamp,
                status,
                stamp,
                due,
                stamp,
                int(category == "pungli"),
            )

    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = OFF")  # a throwaway file: build it fast
    with conn:
        conn.executemany(
            "INSERT INTO reports (code, category_code, area_code, agency_code, description,"
            " address, channel, received_at, status, status_changed_at, next_due_at,"
            " updated_at, confidential) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows(),
        )
    conn.close()
    print(f"built {count:,} reports in {time.perf_counter() - start:.1f} s -> {path}")


async def migrate(path: Path) -> None:
    async with Database(path) as db:
        await db.migrate()


def plan(conn: sqlite3.Connection, sql: str, params: list[Any]) -> list[str]:
    return [row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql, params)]


async def median_ms(db: Database, sql: str, params: list[Any], runs: int) -> float:
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        await db.fetchall(sql, params)
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


async def cursor_at(
    db: Database, account: BenchAccount, f: staff_db.InboxFilter
) -> tuple[staff_db.Cursor, int]:
    """A cursor halfway into the account's open cases, to time a deep keyset page."""
    scope, params = staff_db.scope_clause(account)
    statuses = ", ".join(f"'{s}'" for s in f.statuses)
    condition = f"{scope} AND r.status IN ({statuses}) AND r.next_due_at IS NOT NULL"
    count = (await db.fetchone(f"SELECT COUNT(*) FROM reports r WHERE {condition}", params))[0]
    row = await db.fetchone(
        f"SELECT r.next_due_at, r.id FROM reports r WHERE {condition}"
        " ORDER BY r.next_due_at, r.id LIMIT 1 OFFSET ?",
        [*params, count // 2],
    )
    return staff_db.Cursor(row[0], row[1]), count // 2


async def measure(path: Path, runs: int) -> None:
    async with Database(path, readers=1) as db:
        async with db.write() as conn:
            await conn.execute("DELETE FROM user_areas")
            await conn.execute("DELETE FROM users")
            scopes = [(1, "31.71.01.1001"), (2, "31.71.01"), (5, "31.71")]
            scopes += [(6, "31.71.01.1001"), (6, "31.71.01.1002")]
            for user_id, area in scopes:
                await conn.execute(
                    "INSERT OR IGNORE INTO users (id, username, password_hash, role, created_at)"
                    " VALUES (?, ?, 'x', 'officer', '2026-01-01T00:00:00Z')",
                    (user_id, f"bench{user_id}"),
                )
                await conn.execute(
                    "INSERT INTO user_areas (user_id, area_code) VALUES (?, ?)", (user_id, area)
                )
        total = (await db.fetchone("SELECT COUNT(*) FROM reports"))[0]
        print(f"{total:,} reports; median of {runs} runs; times in ms\n")
        accounts = {
            "officer, 1 kelurahan (Gambir)": BenchAccount(
                1, "officer", area_codes=("31.71.01.1001",)
            ),
            "officer, 2 kelurahan": BenchAccount(
                6, "officer", area_codes=("31.71.01.1001", "31.71.01.1002")
            ),
            "officer, 1 kecamatan (6 kel.)": BenchAccount(2, "officer", area_codes=("31.71.01",)),
            "officer, 1 kota (44 kel.)": BenchAccount(5, "officer", area_codes=("31.71",)),
            "officer, agency (DLH)": BenchAccount(3, "officer", agency_code="DLH"),
            "admin": BenchAccount(4, "admin"),
        }
        now = to_text(datetime.now(UTC).replace(microsecond=0))
        open_reports = staff_db.InboxFilter(statuses=tuple(sorted(OPEN)), dated_only=True)
        every = staff_db.InboxFilter()
        explain = sqlite3.connect(path)
        header = (
            f"{'scope':32} {'page 1':>8} {'deep page':>10} {'all, deep':>10} {'counts':>8}"
            f" {'depth':>9}"
        )
        print(header + "\n" + "-" * len(header))
        plans: dict[str, list[str]] = {}
        for name, account in accounts.items():
            first, _ = staff_db.inbox_queries(account, open_reports, now=now, after=None, limit=25)
            deep_cursor, depth = await cursor_at(db, account, open_reports)
            deep, _ = staff_db.inbox_queries(
                account, open_reports, now=now, after=deep_cursor, limit=25
            )
            # "All statuses", past the last dated case: the run over closed cases by id.
            null_cursor = staff_db.Cursor(None, total // 2)
            _, closed = staff_db.inbox_queries(account, every, now=now, after=null_cursor, limit=25)
            per_status, overdue = staff_db.count_queries(account, every, now=now)
            assert first and deep and closed
            timings = [
                await median_ms(db, *first, runs),
                await median_ms(db, *deep, runs),
                await median_ms(db, *closed, runs),
                await median_ms(db, *per_status, runs) + await median_ms(db, *overdue, runs),
            ]
            print(f"{name:32} " + " ".join(f"{t:>8.2f}  " for t in timings) + f"{depth:>8,}")
            plans[f"{name} — page 1"] = plan(explain, *first)
            plans[f"{name} — deep page"] = plan(explain, *deep)
            plans[f"{name} — all statuses, closed run"] = plan(explain, *closed)
            plans[f"{name} — counts per status"] = plan(explain, *per_status)
            plans[f"{name} — overdue count"] = plan(explain, *overdue)
        print("\nEXPLAIN QUERY PLAN")
        for name, steps in plans.items():
            print(f"\n{name}")
            for step in steps:
                marker = "  !! " if "TEMP B-TREE" in step else "     "
                print(marker + step)
        explain.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--db", type=Path, default=Path("/tmp/aduan-bench/inbox.sqlite3"))
    parser.add_argument("--rebuild", action="store_true")
    args = parser.parse_args()
    existing = 0
    if args.db.exists() and not args.rebuild:
        with sqlite3.connect(args.db) as conn:
            existing = conn.execute("SELECT COUNT(*) FROM reports").fetchone()[0]
    if existing and existing == args.reports:
        # A file built before the latest migration: bring its schema (indexes) up to date.
        asyncio.run(migrate(args.db))
    if existing != args.reports:
        remove(args.db)
        asyncio.run(build(args.db, args.reports))
    asyncio.run(measure(args.db, args.runs))


if __name__ == "__main__":
    main()
