#!/usr/bin/env bash
# Output that cannot be written to stdout (a full disk: /dev/full) is an error naming stdout, exit 2,
# never a silent success.
source "$(dirname "$0")/lib.sh"
[ -w /dev/full ] || { pass "skipped: no /dev/full"; exit 0; }
start_sim
make_csv 10 "$work/c.csv"
onboard import "$work/c.csv" >/dev/null
run_job
[ "$status" -eq 0 ] || fail "run exit $status"
make_csv 12 "$work/d.csv"
check_full() { # check_full ARGS...: onboard ARGS >/dev/full fails with exit 2 and says why
  set +e
  "$ONBOARD_BIN" "$@" >/dev/full 2>"$work/err"
  local code=$?
  set -e
  expect_eq "$code" 2 "exit code of onboard $* >/dev/full"
  grep -qF "cannot write to stdout: No space left on device" "$work/err" ||
    { cat "$work/err"; fail "onboard $* >/dev/full: no message naming stdout"; }
}
check_full status
check_full status --json
check_full report
check_full report --format csv
check_full export --succeeded
check_full export --failed
check_full query "SELECT * FROM rows"
check_full check
check_full import "$work/d.csv"
check_full run --api-url "$url" --no-progress --json
for flag in --help --version; do # written by CLI11: the error may be reported as EIO
  set +e; "$ONBOARD_BIN" "$flag" >/dev/full 2>"$work/err"; code=$?; set -e
  expect_eq "$code" 2 "exit code of onboard $flag >/dev/full"
  grep -qF "cannot write to stdout" "$work/err" || { cat "$work/err"; fail "onboard $flag >/dev/full: no message"; }
done
check_full run --api-url "$url" --no-progress
# A closed pipe (`onboard run ... | head -1`) is a failed write too: SIGPIPE does not kill the run with
# rows in flight; it ends every row, then exits 2.
awk 'BEGIN { print "name,externalId"; for (i = 1; i <= 300; i++) printf "Pipe %d,pipe-%d\n", i, i }' >"$work/pipe.csv"
"$ONBOARD_BIN" import "$work/pipe.csv" --db "$work/pipe.db" >/dev/null
set +e
"$ONBOARD_BIN" run --db "$work/pipe.db" --api-url "$url" --no-progress --log-level trace --workers 4 2>&1 | head -1 >/dev/null
code=${PIPESTATUS[0]}
set -e
expect_eq "$code" 2 "exit code of onboard run | head -1"
expect_eq "$(sqlite3 "$work/pipe.db" "SELECT state || ' ' || count(*) FROM rows GROUP BY state")" "succeeded 300" \
  "rows of a run writing into a closed pipe"
pass "a failed write to stdout (a full disk, a closed pipe) is exit 2 for every command"
