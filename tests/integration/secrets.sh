#!/usr/bin/env bash
# Secrets: a whole job at trace log level with faults; the refresh and access tokens appear nowhere:
# not in the database, the log, stdout/stderr, reports or exports.
source "$(dirname "$0")/lib.sh"
refresh="rt-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
start_sim --refresh-token "$refresh" --seed 9 --fail-rate 0.1 --drop-rate 0.05 --graphql-error-rate 0.05 --token-ttl 2
make_csv 150 "$work/c.csv"
export PRISMATIC_REFRESH_TOKEN="$refresh"
onboard import "$work/c.csv" --log-level trace >"$work/import.out" 2>&1 || true
run_job --workers 8 --batch-size 30 --timeout 1 --log-level trace --log-file "$work/run.log"
PRISMATIC_REFRESH_TOKEN="$refresh" "$ONBOARD_BIN" run --api-url "$url" --no-progress --log-level trace \
  >>"$work/run.out" 2>>"$work/run.err" || true
onboard report --format json --log-level trace >"$work/report.json" 2>&1 || true
onboard export --failed --out "$work/failed.csv" >/dev/null 2>&1 || true
onboard export --succeeded --out "$work/ok.csv" >/dev/null 2>&1 || true
sqlite3 "$ONBOARD_DB" .dump >"$work/db.sql"
[ -s "$work/run.log" ] || fail "no log was written at trace level"

# Every access token the simulator issued is a JWT: none may appear anywhere either.
scan=("$work/run.log" "$work/run.out" "$work/run.err" "$work/import.out" "$work/report.json" "$work/db.sql")
[ -f "$work/failed.csv" ] && scan+=("$work/failed.csv")
[ -f "$work/ok.csv" ] && scan+=("$work/ok.csv")
if grep -l -- "$refresh" "${scan[@]}"; then fail "the refresh token leaked into the files above"; fi
if grep -lE 'eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.' "${scan[@]}"; then fail "an access token leaked into the files above"; fi
grep -q "redacted" "$work/run.log" || fail "trace log shows no redaction: were requests logged at all?"
pass "no token in $(cat "${scan[@]}" | wc -c) bytes written"

# A refresh token holding a backslash and a quote: the request body carries it JSON-escaped
# (`\\`, `\"`), and that form is redacted too.
stop_sim
rm -f "$ONBOARD_DB"*
odd='rt\odd"SECRET3-token'
start_sim --refresh-token "$odd"
make_csv 5 "$work/o.csv"
onboard import "$work/o.csv" >/dev/null
PRISMATIC_REFRESH_TOKEN="$odd" run_job --log-level trace --log-file "$work/odd.log"
[ "$status" -eq 0 ] || { cat "$work/run.err"; fail "run with an odd refresh token exit $status"; }
grep -q "refresh" "$work/odd.log" || fail "no refresh request in the trace log"
if grep -n "SECRET3" "$work/odd.log" "$work/run.out" "$work/run.err"; then
  fail "the refresh token with a backslash and a quote leaked (lines above)"
fi
pass "a refresh token with a backslash and a quote is redacted in its JSON-escaped form"
