"""The `aduan` command: serve, init, user add, backup, migrate, apikey, tasks run.

Errors an operator can fix are printed as one plain line and exit with status 2; nothing
prints a traceback unless ADUAN_DEBUG is set.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import re
import secrets
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

from db import accounts as account_db
from db import boundaries, database, dialect, reference, transfer
from db.audit import CONSOLE
from db.database import Database
from db.postgresql import PostgreSQL
from web import apikeys, audit, tasks, vapid
from web.clock import to_text, utc_now
from web.passwords import MIN_LENGTH, hash_password
from web.photo_migrate import PhotoCopyError, migrate_photos
from web.photo_store import open_photo_store
from web.settings import Settings, SettingsError


class CommandError(Exception):
    """A problem the operator can fix; printed without a traceback."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aduan", description="Aduan — complaint system for Indonesian cities."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = sub.add_parser("serve", help="run the web server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument(
        "--timeout-keep-alive",
        type=_positive,
        default=5,
        metavar="S",
        help="close a connection idle this long after a response (default 5)",
    )
    serve.add_argument(
        "--timeout-header",
        type=_positive,
        default=15,
        metavar="S",
        help="close a connection that has not sent a complete request line and headers "
        "this long after it opened or after the last response (default 15)",
    )
    serve.add_argument(
        "--timeout-body",
        type=_positive,
        default=None,
        metavar="S",
        help="answer 408 when an upload stalls this long with no byte arriving "
        "(default 60, or ADUAN_BODY_TIMEOUT)",
    )
    serve.add_argument(
        "--timeout-graceful-shutdown",
        type=_positive,
        default=15,
        metavar="S",
        help="on stop, cut requests still running after this long (default 15)",
    )
    serve.add_argument(
        "--limit-concurrency",
        type=_positive,
        default=500,
        metavar="N",
        help="answer 503 beyond this many open connections per worker (default 500)",
    )

    init = sub.add_parser("init", help="create the database and load areas and categories")
    init.add_argument(
        "--region",
        default="31",
        metavar="CODE",
        help="province code from wilayah.csv (default 31, DKI Jakarta)",
    )
    init.add_argument(
        "--seed", type=Path, default=reference.SEED_FILE, help="agencies and categories file (TOML)"
    )
    init.add_argument(
        "--demo",
        action="store_true",
        help="add demo staff accounts and reports, printing the logins",
    )

    user = sub.add_parser("user", help="manage staff accounts")
    user_sub = user.add_subparsers(dest="user_command", required=True, metavar="ACTION")
    add = user_sub.add_parser("add", help="create a staff account")
    add.add_argument("username")
    add.add_argument("--role", required=True, choices=account_db.ROLES)
    add.add_argument(
        "--area",
        action="append",
        default=[],
        metavar="KODE",
        help="area code in scope (repeatable), e.g. 31.71.01.1001",
    )
    add.add_argument("--agency", metavar="KODE", help="agency code in scope, e.g. DLH")
    add.add_argument("--name", default="", help="display name")
    add.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from standard input (else one is generated)",
    )

    backup = sub.add_parser(
        "backup",
        help="consistent copy of the database and photos (PostgreSQL: through pg_dump)",
    )
    backup.add_argument("path", type=Path, help="an empty or new folder")

    migrate = sub.add_parser(
        "migrate",
        help="move to PostgreSQL and/or an S3 bucket: copy this SQLite deployment's database "
        "into an empty PostgreSQL database, its photos into a bucket",
    )
    migrate.add_argument(
        "--to",
        metavar="URL",
        help="the new database: postgresql://user:password@host:port/dbname",
    )
    migrate.add_argument(
        "--photos",
        metavar="S3",
        help="the new photo store: s3://bucket/prefix (with the S3 variables of the README)",
    )

    apikeys.add_parser(sub)
    tasks.add_parser(sub)
    return parser


