#!/usr/bin/env bash
# Benchmark: `pgrescue --env sandbox pitr --time T --yes` against the same
# steps done by hand (a bash script with the same tools, in the order of
# core/recovery/pitr.c), in one run, on a sandbox in a temp root (XDG dirs
# there too).
#
# The recovery does real work: after the sandbox's first base backup ROWS
# (argument, default 2000000) rows go into a table (a few hundred MB of WAL,
# 1 MB segments), then T is noted (UTC, explicit zone), a table is dropped and
# the WAL is switched and archived. The whole sandbox (data directory, store,
# app directory, server log) is copied once with the server and the app
# stopped, and restored from that copy before EVERY round, then brought up
# again with `pgrescue sandbox up` (server started, app back at 3 replicas),
# so both sides start from the same state. Rounds alternate by hand, then
# pgrescue; ROUNDS (default 3); each side is synced first. Each side must end
# in the same state (table back with its rows, not in recovery, no recovery
# settings left, 3 app replicas, timeline 2's history and WAL archived),
# checked outside the timing. Prints both times per round, the median of the
# paired ratios pgrescue / by hand, best against best, and each side's median
# time per step (pgrescue's from the run's runner.log). Replay speed follows
# the machine's disk and other load, so each round also splits each side's
# time into the server's own part (from the server's log: its start to the
# pause at the target) and all the rest, which is what the driver adds.
# Usage: bench/pitr.sh [ROWS]    (PGRESCUE=path/to/pgrescue, default build/pgrescue;
#                                 a build without sanitizers)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
: "${PGRESCUE:=$top/build/pgrescue}"
: "${ROUNDS:=3}"
rows=${1:-2000000}
case $rows in '' | *[!0-9]*) echo "usage: $0 [ROWS]"; exit 2 ;; esac
export PGR_TEST_LIB="$top/tests/lib"
. "$top/tests/lib/tap.sh"
. "$top/tests/lib/pgcluster.sh"
[ -x "$PGRESCUE" ] || { echo "build pgrescue first (PGRESCUE=$PGRESCUE)"; exit 1; }
PGRESCUE=$(readlink -f "$PGRESCUE")
export PGRESCUE
pgt_setup
. "$top/tests/lib/sandbox.sh"
sb_trap_cleanup
export LANG=C.UTF-8 LC_ALL=C.UTF-8

