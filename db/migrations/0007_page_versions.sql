-- Change counters for what public pages are rendered from, read by every app server so that
-- a page one server keeps is known stale as soon as another changes its data
-- (db/page_versions.py, web/pagecache.py). 'reference': areas, agencies, categories (names,
-- deadline targets, confidentiality) and holidays. A counter's row is made by its first
-- change (an upsert), so a freshly migrated database holds no row and `aduan migrate --to`
-- still finds it empty; a missing row reads as 0.
CREATE TABLE data_versions (
    name    TEXT PRIMARY KEY,
    version INTEGER NOT NULL
);
