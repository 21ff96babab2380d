-- onboard results database, version 5: fewer indexes to maintain per imported row.

-- rows_by_import duplicated rows_pending while rows wait, and rows_by_state was written on every state
-- change; the queries that need speed have narrow partial indexes instead: the pending queue
-- (rows_pending), rows waiting for a retry time, rows of unknown outcome and leased rows
-- (rows_in_flight). Reports and counts read the whole table, which is fast enough for them.
DROP INDEX rows_by_state;
DROP INDEX rows_by_import;
CREATE INDEX rows_waiting ON rows(next_attempt_at) WHERE state = 'pending' AND next_attempt_at IS NOT NULL;
CREATE INDEX rows_unknown ON rows(import_id, line) WHERE state = 'outcome_unknown';
