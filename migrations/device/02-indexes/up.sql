-- Device store, schema 2: applying a feed event also updates the records merged into the
-- event's request (duplicates); without this index that is a scan per event.
CREATE INDEX incidents_by_duplicate_of ON incidents (duplicate_of) WHERE duplicate_of IS NOT NULL;
