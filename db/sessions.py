"""SQL for who may be logged in: server-side sessions, counted login failures, and the
account changes an administrator makes (scope, password, deactivation).

Session ids never reach the database: the cookie carries a random id and the table its
sha256, so a copy of the database cannot be replayed as a login.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import aiosqlite

from db.database import Database


async def _all(conn: aiosqlite.Connection, sql: str, params: Any = ()) -> list[Any]:
    async with conn.execute(sql, params) as cur:
        return list(await cur.fetchall())


# --- sessions -----------------------------------------------------------------------------


async def create_session(
    conn: aiosqlite.Connection, id_hash: str, user_id: int, csrf_token: str, now: str
) -> None:
    await conn.execute(
        "INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, last_seen_at)"
        " VALUES (?, ?, ?, ?, ?)",
        (id_hash, user_id, csrf_token, now, now),
    )


async def session_account(db: Database, id_hash: str) -> Any:
    """The session and its account, only while the account is active.

    Returns the session times so the caller can apply the idle and absolute limits.
    """
    return await db.fetchone(
        "SELECT s.id_hash, s.csrf_token, s.created_at, s.last_seen_at,"
        " u.id, u.username, u.display_name, u.role, u.agency_code,"
        " COALESCE(g.is_inspectorate, 0) AS is_inspectorate,"
        " g.name_id AS agency_name_id, g.name_en AS agency_name_en"
        " FROM sessions s JOIN users u ON u.id = s.user_id AND u.active = 1"
        " LEFT JOIN agencies g ON g.code = u.agency_code"
        " WHERE s.id_hash = ?",
        (id_hash,),
    )


async def area_codes(db: Database, user_id: int) -> list[str]:
    rows = await db.fetchall(
        "SELECT area_code FROM user_areas WHERE user_id = ? ORDER BY area_code", (user_id,)
    )
    return [r["area_code"] for r in rows]


async def touch_session(conn: aiosqlite.Connection, id_hash: str, now: str) -> None:
    await conn.execute("UPDATE sessions SET last_seen_at = ? WHERE id_hash = ?", (now, id_hash))


async def delete_session(conn: aiosqlite.Connection, id_hash: str) -> None:
    await conn.execute("DELETE FROM sessions WHERE id_hash = ?", (id_hash,))


async def delete_user_sessions(conn: aiosqlite.Connection, user_id: int) -> int:
    """End every session of an account (logout everywhere, deactivation, new password)."""
    cur = await conn.execute("DELETE FROM sessions WHERE user_id = ?", (user_id,))
    return cur.rowcount


async def delete_stale_sessions(
    conn: aiosqlite.Connection, idle_before: str, born_before: str
) -> int:
    """Forget sessions past their idle or absolute limit, so the table does not grow."""
    cur = await conn.execute(
        "DELETE FROM sessions WHERE last_seen_at < ? OR created_at < ?", (idle_before, born_before)
    )
    return cur.rowcount


# --- accounts -----------------------------------------------------------------------------


async def user_for_login(db: Database, username: str) -> Any:
    return await db.fetchone(
        "SELECT id, password_hash, active FROM users WHERE username = ?", (username,)
    )


async def set_password_hash(conn: aiosqlite.Connection, user_id: int, password_hash: str) -> None:
    await conn.execute("UPDATE users SET password_hash = ? WHERE id = ?", (password_hash, user_id))


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


async def account_by_id(db: Database, user_id: int) -> Any:
    return await db.fetchone(
        "SELECT id, username, display_name, role, agency_code, active, created_at"
        " FROM users WHERE id = ?",
        (user_id,),
    )


async def account_with_areas(
    conn: aiosqlite.Connection, user_id: int
) -> tuple[Any, list[str]] | None:
    """An account and its area codes, read in the caller's transaction (for the audit log's
    before and after); None when there is no such account."""
    rows = await _all(
        conn,
        "SELECT id, username, display_name, role, agency_code, active FROM users WHERE id = ?",
        (user_id,),
    )
    if not rows:
        return None
    areas = await _all(
        conn, "SELECT area_code FROM user_areas WHERE user_id = ? ORDER BY area_code", (user_id,)
    )
    return rows[0], [r["area_code"] for r in areas]


async def username_taken(conn: aiosqlite.Connection, username: str) -> bool:
    rows = await _all(conn, "SELECT 1 FROM users WHERE username = ?", (username,))
    return bool(rows)


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
    await conn.execute("UPDATE users SET active = ? WHERE id = ?", (int(active), user_id))


async def known_area_codes(conn: aiosqlite.Connection, codes: Sequence[str]) -> set[str]:
    """Which of these codes are areas a scope can name (kota, kecamatan or kelurahan)."""
    if not codes:
        return set()
    marks = ", ".join("?" for _ in codes)
    rows = await _all(
        conn, f"SELECT code FROM areas WHERE level >= 2 AND code IN ({marks})", list(codes)
    )
    return {r["code"] for r in rows}
