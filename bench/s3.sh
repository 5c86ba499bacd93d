#!/usr/bin/env bash
# Benchmark: the s3:// backend against a local OpenStack Swift (s3api +
# tempauth, the server tests/integration/s3.sh uses), in one run.
#  1. Download one 1 GiB object: curl itself through the same S3 API
#     (--aws-sigv4, the key from a netrc file since Swift's holds a colon;
#     no checking on curl's side) against `pgrescue wal-fetch` (SigV4 through
#     libcurl, the download checked as it streams), each into a file on the
#     same disk, warm, neither fsyncing; the median of the per-round ratios,
#     for an object pgrescue stored (multipart, checked against the XXH128 in
#     its metadata) and for one another tool stored (checked against its MD5
#     ETag).
#  2. List 100,000 keys: pgr_store_list over a bucket holding 100,000 WAL
#     names (bench/catalog_bench list), as it runs by default (key ranges
#     listed by 4 workers side by side) and one ListObjectsV2 page of 1,000
#     after the other (PGRESCUE_LIST_WORKERS=1), and the whole
#     `pgrescue status --json`, against curl doing the same listing: the
#     same 100 ListObjectsV2 pages by continuation token, signed by curl's
#     --aws-sigv4 (one curl per page, as a script would), and Swift's native
#     API (10 pages of 10,000) for reference. The keys are created
#     with Swift's bulk middleware: tar files of empty objects extracted by
#     the server (extract-archive), several at once.
# Swift's devices live in /dev/shm (tmpfs, which keeps xattrs) so that
# creating 100,000 objects is not bound by fsync.
# Usage: bench/s3.sh [SIZE_MIB KEYS]   (default 1024 100000; KEYS 0 skips 2)
#   PGRESCUE=path/to/pgrescue (default build/pgrescue), ROUNDS (default 3)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
: "${PGRESCUE:=$top/build/pgrescue}"
: "${ROUNDS:=3}"
: "${SWIFT_ENCRYPT:=0}" # no encryption at rest here: it would cost the proxy CPU for both sides
size_mib=${1:-1024} keys=${2:-100000}
[ -x "$PGRESCUE" ] || { echo "no pgrescue at $PGRESCUE (set PGRESCUE=)"; exit 1; }
builddir=$(cd "$(dirname "$PGRESCUE")" && pwd)
: "${CATALOG_BENCH:=$builddir/bench/catalog_bench}"
if [ ! -x "$CATALOG_BENCH" ]; then
	make -s -C "$builddir" bench/catalog_bench >/dev/null || { echo "cannot build $CATALOG_BENCH"; exit 1; }
fi

bail_out() { echo "bench: $*" >&2; exit 1; }
. "$top/tests/lib/swift.sh"
root=$(mktemp -d "${TMPDIR:-/tmp}/pgrescue-bench-s3.XXXXXX") || exit 1
swdir=$(mktemp -d /dev/shm/pgrescue-bench-swift.XXXXXX) || exit 1
cleanup() { swift_stop; rm -rf "$root" "$swdir"; }
pgt_cleanup() { :; }
swift_start "$swdir"
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
swift_token
export AWS_ACCESS_KEY_ID=$SWIFT_KEY AWS_SECRET_ACCESS_KEY=$SWIFT_SECRET AWS_ENDPOINT_URL=$SWIFT_URL
unset AWS_PROFILE AWS_REGION AWS_DEFAULT_REGION AWS_SESSION_TOKEN
tok=(-H "X-Auth-Token: $SWIFT_TOKEN")
curl -sf "${tok[@]}" -X PUT "$SWIFT_STORAGE_URL/big" >/dev/null || bail_out "cannot create bucket big"
curl -sf "${tok[@]}" -X PUT "$SWIFT_STORAGE_URL/many" >/dev/null || bail_out "cannot create bucket many"
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
now() { date +%s.%N; }

# ------------------------------------------------------------------ 1. one big object
# The same bytes twice: stored by `pgrescue wal-push` (multipart, with the
# SHA-256 pgrescue checks downloads against in the object's metadata), and by
# another tool through Swift's native API (one plain object, whose ETag is
# the MD5 pgrescue checks instead).
seg=000000010000000000000001
echo "# writing a $size_mib MiB object through pgrescue wal-push and through Swift's own API..."
mkdir -p "$root/src"
head -c $((size_mib * 1048576)) /dev/urandom >"$root/src/$seg"
bytes=$(stat -c %s "$root/src/$seg")
want=$(md5sum "$root/src/$seg" | cut -d' ' -f1)
"$PGRESCUE" --store s3://big/p wal-push "$root/src/$seg" || bail_out "pgrescue upload failed"
curl -sf "${tok[@]}" -T "$root/src/$seg" "$SWIFT_STORAGE_URL/big/n/wal-archive/$seg" >/dev/null ||
	bail_out "native upload failed"
