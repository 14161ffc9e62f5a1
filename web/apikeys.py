"""Open311 API keys: made, listed and revoked by admins (console now, browser later), checked
and rate-limited on every POST.

A key is shown once when it is made and stored only as its sha256: a stolen database gives
no usable key. sha256 (not argon2) is enough because keys are 256 random bits, not
passwords people chose, and it lets the lookup be one indexed equality.
"""

from __future__ import annotations

import argparse
import hashlib
import secrets
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta

from db import apikeys as q
from db import ratelimit
from db.apikeys import ApiKey
from db.audit import CONSOLE, Actor
from db.database import Connection, Database
from web import audit, parse
from web.clock import to_text, utc_now
from web.settings import Settings

KEY_PREFIX = "ak_"
PREFIX_LENGTH = len(KEY_PREFIX) + 8  # "ak_" and 48 random bits: enough to tell keys apart
DEFAULT_RATE_PER_MINUTE = 60
MAX_RATE_PER_MINUTE = 10_000
MAX_NAME_LENGTH = 120
RATE_WINDOW = timedelta(minutes=1)


class ApiKeyError(ValueError):
    """A request about keys that cannot be done; the message says why (for the operator)."""


@dataclass(frozen=True)
class NewKey:
    key: ApiKey
    secret: str  # the full key: shown once, never stored


