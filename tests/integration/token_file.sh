#!/usr/bin/env bash
# Rotating refresh tokens and a token file that cannot be written: the run refuses to start before
# any refresh (a refresh would retire the token in the file); a run ended by an error is recorded as
# aborted; a refused token says why that may be.
source "$(dirname "$0")/lib.sh"
start_sim --refresh-token good-refresh-token --rotate-refresh-tokens --latency-ms 1000
make_csv 20 "$work/c.csv"
onboard import "$work/c.csv" >/dev/null
unset PRISMATIC_REFRESH_TOKEN
printf 'good-refresh-token\n' >"$work/t.tok"
chmod 600 "$work/t.tok"

# The save's temporary file cannot be created (a directory is in its way), even by root.
mkdir "$work/t.tok.tmp"
run_job --refresh-token-file "$work/t.tok"
expect_eq "$status" 2 "exit code with an unwritable token file"
grep -qF "t.tok: a rotated refresh token could not be saved here (cannot create" "$work/run.err" ||
  { cat "$work/run.err"; fail "no message about the token file"; }
expect_eq "$(sim_stat refreshes)" 0 "refreshes before the refusal"
expect_eq "$(sql "SELECT count(*) FROM runs")" 0 "runs recorded by a refused start"
rmdir "$work/t.tok.tmp"

if chattr +i "$work/t.tok" 2>/dev/null; then
  run_job --refresh-token-file "$work/t.tok"
  chattr -i "$work/t.tok"
  expect_eq "$status" 2 "exit code with an immutable token file"
  grep -qF "the file is immutable or append-only" "$work/run.err" || { cat "$work/run.err"; fail "immutable"; }
  expect_eq "$(sim_stat refreshes)" 0 "refreshes before the refusal (immutable)"
fi

# The file becomes unwritable after the check, while the first refresh is in flight: the run ends
# by an error, and its runs row says aborted, not running.
"$ONBOARD_BIN" run --api-url "$url" --no-progress --refresh-token-file "$work/t.tok" \
  >"$work/run.out" 2>"$work/run.err" &
pid=$!
for _ in $(seq 1 200); do [ "$(sql "SELECT count(*) FROM runs" 2>/dev/null)" = 1 ] && break; sleep 0.02; done
mkdir "$work/t.tok.tmp"
set +e; wait "$pid"; status=$?; set -e
expect_eq "$status" 2 "exit code when the rotated token cannot be saved"
grep -qF "cannot write the rotated refresh token" "$work/run.err" || { cat "$work/run.err"; fail "save message"; }
expect_eq "$(sql "SELECT status FROM runs")" aborted "status of the run ended by an error"
rmdir "$work/t.tok.tmp"

# That refresh retired the token still in the file: the next run says what may have happened.
run_job --refresh-token-file "$work/t.tok"
expect_eq "$status" 3 "exit code with a retired refresh token"
grep -qF "a run stopped during a refresh (kill -9, a crash), may have retired it" "$work/run.err" ||
  { cat "$work/run.err"; fail "no hint about a retired token"; }
pass "token file: refused before any refresh, aborted run recorded, retired token explained"

# Two runs share one token file and both read the same token; the first refresh retires it, so the
# other run's refresh is refused: it reads the file again (the rotated token is there) and goes on.
stop_sim
start_sim --refresh-token shared-refresh-token --rotate-refresh-tokens --latency-ms 200
rm -f "$ONBOARD_DB"
make_csv 400 "$work/s.csv"
onboard import "$work/s.csv" >/dev/null
printf 'shared-refresh-token\n' >"$work/s.tok"
chmod 600 "$work/s.tok"
"$ONBOARD_BIN" run --api-url "$url" --no-progress --refresh-token-file "$work/s.tok" --workers 8 --batch-size 50 \
  >"$work/a.out" 2>"$work/a.err" &
a=$!
"$ONBOARD_BIN" run --api-url "$url" --no-progress --refresh-token-file "$work/s.tok" --workers 8 --batch-size 50 \
  --log-level info >"$work/b.out" 2>"$work/b.err" &
b=$!
set +e; wait "$a"; status_a=$?; wait "$b"; status_b=$?; set -e
expect_eq "$status_a/$status_b" "0/0" "exit codes of two runs sharing a rotating token file: $(cat "$work/a.err" "$work/b.err")"
expect_eq "$(sql "SELECT count(*) FROM rows WHERE state = 'succeeded'")" 400 "succeeded rows"
expect_one_customer_per_row
pass "two runs sharing a rotating token file: both finished"
