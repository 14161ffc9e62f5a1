-- Residents hear back (SQLite variant; the PostgreSQL one differs only in its identity
-- columns).

-- A browser's Web Push subscription (the PushSubscription a page got from the browser):
-- the push service's `endpoint`, which identifies it, and the keys its payloads are
-- encrypted for. One subscription may follow several reports (push_follows). `language`
-- is the language the page was shown in when it subscribed, for the notification's words.
CREATE TABLE push_subscriptions (
    id         INTEGER PRIMARY KEY,
    endpoint   TEXT NOT NULL UNIQUE,
    p256dh     TEXT NOT NULL,
    auth       TEXT NOT NULL,
    language   TEXT NOT NULL DEFAULT 'id',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- Which reports a subscription follows.
CREATE TABLE push_follows (
    subscription_id INTEGER NOT NULL REFERENCES push_subscriptions (id) ON DELETE CASCADE,
    report_id       INTEGER NOT NULL REFERENCES reports (id),
    created_at      TEXT NOT NULL,
    PRIMARY KEY (subscription_id, report_id)
);
CREATE INDEX push_follows_report ON push_follows (report_id);

-- The durable outbox of messages to residents (and later staff): written in the same
-- transaction as the public timeline event that causes it, sent later by a sender that
-- may run on several servers. `recipient` is the channel's address (a push endpoint, a
-- phone number, an email address). The unique index makes one message per report,
-- event, channel and recipient, however many servers or retries enqueue it. The text is
-- not stored: the sender builds it from the event, so nothing personal sits here twice.
-- `next_attempt_at`: when a sender may take it (again); a sender that takes it moves it
-- forward by a lease, so one that dies mid-send leaves it to be taken again.
CREATE TABLE messages (
    id              INTEGER PRIMARY KEY,
    report_id       INTEGER NOT NULL REFERENCES reports (id),
    event_id        INTEGER NOT NULL REFERENCES report_events (id),
    channel         TEXT NOT NULL CHECK (channel IN ('push', 'email', 'sms', 'whatsapp')),
    recipient       TEXT NOT NULL,
    state           TEXT NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'sent', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    last_error      TEXT NOT NULL DEFAULT '',
    created_at      TEXT NOT NULL,
    sent_at         TEXT
);
CREATE UNIQUE INDEX messages_once ON messages (report_id, event_id, channel, recipient);
CREATE INDEX messages_due ON messages (state, next_attempt_at);
CREATE INDEX messages_event ON messages (event_id);
