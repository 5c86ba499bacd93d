#!/bin/bash
# `pgrescue backup` against a real PostgreSQL 15 archiving into a file:// store:
# what lands in the store, that the manifests' row counts and checksums are
# true, that the dump restores to identical data and the base backup verifies,
# the metrics of a good and of a failed run, and the Pushgateway.
. "$PGR_TEST_LIB/tap.sh"
. "$PGR_TEST_LIB/pgcluster.sh"
pgt_setup

STORE=$PGT_ROOT/store
pgt_server_dir "$STORE"
pgt_cluster_start pg "archive_mode = on" \
	"archive_command = '$PGT_PGRESCUE --store file://$STORE wal-push %p'" || bail_out "cluster"
pgt_make_clipper_db pg 1000 5000
# A third table with awkward names, and an empty one.
pgt_psql pg clipper_db "
  CREATE SCHEMA \"Audit Log\";
  CREATE TABLE \"Audit Log\".\"Events\" (id int PRIMARY KEY, note text, at timestamptz DEFAULT now());
  INSERT INTO \"Audit Log\".\"Events\" SELECT g, 'event ' || g || E'\\ttab' FROM generate_series(1, 321) g;
  CREATE TABLE empty_one (x int);" >/dev/null || bail_out "cannot create the extra tables"

CFG=$PGT_ROOT/config.ini
METRICS=$PGT_ROOT/metrics/backup.prom
DSN="$pg_DSN_BASE dbname=clipper_db"
pgt_config "$CFG" test "$DSN" "file://$STORE" "metrics_file=$METRICS"

real_count() { pgt_psql pg clipper_db "SELECT count(*) FROM $1"; }
USERS=$(real_count users)
CLIPS=$(real_count clips)
EVENTS=$(real_count '"Audit Log"."Events"')
is "$USERS/$CLIPS/$EVENTS" "1000/5000/321" "test data in place"

# ------------------------------------------------------------------ a good run
# The dump and the base backup run side by side, each on its own connection
# (the SIGTERM case below shows them both running).
run_cmd b "$PGRESCUE" --config "$CFG" backup
is "$b_rc" 0 "backup exits 0" || diag "$b_err"
like "$b_err" "dump: done" "progress line for the dump"
like "$b_err" "base: done" "progress line for the base backup"

