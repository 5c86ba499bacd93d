#!/usr/bin/env bash
# Point-in-time recovery and WAL archiving over a cloud store, with the
# store's secret in one 0600 file (store_credentials_file) and in no
# variable: not ours, not the server's. `wal-setup` refuses a file others may
# read or the server's user does not own, and a secret the store rejects;
# then it writes the server's config and prints archive_command, which
# archives into s3:// (OpenStack Swift's s3api, which checks SigV4). A
# backup goes into the bucket, a table is dropped, and `pitr` recovers to
# just before the DROP through restore_command as the postgres user: the
# table is back with its exact rows. The secret is in no plan, audit record,
# run file, server file, process environment or screen. Then the same for
# az:// (azurite): archive_command and restore_command as postgres, with a
# connection string from a file, bring a segment back byte for byte.
. "$PGR_TEST_LIB/tap.sh"
. "$PGR_TEST_LIB/pgcluster.sh"
. "$PGR_TEST_LIB/swift.sh"
pgt_setup
swift_start "$PGT_ROOT/swift"
swift_token
. "$PGR_TEST_LIB/azurite.sh"
azt_start
trap 'azt_stop; swift_stop; pgt_cleanup' EXIT

# No credentials in any variable: only the file may serve.
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_PROFILE AWS_ENDPOINT_URL AWS_ENDPOINT_URL_S3 \
	AWS_REGION AWS_DEFAULT_REGION AWS_SHARED_CREDENTIALS_FILE AWS_CONFIG_FILE GOOGLE_ACCESS_KEY_ID \
	GOOGLE_SECRET_ACCESS_KEY AZURE_STORAGE_CONNECTION_STRING AZURE_STORAGE_ACCOUNT AZURE_STORAGE_KEY \
	AZURE_STORAGE_SAS_TOKEN
export HOME="$PGT_ROOT/home" # no ~/.aws of root's either
mkdir -p "$HOME"

curl -sf -m 20 -X PUT -H "X-Auth-Token: $SWIFT_TOKEN" "$SWIFT_STORAGE_URL/pitr" >/dev/null ||
	bail_out "cannot create bucket pitr"
swift_has() { # KEY: is it in the bucket (Swift's native API, not the code under test)
	curl -sf -m 20 -o /dev/null -I -H "X-Auth-Token: $SWIFT_TOKEN" "$SWIFT_STORAGE_URL/pitr/$1"
}
SECRET=$SWIFT_SECRET
STORE=s3://pitr/clipper
CREDS_DIR=$PGT_ROOT/etc-pgrescue
CREDS=$CREDS_DIR/s3.credentials
SERVER_INI=$CREDS_DIR/pgrescue-server.ini
mkdir -p "$CREDS_DIR" && chmod 755 "$CREDS_DIR"
write_creds() { # SECRET
	printf '# the bucket pitr on the test Swift\n[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n' \
		"$SWIFT_KEY" "$1" >"$CREDS"
}
write_creds "$SECRET"
chmod 644 "$CREDS"

pgt_cluster_start pg "archive_mode = on" "archive_command = ''" || bail_out "cluster"
pgt_make_clipper_db pg 1000 5000
DSN="$pg_DSN_BASE dbname=clipper_db"
echo 2 >"$PGT_ROOT/replicas"
printf '#!/bin/sh\necho "$1" >%s/replicas\n' "$PGT_ROOT" >"$PGT_ROOT/bin/scale"
chmod 755 "$PGT_ROOT/bin/scale"
CFG=$XDG_CONFIG_HOME/pgrescue/config.ini
pgt_config "$CFG" cloud "$DSN" "$STORE" "s3_endpoint=$SWIFT_URL" "data_dir=$pg_DATA" "run_as=postgres" \
	"store_credentials_file=$CREDS" "app_scale=command" "app_scale_get_command=cat $PGT_ROOT/replicas" \
	"app_scale_set_command=$PGT_ROOT/bin/scale {replicas}"

# A relative path is refused at load time, naming file:line and the key.
printf '[env rel]\ndsn = dbname=x\nstore = %s\nstore_credentials_file = creds\n' "$STORE" >"$PGT_ROOT/rel.ini"
run_cmd rel "$PGRESCUE" --config "$PGT_ROOT/rel.ini" --env rel wal-setup
is "$rel_rc" 2 "a relative store_credentials_file is a configuration error"
like "$rel_err" "rel.ini:4.*store_credentials_file: \"creds\" is not an absolute path" "naming file:line and the key"

