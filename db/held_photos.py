"""Photos a failed form attempt keeps for the next attempt, counted per client, so that
refused forms cannot fill the disk with photos no report uses (web/limits.py)."""

from __future__ import annotations

from collections.abc import Sequence

from db.database import Database


async def hold(
    db: Database, client: str, shas: Sequence[str], *, now: str, keep: int, forget_before: str
) -> list[str]:
    """Record `shas` as held by `client` (newest last), keeping its newest `keep` photos
    that no report uses; returns the photos it let go of that no report uses and no other
    client holds, whose files may be deleted now.

    Rows older than `forget_before` are forgotten, whoever holds them (the hourly sweep
    deletes those files once they are a day old and unused).
    """
    async with db.write() as conn:
        await conn.execute("DELETE FROM held_photos WHERE held_at < ?", (forget_before,))
        for sha in shas:
            # REPLACE gives the row a new rowid: rowid order is the order photos were held.
            await conn.execute(
                "INSERT OR REPLACE INTO held_photos (client, sha256, held_at) VALUES (?, ?, ?)",
                (client, sha, now),
            )
        async with conn.execute(
            "SELECT sha256 FROM held_photos h WHERE client = ?"
            " AND NOT EXISTS (SELECT 1 FROM photos p WHERE p.sha256 = h.sha256)"
            " ORDER BY rowid DESC LIMIT -1 OFFSET ?",
            (client, keep),
        ) as cur:
            dropped = [row["sha256"] for row in await cur.fetchall()]
        deletable = []
        for sha in dropped:
            await conn.execute(
                "DELETE FROM held_photos WHERE client = ? AND sha256 = ?", (client, sha)
            )
            async with conn.execute(
                "SELECT 1 FROM held_photos WHERE sha256 = ? LIMIT 1", (sha,)
            ) as cur:
                if await cur.fetchone() is None:
                    deletable.append(sha)
    return deletable
