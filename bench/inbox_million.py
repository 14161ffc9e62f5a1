"""The staff inbox on 1,000,000 reports: how long the queries of one inbox page take, on
SQLite and on PostgreSQL.

Builds (once per backend) a database with Jakarta's areas, the seed categories and a million
reports spread over the 267 kelurahan and every status, then times, through the same code
the server runs (db/staff.py), the first page and a deep keyset page, plus the per-status
counts, for an officer of one kelurahan, an officer of a kecamatan, an agency officer and
an admin; then a staff text search that matches nothing and one that matches, page and
counts. Prints the median of N runs in milliseconds and each query's plan.

PostgreSQL: `--pg-url` names a server, else a throwaway cluster is kept in
/tmp/aduan-bench/pg (Debian's PostgreSQL 15, started as the `postgres` user when root).

    python bench/inbox_million.py [--backend sqlite|postgresql|both] [--reports 1000000]
        [--runs 15] [--db PATH] [--pg-url URL] [--rebuild]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
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
ADDRESSES = ["Dekat pos ronda", "Gg. Kelor RT 03", "Depan masjid", "Samping pasar", ""]
COLUMNS = (
    "code",
    "category_code",
    "area_code",
    "agency_code",
    "description",
    "address",
    "channel",
    "received_at",
    "status",
    "status_changed_at",
    "next_due_at",
    "updated_at",
    "confidential",
)
PG_ROOT = Path("/tmp/aduan-bench/pg")
PG_BIN = Path("/usr/lib/postgresql/15/bin")


@dataclass(frozen=True)
class BenchAccount:
    """Stands in for web.auth.Account (db.staff only needs these attributes)."""

    id: int
    role: str
    agency_code: str | None = None
    area_codes: tuple[str, ...] = ()
    is_inspectorate: bool = False
    sees_confidential_contact: bool = False


def generate(count: int, kelurahan: list[str], categories: list[Any]) -> Iterator[tuple[Any, ...]]:
    """The million reports, the same on both backends (a fixed seed)."""
    statuses = [s for s, weight in STATUS_MIX for _ in range(weight)]
    rng = random.Random(2026)
    now = datetime.now(UTC).replace(microsecond=0)
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
            rng.choice(ADDRESSES),
            rng.choice(CHANNELS),
            stamp,
            status,
            stamp,
            due,
            stamp,
            int(category == "pungli"),
        )


async def prepare(target: str | Path) -> tuple[list[str], list[Any]]:
    """Schema and reference data; the kelurahan and categories to spread reports over."""
    async with Database(target) as db:
        await db.migrate()
        async with db.write() as conn:
            await reference.load_areas(conn, "31")
            await reference.load_seed(conn, reference.read_seed())
        kelurahan = [r["code"] for r in await db.fetchall("SELECT code FROM areas WHERE level = 4")]
        categories = [
            (r["code"], r["default_agency_code"])
            for r in await db.fetchall(
                "SELECT code, default_agency_code FROM categories ORDER BY code"
            )
        ]
    return kelurahan, categories


def build_sqlite(path: Path, count: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    kelurahan, categories = asyncio.run(prepare(path))
    start = time.perf_counter()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = OFF")  # a throwaway file: build it fast
    with conn:
        # The full-text index follows through migration 0006's triggers, as in production.
        marks = ", ".join("?" for _ in COLUMNS)
        conn.executemany(
            f"INSERT INTO reports ({', '.join(COLUMNS)}) VALUES ({marks})",
            generate(count, kelurahan, categories),
        )
    conn.close()
    print(f"built {count:,} reports in {time.perf_counter() - start:.1f} s -> {path}")


async def build_postgresql(url: str, count: int) -> None:
    kelurahan, categories = await prepare(url)
    start = time.perf_counter()
    async with Database(url) as db, db.write() as conn:
        raw = await conn.conn.get_raw_connection()
        driver = raw.driver_connection
        assert driver is not None
        # COPY is how a big load goes into PostgreSQL; the trigram indexes follow.
        await driver.copy_records_to_table(
            "reports", records=generate(count, kelurahan, categories), columns=COLUMNS
        )
    await vacuum(url)
    print(f"built {count:,} reports in {time.perf_counter() - start:.1f} s -> PostgreSQL")


async def vacuum(url: str) -> None:
    """What autovacuum does after a big load in production: statistics for the planner, and
    the trigram indexes' pending entries merged (a search reads them all until then)."""
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        await conn.execute("VACUUM ANALYZE reports")
    finally:
        await conn.close()


