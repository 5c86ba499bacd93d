#!/usr/bin/env bash
# The read-only status monitor, as a wallboard runs it: `pgrescue monitor` and
# an environment with `readonly = true` say READ-ONLY in the header; every
# dangerous key and `:` command answers "read-only monitor" and starts nothing;
# the help shows those keys greyed; and the database session the monitor holds
# is read-only (default_transaction_read_only, seen in the server's own log).
. "$PGR_TEST_LIB/tap.sh"
. "$PGR_TEST_LIB/pgcluster.sh"
. "$PGR_TEST_LIB/tmux.sh"
pgt_setup
. "$PGR_TEST_LIB/sandbox.sh"
sb_trap_cleanup

CFG="$XDG_CONFIG_HOME/pgrescue/config.ini"
export LANG=C.UTF-8 LC_ALL=C.UTF-8
unset NO_COLOR


# pgrescue processes running a backup (none may appear in the monitor).
# Backups started from this test's console: other tests running beside it
# start their own, so only processes with this test's state dir count.
backups_running() {
	local pid n=0
	for pid in $(pgrep -f -- "pgrescue.* backup"); do
		tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | grep -qxF "XDG_STATE_HOME=$XDG_STATE_HOME" && n=$((n + 1))
	done
	echo "$n"
}
n_dumps() { ls "$SB/store/database" 2>/dev/null | grep -c 'backup-'; }

run_cmd up "$PGRESCUE" sandbox up -q
[ "$up_rc" = 0 ] || { diag "$up_err"; bail_out "the sandbox could not be built"; }

# The server logs every statement with its application name, so the test can
# read what the console's own session set up.
sb_sql "ALTER SYSTEM SET log_statement = 'all'" >/dev/null
sb_sql "ALTER SYSTEM SET log_line_prefix = '%m [%p] app=%a '" >/dev/null
sb_sql "SELECT pg_reload_conf()" >/dev/null

# ---------------------------------------------------------------- pgrescue monitor
dumps_before=$(n_dumps)
tmx_start 100 30 "$PGRESCUE" --env sandbox monitor
tmx_wait_for 'updated [0-9]' 60
ok $? "pgrescue monitor draws the dashboard" || diag "$TMX_SCREEN"
like "$TMX_SCREEN" "^pgrescue  READ-ONLY " "the header says READ-ONLY in words"
unlike "$(printf '%s\n' "$TMX_SCREEN" | tail -1)" "Backup|Restore|PITR" "the footer offers no dangerous key"
like "$(printf '%s\n' "$TMX_SCREEN" | tail -1)" "read-only monitor" "the footer says read-only monitor"

tmx_keys R
tmx_wait_for "read-only monitor: restore is not available" 5
ok $? "R (restore) answers: read-only monitor"
tmx_keys P
tmx_wait_for "read-only monitor: point-in-time recovery is not available" 5
ok $? "P (PITR) answers: read-only monitor"
tmx_keys b
tmx_wait_for "read-only monitor: backup is not available" 5
ok $? "b (backup) answers: read-only monitor"
unlike "$TMX_SCREEN" "Start a backup of" "no backup question is even asked"
tmx_keys y # would confirm a backup if a question had been asked
tmx_keys :
tmx_type "restore"
tmx_keys Enter
tmx_wait_for "read-only monitor: restore is not available" 5
ok $? ":restore answers: read-only monitor"
tmx_keys :
tmx_type "backup"
tmx_keys Enter
tmx_wait_for "read-only monitor: backup is not available" 5
ok $? ":backup answers: read-only monitor"
tmx_keys :
tmx_type "pitr 2026-01-01 00:00:00Z"
tmx_keys Enter
tmx_wait_for "read-only monitor: point-in-time recovery is not available" 5
ok $? ":pitr answers: read-only monitor"
# The same gate holds inside a detail view.
tmx_keys Enter
tmx_wait_for "LSN range" 5
tmx_keys R
tmx_wait_for "read-only monitor: restore is not available" 5
ok $? "inside the backup list too, R answers: read-only monitor"
tmx_keys Escape
is "$(backups_running)" 0 "no backup process was started"
is "$(n_dumps)" "$dumps_before" "and the store has no new dump"