def _positive(text: str) -> int:
    """A positive whole number for a command-line limit (seconds or connections)."""
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= 86400:
        raise argparse.ArgumentTypeError(f"expected a whole number from 1 to 86400, got {text!r}")
    return int(text)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        settings = Settings.from_env()
        if args.command == "serve":
            return serve(args, settings)
        if args.command == "init":
            return asyncio.run(init(args, settings))
        if args.command == "user":
            return asyncio.run(user_add(args, settings))
        if args.command == "backup":
            return backup(args.path, settings)
        if args.command == "migrate":
            return asyncio.run(migrate(args, settings))
        if args.command == "apikey":
            return asyncio.run(apikeys.run_command(args, settings))
        if args.command == "tasks":
            return asyncio.run(tasks.run_command(args, settings))
    except (CommandError, SettingsError, reference.ReferenceError) as exc:
        print(f"aduan: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        if os.environ.get("ADUAN_DEBUG"):
            raise
        print(f"aduan: unexpected error: {exc.__class__.__name__}: {exc}", file=sys.stderr)
        return 1
    return 0


def serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from web import server

    if args.workers < 1:
        raise CommandError("--workers must be at least 1")
    if settings.uses_sqlite and not settings.db_path.exists():
        print(
            "aduan: note: no database yet; run `aduan init` to load areas and categories",
            file=sys.stderr,
        )
    if args.timeout_body is not None:
        # The app is built from the environment in each worker (see web.app:create_app).
        os.environ["ADUAN_BODY_TIMEOUT"] = str(args.timeout_body)
    try:
        server.preflight(settings)
    except server.StartupError as exc:
        raise CommandError(str(exc)) from exc
    # Our own middleware logs requests without personal data; uvicorn's access log would
    # print full URLs (tracking codes, private tokens) and client addresses.
    uvicorn.run(
        "web.app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        access_log=False,
        server_header=False,  # no "server: uvicorn": what runs here is nobody's business
        # X-Forwarded-For is read by our own middleware, from ADUAN_TRUSTED_PROXIES only
        # (web/client.py); uvicorn would believe it from 127.0.0.1, i.e. from anyone
        # sending it through a local proxy that passes the header on.
        proxy_headers=False,
        log_config=server.log_config(),
        http=server.protocol(header_timeout=args.timeout_header),
        timeout_keep_alive=args.timeout_keep_alive,
        timeout_graceful_shutdown=args.timeout_graceful_shutdown,
        limit_concurrency=args.limit_concurrency,
    )
    return 0


async def init(args: argparse.Namespace, settings: Settings) -> int:
    seed = reference.read_seed(args.seed)
    areas = list(reference.read_province(args.region))  # validates before touching the db
    async with Database(settings.database) as db:
        await db.migrate()
        async with db.write() as conn:
            count = await reference.load_areas(conn, args.region)
            outlined = await boundaries.load_boundaries(conn, args.region)
            agencies, categories = await reference.load_seed(conn, seed)
        vapid.application_server_key(settings)  # the Web Push key pair, made once
        kelurahan = sum(1 for a in areas if a.level == 4)
        print(
            f"Loaded {count} areas of province {args.region} ({kelurahan} kelurahan/desa), "
            f"{agencies} agencies, {categories} categories into {db.describe()}"
        )
        if outlined:
            print(f"Loaded the boundaries of {outlined} kelurahan/desa (point → kelurahan)")
        else:
            print(f"No boundaries for province {args.region}: the kelurahan is picked by hand")
        if args.demo:
            from web.demo import add_demo_data

            logins = await add_demo_data(db, settings, args.region)
            print("Demo accounts (username / password / role / scope):")
            for username, password, role, scope in logins:
                print(f"  {username:<14} {password:<20} {role:<10} {scope}")
    return 0


async def user_add(args: argparse.Namespace, settings: Settings) -> int:
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
        generated = False
    else:
        password = secrets.token_urlsafe(12)
        generated = True
    if len(password) < MIN_LENGTH:
        raise CommandError(f"password must be at least {MIN_LENGTH} characters")
    if args.role == "officer" and not (args.area or args.agency):
        raise CommandError("an officer needs a scope: --area KODE (repeatable) or --agency KODE")
    if settings.uses_sqlite and not settings.db_path.exists():
        raise CommandError(f"no database at {settings.db_path}; run `aduan init` first")
    async with Database(settings.database) as db:
        await db.migrate()
        async with db.write() as conn:
            known = await account_db.known_area_codes(conn, args.area, min_level=1)
            for code in args.area:
                if code not in known:
                    raise CommandError(
                        f"unknown area code {code!r} (load it with aduan init --region)"
                    )
            if args.agency and not await account_db.agency_exists(conn, args.agency):
                raise CommandError(f"unknown agency code {args.agency!r}")
            if await account_db.account_by_username(conn, args.username) is not None:
                raise CommandError(f"an account named {args.username!r} already exists")
            user_id = await account_db.create_account(
                conn,
                username=args.username,
                password_hash=hash_password(password),
                role=args.role,
                created_at=to_text(utc_now()),
                display_name=args.name,
                agency_code=args.agency,
                area_codes=args.area,
            )
            await audit.record(
                conn,
                CONSOLE,
                "account.create",
                table="users",
                key=user_id,
                before=None,
                after=await audit.account_snapshot(conn, user_id),
            )
    print(f"Created {args.role} account {args.username!r}.")
    if generated:
        print(f"Password (shown once): {password}")
    return 0


def backup(target: Path, settings: Settings) -> int:
    """The database (SQLite: its online backup API, consistent while the server writes;
    PostgreSQL: handed over to pg_dump), then the photos and the secret key.

    Photo files are written before the row that names them is committed and never change, so
    copying them after the database snapshot gives every photo the snapshot refers to.

    Photos in an S3 bucket are not copied: a bucket can hold more than the backup folder's
    disk, and object stores back themselves up better (versioning, replication, or an
    incremental `rclone copy` of the prefix after this command). The backup says where
    they are, in PHOTOS.txt and on the screen.
    """
    if settings.uses_sqlite and not settings.db_path.exists():
        raise CommandError(f"no database at {settings.db_path}")
    if target.exists() and any(target.iterdir()):
        raise CommandError(f"{target} is not empty; choose a new folder")
    if settings.uses_sqlite:
        target.mkdir(parents=True, exist_ok=True)
        result = database.backup(settings.db_path, target / settings.db_path.name)
        if result != "ok":
            raise CommandError(f"backup failed its integrity check: {result}")
        stored = f"database ({(target / settings.db_path.name).stat().st_size} bytes, integrity ok)"
    else:
        backend = dialect.for_target(settings.database)
        dump = target / "aduan.pgdump"
        print(
            f"PostgreSQL: handing the database {backend.describe()} over to pg_dump "
            f"(custom format; restore with pg_restore) -> {dump}"
        )
        assert isinstance(backend, PostgreSQL)
        target.mkdir(parents=True, exist_ok=True)
        try:
            backend.backup(dump)
        except dialect.BackupError as exc:
            raise CommandError(str(exc)) from exc
        stored = f"database by pg_dump ({dump.stat().st_size} bytes)"
    photos = 0
    if settings.photo_store is None and settings.photo_dir.exists():
        for path in settings.photo_dir.rglob("*.jpg"):
            out = target / "photos" / path.relative_to(settings.photo_dir)
            out.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, out)
            photos += 1
    for name in ("secret_key", vapid.VAPID_FILE_NAME):
        if (settings.data_dir / name).exists():
            shutil.copy2(settings.data_dir / name, target / name)
            os.chmod(target / name, 0o600)
    if settings.photo_store is None:
        print(f"Backup written to {target}: {stored} and {photos} photo files.")
        return 0
    note = bucket_backup_note(settings.photo_store.url)
    (target / "PHOTOS.txt").write_text(note + "\n", encoding="utf-8")
    print(f"Backup written to {target}: {stored}.\n{note}")
    return 0


