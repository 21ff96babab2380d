#!/usr/bin/env bash
# Token handling: a refused refresh token stops the run with rows pending; short-lived tokens are
# refreshed before they expire; rotated refresh tokens are used and written back with mode 0600.
source "$(dirname "$0")/lib.sh"
start_sim --refresh-token good-refresh-token --rotate-refresh-tokens --token-ttl 2 --latency-ms 80
make_csv 120 "$work/c.csv"
onboard import "$work/c.csv" >/dev/null

PRISMATIC_REFRESH_TOKEN=wrong-refresh-token run_job --workers 4 --batch-size 20
expect_eq "$status" 3 "exit code when the refresh token is refused"
grep -q "refresh token is wrong or revoked" "$work/run.err" || { cat "$work/run.err"; fail "message"; }
grep -q "wrong-refresh-token" "$work/run.out" "$work/run.err" && fail "the refresh token was printed"
expect_eq "$(sql "SELECT count(*) FROM rows WHERE state = 'pending'")" 120 "rows stay pending"

printf 'good-refresh-token\n' >"$work/token"
chmod 600 "$work/token"
unset PRISMATIC_REFRESH_TOKEN
refreshes_before=$(sim_stat refreshes)
run_job --workers 4 --batch-size 120 --refresh-token-file "$work/token"
[ "$status" -eq 0 ] || { cat "$work/run.out" "$work/run.err"; fail "run exit $status"; }
expect_eq "$(sql "SELECT count(*) FROM rows WHERE state = 'succeeded'")" 120 "succeeded"
expect_one_customer_per_row
new_token=$(cat "$work/token")
[ "$new_token" != "good-refresh-token" ] || fail "the rotated refresh token was not written back"
expect_eq "$(stat -c %a "$work/token")" 600 "token file mode"
# One batch of 120 rows at 4 in flight and 80 ms outlives the 2 s token: it was refreshed in between.
refreshes=$(( $(sim_stat refreshes) - refreshes_before ))
[ "$refreshes" -gt 1 ] || fail "a short-lived token was not refreshed within its batch ($refreshes refreshes)"
unauthorized=$(sim_stat unauthorized)
[ "$unauthorized" -le 1 ] || fail "$unauthorized requests were sent with an expired token"
pass "tokens: refused, refreshed before expiry, rotated and written back"

# With rotating refresh tokens every refresh retires the token it used, so a run killed while one is
# in flight would lose the only working token: batches then share the newest access token until it
# nears expiry, instead of refreshing once per batch.
stop_sim
rm -f "$ONBOARD_DB"*
start_sim --refresh-token good-refresh-token --rotate-refresh-tokens --token-ttl 600
make_csv 100 "$work/r.csv"
onboard import "$work/r.csv" >/dev/null
printf 'good-refresh-token\n' >"$work/token2"
chmod 600 "$work/token2"
run_job --workers 4 --batch-size 10 --refresh-token-file "$work/token2"
[ "$status" -eq 0 ] || { cat "$work/run.out" "$work/run.err"; fail "rotating run exit $status"; }
expect_eq "$(sql "SELECT count(*) FROM batches")" 10 "batches"
expect_eq "$(sim_stat refreshes)" 1 "refreshes with rotation: one, shared by the ten batches"
expect_eq "$(sql "SELECT count(*) FROM rows WHERE state = 'succeeded'")" 100 "succeeded with rotation"
pass "rotation: one refresh for ten batches"
