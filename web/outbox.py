"""Sending the outbox of messages (db/messages.py), whatever the channel.

`deliver_due` takes the due messages of the channels it has a sender for, each for LEASE
(another server takes one again only if this one died mid-send), and sends them outside
any transaction, so a slow or failing gateway holds no lock and never touches a staff
action. A sender answers with an Outcome: sent; worth retrying (a 5xx, a timeout, an
error on the way), after `retry_delay(attempts)`, doubling from 30 seconds up to 6 hours,
and failed after MAX_ATTEMPTS tries; failed at once (a 4xx: retrying would not help); or,
for Web Push, the subscription is gone (404/410), which forgets it.

The messages of a batch are sent side by side (CONCURRENT recipients at a time, each
recipient's in the order of their steps), so one push service that does not answer holds up
only its own messages; a message whose lease is about to run
out before its turn is not sent at all (another server may have taken it by then) and is
taken again later.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from db import messages
from db.database import Database
from web.clock import to_text, utc_now

log = logging.getLogger("aduan.outbox")

LEASE = timedelta(minutes=2)
FIRST_RETRY = timedelta(seconds=30)
LONGEST_WAIT = timedelta(hours=6)
# 30 s, 1, 2, 4, 8, 16, 32 min, 1 h 4 min: about two hours from the first try to the last.
MAX_ATTEMPTS = 8
BATCH = 50
CONCURRENT = 10
# A message is sent only while this much of its lease is left (more than a sender's timeout).
LEASE_MARGIN = timedelta(seconds=30)


@dataclass(frozen=True)
class Outcome:
    """What a channel's sender made of one message."""

    sent: bool = False
    retry: bool = False
    gone: bool = False
    error: str = ""


SENT = Outcome(sent=True)
# A channel's sender: given a claimed message (id, report_id, event_id, channel,
# recipient, alert, attempts), it delivers it and says how that went.
Sender = Callable[[Any], Awaitable[Outcome]]


def retry_delay(attempts: int) -> timedelta:
    """How long a message that failed its `attempts`-th try waits before the next one."""
    return min(FIRST_RETRY * 2 ** max(attempts - 1, 0), LONGEST_WAIT)


def next_attempt(attempts: int, now: datetime) -> datetime | None:
    """When to try again after the `attempts`-th failed try, or None: give up (failed)."""
    if attempts >= MAX_ATTEMPTS:
        return None
    return now + retry_delay(attempts)


async def _send(sender: Sender, message: Any) -> Outcome:
    try:
        return await sender(message)
    except Exception as exc:  # a network error, a bug in one adapter: try again later
        log.warning("message %s: %s", message["id"], exc, exc_info=True)
        return Outcome(retry=True, error=f"{type(exc).__name__}: {exc}")


async def deliver_due(
    db: Database,
    senders: Mapping[str, Sender],
    *,
    now: datetime | None = None,
    limit: int = BATCH,
) -> int:
    """Send up to `limit` due messages of the channels in `senders`; returns how many were
    taken. Each outcome is written in its own short transaction."""
    if not senders:
        return 0
    moment = now or utc_now()
    channels = sorted(senders)
    async with db.read() as conn:
        if not await messages.any_due(conn, now=to_text(moment), channels=channels):
            return 0
    async with db.write() as conn:
        taken = await messages.claim_due(
            conn,
            now=to_text(moment),
            lease_until=to_text(moment + LEASE),
            limit=limit,
            channels=channels,
        )
    send_before = moment + LEASE - LEASE_MARGIN
    turns = asyncio.Semaphore(CONCURRENT)
    # One recipient's messages one after another, in the order of their steps.
    by_recipient: dict[tuple[str, str], list[Any]] = {}
    for message in taken:
        by_recipient.setdefault((message["channel"], message["recipient"]), []).append(message)

    async def deliver(queue: list[Any]) -> None:
        async with turns:
            for message in queue:
                if (now or utc_now()) >= send_before:
                    return
                outcome = await _send(senders[message["channel"]], message)
                try:
                    await _record(db, message, outcome, now or utc_now())
                except Exception:
                    log.exception("message %s: outcome not recorded", message["id"])

    await asyncio.gather(*(deliver(queue) for queue in by_recipient.values()))
    return len(taken)


async def _record(db: Database, message: Any, outcome: Outcome, moment: datetime) -> None:
    message_id, attempts = message["id"], message["attempts"]
    async with db.write() as conn:
        if outcome.sent:
            await messages.mark_sent(conn, message_id, attempts, now=to_text(moment))
        elif outcome.gone and message["channel"] == "push":
            await messages.forget_push_endpoint(conn, message["recipient"])
        elif outcome.retry and (retry := next_attempt(attempts, moment)) is not None:
            await messages.retry_later(conn, message_id, attempts, outcome.error, at=to_text(retry))
        else:
            await messages.mark_failed(conn, message_id, attempts, outcome.error)
