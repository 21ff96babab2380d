-- onboard results database, version 8: the uniqueness indexes no longer depend on state.

-- rows_live_name and rows_live_external_id were partial on state NOT IN ('rejected', 'superseded'),
-- so SQLite rewrote both of them on every state change of every row (pending -> in_flight ->
-- succeeded), the largest cost of a run's row update. They are now partial on `live`, which
-- changes only when a row is rejected or superseded: live = (state <> 'rejected' AND state <>
-- 'superseded') always, and the store writes both together.
ALTER TABLE rows ADD COLUMN live INTEGER NOT NULL DEFAULT 1;
UPDATE rows SET live = 0 WHERE state = 'rejected' OR state = 'superseded';

DROP INDEX rows_live_name;
DROP INDEX rows_live_external_id;
CREATE UNIQUE INDEX rows_live_name ON rows(name) WHERE name IS NOT NULL AND live = 1;
CREATE UNIQUE INDEX rows_live_external_id ON rows(external_id) WHERE external_id IS NOT NULL AND live = 1;
