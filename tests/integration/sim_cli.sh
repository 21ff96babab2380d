#!/usr/bin/env bash
# prismatic-sim's command line: --help, bad flag values, --host/--port/--port-file, a port in use,
# clean exits on SIGINT and SIGTERM (also right after start), --state across restarts, token flags.
source "$(dirname "$0")/lib.sh"

pids=()
sim_cli_cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  cleanup
}
trap sim_cli_cleanup EXIT

# launch NAME [flags...]: starts prismatic-sim with its own port file and log; sets $pid and $url.
launch() {
  local name=$1; shift
  rm -f "$work/$name.port"
  "$SIM_BIN" --port-file "$work/$name.port" "$@" >"$work/$name.out" 2>"$work/$name.err" &
  pid=$!
  pids+=("$pid")
  for _ in $(seq 1 200); do [ -s "$work/$name.port" ] && break; sleep 0.025; done
  [ -s "$work/$name.port" ] || { cat "$work/$name.err" >&2; fail "$name: prismatic-sim did not start"; }
  url="http://127.0.0.1:$(cat "$work/$name.port")"
}

# finish PID SIGNAL: sends SIGNAL and waits at most 5 s; sets $code to the exit code.
finish() {
  kill "-$2" "$1"
  for _ in $(seq 1 200); do kill -0 "$1" 2>/dev/null || break; sleep 0.025; done
  kill -0 "$1" 2>/dev/null && fail "prismatic-sim (pid $1) still runs 5 s after SIG$2"
  set +e; wait "$1"; code=$?; set -e
}

# refused FLAGS... : prismatic-sim must refuse to start; sets $code and $err (stderr's first line).
refused() {
  set +e
  rm -f "$work/refused.port"
  timeout 5 "$SIM_BIN" --port-file "$work/refused.port" "$@" >"$work/refused.out" 2>"$work/refused.err"
  code=$?
  set -e
  err=$(head -n 1 "$work/refused.err")
  [ "$code" != 0 ] || fail "prismatic-sim $*: exit code 0"
  [ ! -e "$work/refused.port" ] || fail "prismatic-sim $*: wrote a port file"
}

token() { curl -fsS -X POST "$url/auth/refresh" -H 'Content-Type: application/json' -d "{\"refresh_token\":\"${1:-sim-refresh-token}\"}" | jq -r .access_token; }
create() { # create TOKEN NAME [EXTERNAL_ID]: prints "<http status> <body>"
  local vars
  vars=$(jq -cn --arg n "$2" --arg e "${3:-}" 'if $e == "" then {name:$n} else {name:$n, externalId:$e} end')
  curl -sS -o "$work/create.body" -w '%{http_code}' -X POST "$url/api" -H "Authorization: Bearer $1" \
    -H 'Content-Type: application/json' \
    -d "$(jq -cn --argjson v "$vars" '{query:"mutation($name: String!, $externalId: String) { createCustomer(input: {name: $name, externalId: $externalId}) { customer { id name } errors { field messages } } }", variables:$v}')"
  printf ' %s\n' "$(cat "$work/create.body")"
}

# --help names every flag and exits 0.
"$SIM_BIN" --help >"$work/help.txt"
for flag in --host --port --port-file --state --threads --refresh-token --rotate-refresh-tokens --token-ttl \
            --mutation-errors-status --document-errors-status --duplicate-errors-field --seed --latency-ms \
            --jitter-ms --fail-rate --rate-limit --drop-rate --graphql-error-rate --slow-rate --slow-ms; do
  grep -q -- "$flag" "$work/help.txt" || fail "--help does not list $flag"
done
pass "--help lists every flag"

