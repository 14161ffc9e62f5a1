"""The resident's step-by-step timeline, built from a report and its events.

Five steps (Diterima → Diverifikasi → Diteruskan ke instansi → Sedang dikerjakan → Selesai);
done steps carry their time, public notes and "after" photos, the steps to come are greyed,
and the next one shows its deadline. Internal notes never enter this structure.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from web.domain import STATUS_LABELS, STEPS
from web.i18n import lazy_gettext as N_

# Which step an event marks as done.
EVENT_STEP = {
    "received": "received",
    "verify": "verified",
    "dispatch": "dispatched",
    "progress": "in_progress",
    "resolve": "resolved",
}
EXTRA_LABELS = {
    "reject": N_("Tidak dapat ditindaklanjuti"),
    "duplicate": N_("Digabung dengan laporan lain"),
    "merged_in": N_("Laporan lain digabung ke laporan ini"),
    "reopened": N_("Dibuka kembali oleh pelapor: belum beres"),
    "confirmed": N_("Pelapor menyatakan sudah beres"),
    "closed": N_("Ditutup otomatis"),
    "note": N_("Catatan petugas"),
    "recategorise": N_("Data laporan diperbarui"),
}
DEADLINE_LABELS = {
    "received": N_("Tanggapan pertama paling lambat"),
    "verified": N_("Diteruskan ke instansi paling lambat"),
    "dispatched": N_("Target selesai"),
    "in_progress": N_("Target selesai"),
}


@dataclass
class Entry:
    label: str
    state: str  # "done", "current", "todo"
    at: str | None = None
    notes: list[str] = field(default_factory=list)
    photos: list[str] = field(default_factory=list)
    deadline_label: str | None = None
    deadline: str | None = None
    related_code: str | None = None
    kind: str = ""


def build(report: Any, events: list[Any], photos: list[Any]) -> list[Entry]:
    """Entries in display order: the five steps, with closing events after them."""
    photos_by_event: dict[int, list[str]] = {}
    for photo in photos:
        if photo["event_id"] is not None:
            photos_by_event.setdefault(photo["event_id"], []).append(photo["sha256"])
    steps = {s: Entry(label=STATUS_LABELS[s], state="todo", kind=s) for s in STEPS}
    extras: list[Entry] = []
    reached = 0
    for event in events:
        step = EVENT_STEP.get(event["kind"])
        note = event["public_note"]
        event_photos = photos_by_event.get(event["id"], [])
        if step is not None:
            entry = steps[step]
            if entry.at is None:
                entry.at = event["created_at"]
            if note:
                entry.notes.append(note)
            if event["kind"] != "received":  # the report's own photos are shown above
                entry.photos.extend(event_photos)
            reached = max(reached, STEPS.index(step))
            if event["kind"] == "progress" or step == "resolved":
                entry.state = "done"
        elif event["kind"] in EXTRA_LABELS and (note or event["kind"] != "note"):
            if event["kind"] in {"note", "recategorise"} and not note:
                continue
            extras.append(
                Entry(
                    label=EXTRA_LABELS[event["kind"]],
                    state="done",
                    at=event["created_at"],
                    notes=[note] if note else [],
                    photos=event_photos,
                    related_code=event["related_code"],
                    kind=event["kind"],
                )
            )
            if event["kind"] == "reopened":
                # A reopened report goes back to work: "Selesai" is to come again.
                steps["resolved"] = Entry(
                    label=STATUS_LABELS["resolved"], state="todo", kind="resolved"
                )
                reached = min(reached, STEPS.index("in_progress"))
    status = report["status"]
    for index, step in enumerate(STEPS):
        entry = steps[step]
        if index <= reached:
            entry.state = "done"
    if status in STEPS and status != "resolved":
        steps[status].state = "current"
    next_index = reached + 1
    if status in DEADLINE_LABELS and next_index < len(STEPS):
        upcoming = steps[STEPS[next_index]]
        upcoming.deadline_label = DEADLINE_LABELS[status]
        upcoming.deadline = report["next_due_at"]
    ended = status in {"rejected", "duplicate"}
    ordered = [steps[s] for s in STEPS if not (ended and steps[s].state == "todo")]
    return _merge_in_time_order(ordered, extras)


def _merge_in_time_order(steps: list[Entry], extras: list[Entry]) -> list[Entry]:
    """Extras (reopened, merged, closed) sit after the last step done before them."""
    result = list(steps)
    for extra in extras:
        position = len(result)
        for index, entry in enumerate(result):
            if entry.state == "todo" or (entry.at and extra.at and entry.at > extra.at):
                position = index
                break
        result.insert(position, extra)
    return result
