#!/usr/bin/env bash
# Under 5xx, dropped connections, slow answers and 429s every row ends as exactly one customer.
source "$(dirname "$0")/lib.sh"
start_sim --seed 5 --fail-rate 0.1 --drop-rate 0.05 --slow-rate 0.03 --slow-ms 1500 --latency-ms 1
make_csv 400 "$work/c.csv"
onboard import "$work/c.csv" >/dev/null
run_job --workers 16 --batch-size 50 --timeout 1 --max-attempts 10
[ "$status" -eq 0 ] || { cat "$work/run.out" "$work/run.err"; fail "run exit $status"; }
expect_eq "$(sql "SELECT count(*) FROM rows WHERE state = 'succeeded'")" 400 "succeeded rows"
expect_one_customer_per_row
[ "$(sim_stat injected_drops)" -gt 0 ] || fail "no drops were injected"
[ "$(sql "SELECT count(*) FROM attempts WHERE outcome = 'outcome_unknown'")" -gt 0 ] || fail "no unknown outcomes seen"
[ "$(sql "SELECT count(*) FROM attempts WHERE error_class = 'server' AND outcome = 'retry'")" -gt 0 ] || fail "no 5xx retried"
reconciled=$(sql "SELECT count(*) FROM rows WHERE reconciled = 1")
[ "$reconciled" -gt 0 ] || fail "nothing was reconciled although drops commit first"
pass "faults: $reconciled rows reconciled, one customer per row"

# Rate limit: the pool slows down on 429 and still finishes.
stop_sim
rm -f "$ONBOARD_DB"*
start_sim --rate-limit 50
make_csv 200 "$work/d.csv"
onboard import "$work/d.csv" >/dev/null
run_job --workers 32 --batch-size 50
[ "$status" -eq 0 ] || { cat "$work/run.out" "$work/run.err"; fail "rate-limited run exit $status"; }
expect_eq "$(sql "SELECT count(*) FROM rows WHERE state = 'succeeded'")" 200 "succeeded under a rate limit"
expect_one_customer_per_row
pass "rate limit: $(sim_stat rate_limited) answers were 429"

# The last row in flight answered 5xx goes back for a retry: the run waits for its due time instead
# of ending with it still pending. Seed 14: the refresh passes, the first create answers 500, the
# next passes.
stop_sim
rm -f "$ONBOARD_DB"*
start_sim --fail-rate 0.5 --seed 14
printf 'name,externalId\nLast One,L-1\n' >"$work/last.csv"
onboard import "$work/last.csv" >/dev/null
run_job --workers 1
[ "$status" -eq 0 ] || { cat "$work/run.out" "$work/run.err"; fail "run with a retried last row exit $status"; }
expect_eq "$(sql "SELECT state || ' ' || attempts FROM rows")" "succeeded 2" "the last row, retried within the run"
pass "a retried last row is sent again before the run ends"

# Lookups only read: under --max-attempts 1 (one create per row) a reconciling lookup that meets an
# error is still tried again in the run, so no row is left outcome_unknown for the next run.
stop_sim
rm -f "$ONBOARD_DB"*
# One worker: the simulator's seeded faults then meet the same requests in the same order every time.
start_sim --drop-rate 0.2 --graphql-error-rate 0.1 --seed 3
make_csv 60 "$work/lookups.csv"
onboard import "$work/lookups.csv" >/dev/null
run_job --workers 1 --max-attempts 1 --timeout 2
expect_eq "$(sql "SELECT count(*) FROM rows WHERE state IN ('outcome_unknown', 'in_flight', 'pending')")" 0 \
  "rows left unresolved with one create attempt each"
[ "$(sql "SELECT count(*) FROM rows WHERE reconciled = 1")" -gt 0 ] || fail "no dropped create was reconciled"
expect_one_customer_per_row
# Every request to /api is in the history, the lookups that came to nothing too (a new-user trial saw
# five lookups of one row and one history row). Here only /api requests meet faults: every refresh
# succeeds, so the simulator's requests less its refreshes are the /api requests made.
expect_eq "$(sql "SELECT count(*) FROM attempts")" "$(($(sim_stat requests) - $(sim_stat refreshes)))" \
  "attempts recorded vs requests to /api"
[ "$(sql "SELECT count(*) FROM attempts WHERE kind = 'reconcile' AND outcome = 'retry'")" -gt 0 ] ||
  fail "no lookup that came to nothing was recorded"
pass "lookups retried under --max-attempts 1: $(sql "SELECT count(*) FROM attempts WHERE kind = 'reconcile'") lookups, each recorded"
