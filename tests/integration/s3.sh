#!/usr/bin/env bash
# The s3:// and gs:// stores against OpenStack Swift's s3api, which checks
# every SigV4 signature (its access key "test:tester" holds a colon): a real
# PostgreSQL archives through `pgrescue wal-push` into the bucket, `backup`
# writes a dump and a base backup (multipart: the base is larger than a part),
# `status` lists them, `wal-fetch` brings segments back byte for byte and
# `restore` rebuilds the database from the bucket. Then what goes wrong: more
# than 1,000 keys (pages), a wrong secret (403 with a hint), a server that
# dies in the middle of every download (retried, then a clear failure and no
# file), an endpoint that never answers (a timeout, not a hang). Keys from
# ~/.aws profiles; HTTPS through a TLS proxy with a private CA (ca_file). GCS
# runs the same code through the same server with its own variables.
. "$PGR_TEST_LIB/tap.sh"
. "$PGR_TEST_LIB/pgcluster.sh"
. "$PGR_TEST_LIB/swift.sh"
pgt_setup
swift_start "$PGT_ROOT/swift"
swift_token

make_bucket() {
	curl -sf -m 20 -X PUT -H "X-Auth-Token: $SWIFT_TOKEN" "$SWIFT_STORAGE_URL/$1" >/dev/null ||
		bail_out "cannot create bucket $1"
}
# What Swift itself holds under a bucket and prefix (its native API, so the
# check does not go through the code under test).
swift_keys() { # BUCKET PREFIX
	local marker="" page
	while :; do
		page=$(curl -sf -m 30 -H "X-Auth-Token: $SWIFT_TOKEN" \
			"$SWIFT_STORAGE_URL/$1?prefix=$2&limit=10000&marker=$marker") || return 1
		[ -z "$page" ] && break
		printf '%s\n' "$page"
		marker=$(printf '%s\n' "$page" | tail -1)
	done
}
swift_get() { # BUCKET KEY FILE
	curl -sf -m 120 -H "X-Auth-Token: $SWIFT_TOKEN" -o "$3" "$SWIFT_STORAGE_URL/$1/$2"
}
make_bucket pgr
make_bucket pgr-gcs
make_bucket many

export AWS_ACCESS_KEY_ID=$SWIFT_KEY AWS_SECRET_ACCESS_KEY=$SWIFT_SECRET AWS_ENDPOINT_URL=$SWIFT_URL
unset AWS_PROFILE AWS_REGION AWS_DEFAULT_REGION AWS_SESSION_TOKEN GOOGLE_ACCESS_KEY_ID GOOGLE_SECRET_ACCESS_KEY
STORE=s3://pgr/clipper

# The server's archive_command inherits these variables from the postmaster.
pgt_cluster_start pg "archive_mode = on" \
	"archive_command = '$PGT_PGRESCUE --store $STORE wal-push %p'" || bail_out "cluster"
pgt_make_clipper_db pg 1000 5000
# Enough data that base.tar goes up in parts (over 64 MiB).
pgt_psql pg clipper_db "CREATE TABLE blobs (id int PRIMARY KEY, payload text);
  INSERT INTO blobs SELECT g, md5(g::text) || repeat(md5((g * 7)::text), 6) FROM generate_series(1, 400000) g;" \
	>/dev/null || bail_out "cannot create the blobs table"

CFG=$PGT_ROOT/config.ini
DSN="$pg_DSN_BASE dbname=clipper_db"
pgt_config "$CFG" s3 "$DSN" "$STORE" "s3_sse=AES256" "s3_storage_class=STANDARD"

switch_wal() { # force segment switches and wait until archived
	local before
	before=$(pgt_psql pg postgres "SELECT archived_count FROM pg_stat_archiver")
	pgt_psql pg postgres "CREATE TABLE IF NOT EXISTS t(x int); INSERT INTO t VALUES (1); SELECT pg_switch_wal()" >/dev/null
	for _ in $(seq 1 150); do
		[ "$(pgt_psql pg postgres "SELECT archived_count FROM pg_stat_archiver")" -gt "$before" ] && return 0
		sleep 0.1
	done
	return 1
}

