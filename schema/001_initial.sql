-- onboard results database, version 1.
-- Times are ISO 8601 UTC text ("2026-12-03T21:30:00.123Z") unless the column says unix seconds.

-- One row per CSV file imported. Importing a file with the same sha256 again adds nothing.
CREATE TABLE imports (
    id            INTEGER PRIMARY KEY,
    file_name     TEXT    NOT NULL,            -- as given on the command line
    file_size     INTEGER NOT NULL,            -- bytes
    sha256        TEXT    NOT NULL UNIQUE,     -- hex digest of the file's bytes
    columns       TEXT    NOT NULL,            -- JSON array: the CSV header, in file order
    mapping       TEXT    NOT NULL,            -- JSON object: workflow input -> CSV column
    delimiter     TEXT    NOT NULL,
    imported_at   TEXT    NOT NULL,
    records       INTEGER NOT NULL DEFAULT 0,  -- data records read (blank ones not counted)
    accepted      INTEGER NOT NULL DEFAULT 0,  -- queued for the run
    rejected      INTEGER NOT NULL DEFAULT 0,  -- failed validation (state 'rejected')
    duplicates    INTEGER NOT NULL DEFAULT 0,  -- rejected as a repeat of an earlier row
    superseded    INTEGER NOT NULL DEFAULT 0   -- earlier failed rows this import replaced
);

-- One row per CSV record. state moves pending -> in_flight -> succeeded | failed | pending (retry);
-- outcome_unknown when a request may have reached the server; rejected at import; superseded when
-- a later import carries a fixed version of a failed row.
CREATE TABLE rows (
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
    inputs           TEXT    NOT NULL,         -- JSON object: workflow inputs from the CSV (no secrets)
    source           TEXT    NOT NULL,         -- JSON array: the record's fields as in the file
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
    updated_at       TEXT    NOT NULL
);
-- Prismatic requires unique names and unique externalIds; only live rows compete.
CREATE UNIQUE INDEX rows_live_name ON rows(name)
    WHERE name IS NOT NULL AND state NOT IN ('rejected', 'superseded');
CREATE UNIQUE INDEX rows_live_external_id ON rows(external_id)
    WHERE external_id IS NOT NULL AND state NOT IN ('rejected', 'superseded');
CREATE INDEX rows_by_state ON rows(state, next_attempt_at);
CREATE INDEX rows_by_import ON rows(import_id, line);

-- One row per `onboard run` process.
CREATE TABLE runs (
    id           INTEGER PRIMARY KEY,
    owner        TEXT    NOT NULL,             -- lease owner tag: host:pid:start
    started_at   TEXT    NOT NULL,
    finished_at  TEXT,
    api_url      TEXT    NOT NULL,
    workers      INTEGER NOT NULL,
    batch_size   INTEGER NOT NULL,
    status       TEXT    NOT NULL DEFAULT 'running' -- running, finished, interrupted, aborted
);

-- One row per batch leased; the batch-scoped steps (the token refresh) run once per batch.
CREATE TABLE batches (
    id          INTEGER PRIMARY KEY,
    run_id      INTEGER NOT NULL REFERENCES runs(id),
    leased_at   TEXT    NOT NULL,
    rows        INTEGER NOT NULL
);

-- Every request made for a row, kept forever: the row's history.
CREATE TABLE attempts (
    id            INTEGER PRIMARY KEY,
    row_id        INTEGER NOT NULL REFERENCES rows(id),
    run_id        INTEGER REFERENCES runs(id),
    batch_id      INTEGER REFERENCES batches(id),
    number        INTEGER NOT NULL,            -- 1, 2, ... per row
    kind          TEXT    NOT NULL DEFAULT 'create', -- create, reconcile
    started_at    TEXT    NOT NULL,
    duration_ms   REAL    NOT NULL,
    http_status   INTEGER,                     -- NULL when no response arrived
    outcome       TEXT    NOT NULL CHECK (outcome = 'succeeded' OR outcome = 'failed' OR outcome = 'retry'
                                          OR outcome = 'outcome_unknown' OR outcome = 'reconciled'
                                          OR outcome = 'not_found'),
    error_class   TEXT,
    error_message TEXT,
    customer_id   TEXT
);
CREATE INDEX attempts_by_row ON attempts(row_id, number);
