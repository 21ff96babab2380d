#!/usr/bin/env bash
# Throughput, measured side by side with its baseline in the same run (ratios, not absolute figures:
# machines are noisy). Release build; prismatic-sim on 127.0.0.1; writes bench-out/bench.json.
#   BENCH_IMPORT_ROWS (1000000)  BENCH_LATENCY_ROWS (20000)  BENCH_ZERO_ROWS (100000)  BENCH_RATE_SECONDS (10)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
scripts/deps.sh wrk time
BUILD_DIR=build-release BUILD_TYPE=Release scripts/build.sh -DONBOARD_TESTS=OFF
bin="$root/build-release"
out="$root/bench-out"
rm -rf "$out"; mkdir -p "$out"
import_rows=${BENCH_IMPORT_ROWS:-1000000}
latency_rows=${BENCH_LATENCY_ROWS:-20000}
zero_rows=${BENCH_ZERO_ROWS:-100000}
rate_seconds=${BENCH_RATE_SECONDS:-10}
export PRISMATIC_REFRESH_TOKEN=sim-refresh-token
results=()   # JSON objects, one per figure

sim_pid=""
stop_sim() { [ -n "$sim_pid" ] && { kill "$sim_pid" 2>/dev/null || true; wait "$sim_pid" 2>/dev/null || true; }; sim_pid=""; }
trap stop_sim EXIT
start_sim() {
  stop_sim
  rm -f "$out/sim.port"
  "$bin/prismatic-sim" --host 127.0.0.1 --port 0 --port-file "$out/sim.port" "$@" >>"$out/sim.log" 2>&1 &
  sim_pid=$!
  for _ in $(seq 1 200); do [ -s "$out/sim.port" ] && break; sleep 0.05; done
  url="http://127.0.0.1:$(cat "$out/sim.port")"
}
make_csv() { # make_csv ROWS FILE PREFIX
  awk -v n="$1" -v p="$3" 'BEGIN { print "name,externalId"; for (i = 1; i <= n; i++) printf "%s Customer %d,%s-%d\n", p, i, p, i }' >"$2"
}
# timed OUTPUT_PREFIX cmd...: runs it under GNU time; sets elapsed, cpu, peak_kb.
timed() {
  local prefix=$1; shift
  /usr/bin/time -f '%e %U %S %M' -o "$prefix.time" "$@" >"$prefix.out" 2>"$prefix.err"
  read -r elapsed user sys peak_kb <"$prefix.time"
  cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { print u + s }')
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "null" }'; }
per_s() { awk -v n="$1" -v t="$2" 'BEGIN { if (t > 0) printf "%.0f", n / t; else print 0 }'; }
add() { results+=("$1"); printf '%-46s %12s %12s %7s   %s\n' "$2" "$3" "$4" "$5" "$6"; }

printf '%-46s %12s %12s %7s   %s\n' "figure" "measured" "baseline" "ratio" "target"

# 1. import of N rows beside sqlite3's own .import of the same file (WAL, bare table).
make_csv "$import_rows" "$out/import.csv" Bench
timed "$out/import" "$bin/onboard" import "$out/import.csv" --db "$out/import.db"
import_rate=$(per_s "$import_rows" "$elapsed"); import_peak_mb=$((peak_kb / 1024))
timed "$out/ceiling" sqlite3 "$out/ceiling.db" "PRAGMA journal_mode=WAL;" ".mode csv" ".import $out/import.csv customers"
ceiling_rate=$(per_s "$import_rows" "$elapsed")
r=$(ratio "$import_rate" "$ceiling_rate")
add "{\"figure\":\"import_rows_per_s\",\"rows\":$import_rows,\"measured\":$import_rate,\"baseline\":$ceiling_rate,\"ratio\":$r,\"peak_mb\":$import_peak_mb}" \
  "import rows/s (vs sqlite3 .import)" "$import_rate" "$ceiling_rate" "$r" ">= 0.5"
# A second, informative baseline: SQLite alone moving the same rows into onboard's own schema (its
# unique name and externalId indexes and the queue index), in one INSERT ... SELECT. As onboard does
# (schema 007), inputs and source are left NULL: they would only repeat name and external_id.
for sql in schema/[0-9][0-9][0-9]_*.sql; do cat "$sql"; echo; done >"$out/schema.sql"
sqlite3 "$out/floor.db" <"$out/schema.sql" >/dev/null
sqlite3 "$out/floor.db" "INSERT INTO imports (id, file_name, file_size, sha256, columns, mapping, delimiter, imported_at) VALUES (1, 'f', 0, 'f', '[]', '{}', ',', 'now');"
timed "$out/floor" sqlite3 "$out/floor.db" "PRAGMA journal_mode=WAL;" "PRAGMA synchronous=NORMAL;" \
  "ATTACH '$out/ceiling.db' AS c;" \
  "INSERT INTO rows (import_id, line, state, name, external_id, inputs, source, updated_at) SELECT 1, rowid + 1, 'pending', name, externalId, NULL, NULL, 'now' FROM c.customers;"
