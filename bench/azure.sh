#!/usr/bin/env bash
# Benchmark: the az:// backend against a local azurite (the server
# tests/integration/azure.sh uses), in one run.
#  1. Download one 1 GiB block blob (uploaded by `pgrescue wal-push`, so it
#     carries the XXH128 pgrescue recorded in its metadata, which the
#     download is checked against, and a Content-MD5): curl with an account
#     SAS (no signing, no checking on curl's side) against `pgrescue
#     wal-fetch` (Shared Key), each into a file on the same disk, warm.
#     wal-fetch does not fsync (restore_command's file needs no durability),
#     nor does curl. pgrescue checks what it downloads and curl does not, so
#     curl is also timed with sha256sum over its file after it: the raw
#     tools doing the same work. The sides alternate which goes first; the median of the
#     per-round ratios over ROUNDS, with the load average.
#  2. List KEYS blobs named like WAL segments: pgr_store_list (List Blobs,
#     5,000 per page by markers; bench/catalog_bench list) against a plain
#     client (Python, one connection) paging the same listing with the SAS
#     and the NextMarker of each page.
# Usage: bench/azure.sh [SIZE_MIB KEYS]   (default 1024 100000; KEYS 0 skips 2)
#   PGRESCUE=path/to/pgrescue (default build/pgrescue), ROUNDS (default 5)
#   AZ_METADATA=mariadb: list against an azurite whose metadata lives in a
#     throwaway MariaDB (azurite's SQL store, AZURITE_DB) instead of its default
#     in-memory Loki store; needs mariadb-server, which is never installed here.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
: "${PGRESCUE:=$top/build/pgrescue}"
: "${ROUNDS:=5}"
size_mib=${1:-1024} keys=${2:-100000}
: "${AZ_METADATA:=loki}"
[ -x "$PGRESCUE" ] || { echo "no pgrescue at $PGRESCUE (set PGRESCUE=)"; exit 1; }
mdb_tool() { # a MariaDB program: on PATH, else in /usr/sbin (not on a user's PATH)
	local c
	for c in "$@"; do
		command -v "$c" 2>/dev/null && return 0
		[ -x "/usr/sbin/$c" ] && { echo "/usr/sbin/$c"; return 0; }
	done
	return 1
}
case $AZ_METADATA in
loki) ;;
mariadb)
	mdb_server=$(mdb_tool mariadbd mysqld) && mdb_install=$(mdb_tool mariadb-install-db mysql_install_db) &&
		mdb_client=$(mdb_tool mariadb mysql) ||
		{ echo "AZ_METADATA=mariadb needs MariaDB's server, mariadb-install-db and client: apt-get install -y mariadb-server"; exit 1; }
	;;
*) echo "AZ_METADATA is loki (the default) or mariadb, not $AZ_METADATA"; exit 1 ;;
esac
builddir=$(cd "$(dirname "$PGRESCUE")" && pwd)
: "${CATALOG_BENCH:=$builddir/bench/catalog_bench}"
if [ "$keys" -gt 0 ] && [ ! -x "$CATALOG_BENCH" ]; then
	make -s -C "$builddir" bench/catalog_bench >/dev/null || { echo "cannot build $CATALOG_BENCH"; exit 1; }
fi

bail_out() { echo "bench: $*" >&2; exit 1; }
PGT_ROOT=$(mktemp -d "${TMPDIR:-/tmp}/pgrescue-bench-az.XXXXXX") || exit 1
root=$PGT_ROOT
. "$top/tests/lib/azurite.sh"
MDB_PID=
mdb_stop() {
	[ -n "$MDB_PID" ] || return 0
	kill "$MDB_PID" 2>/dev/null
	wait "$MDB_PID" 2>/dev/null
	MDB_PID=
}
cleanup() { azt_stop; mdb_stop; rm -rf "$root"; }
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
AZT_QUIET=1 azt_start
export AZURE_STORAGE_CONNECTION_STRING=$AZT_CONN
unset AZURE_STORAGE_ACCOUNT AZURE_STORAGE_KEY AZURE_STORAGE_SAS_TOKEN
sas=$(azt_py sas) || bail_out "cannot make a SAS"
azt_py mkcontainer big || bail_out "cannot create container big"
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
now() { date +%s.%N; }
load() { cut -d' ' -f1-3 /proc/loadavg; }

