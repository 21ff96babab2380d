#!/usr/bin/env bash
# The fix-and-reimport loop: a CSV with bad and duplicate rows, a run with injected faults, export of the
# failed rows, an edit as a spreadsheet user would make it, a new import and run. In the end every row
# succeeded once and the simulator holds one customer per row.
source "$(dirname "$0")/lib.sh"
start_sim --fail-rate 0.2 --seed 7

# sim_create_retrying NAME: a customer someone else created, through the faults (5xx are retried).
sim_create_retrying() {
  local token="" vars body
  for _ in $(seq 1 30); do
    token=$(curl -sS -X POST "$url/auth/refresh" -H 'Content-Type: application/json' \
              -d '{"refresh_token":"sim-refresh-token"}' | jq -r '.access_token // empty' 2>/dev/null) || true
    [ -n "$token" ] && break
  done
  [ -n "$token" ] || fail "could not get a token from the simulator"
  vars=$(jq -cn --arg n "$1" '{name:$n}')
  body=$(jq -cn --argjson v "$vars" '{query:"mutation c($name: String!) { createCustomer(input: {name: $name}) { customer { id } } }", variables:$v}')
  for _ in $(seq 1 30); do
    if curl -fsS -X POST "$url/api" -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
         -d "$body" 2>/dev/null | jq -e '.data.createCustomer.customer.id' >/dev/null 2>&1; then
      return 0
    fi
  done
  fail "could not create \"$1\" in the simulator"
}

# run_until_settled [args...]: runs until no row is pending, in flight or of unknown outcome.
run_until_settled() {
  for _ in $(seq 1 6); do
    run_job --workers 4 --batch-size 10 "$@"
    case "$status" in 0|1|3) ;; *) cat "$work/run.out" "$work/run.err" >&2; fail "run exit $status" ;; esac
    [ "$(sql "SELECT count(*) FROM rows WHERE state IN ('pending', 'in_flight', 'outcome_unknown')")" = 0 ] && return 0
  done
  fail "rows still unfinished after 6 runs"
}

sim_count_named() { curl -fsS "$url/_sim/customers" | jq --arg n "$1" '[.[] | select(.name == $n)] | length'; }

awkward=$'Bad "Quote", Ltd\nNext line'
sim_create_retrying "Taken Name"
{
  echo "name,externalId,email"
  for i in $(seq 1 20); do echo "Customer $i,EXT-$i,c$i@example.org"; done  # lines 2-21
  printf '"Quote ""Good"", Inc\nLine two",EXT-50,good@example.org\n'       # lines 22-23
  echo "Taken Name,EXT-70,taken@example.org"       # 24: the simulator already holds this name
  echo ",EXT-90,blank@example.org"                 # 25: empty name
  echo "Short Co,short@example.org"                # 26: too few fields
  echo "=Eq Co,EXT-61,eq@example.org,extra"        # 27: too many fields, a formula-like name
  printf '"Bad ""Quote"", Ltd\nNext line",EXT-62,bad@example.org,extra\n' # 28-29: too many fields
  echo "Customer 3,EXT-3,c3@example.org"           # 30: a duplicate of line 4
} >"$work/customers.csv"

onboard import "$work/customers.csv" >"$work/import1.out" || true
expect_eq "$(sql "SELECT count(*) FROM rows WHERE state = 'rejected'")" 5 "rows rejected at import"
run_until_settled
expect_eq "$(sql "SELECT state || ' ' || error_class FROM rows WHERE name = 'Taken Name'")" "failed duplicate" \
  "the row whose name the simulator holds"
expect_eq "$(sql "SELECT count(*) FROM rows WHERE state = 'succeeded'")" 21 "succeeded after the first run"
taken_attempts=$(sql "SELECT count(*) FROM attempts a JOIN rows r ON r.id = a.row_id WHERE r.name = 'Taken Name'")

# retry requeues the failed row only; the rejected ones need a fix.
onboard retry >"$work/retry.out"
grep -q '^requeued 1 failed row; `onboard run` sends it$' "$work/retry.out" || { cat "$work/retry.out"; fail "retry output"; }
grep -q '^5 rejected rows cannot be retried: fix them' "$work/retry.out" || { cat "$work/retry.out"; fail "retry output"; }
expect_eq "$(sql "SELECT state FROM rows WHERE name = 'Taken Name'")" pending "state after retry"
run_until_settled
expect_eq "$(sql "SELECT state FROM rows WHERE name = 'Taken Name'")" failed "a duplicate fails again"
more=$(sql "SELECT count(*) FROM attempts a JOIN rows r ON r.id = a.row_id WHERE r.name = 'Taken Name'")
[ "$more" -gt "$taken_attempts" ] || fail "the retry's attempts are not in the history ($more <= $taken_attempts)"

# Export, fix as a spreadsheet user would (sqlite3 reads and writes the CSV), import, run.
onboard export --failed --out "$work/failed.csv"
expect_eq "$(head -1 "$work/failed.csv" | tr -d '\r')" \
  "name,externalId,email,import_id,line,error_class,error_message,attempts,record,ref" "failed.csv header"
