#!/usr/bin/env bash
# `pgrescue sandbox up|down|status` as a user meets it: one command builds a
# running cluster with clipper_db, an app of real processes, a store with a
# dump, a base backup and archived WAL, and registers [env sandbox] without
# touching other environments; `up` again changes nothing, an interrupted `up`
# recovers, and `down` leaves no process, directory or config section behind.
. "$PGR_TEST_LIB/tap.sh"
. "$PGR_TEST_LIB/pgcluster.sh"
pgt_setup

CFG="$XDG_CONFIG_HOME/pgrescue/config.ini"

# Whatever happens, leave no server or replica running.
. "$PGR_TEST_LIB/sandbox.sh"
sb_trap_cleanup

# Live app replicas, by their pid files (as the platform counts them), sorted.
sb_replica_pids() {
	local f pid
	for f in "$SB"/app/replica-*.pid; do
		[ -f "$f" ] || continue
		pid=$(head -1 "$f")
		if kill -0 "$pid" 2>/dev/null && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q "sandbox app-replica"; then
			echo "$pid"
		fi
	done | sort -n
}
# Every app-replica process of this sandbox, pid files or not.
sb_replica_procs() { pgrep -f "app-replica host=$SB/run " | wc -l; }
sb_postmaster() { pgrep -f "postgres -D $SB/data\$" | head -1; }
section() { sed -n "/^\[env $1\]/,/^\[/p" "$CFG" | sed '/^\[env '"$1"'\]/!{/^\[/d}'; }

# A pre-existing environment that must survive every sandbox command.
pgt_config "$CFG" prod "host=/nonexistent/prod port=5432 dbname=clipper_db user=clipper" \
	"file:///srv/prod-backups" "retention_dumps=45d"
prod_before=$(section prod)

# ---------------------------------------------------------------- up
run_cmd up "$PGRESCUE" sandbox up
is "$up_rc" 0 "sandbox up exits 0" || diag "$up_err"
[ "$up_rc" = 0 ] || bail_out "the sandbox could not be built"
like "$up_out" "Sandbox ready in $SB" "the summary names the sandbox directory"
like "$up_out" "host=$SB/run port=[0-9]+ dbname=clipper_db" "the summary gives the dsn"
like "$up_out" "3 replicas" "the summary counts 3 app replicas"
like "$up_out" "newest base backup [0-9]{8}-[0-9]{6}" "the summary names the first backup"

port=$(sb_port)
like "$port" '^[0-9]+$' "sandbox.json records the port"
ok "$([ -d "$SB/data" ] && [ -d "$SB/run" ] && [ -d "$SB/store" ] && [ -d "$SB/app" ] && echo 0 || echo 1)" \
	"the layout has data, run, store and app directories"

grep -q '^\[env sandbox\]' "$CFG"
ok $? "the config has [env sandbox]"
is "$(section prod)" "$prod_before" "[env prod] is unchanged"
sandbox_section=$(section sandbox)
like "$sandbox_section" "^dsn = host=$SB/run port=$port dbname=clipper_db user=postgres\$" "[env sandbox] has the dsn"
like "$sandbox_section" "store = file://$SB/store" "[env sandbox] has the store"
like "$sandbox_section" "app_scale = builtin" "[env sandbox] scales the built-in app"
like "$sandbox_section" "sandbox_dir = $SB" "[env sandbox] names the sandbox directory"
like "$sandbox_section" "data_dir = $SB/data" "[env sandbox] names the data directory"

pm=$(sb_postmaster)
like "$pm" '^[0-9]+$' "a postmaster runs on the sandbox's data directory"
if [ "$(id -u)" = 0 ]; then
	is "$(ps -o user= -p "$pm" | tr -d ' ')" postgres "as root, the server runs as postgres"
fi
is "$(sb_sql "SELECT count(*) FROM users")" 5000 "clipper_db has 5,000 users"
clips0=$(sb_sql "SELECT count(*) FROM clips")
ok "$([ "${clips0:-0}" -ge 40000 ] && echo 0 || echo 1)" "clipper_db has at least 40,000 clips ($clips0)"
is "$(sb_sql "SELECT count(*) FROM users WHERE email LIKE '%@%' AND display_name <> '' AND username <> ''")" 5000 \
	"users have usernames, emails and display names"
