#!/usr/bin/env bash
# A running `onboard run` keeps its secrets out of reach: the refresh token is gone from its
# environment (/proc/PID/environ, what children would inherit), and the process is not dumpable, so
# a SIGABRT writes no core file holding the tokens.
source "$(dirname "$0")/lib.sh"
refresh="rt-env-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
start_sim --refresh-token "$refresh" --latency-ms 200
make_csv 40 "$work/c.csv"
onboard import "$work/c.csv" >/dev/null
mkdir "$work/cores" "$work/control"
(cd "$work/cores" && ulimit -c unlimited &&
  PRISMATIC_REFRESH_TOKEN="$refresh" exec "$ONBOARD_BIN" run --api-url "$url" --no-progress --workers 1 \
    >"$work/run.out" 2>"$work/run.err") &
pid=$!
for _ in $(seq 1 200); do [ "$(sim_stat refreshes)" -ge 1 ] && break; sleep 0.05; done
expect_eq "$(sim_stat refreshes)" 1 "refreshes before the inspection"
kill -0 "$pid" 2>/dev/null || fail "onboard run ended before it could be inspected"
tr '\0' '\n' <"/proc/$pid/environ" >"$work/environ"
grep -q '^ONBOARD_DB=' "$work/environ" || fail "test: /proc/$pid/environ shows no ONBOARD_DB"
if grep -qF -- "$refresh" "$work/environ"; then fail "the refresh token is still in /proc/$pid/environ"; fi
kill -ABRT "$pid"
wait "$pid" 2>/dev/null || true

# The check means something only where an aborted process does leave a core file here.
(cd "$work/control" && ulimit -c unlimited && exec sleep 30) &
control=$!
sleep 0.2
kill -ABRT "$control"
wait "$control" 2>/dev/null || true
if [ -n "$(ls "$work/control")" ]; then
  [ -z "$(ls "$work/cores")" ] || fail "onboard run left a core file: $(ls "$work/cores")"
  pass "no token in /proc/PID/environ, no core file after SIGABRT"
else
  pass "no token in /proc/PID/environ (core files are not written here: $(cat /proc/sys/kernel/core_pattern))"
fi