# ---------------------------------------------------------------- wal-setup refuses a bad file
run_cmd m "$PGRESCUE" --env cloud wal-setup --exe "$PGT_PGRESCUE"
ok "$([ "$m_rc" != 0 ] && echo 0 || echo 1)" "wal-setup refuses a credentials file others may read"
like "$m_err" "$CREDS.*mode 0644" "the error names the file and its mode"
like "$m_err" "HINT: .*chmod 600 $CREDS" "and says how to fix it"
chmod 600 "$CREDS"
run_cmd o "$PGRESCUE" --env cloud wal-setup --exe "$PGT_PGRESCUE"
ok "$([ "$o_rc" != 0 ] && echo 0 || echo 1)" "wal-setup refuses a credentials file postgres does not own"
like "$o_err" "owned by root, but archive_command and restore_command run as postgres" "it says who owns it and who needs it"
like "$o_err" "HINT: chown postgres $CREDS" "and how to fix it"
chown postgres: "$CREDS"

mv "$CREDS" "$CREDS.keep"
printf '[other]\naws_access_key_id = x\naws_secret_access_key = y\n' >"$CREDS"
chmod 600 "$CREDS" && chown postgres: "$CREDS"
run_cmd ns "$PGRESCUE" --env cloud store-check
is "$ns_rc" 1 "a credentials file without the [default] section fails"
like "$ns_err" "credentials file $CREDS has no aws_access_key_id and aws_secret_access_key in a \[default\] section" \
	"saying which section it looked for"
mv "$CREDS.keep" "$CREDS"
write_creds "not-the-secret"
run_cmd w "$PGRESCUE" --env cloud wal-setup --exe "$PGT_PGRESCUE"
is "$w_rc" 1 "wal-setup fails when the store refuses the file's secret"
like "$w_err" "user postgres cannot list $STORE with $CREDS" "it says postgres cannot list the store with that file"
like "$w_err" "DETAIL: .*(403|Access Denied|AccessDenied|SignatureDoesNotMatch)" "with the store's own answer"
unlike "$w_out$w_err" "not-the-secret" "the wrong secret is not shown"
write_creds "$SECRET"

# A base backup with no archive_command says how to set one for a cloud store.
run_cmd nb "$PGRESCUE" --env cloud backup --no-dump -q
ok "$([ "$nb_rc" != 0 ] && echo 0 || echo 1)" "no base backup while archive_command is empty"
like "$nb_err" "HINT: .*pgrescue --env cloud wal-setup" "the hint points to wal-setup for the s3 store"

run_cmd ws "$PGRESCUE" --env cloud wal-setup --exe "$PGT_PGRESCUE"
is "$ws_rc" 0 "wal-setup passes with a 0600 file owned by postgres" || diag "$ws_out" "$ws_err"
run_cmd wsa "$PGRESCUE" --env cloud audit show --last 1
like "$wsa_out" "wal-setup" "writing the server config is in the audit log" || diag "$wsa_out" "$wsa_err"
like "$ws_out" "postgres lists $STORE" "it says postgres can list the store"
is "$(stat -c '%U %a' "$SERVER_INI")" "postgres 600" "the server's config is postgres's, mode 0600"
like "$(cat "$SERVER_INI")" "store_credentials_file = $CREDS" "it names the credentials file"
like "$(cat "$SERVER_INI")" "s3_endpoint = $SWIFT_URL" "and the store's endpoint"
archive_cmd=$(printf '%s\n' "$ws_out" | sed -n 's/^archive_command = //p')
like "$archive_cmd" "--config ''$SERVER_INI'' --env ''cloud'' wal-push %p'$" "archive_command goes through the server's config"
unlike "$archive_cmd" "--store" "not a bare --store"

# An endpoint and region only in the engineer's variables: the server's
# processes will not have them, so wal-setup writes them into its config.
pgt_config "$CFG" envonly "$DSN" "$STORE" "data_dir=$pg_DATA" "run_as=postgres" "store_credentials_file=$CREDS"
run_cmd we env AWS_ENDPOINT_URL="$SWIFT_URL" AWS_DEFAULT_REGION=us-east-1 "$PGRESCUE" --env envonly wal-setup \
	--exe "$PGT_PGRESCUE"
