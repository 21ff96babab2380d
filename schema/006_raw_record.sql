-- onboard results database, version 6: malformed records keep their text.

-- A record rejected as malformed (a wrong field count or broken quoting) cannot be trusted column by
-- column; its text as it was in the file (its first physical line for broken quoting) is kept here,
-- and `onboard export --failed` gives it in a `record` column instead of columns that may be shifted.
ALTER TABLE rows ADD COLUMN raw_record TEXT;