dumps=("$STORE"/database/postgres-backup-*.sql.gz)
is "${#dumps[@]}" 1 "one dump under database/"
DUMP=${dumps[0]}
DUMP_NAME=$(basename "$DUMP")
LABEL=${DUMP_NAME#postgres-backup-}
LABEL=${LABEL%.sql.gz}
like "$LABEL" '^[0-9]{8}-[0-9]{6}$' "dump named by a UTC label"
is "$(head -c 5 "$DUMP")" "PGDMP" "the dump is a custom-format archive (PGDMP)"
BASE=$STORE/base/$LABEL
for f in base.tar backup_manifest pgrescue.json; do
	ok "$([ -s "$BASE/$f" ]; echo $?)" "base/$LABEL/$f exists"
done
DMAN=$STORE/pgrescue/dumps/$DUMP_NAME.json
ok "$([ -s "$DMAN" ]; echo $?)" "dump manifest pgrescue/dumps/$DUMP_NAME.json exists"

rows() { jq -r --arg s "$2" --arg t "$3" '.tables[] | select(.schema == $s and .table == $t) | .rows' "$1"; }
for man in "$DMAN" "$BASE/pgrescue.json"; do
	what=$(basename "$man")
	is "$(rows "$man" public users)" "$USERS" "$what: users row count is exact"
	is "$(rows "$man" public clips)" "$CLIPS" "$what: clips row count is exact"
	is "$(rows "$man" "Audit Log" Events)" "$EVENTS" "$what: \"Audit Log\".\"Events\" row count is exact"
	is "$(rows "$man" public empty_one)" "0" "$what: empty table counted as 0"
	is "$(jq -r '.status' "$man")" "complete" "$what: status complete"
	is "$(jq -r '.label' "$man")" "$LABEL" "$what: label"
	is "$(jq -r '.database' "$man")" "clipper_db" "$what: database"
	bad=0
	while read -r name size sha; do
		[ -f "$STORE/$name" ] || { diag "missing $name"; bad=1; continue; }
		got=$(sha256sum "$STORE/$name" | cut -d' ' -f1)
		[ "$got" = "$sha" ] || { diag "$name: sha256 $got, manifest says $sha"; bad=1; }
		[ "$(stat -c %s "$STORE/$name")" = "$size" ] || { diag "$name: size differs"; bad=1; }
	done < <(jq -r '.files[] | "\(.name) \(.size) \(.sha256)"' "$man")
	is "$bad" 0 "$what: every file's sha256 and size match the stored file"
done
is "$(jq -r '.files[0].name' "$DMAN")" "database/$DUMP_NAME" "dump manifest names the dump"
is "$(jq -r '[.files[].name] | sort | join(",")' "$BASE/pgrescue.json")" \
	"base/$LABEL/backup_manifest,base/$LABEL/base.tar" "base manifest lists base.tar and backup_manifest"
STOP_WAL=$(jq -r '.stop_wal' "$BASE/pgrescue.json")
ok "$([ -f "$STORE/wal-archive/$STOP_WAL" ]; echo $?)" "the base backup's last WAL segment $STOP_WAL is archived"
is "$(jq -r '.timeline' "$BASE/pgrescue.json")" 1 "timeline recorded"
is "$(jq -r '.wal_segment_size' "$BASE/pgrescue.json")" 1048576 "segment size recorded"
like "$(jq -r '.rows_lsn' "$BASE/pgrescue.json")" '^[0-9A-F]+/[0-9A-F]+$' "base manifest says at which LSN rows were counted"
is "$(jq -r '.rows_lsn' "$BASE/pgrescue.json")" "$(jq -r '.rows_lsn' "$DMAN")" "base rows come from the dump's snapshot"
BM_START=$(jq -r '."WAL-Ranges"[0]."Start-LSN"' "$BASE/backup_manifest")
is "$(jq -r '.start_lsn' "$BASE/pgrescue.json")" "$BM_START" "start LSN taken from pg_basebackup's manifest"

# The dump restores, and every table's rows are identical.
run_cmd l "$PG_BINDIR/pg_restore" --list "$DUMP"
is "$l_rc" 0 "pg_restore --list reads the dump" || diag "$l_err"
pgt_psql pg postgres "CREATE DATABASE restored" >/dev/null
run_cmd r "$PG_BINDIR/pg_restore" -h "$pg_SOCK" -p "$pg_PORT" -U postgres -d restored --no-owner --no-acl "$DUMP"
is "$r_rc" 0 "the dump restores into a new database" || diag "$r_err"
checksum() { pgt_psql pg "$1" "SELECT count(*) || ':' || md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM $2 t"; }
for t in users clips '"Audit Log"."Events"' empty_one; do
	is "$(checksum restored "$t")" "$(checksum clipper_db "$t")" "restored $t is identical to the source"
done

# The base backup verifies against its own manifest.
EX=$PGT_ROOT/extracted
mkdir -p "$EX"
tar -xf "$BASE/base.tar" -C "$EX" || fail "extract base.tar"
run_cmd v "$PG_BINDIR/pg_verifybackup" -n -m "$BASE/backup_manifest" "$EX"
is "$v_rc" 0 "pg_verifybackup -n accepts the extracted base.tar" || diag "$v_out" "$v_err"

# Metrics of the good run.
M=$(cat "$METRICS" 2>/dev/null)
like "$M" '^postgres_backup_success 1$' "metrics: postgres_backup_success 1"
is "$(awk '$1 == "postgres_backup_size_bytes" {print $2}' <<<"$M")" "$(stat -c %s "$DUMP")" \
	"metrics: postgres_backup_size_bytes is the dump's size"
like "$M" '^# TYPE postgres_backup_timestamp gauge$' "metrics: typed as gauges"
TS_OK=$(awk '$1 == "postgres_backup_timestamp" {print $2}' <<<"$M")
like "$TS_OK" '^[0-9]{10}$' "metrics: postgres_backup_timestamp is unix seconds"
is "$(tail -c 1 "$METRICS" | od -An -c | tr -d ' ')" '\n' "metrics file's last byte is a newline"

# ------------------------------------------------------------------ --no-dump: rows counted in a fresh snapshot
sleep 1
pgt_psql pg clipper_db "INSERT INTO users (username, email) VALUES ('late', 'late@example.com')" >/dev/null
run_cmd n "$PGRESCUE" --config "$CFG" backup --no-dump
is "$n_rc" 0 "backup --no-dump exits 0" || diag "$n_err"
NEWEST=$(ls -1 "$STORE/base" | sort | tail -1)
isnt_label=$([ "$NEWEST" != "$LABEL" ]; echo $?)
ok "$isnt_label" "a second base backup was taken"
is "$(rows "$STORE/base/$NEWEST/pgrescue.json" public users)" "$((USERS + 1))" "--no-dump counts rows itself"
is "$(ls -1 "$STORE"/database/ | wc -l)" 1 "--no-dump took no dump"

# ------------------------------------------------------------------ SIGTERM while both parts run
# A migration holds a lock, so pg_dump and the row count wait while the base
# backup runs beside them; then a CronJob's deadline sends SIGTERM. Both parts
# stop, their children and sessions are gone, nothing of the run is visible.
sleep 1
before=$(cd "$STORE" && find database base pgrescue | sort)
PGAPPNAME=locker "$PG_BINDIR/psql" -X -q -h "$pg_SOCK" -p "$pg_PORT" -U postgres -d clipper_db \
	-c "BEGIN; LOCK TABLE clips IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(600);" >/dev/null 2>&1 &
echo $! >"$PGT_ROOT/locker.pid"
wait_sql() { # wait_sql SQL NAME: up to 60 s for SQL to return t
	for _ in $(seq 1 300); do
		[ "$(pgt_psql pg clipper_db "$1")" = t ] && return 0
		sleep 0.2
	done
	diag "timed out waiting for: $2"
	return 1
}
wait_sql "SELECT EXISTS (SELECT 1 FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
          WHERE c.relname = 'clips' AND l.mode = 'AccessExclusiveLock' AND l.granted)" "the lock"
