-- Staff inbox indexes, measured with bench/inbox_million.py on 1,000,000 reports.
--
-- Counts per status of an area's or an agency's cases read only the index instead of every
-- report row of the scope (an agency with ~100,000 forwarded reports: ~90 ms -> ~5 ms).
CREATE INDEX reports_area_status ON reports (area_code, status);
CREATE INDEX reports_agency_status ON reports (agency_code, status);

-- An officer scoped to one kecamatan or one kota. Kemendagri codes are fixed width (kota
-- 31.71, kecamatan 31.71.01, kelurahan 31.71.01.1001), so such a scope is an equality on a
-- prefix of area_code, and these indexes return the inbox already in deadline order instead
-- of sorting every open case of the scope (a kota's ~20,000: ~95 ms -> ~0.5 ms a page).
CREATE INDEX reports_kecamatan_due ON reports (substr(area_code, 1, 8), next_due_at, id);
CREATE INDEX reports_kota_due ON reports (substr(area_code, 1, 5), next_due_at, id);
