"""Residents hear back by themselves: every channel's sender in one place (`senders`), and the
loop each server runs to send the outbox's due messages (`deliver_forever`), started by the
app's lifespan when ADUAN_NO_TASKS is not set; `aduan tasks run` sends them once
(`deliver_now`).

Every server of a deployment may run the loop: each message is taken under a lease
(web/outbox.py), so it is sent by one of them. A server that is stopped finishes the batch
in hand first (at most a sender's timeout), so a restart neither drops a message it took
nor sends it twice.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

from db.database import Database
from web import gateways, outbox, webpush
from web.outbox import Sender
from web.settings import Settings

log = logging.getLogger("aduan.notify")
# How often each server looks for due messages (a read; the claim is a write only when
# there is something to send). A full batch is followed by the next at once.
EVERY_SECONDS = 5.0
# How long a stopping server waits for the batch in hand: a push's timeout and a little.
DRAIN_SECONDS = webpush.TIMEOUT + 5
# The most batches `aduan tasks run` sends in one go.
MAX_BATCHES = 100


@asynccontextmanager
async def senders(settings: Settings, db: Database) -> AsyncIterator[dict[str, Sender]]:
    """Every channel this deployment sends on, by name (db.messages.CHANNELS), with what
    they hold open (the HTTP client) closed on exit."""
    async with webpush.http_client() as http:
        yield {"push": webpush.WebPush(settings, db, http), **gateways.senders(settings, db)}


async def deliver_forever(db: Database, settings: Settings, stop: asyncio.Event) -> None:
    """Send due messages every few seconds until `stop` is set; one failure never ends it."""
    try:
        async with senders(settings, db) as opened:
            while not stop.is_set():
                try:
                    taken = await outbox.deliver_due(db, opened)
                except Exception:
                    log.exception("sending due messages failed")
                    taken = 0
                if taken >= outbox.BATCH:
                    continue
                # Jitter: servers started together do not all look at the same moment.
                pause = EVERY_SECONDS * random.uniform(0.8, 1.2)
                with suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), pause)
    except Exception:  # the senders could not be set up (a VAPID key that cannot be read)
        log.exception("messages cannot be sent from this server")


async def stop_delivery(task: asyncio.Task[None], stop: asyncio.Event) -> None:
    """Let the loop finish the batch in hand (DRAIN_SECONDS at most), then end it."""
    stop.set()
    await asyncio.wait({task}, timeout=DRAIN_SECONDS)
    if not task.done():
        task.cancel()
        await asyncio.wait({task})


async def deliver_now(db: Database, settings: Settings) -> int:
    """Send every message due now (`aduan tasks run`); returns how many were taken."""
    total = 0
    async with senders(settings, db) as opened:
        for _ in range(MAX_BATCHES):
            taken = await outbox.deliver_due(db, opened)
            total += taken
            if taken < outbox.BATCH:
                break
    return total