# ------------------------------------------------------------------ 1. one big object
seg=000000010000000000000001
echo "# writing a $size_mib MiB blob through pgrescue wal-push..."
mkdir -p "$root/src"
head -c $((size_mib * 1048576)) /dev/urandom >"$root/src/$seg"
want=$(md5sum "$root/src/$seg" | cut -d' ' -f1)
"$PGRESCUE" --store az://devstoreaccount1/big/b wal-push "$root/src/$seg" || bail_out "upload failed"
rm -rf "$root/src"
url="$AZT_ENDPOINT/big/b/wal-archive/$seg?$sas"
hdr=$(curl -sf -I "$url") || bail_out "curl cannot read the blob"
printf '%s' "$hdr" | grep -qi '^content-md5:' || bail_out "the blob has no Content-MD5: $hdr"
curl -sf -o /dev/null "$url" # warm azurite's files in the page cache

side_curl() {
	rm -f "$root/c"
	local t0 t1 t2
	t0=$(now)
	curl -sf -o "$root/c" "$url" || bail_out "curl download failed"
	t1=$(now)
	sha256sum "$root/c" >/dev/null # the check pgrescue makes, for the same work
	t2=$(now)
	rm -f "$root/c"
	c_plain=$(echo "$t1 - $t0" | bc -l) c_check=$(echo "$t2 - $t0" | bc -l)
}
side_pgr() {
	rm -f "$root/p"
	local t0 t1
	t0=$(now)
	"$PGRESCUE" --store az://devstoreaccount1/big/b wal-fetch "$seg" "$root/p" || bail_out "pgrescue wal-fetch failed"
	t1=$(now)
	[ "$r" = 1 ] && { [ "$(md5sum "$root/p" | cut -d' ' -f1)" = "$want" ] || bail_out "pgrescue's copy differs"; }
	rm -f "$root/p"
	p_time=$(echo "$t1 - $t0" | bc -l)
}
t_curl=() t_check=() t_pgr=() ratios=() cratios=()
for r in $(seq "$ROUNDS"); do
	sync
	if [ $((r % 2)) = 1 ]; then side_curl; side_pgr; else side_pgr; side_curl; fi
	t_curl+=("$c_plain") t_check+=("$c_check") t_pgr+=("$p_time")
	ratios+=("$(echo "$c_plain / $p_time" | bc -l)") cratios+=("$(echo "$c_check / $p_time" | bc -l)")
	printf '# round %d: curl %.2f s (+sha256sum %.2f s), pgrescue %.2f s, ratio to curl %.2f, to curl+sha256sum %.2f; load %s\n' \
		"$r" "$c_plain" "$c_check" "$p_time" "${ratios[-1]}" "${cratios[-1]}" "$(load)"
done
mc=$(median "${t_curl[@]}") mcc=$(median "${t_check[@]}") mp=$(median "${t_pgr[@]}")
mr=$(median "${ratios[@]}") mcr=$(median "${cratios[@]}")
bytes=$((size_mib * 1048576))
mbps() { echo "scale=1; $bytes / 1048576 / $1" | bc -l; }
printf 'download %d MiB: curl %.2f s (%s MiB/s), curl+sha256sum %.2f s (%s MiB/s), pgrescue %.2f s (%s MiB/s)\n' \
	"$size_mib" "$mc" "$(mbps "$mc")" "$mcc" "$(mbps "$mcc")" "$mp" "$(mbps "$mp")"
printf 'download ratio (pgrescue throughput / curl throughput), median of %d rounds: %.2f; against curl+sha256sum (the same work): %.2f; load %s\n' \
	"$ROUNDS" "$mr" "$mcr" "$(load)"