tmx_keys '?'
tmx_wait_for "Esc closes" 5
ok $? "the help opens in the monitor"
help_screen=$(tmx_help_all)
like "$help_screen" "Read-only monitor: greyed keys" "the help says which keys are not available"
for k in b R P; do
	like "$(printf '%s\n' "$help_screen" | grep -E "│ $k +")" "\(not in monitor\)" "the help marks $k as not in monitor" ||
		diag "$help_screen"
done
for cmd in ":backup" ":restore" ":pitr"; do
	like "$(printf '%s\n' "$help_screen" | grep -F "│ $cmd")" "\(not in monitor\)" "the help marks $cmd as not in monitor"
done
unlike "$(printf '%s\n' "$help_screen" | grep -E "│ (q|r|y|/) ")" "not in monitor" "safe keys are not greyed"
# Greyed: drawn with the muted role (dim), unlike the available keys.
esc_help=$(tmx_screen_escapes)
line_R=$(printf '%s\n' "$esc_help" | grep -F "Restore wizard" | head -1)
like "$line_R" $'\e\\[([0-9;]*;)?2[;m]' "the greyed help line is drawn dim"
tmx_keys Escape

# The monitor's database session is read-only.
pid=""
find_pid() { pid=$(sb_sql "SELECT pid FROM pg_stat_activity WHERE application_name = 'pgrescue' ORDER BY backend_start DESC LIMIT 1"); [ -n "$pid" ]; }
wait_for 20 find_pid
ok $? "the monitor holds a database session (application_name pgrescue, pid $pid)"
setup_line() { grep -E "\[$pid\] app=pgrescue .*statement: .*default_transaction_read_only *= *(on|true)" "$SB/server.log" | head -1; }
read_only_set() { [ -n "$(setup_line)" ]; }
wait_for 10 read_only_set
ok $? "that session set default_transaction_read_only = on (server log)" ||
	diag "$(grep -E "\[$pid\]" "$SB/server.log" | head -5)"
tmx_quit_clean "pgrescue monitor"

# ---------------------------------------------------------------- readonly = true in the config
dsn=$(sed -n '/^\[env sandbox\]/,/^\[/s/^dsn = //p' "$CFG")
store=$(sed -n '/^\[env sandbox\]/,/^\[/s/^store = //p' "$CFG")
pgt_config "$CFG" wall "$dsn" "$store" "readonly=true"
tmx_start 100 30 "$PGRESCUE" --env wall
tmx_wait_for 'updated [0-9]' 60
ok $? "an environment with readonly = true opens the console" || diag "$TMX_SCREEN"
like "$TMX_SCREEN" "^pgrescue  READ-ONLY " "as the read-only monitor (READ-ONLY in the header)"
tmx_keys R
tmx_wait_for "read-only monitor: restore is not available" 5
ok $? "R answers: read-only monitor"
tmx_keys :
tmx_type "restore"
tmx_keys Enter
tmx_wait_for "read-only monitor: restore is not available" 5
ok $? ":restore answers: read-only monitor"
pid=""
wait_for 20 find_pid
wait_for 10 read_only_set
ok $? "its database session is read-only too"
tmx_keys Enter
tmx_wait_for "LSN range" 5
tmx_keys :
tmx_type "quit"
tmx_keys Enter
tmx_wait_exit 30
is "$TMX_RC" 0 ":quit leaves the console from inside a view, exit code 0"
is "$(tmx_stderr)" "" "nothing on stderr (no sanitizer report)"

# ---------------------------------------------------------------- and the normal console, for contrast
tmx_start 100 30 "$PGRESCUE" --env sandbox
tmx_wait_for 'updated [0-9]' 60
like "$TMX_SCREEN" "^pgrescue  RW " "the normal console says RW"
like "$(printf '%s\n' "$TMX_SCREEN" | tail -1)" "R Restore" "and offers the dangerous keys in the footer"
tmx_keys R
tmx_wait_for "Restore wizard on sandbox" 5
ok $? "where R is not refused as read-only: it opens the restore wizard"
tmx_keys Escape
pid=""
wait_for 20 find_pid
sleep 1
rw_line=$(grep -E "\[$pid\] app=pgrescue .*statement: .*default_transaction_read_only" "$SB/server.log" | head -1)
is "$rw_line" "" "its session does not ask for read-only"
tmx_quit_clean "the normal console"

done_testing
