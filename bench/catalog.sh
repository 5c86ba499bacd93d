#!/usr/bin/env bash
# Benchmark: the catalog over a big file:// store against listing the same
# files by hand, in one run. The store holds DUMPS dumps (each with pgrescue's
# manifest), BASES base backups (base.tar, backup_manifest, pgrescue.json) and
# WAL consecutive 16 MiB segments on timeline 1 (sparse files; written by
# bench/catalog_bench populate). Each round times, warm:
#   by hand:  find STORE -type f -printf '%s %T@ %p\n' | sort
#   pgrescue: pgr_catalog_build + pgr_catalog_window (bench/catalog_bench build)
# and reads the peak resident size of each (ru_maxrss; for the pipeline its
# largest process). Prints the median of ROUNDS (default 5) of each and the ratio.
# Usage: bench/catalog.sh [DUMPS BASES WAL]   (default 1000 200 100000)
#   PGRESCUE=path/to/pgrescue (default build/pgrescue); the driver is
#   CATALOG_BENCH (default bench/catalog_bench beside it, built with
#   `make bench/catalog_bench` in that build directory when missing).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
: "${PGRESCUE:=$top/build/pgrescue}"
: "${ROUNDS:=5}"
dumps=${1:-1000} bases=${2:-200} wal=${3:-100000}
builddir=$(cd "$(dirname "$PGRESCUE")" 2>/dev/null && pwd) || { echo "no build directory for PGRESCUE=$PGRESCUE"; exit 1; }
: "${CATALOG_BENCH:=$builddir/bench/catalog_bench}"
if [ ! -x "$CATALOG_BENCH" ]; then
	make -s -C "$builddir" bench/catalog_bench >/dev/null || { echo "cannot build $CATALOG_BENCH"; exit 1; }
fi

root=""
cleanup() { [ -n "$root" ] && [ -d "$root" ] && rm -rf "$root"; }
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
root=$(mktemp -d "${TMPDIR:-/tmp}/pgrescue-bench-catalog.XXXXXX") || exit 1
store="$root/store"
mkdir -p "$store"

# field NAME LINE: the value of NAME=value in a key=value line
field() { printf '%s\n' "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

echo "# writing the store: $dumps dumps, $bases base backups, $wal WAL segments..."
t0=$(date +%s.%N)
"$CATALOG_BENCH" populate "$store" "$dumps" "$bases" "$wal" >/dev/null || exit 1
sync
printf '# written in %.1f s, %s files\n' "$(echo "$(date +%s.%N) - $t0" | bc)" "$(find "$store" -type f | wc -l)"

raw_cmd="find '$store' -type f -printf '%s %T@ %p\n' | sort"
url="file://$store"
# Warm the cache (and check both work) before anything is timed.
"$CATALOG_BENCH" raw "$raw_cmd" >/dev/null || exit 1
line=$("$CATALOG_BENCH" build "$url") || exit 1
echo "# catalog: $(field dumps "$line") dumps ($(field good "$line") good), $(field bases "$line") bases" \
	"($(field complete "$line") complete), $(field wal "$line") WAL files; window: $(field window "$line")" \
	"from base $(field earliest_base "$line") to $(field last_wal "$line"), gap $(field gap "$line")"
[ "$(field window "$line")" = yes ] || echo "# WARNING: the catalog found no recoverable window"

raw_ms=() raw_kb=() pgr_ms=() pgr_kb=() build_ms=() window_ms=() list_ms=()
for round in $(seq 1 "$ROUNDS"); do
	r=$("$CATALOG_BENCH" raw "$raw_cmd") || exit 1
	p=$("$CATALOG_BENCH" build "$url") || exit 1
	l=$("$CATALOG_BENCH" list "$url") || exit 1
	raw_ms+=("$(field total_ms "$r")") raw_kb+=("$(field maxrss_kb "$r")")
	pgr_ms+=("$(field total_ms "$p")") pgr_kb+=("$(field maxrss_kb "$p")")
	build_ms+=("$(field build_ms "$p")") window_ms+=("$(field window_ms "$p")") list_ms+=("$(field list_ms "$l")")
	printf '# round %d: find|sort %s ms %s kB; catalog build %s ms + window %s ms = %s ms, %s kB; listing alone %s ms\n' \
		"$round" "${raw_ms[-1]}" "${raw_kb[-1]}" "${build_ms[-1]}" "${window_ms[-1]}" "${pgr_ms[-1]}" \
		"${pgr_kb[-1]}" "${list_ms[-1]}"
done
rm_=$(median "${raw_ms[@]}") rk=$(median "${raw_kb[@]}")
pm=$(median "${pgr_ms[@]}") pk=$(median "${pgr_kb[@]}")
printf '# medians: catalog build %s ms (store listing alone %s ms), window %s ms\n' \
	"$(median "${build_ms[@]}")" "$(median "${list_ms[@]}")" "$(median "${window_ms[@]}")"
ratio=$(echo "scale=2; $pm / $rm_" | bc)
printf 'catalog of %s dumps, %s base backups, %s WAL segments: find|sort %.0f ms (%.1f MB), pgrescue catalog build+window %.0f ms (%.1f MB), ratio %s (targets: < 300 ms, < 50 MB)\n' \
	"$dumps" "$bases" "$wal" "$rm_" "$(echo "$rk / 1024" | bc -l)" "$pm" "$(echo "$pk / 1024" | bc -l)" "$ratio"