floor_rate=$(per_s "$import_rows" "$elapsed")
add "{\"figure\":\"import_vs_schema_floor\",\"measured\":$import_rate,\"baseline\":$floor_rate,\"ratio\":$(ratio "$import_rate" "$floor_rate")}" \
  "import rows/s (vs SQLite into onboard's schema)" "$import_rate" "$floor_rate" "$(ratio "$import_rate" "$floor_rate")" "-"
add "{\"figure\":\"import_peak_mb\",\"measured\":$import_peak_mb}" "import peak memory MB" "$import_peak_mb" "-" "-" "< 64"
rm -f "$out/import.csv" "$out"/*.db*

# 2. run at 20 ms (jitter 5 ms): rows/s beside workers / latency.
for workers in 32 128; do
  start_sim --latency-ms 20 --jitter-ms 5
  make_csv "$latency_rows" "$out/lat.csv" "W$workers"
  "$bin/onboard" import "$out/lat.csv" --db "$out/lat$workers.db" >/dev/null
  timed "$out/lat$workers" "$bin/onboard" run --db "$out/lat$workers.db" --api-url "$url" --workers "$workers" \
    --batch-size 500 --no-progress
  # The simulator answers after 20 ms plus 0-5 ms of jitter: 22.5 ms on average.
  rate=$(per_s "$latency_rows" "$elapsed"); ideal=$(per_s "$workers" 0.0225)
  nominal=$(per_s "$workers" 0.020)
  mean_ms=$(sqlite3 "$out/lat$workers.db" "SELECT round(avg(duration_ms), 1) FROM attempts")
  batches=$(sqlite3 "$out/lat$workers.db" "SELECT count(*) FROM batches")
  refreshes=$(curl -fsS "$url/_sim/stats" | jq .refreshes)
  r=$(ratio "$rate" "$ideal")
  add "{\"figure\":\"run_latency20_w$workers\",\"measured\":$rate,\"baseline\":$ideal,\"ratio\":$r,\"nominal_ideal\":$nominal,\"mean_request_ms\":$mean_ms,\"batches\":$batches,\"refreshes\":$refreshes,\"peak_mb\":$((peak_kb / 1024))}" \
    "run rows/s, 20+0..5 ms, $workers workers (vs W / 22.5 ms)" "$rate" "$ideal" "$r" ">= 0.9"
  add "{\"figure\":\"run_latency20_w${workers}_nominal\",\"measured\":$rate,\"baseline\":$nominal,\"ratio\":$(ratio "$rate" "$nominal")}" \
    "  same, vs W / 20 ms (jitter not counted)" "$rate" "$nominal" "$(ratio "$rate" "$nominal")" "-"
  add "{\"figure\":\"refreshes_equal_batches_w$workers\",\"measured\":$refreshes,\"baseline\":$batches}" \
    "refreshes vs batches, $workers workers" "$refreshes" "$batches" "$(ratio "$refreshes" "$batches")" "= 1"
  [ "$workers" = 128 ] && add "{\"figure\":\"run_peak_mb_w128\",\"measured\":$((peak_kb / 1024))}" \
    "run peak memory MB, 128 workers" "$((peak_kb / 1024))" "-" "-" "-"
done

# 3. zero latency: rows/s and CPU per row beside wrk's request rate with the same body.
start_sim
make_csv "$zero_rows" "$out/zero.csv" Zero
"$bin/onboard" import "$out/zero.csv" --db "$out/zero.db" >/dev/null
# The simulator's CPU per request (both processes share the machine's cores) from /proc, in µs.
sim_cpu_us() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.0f", ($14 + $15) * 1e6 / hz }' "/proc/$sim_pid/stat"; }
sim_before=$(sim_cpu_us)
timed "$out/zero" "$bin/onboard" run --db "$out/zero.db" --api-url "$url" --workers 64 --batch-size 1000 --no-progress
sim_run_us=$(awk -v a="$sim_before" -v b="$(sim_cpu_us)" -v n="$zero_rows" 'BEGIN { printf "%.1f", (b - a) / n }')
zero_rate=$(per_s "$zero_rows" "$elapsed")
cpu_us=$(awk -v c="$cpu" -v n="$zero_rows" 'BEGIN { printf "%.1f", c * 1e6 / n }')
token=$(curl -fsS -X POST "$url/auth/refresh" -H 'Content-Type: application/json' -d '{"refresh_token":"sim-refresh-token"}' | jq -r .access_token)
sim_before=$(sim_cpu_us)
ACCESS_TOKEN="$token" timed "$out/wrk" wrk -t2 -c64 -d5s -s scripts/wrk/create_customer.lua "$url/api"
wrk_rate=$(awk '/Requests\/sec/ { printf "%.0f", $2 }' "$out/wrk.out")
wrk_requests=$(awk '/requests in/ { print $1 }' "$out/wrk.out")
sim_wrk_us=$(awk -v a="$sim_before" -v b="$(sim_cpu_us)" -v n="$wrk_requests" 'BEGIN { printf "%.1f", (b - a) / n }')
wrk_us=$(awk -v c="$cpu" -v n="$wrk_requests" 'BEGIN { printf "%.1f", c * 1e6 / n }')
cores=$(nproc)
# What the cores allow a client costing cpu_us per row, with the simulator's cost per request
# measured during the run: both share the cores (informative, not a target).
bound=$(awk -v c="$cores" -v s="$sim_run_us" -v o="$cpu_us" 'BEGIN { if (s + o > 0) printf "%.0f", c * 1e6 / (s + o); else print 0 }')
r=$(ratio "$zero_rate" "$wrk_rate")
add "{\"figure\":\"run_zero_latency\",\"measured\":$zero_rate,\"baseline\":$wrk_rate,\"ratio\":$r,\"cpu_us_per_row\":$cpu_us,\"sim_cpu_us_per_request\":$sim_run_us,\"wrk_cpu_us_per_request\":$wrk_us,\"sim_cpu_us_per_request_wrk\":$sim_wrk_us}" \
  "run rows/s, zero latency (vs wrk)" "$zero_rate" "$wrk_rate" "$r" ">= 0.5"
add "{\"figure\":\"cpu_us_per_row\",\"measured\":$cpu_us,\"baseline\":$wrk_us,\"ratio\":$(ratio "$cpu_us" "$wrk_us")}" \
  "onboard CPU µs per row (vs wrk per request)" "$cpu_us" "$wrk_us" "$(ratio "$cpu_us" "$wrk_us")" "-"
add "{\"figure\":\"sim_cpu_us_per_request\",\"measured\":$sim_run_us,\"baseline\":$sim_wrk_us,\"ratio\":$(ratio "$sim_run_us" "$sim_wrk_us")}" \
  "  simulator CPU µs per request (onboard vs wrk)" "$sim_run_us" "$sim_wrk_us" "$(ratio "$sim_run_us" "$sim_wrk_us")" "-"
add "{\"figure\":\"run_zero_latency_core_bound\",\"measured\":$zero_rate,\"baseline\":$bound,\"ratio\":$(ratio "$zero_rate" "$bound"),\"cores\":$cores}" \
  "  run rows/s vs $cores cores / (sim + onboard CPU)" "$zero_rate" "$bound" "$(ratio "$zero_rate" "$bound")" "-"

# 4. under a rate limit of 20 requests/s: rows/s with 1 and 10 rows per request beside R x K.
for k in 1 10; do
  start_sim --rate-limit 20
  rows=$((20 * k * rate_seconds))
  make_csv "$rows" "$out/rate.csv" "K$k"
  "$bin/onboard" import "$out/rate.csv" --db "$out/rate$k.db" >/dev/null
  timed "$out/rate$k" "$bin/onboard" run --db "$out/rate$k.db" --api-url "$url" --workers 8 --rate 20 \
    --rows-per-request "$k" --batch-size 1000 --no-progress
  # The refresh counts against the same limit: the ideal is R x K rows/s over the requests made.
  rate=$(per_s "$rows" "$elapsed"); ideal=$((20 * k))
  stats=$(curl -fsS "$url/_sim/stats")
  limited=$(jq .rate_limited <<<"$stats"); requests=$(jq '.graphql_requests + .refreshes' <<<"$stats")
  r=$(ratio "$rate" "$ideal")
  add "{\"figure\":\"rate_limited_k$k\",\"measured\":$rate,\"baseline\":$ideal,\"ratio\":$r,\"answered_429\":$limited,\"requests\":$requests}" \
    "rows/s at 20 req/s, $k rows/request (vs R x K)" "$rate" "$ideal" "$r" ">= 0.9, 429 <= 1%"
  add "{\"figure\":\"share_429_k$k\",\"measured\":$limited,\"baseline\":$requests}" \
    "429 answers vs requests, $k rows/request" "$limited" "$requests" "$(ratio "$limited" "$requests")" "<= 0.01"
done

printf '[%s]\n' "$(IFS=,; echo "${results[*]}")" | jq . >"$out/bench.json"
echo "figures written to bench-out/bench.json"
