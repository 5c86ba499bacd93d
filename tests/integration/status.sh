#!/usr/bin/env bash
# `pgrescue status` against a real cluster: exit codes follow what an on-call
# engineer would conclude (0 ok, 1 warning, 2 critical, 3 unreachable), and
# change when archiving breaks, when it is fixed, and when the database stops.
. "$PGR_TEST_LIB/tap.sh"
. "$PGR_TEST_LIB/pgcluster.sh"
pgt_setup

store="$PGT_ROOT/store"
pgt_server_dir "$store"
pgt_cluster_start db "archive_mode = on" \
	"archive_command = '$PGT_PGRESCUE --store file://$store wal-push %p'"
pgt_make_clipper_db db 200 1000
cfg="$PGT_ROOT/config.ini"
pgt_config "$cfg" test "$db_DSN_BASE dbname=clipper_db" "file://$store"

switch_and_wait() { # force a segment switch and wait until it is archived (or failed)
	local before
	before=$(pgt_psql db postgres "SELECT archived_count + failed_count FROM pg_stat_archiver")
	pgt_psql db postgres "CREATE TABLE IF NOT EXISTS t(x int); INSERT INTO t VALUES (1); SELECT pg_switch_wal()" >/dev/null
	for _ in $(seq 1 100); do
		[ "$(pgt_psql db postgres "SELECT archived_count + failed_count FROM pg_stat_archiver")" -gt "$before" ] && return 0
		sleep 0.1
	done
	return 1
}

# Before any backup: no base backup means no PITR, which is critical.
switch_and_wait
run_cmd r "$PGRESCUE" --config "$cfg" status
is "$r_rc" 2 "with no backup at all, status is critical (exit 2)"
like "$r_out" "FAIL +backup.base +no complete base backup" "and says there is no base backup"

run_cmd r "$PGRESCUE" --config "$cfg" backup
is "$r_rc" 0 "backup succeeds" || diag "$r_err"
switch_and_wait

run_cmd r "$PGRESCUE" --config "$cfg" status
is "$r_rc" 0 "after a backup with archiving working, status is OK (exit 0)" || diag "$r_out"
like "$r_out" "overall: OK" "the text says OK"
like "$r_out" "OK +backup.dump +newest dump [0-9]+s old" "the dump's age is shown"
like "$r_out" "OK +wal.archiving +lag 0s" "archiving shows no lag"
like "$r_out" "OK +window +timeline 1, " "the recoverable window is shown"

run_cmd j "$PGRESCUE" --config "$cfg" status --json
is "$j_rc" 0 "status --json exits 0 too"
parsed=$(printf '%s' "$j_out" | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(d["overall"], d["database"]["reachable"], d["archiver"]["failed_count"], d["window"]["exists"],
      d["newest_base"]["timeline"], d["newest_dump"]["key"].startswith("database/postgres-backup-"))')
is "$parsed" "OK True 0 True 1 True" "the JSON document carries overall, database, archiver, window and backups"
is "$(printf '%s' "$j_out" | python3 -c '
import json, sys
d = json.load(sys.stdin)
print([(w["timeline"], w["exists"], w["earliest_base"] == d["window"]["earliest_base"]) for w in d["windows"]])')" \
	"[(1, True, True)]" "the window per timeline lists timeline 1 from the same base backup"

# Break archiving the way it breaks in production: the command fails.
pgt_psql db postgres "ALTER SYSTEM SET archive_command = '/bin/false'" && pgt_psql db postgres "SELECT pg_reload_conf()" >/dev/null
# The archiver may take the new setting only after archiving what is already
# waiting: keep switching segments until a failure is recorded.
for _ in $(seq 1 60); do
	switch_and_wait
	[ "$(pgt_psql db postgres "SELECT failed_count FROM pg_stat_archiver")" -gt 0 ] && break
	sleep 0.5
done
run_cmd r "$PGRESCUE" --config "$cfg" status
is "$r_rc" 2 "a failing archive_command makes status critical (exit 2)"
like "$r_out" "FAIL +wal.archiving +archiving is failing: segment [0-9A-F]{24}" "and names the failing segment"
like "$r_out" "WALArchivingFailed" "the rule that fired is shown"

# Fix it: archiving resumes and status returns to OK.
pgt_psql db postgres "ALTER SYSTEM RESET archive_command" && pgt_psql db postgres "SELECT pg_reload_conf()" >/dev/null
sleep 0.5
ok_again=1
for _ in $(seq 1 60); do
	pgt_psql db postgres "SELECT pg_switch_wal()" >/dev/null
	sleep 0.5
	"$PGRESCUE" --config "$cfg" status >/dev/null 2>&1 && { ok_again=0; break; }
done
ok $ok_again "after archive_command is fixed, status returns to OK"

pgt_cluster_stop db
run_cmd r "$PGRESCUE" --config "$cfg" status
is "$r_rc" 3 "with the database stopped, status is unknown (exit 3)"
like "$r_out" "UNKNOWN +database +unreachable" "and says the database is unreachable"
like "$r_out" "OK +backup.dump" "while the store's facts are still shown"
run_cmd j "$PGRESCUE" --config "$cfg" status --json
is "$(printf '%s' "$j_out" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["overall"], d["database"]["reachable"])')" \
	"UNKNOWN False" "JSON says so too"

# Plain `pgrescue` without a terminal (a script, a CronJob) prints the status.
run_cmd r "$PGRESCUE" --config "$cfg"
is "$r_rc" 3 "pgrescue with no command runs status"

done_testing
