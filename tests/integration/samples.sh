#!/usr/bin/env bash
# The bad-input samples the README points to: each import names the file, line and reason of every
# bad row and keeps the good ones.
source "$(dirname "$0")/lib.sh"
samples="$SOURCE_DIR/samples/bad"
# rejections FILE: "line: reason" of each rejected row, in line order.
rejections() { sql "SELECT line || ': ' || error_message FROM rows WHERE state = 'rejected' ORDER BY line"; }
accepted() { sql "SELECT group_concat(name, ' | ') FROM (SELECT name FROM rows WHERE state = 'pending' ORDER BY line)"; }
import_sample() {
  rm -f "$ONBOARD_DB"*
  set +e; onboard import "$samples/$1" >"$work/$1.out" 2>&1; status=$?; set -e
}

import_sample ragged.csv
expect_eq "$status" 1 "ragged.csv: exit code with rejected rows"
grep -q "samples/bad/ragged.csv:4: too few fields (2, header has 3)" "$work/ragged.csv.out" || fail "ragged.csv summary"
expect_eq "$(rejections)" "3: too many fields (4, header has 3)
4: too few fields (2, header has 3)
6: too many fields (4, header has 3)" "ragged.csv rejections"
expect_eq "$(accepted)" "Alder & Finch | Dunlin, Ltd" "ragged.csv accepted"

import_sample duplicates.csv
expect_eq "$(rejections)" "4: duplicate name 'Falcon Freight' (first at line 2)
5: duplicate externalId GG-200 (first at line 3)
6: duplicate name 'Gannet Group' (first at line 3)" "duplicates.csv rejections (values are trimmed)"

import_sample broken-quotes.csv
expect_eq "$(rejections)" "4: text after the closing quote of field 1
6: stray quote in unquoted field 1 (quote the field and double its quotes)" "broken-quotes.csv rejections"
expect_eq "$(accepted)" 'Ibis Imports | Jacana "Jay" Travel | Lapwing Legal | Nightjar Networks' \
  "broken-quotes.csv: an unterminated quote costs its record, not the file"

import_sample missing-name.csv
expect_eq "$(rejections)" '2: column "name" is empty
3: column "name" is empty' "missing-name.csv rejections (all-empty records are skipped)"

import_sample latin1.csv
expect_eq "$(rejections)" '2: column "name" is not valid UTF-8 (save the file as UTF-8)' "latin1.csv rejections"

import_sample semicolons.csv
expect_eq "$status" 0 "semicolons.csv imports cleanly"
expect_eq "$(accepted)" "Pelikan; Gesellschaft mbH | Quetzal S.A." "semicolons.csv: BOM, CRLF and ; detected"
pass "bad-input samples"
