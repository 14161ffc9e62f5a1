"""SQL of residents' personal data (UU PDP): which reports' contact details are due to be
erased, everything held about a report's reporter, correcting it, and erasing it.

Erasing overwrites: the columns get empty values (NULL coordinates), the report's push
follows and the outbox messages addressed to its reporter are deleted, and a subscription
left following nothing goes too. The report, its timeline, photos and figures stay. The
rules (who may erase, when retention is due) live in web/personal_data.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from db.database import Connection, Database

# The reporter's contact on a report, and what each is overwritten with.
CONTACT_COLUMNS = {
    "reporter_name": "",
    "reporter_phone": "",
    "reporter_email": "",
    "on_behalf_name": "",
    "on_behalf_phone": "",
    "volunteer_name": "",
    "device_id": "",
    "notify_by": "",
    "lat": None,
    "lon": None,
    "location_source": None,
}
ERASED_BY = ("retention", "reporter", "office")
HELD_COLUMNS = (
    "id, code, status, received_at, closed_at, anonymous, confidential, channel, area_code,"
    " reporter_name, reporter_phone, reporter_email, on_behalf, on_behalf_name,"
    " on_behalf_phone, on_behalf_no_phone, volunteer_name, lat, lon, location_source,"
    " device_id, notify_by, contact_erased_at, contact_erased_by"
)


async def due_for_erasure(db: Database, closed_before: str, limit: int = 500) -> list[int]:
    """Ids of reports closed before `closed_before` whose contact is still held; a resolved
    report that was never closed (automatic closing switched off) counts from when it was
    resolved."""
    rows = await db.fetchall(
        "SELECT id FROM reports WHERE contact_erased_at IS NULL"
        " AND closed_at IS NOT NULL AND closed_at < :before"
        " UNION SELECT id FROM reports WHERE contact_erased_at IS NULL"
        " AND status = 'resolved' AND resolved_at < :before ORDER BY id LIMIT :limit",
        {"before": closed_before, "limit": limit},
    )
    return [int(r["id"]) for r in rows]


async def erase_contacts(conn: Connection, report_ids: Sequence[int], *, now: str, by: str) -> int:
    """Overwrite the contact details of these reports (see the module's docstring) inside
    the caller's write transaction; returns how many reports were changed."""
    if not report_ids or by not in ERASED_BY:
        return 0
    ids = list(report_ids)
    assignments = ", ".join(f"{column} = :{column}" for column in CONTACT_COLUMNS)
    changed = await conn.execute(
        f"UPDATE reports SET {assignments},"
        " contact_erased_at = COALESCE(contact_erased_at, :now),"
        " contact_erased_by = COALESCE(contact_erased_by, :by) WHERE id IN :ids",
        {**CONTACT_COLUMNS, "now": now, "by": by, "ids": ids},
    )
    followers = await conn.fetchall(
        "SELECT DISTINCT subscription_id FROM push_follows WHERE report_id IN :ids", {"ids": ids}
    )
    await conn.execute("DELETE FROM push_follows WHERE report_id IN :ids", {"ids": ids})
    subscriptions = [int(r["subscription_id"]) for r in followers]
    if subscriptions:
        await conn.execute(
            "DELETE FROM push_subscriptions WHERE id IN :subs AND NOT EXISTS"
            " (SELECT 1 FROM push_follows f WHERE f.subscription_id = push_subscriptions.id)",
            {"subs": subscriptions},
        )
    # Every message to the reporter carries their address: gone with it (a pending one has
    # nobody left to go to).
    await conn.execute("DELETE FROM messages WHERE report_id IN :ids", {"ids": ids})
    return changed


async def held_about(conn: Connection | Database, report_id: int) -> Any:
    """Everything the report holds about its reporter (the contact columns and what says
    how it was filed), for "Data saya" and the office's export."""
    return await conn.fetchone(
        f"SELECT {HELD_COLUMNS} FROM reports WHERE id = :id",
        {"id": report_id},
    )


async def push_follows_of(conn: Connection | Database, report_id: int) -> int:
    """How many browsers follow the report with Web Push."""
    row = await conn.fetchone(
        "SELECT COUNT(*) AS n FROM push_follows WHERE report_id = :id", {"id": report_id}
    )
    return int(row["n"])


async def messages_of(conn: Connection | Database, report_id: int) -> list[Any]:
    """The outbox messages addressed to the reporter: channel, address, state, when."""
    return await conn.fetchall(
        "SELECT channel, recipient, state, created_at, sent_at FROM messages"
        " WHERE report_id = :id ORDER BY id",
        {"id": report_id},
    )


async def correct_contact(
    conn: Connection, report_id: int, *, name: str, phone: str, email: str, notify_by: str
) -> int:
    """The reporter's own correction of their contact (a report whose contact was erased
    stays erased: nothing is written)."""
    return await conn.execute(
        "UPDATE reports SET reporter_name = :name, reporter_phone = :phone,"
        " reporter_email = :email, notify_by = :notify_by"
        " WHERE id = :id AND contact_erased_at IS NULL",
        {"id": report_id, "name": name, "phone": phone, "email": email, "notify_by": notify_by},
    )


def _normalised_phone(column: str) -> str:
    """`column` without the spaces, dots, dashes and brackets people write in numbers (as
    web/validators.normalise_phone; an Open311 client may relay a number as written)."""
    expression = column
    for mark in (" ", "-", "(", ")", "."):
        expression = f"REPLACE({expression}, '{mark}', '')"
    return expression


async def reports_holding(
    db: Database, *, phones: Sequence[str] = (), email: str = "", limit: int = 1000
) -> list[Any]:
    """Every report whose reporter or person helped has one of these phone numbers (written
    normalised: each is compared with the stored number normalised the same way) or whose
    reporter has this email address (case-insensitive), oldest first. Reads every report:
    for the rare request that comes to the office, not for a page many people open."""
    conditions = []
    params: dict[str, Any] = {"limit": limit}
    if phones:
        conditions.append(
            f"{_normalised_phone('reporter_phone')} IN :phones"
            f" OR {_normalised_phone('on_behalf_phone')} IN :phones"
        )
        params["phones"] = list(phones)
    if email:
        conditions.append("LOWER(reporter_email) = :email")
        params["email"] = email.lower()
    if not conditions:
        return []
    where = " OR ".join(f"({c})" for c in conditions)
    return await db.fetchall(
        f"SELECT {HELD_COLUMNS}, description, address, rt_rw"
        f" FROM reports WHERE {where} ORDER BY id LIMIT :limit",
        params,
    )
