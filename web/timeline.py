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
    order: int | None = None  # position of the event that made it, for ties in time


def build(report: Any, events: list[Any], photos: list[Any]) -> list[Entry]:
    """Entries in display order: the five steps, with closing events after them.

    History is never rewritten: when the resident reopens a report, the steps done so far
    (the resolution with its note and "after" photos included) stay as they were, the
    reopening follows them, and a new round of steps to come starts after it.
    """
    photos_by_event: dict[int, list[str]] = {}
    for photo in photos:
        if photo["event_id"] is not None:
            photos_by_event.setdefault(photo["event_id"], []).append(photo["sha256"])
    shown: list[Entry] = []  # rounds closed by a reopening, in display order
    current = _Round(first=0)
    for order, event in enumerate(events):
        step = EVENT_STEP.get(event["kind"])
        note = event["public_note"]
        event_photos = photos_by_event.get(event["id"], [])
        if step is not None and step in current.steps:
            entry = current.steps[step]
            if entry.at is None:
                entry.at = event["created_at"]
                entry.order = order
            if note:
                entry.notes.append(note)
            if event["kind"] != "received":  # the report's own photos are shown above
                entry.photos.extend(event_photos)
            current.reached = max(current.reached, STEPS.index(step))
            if event["kind"] == "progress" or step == "resolved":
                entry.state = "done"
        elif step is not None:
            # A step of an earlier round taken again after a reopening (forwarded to
            # another agency, say): shown where it happened.
            current.extras.append(
                _extra(STATUS_LABELS[step], event, order, note, event_photos, step)
            )
        elif event["kind"] in EXTRA_LABELS:
            if event["kind"] in {"note", "recategorise"} and not note:
                continue
            extra = _extra(
                EXTRA_LABELS[event["kind"]], event, order, note, event_photos, event["kind"]
            )
            if event["kind"] == "reopened":
                # The finished round stays as it happened; work starts again after it.
                shown.extend(current.close(None))
                shown.append(extra)
                current = _Round(first=STEPS.index("in_progress"))
            else:
                current.extras.append(extra)
    return shown + current.close(report)


def _extra(label: str, event: Any, order: int, note: str, photos: list[str], kind: str) -> Entry:
    return Entry(
        label=label,
        state="done",
        at=event["created_at"],
        order=order,
        notes=[note] if note else [],
        photos=photos,
        related_code=event["related_code"],
        kind=kind,
    )


class _Round:
    """The steps from `first` to "Selesai", walked once; a reopening starts a new round at
    "Sedang dikerjakan"."""

    def __init__(self, first: int) -> None:
        self.reached = first
        self.steps = {s: Entry(label=STATUS_LABELS[s], state="todo", kind=s) for s in STEPS[first:]}
        self.extras: list[Entry] = []

    def close(self, report: Any) -> list[Entry]:
        """The round's entries. `report` is given for the round still open (its status
        marks the current step, its deadline the next one); None for a round a reopening
        ended, whose steps were all done."""
        for index, step in enumerate(STEPS):
            if step in self.steps and index <= self.reached:
                self.steps[step].state = "done"
        if report is None:
            done = [e for e in self.steps.values() if e.state == "done"]
            return _merge_in_time_order(done, self.extras)
        status = report["status"]
        if status in self.steps and status != "resolved":
            self.steps[status].state = "current"
        next_index = self.reached + 1
        if status in DEADLINE_LABELS and next_index < len(STEPS):
            upcoming = self.steps[STEPS[next_index]]
            upcoming.deadline_label = DEADLINE_LABELS[status]
            upcoming.deadline = report["next_due_at"]
        ended = status in {"rejected", "duplicate"}
        ordered = [e for e in self.steps.values() if not (ended and e.state == "todo")]
        return _merge_in_time_order(ordered, self.extras)


def _merge_in_time_order(steps: list[Entry], extras: list[Entry]) -> list[Entry]:
    """Extras (reopened, merged, closed) sit after the last step done before them, by the
    order of their events (several can share one second)."""
    result = list(steps)
    for extra in extras:
        position = len(result)
        for index, entry in enumerate(result):
            later = (
                entry.order is not None and extra.order is not None and entry.order > extra.order
            )
            if entry.state == "todo" or later:
                position = index
                break
        result.insert(position, extra)
    return result
