-- onboard results database, version 7: a row stores its inputs and source only when they say more
-- than its name and external_id.

-- For most files (a name and an externalId column) rows.inputs and rows.source only repeated name
-- and external_id, half of an imported row's bytes. Both are now NULL when they would be exactly
-- what the view rows_full derives from name and external_id:
--   inputs: {"name": name, "externalId": external_id}, each member left out when NULL;
--   source: [name, external_id], a NULL as "".
-- rows_full gives every row with both spelled out; the store reads them the same way
-- (store::k_row_inputs_sql, k_row_source_sql). SQLite cannot drop NOT NULL in place, so the
-- table is rebuilt (its rows copied as they are) with its indexes and the views that read it.

-- The store applies migrations with foreign keys off (attempts.row_id points at rows while it is
-- rebuilt) and checks them before committing.

DROP VIEW failures;
DROP VIEW history;
DROP VIEW customers;

CREATE TABLE rows_new (
    id               INTEGER PRIMARY KEY,
    import_id        INTEGER NOT NULL REFERENCES imports(id),
    line             INTEGER NOT NULL,         -- physical line where the record starts (header = 1)
    -- The CHECKs spell out OR chains: an IN list of more than two values makes SQLite build a
    -- temporary b-tree on every INSERT, a fifth of an import's time.
    state            TEXT    NOT NULL CHECK (state = 'pending' OR state = 'in_flight' OR state = 'succeeded'
                                             OR state = 'failed' OR state = 'outcome_unknown'
                                             OR state = 'rejected' OR state = 'superseded'),
    name             TEXT,                     -- the 'name' input, trimmed
    external_id      TEXT,                     -- the 'externalId' input, NULL when empty
    inputs           TEXT,                     -- JSON object: workflow inputs from the CSV (no secrets); NULL: see above
    source           TEXT,                     -- JSON array: the record's fields as in the file; NULL: see above
    attempts         INTEGER NOT NULL DEFAULT 0,
    error_class      TEXT,                     -- see README "Failure classes"
    error_message    TEXT,                     -- the server's or validator's own words
    customer_id      TEXT,                     -- the Prismatic customer id once succeeded
    outputs          TEXT,                     -- JSON object: workflow outputs once succeeded
    reconciled       INTEGER NOT NULL DEFAULT 0, -- 1 when success was found by lookup, not answered
    supersedes       INTEGER REFERENCES rows(id), -- the failed row this one replaced
    lease_owner      TEXT,                     -- the run holding it while in_flight
    lease_expires_at REAL,                     -- unix seconds
    next_attempt_at  REAL,                     -- unix seconds; NULL = as soon as possible
    updated_at       TEXT    NOT NULL,
    lease_unknown    INTEGER NOT NULL DEFAULT 0, -- see 002
    attempts_before_retry INTEGER NOT NULL DEFAULT 0, -- see 004
    raw_record       TEXT                      -- see 006
);
INSERT INTO rows_new SELECT id, import_id, line, state, name, external_id, inputs, source, attempts, error_class,
    error_message, customer_id, outputs, reconciled, supersedes, lease_owner, lease_expires_at, next_attempt_at,
    updated_at, lease_unknown, attempts_before_retry, raw_record FROM rows;
DROP TABLE rows;
ALTER TABLE rows_new RENAME TO rows;

-- The indexes of 001, 002, 004 and 005, as they were.
CREATE UNIQUE INDEX rows_live_name ON rows(name)
    WHERE name IS NOT NULL AND state NOT IN ('rejected', 'superseded');
CREATE UNIQUE INDEX rows_live_external_id ON rows(external_id)
    WHERE external_id IS NOT NULL AND state NOT IN ('rejected', 'superseded');
CREATE INDEX rows_pending ON rows(import_id, line) WHERE state = 'pending';
CREATE INDEX rows_in_flight ON rows(lease_owner) WHERE state = 'in_flight';
CREATE INDEX rows_rejected_name ON rows(name) WHERE state = 'rejected' AND name IS NOT NULL;
CREATE INDEX rows_rejected_external_id ON rows(external_id) WHERE state = 'rejected' AND external_id IS NOT NULL;
CREATE INDEX rows_waiting ON rows(next_attempt_at) WHERE state = 'pending' AND next_attempt_at IS NOT NULL;
CREATE INDEX rows_unknown ON rows(import_id, line) WHERE state = 'outcome_unknown';

-- Every row as documented, inputs and source spelled out (for `onboard query` and the store).
CREATE VIEW rows_full AS
SELECT id, import_id, line, state, name, external_id,
       COALESCE(inputs, CASE
           WHEN name IS NULL AND external_id IS NULL THEN '{}'
           WHEN external_id IS NULL THEN json_object('name', name)
           WHEN name IS NULL THEN json_object('externalId', external_id)
           ELSE json_object('name', name, 'externalId', external_id) END) AS inputs,
       COALESCE(source, json_array(COALESCE(name, ''), COALESCE(external_id, ''))) AS source,
       attempts, error_class, error_message, customer_id, outputs, reconciled, supersedes, lease_owner,
       lease_expires_at, next_attempt_at, updated_at, lease_unknown, attempts_before_retry, raw_record
FROM rows;

-- The views of 003, as they were.
CREATE VIEW failures AS
SELECT r.id AS row_id, r.import_id, i.file_name, r.line, r.state, r.name, r.external_id,
       r.error_class, r.error_message, r.attempts, r.updated_at
FROM rows r JOIN imports i ON i.id = r.import_id
WHERE r.state IN ('failed', 'rejected');

CREATE VIEW history AS
SELECT a.id AS attempt_id, a.row_id, r.import_id, r.line, r.name, a.number, a.kind, a.run_id,
       a.batch_id, a.started_at, a.duration_ms, a.http_status, a.outcome, a.error_class,
       a.error_message, a.customer_id
FROM attempts a JOIN rows r ON r.id = a.row_id;

CREATE VIEW customers AS
SELECT r.customer_id, r.name, r.external_id, r.import_id, r.line, r.reconciled,
       r.updated_at AS succeeded_at
FROM rows r
WHERE r.state = 'succeeded';
