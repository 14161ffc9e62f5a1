"""SQL for server-side staff sessions: the `sessions` table, and the one read that loads a
session with its (active) account on every staff request. Accounts themselves are in
db/accounts.py, failed logins in db/ratelimit.py.

Session ids never reach the database: the cookie carries a random id and the table its
sha256, so a copy of the database cannot be replayed as a login.
"""

from __future__ import annotations

from typing import Any

from db.database import Connection, Database


async def create_session(
    conn: Connection, id_hash: str, user_id: int, csrf_token: str, now: str
) -> None:
    """Store a new session by the hash of its id, seen now."""
    await conn.execute(
        "INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, last_seen_at)"
        " VALUES (:id_hash, :user_id, :csrf_token, :now, :now)",
        {"id_hash": id_hash, "user_id": user_id, "csrf_token": csrf_token, "now": now},
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
        " WHERE s.id_hash = :id_hash",
        {"id_hash": id_hash},
    )


async def touch_session(conn: Connection, id_hash: str, now: str) -> None:
    """Mark a session seen now (its idle limit counts from here); never moves it back, so
    two servers touching one session at once leave the later time."""
    await conn.execute(
        "UPDATE sessions SET last_seen_at = :now WHERE id_hash = :id_hash AND last_seen_at < :now",
        {"now": now, "id_hash": id_hash},
    )


async def delete_session(conn: Connection, id_hash: str) -> None:
    """End one session (logout, expiry, or the old id at a new login)."""
    await conn.execute("DELETE FROM sessions WHERE id_hash = :id_hash", {"id_hash": id_hash})


async def delete_user_sessions(conn: Connection, user_id: int) -> int:
    """End every session of an account (logout everywhere, deactivation, new password)."""
    return await conn.execute("DELETE FROM sessions WHERE user_id = :user_id", {"user_id": user_id})


async def delete_stale_sessions(conn: Connection, idle_before: str, born_before: str) -> int:
    """Forget sessions past their idle or absolute limit, so the table does not grow."""
    return await conn.execute(
        "DELETE FROM sessions WHERE last_seen_at < :idle_before OR created_at < :born_before",
        {"idle_before": idle_before, "born_before": born_before},
    )