def _pg(*args: str) -> None:
    command = [str(PG_BIN / args[0]), *args[1:]]
    if os.geteuid() == 0:
        command = ["runuser", "-u", "postgres", "--", *command]
    subprocess.run(command, check=True, capture_output=True)


def start_cluster(port: int = 55432) -> str:
    """A PostgreSQL cluster kept in PG_ROOT between runs (the million reports stay)."""
    data = PG_ROOT / "data"
    if not data.exists():
        PG_ROOT.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            subprocess.run(["chown", "postgres", str(PG_ROOT)], check=True)
        _pg("initdb", "-D", str(data), "-U", "postgres", "--auth=trust", "--locale=C", "-E", "UTF8")
    options = f"-p {port} -k {PG_ROOT} -c listen_addresses=127.0.0.1 -c shared_buffers=256MB"
    _pg("pg_ctl", "-D", str(data), "-o", options, "-l", str(PG_ROOT / "log"), "-w", "start")
    return f"postgresql://postgres@127.0.0.1:{port}/postgres"


def stop_cluster() -> None:
    _pg("pg_ctl", "-D", str(PG_ROOT / "data"), "-m", "fast", "-w", "stop")


async def median_ms(db: Database, sql: str, params: dict[str, Any], runs: int) -> float:
    await db.fetchall(sql, params)  # warm: the first run reads pages from disk
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        await db.fetchall(sql, params)
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


async def plan(db: Database, sql: str, params: dict[str, Any]) -> list[str]:
    prefix = "EXPLAIN QUERY PLAN " if db.is_sqlite else "EXPLAIN "
    rows = await db.fetchall(prefix + sql, params)
    return [str(r["detail"] if db.is_sqlite else r["QUERY PLAN"]) for r in rows]


