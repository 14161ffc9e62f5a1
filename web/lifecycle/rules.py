"""The rules of a report's lifecycle, as plain data and pure functions (no I/O, no database,
no clock of their own): its statuses and their names, which action may follow which status
and who may take it, when the deadline clock starts, what is overdue, which timeline events
the public sees, and how long a resident may reopen a resolved report.

Routes, templates, statistics, Open311 and the SQL filters in db/ ask these; none decides
them again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from web.clock import from_text, to_text
from web.i18n import lazy_gettext as N_

STATUS_LABELS = {
    "received": N_("Diterima"),
    "verified": N_("Diverifikasi"),
    "dispatched": N_("Diteruskan ke instansi"),
    "in_progress": N_("Sedang dikerjakan"),
    "resolved": N_("Selesai"),
    "rejected": N_("Tidak dapat ditindaklanjuti"),
    "duplicate": N_("Digabung dengan laporan lain"),
    "closed": N_("Ditutup"),
}
# The steps a resident sees on the timeline, in order.
STEPS = ("received", "verified", "dispatched", "in_progress", "resolved")
OPEN_STATUSES = frozenset({"received", "verified", "dispatched", "in_progress"})
CLOSED_STATUSES = frozenset({"resolved", "rejected", "duplicate", "closed"})
CHANNELS = ("web", "outbox", "walk_in", "whatsapp", "phone", "email", "social", "open311")
# Complaints taken by staff: their deadline clock runs from when the resident complained.
STAFF_CHANNELS = ("walk_in", "whatsapp", "phone", "email", "social")
CHANNEL_LABELS = {
    "web": N_("Situs web"),
    "outbox": N_("Situs web (dari antrean HP)"),
    "walk_in": N_("Datang langsung"),
    "whatsapp": N_("WhatsApp"),
    "phone": N_("Telepon"),
    "email": N_("Email"),
    "social": N_("Media sosial"),
    "open311": N_("Aplikasi lain (Open311)"),
}
REOPEN_WINDOW = timedelta(days=14)
# Staff actions: the statuses each may start from, and the status it leads to (None: same).
TRANSITIONS: dict[str, tuple[frozenset[str], str | None]] = {
    "verify": (frozenset({"received"}), "verified"),
    "dispatch": (frozenset({"received", "verified", "dispatched", "in_progress"}), "dispatched"),
    "progress": (frozenset({"verified", "dispatched", "in_progress"}), "in_progress"),
    "resolve": (frozenset({"received", "verified", "dispatched", "in_progress"}), "resolved"),
    "reject": (OPEN_STATUSES, "rejected"),
    "duplicate": (OPEN_STATUSES, "duplicate"),
    "note": (frozenset(STATUS_LABELS), None),
    "recategorise": (OPEN_STATUSES, None),
}
# Actions that count as the first response to the resident.
RESPONDING_ACTIONS = frozenset({"verify", "dispatch", "progress", "resolve", "reject", "duplicate"})
# Roles that may act on reports; supervisors read everything but change nothing.
ACTING_ROLES = ("admin", "officer")


@dataclass(frozen=True)
class EventLabel:
    """How a timeline event is named. `public`: the resident's timeline and Open311, which
    name the state the report reached; `staff`: the report's history, which names what was done
    (and where a "note" is the officers' internal note)."""

    public: str
    staff: str


def _same(label: str) -> EventLabel:
    return EventLabel(public=label, staff=label)


# The one table of event names, for residents, staff and Open311 alike.
EVENT_LABELS = {
    "received": EventLabel(public=STATUS_LABELS["received"], staff=N_("Laporan diterima")),
    "verify": _same(STATUS_LABELS["verified"]),
    "dispatch": _same(STATUS_LABELS["dispatched"]),
    "progress": EventLabel(public=STATUS_LABELS["in_progress"], staff=N_("Perkembangan")),
    "resolve": EventLabel(public=STATUS_LABELS["resolved"], staff=N_("Diselesaikan")),
    "reject": EventLabel(public=STATUS_LABELS["rejected"], staff=N_("Ditutup tanpa tindak lanjut")),
    "duplicate": EventLabel(
        public=STATUS_LABELS["duplicate"], staff=N_("Digabung ke laporan lain")
    ),
    "merged_in": _same(N_("Laporan lain digabung ke laporan ini")),
    "note": EventLabel(public=N_("Catatan petugas"), staff=N_("Catatan internal")),
    "recategorise": EventLabel(
        public=N_("Data laporan diperbarui"), staff=N_("Kategori atau kelurahan diubah")
    ),
    "reopened": EventLabel(
        public=N_("Dibuka kembali oleh pelapor: belum beres"),
        staff=N_("Dibuka kembali oleh pelapor"),
    ),
    "confirmed": _same(N_("Pelapor menyatakan sudah beres")),
    "closed": _same(N_("Ditutup otomatis")),
}
# Events everyone may see whatever they carry: each changes the status, or (merged_in) says
# another report now lives on in this one. Any other event (a note, a correction of the
# category or kelurahan) is public only through its public note; an internal note never is.
PUBLIC_EVENT_KINDS = frozenset(
    {
        "received",
        "verify",
        "dispatch",
        "progress",
        "resolve",
        "reject",
        "duplicate",
        "merged_in",
        "reopened",
        "confirmed",
        "closed",
    }
)


def available_actions(status: str, role: str) -> tuple[str, ...]:
    """The actions an account of `role` may take on a report in `status`, in the order the
    report page offers them; none for a role that only reads."""
    if role not in ACTING_ROLES:
        return ()
    return tuple(
        kind for kind, (allowed_from, _target) in TRANSITIONS.items() if status in allowed_from
    )


def clock_start(report: Mapping[str, Any]) -> str:
    """When the report's deadline clock started, as stored text.

    A complaint taken by staff is timed from when the resident made it (`written_at`); any
    other report from when it reached us, even if a phone's outbox wrote it earlier: nobody
    could act on it before. A `written_at` after `received_at` is never used.
    """
    written = report["written_at"]
    if written and report["channel"] in STAFF_CHANNELS and written < report["received_at"]:
        return str(written)
    return str(report["received_at"])


def next_due(status: str, report: Mapping[str, Any]) -> str | None:
    """The deadline a report waits on in `status` (what the inbox orders by); None once
    the report is no longer open."""
    if status == "received":
        return report.get("response_due_at")
    if status == "verified":
        return report.get("dispatch_due_at")
    if status in {"dispatched", "in_progress"}:
        return report.get("resolution_due_at")
    return None


def is_overdue(report: Mapping[str, Any], now: datetime | str) -> bool:
    """Whether an open report's current deadline (`next_due_at`) has passed at `now`.

    `now` may be given as stored text (web.clock.to_text), which is compared as text just as
    db/ compares it in SQL.
    """
    if report["status"] not in OPEN_STATUSES or not report["next_due_at"]:
        return False
    moment = now if isinstance(now, str) else to_text(now)
    return bool(report["next_due_at"] < moment)


def is_public_event(event: Mapping[str, Any]) -> bool:
    """Whether the public (tracking page, Open311) may see a timeline event: its kind is
    public (PUBLIC_EVENT_KINDS) or it carries a public note. db/ filters with the same rule
    in SQL, built from PUBLIC_EVENT_KINDS."""
    return event["kind"] in PUBLIC_EVENT_KINDS or bool(event["public_note"])


def awaits_answer(report: Mapping[str, Any]) -> bool:
    """Whether the resident is asked "Sudah beres?": the report is resolved, not yet
    confirmed, reopened or closed by the system."""
    return bool(report["status"] == "resolved")


def can_support(report: Mapping[str, Any]) -> bool:
    """Whether residents may support ("Dukung") a report: open and not confidential."""
    return not report["confidential"] and report["status"] in OPEN_STATUSES


def can_reopen(report: Mapping[str, Any], now: datetime) -> bool:
    """Whether the resident may still answer "belum beres": a resolved report, within
    REOPEN_WINDOW of its resolution."""
    if not awaits_answer(report) or not report["resolved_at"]:
        return False
    return now - from_text(report["resolved_at"]) <= REOPEN_WINDOW
