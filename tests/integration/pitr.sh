#!/usr/bin/env bash
# Point-in-time recovery against the sandbox, as an engineer after an
# accidental DROP TABLE: bad targets are refused before anything changes;
# a recovery to a time just before the DROP brings the table back with its
# exact row count and without the writes made after the target; the old
# data directory is kept; archiving resumes on the new timeline; the app is
# back at its recorded replicas; the audit log is intact. A target the
# archive cannot reach fails with an explanation, not a hang.
. "$PGR_TEST_LIB/tap.sh"
. "$PGR_TEST_LIB/pgcluster.sh"
pgt_setup
. "$PGR_TEST_LIB/sandbox.sh"
sb_trap_cleanup

run_cmd up "$PGRESCUE" sandbox up
[ "$up_rc" = 0 ] || bail_out "the sandbox could not be built: $up_err"
RUNS="$XDG_STATE_HOME/pgrescue/runs"

asides() { ls -d "$SB"/data.pitr-* 2>/dev/null | wc -l; }
n_runs() { ls "$RUNS" 2>/dev/null | wc -l; }
archived() { [ -f "$SB/store/wal-archive/$1" ]; }

# ---------------------------------------------------------------- the incident
sb_sql "CREATE TABLE important AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 1234) g"
sb_sql "CREATE TABLE events (id serial PRIMARY KEY, what text)"
sb_sql "INSERT INTO events (what) SELECT 'before' FROM generate_series(1, 10)"
sleep 1.2
T=$(date -u +'%Y-%m-%d %H:%M:%S.%3N')Z
sleep 1.2
sb_sql "INSERT INTO events (what) VALUES ('after the target')"
sb_sql "DROP TABLE important"
seg=$(sb_sql "SELECT pg_walfile_name(pg_switch_wal())")
wait_for 60 archived "$seg" || bail_out "WAL segment $seg was not archived"
before_replicas=$(sb_replicas)
is "$before_replicas" 3 "the app runs 3 replicas before the recovery"

# ---------------------------------------------------------------- refused input
refused_unchanged() { # NAME: nothing was created, moved or stopped
	ok "$([ "$(asides)" = 0 ] && [ "$(n_runs)" = 0 ] && [ -f "$SB/data/postmaster.pid" ] && echo 0 || echo 1)" \
		"$1: nothing was changed (no run, data directory in place, server running)"
}

run_cmd nz "$PGRESCUE" --env sandbox pitr --time "${T%Z}" --yes
is "$nz_rc" 2 "a time without a zone is a usage error"
like "$nz_err" "zone" "the error says the zone is missing"
like "$nz_err" "HINT: .*${T:0:10}" "the hint repeats the time with a zone"
refused_unchanged "time without a zone"

run_cmd old "$PGRESCUE" --env sandbox pitr --time "2020-01-01 00:00:00Z" --yes
is "$old_rc" 2 "a time before the window is refused as bad input"
like "$old_err" "before|window" "the error says the target is outside the window"
like "$old_err" "HINT:" "with a hint"
refused_unchanged "time before the window"

run_cmd fut "$PGRESCUE" --env sandbox pitr --time "2099-01-01 00:00:00+01:00" --yes
ok "$([ "$fut_rc" != 0 ] && echo 0 || echo 1)" "a time after the archived WAL is refused"
like "$fut_err" "after|ends|window" "the error says the archive ends before it"
refused_unchanged "time after the window"

run_cmd bb "$PGRESCUE" --env sandbox pitr --time "$T" --backup 19990101-000000 --yes
is "$bb_rc" 1 "an unknown base backup is refused"
like "$bb_err" 'no base backup "19990101-000000"' "the error names the base backup"
refused_unchanged "unknown base backup"

# restore_command runs as postgres: a pgrescue only root can reach is refused up front.
mkdir -m 700 "$PGT_ROOT/private"
cp "$PGRESCUE" "$PGT_ROOT/private/pgrescue"
run_cmd px "$PGRESCUE" --env sandbox pitr --time "$T" --exe "$PGT_ROOT/private/pgrescue" --yes
is "$px_rc" 1 "a restore_command program postgres cannot run is refused"
like "$px_err" "user postgres cannot run $PGT_ROOT/private/pgrescue" "the error names the user and the program"
like "$px_err" "HINT: .*--exe PATH" "the hint says how to name another"
refused_unchanged "program the server cannot run"