# ------------------------------------------------------------------ wal-push through archive_command
switch_wal && switch_wal
ok $? "PostgreSQL archives segments through wal-push into s3://" ||
	diag "$(pgt_psql pg postgres "SELECT * FROM pg_stat_archiver")" "$(tail -5 "$pg_LOG")"
is "$(pgt_psql pg postgres "SELECT failed_count FROM pg_stat_archiver")" 0 "no archive_command failed"
wal_keys=$(swift_keys pgr clipper/wal-archive/)
like "$wal_keys" "^clipper/wal-archive/0000000100000000000000[0-9A-F]{2}$" "segments sit flat under wal-archive/ in the bucket"
seg=$(printf '%s\n' "$wal_keys" | grep -E '/[0-9A-F]{24}$' | head -1)
seg=${seg##*/}
swift_get pgr "clipper/wal-archive/$seg" "$PGT_ROOT/seg.swift"
is "$(stat -c %s "$PGT_ROOT/seg.swift")" 1048576 "a segment in the bucket has the segment size"

# ------------------------------------------------------------------ wal-fetch
run_cmd f "$PGRESCUE" --store "$STORE" wal-fetch "$seg" "$PGT_ROOT/seg.fetched"
is "$f_rc" 0 "wal-fetch exits 0" || diag "$f_err"
cmp -s "$PGT_ROOT/seg.fetched" "$PGT_ROOT/seg.swift"
ok $? "wal-fetch gives the segment back byte for byte"
run_cmd m "$PGRESCUE" --store "$STORE" wal-fetch 0000000100000000000000EE "$PGT_ROOT/missing"
is "$m_rc" 1 "wal-fetch of a segment that is not there exits 1"
ok "$([ ! -e "$PGT_ROOT/missing" ]; echo $?)" "and leaves no file"

# ------------------------------------------------------------------ backup
run_cmd b "$PGRESCUE" --config "$CFG" backup
is "$b_rc" 0 "backup into s3:// exits 0" || diag "$b_err"
dumps=$(swift_keys pgr clipper/database/)
like "$dumps" "^clipper/database/postgres-backup-[0-9]{8}-[0-9]{6}\.sql\.gz$" "the dump is under database/"
DUMP_KEY=$(printf '%s\n' "$dumps" | head -1)
LABEL=${DUMP_KEY##*postgres-backup-}
LABEL=${LABEL%.sql.gz}
base_keys=$(swift_keys pgr "clipper/base/$LABEL/" | sort | tr '\n' ' ')
is "$base_keys" "clipper/base/$LABEL/backup_manifest clipper/base/$LABEL/base.tar clipper/base/$LABEL/pgrescue.json " \
	"base/$LABEL holds base.tar, backup_manifest and pgrescue.json"
swift_get pgr "clipper/base/$LABEL/base.tar" "$PGT_ROOT/base.tar"
swift_get pgr "clipper/base/$LABEL/pgrescue.json" "$PGT_ROOT/base.json"
size=$(stat -c %s "$PGT_ROOT/base.tar")
ok "$([ "$size" -gt $((64 * 1048576)) ]; echo $?)" "base.tar ($size bytes) is larger than one part, so it went up in parts"
is "$(jq -r '.files[] | select(.name | endswith("base.tar")) | .sha256' "$PGT_ROOT/base.json")" \
	"$(sha256sum "$PGT_ROOT/base.tar" | cut -d' ' -f1)" "the assembled base.tar has the SHA-256 its manifest records"
is "$(tar -tf "$PGT_ROOT/base.tar" | grep -c '^PG_VERSION$')" 1 "and it is a whole tar (PG_VERSION inside)"
swift_get pgr "$DUMP_KEY" "$PGT_ROOT/dump"
is "$(head -c 5 "$PGT_ROOT/dump")" "PGDMP" "the dump in the bucket is a custom-format archive"
mp=$(curl -sf -m 20 -H "X-Auth-Token: $SWIFT_TOKEN" "$SWIFT_STORAGE_URL/pgr+segments?prefix=clipper/base/" | wc -l)
ok "$([ "$mp" -gt 1 ]; echo $?)" "Swift kept the base.tar's parts ($mp segments)"
# Each object carries the SHA-256 pgrescue had when it sent it (user
# metadata), multipart ones too, whose ETag is no MD5.
swift_meta() { # BUCKET KEY NAME: the object's x-amz-meta-pgrescue-NAME, as Swift keeps it
	curl -sf -m 20 -I -H "X-Auth-Token: $SWIFT_TOKEN" "$SWIFT_STORAGE_URL/$1/$2" | tr -d '\r' |
		sed -n "s/^x-object-meta-pgrescue-$3: //Ip"
}
is "$(swift_meta pgr "clipper/base/$LABEL/base.tar" sha256)" "$(sha256sum "$PGT_ROOT/base.tar" | cut -d' ' -f1)" \
	"base.tar (multipart) records its SHA-256 in the object's metadata"
is "$(swift_meta pgr "clipper/base/$LABEL/base.tar" xxh128)" "$(xxhsum -H2 "$PGT_ROOT/base.tar" | cut -d' ' -f1)" \
	"and its XXH128 (as xxhsum -H2 gives it)"
is "$(swift_meta pgr "$DUMP_KEY" sha256)" "$(sha256sum "$PGT_ROOT/dump" | cut -d' ' -f1)" \
	"the dump (one part) records its SHA-256 too"
is "$(swift_meta pgr "$DUMP_KEY" xxh128)" "$(xxhsum -H2 "$PGT_ROOT/dump" | cut -d' ' -f1)" "and its XXH128"
leftover=$(curl -s -m 20 -H "X-Auth-Token: $SWIFT_TOKEN" "$SWIFT_STORAGE_URL/pgr?prefix=clipper/" | grep -vc -E \
	'^clipper/(database/postgres-backup-|base/|wal-archive/|pgrescue/dumps/)')
is "$leftover" 0 "nothing but the layout's keys in the bucket (no temp or partial names)"

# ------------------------------------------------------------------ status lists the bucket
switch_wal
run_cmd s "$PGRESCUE" --config "$CFG" status --json
parsed=$(printf '%s' "$s_out" | python3 -c '
import json, sys
d = json.load(sys.stdin)
s = d["store"]
print(s["reachable"], s["dumps"], s["base_backups"], s["wal_files"] >= 3, d["window"]["exists"])' 2>&1)
is "$parsed" "True 1 1 True True" "status over s3:// sees the dump, the base backup, the WAL and a window" ||
	diag "$s_err"

# ------------------------------------------------------------------ restore from the bucket
before=$(pgt_psql pg clipper_db "SELECT count(*), sum(length(payload)) FROM blobs")
users=$(pgt_psql pg clipper_db "SELECT count(*) FROM users")
pgt_psql pg clipper_db "DELETE FROM blobs WHERE id % 2 = 0; DROP TABLE users CASCADE" >/dev/null
run_cmd r "$PGRESCUE" --config "$CFG" --env s3 restore --yes --incident INC-S3 --reason "s3 test" </dev/null
is "$r_rc" 0 "restore --yes from s3:// exits 0" || diag "$r_out" "$r_err"
is "$(pgt_psql pg clipper_db "SELECT count(*), sum(length(payload)) FROM blobs")" "$before" \
	"the restored blobs table is the one in the dump"
is "$(pgt_psql pg clipper_db "SELECT count(*) FROM users")" "$users" "the dropped users table is back"

# ------------------------------------------------------------------ paging past 1,000 keys
# 1,234 segment names in another store, put there through Swift's own bulk
# upload so the listing is the only thing under test.
mkdir -p "$PGT_ROOT/many/m/wal-archive"
for i in $(seq 1 1234); do printf 'x' >"$PGT_ROOT/many/m/wal-archive/$(printf '00000001%016X' "$i")"; done
tar -C "$PGT_ROOT/many" -cf "$PGT_ROOT/many.tar" m
curl -sf -m 120 -X PUT -H "X-Auth-Token: $SWIFT_TOKEN" -H "Accept: application/json" -T "$PGT_ROOT/many.tar" \
	"$SWIFT_STORAGE_URL/many?extract-archive=tar" >"$PGT_ROOT/bulk.json" || bail_out "bulk upload failed"
is "$(swift_keys many m/wal-archive/ | wc -l)" 1234 "1,234 keys in the bucket"
run_cmd l "$PGRESCUE" --store s3://many/m status --json
is "$(printf '%s' "$l_out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["store"]["wal_files"])')" 1234 \
	"status lists all 1,234 keys (two pages and more)" || diag "$l_err"

# Listed side by side in key ranges, it is still the server's own listing, key
# for key and in its order: a second timeline (a gap far past any range's
# guess), a history file, and names with bytes the first page never showed.
mkdir -p "$PGT_ROOT/many2/m/wal-archive"
for i in $(seq 1 2500); do printf 'x' >"$PGT_ROOT/many2/m/wal-archive/$(printf '00000003%016X' "$i")"; done
for n in 00000003.history 00000003000000000000009C.partial 0000000300000000000000A0.00000028.backup; do
	printf 'x' >"$PGT_ROOT/many2/m/wal-archive/$n"
done
tar -C "$PGT_ROOT/many2" -cf "$PGT_ROOT/many2.tar" m
curl -sf -m 120 -X PUT -H "X-Auth-Token: $SWIFT_TOKEN" -H "Accept: application/json" -T "$PGT_ROOT/many2.tar" \
	"$SWIFT_STORAGE_URL/many?extract-archive=tar" >"$PGT_ROOT/bulk2.json" || bail_out "bulk upload failed"
native=$(swift_keys many m/wal-archive/ | sed 's|^m/||')
is "$(printf '%s\n' "$native" | wc -l)" 3737 "3,737 keys in the bucket now"
run_cmd lp env PGRESCUE_LIST_WORKERS=4 "$PGR_STORE_LS" s3://many/m wal-archive/
is "$lp_rc" 0 "the listing in key ranges side by side works" || diag "$lp_err"
ok "$([ "$lp_out" = "$native" ]; echo $?)" "it gives the server's keys, all of them, in the server's order" ||
	diag "$(diff <(printf '%s\n' "$native") <(printf '%s\n' "$lp_out") | head -20)"
run_cmd ls env PGRESCUE_LIST_WORKERS=1 "$PGR_STORE_LS" s3://many/m wal-archive/
ok "$([ "$ls_out" = "$lp_out" ]; echo $?)" "the same as one page after the other" || diag "$ls_err"

# ------------------------------------------------------------------ virtual-host style
run_cmd v env AWS_ENDPOINT_URL="http://localhost:$SWIFT_PORT" "$PGRESCUE" --config "$CFG" --env s3 \
	--store "$STORE" wal-fetch "$seg" "$PGT_ROOT/seg.vhost"
pgt_config "$CFG" vhost "$DSN" "$STORE" "s3_endpoint=http://localhost:$SWIFT_PORT" "s3_url_style=virtual"
run_cmd v "$PGRESCUE" --config "$CFG" --env vhost status --json
is "$(printf '%s' "$v_out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["store"]["dumps"])')" 1 \
	"virtual-host style (pgr.localhost) lists the same bucket" || diag "$v_err"

# ------------------------------------------------------------------ HTTPS with a private CA
# A TLS-terminating proxy in front of Swift (as a load balancer would be),
# its certificate from a CA made here: refused by default, trusted with ca_file.
. "$PGR_TEST_LIB/tls.sh"
tls_certs "$PGT_ROOT/tls"
tls_forward "$PGT_ROOT/tls" "$SWIFT_PORT"
run_cmd t env AWS_ENDPOINT_URL="https://127.0.0.1:$TLS_PORT" "$PGRESCUE" --store "$STORE" wal-fetch "$seg" "$PGT_ROOT/seg.tls"
is "$t_rc" 1 "over HTTPS, a certificate from a CA the system does not know is refused"
like "$t_err" "GET https://127\.0\.0\.1:$TLS_PORT/pgr/clipper/wal-archive/$seg" "the error names the URL" || diag "$t_err"
like "$t_err" "HINT: .*ca_file = /path/to/ca\.pem" "the HINT names ca_file"
ok "$([ ! -e "$PGT_ROOT/seg.tls" ]; echo $?)" "and no file was written"
pgt_config "$CFG" tls "$DSN" "$STORE" "s3_endpoint=https://127.0.0.1:$TLS_PORT" "ca_file=$TLS_CA"
run_cmd t env -u AWS_ENDPOINT_URL "$PGRESCUE" --config "$CFG" --env tls wal-fetch "$seg" "$PGT_ROOT/seg.tls"
is "$t_rc" 0 "with ca_file = the CA, wal-fetch over HTTPS works (Swift checks the signature behind the proxy)" ||
	diag "$t_err"
ok "$(cmp -s "$PGT_ROOT/seg.tls" "$PGT_ROOT/seg.swift"; echo $?)" "and the segment comes back byte for byte"
run_cmd t env -u AWS_ENDPOINT_URL "$PGRESCUE" --config "$CFG" --env tls status --json
is "$(printf '%s' "$t_out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["store"]["dumps"])' 2>/dev/null)" 1 \
	"status lists the bucket over HTTPS" || diag "$t_err"