is "$we_rc" 0 "wal-setup with the endpoint in AWS_ENDPOINT_URL passes" || diag "$we_out" "$we_err"
like "$we_out" "from yours +s3_endpoint = $SWIFT_URL \(from AWS_ENDPOINT_URL\)" "it says it took the endpoint from the variable"
like "$we_out" "from yours +s3_region = us-east-1 \(from AWS_DEFAULT_REGION\)" "and the region"
like "$we_out" "postgres lists $STORE" "postgres lists the store with what was written"
like "$(sed -n '/^\[env envonly\]/,/^\[env [a-z]*\]/p' "$SERVER_INI")" "s3_endpoint = $SWIFT_URL" \
	"the server's [env envonly] has the endpoint"

# ---------------------------------------------------------------- archiving into s3://
pgt_psql pg postgres "ALTER SYSTEM SET archive_command = $archive_cmd" >/dev/null &&
	pgt_psql pg postgres "SELECT pg_reload_conf()" >/dev/null || bail_out "cannot set archive_command"
archived() { # SEGMENT: the server says it is archived
	local last
	last=$(pgt_psql pg postgres "SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver")
	[[ "$last" > "$1" || "$last" == "$1" ]]
}
wait_for() {
	local secs=$1 i
	shift
	for ((i = 0; i < secs * 5; i++)); do
		"$@" && return 0
		sleep 0.2
	done
	"$@"
}
seg=$(pgt_psql pg postgres "SELECT pg_walfile_name(pg_switch_wal())")
wait_for 60 archived "$seg"
ok $? "the server archives WAL through the printed archive_command, as postgres" ||
	diag "$(pgt_psql pg postgres "SELECT * FROM pg_stat_archiver")" "$(tail -5 "$pg_LOG")"
swift_has "clipper/wal-archive/$seg"
ok $? "segment $seg is in the bucket"
is "$(pgt_psql pg postgres "SELECT failed_count FROM pg_stat_archiver")" 0 "archive_command never failed"

run_cmd bk "$PGRESCUE" --env cloud backup -q
is "$bk_rc" 0 "a backup into s3:// with the credentials file" || diag "$bk_out" "$bk_err"

# ---------------------------------------------------------------- the incident
pgt_psql pg clipper_db "CREATE TABLE important AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 1234) g;
  CREATE TABLE events (id serial PRIMARY KEY, what text);
  INSERT INTO events (what) SELECT 'before' FROM generate_series(1, 10)" >/dev/null
sleep 1.2
T=$(date -u +'%Y-%m-%d %H:%M:%S.%3N')Z
sleep 1.2
pgt_psql pg clipper_db "INSERT INTO events (what) VALUES ('after the target'); DROP TABLE important" >/dev/null
seg=$(pgt_psql pg postgres "SELECT pg_walfile_name(pg_switch_wal())")
wait_for 60 archived "$seg" || bail_out "WAL segment $seg was not archived"

run_cmd dry "$PGRESCUE" --env cloud pitr --time "$T" --exe "$PGT_PGRESCUE" --dry-run
is "$dry_rc" 0 "pitr --dry-run over s3:// exits 0" || diag "$dry_err"
like "$dry_out" "restore_command = '''[^']*pgrescue'' --config ''$SERVER_INI'' --env ''cloud'' wal-fetch %f %p'" \
	"restore_command reads the server's config, by --config and --env"
unlike "$dry_out" "restore_command = .*--store" "not a bare --store"
like "$dry_out" "store_credentials_file $CREDS is 0600 and owned by postgres" "the preflight checks the credentials file"
like "$dry_out" "runuser -u postgres -- .* --config $SERVER_INI --env cloud store-check" "and that postgres can list the store"

# A credentials file others may read: refused before anything changes.
chmod 640 "$CREDS"
run_cmd pm "$PGRESCUE" --env cloud pitr --time "$T" --exe "$PGT_PGRESCUE" --yes
ok "$([ "$pm_rc" != 0 ] && echo 0 || echo 1)" "pitr refuses a credentials file the group may read"
like "$pm_err" "credentials file \"$CREDS\" may be read or written by others \(mode 0640\)" "naming the file and its mode"
ok "$([ -f "$pg_DATA/postmaster.pid" ] && [ -z "$(ls -d "$pg_DATA".pitr-* 2>/dev/null)" ] && echo 0 || echo 1)" \
	"nothing changed: the server runs, its data directory is in place"
