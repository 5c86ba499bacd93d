#!/usr/bin/env bash
# Benchmark: `pgrescue backup` against running pg_dump -Fc and pg_basebackup by
# hand, on the same database of about SIZE_MB (default 1000 MB), in one run.
# Prints each time and the ratio pgrescue / by-hand. By hand is what an
# engineer would type: pg_dump -Fc, then pg_basebackup; pgrescue runs the two
# side by side. ROUNDS (default 5) rounds, each side synced first and without
# the previous round's output; the side that goes first alternates by round.
# Prints best against best and the median of the paired per-round ratios.
# Usage: bench/backup.sh [SIZE_MB]    (PGRESCUE=path/to/pgrescue, default build/pgrescue)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
: "${PGRESCUE:=$top/build/pgrescue}"
: "${ROUNDS:=5}"
size_mb=${1:-1000}
export PGR_TEST_LIB="$top/tests/lib" PGRESCUE
. "$top/tests/lib/tap.sh"
. "$top/tests/lib/pgcluster.sh"
[ -x "$PGRESCUE" ] || { echo "build pgrescue first (PGRESCUE=$PGRESCUE)"; exit 1; }
pgt_setup

store="$PGT_ROOT/store"
pgt_server_dir "$store"
pgt_cluster_start db "archive_mode = on" "archive_command = '$PGT_PGRESCUE --store file://$store wal-push %p'" \
	"max_wal_size = 4GB" "checkpoint_timeout = 30min"
# pgbench scale 1 is about 15 MB of tables and indexes.
scale=$(( (size_mb + 14) / 15 ))
pgt_psql db postgres "CREATE DATABASE clipper_db" >/dev/null
echo "# loading pgbench scale $scale (about ${size_mb} MB)..."
"$PG_BINDIR/pgbench" -i -q -s "$scale" -h "$db_SOCK" -p "$db_PORT" -U postgres clipper_db >/dev/null 2>&1
pgt_psql db clipper_db "CHECKPOINT" >/dev/null && pgt_psql db clipper_db "VACUUM ANALYZE" >/dev/null
dbsize=$(pgt_psql db clipper_db "SELECT pg_size_pretty(pg_database_size('clipper_db'))")
echo "# database size: $dbsize"
cfg="$PGT_ROOT/config.ini"
pgt_config "$cfg" bench "$db_DSN_BASE dbname=clipper_db" "file://$store"
dsn="$db_DSN_BASE dbname=clipper_db"
raw="$PGT_ROOT/raw"
pgt_server_dir "$raw"

now() { date +%s.%N; }
by_hand() {
	"$PG_BINDIR/pg_dump" -Fc -d "$dsn" -f "$raw/dump.custom" || exit 1
	pgt_as_server "$PG_BINDIR/pg_basebackup" -D "$raw/base" -Ft -X none -c fast -d "$dsn" >/dev/null 2>&1 || exit 1
}
with_pgrescue() {
	"$PGRESCUE" --config "$cfg" backup --no-retention -q || exit 1
}
# Time one side, its page cache clean: the other side's writes are synced first.
timed() {
	sync
	local t0 t1
	t0=$(now)
	"$1" >/dev/null
	t1=$(now)
	echo "$t1 - $t0" | bc
}
best_raw=""; best_pgr=""; ratios=""
for round in $(seq 1 "$ROUNDS"); do
	# Each side starts without the previous round's output (WAL archive aside).
	rm -rf "$raw"/* "$store"/database/* "$store"/base/* "$store"/pgrescue/dumps/* && pgt_server_dir "$raw"
	# Odd rounds by hand first, even rounds pgrescue first: a machine getting
	# busier or quieter during the run favours neither side.
	if [ $((round % 2)) = 1 ]; then
		r=$(timed by_hand) && p=$(timed with_pgrescue) || exit 1
	else
		p=$(timed with_pgrescue) && r=$(timed by_hand) || exit 1
	fi
	rr=$(echo "scale=3; $p / $r" | bc)
	ratios="$ratios $rr"
	printf '# round %d: by hand %.2f s, pgrescue backup %.2f s, ratio %s\n' "$round" "$r" "$p" "$rr"
	[ -z "$best_raw" ] || [ "$(echo "$r < $best_raw" | bc)" = 1 ] && best_raw=$r
	[ -z "$best_pgr" ] || [ "$(echo "$p < $best_pgr" | bc)" = 1 ] && best_pgr=$p
done
ratio=$(echo "scale=3; $best_pgr / $best_raw" | bc)
# The paired ratio of each round (both sides under the same conditions) is
# steadier than best against best on a noisy machine: report its median too.
median=$(printf '%s\n' $ratios | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}')
printf 'backup of %s: by hand (pg_dump -Fc + pg_basebackup -Ft -X none) best %.2f s, pgrescue backup best %.2f s, best/best %s, median of paired rounds %s (target <= 1.10)\n' \
	"$dbsize" "$best_raw" "$best_pgr" "$ratio" "$median"