async def cursor_at(
    db: Database, account: BenchAccount, f: staff_db.InboxFilter
) -> tuple[staff_db.Cursor, int]:
    """A cursor halfway into the account's open cases, to time a deep keyset page."""
    scope, params = staff_db.scope_clause(account)
    condition = f"{scope} AND r.status IN :statuses AND r.next_due_at IS NOT NULL"
    params = {**params, "statuses": list(f.statuses)}
    count = (await db.fetchone(f"SELECT COUNT(*) AS n FROM reports r WHERE {condition}", params))[
        "n"
    ]
    row = await db.fetchone(
        f"SELECT r.next_due_at, r.id FROM reports r WHERE {condition}"
        " ORDER BY r.next_due_at, r.id LIMIT 1 OFFSET :offset",
        {**params, "offset": count // 2},
    )
    return staff_db.Cursor(row["next_due_at"], row["id"]), count // 2


async def measure(target: str | Path, runs: int) -> None:
    async with Database(target, readers=1) as db:
        async with db.write() as conn:
            await conn.execute("DELETE FROM user_areas")
            await conn.execute("DELETE FROM sessions")
            await conn.execute("DELETE FROM users")
            scopes = [(1, "31.71.01.1001"), (2, "31.71.01"), (5, "31.71")]
            scopes += [(6, "31.71.01.1001"), (6, "31.71.01.1002")]
            for user_id, area in scopes:
                await conn.execute(
                    "INSERT INTO users (id, username, password_hash, role, created_at)"
                    " VALUES (:id, :name, 'x', 'officer', '2026-01-01T00:00:00Z')"
                    " ON CONFLICT DO NOTHING",
                    {"id": user_id, "name": f"bench{user_id}"},
                )
                await conn.execute(
                    "INSERT INTO user_areas (user_id, area_code) VALUES (:id, :area)",
                    {"id": user_id, "area": area},
                )
        total = (await db.fetchone("SELECT COUNT(*) AS n FROM reports"))["n"]
        print(f"\n== {db.dialect.name}: {total:,} reports; median of {runs} runs; times in ms\n")
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
        dialect = db.dialect
        header = (
            f"{'scope':32} {'page 1':>8} {'deep page':>10} {'all, deep':>10} {'counts':>8}"
            f" {'depth':>9}"
        )
        print(header + "\n" + "-" * len(header))
        plans: dict[str, list[str]] = {}
        for name, account in accounts.items():
            first, _ = staff_db.inbox_queries(
                account, open_reports, now=now, after=None, limit=25, dialect=dialect
            )
            deep_cursor, depth = await cursor_at(db, account, open_reports)
            deep, _ = staff_db.inbox_queries(
                account, open_reports, now=now, after=deep_cursor, limit=25, dialect=dialect
            )
            # "All statuses", past the last dated case: the run over closed cases by id.
            null_cursor = staff_db.Cursor(None, total // 2)
            _, closed = staff_db.inbox_queries(
                account, every, now=now, after=null_cursor, limit=25, dialect=dialect
            )
            per_status, overdue = staff_db.count_queries(account, every, now=now, dialect=dialect)
            assert first and deep and closed
            timings = [
                await median_ms(db, *first, runs),
                await median_ms(db, *deep, runs),
                await median_ms(db, *closed, runs),
                await median_ms(db, *per_status, runs) + await median_ms(db, *overdue, runs),
            ]
            print(f"{name:32} " + " ".join(f"{t:>8.2f}  " for t in timings) + f"{depth:>8,}")
            plans[f"{name} — page 1"] = await plan(db, *first)
            plans[f"{name} — counts per status"] = await plan(db, *per_status)

        # Text search: the inbox page (open cases, the default) and its counts.
        header = f"{'search (page 1 + counts)':44} {'page 1':>8} {'counts':>8} {'rows':>8}"
        print("\n" + header + "\n" + "-" * len(header))
        for who in ("admin", "officer, 1 kelurahan (Gambir)"):
            account = accounts[who]
            for text in ("zqxjv", "lubang", "gg. kelor", "ab"):
                f = staff_db.InboxFilter(statuses=tuple(sorted(OPEN)), text=text)
                page, _ = staff_db.inbox_queries(
                    account, f, now=now, after=None, limit=25, dialect=dialect
                )
                per_status, overdue = staff_db.count_queries(account, f, now=now, dialect=dialect)
                assert page
                rows = len(await db.fetchall(*page))
                timings = [
                    await median_ms(db, *page, runs),
                    await median_ms(db, *per_status, runs) + await median_ms(db, *overdue, runs),
                ]
                label = f"{who[:22]}: {text!r}"
                print(f"{label:44} " + " ".join(f"{t:>8.2f}" for t in timings) + f" {rows:>8}")
                plans[f"{label} — page 1"] = await plan(db, *page)
        print("\nQUERY PLANS")
        for name, steps in plans.items():
            print(f"\n{name}")
            for step in steps:
                marker = (
                    "  !! " if "TEMP B-TREE" in step or "Seq Scan on reports" in step else "     "
                )
                print(marker + step)


async def report_count(target: str | Path) -> int:
    try:
        async with Database(target, readers=1) as db:
            row = await db.fetchone("SELECT COUNT(*) AS n FROM reports")
            return int(row["n"])
    except Exception:
        return 0


def run_sqlite(args: argparse.Namespace) -> None:
    existing = 0 if args.rebuild or not args.db.exists() else asyncio.run(report_count(args.db))
    if existing != args.reports:
        build_sqlite(args.db, args.reports)
    else:
        asyncio.run(prepare_schema(args.db))
    asyncio.run(measure(args.db, args.runs))


async def prepare_schema(target: str | Path) -> None:
    """A database built before the latest migration: bring its schema (indexes) up to date."""
    async with Database(target) as db:
        await db.migrate()


def run_postgresql(args: argparse.Namespace) -> None:
    url = args.pg_url or start_cluster()
    try:
        existing = 0 if args.rebuild else asyncio.run(report_count(url))
        if existing != args.reports:
            asyncio.run(reset_postgresql(url))
            asyncio.run(build_postgresql(url, args.reports))
        else:
            asyncio.run(prepare_schema(url))
            asyncio.run(vacuum(url))
        asyncio.run(measure(url, args.runs))
    finally:
        if not args.pg_url:
            stop_cluster()


async def reset_postgresql(url: str) -> None:
    async with Database(url) as db, db.write() as conn:
        await conn.execute("DROP SCHEMA public CASCADE")
        await conn.execute("CREATE SCHEMA public")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--reports", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--db", type=Path, default=Path("/tmp/aduan-bench/inbox.sqlite3"))
    parser.add_argument("--pg-url", default="", help="a PostgreSQL database to fill and time")
    parser.add_argument("--rebuild", action="store_true")
    args = parser.parse_args()
    if args.backend in ("sqlite", "both"):
        run_sqlite(args)
    if args.backend in ("postgresql", "both"):
        run_postgresql(args)


if __name__ == "__main__":
    main()