"$PGRESCUE" --config "$CFG" backup 2>"$PGT_ROOT/term.err" &
BPID=$!
echo "$BPID" >"$PGT_ROOT/term-backup.pid"
wait_sql "SELECT EXISTS (SELECT 1 FROM pg_stat_activity
          WHERE application_name = 'pgrescue-backup' AND wait_event_type = 'Lock')" "pg_dump waiting on the lock"
ok $? "pg_dump waits on the lock"
for _ in $(seq 1 300); do grep -q 'base: pg_basebackup started' "$PGT_ROOT/term.err" && break; sleep 0.2; done
like "$(cat "$PGT_ROOT/term.err")" "base: pg_basebackup started" "the base backup started beside the waiting dump"
kill -TERM "$BPID"
wait "$BPID"
t_rc=$?
t_err=$(cat "$PGT_ROOT/term.err")
is "$t_rc" 1 "backup exits 1 after SIGTERM"
like "$t_err" "interrupted by signal 15" "it says it was interrupted"
unlike "$t_err" "Sanitizer" "no sanitizer reports on the interrupted path"
is "$(cd "$STORE" && find database base pgrescue | sort)" "$before" \
	"nothing new under database/, base/ or pgrescue/ after SIGTERM"
is "$(find "$STORE" -name 'backup-*' -o -name '*.partial' | head -5)" "" "no staging leftovers after SIGTERM"
like "$(cat "$METRICS")" '^postgres_backup_success 0$' "metrics: postgres_backup_success 0 after SIGTERM"
wait_sql "SELECT NOT EXISTS (SELECT 1 FROM pg_stat_activity
          WHERE application_name IN ('pgrescue', 'pgrescue-backup', 'pgrescue-basebackup'))" "sessions to end"
