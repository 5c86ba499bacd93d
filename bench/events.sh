#!/usr/bin/env bash
# Benchmark: the event scan (`pgrescue events --since T --json`) over about
# SIZE_MB (default 1024) of archived WAL in 1 MB segments, read in place from
# the sandbox's file store, against pg_waldump alone over the same segments
# with its output to /dev/null. pg_waldump is timed twice: with the record
# filter pgrescue passes it (-r Heap -r Storage -r Transaction: the same
# work for pg_waldump, so the difference is pgrescue's parsing, catalog and
# resolution) and without a filter (what an engineer running pg_waldump by
# hand would do). The WAL holds inserts, updates and deletes in transactions
# big enough to be events. Throughput = WAL bytes read / wall-clock seconds;
# the ratio is pgrescue's throughput over pg_waldump's, median of ROUNDS.
# Usage: bench/events.sh [SIZE_MB]   (PGRESCUE=path/to/pgrescue, default build/pgrescue, a build
#                                     without --enable-asan; ROUNDS, default 5)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
: "${PGRESCUE:=$top/build/pgrescue}"
: "${ROUNDS:=5}"
size_mb=${1:-1024}
export PGR_TEST_LIB="$top/tests/lib" PGRESCUE
. "$top/tests/lib/tap.sh"
. "$top/tests/lib/pgcluster.sh"
[ -x "$PGRESCUE" ] || { echo "build pgrescue first (PGRESCUE=$PGRESCUE)"; exit 1; }
command -v jq >/dev/null || { echo "needs jq"; exit 1; }
pgt_setup
. "$top/tests/lib/sandbox.sh"
sb_trap_cleanup

"$PGRESCUE" sandbox up -q || exit 1
archived() { [ -f "$SB/store/wal-archive/$1" ]; }
wal_dir="$SB/store/wal-archive"
seg_mb=$(sb_sql "SELECT pg_size_bytes(current_setting('wal_segment_size')) / 1048576")

sleep 1.1
SINCE=$(date -u +'%Y-%m-%d %H:%M:%S')Z
first=$(sb_sql "SELECT pg_walfile_name(pg_current_wal_lsn())")
start_lsn=$(sb_sql "SELECT pg_current_wal_lsn()")
sb_sql "CREATE TABLE bulk (id bigint, v text)"
echo "generating about $size_mb MB of WAL (${seg_mb} MB segments) ..."
n=0
while :; do
	gen=$(sb_sql "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '$start_lsn') / 1048576")
	[ "${gen%.*}" -ge "$size_mb" ] && break
	sb_sql "INSERT INTO bulk SELECT g, md5(g::text) FROM generate_series($((n * 200000 + 1)), $(((n + 1) * 200000))) g"
	sb_sql "UPDATE bulk SET v = v || 'u' WHERE id > $((n * 200000)) AND id % 4 = 0"
	sb_sql "DELETE FROM bulk WHERE id > $((n * 200000)) AND id % 3 = 0"
	n=$((n + 1))
done
last=$(sb_sql "SELECT pg_walfile_name(pg_switch_wal())")
wait_for 600 archived "$last" || { echo "WAL $last was not archived"; exit 1; }
nsegs=$(ls "$wal_dir" | awk -v a="$first" -v b="$last" 'length($0) == 24 && $0 >= a && $0 <= b' | wc -l)
bytes=$((nsegs * seg_mb * 1048576))
echo "WAL: $first .. $last, $nsegs segments, $((bytes / 1048576)) MB"

now() { date +%s.%N; }
secs() { echo "$2 - $1" | bc -l; }
waldump() { # ARGS...: pg_waldump over first..last, output discarded
	TZ=UTC LC_ALL=C "$PG_BINDIR/pg_waldump" -p "$wal_dir" "$@" "$first" "$last" >/dev/null 2>&1
}
# One untimed warm-up of each (page cache).
"$PGRESCUE" --env sandbox events --since "$SINCE" --json >"$PGT_ROOT/ev.json" || { echo "events failed"; exit 1; }
waldump
jq -r '"events found: \(.events | length) (\([.events[].kind] | group_by(.) | map("\(length) \(.[0])") | join(", "))); segments scanned: \(.segments_scanned)"' "$PGT_ROOT/ev.json"
pbytes=$(jq -r .bytes_scanned "$PGT_ROOT/ev.json")
ratios_f=() ratios_u=() tp=() tf=() tu=()
for ((r = 1; r <= ROUNDS; r++)); do
	a=$(now); waldump -r Heap -r Storage -r Transaction; b=$(now); t_f=$(secs "$a" "$b")
	a=$(now); "$PGRESCUE" --env sandbox events --since "$SINCE" --json >/dev/null; b=$(now); t_p=$(secs "$a" "$b")
	a=$(now); waldump; b=$(now); t_u=$(secs "$a" "$b")
	mbs_p=$(echo "$pbytes / 1048576 / $t_p" | bc -l)
	mbs_f=$(echo "$bytes / 1048576 / $t_f" | bc -l)
	mbs_u=$(echo "$bytes / 1048576 / $t_u" | bc -l)
	rf=$(echo "$mbs_p / $mbs_f" | bc -l)
	ru=$(echo "$mbs_p / $mbs_u" | bc -l)
	printf 'round %d: pgrescue events %.2f s (%.0f MB/s); pg_waldump filtered %.2f s (%.0f MB/s); unfiltered %.2f s (%.0f MB/s); ratio %.2f / %.2f\n' \
		"$r" "$t_p" "$mbs_p" "$t_f" "$mbs_f" "$t_u" "$mbs_u" "$rf" "$ru"
	ratios_f+=("$rf") ratios_u+=("$ru")
done
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
printf 'median throughput ratio, pgrescue events / pg_waldump with the same filter: %.2f (target >= 0.9)\n' "$(median "${ratios_f[@]}")"
printf 'median throughput ratio, pgrescue events / pg_waldump unfiltered:          %.2f\n' "$(median "${ratios_u[@]}")"