# ------------------------------------------------------------------ a wrong secret
run_cmd w env AWS_SECRET_ACCESS_KEY=not-the-secret "$PGRESCUE" --store "$STORE" wal-fetch "$seg" "$PGT_ROOT/seg.w"
is "$w_rc" 1 "with a wrong secret, wal-fetch exits 1"
like "$w_err" "HTTP 403 Forbidden: SignatureDoesNotMatch" "the error has the status and the service's code"
like "$w_err" "GET http://127\.0\.0\.1:$SWIFT_PORT/pgr/clipper/wal-archive/$seg" "it names the URL"
like "$w_err" "HINT: .*secret.*clock" "the hint says to check the secret and the clock"
unlike "$w_err" "not-the-secret|$SWIFT_SECRET" "no secret in the message"
ok "$([ ! -e "$PGT_ROOT/seg.w" ]; echo $?)" "and no file was written"
run_cmd w env AWS_SECRET_ACCESS_KEY=not-the-secret "$PGRESCUE" --store "$STORE" status
like "$w_out$w_err" "403" "status reports the 403 too"

# ------------------------------------------------------------------ keys from ~/.aws profiles
# As the AWS tools keep them: no key in the environment, AWS_PROFILE naming a
# section of ~/.aws/credentials, the region in ~/.aws/config's [profile NAME].
AWSHOME=$PGT_ROOT/awshome
mkdir -p "$AWSHOME/.aws"
printf '[default]\naws_access_key_id = nobody\naws_secret_access_key = nothing\n\n[nightly]\naws_access_key_id = %s\naws_secret_access_key = %s\n\n[broken]\naws_access_key_id = %s\naws_secret_access_key = not-the-secret\n' \
	"$SWIFT_KEY" "$SWIFT_SECRET" "$SWIFT_KEY" >"$AWSHOME/.aws/credentials"
