"""The one timeline of a report, for each audience: the resident's step-by-step view, the
staff report history and Open311's public notes, built from the same events, the same
grouping of photos by event, the same event names (rules.EVENT_LABELS) and the same test of
what the public may see (rules.is_public_event).

The resident sees five steps (Diterima → Diverifikasi → Diteruskan ke instansi → Sedang
dikerjakan → Selesai): done steps carry their time, public notes and "after" photos, the
steps to come are greyed, and the next one shows its deadline. Internal notes never enter
the public views.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from web.i18n import lazy_gettext as N_
from web.lifecycle.rules import (
    EVENT_LABELS,
    STATUS_LABELS,
    STEPS,
    TRANSITIONS,
    is_public_event,
)

Audience = Literal["public", "staff"]
PUBLIC: Audience = "public"
STAFF: Audience = "staff"

# Which step an event marks as done: the report's arrival, and each action leading to a step.
EVENT_STEP = {"received": "received"} | {
    kind: target for kind, (_from, target) in TRANSITIONS.items() if target in STEPS
}
DEADLINE_LABELS = {
    "received": N_("Tanggapan pertama paling lambat"),
    "verified": N_("Diteruskan ke instansi paling lambat"),
    "dispatched": N_("Target selesai"),
    "in_progress": N_("Target selesai"),
}


def labels(audience: Audience) -> dict[str, str]:
    """Event kind → name (a msgid to translate) for one audience."""
    return {kind: getattr(label, audience) for kind, label in EVENT_LABELS.items()}


def label(kind: str, audience: Audience) -> str:
    """The name of an event kind for an audience (the kind itself when unknown)."""
    known = EVENT_LABELS.get(kind)
    return getattr(known, audience) if known else kind


# --- photos ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Photos:
    """A report's photos: its own (filed with it) and those each later event brought."""

    report: list[Any]
    by_event: dict[int, list[Any]]

    def in_order(self, events: Sequence[Any]) -> list[Any]:
        """The report's own photos, then those of `events` in their order."""
        found = list(self.report)
        for event in events:
            found.extend(self.by_event.get(event["id"], []))
        return found


def group_photos(events: Sequence[Any], photos: Sequence[Any]) -> Photos:
    """Photos by the event that brought them; those of the first event (the report's
    arrival) or of none are the report's own."""
    first = events[0]["id"] if events else None
    own: list[Any] = []
    by_event: dict[int, list[Any]] = {}
    for photo in photos:
        if photo["event_id"] is None or photo["event_id"] == first:
            own.append(photo)
        else:
            by_event.setdefault(photo["event_id"], []).append(photo)
    return Photos(own, by_event)


# --- the public history (Open311) -----------------------------------------------------------


@dataclass(frozen=True)
class Note:
    """One event the public may see: its kind, when, its public note and its name (a msgid
    to translate, shown where there is no note)."""

    kind: str
    at: str
    public_note: str
    label: str


def public_notes(events: Sequence[Any]) -> list[Note]:
    """The events the public may see, oldest first (what Open311 lists as notes)."""
    return [
        Note(e["kind"], e["created_at"], e["public_note"], label(e["kind"], PUBLIC))
        for e in events
        if is_public_event(e)
    ]


# --- the resident's steps -------------------------------------------------------------------


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
    """The resident's entries in display order: the five steps, with closing events after
    them.

    History is never rewritten: when the resident reopens a report, the steps done so far
    (the resolution with its note and "after" photos included) stay as they were, the
    reopening follows them, and a new round of steps to come starts after it.
    """
    grouped = group_photos(events, photos)
    shown: list[Entry] = []  # rounds closed by a reopening, in display order
    current = _Round(first=0)
    for order, event in enumerate(events):
        if not is_public_event(event) or event["kind"] not in EVENT_LABELS:
            continue
        step = EVENT_STEP.get(event["kind"])
        note = event["public_note"]
        event_photos = [p["sha256"] for p in grouped.by_event.get(event["id"], [])]
        if step is not None and step in current.steps:
            entry = current.steps[step]
            if entry.at is None:
                entry.at = event["created_at"]
                entry.order = order
            if note:
                entry.notes.append(note)
            entry.photos.extend(event_photos)  # the report's own photos are shown above
            current.reached = max(current.reached, STEPS.index(step))
            if event["kind"] == "progress" or step == "resolved":
                entry.state = "done"
            continue
        extra = _extra(event, order, event_photos)
        if event["kind"] == "reopened":
            # The finished round stays as it happened; work starts again after it.
            shown.extend(current.close(None))
            shown.append(extra)
            current = _Round(first=STEPS.index("in_progress"))
        else:
            # Closing events, notes, and a step of an earlier round taken again after a
            # reopening (forwarded to another agency, say): shown where they happened.
            current.extras.append(extra)
    return shown + current.close(report)


def _extra(event: Any, order: int, photos: list[str]) -> Entry:
    note = event["public_note"]
    return Entry(
        label=label(event["kind"], PUBLIC),
        state="done",
        at=event["created_at"],
        order=order,
        notes=[note] if note else [],
        photos=photos,
        related_code=event["related_code"],
        kind=EVENT_STEP.get(event["kind"], event["kind"]),
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
