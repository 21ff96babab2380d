#!/usr/bin/env bash
# A typo in the root of a bare runtime expression fails `check` and `run` with file:line, instead of
# being sent as text; the seed and the shipped job, whose GraphQL queries hold "$name", still check ok.
source "$(dirname "$0")/lib.sh"
start_sim
cp -r "$SOURCE_DIR/jobs" "$work/jobs"   # a copy beside ../openapi, as a user would make
job="$work/jobs/arazzo/onboard-create-customer.yml"
make_csv 3 "$work/c.csv"
onboard import "$work/c.csv" >/dev/null

# expect_refused SED WHAT MESSAGE: the job with SED applied is refused by check and run, sends nothing.
expect_refused() {
  sed "$1" "$job" >"$work/jobs/arazzo/typo.yml"
  local copy="$work/jobs/arazzo/typo.yml" line
  line=$(grep -n "$2" "$copy" | head -1 | cut -d: -f1)
  set +e
  onboard check --workflow "$copy" >"$work/check.out" 2>"$work/check.err"
  local check_status=$?
  set -e
  expect_eq "$check_status" 2 "check exit code with $2"
  grep -qF "$copy:$line: malformed expression" "$work/check.err" || { cat "$work/check.err"; fail "check names $2 at line $line"; }
  grep -qF "$3" "$work/check.err" || { cat "$work/check.err"; fail "check message for $2"; }
  run_job --workflow "$copy"
  expect_eq "$status" 2 "run exit code with $2"
  grep -qF "$3" "$work/run.err" || { cat "$work/run.err"; fail "run message for $2"; }
  expect_eq "$(sim_customers)" 0 "customers created with $2"
}
expect_refused 's/\$inputs\.name$/$inptus.name/' '\$inptus.name' \
  'unknown runtime expression "$inptus"; did you mean "$inputs"?'
expect_refused 's|\$response\.body#/data/createCustomer/customer/id|$respons.body#/data/createCustomer/customer/id|' \
  '\$respons.body' 'unknown runtime expression "$respons"; did you mean "$response"?'
expect_refused 's/\$inputs\.refreshToken/$input.refreshToken/' '\$input.refreshToken' \
  'unknown runtime expression "$input"; did you mean "$inputs"?'
expect_refused 's/Bearer {\$steps\.\([^}]*\)}/Bearer $stpes.\1/' 'Bearer \$stpes' \
  'unknown runtime expression "$stpes"; did you mean "$steps"?'

# The unmodified jobs check ok and run: their queries' "$name: String!" and "$name" are GraphQL.
for file in "$job" "$work/jobs/arazzo/prismatic-create-customer-workflow.yml"; do
  onboard check --workflow "$file" >"$work/check.out" 2>"$work/check.err" || { cat "$work/check.err"; fail "check $file"; }
  grep -q ": ok (2 steps" "$work/check.out" || fail "check ok for $file"
done
seed="$work/jobs/arazzo/prismatic-create-customer-workflow.yml"
onboard check --workflow "$seed" >/dev/null 2>"$work/check.err"
expect_eq "$(grep -c 'bare runtime expression' "$work/check.err")" 1 "check's warnings about the seed's bare form"
run_job --workflow "$seed"
expect_eq "$status" 0 "run exit code of the seed"
expect_eq "$(grep -c 'bare runtime expression' "$work/run.err")" 1 "run's warnings about the seed's bare form"
curl -fsS -X POST -d '' "$url/_sim/reset" >/dev/null
rm -f "$ONBOARD_DB"
onboard import "$work/c.csv" >/dev/null
run_job --workflow "$job"
expect_eq "$status" 0 "run exit code of the shipped job"
expect_eq "$(curl -fsS "$url/_sim/customers" | jq -r '[.[].name] | sort | join("|")')" \
  "Customer 1|Customer 2|Customer 3" "names sent as the CSV has them"
pass "unknown roots of bare expressions are refused; graphql variables are not expressions"