chmod 600 "$CREDS"

run_cmd pitr "$PGRESCUE" --env cloud pitr --time "$T" --exe "$PGT_PGRESCUE" --yes --incident INC-42 --reason "important was dropped"
is "$pitr_rc" 0 "pitr to just before the DROP, through the s3 store, finishes" || diag "$pitr_out" "$pitr_err"
like "$pitr_out" "postgres lists $STORE with $CREDS" "the runner proved postgres can list the store first"
like "$pitr_out" "base\.tar of [0-9-]+ matches the SHA-256 its manifest recorded \([0-9a-f]{64}\)" \
	"it downloaded base.tar and checked it against its manifest before changing anything"
like "$pitr_out" "public.important +- +\(missing\) +1234" "the verification shows important back with 1234 rows"
is "$(pgt_psql pg clipper_db "SELECT count(*) FROM important")" 1234 "the dropped table is back with its exact row count"
is "$(pgt_psql pg clipper_db "SELECT md5(string_agg(v, ',' ORDER BY id)) FROM important")" \
	"$(pgt_psql pg clipper_db "SELECT md5(string_agg(md5(g::text), ',' ORDER BY g)) FROM generate_series(1, 1234) g")" \
	"and its rows are identical"
is "$(pgt_psql pg clipper_db "SELECT count(*) FROM events WHERE what = 'after the target'")" 0 \
	"no write made after the target survives"
is "$(pgt_psql pg clipper_db "SELECT count(*) FROM users")" 1000 "the other tables are whole"
like "$(grep -h 'restored log file' "$pg_DATA/pgrescue-server.log")" "restored log file \"[0-9A-F]{24}\" from archive" \
	"the server restored WAL from the archive through restore_command"
swift_has "clipper/wal-archive/00000002.history"
ok $? "the new timeline's history file is archived into the bucket"
is "$(cat "$PGT_ROOT/replicas")" 2 "the app is back at its recorded replicas"

# ---------------------------------------------------------------- the secret is nowhere
pm_pid=$(head -1 "$pg_DATA/postmaster.pid")
leaks=$(grep -rlF -- "$SECRET" "$XDG_STATE_HOME" "$XDG_CONFIG_HOME" "$SERVER_INI" "$pg_DATA" "$pg_DATA".pitr-* \
	"$pg_LOG" 2>/dev/null)
is "$leaks" "" "the secret is in no plan, journal, runner.log, state, audit record, config or server file"
unlike "$dry_out$pitr_out$pitr_err$ws_out$ws_err$bk_out$bk_err" "$SECRET" "nor on the screen"
# Patterns from a file: a grep given the secret as an argument would be the leak.
printf '%s\n' "$SECRET" >"$PGT_ROOT/secret.pattern"
tr '\0' '\n' </proc/"$pm_pid"/environ >"$PGT_ROOT/server.environ"
unlike "$(grep -E '^(AWS_(ACCESS_KEY_ID|SECRET_ACCESS_KEY|SESSION_TOKEN|PROFILE|SHARED_CREDENTIALS_FILE)|GOOGLE_[A-Z_]*KEY[A-Z_]*|AZURE_STORAGE_[A-Z_]*)=' "$PGT_ROOT/server.environ")" . \
	"the restored server's environment has no credential variable: restore_command used the file"
ok "$(grep -qFf "$PGT_ROOT/secret.pattern" "$PGT_ROOT/server.environ" && echo 1 || echo 0)" "nor the secret"
ps -eww -o args >"$PGT_ROOT/ps.out"
ok "$(grep -qFf "$PGT_ROOT/secret.pattern" "$PGT_ROOT/ps.out" && echo 1 || echo 0)" "no process has the secret in its arguments"
run_cmd av "$PGRESCUE" --env cloud audit verify
is "$av_rc" 0 "the audit chain is intact"

