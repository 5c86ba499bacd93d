#!/usr/bin/env bash
# The az:// store against azurite (started here, from npm) and a real
# PostgreSQL 15: backup, archive_command's wal-push, wal-fetch, status and a
# full restore all through Azure Blob; what lands there checked with an
# independent client (Python's own Shared Key signer); large files in blocks;
# listings past the service's 5,000-key page and in forced small pages; a
# wrong key, a wrong SAS and a missing container give clear errors without
# secrets; an endpoint that never answers times out; a damaged object fails
# its MD5 check; an upload killed half-way leaves no blob; azurite killed in
# the middle of a download is retried, then fails, leaving nothing behind.
. "$PGR_TEST_LIB/tap.sh"
. "$PGR_TEST_LIB/pgcluster.sh"
pgt_setup
. "$PGR_TEST_LIB/azurite.sh"
azt_start
azt_py mkcontainer backups || bail_out "cannot create a container in azurite"

export AZURE_STORAGE_CONNECTION_STRING="$AZT_CONN"
unset AZURE_STORAGE_ACCOUNT AZURE_STORAGE_KEY AZURE_STORAGE_SAS_TOKEN PGRESCUE_AZURE_LIST_MAX
# 1 MiB blocks: base.tar goes up as staged blocks and one Put Block List,
# WAL segments (1 MiB here) as one Put Blob each.
export PGRESCUE_AZURE_BLOCK_SIZE=1048576
STORE=az://devstoreaccount1/backups/prod
# The server inherits the connection string: archive_command needs no secret in its text.
pgt_cluster_start pg "archive_mode = on" "archive_command = '$PGT_PGRESCUE --store $STORE wal-push %p'" ||
	bail_out "cannot start the cluster"
pgt_make_clipper_db pg 1000 5000
CFG=$PGT_ROOT/config.ini
DSN="$pg_DSN_BASE dbname=clipper_db"
pgt_config "$CFG" az "$DSN" "$STORE" "data_dir=$pg_DATA" "run_as=postgres" "app_scale=none"

switch_and_wait() {
	local before
	before=$(pgt_psql pg postgres "SELECT archived_count + failed_count FROM pg_stat_archiver")
	pgt_psql pg postgres "CREATE TABLE IF NOT EXISTS tick(x int); INSERT INTO tick VALUES (1); SELECT pg_switch_wal()" >/dev/null
	for _ in $(seq 1 150); do
		[ "$(pgt_psql pg postgres "SELECT archived_count + failed_count FROM pg_stat_archiver")" -gt "$before" ] && return 0
		sleep 0.1
	done
	return 1
}
json() { printf '%s' "$1" | python3 -c "import json, sys; d = json.load(sys.stdin); print($2)"; }

# ------------------------------------------------------------------ backup
run_cmd b "$PGRESCUE" --config "$CFG" backup
is "$b_rc" 0 "backup into az:// exits 0" || diag "$b_err"
is "$(azt_py count backups prod/database/postgres-backup-)" 1 "one dump under database/ in the container"
DUMP_KEY=$("$PGRESCUE" --config "$CFG" status --json 2>/dev/null |
	python3 -c 'import json, sys; print(json.load(sys.stdin)["newest_dump"]["key"])')
