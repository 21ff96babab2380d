#!/usr/bin/env bash
# Two `onboard run` on one database share the work through leases, and status, report and query
# answer while they write: every row ends as one customer, each sent by one of the two runs.
source "$(dirname "$0")/lib.sh"
start_sim --latency-ms 5 --jitter-ms 3
make_csv 2000 "$work/c.csv"
onboard import "$work/c.csv" >/dev/null
"$ONBOARD_BIN" run --api-url "$url" --no-progress --workers 8 --batch-size 50 >"$work/a.out" 2>"$work/a.err" &
a=$!
"$ONBOARD_BIN" run --api-url "$url" --no-progress --workers 8 --batch-size 50 >"$work/b.out" 2>"$work/b.err" &
b=$!
sleep 0.3
onboard status --json >"$work/status.json" || fail "status while two runs write"
jq -e '.total' "$work/status.json" >/dev/null || fail "status --json while runs write: $(cat "$work/status.json")"
onboard query "SELECT count(*) FROM rows WHERE state = 'succeeded'" --format csv >/dev/null || fail "query while runs write"
onboard report --status succeeded --format jsonl >/dev/null || fail "report while runs write"
set +e; wait "$a"; status_a=$?; wait "$b"; status_b=$?; set -e
expect_eq "$status_a/$status_b" "0/0" "exit codes of the two runs"
expect_eq "$(sql "SELECT count(*) FROM rows WHERE state = 'succeeded'")" 2000 "succeeded rows"
expect_one_customer_per_row
expect_eq "$(sql "SELECT count(DISTINCT run_id) FROM attempts")" 2 "runs that sent rows"
expect_eq "$(sql "SELECT count(*) FROM (SELECT row_id FROM attempts WHERE kind = 'create'
  GROUP BY row_id HAVING count(DISTINCT run_id) > 1)")" 0 "rows sent by both runs"
pass "two runs shared $(sql "SELECT group_concat(n, ' + ') FROM (SELECT count(*) AS n FROM attempts GROUP BY run_id)") rows"