# A malformed record (wrong field count) comes back whole in `record`, its columns left empty.
grep -q ",\"'=Eq Co,EXT-61,eq@example.org,extra\"" "$work/failed.csv" || fail "the malformed record is not exported whole (neutralised: record is never imported)"
grep -q '^,,,1,26,invalid_input,"too few fields (2, header has 3)",0,"Short Co,short@example.org"' "$work/failed.csv" \
  || fail "a short record is not padded into wrong columns"
# Imported again unedited, the malformed rows are refused again: nothing half-read is created.
rm -f "$work/scratch.db"
onboard import "$work/failed.csv" --db "$work/scratch.db" >/dev/null || true
expect_eq "$(sqlite3 "$work/scratch.db" "SELECT group_concat(line || ' ' || error_message, '; ') FROM rows
  WHERE state = 'rejected' AND line BETWEEN 4 AND 6")" \
  '4 column "name" is empty; 5 column "name" is empty; 6 column "name" is empty' \
  "the unedited malformed rows are refused again"
sqlite3 "$work/sheet.db" <<SQL
.import --csv $work/failed.csv sheet
UPDATE sheet SET name = 'Short Co', externalId = 'EXT-81', email = 'short@example.org', record = '' WHERE line = '26';
UPDATE sheet SET name = '=Eq Co', externalId = 'EXT-61', email = 'eq@example.org', record = '' WHERE line = '27';
UPDATE sheet SET name = 'Bad "Quote", Ltd' || char(10) || 'Next line', externalId = 'EXT-62',
                 email = 'bad@example.org', record = '' WHERE line = '28';
UPDATE sheet SET name = 'Fixed Name ' || line WHERE name = '';
UPDATE sheet SET name = 'Taken Name (ours)' WHERE name = 'Taken Name';
DELETE FROM sheet WHERE error_class = 'invalid_input' AND error_message LIKE 'duplicate%';
.headers on
.mode csv
.output $work/fixed.csv
SELECT * FROM sheet;
SQL
expect_eq "$(sqlite3 "$work/sheet.db" "SELECT count(*) FROM sheet")" 5 "rows in the fixed file"
onboard import "$work/fixed.csv" >"$work/import2.out" || { cat "$work/import2.out"; fail "import of the fixed file"; }
run_until_settled

# Every row succeeded once; the originals are superseded, with their history kept.
expect_eq "$(sql "SELECT group_concat(line || ' ' || state || ' ' || error_class) FROM rows
                  WHERE state NOT IN ('succeeded', 'superseded')")" "30 rejected invalid_input" \
  "rows not succeeded (only the dropped duplicate)"
expect_eq "$(sql "SELECT count(*) FROM rows WHERE state = 'succeeded'")" 26 "succeeded rows"
expect_eq "$(sql "SELECT count(*) FROM rows WHERE state = 'superseded' AND import_id = 1")" 5 "superseded originals"
expect_eq "$(sql "SELECT count(*) FROM rows WHERE import_id = 2 AND supersedes IS NOT NULL")" 5 "fixed rows pointing at their originals"
kept=$(sql "SELECT count(*) FROM attempts a JOIN rows r ON r.id = a.row_id WHERE r.state = 'superseded'")
expect_eq "$kept" "$more" "attempts of the superseded originals kept"

# The simulator: one customer per succeeded row, plus the one someone else made.
expect_eq "$(sim_customers)" 27 "simulator customers"
expect_eq "$(curl -fsS "$url/_sim/customers" | jq '[.[].name] | unique | length')" 27 "distinct names"
ids=$(comm -3 <(sql "SELECT customer_id FROM rows WHERE state = 'succeeded'" | sort) \
              <(curl -fsS "$url/_sim/customers" | jq -r '.[] | select(.name != "Taken Name") | .id' | sort) | wc -l)
expect_eq "$ids" 0 "customer ids recorded vs held by the simulator"
expect_eq "$(sim_count_named "=Eq Co")" 1 "formula-like name created verbatim"
expect_eq "$(sim_count_named "$awkward")" 1 "name with a comma, a quote and a line break"
expect_eq "$(sim_count_named "Taken Name (ours)")" 1 "the renamed row"

# What is left to fix is the dropped duplicate; the succeeded export lists every customer created.
expect_eq "$(onboard export --failed --format jsonl | jq -r '.line')" 30 "left in the failed export"
expect_eq "$(onboard export --succeeded --format json | jq 'length')" 26 "customers in the succeeded export"
# Imported again unedited, the export's row replaces the one it names: one row left to fix, not two.
onboard export --failed --out "$work/again.csv"
onboard import "$work/again.csv" >/dev/null || true
expect_eq "$(onboard export --failed --format jsonl | jq -c '[.import_id, .error_class]')" '[3,"invalid_input"]' \
  "the newest copy is the one left to fix"
expect_eq "$(sql "SELECT count(*) FROM rows WHERE state = 'rejected'")" 1 "rejected rows after another round"
pass "fix and reimport: 26 rows succeeded once, 5 fixed rows replaced their originals"
