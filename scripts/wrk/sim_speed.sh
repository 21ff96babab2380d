#!/usr/bin/env bash
# Measures prismatic-sim's createCustomer rate with wrk (zero latency, keep-alive, fresh names) and
# checks with /_sim/stats that every answered request really created a customer.
# Usage: scripts/wrk/sim_speed.sh [SIM_BIN] [RUNS]   env: WRK_THREADS (2) WRK_CONNECTIONS (64) WRK_SECONDS (5)
set -euo pipefail
cd "$(dirname "$0")/../.."
sim_bin=${1:-build-release/prismatic-sim}
runs=${2:-3}
threads=${WRK_THREADS:-2}
connections=${WRK_CONNECTIONS:-64}
seconds=${WRK_SECONDS:-5}
work=$(mktemp -d "${TMPDIR:-/tmp}/sim-speed.XXXXXX")
sim_pid=""
cleanup() {
  if [ -n "$sim_pid" ]; then kill "$sim_pid" 2>/dev/null || true; wait "$sim_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

"$sim_bin" --host 127.0.0.1 --port 0 --port-file "$work/port" >"$work/sim.log" 2>&1 &
sim_pid=$!
for _ in $(seq 1 200); do [ -s "$work/port" ] && break; sleep 0.05; done
[ -s "$work/port" ] || { cat "$work/sim.log" >&2; echo "prismatic-sim did not start" >&2; exit 1; }
url="http://127.0.0.1:$(cat "$work/port")"
token=$(curl -fsS -X POST "$url/auth/refresh" -H 'Content-Type: application/json' \
          -d '{"refresh_token":"sim-refresh-token"}' | jq -r .access_token)

for run in $(seq 1 "$runs"); do
  curl -fsS -X POST -d "" "$url/_sim/reset" >/dev/null
  WRK_RUN="r$run" ACCESS_TOKEN="$token" wrk "-t$threads" "-c$connections" "-d${seconds}s" \
    -s scripts/wrk/create_customer.lua "$url/api" >"$work/wrk.txt" 2>&1
  stats=$(curl -fsS "$url/_sim/stats")
  rate=$(awk '/Requests\/sec/ { printf "%.0f", $2 }' "$work/wrk.txt")
  answered=$(awk '/requests in/ { print $1 }' "$work/wrk.txt")
  errors=$(grep -E 'Non-2xx|Socket errors|payload errors' "$work/wrk.txt" | tr '\n' ' ')
  creates=$(jq .creates <<<"$stats"); customers=$(jq .customers <<<"$stats")
  printf 'run %d: %s requests/s, %s answered, %s creates, %s customers; %s\n' \
    "$run" "$rate" "$answered" "$creates" "$customers" "$errors"
done