def hash_key(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def generate_secret() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


async def create_key(
    db: Database,
    name: str,
    *,
    rate_per_minute: int = DEFAULT_RATE_PER_MINUTE,
    created_by: int | None = None,
    actor: Actor = CONSOLE,
    now: datetime | None = None,
) -> NewKey:
    """Make a key for a client system; the returned secret is the only copy there will be.

    The audit log records it (prefix, name, rate) in the same transaction, made by `actor`:
    the console unless a staff account is given.
    """
    name = name.strip()
    if not name or len(name) > MAX_NAME_LENGTH:
        raise ApiKeyError(f"the key needs a name of 1 to {MAX_NAME_LENGTH} characters")
    if not 1 <= rate_per_minute <= MAX_RATE_PER_MINUTE:
        raise ApiKeyError(f"the rate must be between 1 and {MAX_RATE_PER_MINUTE} per minute")
    secret = generate_secret()
    moment = now or utc_now()
    async with db.write() as conn:
        key_id = await q.insert_key(
            conn,
            name=name,
            key_hash=hash_key(secret),
            prefix=secret[:PREFIX_LENGTH],
            rate_per_minute=rate_per_minute,
            created_by=created_by,
            created_at=to_text(moment),
        )
        key = await q.key_by_id(conn, key_id)
        assert key is not None
        await audit.record(
            conn,
            actor,
            "apikey.create",
            table="api_keys",
            key=key.id,
            before=None,
            after=audit.key_state(key),
            now=moment,
        )
    return NewKey(key, secret)


async def list_keys(db: Database) -> list[ApiKey]:
    return await q.all_keys(db)


async def _revoke(conn: Connection, key: ApiKey, actor: Actor, moment: datetime) -> bool:
    """Revoke one key and record it in the same transaction; False if it was already."""
    if not await q.revoke(conn, key.id, to_text(moment)):
        return False
    revoked = await q.key_by_id(conn, key.id)
    assert revoked is not None
    await audit.record(
        conn,
        actor,
        "apikey.revoke",
        table="api_keys",
        key=key.id,
        before=audit.key_state(key),
        after=audit.key_state(revoked),
        now=moment,
    )
    return True


async def revoke_by_prefix(
    db: Database, prefix: str, *, actor: Actor = CONSOLE, now: datetime | None = None
) -> ApiKey:
    """Revoke the one active key shown with this prefix; refuses an ambiguous prefix."""
    prefix = prefix.strip()
    async with db.write() as conn:
        matches = await q.active_keys_with_prefix(conn, prefix)
        if not matches:
            raise ApiKeyError(f"no active key with prefix {prefix!r}")
        if len(matches) > 1:
            raise ApiKeyError(f"{len(matches)} active keys share prefix {prefix!r}; revoke by id")
        await _revoke(conn, matches[0], actor, now or utc_now())
        return matches[0]


async def revoke_by_id(
    db: Database, key_id: int, *, actor: Actor = CONSOLE, now: datetime | None = None
) -> bool:
    """Revoke a key by id (what a browser page posts); False when already revoked/unknown."""
    async with db.write() as conn:
        key = await q.key_by_id(conn, key_id)
        return key is not None and await _revoke(conn, key, actor, now or utc_now())


async def authenticate(db: Database, secret: str) -> ApiKey | None:
    """The active key this secret belongs to, or None for a missing, unknown or revoked key."""
    if not secret or not secret.startswith(KEY_PREFIX) or len(secret) > 200:
        return None
    return await q.active_key_by_hash(db, hash_key(secret))


async def take_request_slot(db: Database, key: ApiKey, *, now: datetime | None = None) -> int:
    """Count one request against the key's per-minute limit.

    Returns 0 when the request may go ahead, else the seconds to wait (for Retry-After).
    """
    moment = now or utc_now()
    async with db.write() as conn:
        free_at = await ratelimit.take_slot(
            conn, f"apikey:{key.id}", [ratelimit.Limit(RATE_WINDOW, key.rate_per_minute)], moment
        )
    if free_at is None:
        return 0
    return ratelimit.retry_after(free_at, moment)


# --- console: `aduan apikey add|list|revoke` -------------------------------------------------


def _rate(text: str) -> int:
    try:
        return parse.integer(text, minimum=1, maximum=MAX_RATE_PER_MINUTE)
    except parse.ParamError:
        raise ApiKeyError(
            f"the rate must be between 1 and {MAX_RATE_PER_MINUTE} per minute"
        ) from None


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The `apikey` command's arguments, added to the `aduan` parser."""
    apikey = sub.add_parser("apikey", help="manage Open311 API keys")
    actions = apikey.add_subparsers(dest="apikey_command", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="create a key for a client system (shown once)")
    add.add_argument("name", help="who the key is for, e.g. 'JAKI' or 'Qlue'")
    add.add_argument(
        "--rate-per-minute",
        default=str(DEFAULT_RATE_PER_MINUTE),
        metavar="N",
        help=f"requests allowed per minute (default {DEFAULT_RATE_PER_MINUTE})",
    )
    actions.add_parser("list", help="list keys (prefix, name, rate, state)")
    revoke = actions.add_parser("revoke", help="revoke a key by the prefix `list` shows")
    revoke.add_argument("prefix")


async def run_command(args: argparse.Namespace, settings: Settings) -> int:
    """Run `aduan apikey …`; operator mistakes print one line and return 2."""
    if settings.uses_sqlite and not settings.db_path.exists():
        print(
            f"aduan: error: no database at {settings.db_path}; run `aduan init` first",
            file=sys.stderr,
        )
        return 2
    try:
        async with Database(settings.database) as db:
            await db.migrate()
            if args.apikey_command == "add":
                new = await create_key(db, args.name, rate_per_minute=_rate(args.rate_per_minute))
                print(
                    f"Created API key {new.key.prefix}… for {new.key.name!r} "
                    f"({new.key.rate_per_minute} requests per minute)."
                )
                print(f"Key (shown once, store it now): {new.secret}")
            elif args.apikey_command == "list":
                keys = await list_keys(db)
                if not keys:
                    print("No API keys yet; create one with `aduan apikey add NAME`.")
                for key in keys:
                    state = "active" if key.active else f"revoked {key.revoked_at}"
                    print(
                        f"{key.prefix:<12} {key.rate_per_minute:>6}/min  "
                        f"{key.created_at}  {state:<28} {key.name}"
                    )
            elif args.apikey_command == "revoke":
                key = await revoke_by_prefix(db, args.prefix)
                print(f"Revoked API key {key.prefix}… ({key.name!r}).")
    except ApiKeyError as exc:
        print(f"aduan: error: {exc}", file=sys.stderr)
        return 2
    return 0