# ---------------------------------------------------------------- az:// over azurite
azt_py mkcontainer walcloud || bail_out "cannot create container walcloud"
AZ_CREDS=$CREDS_DIR/azure.credentials
printf '# azurite\nAZURE_STORAGE_CONNECTION_STRING="%s"\n' "$AZT_CONN" >"$AZ_CREDS"
chmod 600 "$AZ_CREDS" && chown postgres: "$AZ_CREDS"
pgt_config "$CFG" azure "$DSN" "az://$AZT_ACCOUNT/walcloud/prod" "store_credentials_file=$AZ_CREDS"

# A wrong account key first.
BADKEY=$(head -c 64 /dev/urandom | base64 -w0)
printf 'AccountName=%s;AccountKey=%s;BlobEndpoint=%s\n' "$AZT_ACCOUNT" "$BADKEY" "$AZT_ENDPOINT" >"$AZ_CREDS.bad"
chmod 600 "$AZ_CREDS.bad" && chown postgres: "$AZ_CREDS.bad"
sed -i "s|store_credentials_file = $AZ_CREDS\$|store_credentials_file = $AZ_CREDS.bad|" "$CFG"
run_cmd azb "$PGRESCUE" --env azure wal-setup --exe "$PGT_PGRESCUE"
is "$azb_rc" 1 "wal-setup over az:// fails with a wrong account key"
like "$azb_err" "user postgres cannot list az://$AZT_ACCOUNT/walcloud/prod with $AZ_CREDS.bad" "naming the store and the file"
unlike "$azb_out$azb_err" "$BADKEY" "the key is not shown"
sed -i "s|store_credentials_file = $AZ_CREDS.bad\$|store_credentials_file = $AZ_CREDS|" "$CFG"

run_cmd az "$PGRESCUE" --env azure wal-setup --exe "$PGT_PGRESCUE"
is "$az_rc" 0 "wal-setup over az:// passes with the connection string in a 0600 file" || diag "$az_out" "$az_err"
like "$(cat "$SERVER_INI")" "\[env cloud\]" "the server's config keeps the s3 environment"
like "$(cat "$SERVER_INI")" "\[env azure\]" "and has the azure one beside it"
unlike "$az_out$az_err$(cat "$SERVER_INI")" "$AZT_KEY" "the account key is neither shown nor in the server's config"

# The server's two commands, run as postgres by a shell with no variables at all.
conf_unquote() { local s=${1#\'}; s=${s%\'}; printf '%s' "${s//\'\'/\'}"; }
az_push=$(conf_unquote "$(printf '%s\n' "$az_out" | sed -n 's/^archive_command = //p')")
az_fetch=$(conf_unquote "$(printf '%s\n' "$az_out" | sed -n 's/^restore_command = //p')")
like "$az_fetch" "--config '$SERVER_INI' --env 'azure' wal-fetch %f %p$" "restore_command for az:// goes through the server's config"
AZW=$PGT_ROOT/azwal
pgt_server_dir "$AZW"
run_cmd f "$PGRESCUE" --env cloud wal-fetch "$seg" "$AZW/$seg"
is "$f_rc" 0 "a segment from the s3 archive to push into azure" || diag "$f_err"
chown postgres: "$AZW/$seg"
as_postgres_sh() { runuser -u postgres -- env -i PATH=/usr/bin:/bin sh -c "$1"; }
push=${az_push//%p/$AZW/$seg}
run_cmd ap as_postgres_sh "$push"
is "$ap_rc" 0 "archive_command (wal-push) into az:// as postgres, credentials from the file" || diag "$ap_err"
is "$(azt_py exists walcloud "prod/wal-archive/$seg")" yes "the segment is in the container"
fetch=${az_fetch//%f/$seg}
fetch=${fetch//%p/$AZW/RECOVERYXLOG}
run_cmd af as_postgres_sh "$fetch"
is "$af_rc" 0 "restore_command (wal-fetch) from az:// as postgres" || diag "$af_err"
cmp -s "$AZW/$seg" "$AZW/RECOVERYXLOG"
ok $? "the fetched segment is byte for byte the archived one"
miss=${az_fetch//%f/000000090000000000000001}
miss=${miss//%p/$AZW/RECOVERYXLOG.2}
run_cmd am as_postgres_sh "$miss"
is "$am_rc" 1 "a segment not in the archive: exit 1, as restore_command must answer"
unlike "$ap_err$af_err$am_err" "$AZT_KEY" "no key on the server's screen"

done_testing
