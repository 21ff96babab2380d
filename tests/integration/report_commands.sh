#!/usr/bin/env bash
# status, report, export, query and retry through the real binary, in every format, after a real run.
source "$(dirname "$0")/lib.sh"
export LC_ALL=C.UTF-8
start_sim

awkward=$'Smith, "Bob"\nJr'
formula='=HYPERLINK("http://evil.example","x")'
sim_create "Taken Co"
{
  echo "name,externalId"
  echo "Alpha Ltd,EXT-1"
  printf '"Smith, ""Bob""\nJr",EXT-2\n'
  echo '"=HYPERLINK(""http://evil.example"",""x"")",EXT-3'
  echo "Taken Co,EXT-4"
  echo ",EXT-5"
} >"$work/c.csv"
onboard import "$work/c.csv" >/dev/null || true
run_job --workers 2
expect_eq "$(sql "SELECT group_concat(state, ' ') FROM (SELECT state FROM rows ORDER BY line)")" \
  "succeeded succeeded succeeded failed rejected" "states after the run"

# expect_fails CODE MESSAGE command...: the command exits with CODE and prints "error: MESSAGE".
expect_fails() {
  local code=$1 message=$2; shift 2
  set +e; "$@" >"$work/fail.out" 2>"$work/fail.err"; local got=$?; set -e
  expect_eq "$got" "$code" "exit code of $*"
  expect_eq "$(cat "$work/fail.err")" "error: $message" "error of $*"
}

# ---- status ----
onboard status >"$work/status.txt"
grep -q '^ *1  c.csv  *5  *3  *1  *1 ' "$work/status.txt" || { cat "$work/status.txt"; fail "status table"; }
grep -q '^  success     60.0%$' "$work/status.txt" || fail "status summary"
json=$(onboard status --json)
expect_eq "$(jq -c '.imports[0] | keys_unsorted' <<<"$json")" \
  '["import_id","file_name","imported_at","rows","pending","in_flight","succeeded","failed","outcome_unknown","rejected","superseded","success_rate","attempts","latency_p50_ms","latency_p95_ms","throughput_per_s","first_request_at","last_request_at"]' \
  "status json names"
expect_eq "$(jq -c '[.imports[0].succeeded, .imports[0].failed, .imports[0].rejected, .imports[0].success_rate, .total.rows]' <<<"$json")" \
  "[3,1,1,0.6,5]" "status json counts"
[ "$(jq '.total.latency_p95_ms >= .total.latency_p50_ms and .total.attempts >= 4' <<<"$json")" = true ] || fail "status timing"
onboard status --import 1 | grep -q '^import 1 (c.csv, imported ' || fail "status --import"
# One import's JSON: the import named in .imports, the total naming none (as README says).
json=$(onboard status --import 1 --json)
expect_eq "$(jq -c '[.imports[0].import_id, (.imports[0].file_name | split("/") | last), .total.import_id, .total.file_name, .total.imported_at, .total.rows]' <<<"$json")" \
  '[1,"c.csv",null,null,null,5]' "status --import --json: the import and its total"
COLUMNS=64 onboard status >"$work/narrow.txt" 2>"$work/narrow.err"
expect_eq "$(head -1 "$work/narrow.txt" | tr -s ' ')" "import file rows succeeded failed rejected success" "narrow status table"
grep -q '^status: 4 columns left out to fit 64 characters (pending, in_flight, unknown, superseded);' "$work/narrow.err" ||
  fail "narrow status note: $(cat "$work/narrow.err")"
expect_fails 2 "status: no import with id 9" onboard status --import 9

# ---- report ----
COLUMNS=60 onboard report >"$work/report.txt" 2>"$work/report.err"
expect_eq "$(wc -l <"$work/report.txt")" 6 "report table lines"
expect_eq "$(head -1 "$work/report.txt" | tr -s ' ')" "line state name error_class error_message" \
  "a narrow report table keeps line, state, name and the error"
expect_eq "$(cat "$work/report.err")" \
  "report: 7 columns left out to fit 60 characters (row_id, import_id, external_id, attempts, customer_id, reconciled, updated_at); --format csv, json or jsonl shows them all" \
  "the note on what a narrow table left out"
COLUMNS=250 onboard report >"$work/wide.txt" 2>"$work/wide.err"
[ -s "$work/wide.err" ] && fail "a wide table left columns out: $(cat "$work/wide.err")"
expect_eq "$(head -1 "$work/wide.txt" | tr -s ' ')" \
  "row_id import_id line state name external_id error_class error_message attempts customer_id reconciled updated_at" \
  "a wide report table has every column"