is "$(sb_sql "SELECT count(*) FROM clips c LEFT JOIN users u ON u.id = c.user_id WHERE u.id IS NULL")" 0 \
	"every clip belongs to a user"
is "$(sb_sql "SELECT count(*) FROM pg_roles WHERE rolname = 'clipper'")" 1 "the role clipper exists"

pids1=$(sb_replica_pids)
is "$(echo "$pids1" | grep -c .)" 3 "3 app replicas are alive"
is "$(sb_replica_procs)" 3 "and exactly 3 app-replica processes exist"
grows() { [ "$(sb_sql "SELECT count(*) FROM clips")" -gt "$1" ]; }
c1=$(sb_sql "SELECT count(*) FROM clips")
wait_for 20 grows "$c1"
ok $? "the app inserts clips (more than $c1 after a few seconds)"

dump=$(ls "$SB"/store/database/postgres-backup-*.sql.gz 2>/dev/null | head -1)
ok "$([ -n "$dump" ] && echo 0 || echo 1)" "the store has a dump under database/"
is "$(head -c 5 "$dump" 2>/dev/null)" PGDMP "the dump is a pg_dump custom archive"
base=$(ls -d "$SB"/store/base/*/ 2>/dev/null | head -1)
ok "$([ -s "${base}base.tar" ] && [ -s "${base}backup_manifest" ] && [ -s "${base}pgrescue.json" ] && echo 0 || echo 1)" \
	"the store has a complete base backup (base.tar, backup_manifest, pgrescue.json)"
archived() { ls "$SB/store/wal-archive" 2>/dev/null | grep -Ec '^[0-9A-F]{24}$'; }
ok "$([ "$(archived)" -ge 1 ] && echo 0 || echo 1)" "WAL is archived into wal-archive/"
n_wal=$(archived)
sb_sql "SELECT pg_switch_wal()" >/dev/null
more_wal() { [ "$(archived)" -gt "$n_wal" ]; }
wait_for 30 more_wal
ok $? "a switched WAL segment reaches the store through archive_command"
is "$(sb_sql "SELECT failed_count FROM pg_stat_archiver")" 0 "the archiver reports no failures"

run_cmd st "$PGRESCUE" --env sandbox status
is "$st_rc" 0 "pgrescue --env sandbox status exits 0" || diag "$st_out" "$st_err"

run_cmd ss "$PGRESCUE" sandbox status
is "$ss_rc" 0 "sandbox status exits 0"
like "$ss_out" "running" "sandbox status says the server is running"
like "$ss_out" "port $port" "and gives the port"
like "$ss_out" "3 replicas" "and counts 3 replicas"
like "$ss_out" "1 dump, 1 base backup, [0-9]+ WAL segments" "and counts the store's contents"

# ---------------------------------------------------------------- up again
users_before=$(sb_sql "SELECT count(*) FROM users")
clips_before=$(sb_sql "SELECT count(*) FROM clips")
run_cmd up2 "$PGRESCUE" sandbox up
is "$up2_rc" 0 "sandbox up again exits 0" || diag "$up2_err"
like "$up2_out" "Sandbox ready in $SB" "and prints the same summary"
is "$(sb_port)" "$port" "the port is unchanged"
is "$(sb_postmaster)" "$pm" "the server was not restarted"
is "$(sb_sql "SELECT count(*) FROM users")" "$users_before" "users were not reloaded"
clips_after=$(sb_sql "SELECT count(*) FROM clips")
ok "$([ "$clips_after" -ge "$clips_before" ] && [ "$clips_after" -lt $((clips_before + 1000)) ] && echo 0 || echo 1)" \
	"clips only grew by the app's inserts ($clips_before -> $clips_after)"
is "$(sb_replica_pids)" "$pids1" "the same 3 replicas still run"
is "$(ls -d "$SB"/store/base/*/ | wc -l)" 1 "no second base backup was taken"
is "$(section prod)" "$prod_before" "[env prod] is still unchanged"

