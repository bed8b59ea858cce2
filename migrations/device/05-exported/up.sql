-- Device store, schema 5: when an incident last left the device in an export file (the
-- offline road, engine::export), so the queue can say "exporté le …" until the server answers.
ALTER TABLE incidents ADD COLUMN exported_at TEXT;
