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

    One server at a time (a lock on the table's key): whether another client still holds a
    photo is decided with no other hold running, so a file is never deleted under a hold
    that another server is writing.
    """
    async with db.write() as conn:
        await conn.lock("held_photos")
        await conn.execute(
            "DELETE FROM held_photos WHERE held_at < :forget_before",
            {"forget_before": forget_before},
        )
        for sha in shas:
            # Held again: a new row, so that id order is the order photos were held in.
            key = {"client": client, "sha256": sha}
            await conn.execute(
                "DELETE FROM held_photos WHERE client = :client AND sha256 = :sha256", key
            )
            await conn.execute(
                "INSERT INTO held_photos (client, sha256, held_at)"
                " VALUES (:client, :sha256, :held_at)",
                {**key, "held_at": now},
            )
        rows = await conn.fetchall(
            "SELECT sha256 FROM held_photos h WHERE client = :client"
            " AND NOT EXISTS (SELECT 1 FROM photos p WHERE p.sha256 = h.sha256)"
            " ORDER BY id DESC",
            {"client": client},
        )
        deletable = []
        for row in rows[keep:]:
            key = {"client": client, "sha256": row["sha256"]}
            await conn.execute(
                "DELETE FROM held_photos WHERE client = :client AND sha256 = :sha256", key
            )
            other = await conn.fetchone(
                "SELECT 1 FROM held_photos WHERE sha256 = :sha256 LIMIT 1", key
            )
            if other is None:
                deletable.append(row["sha256"])
    return deletable