rm -rf "$root/src"
curl -sf -I "${tok[@]}" "$SWIFT_STORAGE_URL/big/p/wal-archive/$seg" | grep -qi '^x-object-meta-pgrescue-sha256:' ||
	bail_out "pgrescue's object carries no SHA-256 in its metadata"

load() { cut -d' ' -f1-3 /proc/loadavg; }
# curl -u splits user:password at the first colon, and the access key has one.
printf 'machine 127.0.0.1 login %s password %s\n' "$SWIFT_KEY" "$SWIFT_SECRET" >"$root/netrc"
chmod 600 "$root/netrc"
sigv4=(--aws-sigv4 "aws:amz:us-east-1:s3" --netrc-file "$root/netrc"
	-H "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
side_curl() { # PREFIX DIGEST: curl alone, and curl then DIGEST over its file (the same work as pgrescue)
	rm -f "$root/c"
	local t0 t1 t2
	t0=$(now)
	curl -sf "${sigv4[@]}" -o "$root/c" "$SWIFT_URL/big/$1/wal-archive/$seg" || bail_out "curl download failed"
	t1=$(now)
	"$2" "$root/c" >/dev/null
	t2=$(now)
	rm -f "$root/c"
	c_plain=$(echo "$t1 - $t0" | bc -l) c_check=$(echo "$t2 - $t0" | bc -l)
}
side_pgr() { # PREFIX
	rm -f "$root/p"
	local t0 t1
	t0=$(now)
	"$PGRESCUE" --store "s3://big/$1" wal-fetch "$seg" "$root/p" || bail_out "pgrescue wal-fetch failed"
	t1=$(now)
	[ "$r" = 1 ] && { [ "$(md5sum "$root/p" | cut -d' ' -f1)" = "$want" ] || bail_out "pgrescue's copy differs"; }
	rm -f "$root/p"
	p_time=$(echo "$t1 - $t0" | bc -l)
}
mbps() { echo "scale=1; $bytes / 1048576 / $1" | bc -l; }
# curl and pgrescue take turns going first; neither fsyncs. pgrescue checks
# what it downloads, curl does not: so curl is also timed with the same check
# after it (sha256sum or md5sum over its file), the raw tools doing the same
# work. The medians of the per-round ratios.
for pfx in p n; do
	if [ "$pfx" = p ]; then
		what="stored by pgrescue, checked against its XXH128" digest=sha256sum
	else
		what="stored by another tool, checked against the ETag (MD5)" digest=md5sum
	fi
	side_curl "$pfx" true # warm the server's page cache
	t_curl=() t_check=() t_pgr=() ratios=() cratios=()
	for r in $(seq "$ROUNDS"); do
		sync
		if [ $((r % 2)) = 1 ]; then
			side_curl "$pfx" "$digest"
			side_pgr "$pfx"
		else
			side_pgr "$pfx"
			side_curl "$pfx" "$digest"
		fi
		t_curl+=("$c_plain") t_check+=("$c_check") t_pgr+=("$p_time")
		ratios+=("$(echo "$c_plain / $p_time" | bc -l)") cratios+=("$(echo "$c_check / $p_time" | bc -l)")
		printf '# %s round %d: curl %.2f s (+%s %.2f s), pgrescue %.2f s, ratio to curl %.2f, to curl+%s %.2f; load %s\n' \
			"$pfx" "$r" "$c_plain" "$digest" "$c_check" "$p_time" "${ratios[-1]}" "$digest" "${cratios[-1]}" "$(load)"
	done
	mc=$(median "${t_curl[@]}") mcc=$(median "${t_check[@]}") mp=$(median "${t_pgr[@]}")
	printf 'download %d MiB %s: curl %.2f s (%s MiB/s), curl+%s %.2f s (%s MiB/s), pgrescue %.2f s (%s MiB/s)\n' \
		"$size_mib" "$what" "$mc" "$(mbps "$mc")" "$digest" "$mcc" "$(mbps "$mcc")" "$mp" "$(mbps "$mp")"
	printf 'download ratio (pgrescue throughput / curl throughput), median of %d rounds: %.2f; against curl+%s (the same work): %.2f\n' \
		"$ROUNDS" "$(median "${ratios[@]}")" "$digest" "$(median "${cratios[@]}")"
done

[ "$keys" -gt 0 ] || exit 0
# ------------------------------------------------------------------ 2. many keys
echo "# creating $keys keys with Swift's bulk middleware..."
t0=$(now)
parts=4
per=$(((keys + parts - 1) / parts))
pids=()
for p in $(seq 0 $((parts - 1))); do
	(
		d="$root/tar$p/m/wal-archive"
		mkdir -p "$d"
		lo=$((p * per + 1)) hi=$(((p + 1) * per))
		[ "$hi" -gt "$keys" ] && hi=$keys
		cd "$d" && seq "$lo" "$hi" | awk '{printf "00000001%016X\n", $1}' | xargs touch
		tar -C "$root/tar$p" -cf "$root/part$p.tar" m
		rm -rf "$root/tar$p"
		curl -sf "${tok[@]}" -H "Accept: application/json" -X PUT -T "$root/part$p.tar" \
			"$SWIFT_STORAGE_URL/many?extract-archive=tar" >"$root/bulk$p.json"
	) &
	pids+=($!)
done
wait "${pids[@]}" # not a bare wait: the servers are children too
got=$(python3 -c '
import json, sys
print(sum(json.load(open(f))["Number Files Created"] for f in sys.argv[1:]))' "$root"/bulk*.json)
[ "$got" = "$keys" ] || bail_out "bulk upload created $got of $keys keys: $(cat "$root"/bulk*.json)"
printf '# created %d keys in %.1f s\n' "$keys" "$(echo "$(now) - $t0" | bc -l)"

# curl's --user splits at the first ':', and tempauth's key has one: a netrc
# file gives curl the key and the secret as two fields.
printf 'machine 127.0.0.1 login %s password %s\n' "$SWIFT_KEY" "$SWIFT_SECRET" >"$root/netrc"
chmod 600 "$root/netrc"
raw_s3_list() { # the same ListObjectsV2 pages, by continuation token, one curl each
	local token="" total=0 q enc
	while :; do
		q="list-type=2&max-keys=1000&prefix=m%2Fwal-archive%2F"
		if [ -n "$token" ]; then
			enc=${token//%/%25} enc=${enc//\//%2F} enc=${enc//+/%2B} enc=${enc//=/%3D}
			q="continuation-token=$enc&$q"
		fi
		curl -sf --netrc-file "$root/netrc" --aws-sigv4 "aws:amz:us-east-1:s3" \
			-H "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" \
			-o "$root/page.xml" "$SWIFT_URL/many?$q" || bail_out "curl ListObjectsV2 failed"
		total=$((total + $(grep -o '<Key>' "$root/page.xml" | wc -l)))
		token=$(grep -o '<NextContinuationToken>[^<]*' "$root/page.xml" | sed 's/.*>//')
		[ -z "$token" ] && break
	done
	echo "$total"
}
list_keys() { # [env...]: pgrescue's listing, checked whole
	local out n
	out=$(env "$@" "$CATALOG_BENCH" list s3://many/m) || bail_out "listing failed: $out"
	n=$(printf '%s\n' "$out" | sed -n 's/.*keys=\([0-9]*\).*/\1/p')
	[ "$n" = "$keys" ] || bail_out "pgrescue listed $n of $keys keys"
}
t_list=() t_serial=() t_raw=() t_native=() t_status=()
for r in $(seq "$ROUNDS"); do
	ta=$(now)
	list_keys PGRESCUE_LIST_WORKERS=1
	tb=$(now)
	total=$(raw_s3_list)
	tc=$(now)
	[ "$total" = "$keys" ] || bail_out "curl's ListObjectsV2 listing gave $total of $keys keys"
	t0=$(now)
	list_keys
	t1=$(now)
	marker="" total=0
	while :; do
		page=$(curl -sf "${tok[@]}" "$SWIFT_STORAGE_URL/many?prefix=m/wal-archive/&limit=10000&marker=$marker")
		[ -z "$page" ] && break
		total=$((total + $(printf '%s\n' "$page" | wc -l)))
		marker=$(printf '%s\n' "$page" | tail -1)
	done
	t2=$(now)
	[ "$total" = "$keys" ] || bail_out "native listing gave $total of $keys keys"
	# The whole status command: listing, catalog, window.
	n=$("$PGRESCUE" --store s3://many/m status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["store"].get("wal_files", "timeout"))')
	t3=$(now)
	t_list+=("$(echo "$t1 - $t0" | bc -l)")
	t_serial+=("$(echo "$tb - $ta" | bc -l)")
	t_raw+=("$(echo "$tc - $tb" | bc -l)")
	t_native+=("$(echo "$t2 - $t1" | bc -l)")
	t_status+=("$(echo "$t3 - $t2" | bc -l)")
	printf '# round %d: pgrescue %.2f s (one page at a time %.2f s), curl ListObjectsV2 %.2f s, native %.2f s, status %.2f s (wal_files %s); load %s\n' \
		"$r" "${t_list[-1]}" "${t_serial[-1]}" "${t_raw[-1]}" "${t_native[-1]}" "${t_status[-1]}" "$n" "$(cut -d' ' -f1-3 /proc/loadavg)"
done
ml=$(median "${t_list[@]}") mser=$(median "${t_serial[@]}") mraw=$(median "${t_raw[@]}")
mn=$(median "${t_native[@]}") ms=$(median "${t_status[@]}")
printf 'list %d keys (medians of %d): pgrescue %.2f s (4 key ranges side by side; one page at a time %.2f s); curl over the same ListObjectsV2 pages %.2f s; whole status --json %.2f s; curl on the native API (10,000 per page) %.2f s\n' \
	"$keys" "$ROUNDS" "$ml" "$mser" "$mraw" "$ms" "$mn"
