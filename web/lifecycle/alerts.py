"""Staff alerts (LaporGub: a case without a response in 1×24 h is announced as neglect, so
officers must learn of their cases without watching the inbox). Three alerts, each a
Web Push message of the one outbox (db/messages.py, db/alerts.py) to every browser an
account turned alerts on in, and, on the gateways the city switched on (`send_by`,
Settings.message_channels), a message to the account's work email and mobile number (set by
an admin on the account; by SMS, or by WhatsApp when the city has only that gateway):

- 'new_case': a report came into an officer's scope — made in their area, forwarded to
  their agency, moved to their kelurahan or made confidential (the inspectorate) — written
  in the same transaction as the step that did it; only to officers for whom it is new.
- 'due_soon': DUE_SOON_BEFORE before the first-response deadline of a report still without
  a response, to the officers who have it in scope.
- 'overdue': when that deadline passes, to the same officers and to every supervisor (who
  read the whole city; there is no narrower "supervisor above them" in the account model).

The deadline alerts come from `deadline_alerts`, which web/tasks.py runs every minute
under a lease (and `aduan tasks run`); running it again, or on two servers at once, adds
nothing (the unique index `messages_once`). A report whose deadline passed more than
OVERDUE_WINDOW ago is no longer looked at, so a server down for a day does not wake
everyone for old cases, and the minute's query stays small.

Who gets alerts: an account's browsers until it logs out (which ends every session of it),
its password is reset or it is deactivated; its work contacts until it is deactivated or
an admin changes them (web/gateways.py checks again at send time). A scope change needs
nothing, since recipients are chosen by the scope at the moment of each alert. Alerts carry
the case code and the category, never the reporter's contact (web/push.py `payload`,
web/message_text.py `compose_alert`).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime, timedelta
from typing import Any

from db import alerts as q
from db.database import Connection, Database
from web.clock import to_text, utc_now
from web.i18n import lazy_gettext as N_
from web.lifecycle.rules import OPEN_STATUSES

# Who gets alerts and may turn them on (admins manage the system and get none).
ALERT_ROLES = ("officer", "supervisor")
DUE_SOON_BEFORE = timedelta(hours=4)
OVERDUE_WINDOW = timedelta(hours=24)
# What decides who has a report in scope (db/staff.py scope_clause).
SCOPE_FIELDS = ("area_code", "agency_code", "confidential", "category_code")

# A notification's title (with the code), and the alert's name in lists.
ALERT_TITLES = {
    "new_case": N_("Kasus baru: %(code)s"),
    "due_soon": N_("%(code)s: tenggat tanggapan tinggal 4 jam"),
    "overdue": N_("%(code)s: tenggat tanggapan terlewati"),
}
ALERT_LABELS = {
    "new_case": N_("Kasus baru"),
    "due_soon": N_("Tenggat 4 jam lagi"),
    "overdue": N_("Lewat tenggat"),
}
STAFF_CASE_PATH = "/staf/laporan/{code}"


async def case_came_in(
    conn: Connection,
    report_id: int,
    event_id: int,
    *,
    after: Mapping[str, Any],
    before: Mapping[str, Any] | None = None,
    now: str,
    send_by: Collection[str] = (),
) -> int:
    """Inside the step's write transaction: alert the officers who have the report in scope
    as it is `after` the step and did not `before` it (None: the report was just made), in
    their browsers and on the gateways `send_by`. Returns how many alerts were queued."""
    if before is not None and all(before[f] == after[f] for f in SCOPE_FIELDS):
        return 0
    return await q.enqueue_new_case(
        conn, report_id, event_id, after=after, before=before, now=now, channels=send_by
    )


async def deadline_alerts(
    db: Database, *, now: datetime | None = None, send_by: Collection[str] = ()
) -> int:
    """Queue the 'due_soon' and 'overdue' alerts due at `now` (in browsers and on the
    gateways `send_by`); returns how many were added (0 when every one was queued
    before)."""
    moment = now or utc_now()
    stamp = to_text(moment)
    statuses = sorted(OPEN_STATUSES)
    added = await q.enqueue_deadline(
        db,
        "due_soon",
        due_after=stamp,
        due_by=to_text(moment + DUE_SOON_BEFORE),
        statuses=statuses,
        supervisors=False,
        now=stamp,
        channels=send_by,
    )
    added += await q.enqueue_deadline(
        db,
        "overdue",
        due_after=to_text(moment - OVERDUE_WINDOW),
        due_by=stamp,
        statuses=statuses,
        supervisors=True,
        now=stamp,
        channels=send_by,
    )
    return added