printf '[profile nightly]\nregion = us-east-1\n' >"$AWSHOME/.aws/config"
chmod 600 "$AWSHOME/.aws/credentials"
as_profile() { env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY HOME="$AWSHOME" "$@"; }
run_cmd pr as_profile AWS_PROFILE=nightly "$PGRESCUE" --store "$STORE" wal-fetch "$seg" "$PGT_ROOT/seg.profile"
is "$pr_rc" 0 "AWS_PROFILE=nightly: the keys from ~/.aws/credentials sign requests Swift accepts" || diag "$pr_err"
ok "$(cmp -s "$PGT_ROOT/seg.profile" "$PGT_ROOT/seg.swift"; echo $?)" "and the segment comes back byte for byte"
pgt_config "$CFG" profile "$DSN" "$STORE" "s3_profile=nightly"
run_cmd pr as_profile "$PGRESCUE" --config "$CFG" --env profile store-check
is "$pr_rc" 0 "s3_profile = nightly in the environment's section does the same" || diag "$pr_err"
run_cmd pr as_profile AWS_PROFILE=broken "$PGRESCUE" --store "$STORE" wal-fetch "$seg" "$PGT_ROOT/seg.broken"
is "$pr_rc" 1 "a profile with a wrong secret fails"
like "$pr_err" "403 Forbidden: SignatureDoesNotMatch" "with the 403 and its code"
like "$pr_err" "HINT: .*from the \[broken\] profile of ${AWSHOME//./\\.}/\.aws/credentials" "the hint says which profile of which file the keys came from" ||
	diag "$pr_err"
