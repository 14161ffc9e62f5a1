-- Who changed the rules that judge staff: deadline targets, holidays, category routing,
-- accounts and API keys. Each change writes one row in the same transaction as the change
-- itself (so there is never a change without its row, nor a row without its change), and
-- the rows are append-only: the triggers below refuse UPDATE and DELETE, whoever asks.
--
-- `actor_id` has no foreign key on purpose: the log must outlive the accounts it names,
-- and `actor_name` keeps the username as it was then ('cli' for the console).
-- `before_json`/`after_json` hold the changed object's state as JSON (NULL when it did not
-- exist before / after); never a password, a hash or an API key's secret.
CREATE TABLE audit_log (
    id           INTEGER PRIMARY KEY,
    at           TEXT NOT NULL,
    actor_id     INTEGER,
    actor_name   TEXT NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('targets', 'holiday', 'routing', 'account', 'apikey')),
    action       TEXT NOT NULL,
    object_table TEXT NOT NULL,
    object_key   TEXT NOT NULL,
    before_json  TEXT,
    after_json   TEXT
);
CREATE INDEX audit_log_kind ON audit_log (kind, id);
CREATE INDEX audit_log_at ON audit_log (at);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
