"""SQL for staff alerts: the browsers staff accounts turned alerts on in
(`staff_push_subscriptions`), the alerts themselves as messages of the one outbox
(`messages` with `alert` set: 'new_case', 'due_soon', 'overdue'), and the supervisors'
list of alerts that went unanswered. What causes an alert and who gets it is decided in
web/lifecycle/alerts.py; this module only writes and reads.

An alert goes to every browser of the account and, on the gateways the city switched on
(`channels`), to the account's work contacts (`users.alert_email`, `users.alert_phone`).

Every alert is one message per (report, event, channel, recipient, alert): the unique index
`messages_once` (migration 0010_staff_alerts) absorbs the same alert enqueued again by a retry or by
another server running the deadline task at the same moment.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from db.database import Connection, Database

ALERTS = ("new_case", "due_soon", "overdue")
# Browsers one account may keep alerts on in (a phone, an office PC, a laptop…); turning
# them on in one more forgets the one turned on longest ago.
MAX_BROWSERS = 10
_ONCE = " ON CONFLICT (report_id, event_id, channel, recipient, alert) DO NOTHING"
_INSERT = (
    "INSERT INTO messages (report_id, event_id, channel, recipient, alert, user_id, state,"
    " next_attempt_at, created_at)"
)


def _destinations(channels: Collection[str]) -> str:
    """SQL for a table (user_id, channel, recipient) of everywhere an account's alerts go:
    its browsers, its work email when email is in `channels`, and its work mobile number by
    SMS when that is in `channels`, else by WhatsApp when that is (one message per phone,
    not two)."""
    parts = [
        "SELECT user_id, 'push' AS channel, endpoint AS recipient FROM staff_push_subscriptions"
    ]
    if "email" in channels:
        parts.append("SELECT id, 'email', alert_email FROM users WHERE alert_email <> ''")
    phone = next((c for c in ("sms", "whatsapp") if c in channels), None)
    if phone is not None:
        parts.append(f"SELECT id, '{phone}', alert_phone FROM users WHERE alert_phone <> ''")
    return " UNION ALL ".join(parts)


def _covers(area: str, agency: str, confidential: str, category: str) -> str:
    """SQL that holds when officer `u` has in scope a report with this area, agency,
    confidential flag and category (column names or parameters): `db.staff.scope_clause`
    read the other way round, from the report to the accounts. An area covers everything
    below it, except reports of a confidential category; an agency covers the reports
    forwarded to it; the inspectorate also every confidential report."""
    return (
        "(u.role = 'officer' AND ("
        "(EXISTS (SELECT 1 FROM user_areas ua WHERE ua.user_id = u.id"
        f" AND ({area} = ua.area_code OR {area} LIKE ua.area_code || '.%'))"
        " AND NOT EXISTS (SELECT 1 FROM categories cc"
        f" WHERE cc.code = {category} AND cc.confidential = 1))"
        f" OR u.agency_code = {agency}"
        f" OR ({confidential} = 1 AND EXISTS (SELECT 1 FROM agencies g"
        " WHERE g.code = u.agency_code AND g.is_inspectorate = 1))))"
    )


# --- browsers ------------------------------------------------------------------------------


async def subscribe(
    conn: Connection,
    user_id: int,
    *,
    session_hash: str,
    endpoint: str,
    p256dh: str,
    auth: str,
    language: str,
    now: str,
) -> bool:
    """Turn alerts on for an account in a browser (or renew its keys, language and session);
    a browser that alerted another account now alerts this one. True when this browser did
    not alert this account yet."""
    before = await conn.fetchone(
        "SELECT user_id FROM staff_push_subscriptions WHERE endpoint = :endpoint",
        {"endpoint": endpoint},
    )
    await conn.execute(
        "INSERT INTO staff_push_subscriptions (endpoint, user_id, session_hash, p256dh, auth,"
        " language, created_at, updated_at) VALUES (:endpoint, :user_id, :session_hash,"
        " :p256dh, :auth, :language, :now, :now)"
        " ON CONFLICT (endpoint) DO UPDATE SET user_id = excluded.user_id,"
        " session_hash = excluded.session_hash, p256dh = excluded.p256dh,"
        " auth = excluded.auth, language = excluded.language, updated_at = excluded.updated_at",
        {
            "endpoint": endpoint,
            "user_id": user_id,
            "session_hash": session_hash,
            "p256dh": p256dh,
            "auth": auth,
            "language": language,
            "now": now,
        },
    )
    await conn.execute(
        "DELETE FROM staff_push_subscriptions WHERE user_id = :user_id AND endpoint NOT IN"
        " (SELECT endpoint FROM staff_push_subscriptions WHERE user_id = :user_id"
        " ORDER BY updated_at DESC, endpoint LIMIT :keep)",
        {"user_id": user_id, "keep": MAX_BROWSERS},
    )
    return before is None or before["user_id"] != user_id


async def unsubscribe(conn: Connection, user_id: int, endpoint: str) -> bool:
    """Turn alerts off in one browser of an account; True when they were on."""
    return await _drop(conn, "user_id = :user_id AND endpoint = :endpoint", user_id, endpoint) > 0


async def drop_account(conn: Connection, user_id: int) -> int:
    """Turn alerts off in every browser of an account (logout, password reset,
    deactivation); their alerts not sent yet are failed. Returns how many browsers."""
    return await _drop(conn, "user_id = :user_id", user_id)


async def hand_over_session(conn: Connection, old_hash: str, new_hash: str, user_id: int) -> int:
    """A login on a browser whose previous session was `old_hash`: the alerts turned on in
    that session follow the account into the new one if it is the same account, and stop if
    it is another (a shared office PC). Returns how many stopped."""
    params = {"old_hash": old_hash, "new_hash": new_hash, "user_id": user_id}
    stopped = await conn.execute(
        "DELETE FROM staff_push_subscriptions"
        " WHERE session_hash = :old_hash AND user_id <> :user_id",
        params,
    )
    await conn.execute(
        "UPDATE staff_push_subscriptions SET session_hash = :new_hash"
        " WHERE session_hash = :old_hash AND user_id = :user_id",
        params,
    )
    return stopped


async def _drop(conn: Connection, where: str, user_id: int, endpoint: str = "") -> int:
    params = {"user_id": user_id, "endpoint": endpoint}
    await conn.execute(
        "UPDATE messages SET state = 'failed', last_error = 'alerts turned off'"
        " WHERE alert <> '' AND state = 'pending' AND recipient IN"
        f" (SELECT endpoint FROM staff_push_subscriptions WHERE {where})",
        params,
    )
    return await conn.execute(f"DELETE FROM staff_push_subscriptions WHERE {where}", params)


async def browsers(db: Database, user_id: int) -> list[Any]:
    """The endpoints an account has alerts on in, oldest first."""
    return await db.fetchall(
        "SELECT endpoint, language, created_at FROM staff_push_subscriptions"
        " WHERE user_id = :user_id ORDER BY created_at, endpoint",
        {"user_id": user_id},
    )


# --- enqueueing ----------------------------------------------------------------------------


def _report_params(prefix: str, report: Mapping[str, Any], confidential: bool) -> dict[str, Any]:
    return {
        f"{prefix}area": report["area_code"],
        f"{prefix}agency": report["agency_code"],
        f"{prefix}confidential": int(confidential),
        f"{prefix}category": report["category_code"],
    }


async def enqueue_new_case(
    conn: Connection,
    report_id: int,
    event_id: int,
    *,
    after: Mapping[str, Any],
    before: Mapping[str, Any] | None,
    now: str,
    channels: Collection[str] = (),
) -> int:
    """A 'new_case' alert to every browser (and work contact on `channels`) of every active
    officer who has the report in scope as it is now (`after`: area_code, agency_code,
    confidential, category_code) and did not as it was (`before`; None for a report just
    made). Returns how many."""
    covers_now = _covers(":area", ":agency", ":confidential", ":category")
    where = covers_now
    params: dict[str, Any] = {"report_id": report_id, "event_id": event_id, "now": now}
    params.update(_report_params("", after, bool(after["confidential"])))
    if before is not None:
        covered = _covers(":was_area", ":was_agency", ":was_confidential", ":was_category")
        where += f" AND CASE WHEN {covered} THEN 1 ELSE 0 END = 0"
        params.update(_report_params("was_", before, bool(before["confidential"])))
    return await conn.execute(
        f"{_INSERT} SELECT :report_id, :event_id, d.channel, d.recipient, 'new_case', u.id,"
        f" 'pending', :now, :now FROM ({_destinations(channels)}) d"
        f" JOIN users u ON u.id = d.user_id AND u.active = 1 WHERE {where}{_ONCE}",
        params,
    )


async def enqueue_deadline(
    db: Database,
    alert: str,
    *,
    due_after: str,
    due_by: str,
    statuses: Sequence[str],
    supervisors: bool,
    now: str,
    channels: Collection[str] = (),
) -> int:
    """A deadline alert (`alert`) to every browser (and work contact on `channels`) of
    every active officer who has in scope an open report still without a first response
    whose response deadline falls in (`due_after`, `due_by`], and with `supervisors` to
    every supervisor's too. A recipient already given this alert for the report gets no
    second one. Returns how many were added."""
    recipients = _covers("r.area_code", "r.agency_code", "r.confidential", "r.category_code")
    if supervisors:
        recipients = f"({recipients} OR u.role = 'supervisor')"
    async with db.write() as conn:
        return await conn.execute(
            f"{_INSERT} SELECT r.id,"
            " (SELECT MIN(e.id) FROM report_events e WHERE e.report_id = r.id),"
            " d.channel, d.recipient, :alert, u.id, 'pending', :now, :now"
            " FROM reports r JOIN users u ON u.active = 1"
            f" JOIN ({_destinations(channels)}) d ON d.user_id = u.id"
            " WHERE r.first_response_at IS NULL AND r.response_due_at > :due_after"
            f" AND r.response_due_at <= :due_by AND r.status IN :statuses AND {recipients}"
            f"{_ONCE}",
            {
                "alert": alert,
                "now": now,
                "due_after": due_after,
                "due_by": due_by,
                "statuses": list(statuses),
            },
        )


# --- sending -------------------------------------------------------------------------------


async def alert_details(conn: Connection, message_id: int) -> Any:
    """What an alert by email, SMS or WhatsApp is written from at send time: which alert,
    the report's code and category, and the account it is for (whether it is still active
    and its work contacts now). Nothing about the reporter is read."""
    return await conn.fetchone(
        "SELECT m.id, m.channel, m.recipient, m.alert, r.code, c.name_id AS category_name_id,"
        " c.name_en AS category_name_en, u.active, u.alert_email, u.alert_phone"
        " FROM messages m JOIN reports r ON r.id = m.report_id"
        " JOIN categories c ON c.code = r.category_code JOIN users u ON u.id = m.user_id"
        " WHERE m.id = :id",
        {"id": message_id},
    )


# --- what supervisors see ------------------------------------------------------------------


async def unanswered(db: Database, *, now: str, since: str, limit: int) -> list[Any]:
    """Alerts to officers (made since `since`) about reports whose first response did not
    come by its deadline, which has passed at `now`: one row per report, alert and officer
    (however many of their browsers it went to), newest first, with the earliest time it
    was made and how far it got (`delivered`: 2 sent to at least one browser, 1 still
    waiting, 0 failed everywhere)."""
    return await db.fetchall(
        "SELECT r.code, m.alert, u.display_name, r.response_due_at, r.first_response_at,"
        " c.name_id AS category_name_id, c.name_en AS category_name_en,"
        " MIN(m.created_at) AS alerted_at,"
        " MAX(CASE m.state WHEN 'sent' THEN 2 WHEN 'pending' THEN 1 ELSE 0 END) AS delivered"
        " FROM messages m JOIN reports r ON r.id = m.report_id"
        " JOIN categories c ON c.code = r.category_code JOIN users u ON u.id = m.user_id"
        " WHERE m.alert <> '' AND m.created_at >= :since AND u.role = 'officer'"
        " AND r.response_due_at <= :now"
        " AND (r.first_response_at IS NULL OR r.first_response_at > r.response_due_at)"
        " GROUP BY r.id, r.code, m.alert, u.id, u.display_name, r.response_due_at,"
        " r.first_response_at, c.name_id, c.name_en"
        " ORDER BY MIN(m.created_at) DESC, r.id DESC, m.alert, u.id LIMIT :limit",
        {"now": now, "since": since, "limit": limit},
    )
