#!/usr/bin/env bash
# The workflow's onFailure actions decide retries where a step has them: `end` fails the row at
# once, `retry` with retryLimit caps its attempts below --max-attempts.
source "$(dirname "$0")/lib.sh"
mkdir -p "$work/jobs/arazzo" "$work/jobs/openapi"
cp "$SOURCE_DIR/jobs/openapi/prismatic-graphql-api-openapi.yml" "$work/jobs/openapi/"
shipped="$SOURCE_DIR/jobs/arazzo/onboard-create-customer.yml"
# job_with ACTION_LINES FILE: the shipped job whose createCustomer onFailure is replaced.
job_with() {
  awk -v action="$1" '
    /^  - stepId: createCustomer/ { in_create = 1 }
    in_create && /^    onFailure:/ { print; print action; skipping = 1; next }
    skipping && /^    outputs:/ { skipping = 0; in_create = 0 }
    !skipping { print }' "$shipped" >"$2"
  grep -q "$(head -1 <<<"$1")" "$2" || fail "could not rewrite the job's onFailure"
}

# end: a 5xx fails the row after its first attempt, nothing is retried.
job_with '    - name: stopOnServerError
      type: end
      criteria:
      - condition: $statusCode >= 500' "$work/jobs/arazzo/end.yml"
onboard check --workflow "$work/jobs/arazzo/end.yml" >/dev/null
start_sim --fail-rate 0.3 --seed 4
make_csv 60 "$work/c.csv"
onboard import --workflow "$work/jobs/arazzo/end.yml" "$work/c.csv" >/dev/null
run_job --workflow "$work/jobs/arazzo/end.yml" --workers 4 --batch-size 60 --max-attempts 10
expect_eq "$status" 1 "exit code with failed rows"
failed=$(sql "SELECT count(*) FROM rows WHERE state = 'failed'")
[ "$failed" -gt 0 ] || fail "no row met an injected 5xx"
expect_eq "$(sql "SELECT count(*) FROM rows WHERE state = 'failed' AND error_class = 'server' AND attempts = 1
  AND error_message LIKE '%(onFailure \"stopOnServerError\" ends the row)'")" "$failed" "rows ended by the action"
expect_eq "$(sql "SELECT count(*) FROM attempts WHERE outcome = 'retry'")" 0 "retries"
expect_eq "$(sql "SELECT count(*) FROM rows WHERE state = 'succeeded'")" "$((60 - failed))" "the others succeeded"
expect_one_customer_per_row
stop_sim

# retry with retryLimit 1: at most two attempts although --max-attempts allows ten.
rm -f "$ONBOARD_DB"
job_with '    - name: onceMore
      type: retry
      retryAfter: 0
      retryLimit: 1
      criteria:
      - condition: $statusCode >= 500' "$work/jobs/arazzo/once.yml"
start_sim --fail-rate 0.5 --seed 6
onboard import --workflow "$work/jobs/arazzo/once.yml" "$work/c.csv" >/dev/null
run_job --workflow "$work/jobs/arazzo/once.yml" --workers 4 --batch-size 60 --max-attempts 10
expect_eq "$(sql "SELECT max(attempts) FROM rows")" 2 "most attempts of a row"
failed=$(sql "SELECT count(*) FROM rows WHERE state = 'failed'")
[ "$failed" -gt 0 ] || fail "no row failed twice at a 50% failure rate"
expect_eq "$(sql "SELECT count(*) FROM rows WHERE state = 'failed' AND attempts = 2
  AND error_message LIKE '%(gave up after 2 attempts)'")" "$failed" "rows that used up the retry"
[ "$(sql "SELECT count(*) FROM rows WHERE state = 'succeeded' AND attempts = 2")" -gt 0 ] \
  || fail "no row succeeded on its retry"
expect_one_customer_per_row
pass "onFailure end and retry with retryLimit"