like "$DUMP_KEY" '^database/postgres-backup-[0-9]{8}-[0-9]{6}\.sql\.gz$' "status names the dump by its key"
DUMP_NAME=${DUMP_KEY#database/}
LABEL=${DUMP_NAME#postgres-backup-}
LABEL=${LABEL%.sql.gz}
is "$(azt_py count backups "prod/base/$LABEL/")" 3 "base/$LABEL/ holds base.tar, backup_manifest, pgrescue.json"
is "$(azt_py count backups "prod/pgrescue/dumps/$DUMP_NAME.json")" 1 "the dump's manifest is there"

# What landed, read back by the independent client, matches the manifests.
mkdir -p "$PGT_ROOT/check"
azt_py getfile backups "prod/$DUMP_KEY" "$PGT_ROOT/check/dump" || fail "download the dump"
azt_py getfile backups "prod/pgrescue/dumps/$DUMP_NAME.json" "$PGT_ROOT/check/dump.json"
azt_py getfile backups "prod/base/$LABEL/base.tar" "$PGT_ROOT/check/base.tar"
azt_py getfile backups "prod/base/$LABEL/pgrescue.json" "$PGT_ROOT/check/base.json"
is "$(head -c 5 "$PGT_ROOT/check/dump")" PGDMP "the dump in Azure is a pg_dump archive"
sha_of() { # MANIFEST NAME: the SHA-256 the manifest records for NAME
	python3 -c 'import json, sys; print("".join(f["sha256"] for f in json.load(open(sys.argv[1]))["files"] if f["name"] == sys.argv[2]))' "$1" "$2"
}
is "$(sha256sum <"$PGT_ROOT/check/dump" | cut -d' ' -f1)" "$(sha_of "$PGT_ROOT/check/dump.json" "$DUMP_KEY")" \
	"the dump's SHA-256 in Azure is the manifest's"
is "$(sha256sum <"$PGT_ROOT/check/base.tar" | cut -d' ' -f1)" \
	"$(sha_of "$PGT_ROOT/check/base.json" "base/$LABEL/base.tar")" "base.tar's SHA-256 in Azure is the manifest's"
ok "$([ "$(stat -c %s "$PGT_ROOT/check/base.tar")" -gt 1048576 ]; echo $?)" "base.tar is larger than one block"
like "$(grep -E "RequestURL=[^ ]*/prod/base/$LABEL/base\.tar\?comp=block&" "$AZT_DIR/debug.log" | wc -l)" '^[2-9]|^[1-9][0-9]+' \
	"base.tar went up as several staged blocks"
like "$(grep -c "RequestURL=[^ ]*/prod/base/$LABEL/base\.tar?comp=blocklist" "$AZT_DIR/debug.log")" '^1$' \
	"and was committed by one Put Block List"

# ------------------------------------------------------------------ WAL
switch_and_wait || fail "the archiver did not move"
switch_and_wait
is "$(pgt_psql pg postgres "SELECT failed_count FROM pg_stat_archiver")" 0 "archive_command never failed"
LAST=$(pgt_psql pg postgres "SELECT last_archived_wal FROM pg_stat_archiver")
like "$LAST" '^[0-9A-F]{24}$' "the archiver reports a last archived segment"
is "$(azt_py exists backups "prod/wal-archive/$LAST")" yes "archive_command pushed $LAST into Azure"
run_cmd f "$PGRESCUE" --store "$STORE" wal-fetch "$LAST" "$PGT_ROOT/check/fetched"
is "$f_rc" 0 "wal-fetch $LAST exits 0" || diag "$f_err"
azt_py getfile backups "prod/wal-archive/$LAST" "$PGT_ROOT/check/independent"
ok "$(cmp -s "$PGT_ROOT/check/fetched" "$PGT_ROOT/check/independent"; echo $?)" \
	"wal-fetch wrote exactly the bytes in Azure"
is "$(stat -c %s "$PGT_ROOT/check/fetched")" 1048576 "a whole 1 MiB segment"
cp "$PGT_ROOT/check/fetched" "$PGT_ROOT/check/$LAST"
run_cmd p "$PGRESCUE" -v --store "$STORE" wal-push "$PGT_ROOT/check/$LAST"
is "$p_rc" 0 "pushing the same segment again succeeds (a retry after a lost reply)" || diag "$p_err"
run_cmd m "$PGRESCUE" --store "$STORE" wal-fetch 0000000100000000000000EE "$PGT_ROOT/check/missing"
is "$m_rc" 1 "wal-fetch of a segment not in Azure exits 1"
is "$m_err" "" "quietly, as restore_command expects"
ok "$([ ! -e "$PGT_ROOT/check/missing" ]; echo $?)" "and writes nothing"

# ------------------------------------------------------------------ listing
run_cmd s "$PGRESCUE" --config "$CFG" status --json
is "$(json "$s_out" 'd["store"]["reachable"], d["store"]["dumps"], d["store"]["base_backups"]')" "True 1 1" \
	"status lists the store through Azure: 1 dump, 1 base backup" || diag "$s_err"
WAL_N=$(json "$s_out" 'd["store"]["wal_files"]')
ok "$([ "$WAL_N" -ge 3 ]; echo $?)" "status counts the archived WAL ($WAL_N files)"
is "$(json "$s_out" 'd["window"]["exists"]')" True "and finds a recoverable window"
run_cmd s3 env PGRESCUE_AZURE_LIST_MAX=3 "$PGRESCUE" --config "$CFG" status --json
is "$(json "$s3_out" 'd["store"]["dumps"], d["store"]["base_backups"], d["store"]["wal_files"]')" "1 1 $WAL_N" \
	"in pages of 3 keys the listing is the same"

# Past the service's own page of 5,000 keys.
azt_py putwal backups paging/wal-archive/ 5100 || bail_out "cannot load 5,100 blobs into azurite"
is "$(azt_py count backups paging/wal-archive/)" 5100 "5,100 segments in a second store"
pgt_config "$CFG" paging "$DSN" "az://devstoreaccount1/backups/paging"
before_lists=$(grep -c "comp=list" "$AZT_DIR/debug.log")
run_cmd l "$PGRESCUE" --config "$CFG" --env paging status --json
is "$(json "$l_out" 'd["store"]["reachable"], d["store"]["wal_files"]')" "True 5100" \
	"status counts all 5,100 segments" || diag "$l_err"
like "$(grep "comp=list" "$AZT_DIR/debug.log" | tail -n +$((before_lists + 1)) | grep -c 'marker=')" '^[1-9]' \
	"the listing followed a NextMarker past the first page"
run_cmd l2 env PGRESCUE_AZURE_LIST_MAX=1000 "$PGRESCUE" --config "$CFG" --env paging status --json
is "$(json "$l2_out" 'd["store"]["wal_files"]')" 5100 "in pages of 1,000 keys too"

# ------------------------------------------------------------------ restore
USERS=$(pgt_psql pg clipper_db "SELECT count(*) FROM users")
pgt_psql pg postgres "CREATE DATABASE reference" >/dev/null
"$PG_BINDIR/pg_restore" -d "$pg_DSN_BASE dbname=reference" "$PGT_ROOT/check/dump" || bail_out "raw pg_restore failed"
pgt_psql pg clipper_db "INSERT INTO users (username, email) VALUES ('after_backup', 'a@b.c')" >/dev/null
run_cmd r "$PGRESCUE" --config "$CFG" --env az restore --yes </dev/null
is "$r_rc" 0 "restore --yes from the dump in Azure exits 0" || diag "$r_out" "$r_err"
like "$r_out" "Run [^ ]+ finished" "the run finished"
checksum() { pgt_psql pg "$1" "SELECT count(*) || ':' || md5(coalesce(string_agg(t::text, '|' ORDER BY t.id), '')) FROM $2 t"; }
for t in users clips; do
	is "$(checksum clipper_db "$t")" "$(checksum reference "$t")" "restored $t is identical to the dump in Azure"
done
is "$(pgt_psql pg clipper_db "SELECT count(*) FROM users")" "$USERS" "the row written after the backup is gone"

# ------------------------------------------------------------------ errors
WRONG_KEY=$(printf 'not-the-key-%.0s' 1 2 3 4 5 6 | head -c 64 | base64 -w0)
run_cmd k env AZURE_STORAGE_CONNECTION_STRING="${AZT_CONN/$AZT_KEY/$WRONG_KEY}" \
	"$PGRESCUE" --store "$STORE" wal-fetch "$LAST" "$PGT_ROOT/check/wrongkey"
is "$k_rc" 1 "a wrong account key fails"
like "$k_err" "HTTP 403 (AuthorizationFailure|AuthenticationFailed) from http://127\.0\.0\.1:$AZT_PORT/devstoreaccount1/backups/prod/wal-archive/$LAST" \
	"the error names the status, the service's error code and the URL"
like "$k_err" "HINT: Check the account key of \"devstoreaccount1\" .*clock" "the hint: the key and the clock"
unlike "$k_err" "${WRONG_KEY:0:12}|${AZT_KEY:0:12}|Authorization:" "no key material in the message"
ok "$([ ! -e "$PGT_ROOT/check/wrongkey" ]; echo $?)" "nothing was written"

run_cmd st "$PGRESCUE" --config "$CFG" --env az --store "az://devstoreaccount1/nosuchcontainer/prod" status --json
like "$(json "$st_out" 'd["store"]["reachable"], d["store"]["error"]')" \
	"^False .*HTTP 404 ContainerNotFound from http://127\.0\.0\.1:$AZT_PORT/devstoreaccount1/nosuchcontainer" \
	"status: a missing container is named by the service's code"
run_cmd nc "$PGRESCUE" --store "az://devstoreaccount1/nosuchcontainer/prod" wal-fetch "$LAST" "$PGT_ROOT/check/nc"
is "$nc_rc" 1 "wal-fetch from a missing container fails (not \"segment missing\")"
like "$nc_err" "HINT: Check the container name \"nosuchcontainer\"" "and the hint says to check the name"

SAS=$(azt_py sas)
run_cmd sa env AZURE_STORAGE_CONNECTION_STRING="BlobEndpoint=$AZT_ENDPOINT;SharedAccessSignature=$SAS" \
	"$PGRESCUE" --store "$STORE" wal-fetch "$LAST" "$PGT_ROOT/check/sas"
is "$sa_rc" 0 "a SAS token works instead of the key" || diag "$sa_err"
ok "$(cmp -s "$PGT_ROOT/check/sas" "$PGT_ROOT/check/independent"; echo $?)" "and fetches the same bytes"
# Account and SAS token from their own variables, the endpoint from the
# environment's azure_endpoint key.
pgt_config "$CFG" azsas "$DSN" "$STORE" "azure_endpoint=$AZT_ENDPOINT"
run_cmd sc env AZURE_STORAGE_CONNECTION_STRING= AZURE_STORAGE_ACCOUNT=devstoreaccount1 AZURE_STORAGE_SAS_TOKEN="?$SAS" \
	"$PGRESCUE" --config "$CFG" --env azsas status --json
is "$(json "$sc_out" 'd["store"]["reachable"], d["store"]["dumps"], d["store"]["base_backups"]')" "True 1 1" \
	"AZURE_STORAGE_ACCOUNT + AZURE_STORAGE_SAS_TOKEN with azure_endpoint list the store" || diag "$sc_err"
BAD_SAS=$(sed 's/sig=[^&]*/sig=AAAAbadsignatureAAAA%3D/' <<<"$SAS")
run_cmd sb env AZURE_STORAGE_CONNECTION_STRING= AZURE_STORAGE_ACCOUNT=devstoreaccount1 AZURE_STORAGE_SAS_TOKEN="?$BAD_SAS" \
	"$PGRESCUE" --config "$CFG" --env azsas status --json
like "$(json "$sb_out" 'd["store"]["error"]')" "HTTP 403 AuthorizationFailure from $AZT_ENDPOINT/backups" \
	"a bad SAS signature gives 403 with the service's code" || diag "$sb_err"
unlike "$sb_out$sb_err" "badsignature|${SAS##*sig=}|sv=2021|srt=sco" "and no part of the token appears"
run_cmd sd env AZURE_STORAGE_CONNECTION_STRING="BlobEndpoint=$AZT_ENDPOINT;SharedAccessSignature=$BAD_SAS" \
	"$PGRESCUE" --store "$STORE" wal-fetch "$LAST" "$PGT_ROOT/check/badsas"
like "$sd_err" "HINT: Check the SAS token" "wal-fetch with it: the hint names the SAS token"
unlike "$sd_err" "badsignature|sv=2021|srt=sco" "without showing it"

# An endpoint that accepts no connection (a full listen queue): connects time
# out and are retried, then the command fails instead of hanging.
python3 -c '
import socket, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(0)
port = s.getsockname()[1]
fill = []
for _ in range(3):
    c = socket.socket(); c.setblocking(False)
    try: c.connect(("127.0.0.1", port))
    except BlockingIOError: pass
    fill.append(c)
print(port, flush=True)
time.sleep(900)' >"$PGT_ROOT/blackhole.port" &
echo $! >"$PGT_ROOT/blackhole.pid"
wait_port() { [ -s "$PGT_ROOT/blackhole.port" ]; }
for _ in $(seq 1 50); do wait_port && break; sleep 0.1; done
BH=$(cat "$PGT_ROOT/blackhole.port")
# store_timeout = 1s: each attempt gives up after a second (not the default 10 s).
pgt_config "$CFG" blackhole "$DSN" "$STORE" "store_timeout=1s"
start=$(date +%s)
run_cmd u env AZURE_STORAGE_CONNECTION_STRING="${AZT_CONN/$AZT_PORT/$BH}" \
	timeout 600 "$PGRESCUE" --config "$CFG" --env blackhole wal-fetch "$LAST" "$PGT_ROOT/check/unreachable"
is "$u_rc" 1 "an endpoint that never answers makes wal-fetch fail (exit 1, not killed by timeout)"
like "$u_err" "127\.0\.0\.1:$BH.*(Timeout|timed out)" "the error names the endpoint and says it timed out"
like "$u_err" "5 attempts" "after retrying"
like "$u_err" "HINT: .*1 s to connect.*store_timeout" "the hint gives store_timeout's value"
diag "gave up after $(($(date +%s) - start)) s"
ok "$([ ! -e "$PGT_ROOT/check/unreachable" ]; echo $?)" "nothing was written"
kill "$(cat "$PGT_ROOT/blackhole.pid")" 2>/dev/null

# ------------------------------------------------------------------ integrity
# Damage stored objects behind the service's back (in azurite's own files).
# One pgrescue stored carries the SHA-256 and XXH128 it had when it left
# (blob metadata), and the download is checked against the XXH128 (an object
# with only the SHA-256, as this session's first uploads were, against
# that: tests/unit/test_s3.c); one another tool stored (as the
# deployment's jobs do) is checked against the Content-MD5 the service keeps.
# Either way the damage is caught and nothing reaches the final name.
damage() { # damage MARKER: flip one byte 500,000 bytes into the blob holding MARKER
	local extent
	extent=$(grep -rl --binary-files=text "$1" "$AZT_DIR/data" | head -1)
	ok "$([ -n "$extent" ]; echo $?)" "azurite keeps the object in a file of its own store"
	python3 -c '
import sys
p, marker = sys.argv[1], sys.argv[2].encode()
with open(p, "r+b") as f:
    data = f.read()
    at = data.index(marker) + 500000
    f.seek(at)
    f.write(b"X" if data[at:at + 1] != b"X" else b"Y")' "$extent" "$1"
}
BAD=0000000100000000000000FA
python3 -c 'import sys; sys.stdout.write("pgrescue-integrity-check " * 40000)' >"$PGT_ROOT/check/$BAD"
run_cmd ip "$PGRESCUE" --store "$STORE" wal-push "$PGT_ROOT/check/$BAD"
is "$ip_rc" 0 "a 1 MB object goes up" || diag "$ip_err"
heads=$(curl -sf -I "$AZT_ENDPOINT/backups/prod/wal-archive/$BAD?$(azt_py sas)" | tr -d '\r')
meta=$(printf '%s\n' "$heads" | sed -n 's/^x-ms-meta-pgrescue_sha256: //Ip')
xmeta=$(printf '%s\n' "$heads" | sed -n 's/^x-ms-meta-pgrescue_xxh128: //Ip')
is "$meta" "$(sha256sum "$PGT_ROOT/check/$BAD" | cut -d' ' -f1)" "the blob records the file's SHA-256 in its metadata"
is "$xmeta" "$(xxhsum -H2 "$PGT_ROOT/check/$BAD" | cut -d' ' -f1)" "and its XXH128 (as xxhsum -H2 gives it)"
damage "pgrescue-integrity-check"
run_cmd ig "$PGRESCUE" --store "$STORE" wal-fetch "$BAD" "$PGT_ROOT/check/damaged"
is "$ig_rc" 1 "fetching the damaged object fails"
like "$ig_err" "XXH128 is [0-9a-f]{32}, the one recorded when it was stored \(metadata pgrescue_xxh128\) is $xmeta" \
	"the error says the XXH128 does not match the one recorded at upload" || diag "$ig_err"
is "$(ls "$PGT_ROOT/check" | grep -c damaged)" 0 "nothing under the final name, nor a partial file"

BAD2=0000000100000000000000FB
python3 -c 'import sys; sys.stdout.write("another-tool-wrote-this " * 40000)' >"$PGT_ROOT/check/$BAD2"
azt_py putfile backups "prod/wal-archive/$BAD2" "$PGT_ROOT/check/$BAD2" || bail_out "cannot store $BAD2 with the test client"
run_cmd ok2 "$PGRESCUE" --store "$STORE" wal-fetch "$BAD2" "$PGT_ROOT/check/fine"
is "$ok2_rc" 0 "an object another tool stored (no pgrescue metadata) downloads" || diag "$ok2_err"
cmp -s "$PGT_ROOT/check/fine" "$PGT_ROOT/check/$BAD2"
is "$?" 0 "and is identical"
rm -f "$PGT_ROOT/check/fine"
damage "another-tool-wrote-this"
run_cmd ig2 "$PGRESCUE" --store "$STORE" wal-fetch "$BAD2" "$PGT_ROOT/check/damaged"
is "$ig2_rc" 1 "fetching it once damaged fails"
like "$ig2_err" "MD5 is .*, the service's Content-MD5 is " "the error says the MD5 does not match" || diag "$ig2_err"
is "$(ls "$PGT_ROOT/check" | grep -c damaged)" 0 "nothing under the final name, nor a partial file"

# ------------------------------------------------------------------ azurite dies mid-download
# 400 MB under a segment name, uploaded in 8 MiB blocks.
BIG=0000000100000000000000FE
mkdir -p "$PGT_ROOT/big" "$PGT_ROOT/dl"
head -c 400000000 /dev/urandom >"$PGT_ROOT/big/$BIG"
# An upload killed half-way leaves its blocks uncommitted: no blob appears.
PGRESCUE_AZURE_BLOCK_SIZE=8388608 "$PGRESCUE" --store "$STORE" wal-push "$PGT_ROOT/big/$BIG" 2>/dev/null &
PUSH=$!
blocks_sent() { [ "$(grep -c "RequestURL=[^ ]*/wal-archive/$BIG?comp=block&" "$AZT_DIR/debug.log")" -ge 3 ]; }
for _ in $(seq 1 300); do blocks_sent && break; kill -0 "$PUSH" 2>/dev/null || break; sleep 0.1; done
blocks_sent
ok $? "the upload had sent blocks when it was killed"
kill -KILL "$PUSH" 2>/dev/null
wait "$PUSH" 2>/dev/null
is "$(azt_py exists backups "prod/wal-archive/$BIG")" no "nothing is visible under the key of an upload killed half-way"
run_cmd bp env PGRESCUE_AZURE_BLOCK_SIZE=8388608 "$PGRESCUE" --store "$STORE" wal-push "$PGT_ROOT/big/$BIG"
is "$bp_rc" 0 "a 400 MB file goes up in blocks" || diag "$bp_err"
is "$(azt_py exists backups "prod/wal-archive/$BIG")" yes "and is there as one blob"
"$PGRESCUE" --store "$STORE" wal-fetch "$BIG" "$PGT_ROOT/dl/$BIG" 2>"$PGT_ROOT/dl.err" &
FETCH=$!
# Freeze the client as soon as bytes arrive, kill azurite, let the client go on.
seen=1
for _ in $(seq 1 200000); do
	compgen -G "$PGT_ROOT/dl/$BIG.*.part" >/dev/null && { seen=0; break; }
	kill -0 "$FETCH" 2>/dev/null || break
done
kill -STOP "$FETCH" 2>/dev/null
ok "$seen" "the download had begun (a .part file) when azurite was killed"
azt_stop KILL
kill -CONT "$FETCH" 2>/dev/null
wait "$FETCH"
is "$?" 1 "the download fails once azurite is gone"
d_err=$(cat "$PGT_ROOT/dl.err")
like "$d_err" "downloading \"wal-archive/$BIG\" from store $STORE" "the error names the object and the store"
like "$d_err" "attempts" "and says it was retried"
is "$(ls -A "$PGT_ROOT/dl")" "" "nothing is left under the final name, nor any partial file"

done_testing
