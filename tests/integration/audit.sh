#!/usr/bin/env bash
# The audit log as an auditor meets it: refused recovery commands leave
# records, `audit verify` passes on that log and fails on every kind of
# tampering naming the first bad line, `audit show` lists what happened,
# and an HMAC key file is enforced. No database is needed: the environments
# are read-only, so restore and pitr refuse (and record the refusal).
. "$PGR_TEST_LIB/tap.sh"
. "$PGR_TEST_LIB/pgcluster.sh"
pgt_setup

# Without any configuration: the default log in the state directory.
default_log="$XDG_STATE_HOME/pgrescue/audit.log"
run_cmd r "$PGRESCUE" audit verify
is "$r_rc" 1 "audit verify without a log exits 1"
like "$r_err" "no audit log at \"$default_log\"" "it names the default log"
like "$r_err" "HINT:" "with a hint"
run_cmd r "$PGRESCUE" audit frobnicate
is "$r_rc" 2 "an unknown audit subcommand exits 2"
run_cmd r "$PGRESCUE" audit show --last 0
is "$r_rc" 2 "--last 0 is a usage error"

cfg="$PGT_ROOT/config.ini"
log="$PGT_ROOT/audit/audit.log"
store="file://$PGT_ROOT/store"
pgt_config "$cfg" prod "host=$PGT_ROOT/nowhere dbname=clipper_db" "$store" readonly=true "audit_log=$log"
pgt_config "$cfg" staging "host=$PGT_ROOT/nowhere dbname=clipper_db" "$store" readonly=true "audit_log=$log"

# Six refusals: restore and pitr, both environments, no terminal.
for env in prod staging prod; do
	run_cmd r "$PGRESCUE" --config "$cfg" --env "$env" restore --incident INC-7 \
		--reason "clips dropped; password=hunter2" </dev/null
	is "$r_rc" 2 "restore on read-only $env is refused (exit 2)"
	like "$r_err" "read-only" "and says why"
	run_cmd r "$PGRESCUE" --config "$cfg" --env "$env" pitr --immediate --incident INC-7 --reason "clips dropped" \
		</dev/null
	is "$r_rc" 2 "pitr on read-only $env is refused (exit 2)"
done
[ -f "$log" ] || bail_out "no audit log was written at $log"
is "$(wc -l <"$log")" 6 "each refusal is one line in the audit log"
is "$(stat -c %a "$log")" 600 "the log is created 0600"
is "$(stat -c %a "$(dirname "$log")")" 700 "in a directory created 0700"
unlike "$(cat "$log")" "hunter2" "a password in the reason never reaches the log"
like "$(sed -n 1p "$log")" '"phase":"refused"' "the record says refused"
like "$(sed -n 1p "$log")" '"env":"prod".*"incident":"INC-7"' "with the environment and incident"
like "$(sed -n 1p "$log")" '"user":"[^"]+".*"host":"[^"]+"' "and who and where"
like "$(sed -n 1p "$log")" '"prev":"0{64}","hash":"[0-9a-f]{64}"\}$' "the first record chains from zeros, hash last"

run_cmd r "$PGRESCUE" --config "$cfg" --env prod audit verify
is "$r_rc" 0 "audit verify passes on the real log"
is "$r_out" "audit log $log: 6 records, chain intact" "and says so"

run_cmd r "$PGRESCUE" --config "$cfg" --env prod audit show
is "$r_rc" 0 "audit show exits 0"
like "$r_out" "TIME \(UTC\) +USER" "it prints a table"
like "$r_out" "INC-7.*refused" "listing the refused records"
is "$(printf '%s\n' "$r_out" | grep -c refused)" 4 "only prod's records with --env prod"
unlike "$r_out" "staging" "and none of staging's"
# Both environments write the same log: no --env is needed to read all of it.
run_cmd r "$PGRESCUE" --config "$cfg" audit show --json --last 2
is "$r_rc" 0 "audit show --json --last 2"
is "$(printf '%s\n' "$r_out" | wc -l)" 2 "prints two lines"
is "$(printf '%s\n' "$r_out" | tail -1)" "$(tail -1 "$log")" "the raw records, newest last"
run_cmd r "$PGRESCUE" --config "$cfg" audit show --run no-such-run
like "$r_out" "no audit records match" "a filter matching nothing says so"

