#!/usr/bin/env bash
# Mistakes a user makes on the command line get a clear error and exit 2, and destroy nothing.
source "$(dirname "$0")/lib.sh"
# expect_usage_error MESSAGE COMMAND...: exit 2 and MESSAGE on stderr.
expect_usage_error() {
  local message=$1; shift
  set +e; "$@" >"$work/out" 2>"$work/err"; local status=$?; set -e
  [ "$status" -eq 2 ] || { cat "$work/err"; fail "$*: exit $status, expected 2"; }
  grep -qF -- "$message" "$work/err" || { cat "$work/err"; fail "$*: expected \"$message\""; }
}
onboard import "$SOURCE_DIR/samples/bad/ragged.csv" >/dev/null || true
before=$(sql "SELECT count(*) FROM rows")
expect_usage_error "is the results database; writing there would destroy every recorded result" \
  onboard export --failed --out "$ONBOARD_DB"
expect_usage_error "(its wal file)" onboard query "SELECT 1" --out "$ONBOARD_DB-wal"
expect_usage_error "run --log-file: \"$ONBOARD_DB\" is the results database" \
  onboard run --api-url http://127.0.0.1:9 --log-file "$ONBOARD_DB"
expect_eq "$(sql "SELECT count(*) FROM rows")" "$before" "rows after the refused commands"
expect_usage_error "$work/typo.db: no such database (run \`onboard import\` first)" \
  onboard run --db "$work/typo.db" --api-url http://127.0.0.1:9
[ ! -e "$work/typo.db" ] || fail "run created the mistyped database"
expect_usage_error "$work/typo.db: no such database" onboard retry --db "$work/typo.db"
expect_usage_error "$work: is a directory, not a database file" onboard status --db "$work"
expect_usage_error "cannot create the database: no directory \"$work/nowhere\"" \
  onboard import "$SOURCE_DIR/samples/bad/ragged.csv" --db "$work/nowhere/x.db"
expect_usage_error "give an https:// URL" onboard run --api-url 127.0.0.1:9
expect_usage_error "give an https:// URL" onboard run --api-url file:///etc/passwd
expect_usage_error "plain http would send the refresh token in clear text" onboard run --api-url http://example.com
# The host checked is the one libcurl connects to: what comes before an "@" is a user name, not the host.
# (--rate -1 is checked after the URL: a binary that let such a URL through still sends nothing.)
for disguised in "http://localhost:1@192.0.2.1" "http://127.0.0.1:80@192.0.2.1/" "https://user:secret@192.0.2.1"; do
  expect_usage_error "a user name or password in the URL is not used" onboard run --api-url "$disguised" --rate -1
done
expect_usage_error "plain http would send the refresh token in clear text" \
  onboard run --api-url "http://127.0.0.1.example.com" --rate -1
# A token typed on the command line is refused without being printed back.
expect_usage_error "set PRISMATIC_REFRESH_TOKEN or pass --refresh-token-file" \
  onboard run --api-url http://127.0.0.1:9 --refresh-token typed-secret-4711
! grep -qF "typed-secret-4711" "$work/err" "$work/out" || fail "the token typed as an argument was printed"
# The same for any command and any spelling (CLI11 printed these back as unexpected arguments).
for typed in "--refresh-token typed-secret-4711 run" "import $work/c.csv --refresh-token typed-secret-4711" \
  "status --refresh-token typed-secret-4711" "retry --refresh-token=typed-secret-4711" \
  "run --api-url http://127.0.0.1:9 --refresh_token typed-secret-4711" "run --token typed-secret-4711"; do
  # shellcheck disable=SC2086 # the words of each case are separate arguments
  expect_usage_error "(the value given is not printed)" onboard $typed
  ! grep -qF "typed-secret-4711" "$work/err" "$work/out" || fail "onboard $typed: the token was printed: $(cat "$work/err")"
done
expect_usage_error "--rate must be a number" onboard run --api-url http://127.0.0.1:9 --rate nan
expect_usage_error "--timeout must be positive" onboard run --api-url http://127.0.0.1:9 --timeout inf
expect_usage_error "--log-level: bogus not in" onboard status --log-level bogus
expect_usage_error "run: no import with id 9" onboard run --api-url http://127.0.0.1:9 --import 9
expect_usage_error 'unknown command "stauts"; the commands are import, run, check, status' onboard stauts --json
# 0 and negative ids are ids too, of no import: they once ran every import.
expect_usage_error "run: no import with id 0" onboard run --api-url http://127.0.0.1:9 --import 0
expect_usage_error "run: no import with id -5" onboard run --api-url http://127.0.0.1:9 --import -5
expect_usage_error "$work/no-token: cannot read the refresh token file (No such file or directory)" \
  onboard run --api-url http://127.0.0.1:9 --refresh-token-file "$work/no-token"
# A token file others can read is used, with a warning; here the negative --rate stops the run first.
printf 'not-a-real-token\n' >"$work/shared-token"; chmod 644 "$work/shared-token"
expect_usage_error "--rate must be a number of requests per second: 0 (unlimited) or more" \
  onboard run --api-url http://127.0.0.1:9 --refresh-token-file "$work/shared-token" --rate -5
grep -qF "the refresh token file can be read by other users (mode 0644); chmod 600 it" "$work/err" ||
  { cat "$work/err"; fail "no warning about the token file's mode"; }
! grep -qF "not-a-real-token" "$work/err" || fail "the token reached stderr"
pass "usage errors"
