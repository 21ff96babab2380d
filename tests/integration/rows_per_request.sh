#!/usr/bin/env bash
# --rows-per-request: K rows' createCustomer mutations in one document under aliases; each row is
# judged on its own alias (also when the server answers 400 for another alias's errors), a failure
# of the whole request fails or retries all K, and faults still end with one customer per row.
source "$(dirname "$0")/lib.sh"
start_sim --seed 7 --drop-rate 0.1 --fail-rate 0.1 --latency-ms 2
make_csv 300 "$work/c.csv"
sim_create "Customer 12" "SOMEONE-12"     # a taken name: its alias answers with payload errors
onboard import "$work/c.csv" >/dev/null
run_job --workers 4 --batch-size 100 --rows-per-request 10 --max-attempts 20 --timeout 2
expect_eq "$status" 1 "exit code with the taken name failed"
expect_eq "$(sql "SELECT line || ' ' || error_class FROM rows WHERE state != 'succeeded'")" "13 duplicate" \
  "only the taken name fails, on its own"
expect_eq "$(sql "SELECT count(*) FROM rows WHERE state = 'succeeded'")" 299 "succeeded rows"
expect_one_customer_per_row 1
mutations=$(sim_stat mutations)
[ "$mutations" -lt 100 ] || fail "$mutations mutations for 300 rows: rows were not sent together"
[ "$(sim_stat injected_drops)" -gt 0 ] || fail "no drops were injected"
[ "$(sql "SELECT count(*) FROM rows WHERE reconciled = 1")" -gt 0 ] || fail "dropped rows were not reconciled"
stop_sim

# Top-level GraphQL errors fail every row of their request, and are never retried.
rm -f "$ONBOARD_DB"
start_sim --seed 8 --graphql-error-rate 0.3
onboard import "$work/c.csv" >/dev/null
run_job --workers 4 --batch-size 100 --rows-per-request 10
injected=$(sim_stat injected_graphql_errors)
[ "$injected" -gt 0 ] || fail "no graphql errors were injected"
failed=$(sql "SELECT count(*) FROM rows WHERE error_class = 'graphql'")
[ "$failed" -ge "$injected" ] && [ "$failed" -le $((injected * 10)) ] \
  || fail "$failed rows failed for $injected injected errors of up to 10 rows each"
expect_eq "$(sql "SELECT count(*) FROM attempts WHERE outcome = 'retry'")" 0 "retries of graphql errors"
expect_eq "$(sql "SELECT count(*) FROM rows WHERE state = 'succeeded'")" "$((300 - failed))" "the other rows"
expect_one_customer_per_row
stop_sim

# A server answering HTTP 400 when any alias's payload has errors: a row is still judged on its own
# alias, so the rows of customers someone else holds fail as duplicates and every other row of their
# documents succeeds, as each row does when sent alone. A retry of the failed rows claims nothing.
make_csv 38 "$work/c38.csv"
jq -n '[{id: "UHJlOjE=", name: "Customer 7", externalId: "SOMEONE-7"},
        {id: "UHJlOjI=", name: "Someone else", externalId: "EXT-23"}]
       | map(. + {createdAt: "2026-01-01T00:00:00.000000+00:00"})' >"$work/others.json"
declare -A ended
for k in 1 10; do
  rm -f "$ONBOARD_DB"
  cp "$work/others.json" "$work/state-$k.json" # the simulator saves its customers there at exit
  start_sim --state "$work/state-$k.json" --mutation-errors-status 400
  onboard import "$work/c38.csv" >/dev/null
  run_job --workers 2 --batch-size 100 --rows-per-request "$k"
  expect_eq "$status" 1 "K=$k: exit code with two rows failed"
  expect_eq "$(sql "SELECT group_concat(line || ' ' || error_class, ', ') FROM rows WHERE state != 'succeeded'")" \
    "8 duplicate, 24 duplicate" "K=$k: the rows of the customers someone else holds"
  expect_eq "$(sql "SELECT count(*) FROM rows WHERE state = 'succeeded' AND reconciled = 0")" 36 "K=$k: rows created"
  expect_one_customer_per_row 2
  ended[$k]=$(sql "SELECT group_concat(line || ' ' || state || ' ' || coalesce(error_class, '-'), ', ') FROM rows")
  expect_eq "$(onboard retry)" "requeued 2 failed rows; \`onboard run\` sends them" "K=$k: retry"
  run_job --workers 2 --batch-size 100 --rows-per-request "$k"
  expect_eq "$(sql "SELECT group_concat(line || ' ' || state || ' ' || coalesce(error_class, '-'), ', ') FROM rows")" \
    "${ended[$k]}" "K=$k: rows after the retry"
  expect_one_customer_per_row 2
  stop_sim
done
expect_eq "${ended[10]}" "${ended[1]}" "rows sent 10 per request vs one per request"

# A row whose create succeeded but failed on our side (here a workflow output that reads the wrong
# member) and is retried: its create now answers "already exists", and the customer is found to be
# ours (reconciled), not failed as a duplicate, though the retry restarted its attempt count.
mkdir -p "$work/jobs/arazzo" "$work/jobs/openapi"
cp "$SOURCE_DIR/jobs/openapi/prismatic-graphql-api-openapi.yml" "$work/jobs/openapi/"
sed 's|customerId: \$response.body#/data/createCustomer/customer/id|customerId: $response.body#/data/createCustomer/customer/uuid|' \
  "$SOURCE_DIR/jobs/arazzo/onboard-create-customer.yml" >"$work/jobs/arazzo/wrong-output.yml"
grep -q "customer/uuid" "$work/jobs/arazzo/wrong-output.yml" || fail "could not rewrite the job's output"
rm -f "$ONBOARD_DB"
start_sim --mutation-errors-status 400
onboard import "$work/c38.csv" >/dev/null
run_job --workflow "$work/jobs/arazzo/wrong-output.yml" --rows-per-request 10
expect_eq "$(sql "SELECT count(*) FROM rows WHERE state = 'failed' AND error_class = 'validation'")" 38 \
  "rows failed by the wrong output"
expect_eq "$(sim_customers)" 38 "customers created by the failed rows"
onboard retry --class validation >/dev/null
run_job --rows-per-request 10
expect_eq "$status" 0 "exit code of the run after the retry"
expect_eq "$(sql "SELECT count(*) FROM rows WHERE state = 'succeeded' AND reconciled = 1")" 38 "rows reconciled"
expect_one_customer_per_row
pass "rows per request: $mutations mutations for 300 rows under faults; under HTTP 400 each row ends as alone"
