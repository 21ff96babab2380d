#!/usr/bin/env bash
# SIGINT: stop taking rows, record what is in flight, exit 130 with a count; the next run finishes the job.
source "$(dirname "$0")/lib.sh"
start_sim --latency-ms 30
make_csv 400 "$work/c.csv"
onboard import "$work/c.csv" >/dev/null
"$ONBOARD_BIN" run --api-url "$url" --no-progress --workers 4 --batch-size 20 >"$work/run.out" 2>"$work/run.err" &
pid=$!
sleep 1
kill -INT "$pid"
set +e; wait "$pid"; status=$?; set -e
expect_eq "$status" 130 "exit code after SIGINT"
grep -q "handed back" "$work/run.out" || { cat "$work/run.out"; fail "no count of rows handed back"; }
expect_eq "$(sql "SELECT count(*) FROM rows WHERE state IN ('in_flight', 'outcome_unknown')")" 0 "rows left in flight"
done_rows=$(sql "SELECT count(*) FROM rows WHERE state = 'succeeded'")
[ "$done_rows" -gt 0 ] && [ "$done_rows" -lt 400 ] || fail "$done_rows rows done before the interrupt"
expect_eq "$(sim_customers)" "$done_rows" "every customer created is recorded"
run_job --workers 8
[ "$status" -eq 0 ] || fail "the next run exit $status"
expect_eq "$(sql "SELECT count(*) FROM rows WHERE state = 'succeeded'")" 400 "all rows after the next run"
expect_one_customer_per_row
pass "interrupt: $done_rows rows before SIGINT, the rest after"