# Bad flag values are refused before listening, with the flag and the value named.
refused --fail-rate 2;                 expect_eq "$err" "--fail-rate: Value 2 not in range 0.000000 to 1.000000" "--fail-rate 2"
refused --port 70000;                  expect_eq "$err" "--port: Value 70000 not in range 0 to 65535" "--port 70000"
refused --port abc;                    expect_eq "$err" "--port: Value abc not in range 0 to 65535" "--port abc"
refused --latency-ms -5;               expect_eq "$err" "--latency-ms: expected a whole number >= 0, got \"-5\"" "--latency-ms -5"
refused --mutation-errors-status 302;  expect_eq "${err%%:*}" "--mutation-errors-status" "--mutation-errors-status 302"
refused --slow-rate 0.5;               expect_eq "$err" "--slow-rate requires --slow-ms" "--slow-rate alone"
refused --no-such-flag;                expect_eq "$err" "The following argument was not expected: --no-such-flag" "unknown flag"
refused --host 256.1.1.1;              expect_eq "$err" "error: prismatic-sim: cannot listen on 256.1.1.1:0" "bad host"
expect_eq "$code" 1 "exit code of an unusable address"
pass "bad flag values are clear errors"

# --port 0 picks a free port and writes it to --port-file; a fixed --port is used as given.
launch first --host 127.0.0.1 --port 0
port=$(cat "$work/first.port")
[[ "$port" =~ ^[0-9]+$ ]] && [ "$port" -gt 0 ] || fail "port file holds '$port'"
expect_eq "$(curl -fsS "$url/_sim/stats" | jq .requests)" 0 "stats of a fresh simulator"
grep -qx "prismatic-sim: listening on http://127.0.0.1:$port" "$work/first.err" || fail "no listening line: $(cat "$work/first.err")"
refused --host 127.0.0.1 --port "$port"
expect_eq "$err" "error: prismatic-sim: cannot listen on 127.0.0.1:$port" "a port in use"
finish "$pid" TERM
expect_eq "$code" 0 "exit code on SIGTERM"
expect_eq "$(tail -n 1 "$work/first.err")" "prismatic-sim: stopped" "last line on SIGTERM"
launch fixed --host 127.0.0.1 --port "$port"
expect_eq "$(cat "$work/fixed.port")" "$port" "port file of a fixed --port"
curl -fsS "$url/_sim/stats" >/dev/null || fail "nothing answers on the fixed port"
finish "$pid" INT
expect_eq "$code" 0 "exit code on SIGINT"
pass "--port 0 with --port-file, a fixed --port, a port in use, exit 0 on SIGTERM and SIGINT"

# A signal right after the port file appears still stops it cleanly (it once hung there).
for i in $(seq 1 15); do
  launch quick --port 0
  finish "$pid" "$([ $((i % 2)) = 0 ] && echo INT || echo TERM)"
  expect_eq "$code" 0 "exit code of a signal right after start ($i)"
done
pass "a signal right after start exits 0"

# --state: customers loaded at start, saved at exit, there again after a restart.
state="$work/state.json"
cat >"$state" <<'EOF'
[{"id":"Q3VzdG9tZXI6c2VlZGVk","name":"Seeded Ltd","externalId":"S-1","description":"from a rehearsal","labels":["vip"],"createdAt":"2024-05-01T12:00:00.000000+00:00"}]
EOF
launch state --port 0 --state "$state"
expect_eq "$(curl -fsS "$url/_sim/customers" | jq -c '.[0] | [.name, .externalId, .labels]')" '["Seeded Ltd","S-1",["vip"]]' "loaded customer"
t=$(token)
expect_eq "$(create "$t" "Seeded Ltd" | cut -c1-3)" 200 "status of a duplicate of a loaded customer"
expect_eq "$(jq -c '.data.createCustomer.errors' "$work/create.body")" '[{"field":"name","messages":["A customer with this name already exists."]}]' "duplicate of a loaded name"
create "$t" "Other" "S-1" >/dev/null
expect_eq "$(jq -c '.data.createCustomer.errors[0].field' "$work/create.body")" '"externalId"' "duplicate of a loaded externalId"
create "$t" "New One" "N-1" >/dev/null
create "$t" "New Two" >/dev/null
new_id=$(jq -r '.data.createCustomer.customer.id' "$work/create.body")
before=$(curl -fsS "$url/_sim/customers")
finish "$pid" TERM
expect_eq "$code" 0 "exit code with --state"
expect_eq "$(jq -c . "$state")" "$(jq -c . <<<"$before")" "state file vs the customers at exit"
expect_eq "$(jq -c '[.[].name]' "$state")" '["Seeded Ltd","New One","New Two"]' "customers in the state file"
[ ! -e "$state.tmp" ] || fail "a temporary state file was left behind"
launch again --port 0 --state "$state"
expect_eq "$(curl -fsS "$url/_sim/customers" | jq -c .)" "$(jq -c . "$state")" "customers after a restart"
t=$(token)
found=$(curl -fsS -X POST "$url/api" -H "Authorization: Bearer $t" -H 'Content-Type: application/json' \
  -d "{\"query\":\"{ customer(id: \\\"$new_id\\\") { name } }\"}" | jq -r .data.customer.name)
