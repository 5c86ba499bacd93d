#!/usr/bin/env bash
# The console over a cloud store: the real binary in a private tmux server,
# on the sandbox this test builds, with `--store az://...` on azurite (started
# here; one that cannot start is a failure, never a skip). The sandbox's
# archive_command is pointed at the container through wal-setup, and a backup
# goes in with the CLI. The dashboard then shows that backup, read from Azure:
# its label, its key, the store answering; the restore wizard walks incident,
# dump, plan (naming the az:// store), the typed environment name and the run,
# after a bad migration emptied users: the data comes back identical to the
# dump in Azure (read back by an independent client) and the app's replicas
# are back; b backs up into the same container, not the environment's
# configured store. The account key is on no screen, in no audit record, run
# file or config. The console ends with q, exit code 0 and nothing on stderr
# (AddressSanitizer with leak detection).
. "$PGR_TEST_LIB/tap.sh"
. "$PGR_TEST_LIB/pgcluster.sh"
. "$PGR_TEST_LIB/tmux.sh"
pgt_setup
. "$PGR_TEST_LIB/sandbox.sh"
. "$PGR_TEST_LIB/azurite.sh"
trap 'azt_stop; sb_cleanup' EXIT

export LANG=C.UTF-8 LC_ALL=C.UTF-8
unset NO_COLOR AZURE_STORAGE_ACCOUNT AZURE_STORAGE_KEY AZURE_STORAGE_SAS_TOKEN PGRESCUE_AZURE_LIST_MAX \
	PGRESCUE_AZURE_BLOCK_SIZE

RUNS="$XDG_STATE_HOME/pgrescue/runs"
AUDIT="$XDG_STATE_HOME/pgrescue/audit.log"
SCREENS="$PGT_ROOT/screens.txt" # every screen this test looked at
: >"$SCREENS"

run_cmd up "$PGRESCUE" sandbox up -q
[ "$up_rc" = 0 ] || { diag "$up_err"; bail_out "the sandbox could not be built"; }
PORT=$(sb_port)

azt_start
CONTAINER=oncall
azt_py mkcontainer "$CONTAINER" || bail_out "cannot create a container in azurite"
STORE="az://$AZT_ACCOUNT/$CONTAINER/sandbox"
export AZURE_STORAGE_CONNECTION_STRING="$AZT_CONN"

three_replicas() { [ "$(sb_replicas)" = 3 ]; }
az_dumps() { azt_py count "$CONTAINER" sandbox/database/postgres-backup-; }
file_dumps() { ls "$SB/store/database" 2>/dev/null | grep -c '^postgres-backup-'; }
# tmx_wait_for, keeping each screen it saw for the secret check at the end.
see() { # REGEX [SECS]
	tmx_wait_for "$@"
	local rc=$?
	printf '%s\n' "$TMX_SCREEN" >>"$SCREENS"
	return $rc
}
quit_clean() { # NAME: as tmx_quit_clean, keeping the last screen for the secret check
	tmx_quit_clean "$1"
	tmx_screen >>"$SCREENS"
}
# Press Down until the screen matches (the review's plan is longer than a screen).
scroll_until() { # REGEX
	local i
	for ((i = 0; i < 120; i++)); do
		TMX_SCREEN=$(tmx_screen)
		printf '%s\n' "$TMX_SCREEN" >>"$SCREENS"
		printf '%s\n' "$TMX_SCREEN" | grep -Eq -- "$1" && return 0
		tmx_keys Down
		sleep 0.05
	done
	return 1
}
# Row count and md5 of a table's rows in id order, up to an id.
checksum() { # DB TABLE MAX_ID
	sb_db_sql "$1" "SELECT count(*) || ':' || md5(coalesce(string_agg(t::text, '|' ORDER BY t.id), '')) FROM $2 t WHERE t.id <= $3"
}

# ---------------------------------------------------------------- archiving into Azure
# The server's side as an engineer sets it up: the connection string in a
# 0600 file the server's user owns, wal-setup, and the archive_command it prints.
CREDS_DIR=$PGT_ROOT/etc-pgrescue
mkdir -p "$CREDS_DIR" && chmod 755 "$CREDS_DIR"
CREDS=$CREDS_DIR/azure.credentials
printf 'AZURE_STORAGE_CONNECTION_STRING=%s\n' "$AZT_CONN" >"$CREDS"
chmod 600 "$CREDS" && chown postgres: "$CREDS"
WS_INI=$PGT_ROOT/wal-setup.ini
pgt_config "$WS_INI" sandbox "$(sed -n 's/^dsn = //p' "$XDG_CONFIG_HOME/pgrescue/config.ini" | head -1)" "$STORE" \
	"store_credentials_file=$CREDS" "run_as=postgres"
