"""Leases on periodic tasks, so that each runs once across every server (`task_leases`).

A server runs a task only while it holds the task's lease. It takes the lease when nobody
holds it — there is no lease yet, the holder released it, or the holder's lease expired
(a server that died mid-task) — and, for the hourly loop, when the last run finished long
enough ago. Taking it is one atomic upsert, so of several servers trying at once exactly
one gets it, on SQLite as on PostgreSQL. Times are stored UTC text (db/timestamps.py),
passed in by the caller: servers' clocks are assumed to agree within seconds (NTP).
"""

from __future__ import annotations

from db.database import Database


async def claim(
    db: Database,
    name: str,
    holder: str,
    *,
    now: str,
    expires_at: str,
    finished_before: str | None = None,
) -> bool:
    """Take the lease of task `name` for `holder` until `expires_at`; False when another
    holder has it, or (with `finished_before`) when the last run finished after that."""
    async with db.write() as conn:
        row = await conn.fetchone(
            "INSERT INTO task_leases (name, holder, expires_at)"
            " VALUES (:name, :holder, :expires_at)"
            " ON CONFLICT (name) DO UPDATE SET holder = excluded.holder,"
            " expires_at = excluded.expires_at"
            " WHERE task_leases.expires_at <= :now"
            " AND (task_leases.finished_at IS NULL OR task_leases.finished_at <= :finished_before)"
            " RETURNING holder",
            {
                "name": name,
                "holder": holder,
                "expires_at": expires_at,
                "now": now,
                "finished_before": finished_before or now,
            },
        )
    return row is not None and row["holder"] == holder


async def renew(db: Database, name: str, holder: str, *, expires_at: str) -> bool:
    """Extend a lease still held by `holder` (a long run); False when it was lost."""
    async with db.write() as conn:
        changed = await conn.execute(
            "UPDATE task_leases SET expires_at = :expires_at"
            " WHERE name = :name AND holder = :holder",
            {"name": name, "holder": holder, "expires_at": expires_at},
        )
    return changed == 1


async def release(db: Database, name: str, holder: str, *, now: str, finished: bool) -> None:
    """Give the lease back; `finished` records a completed run (a failed one is retried by
    whichever server looks next)."""
    async with db.write() as conn:
        await conn.execute(
            "UPDATE task_leases SET expires_at = :now,"
            " finished_at = CASE WHEN :finished = 1 THEN :now ELSE finished_at END"
            " WHERE name = :name AND holder = :holder",
            {"name": name, "holder": holder, "now": now, "finished": int(finished)},
        )


async def lease(db: Database, name: str) -> object:
    """A task's lease row (holder, expires_at, finished_at), or None."""
    return await db.fetchone(
        "SELECT holder, expires_at, finished_at FROM task_leases WHERE name = :name",
        {"name": name},
    )
