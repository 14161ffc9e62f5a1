-- Open311 GeoReport v2 intake. A client's `media_url` is recorded as a link (never fetched:
-- the server must not be made to download arbitrary URLs), and its `device_id` is kept so
-- that staff can tell the devices of one app apart. Neither is ever returned by the API.
ALTER TABLE reports ADD COLUMN media_url TEXT NOT NULL DEFAULT '';
ALTER TABLE reports ADD COLUMN device_id TEXT NOT NULL DEFAULT '';
