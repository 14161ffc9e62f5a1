"""SQL for Open311 API keys (their per-minute request counts are in db/ratelimit.py).

Only the sha256 of a key is stored (the key itself is shown once, when it is made), with a
short prefix so that people can tell keys apart in lists and revoke one by it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from db.database import Connection, Database

KEY_COLUMNS = "id, name, prefix, rate_per_minute, created_by, created_at, revoked_at"


@dataclass(frozen=True)
class ApiKey:
    """An API key as lists and the audit log show it; never its hash."""

    id: int
    name: str
    prefix: str
    rate_per_minute: int
    created_by: int | None
    created_at: str
    revoked_at: str | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    @classmethod
    def from_row(cls, row: Any) -> ApiKey:
        return cls(
            id=row["id"],
            name=row["name"],
            prefix=row["prefix"],
            rate_per_minute=row["rate_per_minute"],
            created_by=row["created_by"],
            created_at=row["created_at"],
            revoked_at=row["revoked_at"],
        )


async def insert_key(
    conn: Connection,
    *,
    name: str,
    key_hash: str,
    prefix: str,
    rate_per_minute: int,
    created_at: str,
    created_by: int | None = None,
) -> int:
    """Store a new key by its hash; returns its id."""
    key_id = await conn.insert(
        "INSERT INTO api_keys (name, key_hash, prefix, rate_per_minute, created_by, created_at)"
        " VALUES (:name, :key_hash, :prefix, :rate_per_minute, :created_by, :created_at)"
        " RETURNING id",
        {
            "name": name,
            "key_hash": key_hash,
            "prefix": prefix,
            "rate_per_minute": rate_per_minute,
            "created_by": created_by,
            "created_at": created_at,
        },
    )
    assert key_id is not None
    return key_id


async def active_key_by_hash(db: Database, key_hash: str) -> ApiKey | None:
    """The unrevoked key with this hash, or None (unknown and revoked keys look the same)."""
    row = await db.fetchone(
        f"SELECT {KEY_COLUMNS} FROM api_keys WHERE key_hash = :key_hash AND revoked_at IS NULL",
        {"key_hash": key_hash},
    )
    return ApiKey.from_row(row) if row else None


async def all_keys(db: Database) -> list[ApiKey]:
    """Every key, active ones first, newest first; never the hash."""
    rows = await db.fetchall(
        f"SELECT {KEY_COLUMNS} FROM api_keys ORDER BY revoked_at IS NOT NULL, id DESC"
    )
    return [ApiKey.from_row(r) for r in rows]


async def active_keys_with_prefix(conn: Connection, prefix: str) -> list[ApiKey]:
    """The unrevoked keys shown with this prefix, read in the caller's transaction."""
    rows = await conn.fetchall(
        f"SELECT {KEY_COLUMNS} FROM api_keys WHERE prefix = :prefix AND revoked_at IS NULL",
        {"prefix": prefix},
    )
    return [ApiKey.from_row(r) for r in rows]


async def key_by_id(conn: Connection, key_id: int) -> ApiKey | None:
    """One key by id (revoked ones too), read in the caller's transaction; None if unknown."""
    row = await conn.fetchone(
        f"SELECT {KEY_COLUMNS} FROM api_keys WHERE id = :key_id", {"key_id": key_id}
    )
    return ApiKey.from_row(row) if row else None


async def revoke(conn: Connection, key_id: int, revoked_at: str) -> bool:
    """Mark a key revoked; False when it was unknown or already revoked (one atomic
    UPDATE: of two servers revoking at once, one changes the row)."""
    changed = await conn.execute(
        "UPDATE api_keys SET revoked_at = :revoked_at WHERE id = :key_id AND revoked_at IS NULL",
        {"revoked_at": revoked_at, "key_id": key_id},
    )
    return changed == 1
