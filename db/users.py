"""SQL for staff accounts and their scope."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import aiosqlite

ROLES = ("admin", "supervisor", "officer")


async def create_user(
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


async def user_by_username(conn: aiosqlite.Connection, username: str) -> Any:
    async with conn.execute("SELECT * FROM users WHERE username = ?", (username,)) as cur:
        return await cur.fetchone()