# Tampering, each on a fresh copy of the real log.
cp "$log" "$PGT_ROOT/orig.log"
cp "$log.head" "$PGT_ROOT/orig.log.head"
reset_log() {
	cp "$PGT_ROOT/orig.log" "$log"
	cp "$PGT_ROOT/orig.log.head" "$log.head"
}
tampered() { # LINE WORDS NAME
	run_cmd r "$PGRESCUE" --config "$cfg" --env prod audit verify
	is "$r_rc" 1 "$3: audit verify exits 1"
	like "$r_err" "ERROR: audit log $log has been tampered with: line $1: .*$2" "$3: names line $1"
	like "$r_err" "HINT:" "$3: with a hint"
}

reset_log
sed -i '3s/"INC-7"/"INC-8"/' "$log"
tampered 3 "edited" "an edited line"

reset_log
sed -i '2d' "$log"
tampered 2 "missing" "a deleted line"

reset_log
sed -i '4p' "$log"
tampered 5 "a copy of line 4" "an inserted duplicate line"

reset_log
awk 'NR == 2 { held = $0; next } NR == 3 { print; print held; next } { print }' "$PGT_ROOT/orig.log" >"$log"
tampered 2 "reordered" "two swapped lines"

reset_log
sed -i '$d' "$log"
tampered 6 "cut off the end" "the last line removed"

reset_log
truncate -s -40 "$log"
tampered 6 "cut off in the middle" "the last line truncated"

reset_log
sed -i '4s/.*/not a record/' "$log"
tampered 4 "not a JSON record" "a line that is not JSON"

reset_log
run_cmd r "$PGRESCUE" --config "$cfg" audit verify
is "$r_rc" 0 "the untouched copy verifies again"

# The default log, with no configuration at all.
mkdir -p "$(dirname "$default_log")"
cp "$PGT_ROOT/orig.log" "$default_log"
cp "$PGT_ROOT/orig.log.head" "$default_log.head"
run_cmd r "$PGRESCUE" audit verify
is "$r_rc" 0 "without a configuration, audit verify checks the default log"
is "$r_out" "audit log $default_log: 6 records, chain intact" "and names it"
run_cmd r "$PGRESCUE" audit show --last 1
like "$r_out" "refused" "audit show works without a configuration too"

# An HMAC key file.
keyed="$PGT_ROOT/keyed.log"
key="$PGT_ROOT/audit.key"
other="$PGT_ROOT/other.key"
head -c 32 /dev/urandom | base64 >"$key"
head -c 32 /dev/urandom | base64 >"$other"
chmod 600 "$key" "$other"
kcfg="$PGT_ROOT/keyed.ini"
pgt_config "$kcfg" keyed "host=$PGT_ROOT/nowhere dbname=clipper_db" "$store" readonly=true "audit_log=$keyed" \
	"audit_key_file=$key"
pgt_config "$kcfg" wrongkey "host=$PGT_ROOT/nowhere dbname=clipper_db" "$store" readonly=true "audit_log=$keyed" \
	"audit_key_file=$other"
pgt_config "$kcfg" nokey "host=$PGT_ROOT/nowhere dbname=clipper_db" "$store" readonly=true "audit_log=$keyed"
for i in 1 2 3; do
	run_cmd r "$PGRESCUE" --config "$kcfg" --env keyed restore --incident INC-9 --reason test </dev/null
done
is "$(wc -l <"$keyed" 2>/dev/null)" 3 "refusals are recorded in the keyed log"
run_cmd r "$PGRESCUE" --config "$kcfg" --env keyed audit verify
is "$r_rc" 0 "the keyed log verifies with its key"
run_cmd r "$PGRESCUE" --config "$kcfg" --env wrongkey audit verify
is "$r_rc" 1 "and fails with another key"
like "$r_err" "line 1: .*different HMAC key" "saying so"
run_cmd r "$PGRESCUE" --config "$kcfg" --env nokey audit verify
is "$r_rc" 1 "and fails without a key"
like "$r_err" "line 1: .*HMAC key" "saying the log was written with one"
run_cmd r "$PGRESCUE" --config "$kcfg" audit verify
is "$r_rc" 2 "environments with different keys and no --env: exit 2"
like "$r_err" "HINT: .*--env" "asking which environment"
chmod 644 "$key"
run_cmd r "$PGRESCUE" --config "$kcfg" --env keyed audit verify
is "$r_rc" 2 "a key file readable by others is refused (exit 2)"
like "$r_err" "audit key file \"$key\" is accessible by group or others" "naming the key file"
like "$r_err" "HINT: chmod 600 $key" "with the fix"

done_testing