[ "$keys" -gt 0 ] || exit 0
# ------------------------------------------------------------------ 2. many keys
# Creating blobs one Put at a time slows as the container grows (azurite's
# metadata store keeps sorted indices that every insert splices): 75,000 took
# 20 minutes. So the container is seeded: one blob goes in through the API,
# then KEYS copies of its record under WAL segment names (sharing its stored
# byte) go straight into the metadata store. With Loki (the default), azurite
# is stopped (it saves its metadata file), the file gets the copies, and
# azurite starts again on it. With AZ_METADATA=mariadb, a throwaway MariaDB
# (its own datadir, loopback only) holds azurite's tables, a fresh azurite runs
# on it, and one INSERT ... SELECT copies the row. The listing that is timed is
# azurite's own.
mdb_start() { # a MariaDB in $root/mariadb on a free loopback port; sets MDB_URI, MDB_PID
	local dir=$root/mariadb user=() try port pw i
	pw=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
	mkdir -p "$dir/db"
	if [ "$(id -u)" = 0 ]; then # mariadbd will not run as root
		chmod 755 "$root"
		chown -R mysql: "$dir" || bail_out "cannot give $dir to the mysql user"
		user=(--user=mysql)
	fi
	cat >"$dir/init.sql" <<SQL
CREATE DATABASE IF NOT EXISTS azurite_blob CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
CREATE USER IF NOT EXISTS 'azurite'@'127.0.0.1' IDENTIFIED BY '$pw';
GRANT ALL ON azurite_blob.* TO 'azurite'@'127.0.0.1';
SQL
	chmod 644 "$dir/init.sql"
	"$mdb_install" --no-defaults "${user[@]}" --datadir="$dir/db" --skip-test-db \
		--auth-root-authentication-method=socket >"$root/mariadb-install.log" 2>&1 ||
		{ sed 's/^/# /' "$root/mariadb-install.log"; bail_out "mariadb-install-db failed"; }
	for try in 1 2 3 4 5; do
		port=$((30000 + RANDOM % 20000))
		"$mdb_server" --no-defaults "${user[@]}" --datadir="$dir/db" --socket="$dir/mysqld.sock" \
			--pid-file="$dir/mysqld.pid" --log-error="$dir/mysqld.err" --port="$port" \
			--bind-address=127.0.0.1 --skip-name-resolve --init-file="$dir/init.sql" \
			>"$root/mariadb.log" 2>&1 </dev/null &
		MDB_PID=$!
		for ((i = 0; i < 150; i++)); do
			kill -0 "$MDB_PID" 2>/dev/null || break
			if "$mdb_client" --no-defaults -h 127.0.0.1 -P "$port" -u azurite -p"$pw" azurite_blob \
				-e 'SELECT 1' >/dev/null 2>&1; then
				MDB_URI="mysql://azurite:$pw@127.0.0.1:$port/azurite_blob"
				MDB_ARGS=(--no-defaults -h 127.0.0.1 -P "$port" -u azurite -p"$pw" azurite_blob)
				return 0
			fi
			sleep 0.2
		done
		mdb_stop
		grep -qi 'address already in use' "$dir/mysqld.err" 2>/dev/null || break
	done
	sed 's/^/# /' "$dir/mysqld.err" "$root/mariadb.log" 2>/dev/null
	bail_out "MariaDB did not start ($mdb_server)"
}
echo "# seeding $keys blobs (azurite metadata: $AZ_METADATA)..."
t0=$(now)
if [ "$AZ_METADATA" = mariadb ]; then
	azt_stop
	mdb_start
	export AZURITE_DB=$MDB_URI
	PGT_ROOT=$root/sql # a fresh azurite data dir (its blob contents; metadata in MariaDB)
	AZT_QUIET=1 azt_start
	azt_py mkcontainer many || bail_out "cannot create container many"
	azt_py putwal many m/wal-archive/ 1 || bail_out "cannot store the first blob"
	# Every column but the key (blobId) and the name, from the row azurite wrote;
	# seq_1_to_N is MariaDB's Sequence engine.
	cols="accountName, containerName, snapshot, lastModified, creationTime, accessTierChangeTime,
		accessTierInferred, etag, blobType, blobSequenceNumber, accessTier, contentProperties, lease,
		deleting, isCommitted, persistency, committedBlocksInOrder, metadata, blobTags"
	[ "$keys" -lt 2 ] || "$mdb_client" "${MDB_ARGS[@]}" <<SQL || bail_out "cannot seed azurite's tables"