SNAP="$PGT_ROOT/snapshot"
RUNS="$XDG_STATE_HOME/pgrescue/runs"
psql_sb() { # DB SQL: one value, errors to /dev/null (used in polling loops)
	"$PG_BINDIR/psql" -X -A -t -q -h "$SB/run" -p "$port" -U postgres -d "$1" -c "$2" 2>/dev/null
}
replicas() {
	local n=0 f
	for f in "$SB"/app/replica-*.pid; do
		[ -f "$f" ] && kill -0 "$(head -1 "$f")" 2>/dev/null && n=$((n + 1))
	done
	echo "$n"
}
archived() { [ -f "$SB/store/wal-archive/$1" ]; }
# A process that ended is gone even while it waits, a zombie, for its parent
# (here init, which may take a while) to reap it.
running() {
	local st=""
	[ -r "/proc/$1/stat" ] && read -r _ _ st _ <"/proc/$1/stat" 2>/dev/null
	[ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}
server_up() { sb_sql "SELECT 1" >/dev/null 2>&1; }
# Stop the app's replicas (SIGTERM, then wait) and forget their pid files.
stop_app() {
	local f pids=""
	for f in "$SB"/app/replica-*.pid; do
		[ -f "$f" ] && pids="$pids $(head -1 "$f")"
	done
	[ -n "$pids" ] && kill $pids 2>/dev/null
	for p in $pids; do
		while running "$p"; do sleep 0.05; done
	done
	rm -f "$SB"/app/replica-*.pid
}
stop_server() {
	[ -f "$SB/data/postmaster.pid" ] && pgt_as_server "$PG_BINDIR/pg_ctl" -D "$SB/data" -m fast -w stop >/dev/null 2>&1
	return 0
}

# ---------------------------------------------------------------- the world
echo "# building the sandbox in $PGT_ROOT (kept afterwards with PGT_KEEP=1)..."
"$PGRESCUE" sandbox up -q >"$PGT_ROOT/sandbox-up.log" 2>&1 ||
	{ sed 's/^/# /' "$PGT_ROOT/sandbox-up.log"; bail_out "the sandbox could not be built"; }
port=$(sb_port)
[ -n "$port" ] || bail_out "no port in $SB/sandbox.json"
dsn="host=$SB/run port=$port dbname=clipper_db user=postgres"
[ "$(replicas)" = 3 ] || bail_out "the sandbox's app does not run 3 replicas"

echo "# writing WAL: $rows rows into table bulk..."
sb_sql "CREATE TABLE important AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 1234) g" ||
	bail_out "cannot create table important"
sb_sql "CREATE TABLE bulk (id bigint PRIMARY KEY, a text, b text)" || bail_out "cannot create table bulk"
# In batches of 100,000: many transactions, as an application writes.
for ((lo = 1; lo <= rows; lo += 100000)); do
	hi=$((lo + 99999 < rows ? lo + 99999 : rows))
	sb_sql "INSERT INTO bulk SELECT g, md5(g::text), md5((g * 7)::text) FROM generate_series($lo, $hi) g" ||
		bail_out "cannot load table bulk"
done
sleep 1.2
T=$(date -u +'%Y-%m-%d %H:%M:%S.%3N')Z
sleep 1.2
sb_sql "DROP TABLE important" || bail_out "cannot drop table important"
seg=$(sb_sql "SELECT pg_walfile_name(pg_switch_wal())")
echo "# waiting until $seg is archived..."
wait_for 900 archived "$seg" || bail_out "WAL segment $seg was not archived"
base=$(ls "$SB/store/base" | sort | tail -1)
[ -f "$SB/store/base/$base/base.tar" ] || bail_out "no base backup in $SB/store/base"
first=$(sed -n 's/.*"start_wal":[[:space:]]*"\([0-9A-F]*\)".*/\1/p' "$SB/store/base/$base/pgrescue.json")
n_wal=$(find "$SB/store/wal-archive" -name '????????????????????????' -printf '%f\n' | awk -v a="$first" -v s="$seg" '$0 >= a && $0 <= s' | wc -l)
wal_mb=$(du -sm "$SB/store/wal-archive" | cut -f1)
base_mb=$(du -sm "$SB/store/base/$base/base.tar" | cut -f1)
echo "# target $T; base backup $base (${base_mb} MB); $n_wal WAL segments from its start to the DROP (${wal_mb} MB archived in all)"

# What pgrescue will do, to check that the by-hand side does the same.
dry=$("$PGRESCUE" --env sandbox pitr --time "$T" --dry-run 2>&1) || { diag "$dry"; bail_out "pitr --dry-run failed"; }
printf '%s\n' "$dry" | grep -q "Base backup: $base" || { diag "$dry"; bail_out "pgrescue picks another base backup than $base"; }
want_time=$(printf '%s\n' "$dry" | sed -n "s/.*recovery_target_time = '\([^']*\)'.*/\1/p" | head -1)
[ "$(sb_sql "SELECT '$want_time'::timestamptz = '${T%Z}+00'::timestamptz")" = t ] ||
	bail_out "pgrescue's recovery_target_time '$want_time' is not the by-hand '${T%Z}+00'"
newest_wal() { # the newest archived segment's name
	local f newest=""
	for f in "$SB/store/wal-archive"/????????????????????????; do newest=${f##*/}; done
	echo "$newest"
}
tl=$(newest_wal)
printf '%s\n' "$dry" | grep -q "recovery_target_timeline = '$((16#${tl:0:8}))'" ||
	bail_out "pgrescue's recovery_target_timeline is not $((16#${tl:0:8}))"
exe=$PGRESCUE
[ -x "$SB/bin/pgrescue" ] && exe="$SB/bin/pgrescue"
printf '%s\n' "$dry" | grep -q "restore_command = .*$exe.* wal-fetch %f %p" ||
	bail_out "pgrescue's restore_command does not run $exe wal-fetch"

echo "# snapshot of the whole sandbox (app and server stopped)..."
stop_app
stop_server
[ -f "$SB/data/postmaster.pid" ] && bail_out "the server did not stop"
cp -a "$SB" "$SNAP" || bail_out "cannot copy the sandbox"

# Before every round: exactly the snapshot, brought up again by `sandbox up`.
restore_world() {
	stop_app
	[ -f "$SB/data/postmaster.pid" ] &&
		pgt_as_server "$PG_BINDIR/pg_ctl" -D "$SB/data" -m immediate -w stop >/dev/null 2>&1
	rm -rf "$SB" && cp -a "$SNAP" "$SB" || bail_out "cannot restore the snapshot"
	"$PGRESCUE" sandbox up -q >"$PGT_ROOT/sandbox-up.log" 2>&1 ||
		{ sed 's/^/# /' "$PGT_ROOT/sandbox-up.log"; bail_out "sandbox up failed on the restored snapshot"; }
	server_up || bail_out "the server does not answer after sandbox up"
	[ "$(replicas)" = 3 ] || bail_out "sandbox up did not bring the app back to 3 replicas"
	[ "$(sb_sql "SELECT to_regclass('public.important') IS NULL")" = t ] || bail_out "table important exists before the recovery"
	[ "$(sb_sql "SELECT pg_is_in_recovery()")" = f ] || bail_out "the restored server is in recovery"
}

# What both sides must leave behind (checked outside the timing).
check_end() { # SIDE
	local side=$1
	[ "$(sb_sql "SELECT count(*) FROM important" 2>/dev/null)" = 1234 ] || bail_out "$side: table important is not back with 1234 rows"
	[ "$(sb_sql "SELECT count(*) FROM bulk")" = "$rows" ] || bail_out "$side: table bulk does not have $rows rows"
	[ "$(sb_sql "SELECT pg_is_in_recovery()")" = f ] || bail_out "$side: the server is still in recovery"
	[ "$(sb_sql "SHOW archive_mode")" = on ] || bail_out "$side: archive_mode is not on"
	grep -q 'recovery_target' "$SB/data/postgresql.auto.conf" && bail_out "$side: recovery settings left in postgresql.auto.conf"
	[ -e "$SB/data/recovery.signal" ] && bail_out "$side: recovery.signal left"
	archived 00000002.history || bail_out "$side: 00000002.history is not archived"
	local last
	last=$(sb_sql "SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver")
	[ "${last:0:8}" = 00000002 ] && archived "$last" || bail_out "$side: no WAL of timeline 2 archived (last: $last)"
	wait_for 10 test "$(replicas)" = 3 || bail_out "$side: the app does not run 3 replicas"
	ls -d "$SB"/data.pitr-* >/dev/null 2>&1 || bail_out "$side: the old data directory was not kept"
}

# ---------------------------------------------------------------- by hand
# The steps of core/recovery/pitr.c, in its order, with the same tools.
STEPS="preflight record-state scale-down stop-db move-aside extract-base configure-recovery start-recovery replay promote verify restore-archiving scale-up"
declare -A hand_t
marks=()
cur_step=""
mark() { # STEP: the previous step ends here (times are summed up after the round)
	marks+=("$EPOCHREALTIME $1")
	cur_step=$1
}
as_pg() { pgt_as_server "$@"; }
count_all() { # exact counts of every user table, like the plan's verification
	"$PG_BINDIR/psql" -X -A -t -q -v ON_ERROR_STOP=1 -h "$SB/run" -p "$port" -U postgres -d clipper_db <<'EOF'
SELECT format('SELECT %L, count(*) FROM %I.%I', n.nspname || '.' || c.relname, n.nspname, c.relname)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r','p') AND n.nspname NOT IN ('pg_catalog','information_schema')
  AND n.nspname NOT LIKE 'pg_toast%' AND NOT c.relispartition ORDER BY 1 \gexec
EOF
}
by_hand() {
	local data="$SB/data" aside="$SB/data.pitr-byhand" store="$SB/store" b tar exe tl i n f pids cur tli seg last
	marks=()
	mark preflight
	# The newest base backup that ends before T: labels are UTC start times.
	b=$(ls "$store/base" | sort | tail -1)
	tar="$store/base/$b/base.tar"
	[ -f "$data/PG_VERSION" ] && [ ! -e "$aside" ] && [ -f "$tar" ] || return 1
	exe=$PGRESCUE
	[ -x "$SB/bin/pgrescue" ] && exe="$SB/bin/pgrescue"
	tl=$(newest_wal)
	tl=$((16#${tl:0:8}))
	mark record-state
	n=$(replicas)
	count_all >"$PGT_ROOT/counts-before" || return 1
	mark scale-down
	pids=$(cat "$SB"/app/replica-*.pid)
	kill $pids
	for p in $pids; do
		while running "$p"; do sleep 0.05; done
	done
	rm -f "$SB"/app/replica-*.pid
	mark stop-db
	as_pg "$PG_BINDIR/pg_ctl" -D "$data" -m fast -w stop >/dev/null || return 1
	mark move-aside
	mv "$data" "$aside" || return 1
	mark extract-base
	mkdir -m 700 "$data" && chown postgres: "$data" || return 1
	as_pg tar -xf "$tar" -C "$data" || return 1
	[ -d "$data/pg_wal/archive_status" ] || as_pg mkdir -p -m 700 "$data/pg_wal/archive_status"
	mark configure-recovery
	as_pg tee -a "$data/postgresql.auto.conf" >/dev/null <<EOF || return 1
# BEGIN recovery by hand
restore_command = '$exe --config /dev/null --store file://$store wal-fetch %f %p'
recovery_target_time = '${T%Z}+00'
recovery_target_timeline = '$tl'
recovery_target_action = 'pause'
archive_mode = 'off'
# END recovery by hand
EOF
	as_pg touch "$data/recovery.signal" || return 1
	mark start-recovery
	as_pg "$PG_BINDIR/pg_ctl" -D "$data" -l "$SB/server.log" -W start >/dev/null || return 1
	mark replay
	i=0
	until [ "$(psql_sb postgres "SELECT pg_get_wal_replay_pause_state()")" = paused ]; do
		i=$((i + 1))
		[ $i -lt 4000 ] || return 1
		sleep 0.25
	done
	mark promote
	[ "$(psql_sb postgres "SELECT pg_promote(true, 60)")" = t ] || return 1
	until [ "$(psql_sb postgres "SELECT pg_is_in_recovery()")" = f ]; do sleep 0.2; done
	mark verify
	count_all >"$PGT_ROOT/counts-after" || return 1
	mark restore-archiving
	cur=$(psql_sb postgres "SELECT pg_walfile_name(pg_current_wal_lsn())")
	tli=${cur:0:8}
	for f in "$data/pg_wal/$tli.history" "$data/pg_wal/$tli"????????????????; do
		f=${f##*/}
		[ -e "$data/pg_wal/$f" ] || continue
		case $f in *.history) ;; *) [[ "$f" < "$cur" ]] || continue ;; esac
		[ -e "$data/pg_wal/archive_status/$f.done" ] || [ -e "$data/pg_wal/archive_status/$f.ready" ] ||
			as_pg touch "$data/pg_wal/archive_status/$f.ready"
	done
	as_pg sed -i '/^# BEGIN recovery by hand/,/^# END recovery by hand/d' "$data/postgresql.auto.conf" || return 1
	as_pg "$PG_BINDIR/pg_ctl" -D "$data" -m fast -w stop >/dev/null || return 1
	as_pg "$PG_BINDIR/pg_ctl" -D "$data" -l "$SB/server.log" -w start >/dev/null || return 1
	seg=$(psql_sb postgres "SELECT pg_walfile_name(pg_switch_wal())")
	[ -n "$seg" ] || return 1
	i=0
	while :; do
		last=$(psql_sb postgres "SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver")
		[ ${#last} = 24 ] && ! [[ "$last" < "$seg" ]] && break
		i=$((i + 1))
		[ $i -lt 480 ] || return 1
		sleep 0.25
	done
	mark scale-up
	# As the built-in app does: `pgrescue sandbox app-replica DSN`, detached,
	# log appended, pid file per replica.
	for ((i = 1; i <= n; i++)); do
		(cd / && exec setsid "$PGRESCUE" sandbox app-replica "$dsn" >>"$SB/app/replica-$i.log" 2>&1 </dev/null) &
		echo "$!" >"$SB/app/replica-$i.pid"
	done
	[ "$(replicas)" = "$n" ] || return 1
	mark ""
}

# ---------------------------------------------------------------- pgrescue
declare -A pgr_t
# Per-step times from the run's runner.log ("<ISO time> step i/n ID: ..."
# starts a step, "<ISO time> step ID: done ..." ends it).
step_times() { # RUNNER_LOG
	awk '
	function secs(ts,   d, t) { split(ts, d, "T"); split(d[2], t, ":"); return t[1] * 3600 + t[2] * 60 + substr(t[3], 1, 6) }
	$2 == "step" && $3 ~ /^[0-9]+\/[0-9]+$/ { id = $4; sub(/:$/, "", id); start[id] = secs($1) }
	$2 == "step" && ($4 == "done" || $4 == "already") {
		id = $3; sub(/:$/, "", id)
		if (id in start) { d = secs($1) - start[id]; if (d < 0) d += 86400; printf "%s %.3f\n", id, d }
	}' "$1"
}

# From the server's log of this round (what follows the snapshot's): when the
# postmaster that recovered started, and when replay paused at the target.
# "START PAUSED" in epoch seconds: the server's own part, whoever drives it.
server_times() {
	local st pe
	IFS='|' read -r st pe < <(tail -c +$((snap_log_size + 1)) "$SB/server.log" | awk '
		/ LOG:  starting PostgreSQL / { st = $1 " " $2 }
		/ LOG:  starting point-in-time recovery/ { rs = st }
		/ LOG:  pausing at the end of recovery/ { pe = $1 " " $2 }
		END { print rs "|" pe }')
	[ -n "$st" ] && [ -n "$pe" ] || bail_out "no recovery start or pause in the server's log of round $round"
	echo "$(date -u -d "$st UTC" +%s.%N) $(date -u -d "$pe UTC" +%s.%N)"
}
iso_epoch() { date -u -d "$(echo "$1" | sed 's/T/ /; s/Z$//') UTC" +%s.%N; }

median() { printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

# ---------------------------------------------------------------- rounds
snap_log_size=$(stat -c %s "$SNAP/server.log")
best_hand="" best_pgr="" ratios="" hand_rest="" pgr_rest="" hand_srv="" pgr_srv="" rest_diffs=""
for round in $(seq 1 "$ROUNDS"); do
	restore_world
	sync
	t0=$EPOCHREALTIME
	by_hand || { tail -20 "$SB/server.log" | sed 's/^/# /'; bail_out "round $round: the by-hand recovery failed at step $cur_step"; }
	t1=$EPOCHREALTIME
	check_end "by hand"
	grep -qx 'public.important|1234' "$PGT_ROOT/counts-after" || bail_out "by hand: the verification did not count table important"
	h=$(echo "$t1 - $t0" | bc)
	for ((i = 0; i + 1 < ${#marks[@]}; i++)); do
		read -r a s <<<"${marks[i]}"
		read -r b _ <<<"${marks[i + 1]}"
		hand_t[$s]="${hand_t[$s]:-} $(echo "$b - $a" | bc)"
		[ "$s" = replay ] && h_seen=$b
	done
	read -r s0 s1 < <(server_times)
	h_srv=$(echo "$s1 - $s0" | bc) h_late=$(echo "$h_seen - $s1" | bc)
	hand_t[noticed]="${hand_t[noticed]:-} $h_late"
	hand_srv="$hand_srv $h_srv" hand_rest="$hand_rest $(echo "$h - $h_srv" | bc)"

	restore_world
	before_runs=$(ls "$RUNS" 2>/dev/null | wc -l)
	sync
	t0=$EPOCHREALTIME
	"$PGRESCUE" --env sandbox pitr --time "$T" --yes >"$PGT_ROOT/pitr.out" 2>"$PGT_ROOT/pitr.err"
	rc=$?
	t1=$EPOCHREALTIME
	[ "$rc" = 0 ] || { sed 's/^/# /' "$PGT_ROOT/pitr.out" "$PGT_ROOT/pitr.err"; bail_out "round $round: pgrescue pitr exited $rc"; }
	check_end "pgrescue"
	p=$(echo "$t1 - $t0" | bc)
	run=$(ls -t "$RUNS" | head -1)
	[ "$(ls "$RUNS" | wc -l)" -gt "$before_runs" ] || bail_out "round $round: no new run in $RUNS"
	cp "$RUNS/$run/runner.log" "$PGT_ROOT/runner-$round.log"
	in_steps=0
	while read -r id secs; do
		pgr_t[$id]="${pgr_t[$id]:-} $secs"
		in_steps=$(echo "$in_steps + $secs" | bc)
	done < <(step_times "$RUNS/$run/runner.log")
	r_start=$(iso_epoch "$(awk '$2 == "runner" && $4 == "starts" {print $1; exit}' "$RUNS/$run/runner.log")")
	r_end=$(iso_epoch "$(awk '$2 == "run" && $4 == "finished" {t = $1} END {print t}' "$RUNS/$run/runner.log")")
	pgr_t[before]="${pgr_t[before]:-} $(echo "$r_start - $t0" | bc)"
	pgr_t[between]="${pgr_t[between]:-} $(echo "$r_end - $r_start - $in_steps" | bc)"
	pgr_t[after]="${pgr_t[after]:-} $(echo "$t1 - $r_end" | bc)"
	p_seen=$(iso_epoch "$(awk '$2 == "step" && $3 == "replay:" && $4 == "done" {print $1}' "$RUNS/$run/runner.log")")
	read -r s0 s1 < <(server_times)
	p_srv=$(echo "$s1 - $s0" | bc) p_late=$(echo "$p_seen - $s1" | bc)
	pgr_t[noticed]="${pgr_t[noticed]:-} $p_late"
	pgr_srv="$pgr_srv $p_srv" pgr_rest="$pgr_rest $(echo "$p - $p_srv" | bc)"
	rest_diffs="$rest_diffs $(echo "($p - $p_srv) - ($h - $h_srv)" | bc)"

	rr=$(echo "scale=3; $p / $h" | bc)
	ratios="$ratios $rr"
	printf '# round %d: by hand %.2f s, pgrescue pitr %.2f s, ratio %s' "$round" "$h" "$p" "$rr"
	printf ' (server from start to paused at the target: %.2f s by hand, %.2f s pgrescue; all the rest: %.2f s, %.2f s)\n' \
		"$h_srv" "$p_srv" "$(echo "$h - $h_srv" | bc)" "$(echo "$p - $p_srv" | bc)"
	[ -z "$best_hand" ] || [ "$(echo "$h < $best_hand" | bc)" = 1 ] && best_hand=$h
	[ -z "$best_pgr" ] || [ "$(echo "$p < $best_pgr" | bc)" = 1 ] && best_pgr=$p
done

echo "# median seconds per step:    by hand   pgrescue"
for s in $STEPS; do
	# shellcheck disable=SC2086
	printf '#   %-22s %9.3f %10.3f\n' "$s" "$(median ${hand_t[$s]:-0})" "$(median ${pgr_t[$s]:-0})"
done
# shellcheck disable=SC2086
printf '#   %-22s %9s %10.3f\n' "runner between steps" "-" "$(median ${pgr_t[between]:-0})" \
	"before the runner" "-" "$(median ${pgr_t[before]:-0})" "after the runner" "-" "$(median ${pgr_t[after]:-0})"
# shellcheck disable=SC2086
printf '#   %-22s %9.3f %10.3f\n' "(pause noticed after)" "$(median ${hand_t[noticed]:-0})" "$(median ${pgr_t[noticed]:-0})"
# The server's replay time varies with the machine's other load; what each
# side adds around it does not, so that difference is pgrescue's own cost.
# shellcheck disable=SC2086
printf '# median time outside the server'"'"'s start-to-target (what the driver adds): by hand %.2f s, pgrescue %.2f s; median of the paired differences %+.2f s (server start-to-target: median %.2f s by hand, %.2f s pgrescue)\n' \
	"$(median $hand_rest)" "$(median $pgr_rest)" "$(median $rest_diffs)" "$(median $hand_srv)" "$(median $pgr_srv)"
# The same steps with the same server time: the by-hand best plus that difference.
printf '# pgrescue'"'"'s own cost on the by-hand best (%.2f s): %+.2f s, ratio %.3f\n' "$best_hand" "$(median $rest_diffs)" \
	"$(echo "($best_hand + $(median $rest_diffs)) / $best_hand" | bc -l)"
median_ratio=$(median $ratios)
printf 'pitr (%s rows, %s WAL segments of 1 MB, base backup %s MB): by hand best %.2f s, pgrescue pitr best %.2f s, best/best %s, median of paired rounds %s (target <= 1.05)\n' \
	"$rows" "$n_wal" "$base_mb" "$best_hand" "$best_pgr" "$(echo "scale=3; $best_pgr / $best_hand" | bc)" "$median_ratio"
exit 0