ok $? "no session of pg_dump, pg_basebackup or pgrescue is left on the server"
ok "$(! pgrep -f -- "--snapshot=.*$pg_SOCK" >/dev/null && ! pgrep -f "pg_basebackup -D $STORE" >/dev/null; echo $?)" \
	"no pg_dump or pg_basebackup process is left"
pgt_psql pg postgres "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'locker'" >/dev/null
wait "$(cat "$PGT_ROOT/locker.pid")" 2>/dev/null
rm -f "$PGT_ROOT/locker.pid" "$PGT_ROOT/term-backup.pid"

# ------------------------------------------------------------------ a failed run: the database is down
before=$(cd "$STORE" && find database base pgrescue | sort)
TS_BEFORE=$(awk '$1 == "postgres_backup_timestamp" {print $2}' "$METRICS")
pgt_cluster_stop pg
sleep 1
run_cmd f "$PGRESCUE" --config "$CFG" backup
is "$f_rc" 1 "backup exits 1 when the database is down"
unlike "$f_err" "Sanitizer" "no sanitizer reports on the failure path"
like "$f_err" "connect" "the error says it cannot connect"
like "$f_err" "HINT:" "with a hint"
M=$(cat "$METRICS")
like "$M" '^postgres_backup_success 0$' "metrics: postgres_backup_success 0 after the failure"
is "$(awk '$1 == "postgres_backup_timestamp" {print $2}' <<<"$M")" "$TS_BEFORE" \
	"metrics: postgres_backup_timestamp still the last success"
like "$(awk '$1 == "pgrescue_backup_last_attempt_timestamp" {print $2}' <<<"$M")" '^[0-9]{10}$' \
	"metrics: the failed attempt's time is reported"
after=$(cd "$STORE" && find database base pgrescue | sort)
is "$after" "$before" "nothing new under database/, base/ or pgrescue/ after the failure"
left=$(find "$STORE" -name 'backup-*' -o -name '*.partial' | head -5)
is "$left" "" "no staging leftovers"

# The metrics file gone too: the last success comes from the store instead.
rm -f "$METRICS"
run_cmd f2 "$PGRESCUE" --config "$CFG" backup --quiet
ok "$([ "$f2_rc" -ne 0 ]; echo $?)" "fails again"
TS_STORE=$(awk '$1 == "postgres_backup_timestamp" {print $2}' "$METRICS")
ok "$([ -n "$TS_STORE" ] && [ "$TS_STORE" -gt 0 ] && [ "$TS_STORE" -le "$TS_BEFORE" ]; echo $?)" \
	"without a metrics file, the last success is read from the store ($TS_STORE)"
pgt_cluster_restart pg || bail_out "cannot restart the cluster"

# ------------------------------------------------------------------ archiving off: no base backup, a clear hint
pgt_cluster_start noarch || bail_out "cluster noarch"
CFG_NA=$PGT_ROOT/config-noarch.ini
STORE_NA=$PGT_ROOT/store-noarch
mkdir -p "$STORE_NA"
pgt_config "$CFG_NA" test "$noarch_DSN_BASE dbname=postgres" "file://$STORE_NA"
run_cmd a "$PGRESCUE" --config "$CFG_NA" backup --no-dump
is "$a_rc" 1 "base backup refused when archive_mode is off"
like "$a_err" "archive_mode = off" "the error names archive_mode"
like "$a_err" "HINT:.*archive_command" "the hint says how to turn archiving on"
is "$(find "$STORE_NA" -path '*/base/*' | wc -l)" 0 "nothing under base/"
# Both parts: the base backup is refused, the dump beside it completes and is
# kept (a good backup on its own), and the run still fails.
run_cmd a2 "$PGRESCUE" --config "$CFG_NA" backup
is "$a2_rc" 1 "a backup of both parts fails when archive_mode is off"
like "$a2_err" "base backup.*archive_mode = off" "the error names the base backup and archive_mode"
like "$a2_err" "dump: done" "the dump beside it completed"
na_dumps=$(find "$STORE_NA/database" -name 'postgres-backup-*.sql.gz' 2>/dev/null | wc -l)
is "$na_dumps" 1 "the completed dump is kept"
is "$(find "$STORE_NA/pgrescue/dumps" -name '*.json' 2>/dev/null | wc -l)" 1 "with its manifest"
is "$(find "$STORE_NA" -path '*/base/*' | wc -l)" 0 "still nothing under base/"
pgt_cluster_stop noarch