unlike "$pr_err" "not-the-secret|$SWIFT_SECRET" "no secret in the message"
ok "$([ ! -e "$PGT_ROOT/seg.broken" ]; echo $?)" "and no file was written"

run_cmd n "$PGRESCUE" --store s3://no-such-bucket/x wal-fetch "$seg" "$PGT_ROOT/seg.n"
like "$n_err" "NoSuchBucket" "a missing bucket is named by its code"
like "$n_err" "HINT: .*bucket name.*region" "with a hint on the name and the region"

# ------------------------------------------------------------------ a damaged object
# One byte flipped in the file Swift keeps on disk (same size, so only a
# digest can tell): the download is refused, nothing lands.
mkdir -p "$PGT_ROOT/dmg" "$PGT_ROOT/dmgout"
dseg=000000010000000F000000AA
head -c 300000 /dev/urandom >"$PGT_ROOT/dmg/$dseg"
dxxh=$(xxhsum -H2 "$PGT_ROOT/dmg/$dseg" | cut -d' ' -f1)
run_cmd dm "$PGRESCUE" --store s3://pgr/damage wal-push "$PGT_ROOT/dmg/$dseg"
is "$dm_rc" 0 "wal-push of a segment to damage exits 0" || diag "$dm_err"
# The .data file of the segment's size (Swift encrypts at rest, so not its
# bytes): the archiver may store WAL segments meanwhile.
ddata=$(find "$SWIFT_DIR/srv" -name '*.data' -newer "$PGT_ROOT/dmg/$dseg" -size 300000c)
is "$(printf '%s\n' "$ddata" | grep -c .)" 1 "Swift keeps it in one .data file, written since ($ddata)"
byte=$(od -An -tu1 -j 1000 -N 1 "$ddata" | tr -d ' ')
printf "\\$(printf '%03o' $(((byte + 1) % 256)))" | dd of="$ddata" bs=1 seek=1000 conv=notrunc status=none
run_cmd dm "$PGRESCUE" --store s3://pgr/damage wal-fetch "$dseg" "$PGT_ROOT/dmgout/$dseg"
is "$dm_rc" 1 "wal-fetch of the damaged object fails"
like "$dm_err" "the data's XXH128 is [0-9a-f]{32}, the one recorded when it was stored \(metadata pgrescue-xxh128\) is $dxxh" \
	"the error names the XXH128 recorded at upload" || diag "$dm_err"
