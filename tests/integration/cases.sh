#!/usr/bin/env bash
# Every case of tests/fixtures/cases end to end: import, run against the simulator, and the simulator
# holds exactly the case's valid rows with their values; the invalid rows are rejected at their lines.
source "$(dirname "$0")/lib.sh"
start_sim
count=0
for csv in "$FIXTURES"/cases/*.csv; do
  name=$(basename "$csv" .csv)
  expect="${csv%.csv}.expect.json"
  rm -f "$ONBOARD_DB"*
  curl -fsS -X POST -d '' "$url/_sim/reset" >/dev/null
  onboard import "$csv" >"$work/$name.import" 2>&1 || true
  run_job --workers 4
  # Exit 1 says some rows of the database did not succeed: here, the rows rejected at import.
  expected_status=$(jq '.invalid_rows | if length > 0 then 1 else 0 end' "$expect")
  [ "$status" -eq "$expected_status" ] || { cat "$work/run.err"; fail "$name: run exit $status"; }
  expect_eq "$(curl -fsS "$url/_sim/customers" | jq -c '[.[] | {name, externalId}] | sort_by(.name)')" \
            "$(jq -c '[.valid_rows[] | {name, externalId}] | sort_by(.name)' "$expect")" "$name: customers created"
  expect_eq "$(sql "SELECT group_concat(line, ' ') FROM (SELECT line FROM rows WHERE state = 'succeeded' ORDER BY line)")" \
            "$(jq -r '[.valid_rows[].line] | sort | map(tostring) | join(" ")' "$expect")" "$name: lines onboarded"
  expect_eq "$(sql "SELECT group_concat(line, ' ') FROM (SELECT line FROM rows WHERE state = 'rejected' ORDER BY line)")" \
            "$(jq -r '[.invalid_rows[].line] | sort | map(tostring) | join(" ")' "$expect")" "$name: lines rejected"
  count=$((count + 1))
done
[ "$count" -ge 6 ] || fail "only $count cases found"
pass "$count cases imported and onboarded as expected"
