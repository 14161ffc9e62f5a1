-- How the reporter agreed to hear back about their report, beyond following it with Web Push
-- in a browser (push_subscriptions): a set of channels written as a comma list in a fixed
-- order, each only with the contact it needs and the reporter's consent on the form:
-- 'whatsapp' and 'sms' go to reporter_phone, 'email' to reporter_email. '' (the default, and
-- every report filed before this): nobody contacts the reporter on their own initiative.
ALTER TABLE reports ADD COLUMN notify_by TEXT NOT NULL DEFAULT '';
