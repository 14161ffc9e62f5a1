"""SQL for what residents hear back: browsers' Web Push subscriptions and the reports each
follows, and the durable outbox of messages (`messages`) every channel is sent from.

A message is written in the same transaction as the public timeline event that causes it
(web/lifecycle/events.py), and the unique index `messages_once` makes one per report,
event, channel and recipient (and staff alert, db/alerts.py): enqueueing the same event
again, from a retry or another server, adds nothing. Senders take due messages with
`claim_due`, which moves each one's `next_attempt_at` forward by a lease in the same
statement, so two servers never take the same message and one that dies mid-send leaves
it to be taken again.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from db.database import Connection

PENDING, SENT, FAILED = "pending", "sent", "failed"
CHANNELS = ("push", "email", "sms", "whatsapp")
# The longest error text kept on a message (a gateway may answer with a whole page).
ERROR_LENGTH = 500


async def subscribe_push(
    conn: Connection,
    report_id: int,
    *,
    endpoint: str,
    p256dh: str,
    auth: str,
    language: str,
    now: str,
) -> bool:
    """Make `endpoint` follow a report, creating its subscription or renewing its keys and
    language (a browser that subscribes again may have new keys). True when it did not
    follow the report yet."""
    subscription_id = await conn.insert(
        "INSERT INTO push_subscriptions (endpoint, p256dh, auth, language, created_at,"
        " updated_at) VALUES (:endpoint, :p256dh, :auth, :language, :now, :now)"
        " ON CONFLICT (endpoint) DO UPDATE SET p256dh = excluded.p256dh,"
        " auth = excluded.auth, language = excluded.language, updated_at = excluded.updated_at"
        " RETURNING id",
        {"endpoint": endpoint, "p256dh": p256dh, "auth": auth, "language": language, "now": now},
    )
    assert subscription_id is not None
    added = await conn.insert(
        "INSERT INTO push_follows (subscription_id, report_id, created_at)"
        " VALUES (:subscription_id, :report_id, :now)"
        " ON CONFLICT (subscription_id, report_id) DO NOTHING RETURNING subscription_id",
        {"subscription_id": subscription_id, "report_id": report_id, "now": now},
    )
    return added is not None


async def unsubscribe_push(conn: Connection, report_id: int, endpoint: str) -> bool:
    """Stop `endpoint` following a report; a subscription left following nothing is
    deleted. True when it followed the report."""
    subscription_id = await conn.scalar(
        "SELECT id FROM push_subscriptions WHERE endpoint = :endpoint", {"endpoint": endpoint}
    )
    if subscription_id is None:
        return False
    removed = await conn.execute(
        "DELETE FROM push_follows WHERE subscription_id = :id AND report_id = :report_id",
        {"id": subscription_id, "report_id": report_id},
    )
    await conn.execute(
        "DELETE FROM push_subscriptions WHERE id = :id AND NOT EXISTS"
        " (SELECT 1 FROM push_follows WHERE subscription_id = :id)",
        {"id": subscription_id},
    )
    return removed > 0


async def enqueue_push(conn: Connection, report_id: int, event_id: int, *, now: str) -> int:
    """One pending push message for `event_id` to every subscription following the report,
    due at once; a message already there for the same report, event and endpoint stays as
    it is. Returns how many were added."""
    return await conn.execute(
        "INSERT INTO messages (report_id, event_id, channel, recipient, state,"
        " next_attempt_at, created_at)"
        " SELECT f.report_id, :event_id, 'push', s.endpoint, 'pending', :now, :now"
        " FROM push_follows f JOIN push_subscriptions s ON s.id = f.subscription_id"
        " WHERE f.report_id = :report_id"
        " ON CONFLICT (report_id, event_id, channel, recipient, alert) DO NOTHING",
        {"report_id": report_id, "event_id": event_id, "now": now},
    )


async def any_due(conn: Connection, *, now: str, channels: Sequence[str] = CHANNELS) -> bool:
    """Whether a pending message of `channels` is due at `now`: a read, so a sender that
    looks every few seconds takes the write lock only when there is something to send."""
    found = await conn.scalar(
        "SELECT 1 FROM messages WHERE state = 'pending' AND next_attempt_at <= :now"
        " AND channel IN :channels LIMIT 1",
        {"now": now, "channels": list(channels)},
    )
    return found is not None


async def claim_due(
    conn: Connection,
    *,
    now: str,
    lease_until: str,
    limit: int,
    channels: Sequence[str] = CHANNELS,
) -> list[Any]:
    """Take up to `limit` pending messages of `channels` due at `now` for sending: each
    one's attempts go up by one and its next attempt moves to `lease_until`, so no other
    sender takes it meanwhile. The outer conditions are checked again on each row as it is
    locked (PostgreSQL, READ COMMITTED), so of two senders racing for a row only one takes
    it."""
    return await conn.fetchall(
        "UPDATE messages SET attempts = attempts + 1, next_attempt_at = :lease_until"
        " WHERE id IN (SELECT id FROM messages WHERE state = 'pending'"
        " AND next_attempt_at <= :now AND channel IN :channels"
        " ORDER BY next_attempt_at, id LIMIT :limit)"
        " AND state = 'pending' AND next_attempt_at <= :now"
        " RETURNING id, report_id, event_id, channel, recipient, alert, attempts",
        {"now": now, "lease_until": lease_until, "limit": limit, "channels": list(channels)},
    )


async def forget_push_endpoint(conn: Connection, endpoint: str) -> None:
    """The push service says the subscription is gone (404, 410): forget it and what it
    follows; its messages not yet sent are failed."""
    await conn.execute(
        "UPDATE messages SET state = 'failed', last_error = 'subscription gone'"
        " WHERE channel = 'push' AND recipient = :endpoint AND state = 'pending'",
        {"endpoint": endpoint},
    )
    await conn.execute(
        "DELETE FROM push_follows WHERE subscription_id IN"
        " (SELECT id FROM push_subscriptions WHERE endpoint = :endpoint)",
        {"endpoint": endpoint},
    )
    await conn.execute(
        "DELETE FROM push_subscriptions WHERE endpoint = :endpoint", {"endpoint": endpoint}
    )
    await conn.execute(
        "DELETE FROM staff_push_subscriptions WHERE endpoint = :endpoint", {"endpoint": endpoint}
    )


# The outcome of a try is written only by the sender that made it: `attempts` is the try's
# number, as claim_due returned it. A sender whose lease ran out (another took the message
# again meanwhile) writes nothing.


async def mark_sent(conn: Connection, message_id: int, attempts: int, *, now: str) -> None:
    await conn.execute(
        "UPDATE messages SET state = 'sent', sent_at = :now, last_error = ''"
        " WHERE id = :id AND state = 'pending' AND attempts = :attempts",
        {"id": message_id, "attempts": attempts, "now": now},
    )


async def retry_later(
    conn: Connection, message_id: int, attempts: int, error: str, *, at: str
) -> None:
    """A failure worth trying again (a gateway's 5xx, a timeout): next attempt at `at`."""
    await conn.execute(
        "UPDATE messages SET next_attempt_at = :at, last_error = :error"
        " WHERE id = :id AND state = 'pending' AND attempts = :attempts",
        {"id": message_id, "attempts": attempts, "at": at, "error": error[:ERROR_LENGTH]},
    )


async def mark_failed(conn: Connection, message_id: int, attempts: int, error: str) -> None:
    """A failure that trying again would not change (a 4xx, too many attempts)."""
    await conn.execute(
        "UPDATE messages SET state = 'failed', last_error = :error"
        " WHERE id = :id AND state = 'pending' AND attempts = :attempts",
        {"id": message_id, "attempts": attempts, "error": error[:ERROR_LENGTH]},
    )


async def of_report(conn: Connection, report_id: int) -> list[Any]:
    """A report's messages to its reporter, oldest first (for the case page); staff alerts
    are not among them."""
    return await conn.fetchall(
        "SELECT id, event_id, channel, recipient, state, attempts, next_attempt_at,"
        " last_error, created_at, sent_at FROM messages"
        " WHERE report_id = :report_id AND alert = '' ORDER BY id",
        {"report_id": report_id},
    )


async def push_details(conn: Connection, message_id: int) -> Any:
    """What a push message is made from: its report's code, confidentiality and category,
    the event's kind and public note, which staff alert it is ('' for a resident's step),
    and the keys and language of the subscription it goes to (a resident's, or for an
    alert a staff browser's; None when the subscription is gone). Nothing about the
    reporter is read."""
    return await conn.fetchone(
        "SELECT m.id, m.recipient, m.alert, r.code, r.confidential, e.kind, e.public_note,"
        " c.name_id AS category_name_id, c.name_en AS category_name_en,"
        " CASE WHEN m.alert = '' THEN s.p256dh ELSE t.p256dh END AS p256dh,"
        " CASE WHEN m.alert = '' THEN s.auth ELSE t.auth END AS auth,"
        " CASE WHEN m.alert = '' THEN s.language ELSE t.language END AS language"
        " FROM messages m"
        " JOIN reports r ON r.id = m.report_id JOIN report_events e ON e.id = m.event_id"
        " JOIN categories c ON c.code = r.category_code"
        " LEFT JOIN push_subscriptions s ON s.endpoint = m.recipient"
        " LEFT JOIN staff_push_subscriptions t ON t.endpoint = m.recipient"
        " WHERE m.id = :id",
        {"id": message_id},
    )


async def contacts_of(conn: Connection, report_id: int) -> Any:
    """The channels a report's reporter agreed to hear back on and their contact."""
    return await conn.fetchone(
        "SELECT notify_by, reporter_phone, reporter_email FROM reports WHERE id = :id",
        {"id": report_id},
    )


async def enqueue_contact(
    conn: Connection, report_id: int, event_id: int, channel: str, recipient: str, *, now: str
) -> int:
    """One pending message of `event_id` on a contact channel (email, sms, whatsapp) to
    `recipient`, due at once; nothing when one is already there. Returns how many were added."""
    return await conn.execute(
        "INSERT INTO messages (report_id, event_id, channel, recipient, state,"
        " next_attempt_at, created_at)"
        " VALUES (:report_id, :event_id, :channel, :recipient, 'pending', :now, :now)"
        " ON CONFLICT (report_id, event_id, channel, recipient, alert) DO NOTHING",
        {
            "report_id": report_id,
            "event_id": event_id,
            "channel": channel,
            "recipient": recipient,
            "now": now,
        },
    )


async def contact_details(conn: Connection, message_id: int) -> Any:
    """What an email, SMS or WhatsApp message is written from at send time: the report's
    code, confidentiality, language and the channels still agreed to, and the event's kind
    and public note. Nothing else about the reporter is read."""
    return await conn.fetchone(
        "SELECT m.id, m.channel, m.recipient, m.alert, r.code, r.confidential, r.language,"
        " r.notify_by, e.kind, e.public_note FROM messages m"
        " JOIN reports r ON r.id = m.report_id JOIN report_events e ON e.id = m.event_id"
        " WHERE m.id = :id",
        {"id": message_id},
    )


async def notify_by_for_update(conn: Connection, code: str) -> Any:
    """A report's id and `notify_by`, locked for the rest of the write transaction."""
    return await conn.fetchone(
        f"SELECT id, notify_by FROM reports WHERE code = :code{conn.dialect.for_update}",
        {"code": code},
    )


async def stop_channel(conn: Connection, report_id: int, notify_by: str, channel: str) -> int:
    """The reporter asked to stop a channel: `notify_by` is what remains, and the
    channel's messages not yet sent are failed. Returns how many were failed."""
    await conn.execute(
        "UPDATE reports SET notify_by = :notify_by WHERE id = :id",
        {"id": report_id, "notify_by": notify_by},
    )
    return await conn.execute(
        "UPDATE messages SET state = 'failed', last_error = 'stopped by the reporter'"
        " WHERE report_id = :id AND channel = :channel AND state = 'pending'",
        {"id": report_id, "channel": channel},
    )