expect_eq "$found" "New Two" "customer(id:) of a customer created before the restart"
expect_eq "$(create "$t" "New One" | cut -c1-3)" 200 "status of a duplicate after the restart"
expect_eq "$(jq -c '.data.createCustomer.customer' "$work/create.body")" null "duplicate after the restart"
finish "$pid" INT
expect_eq "$(jq length "$state")" 3 "customers after the second run"
pass "--state loads at start and saves at exit, across restarts"

# A state file that does not exist yet is an empty organisation, written at exit; a corrupt one is refused.
launch fresh --port 0 --state "$work/new-state.json"
expect_eq "$(curl -fsS "$url/_sim/customers")" "[]" "customers with a missing state file"
create "$(token)" "Only" >/dev/null
finish "$pid" TERM
expect_eq "$(jq -c '[.[].name]' "$work/new-state.json")" '["Only"]' "state file created at exit"
echo '[{"name":"no id"}' >"$work/corrupt.json"
refused --state "$work/corrupt.json"
expect_eq "${err%% (*}" "error: $work/corrupt.json: invalid JSON" "corrupt state file"
echo '[{"name":"no id"}]' >"$work/corrupt.json"
refused --state "$work/corrupt.json"
expect_eq "$err" "error: $work/corrupt.json: a customer has no \"id\"" "state file entry without an id"
expect_eq "$(cat "$work/corrupt.json")" '[{"name":"no id"}]' "a refused state file is left as it was"
pass "a missing state file starts empty, a corrupt one is refused"

# --refresh-token replaces the default; --token-ttl 0 issues tokens that are already expired;
# --mutation-errors-status and --duplicate-errors-field change duplicate answers.
launch tokens --port 0 --refresh-token alpha --refresh-token beta --token-ttl 0
for rt in alpha beta; do
  [ -n "$(token "$rt")" ] || fail "refresh token $rt refused"
done
status=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$url/auth/refresh" -H 'Content-Type: application/json' \
  -d '{"refresh_token":"sim-refresh-token"}')
expect_eq "$status" 401 "the default refresh token once others are given"
answer=$(create "$(token alpha)" "Late")
expect_eq "$answer" '401 {"errors":[{"message":"Unauthorized"}]}' "a token of --token-ttl 0"
finish "$pid" TERM
launch statuses --port 0 --mutation-errors-status 400 --duplicate-errors-field __all__
t=$(token)
expect_eq "$(create "$t" "Dup" | cut -c1-3)" 200 "a first create"
expect_eq "$(create "$t" "Dup" | cut -c1-3)" 400 "a duplicate under --mutation-errors-status 400"
expect_eq "$(jq -c '.data.createCustomer.errors[0].field' "$work/create.body")" '"__all__"' "field under --duplicate-errors-field __all__"
finish "$pid" TERM
pass "--refresh-token, --token-ttl, --mutation-errors-status and --duplicate-errors-field"
