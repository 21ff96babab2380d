#!/usr/bin/env bash
# Customers someone else created with the same names (rows without externalId): a lost answer must
# not make one of them "ours". The lookup by name then finds a customer created before this row was
# ever sent, so the row fails as a duplicate and no customer is claimed or created twice.
source "$(dirname "$0")/lib.sh"
jq -n '[range(1; 41) | {id: ("UHJlOi" + (. | tostring)), name: ("Pre \(.)"), externalId: null,
                        createdAt: "2026-01-01T00:00:00.000000+00:00"}]' >"$work/state.json"
start_sim --state "$work/state.json" --drop-rate 0.5 --seed 21
{ echo "name,externalId"; for i in $(seq 1 40); do echo "Pre $i,"; done; for i in $(seq 1 20); do echo "New $i,"; done; } >"$work/c.csv"
onboard import "$work/c.csv" >/dev/null
run_job --workers 4 --batch-size 60 --timeout 2 --max-attempts 10
expect_eq "$status" 1 "exit code with the other customers' rows failed"
expect_eq "$(sql "SELECT count(*) FROM rows WHERE name LIKE 'Pre %' AND state = 'succeeded'")" 0 \
  "rows claiming a customer someone else created"
expect_eq "$(sql "SELECT count(*) FROM rows WHERE name LIKE 'Pre %' AND state = 'failed' AND error_class = 'duplicate'")" 40 \
  "rows failed as duplicates"
expect_eq "$(sql "SELECT count(*) FROM rows WHERE name LIKE 'New %' AND state = 'succeeded'")" 20 "new rows"
[ "$(sql "SELECT count(*) FROM rows WHERE name LIKE 'New %' AND reconciled = 1")" -gt 0 ] \
  || fail "no new row was reconciled: were answers dropped at all?"
expect_one_customer_per_row 40
pass "others' customers: 40 refused as duplicates, 20 new ones created once"
