#!/usr/bin/env bash
# The creates written ahead of their turn follow the send rate: a slow server and a small pool write
# ahead a few rows, not a batch, so a crash leaves few rows to look up (each costs a lookup and an
# attempt, sent or not).
source "$(dirname "$0")/lib.sh"
start_sim --latency-ms 1000
make_csv 60 "$work/c.csv"
onboard import "$work/c.csv" >/dev/null
"$ONBOARD_BIN" run --api-url "$url" --no-progress --workers 2 --batch-size 60 >"$work/a.out" 2>"$work/a.err" &
a=$!
sleep 3.5
kill -9 "$a"
wait "$a" 2>/dev/null || true
open=$(sql "SELECT count(*) FROM attempts WHERE kind = 'create' AND outcome = 'outcome_unknown' AND duration_ms = 0")
sent=$(sim_stat mutations)
# 4 x workers written ahead, plus the 2 in flight.
[ "$open" -le 10 ] || fail "$open creates were written ahead for $sent sent with 2 workers"
run_job --workers 16
expect_eq "$status" 0 "exit code of the run after the crash: $(cat "$work/run.err")"
expect_eq "$(sql "SELECT count(*) FROM rows WHERE state = 'succeeded'")" 60 "succeeded rows"
expect_one_customer_per_row
pass "a crash with 2 workers at 1 s left $open creates written ahead ($sent sent)"
