#!/usr/bin/env bash
# GraphQL error answers: top-level errors fail the row (class graphql); payload errors name the field.
source "$(dirname "$0")/lib.sh"
start_sim --graphql-error-rate 0.2 --seed 11
make_csv 100 "$work/c.csv"
sim_create "Customer 3" "OTHER-3"
sim_create "Other name" "EXT-4"
onboard import "$work/c.csv" >/dev/null
run_job --workers 8 --batch-size 25
expect_eq "$status" 1 "exit code with failed rows"
injected=$(sim_stat injected_graphql_errors)
[ "$injected" -gt 0 ] || fail "the simulator injected no GraphQL errors"
expect_eq "$(sql "SELECT count(*) FROM rows WHERE error_class = 'graphql'")" "$injected" "graphql failures"
expect_eq "$(sql "SELECT error_class FROM rows WHERE line = 4")" duplicate "taken name"
expect_eq "$(sql "SELECT error_class FROM rows WHERE line = 5")" duplicate "taken externalId"
sql "SELECT error_message FROM rows WHERE line = 5" | grep -qi "externalId" || fail "the message names the field"
expect_eq "$(sql "SELECT count(*) FROM attempts WHERE error_class = 'graphql' AND outcome = 'retry'")" 0 \
  "graphql errors are never retried"
ok_rows=$(sql "SELECT count(*) FROM rows WHERE state = 'succeeded'")
expect_eq "$ok_rows" "$((100 - injected - 2))" "every other row succeeded"
expect_eq "$(sim_customers)" "$((ok_rows + 2))" "customers"
pass "graphql error answers"