# ------------------------------------------------------------------ Pushgateway
PUSH_BIN=/usr/bin/prometheus-pushgateway
[ -x "$PUSH_BIN" ] || bail_out "prometheus-pushgateway is not installed (apt package prometheus-pushgateway)"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
PORT=$(free_port)
"$PUSH_BIN" --web.listen-address="127.0.0.1:$PORT" >"$PGT_ROOT/pushgateway.log" 2>&1 &
echo $! >"$PGT_ROOT/pushgateway.pid"
for _ in $(seq 1 100); do
	curl -fsS "http://127.0.0.1:$PORT/-/ready" >/dev/null 2>&1 && break
	sleep 0.1
done
curl -fsS "http://127.0.0.1:$PORT/-/ready" >/dev/null 2>&1 || { sed 's/^/# /' "$PGT_ROOT/pushgateway.log"; bail_out "Pushgateway did not start"; }
CFG_PUSH=$PGT_ROOT/config-push.ini
pgt_config "$CFG_PUSH" test "$DSN" "file://$STORE" "metrics_file=$METRICS" "pushgateway=http://127.0.0.1:$PORT"
sleep 1
run_cmd p "$PGRESCUE" --config "$CFG_PUSH" backup --no-base
is "$p_rc" 0 "backup with a Pushgateway exits 0" || diag "$p_err"
unlike "$p_err" "not pushed" "no push warning"
PM=$(curl -fsS "http://127.0.0.1:$PORT/metrics")
like "$PM" 'postgres_backup_success\{[^}]*job="postgres_backup"[^}]*\} 1' "Pushgateway has postgres_backup_success 1 for job postgres_backup"
like "$PM" 'postgres_backup_size_bytes\{[^}]*job="postgres_backup"' "Pushgateway has postgres_backup_size_bytes"
like "$PM" 'pgrescue_backup_duration_seconds\{[^}]*job="postgres_backup"' "Pushgateway has the duration"

DEAD=$(free_port)
CFG_DEAD=$PGT_ROOT/config-dead.ini
pgt_config "$CFG_DEAD" test "$DSN" "file://$STORE" "pushgateway=http://127.0.0.1:$DEAD"
sleep 1
run_cmd d "$PGRESCUE" --config "$CFG_DEAD" backup --no-base
is "$d_rc" 0 "a dead Pushgateway does not fail the backup" || diag "$d_err"
like "$d_err" "metrics not pushed.*127.0.0.1:$DEAD" "it warns, naming the URL"

kill "$(cat "$PGT_ROOT/pushgateway.pid")" 2>/dev/null

# ------------------------------------------------------------------ retention after a good run
# Forty days on, the first dump is past retention_dumps (30d) and goes; the new one stays.
FUTURE=$(date -u -d '+40 days' +%Y-%m-%dT%H:%M:%SZ)
run_cmd t env PGRESCUE_NOW="$FUTURE" "$PGRESCUE" --config "$CFG" backup --no-base
is "$t_rc" 0 "a backup forty days later exits 0" || diag "$t_err"
like "$t_err" "retention: delete database/$DUMP_NAME" "retention says which dump it deletes"
ok "$([ ! -e "$DUMP" ]; echo $?)" "the expired dump is gone"
is "$(ls -1 "$STORE"/database/ | wc -l)" 1 "the new dump is kept"
done_testing
