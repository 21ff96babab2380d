#!/usr/bin/env bash
# Chaos: kill -9 `onboard run` at random moments, 20 times, against a faulty simulator with short-lived
# tokens; then finish the run. Every valid row succeeded, the simulator holds exactly one customer per
# row, and the attempt history is whole.
source "$(dirname "$0")/lib.sh"
# Sized so that 20 rounds of 0.1-0.6 s end with work left: 3000 rows at 8 in flight and ~12 ms.
start_sim --seed 3 --latency-ms 10 --jitter-ms 5 --drop-rate 0.05 --fail-rate 0.05 --slow-rate 0.02 \
  --slow-ms 1200 --token-ttl 3
make_csv 3000 "$work/c.csv"
onboard import "$work/c.csv" >/dev/null

RANDOM=20261203
kills=0
for round in $(seq 1 20); do
  "$ONBOARD_BIN" run --api-url "$url" --no-progress --workers 8 --batch-size 25 --timeout 0.8 \
    --max-attempts 50 >>"$work/chaos.out" 2>&1 &
  pid=$!
  sleep "0.$(( (RANDOM % 5) + 1 ))$(( RANDOM % 10 ))"
  if kill -9 "$pid" 2>/dev/null; then kills=$((kills + 1)); fi
  wait "$pid" 2>/dev/null || true
done
[ "$kills" -ge 20 ] || fail "only $kills runs were killed while working; the run finished too fast"

run_job --workers 16 --batch-size 25 --timeout 0.8 --max-attempts 50
[ "$status" -eq 0 ] || { tail -20 "$work/run.err"; cat "$work/run.out"; fail "final run exit $status"; }
expect_eq "$(sql "SELECT count(*) FROM rows WHERE state = 'succeeded'")" 3000 "succeeded rows"
expect_one_customer_per_row
# The history: each succeeded row has exactly one attempt that created or found its customer, with
# that customer's id, and attempt numbers run 1..n without gaps.
expect_eq "$(sql "SELECT count(*) FROM rows r WHERE state = 'succeeded' AND (SELECT count(*) FROM attempts a
  WHERE a.row_id = r.id AND a.outcome IN ('succeeded', 'reconciled') AND a.customer_id = r.customer_id) != 1")" 0 \
  "rows without exactly one successful attempt"
expect_eq "$(sql "SELECT count(*) FROM (SELECT row_id, count(DISTINCT number) AS n, max(number) AS m FROM attempts
  GROUP BY row_id HAVING n != m)")" 0 "rows with gaps in attempt numbers"
pass "chaos: $kills kills, $(sql "SELECT count(*) FROM rows WHERE reconciled = 1") rows reconciled, one customer per row"
