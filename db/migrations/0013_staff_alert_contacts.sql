-- Staff alerts through the city's gateways: the work email and mobile number an admin
-- records on an account (web/routes/accounts.py). When the city switched the email or the
-- SMS/WhatsApp gateway on, every alert that goes to the account's browsers also goes there
-- (db/alerts.py). '' is none. The phone is kept as the gateway takes it (+62 8…).
ALTER TABLE users ADD COLUMN alert_email TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN alert_phone TEXT NOT NULL DEFAULT '';
