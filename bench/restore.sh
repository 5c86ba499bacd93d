#!/usr/bin/env bash
# Benchmark: `pgrescue restore --yes` against a raw `createdb` + `pg_restore -j N`
# of the same dump into a fresh database, on a sandbox whose clipper_db is
# grown to about SIZE_MB (default 800 MB), in one run. pgrescue's side is the
# whole plan as an engineer runs it: preflight, app 3 -> 0, the restore, row
# counts against the manifest, the swap, app 0 -> 3 and the health check.
# Rounds alternate sides; each side starts from a quiet server (WAL archived,
# CHECKPOINT, sync). Prints each round, best against best and the median of
# the paired per-round ratios.
# Usage: bench/restore.sh [SIZE_MB]    (PGRESCUE=path/to/pgrescue, default build/pgrescue;
#                                       ROUNDS, default 7; JOBS, default 2)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
: "${PGRESCUE:=$top/build/pgrescue}"
: "${ROUNDS:=7}"
: "${JOBS:=2}"
size_mb=${1:-800}
export PGR_TEST_LIB="$top/tests/lib" PGRESCUE
. "$top/tests/lib/tap.sh"
. "$top/tests/lib/pgcluster.sh"
[ -x "$PGRESCUE" ] || { echo "build pgrescue first (PGRESCUE=$PGRESCUE)"; exit 1; }
pgt_setup
. "$top/tests/lib/sandbox.sh"
sb_trap_cleanup

"$PGRESCUE" sandbox up -q || exit 1
port=$(sb_port)
db_sql() { "$PG_BINDIR/psql" -X -A -t -q -v ON_ERROR_STOP=1 -h "$SB/run" -p "$port" -U postgres -d "$1" -c "$2"; }

# WAL archiving and checkpoints cost both sides the same; the sandbox's
# archive would grow by the database's size with every round: archive to
# nowhere and checkpoint between rounds only (both are reloadable).
db_sql postgres "ALTER SYSTEM SET archive_command = '/bin/true'" &&
	db_sql postgres "ALTER SYSTEM SET max_wal_size = '8GB'" &&
	db_sql postgres "ALTER SYSTEM SET checkpoint_timeout = '30min'" &&
	db_sql postgres "SELECT pg_reload_conf()" >/dev/null || exit 1

# About 190 MB of clips (rows and their five indexes) per million rows.
rows=$((size_mb * 1000000 / 190))
echo "# loading $rows clips (about $size_mb MB)..."
db_sql clipper_db "INSERT INTO clips (user_id, title, slug, game, duration_seconds, views, likes)
  SELECT 1 + g % 5000, 'bulk clip number ' || g, 'bulk-' || g, (ARRAY['Chess','Portal','Celeste'])[1 + g % 3],
         5 + g % 55, g % 100000, g % 977 FROM generate_series(1, $rows) g" || exit 1
db_sql clipper_db "VACUUM ANALYZE" && db_sql clipper_db "CHECKPOINT" || exit 1
"$PGRESCUE" --env sandbox backup --no-base -q || exit 1
dump=$(ls "$SB"/store/database/postgres-backup-*.sql.gz | sort | tail -1)
dbsize=$(db_sql postgres "SELECT pg_size_pretty(pg_database_size('clipper_db'))")
dumpsize=$(du -h "$dump" | cut -f1)
echo "# clipper_db $dbsize, dump $dumpsize ($(basename "$dump")), pg_restore -j $JOBS"

now() { date +%s.%N; }
# Each side starts from a quiet server: the WAL of the last restore archived
# (the sandbox archives through pgrescue wal-push), checkpointed and synced.
quiesce() {
	local i
	for ((i = 0; i < 1200; i++)); do
		ls "$SB"/data/pg_wal/archive_status/*.ready >/dev/null 2>&1 || break
		sleep 0.5
	done
	db_sql postgres "CHECKPOINT" >/dev/null
	sync
}
raw_once() {
	db_sql postgres "DROP DATABASE IF EXISTS bench_raw" >/dev/null
	quiesce
	local t0 t1
	t0=$(now)
	db_sql postgres "CREATE DATABASE bench_raw TEMPLATE template0" >/dev/null || exit 1
	"$PG_BINDIR/pg_restore" -j "$JOBS" --exit-on-error -d "host=$SB/run port=$port user=postgres dbname=bench_raw" \
		"$dump" || exit 1
	t1=$(now)
	echo "$t1 - $t0" | bc
}
pgr_once() {
	# The database each restore replaces is kept: drop the last one, it is not timed.
	local old
	for old in $(db_sql postgres "SELECT datname FROM pg_database WHERE datname LIKE 'clipper\_db\_replaced\_%'"); do
		db_sql postgres "DROP DATABASE $old" >/dev/null
	done
	quiesce
	local t0 t1
	t0=$(now)
	"$PGRESCUE" --env sandbox restore --yes --jobs "$JOBS" --incident BENCH --reason benchmark </dev/null \
		>"$PGT_ROOT/restore.out" 2>&1 || { cat "$PGT_ROOT/restore.out"; exit 1; }
	t1=$(now)
	echo "$t1 - $t0" | bc
}

# One untimed warm-up of each, so both sides start with the dump in the page cache.
raw_once >/dev/null
pgr_once >/dev/null
best_raw=""; best_pgr=""; ratios=""
for round in $(seq 1 "$ROUNDS"); do
	if [ $((round % 2)) = 1 ]; then
		r=$(raw_once); p=$(pgr_once)
	else
		p=$(pgr_once); r=$(raw_once)
	fi
	rr=$(echo "scale=3; $p / $r" | bc)
	ratios="$ratios $rr"
	printf '# round %d: raw createdb + pg_restore -j %d %.2f s, pgrescue restore %.2f s, ratio %s\n' \
		"$round" "$JOBS" "$r" "$p" "$rr"
	[ -z "$best_raw" ] || [ "$(echo "$r < $best_raw" | bc)" = 1 ] && best_raw=$r
	[ -z "$best_pgr" ] || [ "$(echo "$p < $best_pgr" | bc)" = 1 ] && best_pgr=$p
done
ratio=$(echo "scale=3; $best_pgr / $best_raw" | bc)
median=$(printf '%s\n' $ratios | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}')
grep -E "^\[[0-9]/9\]" "$PGT_ROOT/restore.out" | sed 's/^/# last pgrescue run: /'
printf 'restore of %s (dump %s): raw createdb + pg_restore -j %d best %.2f s, pgrescue restore best %.2f s, best/best %s, median of paired rounds %s (target <= 1.05)\n' \
	"$dbsize" "$dumpsize" "$JOBS" "$best_raw" "$best_pgr" "$ratio" "$median"
