# Helpers for tests that run against a sandbox built by the test itself
# (bash; source after tap.sh and pgcluster.sh, and after pgt_setup).
#   SB                    the sandbox directory (XDG_STATE_HOME is in the test's temp root)
#   sb_port, sb_sql SQL   the sandbox's port; a query in clipper_db as the superuser
#   sb_db_sql DB SQL      a query in database DB as the superuser
#   sb_replicas           how many app replicas run, by their pid files (as the platform counts them)
#   sb_trap_cleanup       on exit: tmux (if used), the sandbox's server, then pgt_cleanup
#   wait_for SECS CMD...  a bounded wait for a condition; it only stops a hang, it is
#                         not a timing assertion

SB="$XDG_STATE_HOME/pgrescue/sandbox"

sb_port() { sed -n 's/.*"port":[[:space:]]*\([0-9]*\).*/\1/p' "$SB/sandbox.json" 2>/dev/null; }
sb_db_sql() { "$PG_BINDIR/psql" -X -A -t -q -v ON_ERROR_STOP=1 -h "$SB/run" -p "$(sb_port)" -U postgres -d "$1" -c "$2"; }
sb_sql() { sb_db_sql clipper_db "$1"; }
sb_replicas() {
	local f pid n=0
	for f in "$SB"/app/replica-*.pid; do
		[ -f "$f" ] || continue
		pid=$(head -1 "$f")
		kill -0 "$pid" 2>/dev/null && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q "sandbox app-replica" && n=$((n + 1))
	done
	echo "$n"
}

sb_cleanup() {
	declare -F tmx_cleanup >/dev/null && tmx_cleanup
	if [ -f "$SB/data/postmaster.pid" ]; then
		pgt_as_server "$PG_BINDIR/pg_ctl" -D "$SB/data" -m immediate -w stop >/dev/null 2>&1
	fi
	pgt_cleanup
}
sb_trap_cleanup() { trap sb_cleanup EXIT; }

wait_for() {
	local secs=$1 i
	shift
	for ((i = 0; i < secs * 5; i++)); do
		"$@" && return 0
		sleep 0.2
	done
	"$@"
}
