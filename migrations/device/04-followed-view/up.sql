-- Device store, schema 4: the last public status fetched for a followed tracking code, so the
-- citizen screen shows it offline and after a restart (TrackingView JSON, with when it came).
ALTER TABLE followed_codes ADD COLUMN last_view TEXT;
ALTER TABLE followed_codes ADD COLUMN refreshed_at TEXT;
