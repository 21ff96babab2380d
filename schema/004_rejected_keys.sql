-- onboard results database, version 4: a fixed row supersedes the rejected original it replaces.

-- Rejected rows keep the name and externalId they could be read with, so that a fixed copy imported
-- later (onboard export --failed, edit, import) finds and supersedes them; these stay tiny while
-- nothing is rejected, so the accepted path's lookup costs almost nothing.
CREATE INDEX rows_rejected_name ON rows(name) WHERE state = 'rejected' AND name IS NOT NULL;
CREATE INDEX rows_rejected_external_id ON rows(external_id) WHERE state = 'rejected' AND external_id IS NOT NULL;

-- The attempts a retry allowance counts from: `onboard retry` sets it to the row's attempts so a
-- requeued row gets --max-attempts fresh tries while its history keeps counting.
ALTER TABLE rows ADD COLUMN attempts_before_retry INTEGER NOT NULL DEFAULT 0;