INSERT INTO Blobs (blobName, $cols)
SELECT CONCAT('m/wal-archive/00000001', LPAD(HEX(s.seq DIV 256), 8, '0'), LPAD(HEX(s.seq MOD 256), 8, '0')), $cols
FROM Blobs JOIN seq_1_to_$((keys - 1)) AS s
WHERE containerName = 'many' AND blobName = 'm/wal-archive/000000010000000000000000';
SQL
else
	azt_py mkcontainer many || bail_out "cannot create container many"
	azt_py putwal many m/wal-archive/ 1 || bail_out "cannot store the first blob"
	azt_stop
	python3 - "$AZT_DIR/data/__azurite_db_blob__.json" "$keys" <<'PY' || bail_out "cannot seed azurite's metadata"
import copy, json, sys
path, n = sys.argv[1], int(sys.argv[2])
db = json.load(open(path))
blobs = next(c for c in db["collections"] if c["name"] == "$BLOBS_COLLECTION$")
seed = next(d for d in blobs["data"] if d["containerName"] == "many")
others = [d for d in blobs["data"] if d["containerName"] != "many"]
data = []
for i in range(n):
    d = copy.deepcopy(seed)
    d["name"] = "m/wal-archive/00000001%08X%08X" % (i // 256, i % 256)
    data.append(d)
blobs["data"] = others + data
for i, d in enumerate(blobs["data"], 1):
    d["$loki"] = i
blobs["maxId"] = len(blobs["data"])
blobs["idIndex"] = None
for ix in blobs["binaryIndices"].values():  # rebuilt by azurite on first use
    ix["dirty"], ix["values"] = True, []
json.dump(db, open(path, "w"))
PY
	AZT_QUIET=1 azt_start
fi
[ "$(azt_py count many m/wal-archive/)" = "$keys" ] || bail_out "azurite does not list $keys seeded blobs"
printf '# seeded %d blobs in %.1f s\n' "$keys" "$(echo "$(now) - $t0" | bc -l)"
sas=$(azt_py sas) || bail_out "cannot make a SAS"
export AZURE_STORAGE_CONNECTION_STRING=$AZT_CONN

raw_list() { # a plain client over the same List Blobs pages, by NextMarker (one connection)
	python3 - "$AZT_ENDPOINT" "$sas" <<'PY'
import http.client, re, sys, urllib.parse
ep, sas = urllib.parse.urlsplit(sys.argv[1]), sys.argv[2]
conn = http.client.HTTPConnection(ep.hostname, ep.port, timeout=120)
marker, n = None, 0
while True:
    q = "restype=container&comp=list&prefix=m%2Fwal-archive%2F&maxresults=5000"
    if marker:
        q += "&marker=" + urllib.parse.quote(marker, safe="")
    conn.request("GET", "%s/many?%s&%s" % (ep.path, q, sas))
    r = conn.getresponse()
    body = r.read()
    if r.status != 200:
        sys.exit("HTTP %d" % r.status)
    n += body.count(b"<Blob>")
    m = re.search(rb"<NextMarker>([^<]+)</NextMarker>", body)
    if not m:
        break
    marker = m.group(1).decode()
print(n)
PY
}
t_list=() t_raw=()
for r in $(seq "$ROUNDS"); do
	t0=$(now)
	out=$("$CATALOG_BENCH" list az://devstoreaccount1/many/m) || bail_out "listing failed: $out"
	t1=$(now)
	n=$(printf '%s\n' "$out" | sed -n 's/.*keys=\([0-9]*\).*/\1/p')
	[ "$n" = "$keys" ] || bail_out "pgrescue listed $n of $keys keys"
	total=$(raw_list) || bail_out "raw listing failed"
	t2=$(now)
	[ "$total" = "$keys" ] || bail_out "raw listing gave $total of $keys keys"
	t_list+=("$(echo "$t1 - $t0" | bc -l)") t_raw+=("$(echo "$t2 - $t1" | bc -l)")
	printf '# round %d: pgrescue %.2f s, plain client %.2f s; load %s\n' "$r" "${t_list[-1]}" "${t_raw[-1]}" "$(load)"
done
store=
[ "$AZ_METADATA" = loki ] || store=" (azurite metadata in $AZ_METADATA)"
printf 'list %d blobs%s: pgrescue (List Blobs, 5,000 per page) %.2f s; a plain client over the same pages %.2f s; load %s\n' \
	"$keys" "$store" "$(median "${t_list[@]}")" "$(median "${t_raw[@]}")" "$(load)"
