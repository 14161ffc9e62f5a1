"""SQL for staff accounts: the `users` table and each account's scope in `user_areas`.

Creating an account, reading it for login, for the administration pages and for the audit
log, and changing its role, scope, password or active flag. Sessions are in db/sessions.py
(a session row is not an account), failed logins are counted in db/ratelimit.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from db.database import Connection, Database

ROLES = ("admin", "supervisor", "officer")
# What pages and the audit log read of an account: never the password hash.
ACCOUNT_COLUMNS = (
    "id, username, display_name, role, agency_code, active, created_at, alert_email, alert_phone"
)
_AREA_CODES = "SELECT area_code FROM user_areas WHERE user_id = :user_id ORDER BY area_code"
# Usernames are case-insensitive (SQLite: COLLATE NOCASE; PostgreSQL: a unique index on
# lower(username)); lower() folds the same ASCII letters on both.
_BY_USERNAME = "lower(username) = lower(:username)"


# --- creating and finding -----------------------------------------------------------------


async def create_account(
    conn: Connection,
    *,
    username: str,
    password_hash: str,
    role: str,
    created_at: str,
    display_name: str = "",
    agency_code: str | None = None,
    area_codes: Sequence[str] = (),
    alert_email: str = "",
    alert_phone: str = "",
) -> int:
    """Insert an account with its areas (and the work contacts its alerts also go to);
    returns its id. The display name defaults to the username. Raises ValueError for a role
    outside ROLES."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")
    user_id = await conn.insert(
        "INSERT INTO users (username, display_name, password_hash, role, agency_code, created_at,"
        " alert_email, alert_phone) VALUES (:username, :display_name, :password_hash, :role,"
        " :agency_code, :created_at, :alert_email, :alert_phone) RETURNING id",
        {
            "username": username,
            "display_name": display_name or username,
            "password_hash": password_hash,
            "role": role,
            "agency_code": agency_code,
            "created_at": created_at,
            "alert_email": alert_email,
            "alert_phone": alert_phone,
        },
    )
    assert user_id is not None
    await conn.executemany(
        "INSERT INTO user_areas (user_id, area_code) VALUES (:user_id, :area_code)",
        [{"user_id": user_id, "area_code": code} for code in area_codes],
    )
    return user_id


async def account_by_username(conn: Connection, username: str) -> Any:
    """An account by its username (case-insensitive), read in the caller's transaction;
    None if none."""
    return await conn.fetchone(
        f"SELECT {ACCOUNT_COLUMNS} FROM users WHERE {_BY_USERNAME}", {"username": username}
    )


async def account_for_login(db: Database, username: str) -> Any:
    """Id, password hash and active flag of an account by username, or None."""
    return await db.fetchone(
        f"SELECT id, password_hash, active FROM users WHERE {_BY_USERNAME}",
        {"username": username},
    )


async def account_by_id(db: Database, user_id: int) -> Any:
    """One account (ACCOUNT_COLUMNS) by id, or None."""
    return await db.fetchone(
        f"SELECT {ACCOUNT_COLUMNS} FROM users WHERE id = :user_id", {"user_id": user_id}
    )


async def area_codes(db: Database, user_id: int) -> list[str]:
    """The area codes of an account's scope (kota, kecamatan or kelurahan), in code order."""
    rows = await db.fetchall(_AREA_CODES, {"user_id": user_id})
    return [r["area_code"] for r in rows]


async def account_with_areas(conn: Connection, user_id: int) -> tuple[Any, list[str]] | None:
    """An account and its area codes, read in the caller's transaction (for the audit log's
    before and after); None when there is no such account."""
    account = await conn.fetchone(
        f"SELECT {ACCOUNT_COLUMNS} FROM users WHERE id = :user_id", {"user_id": user_id}
    )
    if account is None:
        return None
    areas = await conn.fetchall(_AREA_CODES, {"user_id": user_id})
    return account, [r["area_code"] for r in areas]


async def list_accounts(db: Database) -> list[Any]:
    """Every account with its scope, for the administration page."""
    names = db.dialect.group_concat("s.name", "', '", order_by="s.area_code")
    return await db.fetchall(
        "SELECT u.id, u.username, u.display_name, u.role, u.agency_code, u.active,"
        " u.created_at, g.name_id AS agency_name_id, g.name_en AS agency_name_en,"
        f" (SELECT {names} FROM (SELECT a.name, ua.area_code FROM user_areas ua JOIN areas a"
        "   ON a.code = ua.area_code WHERE ua.user_id = u.id ORDER BY ua.area_code) s)"
        " AS area_names"
        " FROM users u LEFT JOIN agencies g ON g.code = u.agency_code"
        " ORDER BY u.active DESC, lower(u.username)"
    )


# --- changes ------------------------------------------------------------------------------


async def set_password_hash(conn: Connection, user_id: int, password_hash: str) -> None:
    """Store a new password hash (a reset, or a rehash with today's parameters at login)."""
    await conn.execute(
        "UPDATE users SET password_hash = :password_hash WHERE id = :user_id",
        {"password_hash": password_hash, "user_id": user_id},
    )


async def set_scope(
    conn: Connection,
    user_id: int,
    *,
    role: str,
    display_name: str,
    agency_code: str | None,
    area_codes: Sequence[str],
) -> None:
    """Replace an account's role, name and scope (areas and agency) in one go."""
    await conn.execute(
        "UPDATE users SET role = :role, display_name = :display_name,"
        " agency_code = :agency_code WHERE id = :user_id",
        {
            "role": role,
            "display_name": display_name,
            "agency_code": agency_code,
            "user_id": user_id,
        },
    )
    await conn.execute("DELETE FROM user_areas WHERE user_id = :user_id", {"user_id": user_id})
    await conn.executemany(
        "INSERT INTO user_areas (user_id, area_code) VALUES (:user_id, :area_code)",
        [{"user_id": user_id, "area_code": code} for code in dict.fromkeys(area_codes)],
    )


async def set_alert_contacts(conn: Connection, user_id: int, *, email: str, phone: str) -> None:
    """Replace the work email and mobile number an account's alerts go to ('' for none)."""
    await conn.execute(
        "UPDATE users SET alert_email = :email, alert_phone = :phone WHERE id = :user_id",
        {"email": email, "phone": phone, "user_id": user_id},
    )


async def set_active(conn: Connection, user_id: int, active: bool) -> None:
    """Deactivate or reactivate an account (its sessions are ended by the caller)."""
    await conn.execute(
        "UPDATE users SET active = :active WHERE id = :user_id",
        {"active": int(active), "user_id": user_id},
    )


# --- what a scope may name ----------------------------------------------------------------


async def known_area_codes(
    conn: Connection, codes: Sequence[str], *, min_level: int = 2
) -> set[str]:
    """Which of these codes are areas a scope can name: kota, kecamatan or kelurahan (level
    2 to 4); `min_level=1` also accepts a province."""
    if not codes:
        return set()
    rows = await conn.fetchall(
        "SELECT code FROM areas WHERE level >= :min_level AND code IN :codes",
        {"min_level": min_level, "codes": list(codes)},
    )
    return {r["code"] for r in rows}


async def agency_exists(conn: Connection, code: str) -> bool:
    """Whether an agency with this code exists."""
    row = await conn.fetchone("SELECT 1 FROM agencies WHERE code = :code", {"code": code})
    return row is not None