while IFS= read -r line; do [ "${#line}" -le 60 ] || fail "table line wider than 60: $line"; done <"$work/report.txt"
grep -q $'\x1b' "$work/report.txt" && fail "colour codes in output that is not a terminal"
grep -q '…' "$work/report.txt" || fail "no cell was cut to fit 60 columns"

onboard report --format csv --out "$work/report.csv" >"$work/stdout.txt"
[ -s "$work/stdout.txt" ] && fail "--out still wrote to stdout"
sqlite3 "$work/read.db" ".import --csv $work/report.csv report"
expect_eq "$(sqlite3 "$work/read.db" "SELECT name FROM report WHERE line = '3'")" "$awkward" "csv name with comma, quote, line break"
expect_eq "$(sqlite3 "$work/read.db" "SELECT name FROM report WHERE line = '5'")" "'$formula" "csv formula cell neutralised"
expect_eq "$(sqlite3 "$work/read.db" "SELECT count(*) FROM report")" 5 "csv rows"

expect_eq "$(onboard report --format json | jq -c '[length, (.[0] | keys_unsorted)]')" \
  '[5,["row_id","import_id","line","state","name","external_id","error_class","error_message","attempts","customer_id","reconciled","updated_at"]]' \
  "report json"
expect_eq "$(onboard report --format json | jq -r '.[] | select(.line == 3) | .name')" "$awkward" "json keeps the name"
expect_eq "$(onboard report --format jsonl | jq -c 'select(.state == "failed") | [.name, .error_class, .attempts >= 1, .reconciled]')" \
  '["Taken Co","duplicate",true,false]' "report jsonl"
expect_eq "$(onboard report --format jsonl | wc -l)" 5 "jsonl lines"
expect_eq "$(onboard report --status rejected --format csv | tr -d '\r' | tail -n +2 | cut -d, -f3,4,7)" \
  "7,rejected,invalid_input" "report --status"
expect_eq "$(onboard report --class duplicate --import 1 --format jsonl | jq -r .name)" "Taken Co" "report --class"
# A malformed record's name and externalId would be positional guesses ("Blue Heron, Inc.,BH-002,US"
# read as name "Blue Heron"): left empty, as in export --failed.
onboard import "$SOURCE_DIR/samples/bad/ragged.csv" --db "$work/ragged.db" >/dev/null || true
expect_eq "$(onboard report --db "$work/ragged.db" --status rejected --format jsonl | jq -c '[.line, .name, .external_id]' | tr '\n' ' ')" \
  "[3,null,null] [4,null,null] [6,null,null] " "report of malformed records"
expect_eq "$(onboard report --db "$work/ragged.db" --status pending --format jsonl | jq -r .name | head -1)" "Alder & Finch" \
  "report of a well-formed row of the same file"
expect_fails 2 'report: unknown failure class "bogus" (expected one of invalid_input, validation, duplicate, graphql, auth, rate_limited, server, network, outcome_unknown, stale_copy)' \
  onboard report --class bogus
expect_fails 2 'report: unknown format "xml" (expected table, csv, json or jsonl)' onboard report --format xml

# ---- export ----
onboard export --failed --out "$work/failed.csv"
expect_eq "$(tr -d '\r' <"$work/failed.csv" | head -1)" "name,externalId,import_id,line,error_class,error_message,attempts,record,ref" "failed header"
expect_eq "$(tr -d '\r' <"$work/failed.csv" | tail -n +2 | cut -d, -f1-4)" $'Taken Co,EXT-4,1,6\n,EXT-5,1,7' "failed rows"
onboard export --succeeded --out "$work/ok.csv"
expect_eq "$(tr -d '\r' <"$work/ok.csv" | head -1)" "customer_id,name,externalId,import_id,line" "succeeded header"
grep -q '^[^,]*,"=HYPERLINK(' "$work/ok.csv" || fail "succeeded export does not keep the input verbatim"
onboard export --succeeded --safe-for-spreadsheet --out "$work/safe.csv"
grep -q "^[^,]*,\"'=HYPERLINK(" "$work/safe.csv" || fail "--safe-for-spreadsheet does not neutralise"
expect_eq "$(comm -3 <(onboard export --succeeded --format jsonl | jq -r .customer_id | sort) \
                     <(curl -fsS "$url/_sim/customers" | jq -r '.[] | select(.name != "Taken Co") | .id' | sort) | wc -l)" \
  0 "exported customer ids are the simulator's"
expect_fails 2 "export: give --failed or --succeeded" onboard export
expect_eq "$(onboard export --failed --format jsonl | jq -c '[.name, .externalId, .line, .error_class, .attempts]')" \
  $'["Taken Co","EXT-4",6,"duplicate",1]\n["","EXT-5",7,"invalid_input",0]' "failed export as jsonl"
