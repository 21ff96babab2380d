#!/usr/bin/env bash
# The main job end to end: import -> run -> status against the simulator.
source "$(dirname "$0")/lib.sh"
start_sim --latency-ms 2 --jitter-ms 2

onboard import "$SOURCE_DIR/samples/customers.csv" >"$work/import.out"
grep -q "1200 accepted" "$work/import.out" || { cat "$work/import.out"; fail "import summary"; }

run_job --workers 16 --batch-size 100
[ "$status" -eq 0 ] || { cat "$work/run.out" "$work/run.err"; fail "run exit $status"; }
expect_eq "$(sql "SELECT count(*) FROM rows WHERE state = 'succeeded'")" 1200 "succeeded rows"
expect_one_customer_per_row
expect_eq "$(sim_stat refreshes)" "$(sql 'SELECT count(*) FROM batches')" "refreshes vs batches"
expect_eq "$(sql 'SELECT count(*) FROM batches')" 12 "batches of 100"
# Names with commas, quotes and non-ASCII arrive as written.
expect_eq "$(curl -fsS "$url/_sim/customers" | jq -r '.[] | select(.externalId == "CUST-100002") | .name')" \
  "Nguyễn, Wiktor" "a name with a comma and non-ASCII"
# Rows without externalId are created without one.
expect_eq "$(curl -fsS "$url/_sim/customers" | jq '[.[] | select(.externalId == null)] | length')" 126 "no externalId"

onboard status --json >"$work/status.json"
expect_eq "$(jq '.total.succeeded' "$work/status.json")" 1200 "status --json total succeeded"

# A second run finds nothing to do and creates nothing; --json says what this run did beside the totals.
run_job --json
[ "$status" -eq 0 ] || fail "second run exit $status"
expect_eq "$(jq -c '[.succeeded, .run.succeeded, .run.requests, .run.stopped]' "$work/run.out")" \
  '[1200,0,0,"finished"]' "run --json: the rows' totals and this run's own counts"
expect_eq "$(sim_customers)" 1200 "customers after a second run"

# Importing the same file again adds nothing.
onboard import "$SOURCE_DIR/samples/customers.csv" >"$work/import2.out" || true
grep -qi "already imported" "$work/import2.out" || { cat "$work/import2.out"; fail "re-import message"; }
expect_eq "$(sql 'SELECT count(*) FROM rows')" 1200 "rows after re-import"
pass "import, run and status of the sample"