run_cmd two "$PGRESCUE" --env sandbox pitr --time "$T" --immediate --yes
is "$two_rc" 2 "two targets are a usage error"

run_cmd nt "$PGRESCUE" --env sandbox pitr --time "$T" </dev/null
is "$nt_rc" 2 "without a terminal and without --yes, pitr refuses"
like "$nt_err" "no terminal" "it says there is no terminal to ask on"
like "$nt_err" "--yes together with --env sandbox" "and how to run it unattended"
refused_unchanged "no terminal"

run_cmd ye "$PGRESCUE" pitr --time "$T" --yes </dev/null
is "$ye_rc" 2 "--yes without --env is refused"
like "$ye_err" "--yes needs --env" "it asks for the environment by name"

# The directory the data directory would be moved to is occupied.
# Pinned (RFC 3339, as pgr_now reads it): a loaded machine may reach the
# plan in a later second, whose name would then be free.
now=$(date -u +%s)
export PGRESCUE_NOW=$(date -u -d "@$now" +%Y-%m-%dT%H:%M:%SZ)
label=$(date -u -d "@$now" +%Y%m%d-%H%M%S)
mkdir "$SB/data.pitr-$label"
run_cmd occ "$PGRESCUE" --env sandbox pitr --time "$T" --yes
is "$occ_rc" 1 "an occupied directory for the old data is refused"
like "$occ_err" "data.pitr-$label.* already exists" "the error names the occupied directory"
rmdir "$SB/data.pitr-$label"
unset PGRESCUE_NOW
refused_unchanged "occupied directory"

run_cmd dry "$PGRESCUE" --env sandbox pitr --time "$T" --dry-run
is "$dry_rc" 0 "--dry-run exits 0"
like "$dry_out" "recovery_target_time = '${T:0:19}" "the plan shows recovery_target_time in UTC"
like "$dry_out" "recovery.signal" "the plan creates recovery.signal"
unlike "$dry_out" "recovery\.conf" "the plan never writes recovery.conf"
like "$dry_out" "archive_mode = 'off'" "archiving is off while recovering"
like "$dry_out" "restore_command = .*wal-fetch %f %p" "restore_command goes through pgrescue wal-fetch"
like "$dry_out" "mv $SB/data $SB/data.pitr-" "the data directory is moved aside, not deleted"
like "$dry_out" "UTC .*${T:11:8}" "the target is echoed in UTC"
like "$dry_out" "database .*UTC|database .*Etc" "and in the database's zone"
refused_unchanged "--dry-run"
grep -q '"phase":"refused"' "$XDG_STATE_HOME/pgrescue/audit.log"
ok $? "refusals are in the audit log"

