-- onboard results database, version 9: following a row to the copies that replaced it.

-- A row of an `onboard export --failed` file names the row it came from; when that row was already
-- replaced (an earlier round of the same export), the newest copy is the one to replace. Few rows
-- have `supersedes`, so the index stays small.
CREATE INDEX rows_superseded_by ON rows(supersedes) WHERE supersedes IS NOT NULL;