like "$dm_err" "HINT: .*damaged" "with a hint"
is "$(ls -A "$PGT_ROOT/dmgout")" "" "nothing was left under the final name (nor a partial file)"

# ------------------------------------------------------------------ a server that dies mid-download
# It announces 3 MB, sends 64 kB and drops the connection, every time.
cat >"$PGT_ROOT/dying.py" <<'EOF'
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0)); s.listen(16)
open(sys.argv[1], "w").write(str(s.getsockname()[1]))
n = 0
while True:
    c, _ = s.accept()
    c.recv(65536)
    n += 1
    open(sys.argv[2], "w").write(str(n))
    c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 3000000\r\nETag: \"x\"\r\n\r\n" + b"z" * 65536)
    c.close()
EOF
python3 "$PGT_ROOT/dying.py" "$PGT_ROOT/dying.port" "$PGT_ROOT/dying.count" &
echo $! >"$PGT_ROOT/dying.pid"
for _ in $(seq 50); do [ -s "$PGT_ROOT/dying.port" ] && break; sleep 0.1; done
DPORT=$(cat "$PGT_ROOT/dying.port")
mkdir -p "$PGT_ROOT/dl"
run_cmd d env AWS_ENDPOINT_URL="http://127.0.0.1:$DPORT" "$PGRESCUE" --store "$STORE" wal-fetch "$seg" "$PGT_ROOT/dl/$seg"
is "$d_rc" 1 "a download cut off every time fails (exit 1)"
is "$(cat "$PGT_ROOT/dying.count")" 5 "it tried 5 times (retries with backoff)"
like "$d_err" "gave up after 5 attempts" "the error says it gave up after 5 attempts"
like "$d_err" "127\.0\.0\.1:$DPORT/pgr/clipper/wal-archive/$seg" "and names the URL"
is "$(ls -A "$PGT_ROOT/dl")" "" "nothing was left under the final name (nor a partial file)"
kill "$(cat "$PGT_ROOT/dying.pid")" 2>/dev/null