run_cmd ws "$PGRESCUE" --config "$WS_INI" --env sandbox wal-setup --exe "$PGT_PGRESCUE"
is "$ws_rc" 0 "wal-setup: the server's user lists the container with the credentials file" || diag "$ws_out" "$ws_err"
archive_cmd=$(printf '%s\n' "$ws_out" | sed -n 's/^archive_command = //p')
like "$archive_cmd" "wal-push %p'$" "it prints the archive_command to set"
sb_db_sql postgres "ALTER SYSTEM SET archive_command = $archive_cmd" && sb_db_sql postgres "SELECT pg_reload_conf()" >/dev/null
seg=$(sb_db_sql postgres "SELECT pg_walfile_name(pg_switch_wal())")
in_azure() { [ "$(azt_py exists "$CONTAINER" "sandbox/wal-archive/$seg")" = yes ]; }
wait_for 60 in_azure
ok $? "the sandbox archives its WAL into Azure ($seg)"

# ---------------------------------------------------------------- a backup into Azure with the CLI
file_dumps_before=$(file_dumps)
run_cmd b "$PGRESCUE" --env sandbox --store "$STORE" backup
is "$b_rc" 0 "pgrescue --env sandbox --store $STORE backup exits 0" || diag "$b_out" "$b_err"
is "$(az_dumps)" 1 "one dump in the container"
is "$(file_dumps)" "$file_dumps_before" "and none more in the environment's own file:// store"
DUMP_KEY=$("$PGRESCUE" --env sandbox --store "$STORE" status --json 2>/dev/null |
	python3 -c 'import json, sys; print(json.load(sys.stdin)["newest_dump"]["key"])')
