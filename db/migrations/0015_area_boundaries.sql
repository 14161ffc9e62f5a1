-- Kelurahan/desa boundaries (db/data/boundaries/, loaded by `aduan init --region` when the
-- province has a file): one row per area, its Polygon or MultiPolygon in WGS84 as
-- hex-encoded WKB. Every app server reads them all once (web/locate.py) and answers
-- point → kelurahan from memory with Shapely, so several servers agree and PostGIS is not
-- needed; TEXT keeps one migration for both backends.
CREATE TABLE area_boundaries (
    area_code TEXT PRIMARY KEY REFERENCES areas (code),
    geometry  TEXT NOT NULL
);
