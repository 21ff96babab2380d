#!/usr/bin/env bash
# `cmake --install` gives a prefix that works on its own: the installed onboard finds the shipped job
# under share/onboard/ (not the source tree it was built from) and runs it against the simulator.
source "$(dirname "$0")/lib.sh"
build_dir=$(dirname "$ONBOARD_BIN")
cmake --install "$build_dir" --prefix "$work/prefix" >"$work/install.log" || { cat "$work/install.log"; fail "install"; }
installed="$work/prefix/bin/onboard"
[ -x "$installed" ] && [ -x "$work/prefix/bin/prismatic-sim" ] || fail "programs not installed"
job="$work/prefix/share/onboard/jobs/arazzo/onboard-create-customer.yml"
[ -f "$job" ] && [ -f "$work/prefix/share/onboard/jobs/openapi/prismatic-graphql-api-openapi.yml" ] ||
  fail "shipped job not installed"
"$installed" check >"$work/check.out" || { cat "$work/check.out"; fail "installed check"; }
grep -qF "$(realpath "$job"): ok" "$work/check.out" || { cat "$work/check.out"; fail "check did not use the installed job"; }
start_sim
"$installed" import "$SOURCE_DIR/samples/customers.csv" >/dev/null || true
"$installed" run --api-url "$url" --workers 4 --no-progress >"$work/run.out" 2>&1 || { cat "$work/run.out"; fail "installed run"; }
expect_eq "$(sql "SELECT count(*) FROM rows WHERE state = 'succeeded'")" \
  "$(curl -fsS "$url/_sim/customers" | jq length)" "succeeded rows and customers held"
pass "install"
