#!/usr/bin/env bash
# Keystrokes from the dashboard to a confirmed point-in-time recovery run:
# the real binary in a private tmux server against a sandbox built here, a
# table dropped after a noted time T, then the PITR wizard driven as an
# engineer would: P, the incident id and a reason, T typed with its zone,
# Enter through the review, the environment's name typed, Enter. Every key
# sent is counted: each character of typed text (incident, reason, the
# time, the environment's name) counts as one keystroke. Printed: the total,
# how many of those are typed text, and the key presses that are not typed
# text (the wizard's own navigation). The run is then followed to its end
# and the table checked, so the count is of a recovery that worked.
# MODE=event instead picks the target from the destructive-event finder:
# on the target step Up, Left (the kind "event"), the scan lists the DROP
# (preselected as the newest loss) and Enter goes on: "recover to just
# before the DROP", exact (its xid, exclusive), with no time typed.
# Usage: bench/keystrokes.sh   (PGRESCUE=path/to/pgrescue, default build/pgrescue;
#        MODE=time (default) or MODE=event)
# Everything lives in a temp root (XDG dirs too); the sandbox is taken down
# and the tmux server killed at the end, also when interrupted.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
: "${PGRESCUE:=$top/build/pgrescue}"
: "${INCIDENT:=INC-4711}"
: "${REASON:=orders table dropped}"
: "${MODE:=time}"
export PGR_TEST_LIB="$top/tests/lib" PGRESCUE
. "$top/tests/lib/tap.sh"
. "$top/tests/lib/pgcluster.sh"
. "$top/tests/lib/tmux.sh"
[ -x "$PGRESCUE" ] || { echo "build pgrescue first (PGRESCUE=$PGRESCUE)"; exit 1; }
pgt_setup
. "$top/tests/lib/sandbox.sh"

export LANG=C.UTF-8 LC_ALL=C.UTF-8
unset NO_COLOR
bench_cleanup() {
	tmx_cleanup
	if [ -f "$SB/data/postmaster.pid" ]; then
		pgt_as_server "$PG_BINDIR/pg_ctl" -D "$SB/data" -m immediate -w stop >/dev/null 2>&1
	fi
	pgt_cleanup
}
trap bench_cleanup EXIT

"$PGRESCUE" sandbox up -q >"$PGT_ROOT/sandbox-up.log" 2>&1 || {
	cat "$PGT_ROOT/sandbox-up.log"
	echo "the sandbox could not be built"
	exit 1
}

# The incident: a table, a time noted (with its zone), the table dropped.
sb_sql "CREATE TABLE orders AS SELECT g AS id FROM generate_series(1, 4321) g" || exit 1
# The table existed before the last base backup, as it would in production
# (the event list then names it from that backup's catalog).
"$PGRESCUE" --env sandbox backup >"$PGT_ROOT/backup.log" 2>&1 || { cat "$PGT_ROOT/backup.log"; exit 1; }
sleep 1.2
T=$(date -u '+%Y-%m-%d %H:%M:%SZ')
sleep 1.2
sb_sql "DROP TABLE orders"
seg=$(sb_sql "SELECT pg_walfile_name(pg_switch_wal())")
archived() { [ -f "$SB/store/wal-archive/$seg" ]; }
wait_for 60 archived || { echo "segment $seg was not archived"; exit 1; }

# Counted keys.
n_keys=0 n_text=0 n_press=0
press() { # KEY (a tmux key name)
	tmx_keys "$1"
	n_keys=$((n_keys + 1))
	n_press=$((n_press + 1))
	presses="$presses $1"
}
type_text() { # TEXT: one keystroke per character
	tmx_type "$1"
	n_keys=$((n_keys + ${#1}))
	n_text=$((n_text + ${#1}))
}
need() { # REGEX SECS WHAT: wait for the screen (not a keystroke)
	tmx_wait_for "$1" "$2" || {
		printf '%s\n' "$TMX_SCREEN"
		echo "no \"$3\" on the screen"
		exit 1
	}
}
presses=""

tmx_start 100 30 "$PGRESCUE" --env sandbox
need 'updated [0-9]' 60 "the dashboard"
press P
need "Incident id" 10 "the incident screen"
type_text "$INCIDENT"
press Enter
type_text "$REASON"
press Enter
need "Recoverable window" 10 "the target screen"
if [ "$MODE" = event ]; then
	press Up
	press Left
	need "events? in the archived WAL, newest first" 300 "the event list"
	need "> .* drop .*public.orders" 10 "the DROP of orders preselected"
	T="just before the DROP (event)"
else
	type_text "$T"
	need "inside the recoverable window" 10 "the target accepted"
fi
press Enter
need "Checks passed" 120 "the checked plan"
press Enter
need "Type the environment's name" 10 "the confirmation"
type_text "sandbox"
press Enter
need "Run of point-in-time recovery on sandbox" 20 "the run view"
confirmed_at=$n_keys
need "Result: finished" 600 "the finished run"
rows=$(sb_sql "SELECT count(*) FROM orders")
[ "$rows" = 4321 ] || { echo "orders has $rows rows after the recovery, not 4321"; exit 1; }

echo "PITR from the dashboard to a confirmed run (target $T; the run finished, orders has $rows rows):"
echo "  keystrokes:                  $confirmed_at (each typed character counts one)"
if [ "$MODE" = event ]; then
	echo "  of which typed text:         $n_text (incident ${#INCIDENT}, reason ${#REASON}, environment name 7; no time typed)"
else
	echo "  of which typed text:         $n_text (incident ${#INCIDENT}, reason ${#REASON}, time ${#T}, environment name 7)"
fi
echo "  key presses that are not typed text: $n_press ($(echo $presses | tr ' ' '\n' | sort | uniq -c | awk '{printf "%s%s x%d", (NR > 1 ? ", " : ""), $2, $1}'))"
echo "  with the incident and reason left empty: $((confirmed_at - ${#INCIDENT} - ${#REASON})) keystrokes"