# ---------------------------------------------------------------- a damaged base backup
# One byte of base.tar changed in the store, the size the same: preflight
# finds it against the manifest's SHA-256 before the app is scaled down or
# the server stopped.
BT=$(ls -d "$SB"/store/base/*/base.tar | tail -1)
cp -p "$BT" "$PGT_ROOT/base.tar.good"
byte=$(od -An -tu1 -j 5000 -N 1 "$BT" | tr -d ' ')
printf "\\$(printf '%03o' $(((byte + 1) % 256)))" | dd of="$BT" bs=1 seek=5000 conv=notrunc status=none
run_cmd dmg "$PGRESCUE" --env sandbox pitr --time "$T" --yes --incident INC-8 --reason "damaged base"
is "$dmg_rc" 1 "pitr from a damaged base.tar fails" || diag "$dmg_out" "$dmg_err"
like "$dmg_out$dmg_err" "base backup base/[0-9-]+/base.tar is damaged: [0-9]+ bytes with SHA-256 [0-9a-f]{64}, but its manifest base/[0-9-]+/pgrescue.json recorded [0-9]+ bytes with SHA-256 $(sha256sum "$PGT_ROOT/base.tar.good" | cut -d' ' -f1)" \
	"the error names base.tar, its manifest and both SHA-256s"
like "$dmg_out$dmg_err" "HINT: Nothing was changed" "the hint says nothing was changed"
ok "$([ "$(asides)" = 0 ] && [ -f "$SB/data/postmaster.pid" ] && [ "$(sb_replicas)" = 3 ] && echo 0 || echo 1)" \
	"and nothing was: data directory in place, server running, the app at 3 replicas"
cp -p "$PGT_ROOT/base.tar.good" "$BT"

# ---------------------------------------------------------------- the recovery
run_cmd pitr "$PGRESCUE" --env sandbox pitr --time "$T" --yes --incident INC-9 --reason "important was dropped"
is "$pitr_rc" 0 "pitr to just before the DROP finishes" || diag "$pitr_out" "$pitr_err"
like "$pitr_out" "Run .* finished" "it says the run finished"
like "$pitr_out" "public.important +- +\(missing\) +1234" "the verification shows important back with 1234 rows"

is "$(sb_sql "SELECT count(*) FROM important")" 1234 "the dropped table is back with its exact row count"
is "$(sb_sql "SELECT md5(string_agg(v, ',' ORDER BY id)) FROM important")" \
	"$(sb_sql "SELECT md5(string_agg(md5(g::text), ',' ORDER BY g)) FROM generate_series(1, 1234) g")" \
	"and its rows are identical"
is "$(sb_sql "SELECT count(*) FROM events WHERE what = 'after the target'")" 0 "no write made after the target survives"
is "$(sb_sql "SELECT count(*) FROM events WHERE what = 'before'")" 10 "writes before the target are there"
is "$(sb_sql "SELECT pg_is_in_recovery()")" f "the server is promoted"
is "$(asides)" 1 "the old data directory is kept"
ok "$([ -f "$(ls -d "$SB"/data.pitr-*)/PG_VERSION" ] && echo 0 || echo 1)" "and it is a whole data directory"
ok "$([ -e "$SB/data/recovery.conf" ] && echo 1 || echo 0)" "there is no recovery.conf"
unlike "$(cat "$SB/data/postgresql.auto.conf")" "pgrescue recovery" "the recovery settings are gone from postgresql.auto.conf"
is "$(sb_sql "SHOW archive_mode")" on "archive_mode is back on"
ok "$(archived 00000002.history && echo 0 || echo 1)" "the new timeline's history file is archived"
seg2=$(sb_sql "SELECT pg_walfile_name(pg_switch_wal())")
like "$seg2" "^00000002" "the server writes timeline 2"
wait_for 60 archived "$seg2"
ok $? "WAL of the new timeline is archived again"
wait_for 20 test "$(sb_replicas)" = 3
is "$(sb_replicas)" 3 "the app is back at its recorded 3 replicas"

run_cmd av "$PGRESCUE" --env sandbox audit verify
is "$av_rc" 0 "audit verify passes on the real log" || diag "$av_out" "$av_err"
run_cmd as "$PGRESCUE" --env sandbox audit show
like "$as_out" "INC-9" "audit show lists the incident"
like "$as_out" "move-aside" "and the steps"
run_cmd rl "$PGRESCUE" --env sandbox runs
like "$rl_out" "pitr +sandbox +done" "runs lists the finished recovery"

# A backup is an action too: audited before and after.
run_cmd bk "$PGRESCUE" --env sandbox backup -q
is "$bk_rc" 0 "a backup on the new timeline succeeds" || diag "$bk_err"
run_cmd as2 "$PGRESCUE" --env sandbox audit show --json
like "$as2_out" '"plan":"backup","step":null,"phase":"intent"' "the backup's intent is in the audit log"
like "$as2_out" '"plan":"backup".*"phase":"outcome".*"outcome":"ok"' "and its outcome"
run_cmd av2 "$PGRESCUE" --env sandbox audit verify
is "$av2_rc" 0 "the audit chain is still intact"

# ---------------------------------------------------------------- unreachable target
# An xid cannot be checked against the window; the archive ends before it.
run_cmd far "$PGRESCUE" --env sandbox pitr --xid 4000000000 --yes --incident INC-10
is "$far_rc" 1 "recovery to an xid past the archive fails"
like "$far_err" "recovery ended before the target was reached" "it says recovery ended before the target"
like "$far_err" "HINT: .*untouched at $SB/data.pitr-" "and that the data directory it replaced is kept"
is "$(asides)" 2 "both earlier data directories are kept"

done_testing
