#!/usr/bin/env bash
# GraphQL error answers: top-level errors fail the row (class graphql, never retried); payload errors
# name the field (class duplicate for a taken name or externalId).
source "$(dirname "$0")/lib.sh"

# Top-level errors, injected at random: each fails its row, nothing else does.
start_sim --graphql-error-rate 0.2 --seed 11
make_csv 100 "$work/c.csv"
onboard import "$work/c.csv" >/dev/null
run_job --workers 8 --batch-size 25
expect_eq "$status" 1 "exit code with failed rows"
injected=$(sim_stat injected_graphql_errors)
[ "$injected" -gt 0 ] || fail "the simulator injected no GraphQL errors"
expect_eq "$(sql "SELECT count(*) FROM rows WHERE error_class = 'graphql'")" "$injected" "graphql failures"
expect_eq "$(sql "SELECT count(*) FROM attempts WHERE error_class = 'graphql' AND outcome = 'retry'")" 0 \
  "graphql errors are never retried"
sql "SELECT error_message FROM rows WHERE error_class = 'graphql' LIMIT 1" | grep -q "injected" \
  || fail "the server's message is recorded"
ok_rows=$(sql "SELECT count(*) FROM rows WHERE state = 'succeeded'")
expect_eq "$ok_rows" "$((100 - injected))" "every other row succeeded"
expect_eq "$(sim_customers)" "$ok_rows" "customers"
stop_sim

# Payload errors with customer: null and HTTP 200: a name and an externalId someone else took.
rm -f "$ONBOARD_DB"
start_sim
sim_create "Customer 3" "OTHER-3"
sim_create "Other name" "EXT-4"
onboard import "$work/c.csv" >/dev/null
run_job --workers 8 --batch-size 25
expect_eq "$status" 1 "exit code with refused rows"
expect_eq "$(sql "SELECT group_concat(line || ' ' || error_class, ', ') FROM rows WHERE state != 'succeeded'")" \
  "4 duplicate, 5 duplicate" "only the taken name and externalId fail, as duplicates"
expect_eq "$(sql "SELECT error_message FROM rows WHERE line = 4")" \
  "name: A customer with this name already exists." "the field and Prismatic's words"
expect_eq "$(sql "SELECT error_message FROM rows WHERE line = 5")" \
  "externalId: A customer with this external ID already exists." "the field and Prismatic's words"
expect_eq "$(sim_customers)" 100 "customers: 98 ours and 2 taken before"
pass "graphql error answers"
