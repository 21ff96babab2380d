#!/usr/bin/env bash
# The seed workflow file, unmodified, drives the job; answers without `errors` are still judged right.
source "$(dirname "$0")/lib.sh"
seed="$SOURCE_DIR/jobs/arazzo/prismatic-create-customer-workflow.yml"
start_sim
onboard check --workflow "$seed" >"$work/check.out" 2>"$work/check.err" || { cat "$work/check.err"; fail "check"; }

make_csv 50 "$work/c.csv"
sim_create "Customer 7" "SOMEONE-ELSE"        # a name taken before we ran
onboard import --workflow "$seed" "$work/c.csv" >/dev/null
refreshes_before=$(sim_stat refreshes)   # sim_create refreshed once
run_job --workflow "$seed" --workers 8 --batch-size 10
expect_eq "$status" 1 "exit code with a failed row"
expect_eq "$(sql "SELECT count(*) FROM rows WHERE state = 'succeeded'")" 49 "succeeded"
expect_eq "$(sql "SELECT line || ' ' || state || ' ' || error_class FROM rows WHERE state != 'succeeded'")" \
  "8 failed validation" "the taken name fails as the seed's mutation selects no errors"
sql "SELECT error_message FROM rows WHERE line = 8" | grep -q "customerId" || fail "message names the null output"
expect_eq "$(( $(sim_stat refreshes) - refreshes_before ))" 5 "one refresh per batch of 10"
expect_eq "$(( $(sim_customers) - 1 ))" 49 "customers created"
pass "seed workflow unmodified"
