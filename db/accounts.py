"""SQL for staff accounts: the `users` table and each account's scope in `user_areas`.

Creating an account, reading it for login, for the administration pages and for the audit
log, and changing its role, scope, password or active flag. Sessions are in db/sessions.py
(a session row is not an account), failed logins are counted in db/ratelimit.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import aiosqlite

from db.database import Database

ROLES = ("admin", "supervisor", "officer")
# What pages and the audit log read of an account: never the password hash.
ACCOUNT_COLUMNS = "id, username, display_name, role, agency_code, active, created_at"
_AREA_CODES = "SELECT area_code FROM user_areas WHERE user_id = ? ORDER BY area_code"


async def _all(conn: aiosqlite.Connection, sql: str, params: Any = ()) -> list[Any]:
    async with conn.execute(sql, params) as cur:
        return list(await cur.fetchall())


# --- creating and finding -----------------------------------------------------------------


async def create_account(
    conn: aiosqlite.Connection,
    *,
    username: str,
    password_hash: str,
    role: str,
    created_at: str,
    display_name: str = "",
    agency_code: str | None = None,
    area_codes: Sequence[str] = (),
) -> int:
    """Insert an account with its areas; returns its id. The display name defaults to the
    username. Raises ValueError for a role outside ROLES."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")
    cur = await conn.execute(
        "INSERT INTO users (username, display_name, password_hash, role, agency_code, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (username, display_name or username, password_hash, role, agency_code, created_at),
    )
    user_id = cur.lastrowid
    assert user_id is not None
    await conn.executemany(
        "INSERT INTO user_areas (user_id, area_code) VALUES (?, ?)",
        [(user_id, code) for code in area_codes],
    )
    return user_id


async def account_by_username(conn: aiosqlite.Connection, username: str) -> Any:
    """An account by its exact username, read in the caller's transaction; None if none."""
    rows = await _all(conn, f"SELECT {ACCOUNT_COLUMNS} FROM users WHERE username = ?", (username,))
    return rows[0] if rows else None


async def account_for_login(db: Database, username: str) -> Any:
    """Id, password hash and active flag of an account by username, or None."""
    return await db.fetchone(
        "SELECT id, password_hash, active FROM users WHERE username = ?", (username,)
    )


async def account_by_id(db: Database, user_id: int) -> Any:
    """One account (ACCOUNT_COLUMNS) by id, or None."""
    return await db.fetchone(f"SELECT {ACCOUNT_COLUMNS} FROM users WHERE id = ?", (user_id,))


async def area_codes(db: Database, user_id: int) -> list[str]:
    """The area codes of an account's scope (kota, kecamatan or kelurahan), in code order."""
    rows = await db.fetchall(_AREA_CODES, (user_id,))
    return [r["area_code"] for r in rows]


async def account_with_areas(
    conn: aiosqlite.Connection, user_id: int
) -> tuple[Any, list[str]] | None:
    """An account and its area codes, read in the caller's transaction (for the audit log's
    before and after); None when there is no such account."""
    rows = await _all(conn, f"SELECT {ACCOUNT_COLUMNS} FROM users WHERE id = ?", (user_id,))
    if not rows:
        return None
    areas = await _all(conn, _AREA_CODES, (user_id,))
    return rows[0], [r["area_code"] for r in areas]


async def list_accounts(db: Database) -> list[Any]:
    """Every account with its scope, for the administration page."""
    return await db.fetchall(
        "SELECT u.id, u.username, u.display_name, u.role, u.agency_code, u.active,"
        " u.created_at, g.name_id AS agency_name_id, g.name_en AS agency_name_en,"
        " (SELECT group_concat(a.name, ', ') FROM user_areas ua JOIN areas a"
        "   ON a.code = ua.area_code WHERE ua.user_id = u.id) AS area_names"
        " FROM users u LEFT JOIN agencies g ON g.code = u.agency_code"
        " ORDER BY u.active DESC, u.username"
    )


# --- changes ------------------------------------------------------------------------------


async def set_password_hash(conn: aiosqlite.Connection, user_id: int, password_hash: str) -> None:
    """Store a new password hash (a reset, or a rehash with today's parameters at login)."""
    await conn.execute("UPDATE users SET password_hash = ? WHERE id = ?", (password_hash, user_id))


async def set_scope(
    conn: aiosqlite.Connection,
    user_id: int,
    *,
    role: str,
    display_name: str,
    agency_code: str | None,
    area_codes: Sequence[str],
) -> None:
    """Replace an account's role, name and scope (areas and agency) in one go."""
    await conn.execute(
        "UPDATE users SET role = ?, display_name = ?, agency_code = ? WHERE id = ?",
        (role, display_name, agency_code, user_id),
    )
    await conn.execute("DELETE FROM user_areas WHERE user_id = ?", (user_id,))
    await conn.executemany(
        "INSERT INTO user_areas (user_id, area_code) VALUES (?, ?)",
        [(user_id, code) for code in dict.fromkeys(area_codes)],
    )


async def set_active(conn: aiosqlite.Connection, user_id: int, active: bool) -> None:
    """Deactivate or reactivate an account (its sessions are ended by the caller)."""
    await conn.execute("UPDATE users SET active = ? WHERE id = ?", (int(active), user_id))


# --- what a scope may name ----------------------------------------------------------------


async def known_area_codes(
    conn: aiosqlite.Connection, codes: Sequence[str], *, min_level: int = 2
) -> set[str]:
    """Which of these codes are areas a scope can name: kota, kecamatan or kelurahan (level
    2 to 4); `min_level=1` also accepts a province."""
    if not codes:
        return set()
    marks = ", ".join("?" for _ in codes)
    rows = await _all(
        conn,
        f"SELECT code FROM areas WHERE level >= ? AND code IN ({marks})",
        [min_level, *codes],
    )
    return {r["code"] for r in rows}


async def agency_exists(conn: aiosqlite.Connection, code: str) -> bool:
    """Whether an agency with this code exists."""
    rows = await _all(conn, "SELECT 1 FROM agencies WHERE code = ?", (code,))
    return bool(rows)