async def migrate(args: argparse.Namespace, settings: Settings) -> int:
    """`--to postgresql://…`: copy this deployment's SQLite database into an empty PostgreSQL
    database (db/transfer.py: every table in foreign-key order, ids kept, counts verified).
    `--photos s3://…`: copy every photo the database refers to into a bucket
    (web/photo_migrate.py: each read back and verified by its hash). Either or both; with
    both, the database first, then the photos of the database just copied."""
    if not args.to and not args.photos:
        raise CommandError(
            "say what to move: --to postgresql://… for the database, --photos s3://… for "
            "the photos, or both"
        )
    if args.to:
        await _migrate_database(args.to, settings)
    if args.photos:
        await _migrate_photos(args.photos, settings)
    return 0


async def _migrate_database(url: str, settings: Settings) -> None:
    if not settings.uses_sqlite:
        raise CommandError(
            "aduan migrate --to copies the SQLite database of ADUAN_DATA_DIR: run it with "
            "ADUAN_DATABASE_URL unset"
        )
    if not settings.db_path.exists():
        raise CommandError(f"no database at {settings.db_path}")
    if not re.match(r"^postgres(ql)?(\+asyncpg)?://", url):
        raise CommandError("--to must be a postgresql://user:password@host:port/dbname URL")
    async with Database(settings.db_path) as source, Database(url) as target:
        print(f"Copying {source.describe()} to {target.describe()}")
        try:
            await transfer.check_empty(target)
            await source.migrate()
            await target.migrate()

            def report(table: str, rows: int) -> None:
                print(f"  {table}: {rows} rows")

            copied = await transfer.copy_database(source, target, progress=report)
        except transfer.TransferError as exc:
            raise CommandError(str(exc)) from exc
    print(
        f"Copied {copied.total} rows in {len(copied.rows)} tables; every table's count "
        "matches. Then set ADUAN_DATABASE_URL on the servers."
    )


async def _migrate_photos(address: str, settings: Settings) -> None:
    if settings.uses_sqlite and not settings.db_path.exists():
        raise CommandError(f"no database at {settings.db_path}")
    source = open_photo_store(settings)
    async with Database(settings.database) as db:
        print(f"Copying the photos of {db.describe()} from {source.location} to {address}")
        try:
            copied = await migrate_photos(db, source, address)
        except (SettingsError, PhotoCopyError) as exc:
            raise CommandError(str(exc)) from exc
    print(copied.summary())
    if not copied.complete:
        raise CommandError(
            "some photos could not be copied (named above); the rest are in the bucket. "
            "Keep ADUAN_PHOTO_STORE as it is until they are found, then run this again."
        )
    print(f"Then set ADUAN_PHOTO_STORE={address} on the servers.")


def bucket_backup_note(url: str) -> str:
    return (
        f"Photos are in {url} and were not copied: back the bucket up with the store's own "
        "tools (versioning or replication, or e.g. `rclone copy` of that prefix to another "
        "store, run after each database backup). Photos never change once written, so an "
        "incremental copy only moves the new ones."
    )


if __name__ == "__main__":
    sys.exit(main())