expect_eq "$(onboard export --succeeded --format json | jq -r '.[] | select(.line == 3) | .name')" "$awkward" \
  "succeeded export as json keeps the name"
expect_fails 2 "export: no import with id 9" onboard export --failed --import 9

# ---- query ----
expect_eq "$(onboard query --format csv "SELECT state, count(*) AS n FROM rows GROUP BY state ORDER BY state")" \
  "$(printf 'state,n\r\nfailed,1\r\nrejected,1\r\nsucceeded,3\r')" "query csv"
expect_eq "$(onboard query --format json "SELECT 1 AS i, 1.5 AS r, 'x' AS t, NULL AS z")" \
  $'[\n{"i":1,"r":1.5,"t":"x","z":null}\n]' "query json types"
expect_fails 2 "query: attempt to write a readonly database" onboard query "DELETE FROM rows"
expect_eq "$(sql "SELECT count(*) FROM rows")" 5 "rows after a refused delete"
expect_eq "$(onboard query "SELECT line, state FROM rows WHERE line > 5 ORDER BY line")" \
  $'line  state\n   6  failed\n   7  rejected' "query table"
onboard query --format jsonl --out "$work/q.jsonl" "SELECT line FROM rows" >"$work/stdout.txt"
[ -s "$work/stdout.txt" ] && fail "query --out still wrote to stdout"
expect_eq "$(wc -l <"$work/q.jsonl")" 5 "query --out"
# Every query the README shows runs as printed.
readme_queries=$(sed -n '/^## The results database/,/^## /p' "$SOURCE_DIR/README.md" | sed -n '/^```sql/,/^```/p' | grep -v '^```' | grep -v '^--')
[ "$(grep -c . <<<"$readme_queries")" -ge 5 ] || fail "the README's useful queries were not found"
while IFS= read -r q; do
  onboard query --format json "$q" >"$work/q.json" || fail "README query failed: $q"
done <<<"$readme_queries"
expect_eq "$(onboard query --format json "$(grep -F 'FROM failures GROUP BY' <<<"$readme_queries")" | jq -c 'map([.error_class, .rows]) | sort')" \
  '[["duplicate",1],["invalid_input",1]]' "README: failures by class"
expect_eq "$(onboard query --format jsonl "$(grep -F 'FROM customers WHERE import_id = 1' <<<"$readme_queries")" | jq -r .line | paste -sd' ')" \
  "2 3 5" "README: customers created by import 1"

# ---- retry ----
expect_fails 2 'retry: unknown failure class "dup" (expected one of invalid_input, validation, duplicate, graphql, auth, rate_limited, server, network, outcome_unknown, stale_copy)' \
  onboard retry --class dup
expect_eq "$(onboard retry --class server)" "no failed rows to requeue" "retry of another class"
expect_eq "$(onboard retry --import 1 --line 7)" \
  $'no failed rows to requeue\n1 rejected row cannot be retried: fix it (`onboard export --failed`) and import the file again' \
  "retry of a rejected line"
expect_eq "$(onboard retry --import 1 --line 6 --line 7)" \
  $'requeued 1 failed row; `onboard run` sends it\n1 rejected row cannot be retried: fix it (`onboard export --failed`) and import the file again' \
  "retry"
expect_eq "$(sql "SELECT state FROM rows WHERE line = 6")" pending "retried row"
expect_eq "$(sql "SELECT count(*) FROM rows WHERE state = 'succeeded'")" 3 "succeeded rows untouched by retry"
expect_fails 2 "retry: no import with id 9" onboard retry --import 9

# ---- run --retry-failed: requeue and send in one step ----
run_job --workers 2
expect_eq "$(sql "SELECT state FROM rows WHERE line = 6")" failed "the retried duplicate fails again"
before=$(sql "SELECT count(*) FROM attempts a JOIN rows r ON r.id = a.row_id WHERE r.line = 6")
run_job --workers 2 --retry-failed
grep -q '^requeued 1 failed row' "$work/run.out" || { cat "$work/run.out"; fail "run --retry-failed does not say what it requeued"; }
after=$(sql "SELECT count(*) FROM attempts a JOIN rows r ON r.id = a.row_id WHERE r.line = 6")
[ "$after" -gt "$before" ] || fail "run --retry-failed did not send the failed row ($after <= $before)"
expect_eq "$(sql "SELECT group_concat(state, ' ') FROM (SELECT state FROM rows ORDER BY line)")" \
  "succeeded succeeded succeeded failed rejected" "states after run --retry-failed"
expect_eq "$(sim_customers)" 4 "no customer created twice by the reruns (3 ours, 1 someone else's)"
pass "report commands: status, report, export, query, retry in every format"
