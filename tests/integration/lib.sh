# Shared helpers for integration tests: sourced, not run. Each test gets its own temp folder and its
# own simulator on 127.0.0.1 with an ephemeral port.
set -euo pipefail

: "${ONBOARD_BIN:?set by ctest}" "${SIM_BIN:?set by ctest}" "${SOURCE_DIR:?set by ctest}" "${FIXTURES:?set by ctest}"
work=$(mktemp -d "${TMPDIR:-/tmp}/onboard-it.XXXXXX")
sim_pid=""
export ONBOARD_DB="$work/onboard.db"
export PRISMATIC_REFRESH_TOKEN=sim-refresh-token

cleanup() {
  if [ -n "$sim_pid" ]; then kill "$sim_pid" 2>/dev/null || true; wait "$sim_pid" 2>/dev/null || true; fi
  if [ "${KEEP_WORK:-0}" = 1 ]; then echo "kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok: $*"; }

# start_sim [flags...]: starts prismatic-sim and sets $url.
start_sim() {
  rm -f "$work/sim.port"
  "$SIM_BIN" --host 127.0.0.1 --port 0 --port-file "$work/sim.port" "$@" >>"$work/sim.log" 2>&1 &
  sim_pid=$!
  for _ in $(seq 1 200); do [ -s "$work/sim.port" ] && break; sleep 0.05; done
  [ -s "$work/sim.port" ] || { cat "$work/sim.log" >&2; fail "prismatic-sim did not start"; }
  url="http://127.0.0.1:$(cat "$work/sim.port")"
}

stop_sim() {
  kill "$sim_pid" 2>/dev/null || true
  wait "$sim_pid" 2>/dev/null || true
  sim_pid=""
}

onboard() { "$ONBOARD_BIN" "$@"; }

# run_job [args...]: onboard run against the simulator; sets $status to its exit code.
run_job() {
  set +e
  "$ONBOARD_BIN" run --api-url "$url" --no-progress "$@" >"$work/run.out" 2>"$work/run.err"
  status=$?
  set -e
}

sql() { sqlite3 "$ONBOARD_DB" "$1"; }
sim_stat() { curl -fsS "$url/_sim/stats" | jq -r ".$1"; }
sim_customers() { curl -fsS "$url/_sim/customers" | jq 'length'; }

expect_eq() { # expect_eq ACTUAL EXPECTED WHAT
  [ "$1" = "$2" ] || fail "$3: expected '$2', got '$1'"
}

# expect_one_customer_per_row [OTHERS]: every succeeded row is exactly one customer of the simulator,
# no customer is held twice, and the simulator holds nothing else but OTHERS (default 0) customers
# that someone else created.
expect_one_customer_per_row() {
  local others=${1:-0} succeeded customers distinct
  succeeded=$(sql "SELECT count(*) FROM rows WHERE state = 'succeeded'")
  customers=$(sim_customers)
  distinct=$(curl -fsS "$url/_sim/customers" | jq '[.[].name] | unique | length')
  expect_eq "$customers" "$((succeeded + others))" "simulator customers vs succeeded rows (+ $others others)"
  expect_eq "$distinct" "$customers" "distinct customer names"
  local ours_missing
  ours_missing=$(comm -23 <(sql "SELECT customer_id FROM rows WHERE state = 'succeeded'" | sort) \
                          <(curl -fsS "$url/_sim/customers" | jq -r '.[].id' | sort) | wc -l)
  expect_eq "$ours_missing" "0" "recorded customer ids the simulator does not hold"
}

# make_csv N FILE: N valid rows, every fifth without externalId.
make_csv() {
  local n=$1 file=$2
  {
    echo "name,externalId"
    for i in $(seq 1 "$n"); do
      if [ $((i % 5)) -eq 0 ]; then echo "\"Customer $i, Ltd\","; else echo "Customer $i,EXT-$i"; fi
    done
  } >"$file"
}

# sim_create NAME [EXTERNAL_ID]: creates a customer directly, as someone else would have. Retried
# through injected faults: a dropped create was committed, and its retry answers "already exists".
sim_create() {
  local token vars body
  if [ -n "${2:-}" ]; then vars=$(jq -cn --arg n "$1" --arg e "$2" '{name:$n, externalId:$e}');
  else vars=$(jq -cn --arg n "$1" '{name:$n}'); fi
  body=$(jq -cn --argjson v "$vars" '{query:"mutation c($name: String!, $externalId: String) { createCustomer(input: {name: $name, externalId: $externalId}) { customer { id } } }", variables:$v}')
  for _ in $(seq 1 20); do
    token=$(curl -fsS -X POST "$url/auth/refresh" -H 'Content-Type: application/json' \
              -d '{"refresh_token":"sim-refresh-token"}' 2>/dev/null | jq -r .access_token) || continue
    curl -fsS -X POST "$url/api" -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
      -d "$body" 2>/dev/null | jq -e '.data.createCustomer' >/dev/null && return 0
  done
  fail "sim_create $1: the simulator kept failing"
}
