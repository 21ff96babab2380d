#!/usr/bin/env bash
# --rows-per-request: K rows' createCustomer mutations in one document under aliases; each row is
# judged on its own alias, a failure of the whole request fails or retries all K, and faults still
# end with one customer per row.
source "$(dirname "$0")/lib.sh"
start_sim --seed 7 --drop-rate 0.1 --fail-rate 0.1 --latency-ms 2
make_csv 300 "$work/c.csv"
sim_create "Customer 12" "SOMEONE-12"     # a taken name: its alias answers with payload errors
onboard import "$work/c.csv" >/dev/null
run_job --workers 4 --batch-size 100 --rows-per-request 10 --max-attempts 20 --timeout 2
expect_eq "$status" 1 "exit code with the taken name failed"
expect_eq "$(sql "SELECT line || ' ' || error_class FROM rows WHERE state != 'succeeded'")" "13 duplicate" \
  "only the taken name fails, on its own"
expect_eq "$(sql "SELECT count(*) FROM rows WHERE state = 'succeeded'")" 299 "succeeded rows"
expect_one_customer_per_row 1
mutations=$(sim_stat mutations)
[ "$mutations" -lt 100 ] || fail "$mutations mutations for 300 rows: rows were not sent together"
[ "$(sim_stat injected_drops)" -gt 0 ] || fail "no drops were injected"
[ "$(sql "SELECT count(*) FROM rows WHERE reconciled = 1")" -gt 0 ] || fail "dropped rows were not reconciled"
stop_sim

# Top-level GraphQL errors fail every row of their request, and are never retried.
rm -f "$ONBOARD_DB"
start_sim --seed 8 --graphql-error-rate 0.3
onboard import "$work/c.csv" >/dev/null
run_job --workers 4 --batch-size 100 --rows-per-request 10
injected=$(sim_stat injected_graphql_errors)
[ "$injected" -gt 0 ] || fail "no graphql errors were injected"
failed=$(sql "SELECT count(*) FROM rows WHERE error_class = 'graphql'")
[ "$failed" -ge "$injected" ] && [ "$failed" -le $((injected * 10)) ] \
  || fail "$failed rows failed for $injected injected errors of up to 10 rows each"
expect_eq "$(sql "SELECT count(*) FROM attempts WHERE outcome = 'retry'")" 0 "retries of graphql errors"
expect_eq "$(sql "SELECT count(*) FROM rows WHERE state = 'succeeded'")" "$((300 - failed))" "the other rows"
expect_one_customer_per_row
pass "rows per request: $mutations mutations for 300 rows under faults"
