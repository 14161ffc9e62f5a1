"""What the staff case page says under each public step about telling the resident: the
outbox's messages counted by channel and state (delivered, waiting, failed with why), and
who told the resident on WhatsApp by hand. Push endpoints are never shown; a phone number
or email address only to an account that sees the reporter's contact."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from web.i18n import lazy_gettext as N_

CHANNEL_LABELS = {
    "push": N_("Notifikasi HP"),
    "email": N_("Email"),
    "sms": N_("SMS"),
    "whatsapp": N_("WhatsApp"),
}
STATE_LABELS = {
    "sent": N_("terkirim"),
    "pending": N_("menunggu dikirim"),
    "failed": N_("gagal"),
}


@dataclass(frozen=True)
class Line:
    channel: str
    state: str
    count: int
    recipient: str = ""
    error: str = ""


def sees_contact(report: Any, account: Any) -> bool:
    """Whether the account sees the reporter's contact (as the case page's "Pelapor"
    section decides): never for an anonymous report; for a confidential one only the
    accounts that see confidential contacts."""
    if report["anonymous"]:
        return False
    confidential = report["confidential"] or report["category_confidential"]
    return not confidential or bool(account.sees_confidential_contact)


def by_event(messages: Iterable[Any], *, show_contact: bool) -> dict[int, list[Line]]:
    """Event id → one line per channel and state (push counted over browsers, the others
    one line per recipient), failures last with the latest error."""
    counted: dict[int, dict[tuple[str, str, str], list[Any]]] = defaultdict(dict)
    for m in messages:
        if m["event_id"] is None:
            continue
        recipient = "" if m["channel"] == "push" or not show_contact else str(m["recipient"])
        counted[m["event_id"]].setdefault((m["channel"], m["state"], recipient), []).append(m)
    order = {state: n for n, state in enumerate(STATE_LABELS)}
    return {
        event_id: [
            Line(channel, state, len(rows), recipient, str(rows[-1]["last_error"] or ""))
            for (channel, state, recipient), rows in sorted(
                groups.items(), key=lambda item: (order.get(item[0][1], 9), item[0][0])
            )
        ]
        for event_id, groups in counted.items()
    }


def taps_by_event(taps: Iterable[Any]) -> dict[int, list[Any]]:
    grouped: dict[int, list[Any]] = defaultdict(list)
    for tap in taps:
        grouped[tap["event_id"]].append(tap)
    return dict(grouped)