# ------------------------------------------------------------------ an endpoint that never answers
# A listener whose queue is full: connections are never accepted, SYNs dropped.
cat >"$PGT_ROOT/deaf.py" <<'EOF'
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(0)
fill = []
for _ in range(4):
    f = socket.socket(); f.setblocking(False)
    try: f.connect(s.getsockname())
    except BlockingIOError: pass
    fill.append(f)
open(sys.argv[1], "w").write(str(s.getsockname()[1]))
time.sleep(600)
EOF
python3 "$PGT_ROOT/deaf.py" "$PGT_ROOT/deaf.port" &
echo $! >"$PGT_ROOT/deaf.pid"
for _ in $(seq 50); do [ -s "$PGT_ROOT/deaf.port" ] && break; sleep 0.1; done
# store_timeout = 1s: each attempt gives up after a second (not the default 10 s).
DEAF=$(cat "$PGT_ROOT/deaf.port")
pgt_config "$CFG" deaf "$DSN" "$STORE" "s3_endpoint=http://127.0.0.1:$DEAF" "store_timeout=1s"
start=$(date +%s)
run_cmd t timeout 300 "$PGRESCUE" --config "$CFG" --env deaf wal-fetch "$seg" "$PGT_ROOT/dl/t"
is "$t_rc" 1 "an endpoint that never answers fails (exit 1), it does not hang"
like "$t_err" "127\.0\.0\.1:$DEAF/pgr/clipper/wal-archive/$seg" "the error names the URL"
like "$t_err" "[Tt]imed? ?out" "it says it timed out"
like "$t_err" "gave up after 5 attempts" "after retrying"
like "$t_err" "HINT: .*1 s to connect.*store_timeout.*endpoint" "the hint gives store_timeout's value and the endpoint"
ok "$([ ! -e "$PGT_ROOT/dl/t" ]; echo $?)" "nothing was written"
diag "gave up after $(($(date +%s) - start)) s"
kill "$(cat "$PGT_ROOT/deaf.pid")" 2>/dev/null

