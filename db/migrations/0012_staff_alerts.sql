-- Staff alerts: an officer learns of a new case in their scope, and of a first-response
-- deadline coming due and passing, through Web Push on the browsers they turned alerts on
-- in; a supervisor sees which alerts went unanswered.

-- A browser a staff account turned alerts on in (the PushSubscription its page got, as in
-- push_subscriptions, which follow reports for residents and are kept apart: a resident's
-- "Kabari saya" and an officer's alerts on one phone are two different consents). One
-- browser alerts one account: a second account turning alerts on in the same browser takes
-- it over. `session_hash`: the session it was turned on in (sessions.id_hash), so that
-- another account logging in on that browser ends it. Dropped at logout, at a password reset
-- and at deactivation (web/lifecycle/alerts.py).
CREATE TABLE staff_push_subscriptions (
    endpoint     TEXT PRIMARY KEY,
    user_id      BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    session_hash TEXT NOT NULL,
    p256dh       TEXT NOT NULL,
    auth         TEXT NOT NULL,
    language     TEXT NOT NULL DEFAULT 'id',
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
);
CREATE INDEX staff_push_subscriptions_user ON staff_push_subscriptions (user_id);
CREATE INDEX staff_push_subscriptions_session ON staff_push_subscriptions (session_hash);

-- Alerts are messages of the same outbox. `alert` says which ('' for a resident's step);
-- `user_id` the account it was for (kept after its subscription is gone, for the
-- supervisors' list). A deadline alert names the report's first event ("received"), whose
-- response is due, so `event_id` stays set on every message.
ALTER TABLE messages ADD COLUMN alert TEXT NOT NULL DEFAULT ''
    CHECK (alert IN ('', 'new_case', 'due_soon', 'overdue'));
ALTER TABLE messages ADD COLUMN user_id BIGINT REFERENCES users (id);

-- One message per report, event, channel, recipient and alert: a browser that follows a
-- report as a resident and alerts an officer gets both, and each deadline alert is made once
-- per case, threshold and browser however many servers run the task (a NULL would never
-- conflict, hence '' rather than NULL for residents' steps).
DROP INDEX messages_once;
CREATE UNIQUE INDEX messages_once ON messages (report_id, event_id, channel, recipient, alert);
CREATE INDEX messages_alerts ON messages (created_at) WHERE alert <> '';

-- The deadline task looks every minute for reports still waiting for a first response whose
-- deadline is near or just passed.
CREATE INDEX reports_unanswered_due ON reports (response_due_at) WHERE first_response_at IS NULL;
