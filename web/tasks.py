"""Periodic upkeep inside the server (and `aduan tasks run` for cron): remove photos that
no report uses (left by forms that were never completed)."""

from __future__ import annotations

import asyncio
import logging

import anyio

from db.database import Database
from web.photos import PhotoStore
from web.settings import Settings

log = logging.getLogger("aduan.tasks")
INTERVAL_SECONDS = 3600
ORPHAN_AGE_SECONDS = 24 * 3600


async def sweep_photos(
    db: Database, store: PhotoStore, older_than: float = ORPHAN_AGE_SECONDS
) -> int:
    """Delete stored photos that no report refers to and that are older than a day (a
    resident may still be fixing the form that holds them)."""
    rows = await db.fetchall("SELECT DISTINCT sha256 FROM photos")
    keep = {r["sha256"] for r in rows}
    removed = await anyio.to_thread.run_sync(store.sweep, keep, older_than)
    if removed:
        log.info("swept %d orphan photos", removed)
    return removed


async def run_once(db: Database, settings: Settings) -> None:
    await sweep_photos(db, PhotoStore(settings.photo_dir))


async def run_forever(db: Database, settings: Settings) -> None:
    """Runs the tasks every hour until cancelled; one failure never stops the loop."""
    while True:
        try:
            await run_once(db, settings)
        except Exception:
            log.exception("periodic task failed")
        await asyncio.sleep(INTERVAL_SECONDS)
