#!/usr/bin/env bash
# Access tokens revoked in the middle of a batch: exactly one re-refresh for the whole pool, then every
# row goes through. A 403 (no permission) stops the run at once, every row stays pending, the next run
# sends them.
source "$(dirname "$0")/lib.sh"
start_sim --latency-ms 30
make_csv 800 "$work/c.csv"
onboard import "$work/c.csv" >/dev/null
"$ONBOARD_BIN" run --api-url "$url" --no-progress --workers 16 --batch-size 800 >"$work/run.out" 2>"$work/run.err" &
pid=$!
sleep 0.4
curl -fsS -X POST -d '' "$url/_sim/revoke-tokens" >/dev/null
set +e; wait "$pid"; status=$?; set -e
[ "$status" -eq 0 ] || { cat "$work/run.out" "$work/run.err"; fail "run exit $status"; }
refused=$(sim_stat unauthorized)
[ "$refused" -gt 0 ] || fail "the revocation came after the run: no request was refused"
expect_eq "$(sql "SELECT count(*) FROM batches")" 1 "batches"
expect_eq "$(sim_stat refreshes)" 2 "refreshes: one per batch and one re-refresh for the whole pool"
expect_eq "$(sql "SELECT count(*) FROM rows WHERE state = 'succeeded'")" 800 "succeeded rows"
expect_eq "$(sql "SELECT count(*) FROM attempts WHERE error_class = 'auth' AND outcome = 'retry'")" "$refused" \
  "each refused request is in the history as a retry"
expect_one_customer_per_row
stop_sim

rm -f "$ONBOARD_DB"
start_sim --forbid-mutations --latency-ms 5
onboard import "$work/c.csv" >/dev/null
run_job --workers 8 --batch-size 100
expect_eq "$status" 3 "exit code when the token lacks permission"
grep -q "403" "$work/run.err" || { cat "$work/run.err"; fail "the stop names the 403"; }
# The 403 is about the token, not the rows: those in flight go back to pending with the rest.
forbidden=$(sim_stat forbidden)
[ "$forbidden" -ge 1 ] && [ "$forbidden" -le 8 ] || fail "$forbidden mutations refused: more than were in flight"
expect_eq "$(sql "SELECT count(*) FROM rows WHERE state = 'failed'")" 0 "rows failed by a 403"
expect_eq "$(sql "SELECT count(*) FROM rows WHERE state = 'pending'")" 800 "rows left pending"
expect_eq "$(sql "SELECT count(*) FROM attempts WHERE http_status = 403 AND outcome = 'retry' AND error_class = 'auth'")" \
  "$forbidden" "each 403 is in the history as a retry"
expect_eq "$(sql "SELECT count(*) FROM attempts")" "$forbidden" "attempts: the 403s, none left open"
expect_eq "$(sim_customers)" 0 "customers created"
stop_sim
# Permissions fixed: the next run sends every row, the 403s' rows included, their history whole.
start_sim --latency-ms 5
run_job --workers 8 --batch-size 100
[ "$status" -eq 0 ] || { cat "$work/run.out" "$work/run.err"; fail "run after the fix: exit $status"; }
expect_eq "$(sql "SELECT count(*) FROM rows WHERE state = 'succeeded'")" 800 "succeeded after the fix"
expect_one_customer_per_row
expect_eq "$(sql "SELECT count(*) FROM rows r WHERE (SELECT group_concat(number || ':' || outcome, ',') FROM
  (SELECT number, outcome FROM attempts a WHERE a.row_id = r.id ORDER BY number)) = '1:retry,2:succeeded'")" \
  "$forbidden" "the 403's rows: attempt 1 the 403, attempt 2 the create"
stop_sim

# Fresh tokens refused again: one re-refresh, then the run stops after --max-auth-failures, no loop.
rm -f "$ONBOARD_DB"
start_sim --refuse-access-tokens --latency-ms 5
onboard import "$work/c.csv" >/dev/null
run_job --workers 4 --batch-size 100 --max-auth-failures 3
expect_eq "$status" 3 "exit code when fresh tokens keep being refused"
grep -q "consecutive requests were refused with a fresh access token" "$work/run.err" \
  || { cat "$work/run.err"; fail "the stop says why"; }
expect_eq "$(sim_stat refreshes)" 2 "refreshes: the batch's and one re-refresh, then no more"
[ "$(sim_stat graphql_requests)" -le 12 ] || fail "$(sim_stat graphql_requests) requests: the pool kept trying"
# The rows are not at fault: none failed, those refused are pending with the refusal as a retry.
expect_eq "$(sql "SELECT count(*) FROM rows WHERE state = 'failed'")" 0 "rows failed for a refused token"
[ "$(sql "SELECT count(*) FROM rows r WHERE state = 'pending' AND error_class = 'auth' AND EXISTS (SELECT 1 FROM attempts a
  WHERE a.row_id = r.id AND a.outcome = 'retry' AND a.http_status = 401)")" -ge 3 ] || fail "refused rows kept pending with their 401"
expect_eq "$(sim_customers)" 0 "customers created"
pass "auth: $refused refused after revocation, one re-refresh; a 403 stopped the run after $forbidden requests, their rows kept pending; refused fresh tokens stopped it after $(sim_stat graphql_requests) requests"