# ------------------------------------------------------------------ GCS through the S3 path
GSTORE=gs://pgr-gcs/clipper
pgt_config "$CFG" gcs "$DSN" "$GSTORE" "s3_endpoint=$SWIFT_URL" "s3_region=us-east-1"
export GOOGLE_ACCESS_KEY_ID=$SWIFT_KEY GOOGLE_SECRET_ACCESS_KEY=$SWIFT_SECRET
# The server now archives into the GCS bucket: its endpoint and region from a
# config file it can read, its HMAC keys from the AWS variables it inherited.
PGCFG=$PGT_ROOT/pg-config/config.ini
pgt_config "$PGCFG" gcs "$DSN" "$GSTORE" "s3_endpoint=$SWIFT_URL" "s3_region=us-east-1"
chown -R postgres: "$PGT_ROOT/pg-config" 2>/dev/null
pgt_psql pg postgres "ALTER SYSTEM SET archive_command = '$PGT_PGRESCUE --config $PGCFG --env gcs wal-push %p'" &&
	pgt_psql pg postgres "SELECT pg_reload_conf()" >/dev/null
run_cmd g env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY "$PGRESCUE" --config "$CFG" --env gcs backup
is "$g_rc" 0 "backup into gs:// (HMAC keys from GOOGLE_*) exits 0" || diag "$g_err"
like "$(swift_keys pgr-gcs clipper/database/)" "postgres-backup-" "the dump is in the GCS bucket"
mkdir -p "$PGT_ROOT/push" && cp "$PGT_ROOT/seg.fetched" "$PGT_ROOT/push/$seg"
run_cmd g env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY "$PGRESCUE" --config "$CFG" --env gcs \
	wal-push "$PGT_ROOT/push/$seg"
is "$g_rc" 0 "wal-push into gs:// exits 0" || diag "$g_err"
run_cmd g env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY "$PGRESCUE" --config "$CFG" --env gcs \
	wal-fetch "$seg" "$PGT_ROOT/seg.gcs"
is "$g_rc" 0 "wal-fetch from gs:// exits 0" || diag "$g_err"
cmp -s "$PGT_ROOT/seg.gcs" "$PGT_ROOT/seg.swift"
ok $? "and gives the same bytes back"
run_cmd g env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY "$PGRESCUE" --config "$CFG" --env gcs status --json
is "$(printf '%s' "$g_out" | python3 -c 'import json,sys; s=json.load(sys.stdin)["store"]; print(s["dumps"], s["base_backups"], s["wal_files"] >= 2)')" \
	"1 1 True" "status over gs:// lists the dump, the base backup and the segments" || diag "$g_err"
pgt_psql pg clipper_db "TRUNCATE blobs" >/dev/null
run_cmd g env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY "$PGRESCUE" --config "$CFG" --env gcs \
	restore --yes --incident INC-GS --reason "gcs test" </dev/null
is "$g_rc" 0 "restore --yes from gs:// exits 0" || diag "$g_out" "$g_err"
is "$(pgt_psql pg clipper_db "SELECT count(*), sum(length(payload)) FROM blobs")" "$before" \
	"the blobs table is back from the GCS bucket"
run_cmd g env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY GOOGLE_SECRET_ACCESS_KEY=wrong \
	"$PGRESCUE" --config "$CFG" --env gcs wal-fetch "$seg" "$PGT_ROOT/seg.gw"
like "$g_err" "403 Forbidden: SignatureDoesNotMatch" "a wrong GCS HMAC secret gives the 403 and its code"

done_testing
