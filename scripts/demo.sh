#!/usr/bin/env bash
# The README's first command: installs what is missing, builds, starts the local Prismatic
# simulator on 127.0.0.1, imports samples/customers.csv, runs the job and prints the results.
# Everything it writes goes to demo-out/ (started afresh each time).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
scripts/deps.sh
# The two programs only: the tests (scripts/test.sh) are most of a first build's time.
BUILD_TARGETS="onboard prismatic-sim" scripts/build.sh
bin="$root/${BUILD_DIR:-build}"

out="$root/demo-out"
rm -rf "$out"
mkdir -p "$out"
db="$out/demo.db"

# The simulator: loopback only, a free port written to a file once it listens.
"$bin/prismatic-sim" --host 127.0.0.1 --port 0 --port-file "$out/sim.port" --latency-ms 5 --jitter-ms 3 \
  >"$out/sim.log" 2>&1 &
sim_pid=$!
trap 'kill "$sim_pid" 2>/dev/null || true; wait "$sim_pid" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do [ -s "$out/sim.port" ] && break; sleep 0.05; done
[ -s "$out/sim.port" ] || { echo "error: prismatic-sim did not start (see $out/sim.log)" >&2; exit 1; }
url="http://127.0.0.1:$(cat "$out/sim.port")"
echo "== prismatic-sim listening on $url"

echo "== onboard import samples/customers.csv"
"$bin/onboard" import samples/customers.csv --db "$db" || true   # exit 1 when rows were rejected

echo "== onboard run"
set +e
PRISMATIC_REFRESH_TOKEN=sim-refresh-token "$bin/onboard" run --db "$db" --api-url "$url" --workers 16
run_status=$?
set -e

echo "== onboard status"
"$bin/onboard" status --db "$db"

# Cross-check against what the simulator holds.
stats=$(curl -fsS "$url/_sim/stats")
customers=$(curl -fsS "$url/_sim/customers" | jq 'length')
succeeded=$(sqlite3 "$db" "SELECT count(*) FROM rows WHERE state = 'succeeded'")
batches=$(sqlite3 "$db" "SELECT count(*) FROM batches")
refreshes=$(jq '.refreshes' <<<"$stats")
echo "== check: $succeeded rows succeeded, simulator holds $customers customers; $batches batches, $refreshes token refreshes"
[ "$customers" -eq "$succeeded" ] || { echo "error: customers and succeeded rows differ" >&2; exit 1; }
[ "$refreshes" -eq "$batches" ] || { echo "error: refreshes and batches differ" >&2; exit 1; }
echo "== the results database is $db: try  $bin/onboard report --db $db --status failed"
exit $run_status
