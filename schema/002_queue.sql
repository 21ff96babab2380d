-- onboard results database, version 2: queue bookkeeping.

-- NULL while an import is still being written; an import interrupted before this is set is resumed
-- (from its last stored line) when the same file is imported again.
ALTER TABLE imports ADD COLUMN finished_at TEXT;
UPDATE imports SET finished_at = imported_at;

-- 1 while a row leased as outcome_unknown (or from an expired lease) is in flight: if its lease is
-- released it goes back to outcome_unknown, never to pending, so it is reconciled before any resend.
ALTER TABLE rows ADD COLUMN lease_unknown INTEGER NOT NULL DEFAULT 0;

-- The pending queue in lease order, without walking finished rows.
CREATE INDEX rows_pending ON rows(import_id, line) WHERE state = 'pending';

-- The rows a run holds, for extending and releasing its leases.
CREATE INDEX rows_in_flight ON rows(lease_owner) WHERE state = 'in_flight';
