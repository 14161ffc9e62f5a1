"""A report's lifecycle, in one package: the pure rules (rules.py, deadlines.py) apart from
the code that applies them to the database (create.py, actions.py, answers.py,
autoclose.py), the one timeline every audience sees (timeline.py), and the one way a refusal
becomes text (errors.py).

Every channel (the resident's form and outbox, staff intake, Open311) and every page asks
these; none decides a rule of its own.
"""

from __future__ import annotations

from web.lifecycle.actions import ACTIONS, Action, apply_action
from web.lifecycle.answers import resident_answer
from web.lifecycle.autoclose import close_unanswered
from web.lifecycle.create import (
    Created,
    NewReport,
    create_report,
    find_replay,
    key_used,
)
from web.lifecycle.errors import Conflict, DomainError, IdempotencyMismatch, message, not_allowed
from web.lifecycle.events import stop_messages
from web.lifecycle.rules import (
    ACTING_ROLES,
    CHANNEL_LABELS,
    CHANNELS,
    CLOSED_STATUSES,
    EVENT_LABELS,
    OPEN_STATUSES,
    PUBLIC_EVENT_KINDS,
    REOPEN_WINDOW,
    RESPONDING_ACTIONS,
    STAFF_CHANNELS,
    STATUS_LABELS,
    STEPS,
    TRANSITIONS,
    available_actions,
    awaits_answer,
    can_reopen,
    can_support,
    clock_start,
    is_overdue,
    is_public_event,
    next_due,
)

__all__ = [
    "ACTING_ROLES",
    "ACTIONS",
    "CHANNELS",
    "CHANNEL_LABELS",
    "CLOSED_STATUSES",
    "EVENT_LABELS",
    "OPEN_STATUSES",
    "PUBLIC_EVENT_KINDS",
    "REOPEN_WINDOW",
    "RESPONDING_ACTIONS",
    "STAFF_CHANNELS",
    "STATUS_LABELS",
    "STEPS",
    "TRANSITIONS",
    "Action",
    "Conflict",
    "Created",
    "DomainError",
    "IdempotencyMismatch",
    "NewReport",
    "apply_action",
    "available_actions",
    "awaits_answer",
    "can_reopen",
    "can_support",
    "clock_start",
    "close_unanswered",
    "create_report",
    "find_replay",
    "is_overdue",
    "is_public_event",
    "key_used",
    "message",
    "next_due",
    "not_allowed",
    "resident_answer",
    "stop_messages",
]
