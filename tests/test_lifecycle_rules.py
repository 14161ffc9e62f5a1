"""The pure rules of a report's lifecycle (web/lifecycle/rules.py), the timeline's grouping
and naming, and how a refusal becomes text: plain values in, plain values out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from web import i18n, lifecycle
from web.lifecycle import rules, timeline
from web.lifecycle.actions import ACTIONS

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
NOW_TEXT = "2026-03-02T09:00:00Z"


def report(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "status": "received",
        "channel": "web",
        "written_at": None,
        "received_at": "2026-03-02T02:00:00Z",
        "next_due_at": "2026-03-03T02:00:00Z",
        "resolved_at": None,
        "response_due_at": "2026-03-03T02:00:00Z",
        "dispatch_due_at": "2026-03-04T02:00:00Z",
        "resolution_due_at": "2026-03-09T02:00:00Z",
    }
    return base | fields


def event(kind: str, public_note: str = "", **fields: Any) -> dict[str, Any]:
    return {"kind": kind, "public_note": public_note, **fields}


# --- which actions, for whom -----------------------------------------------------------------


def test_an_officer_may_take_exactly_these_actions_in_each_status() -> None:
    closing = ("resolve", "reject", "duplicate", "note", "recategorise")
    working = ("dispatch", "progress", *closing)
    expected = {
        "received": ("verify", "dispatch", *closing),
        "verified": working,
        "dispatched": working,
        "in_progress": working,
        "resolved": ("note",),
        "rejected": ("note",),
        "duplicate": ("note",),
        "closed": ("note",),
    }
    assert set(expected) == set(rules.STATUS_LABELS)
    for status, actions in expected.items():
        assert rules.available_actions(status, "officer") == actions, status
        assert rules.available_actions(status, "admin") == actions, status


def test_a_supervisor_or_an_unknown_role_may_take_no_action_in_any_status() -> None:
    for status in rules.STATUS_LABELS:
        assert rules.available_actions(status, "supervisor") == ()
        assert rules.available_actions(status, "") == ()


def test_an_unknown_status_allows_no_action() -> None:
    assert rules.available_actions("archived", "admin") == ()


def test_every_action_has_its_step_and_every_event_kind_its_names() -> None:
    assert set(ACTIONS) == set(rules.TRANSITIONS)
    kinds = {*rules.TRANSITIONS, "received", "merged_in", "reopened", "confirmed", "closed"}
    assert set(rules.EVENT_LABELS) == kinds
    assert rules.PUBLIC_EVENT_KINDS <= kinds


# --- when the clock starts -------------------------------------------------------------------


@pytest.mark.parametrize("channel", rules.STAFF_CHANNELS)
def test_a_complaint_taken_by_staff_is_timed_from_when_the_resident_made_it(channel: str) -> None:
    taken = report(channel=channel, written_at="2026-03-01T23:30:00Z")
    assert rules.clock_start(taken) == "2026-03-01T23:30:00Z"


@pytest.mark.parametrize("channel", ["web", "outbox", "open311"])
def test_a_report_sent_by_the_resident_is_timed_from_when_it_reached_us(channel: str) -> None:
    # The phone's outbox wrote it hours before it had signal: nobody could act on it yet.
    sent = report(channel=channel, written_at="2026-03-01T23:30:00Z")
    assert rules.clock_start(sent) == "2026-03-02T02:00:00Z"


def test_a_staff_complaint_without_a_time_or_dated_later_is_timed_from_its_arrival() -> None:
    assert rules.clock_start(report(channel="walk_in")) == "2026-03-02T02:00:00Z"
    later = report(channel="phone", written_at="2026-03-02T05:00:00Z")
    assert rules.clock_start(later) == "2026-03-02T02:00:00Z"


# --- overdue ---------------------------------------------------------------------------------


def test_an_open_report_is_overdue_only_once_its_deadline_has_passed() -> None:
    due = report(next_due_at=NOW_TEXT)
    assert not rules.is_overdue(due, NOW_TEXT)  # at the deadline itself: still in time
    assert not rules.is_overdue(due, NOW)
    assert rules.is_overdue(due, "2026-03-02T09:00:01Z")
    assert rules.is_overdue(due, NOW + timedelta(seconds=1))
    assert not rules.is_overdue(due, NOW - timedelta(seconds=1))


@pytest.mark.parametrize("status", sorted(rules.OPEN_STATUSES))
def test_every_open_status_can_be_overdue(status: str) -> None:
    assert rules.is_overdue(report(status=status, next_due_at="2026-03-01T00:00:00Z"), NOW)


@pytest.mark.parametrize("status", sorted(rules.CLOSED_STATUSES))
def test_a_finished_report_is_never_overdue(status: str) -> None:
    assert not rules.is_overdue(report(status=status, next_due_at="2026-03-01T00:00:00Z"), NOW)


def test_a_report_without_a_deadline_is_not_overdue() -> None:
    assert not rules.is_overdue(report(next_due_at=None), NOW)


def test_each_status_waits_on_its_own_deadline() -> None:
    row = report()
    assert rules.next_due("received", row) == row["response_due_at"]
    assert rules.next_due("verified", row) == row["dispatch_due_at"]
    assert rules.next_due("dispatched", row) == row["resolution_due_at"]
    assert rules.next_due("in_progress", row) == row["resolution_due_at"]
    for status in rules.CLOSED_STATUSES:
        assert rules.next_due(status, row) is None


# --- reopening -------------------------------------------------------------------------------


def test_a_resolved_report_may_be_reopened_for_fourteen_days_and_not_a_second_more() -> None:
    resolved = report(status="resolved", resolved_at=NOW_TEXT)
    assert rules.can_reopen(resolved, NOW + timedelta(days=14))
    assert not rules.can_reopen(resolved, NOW + timedelta(days=14, seconds=1))
    assert not rules.can_reopen(report(status="closed", resolved_at=NOW_TEXT), NOW)
    assert not rules.can_reopen(report(status="resolved", resolved_at=None), NOW)


# --- what the public sees --------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(rules.PUBLIC_EVENT_KINDS))
def test_status_changes_and_merges_are_public_even_without_a_note(kind: str) -> None:
    assert rules.is_public_event(event(kind))


@pytest.mark.parametrize("kind", ["note", "recategorise"])
def test_a_note_or_correction_is_public_only_through_its_public_note(kind: str) -> None:
    assert not rules.is_public_event(event(kind))
    assert not rules.is_public_event(event(kind, internal_note="Hanya untuk petugas."))
    assert rules.is_public_event(event(kind, "Tim dijadwalkan besok."))


def test_the_public_notes_leave_out_internal_events_and_name_the_rest() -> None:
    events = [
        event("received", created_at="1"),
        event("note", internal_note="rahasia", created_at="2"),
        event("note", "Tim dijadwalkan.", created_at="3"),
        event("closed", created_at="4"),
    ]
    notes = timeline.public_notes(events)
    assert [(n.kind, n.at, n.public_note, n.label) for n in notes] == [
        ("received", "1", "", "Diterima"),
        ("note", "3", "Tim dijadwalkan.", "Catatan petugas"),
        ("closed", "4", "", "Ditutup otomatis"),
    ]


def test_staff_and_residents_each_get_their_own_words_from_the_one_table() -> None:
    staff, public = timeline.labels(timeline.STAFF), timeline.labels(timeline.PUBLIC)
    assert staff["note"] == "Catatan internal" and public["note"] == "Catatan petugas"
    assert staff["resolve"] == "Diselesaikan" and public["resolve"] == "Selesai"
    assert staff["closed"] == public["closed"] == "Ditutup otomatis"
    assert timeline.label("unknown_kind", timeline.PUBLIC) == "unknown_kind"


def test_photos_are_grouped_by_the_event_that_brought_them() -> None:
    events = [{"id": 10}, {"id": 11}, {"id": 12}]
    photos = [
        {"event_id": None, "sha256": "a"},
        {"event_id": 10, "sha256": "b"},
        {"event_id": 12, "sha256": "c"},
        {"event_id": 11, "sha256": "d"},
        {"event_id": 12, "sha256": "e"},
    ]
    grouped = timeline.group_photos(events, photos)
    assert [p["sha256"] for p in grouped.report] == ["a", "b"]
    assert {k: [p["sha256"] for p in v] for k, v in grouped.by_event.items()} == {
        12: ["c", "e"],
        11: ["d"],
    }
    assert [p["sha256"] for p in grouped.in_order(events)] == ["a", "b", "d", "c", "e"]


# --- refusals as text ------------------------------------------------------------------------


def test_a_refusal_names_the_status_in_the_readers_language() -> None:
    refused = lifecycle.not_allowed("in_progress")
    assert lifecycle.message(refused) == (
        "Tindakan ini tidak bisa dilakukan pada laporan berstatus Sedang dikerjakan."
    )
    token = i18n.current_language.set("en")
    try:
        english = lifecycle.message(refused)
    finally:
        i18n.current_language.reset(token)
    assert english == "This action is not possible on a report with status In progress."


def test_a_refusal_without_parameters_may_hold_a_percent_sign() -> None:
    assert lifecycle.message(lifecycle.DomainError("Diskon 100% tidak ada.")) == (
        "Diskon 100% tidak ada."
    )


def test_only_a_resolved_report_awaits_the_residents_answer() -> None:
    for status in rules.STATUS_LABELS:
        assert rules.awaits_answer(report(status=status)) is (status == "resolved"), status