# A replica ends cleanly on SIGTERM; `up` scales the app back to 3.
victim=$(echo "$pids1" | head -1)
victim_log=$(grep -l "^$victim\$" "$SB"/app/replica-*.pid | sed 's/\.pid$/.log/')
kill -TERM "$victim"
gone() { ! kill -0 "$victim" 2>/dev/null; }
wait_for 15 gone
ok $? "a replica exits on SIGTERM"
like "$(cat "$victim_log")" "stopping on signal" "and says so in its log"
run_cmd r "$PGRESCUE" sandbox status
like "$r_out" "app +2 replicas" "sandbox status sees 2 replicas"
run_cmd up3 "$PGRESCUE" sandbox up -q
is "$up3_rc" 0 "sandbox up -q exits 0"
is "$up3_out" "" "and prints nothing"
is "$(sb_replica_pids | wc -l)" 3 "up scaled the app back to 3 replicas"

# Server stopped behind our back: up starts it, the replicas reconnect.
pgt_as_server "$PG_BINDIR/pg_ctl" -D "$SB/data" -m fast -w stop >/dev/null 2>&1
run_cmd r "$PGRESCUE" sandbox status
like "$r_out" "server +stopped" "sandbox status sees a stopped server"
run_cmd up4 "$PGRESCUE" sandbox up -q
is "$up4_rc" 0 "up starts a stopped server" || diag "$up4_err"
c2=$(sb_sql "SELECT count(*) FROM clips")
wait_for 40 grows "$c2"
ok $? "the replicas reconnect and insert again"

# ---------------------------------------------------------------- down
run_cmd down "$PGRESCUE" sandbox down
is "$down_rc" 0 "sandbox down exits 0" || diag "$down_err"
no_server() { [ -z "$(sb_postmaster)" ]; }
wait_for 10 no_server
ok $? "no postgres runs on the sandbox's data directory"
is "$(sb_replica_procs)" 0 "no app replica runs"
ok "$([ ! -e "$SB" ] && echo 0 || echo 1)" "the sandbox directory is gone"
grep -q '^\[env sandbox\]' "$CFG"
ok "$([ $? -ne 0 ] && echo 0 || echo 1)" "[env sandbox] is gone from the config"
is "$(section prod)" "$prod_before" "[env prod] is kept, unchanged"

run_cmd down2 "$PGRESCUE" sandbox down
is "$down2_rc" 0 "down on nothing exits 0"
like "$down2_out" "nothing to do" "and says there was nothing to do"
run_cmd st2 "$PGRESCUE" sandbox status
is "$st2_rc" 1 "sandbox status without a sandbox fails"
like "$st2_err" "no sandbox" "with a clear error"
like "$st2_err" "HINT: .*pgrescue sandbox up" "and a hint to run sandbox up"

# ---------------------------------------------------------------- interrupted up
# Kill `up` half-way through initdb (which keeps running on its own, as after
# a closed terminal); the next `up` must deal with it and finish the job.
"$PGRESCUE" sandbox up -q >/dev/null 2>&1 &
up_pid=$!
started() { [ -e "$SB/data/PG_VERSION" ] || ! kill -0 "$up_pid" 2>/dev/null; }
wait_for 60 started
kill -KILL "$up_pid" 2>/dev/null
wait "$up_pid" 2>/dev/null
half_built=no
[ -e "$SB/data" ] && [ ! -e "$SB/.initdb-complete" ] && half_built=yes
run_cmd up5 "$PGRESCUE" sandbox up
is "$up5_rc" 0 "up after an interrupted up exits 0" || diag "$up5_err"
if [ "$half_built" = yes ]; then
	like "$up5_err" "incomplete .*rebuilding" "it saw the half-built data directory and rebuilt it"
else
	diag "the interrupted up had finished initdb before it was killed"
fi
is "$(sb_sql "SELECT count(*) FROM users")" 5000 "and clipper_db is complete"
is "$(sb_replica_pids | wc -l)" 3 "with 3 replicas"
ok "$(ls "$SB"/store/base/*/pgrescue.json >/dev/null 2>&1 && echo 0 || echo 1)" "and a complete base backup"
is "$(section prod)" "$prod_before" "[env prod] is still unchanged"

run_cmd down3 "$PGRESCUE" sandbox down -q
is "$down3_rc" 0 "the final down exits 0"
wait_for 10 no_server
ok $? "and stops the server"
is "$(sb_replica_procs)" 0 "and the app"

done_testing