like "$DUMP_KEY" '^database/postgres-backup-[0-9]{8}-[0-9]{6}\.sql\.gz$' "status over az:// names the dump by its key"
DUMP_NAME=${DUMP_KEY#database/}
LABEL=${DUMP_NAME#postgres-backup-}
LABEL=${LABEL%.sql.gz}
ok "$([ ! -e "$SB/store/database/$DUMP_NAME" ]; echo $?)" \
	"the sandbox's own store has no dump of that name (what the console shows can only come from Azure)"

# The dump as the independent client reads it, restored aside: the reference.
mkdir -p "$PGT_ROOT/check"
azt_py getfile "$CONTAINER" "sandbox/$DUMP_KEY" "$PGT_ROOT/check/dump" || bail_out "cannot download the dump"
sb_db_sql postgres "CREATE DATABASE azure_reference"
"$PG_BINDIR/pg_restore" -d "host=$SB/run port=$PORT user=postgres dbname=azure_reference" "$PGT_ROOT/check/dump" ||
	bail_out "pg_restore of the dump from Azure failed"
REF_USERS=$(sb_db_sql azure_reference "SELECT count(*) FROM users")
REF_CLIPS=$(sb_db_sql azure_reference "SELECT count(*) FROM clips")
MAX_USER=$(sb_db_sql azure_reference "SELECT max(id) FROM users")
MAX_CLIP=$(sb_db_sql azure_reference "SELECT max(id) FROM clips")
like "$REF_USERS:$REF_CLIPS" '^[1-9][0-9]*:[1-9][0-9]*$' "the dump in Azure holds users ($REF_USERS) and clips ($REF_CLIPS)"

# ---------------------------------------------------------------- the dashboard over az://
tmx_start 100 30 "$PGRESCUE" --env sandbox --store "$STORE"
see 'updated [0-9]' 60 || { diag "$TMX_SCREEN"; bail_out "the console did not draw its first refresh"; }
see "dump  $LABEL [0-9dhms ]+ ago" 30
ok $? "the Backups panel shows the dump from Azure ($LABEL) with its age" || diag "$TMX_SCREEN"
like "$TMX_SCREEN" "base  $LABEL [0-9dhms ]+ ago" "and the base backup of the same label"
like "$TMX_SCREEN" "Backups ─+ OK " "the Backups panel says OK"
like "$TMX_SCREEN" "1 dump, 1 base backup, [0-9]+ WAL files" "it counts what is in the container"
like "$TMX_SCREEN" "RW  env sandbox  db clipper_db" "the header names the environment and database, read-write"
# The store --store chose, in the header's room: whole when there is room,
# else its scheme and as much of its tail (container, prefix) as fits.
like "$(head -1 <<<"$TMX_SCREEN")" "  store az://\.\.\.[^ ]*sandbox *$" "at 100 columns the header ends with the store, shortened" ||
	diag "$(head -1 <<<"$TMX_SCREEN")"
tmx_resize 150 30
see "  store ${STORE//./\\.} *$" 10
ok $? "at 150 columns it is whole: store $STORE" || diag "$(head -1 <<<"$TMX_SCREEN")"
tmx_resize 100 30
see "  store az://\.\.\." 10
unlike "$TMX_SCREEN" "STALE|store unreachable" "the store is not stale nor unreachable"
like "$TMX_SCREEN" "WAL archiving ─+ OK " "the WAL panel says OK (archiving into Azure)"
like "$TMX_SCREEN" "Recoverable window ─+ OK " "the recoverable window (base backup and WAL in Azure) is OK"
tmx_keys Enter
see "LSN range" 5
ok $? "Enter on Backups lists every backup in the store" || diag "$TMX_SCREEN"
like "$TMX_SCREEN" "dump  $LABEL .* good" "the list has the dump, good"
like "$TMX_SCREEN" "base  $LABEL .* [0-9A-F]+/[0-9A-F]+-[0-9A-F]+/[0-9A-F]+ +complete" "and the base backup with its LSN range, complete"
like "$TMX_SCREEN" "$DUMP_KEY" "the selected dump is named by its key in the container"
like "$TMX_SCREEN" "a good dump, .*with a pgrescue manifest" "with its manifest (read from Azure)"
tmx_keys Escape
tmx_wait_gone "LSN range" 5
tmx_keys Tab Tab Tab Enter
see "why: " 5
ok $? "Enter on Alerts opens the verdicts and sources" || diag "$TMX_SCREEN"
like "$TMX_SCREEN" "store +answered in [0-9]+ ms +$STORE" "the store is listed among the sources, answering, by its az:// URL"
tmx_keys Escape
tmx_wait_gone "why: " 5

# ---------------------------------------------------------------- a bad migration, and the restore wizard
is "$(sb_replicas)" 3 "the app runs with its 3 replicas"
sb_db_sql clipper_db "TRUNCATE users CASCADE" 2>/dev/null
is "$(sb_db_sql clipper_db "SELECT count(*) FROM users")" 0 "users is emptied (clips with it)"
tmx_keys R
see "Restore wizard on sandbox" 5
ok $? "R opens the restore wizard"
see "Incident id" 10
tmx_type "INC-601"
tmx_keys Enter
tmx_type "users emptied by a bad migration"
tmx_keys Enter
see "Pick the dump to restore" 10
ok $? "after the incident: the dump list" || diag "$TMX_SCREEN"
see "> .*$DUMP_NAME" 10
ok $? "the dump from Azure ($DUMP_NAME) is selected" || diag "$TMX_SCREEN"
like "$(printf '%s\n' "$TMX_SCREEN" | grep -F "$DUMP_NAME")" "[0-9.]+ [kM]?B +good" "with its size and state"
tmx_keys Enter
see "Checks passed" 60
ok $? "the review: the plan's checks passed (against the store in Azure)" || diag "$TMX_SCREEN"
like "$TMX_SCREEN" "Plan: Restore clipper_db from $DUMP_NAME" "the plan restores that dump"
like "$TMX_SCREEN" "incident +INC-601: users emptied by a bad migration" "with the incident and reason"
scroll_until "$STORE"
ok $? "the plan names the store it reads the dump from: $STORE" || diag "$TMX_SCREEN"
scroll_until "pg_restore -j [0-9]+"
ok $? "the review shows the exact pg_restore command" || diag "$TMX_SCREEN"
tmx_keys Enter
see "Type the environment's name \(sandbox\)" 5
ok $? "Enter: the confirmation asks for the environment's name"
like "$TMX_SCREEN" "This will stop the application, restore $DUMP_NAME" "it restates what will happen"
tmx_type "sandbox"
tmx_keys Enter
see "Run of restore on sandbox" 10
ok $? "the right name starts the run" || diag "$TMX_SCREEN"
see "Result: finished" 180
ok $? "the run reaches: Result: finished" || diag "$TMX_SCREEN"
screen=$TMX_SCREEN
unlike "$screen" "\[!\]|failed" "no step failed"
like "$screen" "public\.users +$REF_USERS +$REF_USERS +ok" "the verification: users has the dump's $REF_USERS rows"
like "$screen" "public\.clips +$REF_CLIPS +$REF_CLIPS +ok" "and clips its $REF_CLIPS"
like "$screen" "the application runs with 3 replicas" "the health check reports the app's replicas"
wait_for 30 three_replicas
ok $? "the app is back at its 3 replicas"
is "$(checksum clipper_db users "$MAX_USER")" "$(checksum azure_reference users "$MAX_USER")" \
	"users is identical to the dump in Azure (count and md5)"
is "$(checksum clipper_db clips "$MAX_CLIP")" "$(checksum azure_reference clips "$MAX_CLIP")" \
	"clips up to the dump's last id is identical to it (the app writes new ones again)"
tmx_keys d
see "left the view of run [0-9]{8}-[0-9]{6}-restore-sandbox" 5
ok $? "d leaves the run view"
tmx_keys A
see "Audit log of sandbox, newest first: chain intact, [0-9]+ records" 5
ok $? "A: the audit screen, chain intact" || diag "$TMX_SCREEN"
like "$(printf '%s\n' "$TMX_SCREEN" | grep -E "^│[> ] +(ok|intent|cancelled|refused|failed|run-start) " | head -1)" \
	"ok .*INC-601 +restore +run-end" "newest first: the restore's end, under its incident"
tmx_keys Escape

# ---------------------------------------------------------------- b backs up into the same container
az_before=$(az_dumps)
file_before=$(file_dumps)
tmx_keys b
see "Start a backup of environment sandbox" 5
ok $? "b asks before starting a backup"
like "$TMX_SCREEN" "Into the store $STORE" "the question names the store the console shows"
tmx_keys y
see "backup finished OK" 180
ok $? "the console reports the backup's end" || diag "$TMX_SCREEN" "$(cat "$XDG_STATE_HOME"/pgrescue/console-backup-*.log)"
is "$(az_dumps)" "$((az_before + 1))" "the new dump is in the container"
is "$(file_dumps)" "$file_before" "and not in the environment's configured file:// store"
NEW_LABEL=$("$PGRESCUE" --env sandbox --store "$STORE" status --json 2>/dev/null |
	python3 -c 'import json, sys; print(json.load(sys.stdin)["newest_dump"]["key"].split("backup-")[1][:15])')
see "dump  $NEW_LABEL " 30
ok $? "the dashboard shows it as the newest dump ($NEW_LABEL)" || diag "$TMX_SCREEN"
quit_clean "the console over az://"

# ---------------------------------------------------------------- no secret anywhere
# Patterns from a file: a grep given the key as an argument would itself show it.
printf '%s\n' "$AZT_KEY" "${AZT_KEY:0:16}" "${AZT_KEY: -16}" "AccountKey" >"$PGT_ROOT/secret.pattern"
ok "$(grep -qFf "$PGT_ROOT/secret.pattern" "$SCREENS" && echo 1 || echo 0)" \
	"the account key is on none of the $(grep -c '^pgrescue ' "$SCREENS") screens captured"
ok "$([ -s "$AUDIT" ] && ! grep -qFf "$PGT_ROOT/secret.pattern" "$AUDIT"; echo $?)" "nor in the audit log"
# The sandbox's copy of pgrescue itself (made when the server's user cannot run
# the build, as in CI's mktemp -d clone) holds the emulator's public key and
# the word AccountKey for connection strings: that file is no leak.
leaks=$(grep -rlFf "$PGT_ROOT/secret.pattern" "$XDG_STATE_HOME" "$XDG_CONFIG_HOME" "$CREDS_DIR/pgrescue-server.ini" 2>/dev/null |
	while read -r f; do cmp -s "$f" "$PGRESCUE" || echo "$f"; done)
is "$leaks" "" "nor in any run's plan, journal or log, the backup log, a config or the server's files"
like "$("$PGRESCUE" --env sandbox audit verify)" "chain intact" "pgrescue audit verify passes"

done_testing
