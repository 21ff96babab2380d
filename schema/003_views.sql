-- Views for `onboard query` (README "Querying the results"); they only read the tables above.

-- Rows that need a fix or a retry: failed, or rejected at import.
CREATE VIEW failures AS
SELECT r.id AS row_id, r.import_id, i.file_name, r.line, r.state, r.name, r.external_id,
       r.error_class, r.error_message, r.attempts, r.updated_at
FROM rows r JOIN imports i ON i.id = r.import_id
WHERE r.state IN ('failed', 'rejected');

-- Every request made, with the row it was made for: the full history.
CREATE VIEW history AS
SELECT a.id AS attempt_id, a.row_id, r.import_id, r.line, r.name, a.number, a.kind, a.run_id,
       a.batch_id, a.started_at, a.duration_ms, a.http_status, a.outcome, a.error_class,
       a.error_message, a.customer_id
FROM attempts a JOIN rows r ON r.id = a.row_id;

-- The customers created, one per succeeded row.
CREATE VIEW customers AS
SELECT r.customer_id, r.name, r.external_id, r.import_id, r.line, r.reconciled,
       r.updated_at AS succeeded_at
FROM rows r
WHERE r.state = 'succeeded';
