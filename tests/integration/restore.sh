#!/usr/bin/env bash
# `pgrescue restore` against a real sandbox, as an engineer meets it: the
# restored clipper_db holds exactly what the dump holds (ordered-row checksums
# of every table against a raw pg_restore of the same dump), the app comes
# back with the recorded replicas and the replaced database is kept; --dry-run,
# an unknown backup id and a gzip'd dump change nothing; a runner killed with
# SIGKILL in the middle of pg_restore is resumed and the result is the same.
. "$PGR_TEST_LIB/tap.sh"
. "$PGR_TEST_LIB/pgcluster.sh"
pgt_setup
. "$PGR_TEST_LIB/sandbox.sh"
sb_trap_cleanup

run_cmd up "$PGRESCUE" sandbox up -q
[ "$up_rc" = 0 ] || bail_out "the sandbox could not be built: $up_err"
PORT=$(sb_port)
RUNS="$XDG_STATE_HOME/pgrescue/runs"

# psql in any database of the sandbox, as the superuser.
databases() { sb_db_sql postgres "SELECT string_agg(datname, ' ' ORDER BY datname) FROM pg_database"; }
run_dirs() { ls "$RUNS" 2>/dev/null | wc -l; }

# One line per table: "schema.table md5", the md5 of all its rows ordered by
# the primary key (every column when there is none). In clips only the rows
# up to id $2 count: the app inserts new clips as soon as it is back.
table_sums() { # DB CLIPS_MAX_ID
	"$PG_BINDIR/psql" -X -A -t -q -v ON_ERROR_STOP=1 -h "$SB/run" -p "$PORT" -U postgres -d "$1" <<EOF
SELECT format('SELECT %L || '' '' || md5(coalesce(string_agg(t::text, E''\\n'' ORDER BY %s), '''')) FROM %I.%I t %s',
              n.nspname || '.' || c.relname,
              coalesce((SELECT string_agg(format('t.%I', a.attname), ', ' ORDER BY k.ord)
                        FROM pg_index i CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY k(attnum, ord)
                        JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
                        WHERE i.indrelid = c.oid AND i.indisprimary), 't::text'),
              n.nspname, c.relname,
              CASE WHEN c.relname = 'clips' THEN 'WHERE t.id <= $2' ELSE '' END)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_toast%'
ORDER BY n.nspname, c.relname
\gexec
EOF
}

# A raw pg_restore of a dump into a scratch database: the reference.
reference() { # DUMP_FILE DB
	sb_db_sql postgres "DROP DATABASE IF EXISTS $2" >/dev/null
	sb_db_sql postgres "CREATE DATABASE $2" >/dev/null
	"$PG_BINDIR/pg_restore" -d "host=$SB/run port=$PORT user=postgres dbname=$2" "$1" ||
		bail_out "raw pg_restore of $1 failed"
}

# Enough rows that pg_restore takes a few seconds (the SIGKILL below needs the time).
sb_db_sql clipper_db "INSERT INTO clips (user_id, title, slug, game, duration_seconds, views)
  SELECT 1 + g % 5000, 'bulk clip ' || g, 'bulk-' || g, 'Chess', 5 + g % 50, g FROM generate_series(1, 800000) g" ||
	bail_out "cannot load rows into clipper_db"
run_cmd b "$PGRESCUE" --env sandbox backup --no-base
is "$b_rc" 0 "a new dump is taken" || diag "$b_err"
DUMP=$(ls "$SB"/store/database/postgres-backup-*.sql.gz | sort | tail -1)
DUMP_NAME=$(basename "$DUMP")
LABEL=$(echo "$DUMP_NAME" | sed 's/^postgres-backup-\(.*\)\.sql\.gz$/\1/')
FRESH="clipper_db_restore_${LABEL/-/_}"
[ -s "$SB/store/pgrescue/dumps/$DUMP_NAME.json" ] || bail_out "the dump has no manifest"

# Work done after the dump, which the restore must take back.
sb_db_sql clipper_db "INSERT INTO users (username, email, display_name) VALUES ('after_backup', 'a@b.c', 'After Backup')"
sb_db_sql clipper_db "UPDATE clips SET views = views + 1000000 WHERE id <= 100"

reference "$DUMP" reference_db
REF_MAX=$(sb_db_sql reference_db "SELECT max(id) FROM clips")
REF_SUMS=$(table_sums reference_db "$REF_MAX")
is "$(echo "$REF_SUMS" | wc -l)" 2 "the reference has checksums for users and clips"

# ---------------------------------------------------------------- --dry-run
dbs_before=$(databases)
runs_before=$(run_dirs)
run_cmd d "$PGRESCUE" --env sandbox restore --dry-run
is "$d_rc" 0 "restore --dry-run exits 0" || diag "$d_err"
like "$d_out" "Plan: Restore clipper_db from $DUMP_NAME" "it names the database and the newest dump"
like "$d_out" "pg_restore -j [0-9]+ --exit-on-error -v -d '[^']*dbname=$FRESH'" "it prints the pg_restore command"
like "$d_out" "ALTER DATABASE clipper_db RENAME TO clipper_db_replaced_[0-9]{8}_[0-9]{6};" "and the swap"
like "$d_out" "Scale the app to 0 replicas" "and the scale-down"
like "$d_out" "Record the app's replicas \(now 3\)" "with the replica count"
like "$d_out" "nothing was changed" "it says nothing changed"
is "$(databases)" "$dbs_before" "no database was created, renamed or dropped"
is "$(sb_replicas)" 3 "the app still has 3 replicas"
is "$(run_dirs)" "$runs_before" "no run was started"

# ---------------------------------------------------------------- unknown backup
run_cmd u "$PGRESCUE" --env sandbox restore --backup 19990101-000000 --yes </dev/null
is "$u_rc" 1 "an unknown backup id exits 1"
like "$u_err" "no dump \"19990101-000000\" in the store file://$SB/store" "the error names the id and the store"
like "$u_err" "HINT: .*$LABEL" "the hint lists the newest dumps"
is "$(databases)" "$dbs_before" "nothing was created or renamed"
is "$(sb_replicas)" 3 "the app was not touched"
is "$(run_dirs)" "$runs_before" "no run was started"

# ---------------------------------------------------------------- a gzip'd dump
# An older job's `pg_dump | gzip` under a newer name: "latest" picks it.
GZ="$SB/store/database/clipper-backup-29991231-235959.sql.gz"
printf -- '--\n-- PostgreSQL database dump\n--\nSELECT 1;\n' | gzip >"$GZ"
run_cmd g "$PGRESCUE" --env sandbox restore --yes </dev/null
is "$g_rc" 1 "restoring a gzip'd dump exits 1"
like "$g_err" "clipper-backup-29991231-235959.sql.gz is a gzip-compressed plain SQL file, not a pg_dump archive" \
	"the error says what the file is"
like "$g_err" "HINT: .*--backup $DUMP_NAME" "the hint points at a pg_dump archive"
is "$(databases)" "$dbs_before" "nothing was created or renamed"
is "$(sb_replicas)" 3 "the app was not touched"
is "$(run_dirs)" "$runs_before" "no run was started"
rm -f "$GZ"

# ---------------------------------------------------------------- counts that differ
# A manifest that disagrees with what was restored: the run stops before the
# swap and production is not touched.
MF="$SB/store/pgrescue/dumps/$DUMP_NAME.json"
cp -p "$MF" "$PGT_ROOT/manifest.json"
sed -i 's/\("rows":[[:space:]]*\)5000$/\15001/' "$MF"
grep -q '"rows":[[:space:]]*5001$' "$MF" || bail_out "could not alter the manifest $MF"
run_cmd m "$PGRESCUE" --env sandbox restore --yes </dev/null
is "$m_rc" 1 "a restore whose counts differ from the manifest fails"
like "$m_err" "failed at step 6 \(verify-counts\)" "at the verify step"
like "$m_err" "public\.users has 5000 rows, the dump 5001" "the error names the table and both counts"
like "$m_err" "HINT: Nothing was swapped" "and says nothing was swapped"
like "$m_out" "public\.users +5000 +5001 +DIFFERS" "the report shows the difference"
is "$(sb_db_sql clipper_db "SELECT count(*) FROM users WHERE username = 'after_backup'")" 1 \
	"production clipper_db is untouched"
is "$(sb_db_sql postgres "SELECT count(*) FROM pg_database WHERE datname LIKE 'clipper\_db\_replaced\_%'")" 0 \
	"no database was renamed"
cp -p "$PGT_ROOT/manifest.json" "$MF"
# The failed run left the app at 0 replicas, as its hint says: bring it back.
"$PGRESCUE" sandbox up -q || bail_out "sandbox up could not bring the app back"
is "$(sb_replicas)" 3 "the app is back at 3 replicas before the real restore"

# ---------------------------------------------------------------- a damaged dump
# One byte of the dump changed in the store since the backup (same size): it
# no longer matches the SHA-256 its manifest recorded, and pg_restore never
# reads it.
cp -p "$DUMP" "$PGT_ROOT/dump.orig"
python3 -c '
import os, sys
p = sys.argv[1]
with open(p, "r+b") as f:
    f.seek(os.path.getsize(p) // 2)
    b = f.read(1)
    f.seek(-1, 1)
    f.write(bytes([b[0] ^ 0xff]))' "$DUMP"
run_cmd dd "$PGRESCUE" --env sandbox restore --yes </dev/null
is "$dd_rc" 1 "a restore from a damaged dump fails"
like "$dd_err" "failed at step 5 \(pg-restore\)" "at the pg-restore step"
like "$dd_err" "the dump database/$DUMP_NAME is damaged: [0-9]+ bytes with SHA-256 [0-9a-f]{64}, but its manifest .* recorded [0-9]+ bytes with SHA-256 $(sha256sum "$PGT_ROOT/dump.orig" | cut -d' ' -f1)" \
	"the error names the dump and both SHA-256s" || diag "$dd_err"
like "$dd_err" "HINT: .*Nothing was restored from it" "and says nothing was restored from it"
is "$(sb_db_sql clipper_db "SELECT count(*) FROM users WHERE username = 'after_backup'")" 1 \
	"production clipper_db is untouched"
cp -p "$PGT_ROOT/dump.orig" "$DUMP"
"$PGRESCUE" sandbox up -q || bail_out "sandbox up could not bring the app back"

# ---------------------------------------------------------------- the restore
run_cmd r "$PGRESCUE" --env sandbox restore --yes --incident INC-7 --reason "bad migration" </dev/null
is "$r_rc" 0 "restore --yes exits 0 when the run finished" || diag "$r_out" "$r_err"
like "$r_out" "Run [^ ]+ finished" "it follows the run to the end"
like "$r_out" "public\.clips +[0-9]+ +[0-9]+ +ok" "the counts of clips are shown against the manifest"
like "$r_out" "public\.users +[0-9]+ +[0-9]+ +ok" "and of users"
like "$r_out" "DROP DATABASE clipper_db_replaced_[0-9_]+;" "it says how to drop the replaced database"
is "$(table_sums clipper_db "$REF_MAX")" "$REF_SUMS" "every table of clipper_db is identical to the dump"
is "$(sb_db_sql clipper_db "SELECT count(*) FROM users WHERE username = 'after_backup'")" 0 \
	"a row written after the dump is gone"
is "$(sb_replicas)" 3 "the app is back at the recorded 3 replicas"
REPLACED=$(sb_db_sql postgres "SELECT datname FROM pg_database WHERE datname LIKE 'clipper\_db\_replaced\_%' ORDER BY 1")
is "$(echo "$REPLACED" | grep -c .)" 1 "the replaced database is kept"
is "$(sb_db_sql "$REPLACED" "SELECT count(*) FROM users WHERE username = 'after_backup'")" 1 \
	"and still holds the work done after the dump"
is "$(sb_db_sql postgres "SELECT count(*) FROM pg_database WHERE datname = '$FRESH'")" 0 \
	"no database is left under the restore's working name"
grows() { [ "$(sb_db_sql clipper_db "SELECT count(*) FROM clips WHERE id > $REF_MAX")" -gt 0 ]; }
wait_for 30 grows
ok $? "the app writes into the restored clipper_db"
run_cmd a "$PGRESCUE" --env sandbox audit verify
is "$a_rc" 0 "the audit log of the run verifies" || diag "$a_out" "$a_err"

# ---------------------------------------------------------------- SIGKILL and resume
sb_db_sql clipper_db "INSERT INTO users (username, email, display_name) VALUES ('after_first', 'f@b.c', 'After First')"
run_cmd k "$PGRESCUE" --env sandbox restore --yes --detach </dev/null
is "$k_rc" 0 "a detached restore starts" || diag "$k_err"
RUN=$(ls -t "$RUNS" | head -1)
state() { cat "$RUNS/$RUN/state.json" 2>/dev/null; }
in_restore() {
	state | grep -q '"step_index":4' && state | grep -q '"status":"running"' &&
		grep -q 'processing data for table "public.clips"' "$RUNS/$RUN/runner.log"
}
wait_for 60 in_restore
ok $? "the run reaches pg_restore loading clips" || diag "$(state)"
RUNNER=$(state | sed -n 's/.*"pid":[[:space:]]*\([0-9]*\).*/\1/p')
like "$RUNNER" '^[0-9]+$' "state.json names the runner's pid"
kill -KILL "$RUNNER"
gone() { ! kill -0 "$RUNNER" 2>/dev/null; }
wait_for 10 gone
ok $? "the runner is killed in the middle of pg_restore"
is "$(sb_db_sql postgres "SELECT count(*) FROM pg_database WHERE datname = '$FRESH'")" 1 \
	"a half-restored database is left under the working name"
is "$(sb_db_sql clipper_db "SELECT count(*) FROM users WHERE username = 'after_first'")" 1 \
	"production is untouched so far"
run_cmd l "$PGRESCUE" --env sandbox runs
like "$l_out" "$RUN.*interrupted" "pgrescue runs shows the run as interrupted"

# pg_restore's workers may outlive their runner for a moment (they end on
# their next write to the closed log pipe): resuming must not wait for them.
run_cmd z "$PGRESCUE" --env sandbox runs resume last --yes </dev/null
unlike "$z_err" "is locked" "the resume is not refused by the killed runner's lock" ||
	diag "pg_restore inherited the lock's descriptor from the runner (not close-on-exec) and holds the flock"
if printf '%s' "$z_err" | grep -q "is locked"; then
	orphans_gone() { ! pgrep -f "pg_restore .*dbname=$FRESH" >/dev/null; }
	wait_for 120 orphans_gone
	run_cmd z "$PGRESCUE" --env sandbox runs resume last --yes </dev/null
fi
is "$z_rc" 0 "runs resume last finishes the run" || diag "$z_out" "$z_err"
like "$z_out" "finished" "and says so"
like "$(cat "$RUNS/$RUN/runner.log")" "dropping it and restoring again" "the interrupted attempt was dropped and redone"
is "$(table_sums clipper_db "$REF_MAX")" "$REF_SUMS" "after the resume every table is identical to the dump"
is "$(sb_db_sql clipper_db "SELECT count(*) FROM users WHERE username = 'after_first'")" 0 \
	"the row written before this restore is gone"
is "$(sb_replicas)" 3 "the app is back at 3 replicas"
is "$(sb_db_sql postgres "SELECT count(*) FROM pg_database WHERE datname LIKE 'clipper\_db\_replaced\_%'")" 2 \
	"both replaced databases are kept"
is "$(sb_db_sql postgres "SELECT count(*) FROM pg_database WHERE datname = '$FRESH'")" 0 \
	"no half-restored database is left"
is "$(pgrep -fc "pg_restore .*dbname=$FRESH")" 0 "no pg_restore of the killed runner is left running"
run_cmd a "$PGRESCUE" --env sandbox audit verify
is "$a_rc" 0 "the audit log still verifies" || diag "$a_out" "$a_err"

# ---------------------------------------------------------------- a dump without manifest
# As the deployment's own job writes them: the counts are shown, with nothing to compare to.
cp "$DUMP" "$SB/store/database/postgres-backup-20000101-000000.sql.gz"
run_cmd n "$PGRESCUE" --env sandbox restore --backup 20000101-000000 --yes </dev/null
is "$n_rc" 0 "a dump without a pgrescue manifest is restored" || diag "$n_out" "$n_err"
like "$n_out" "no pgrescue manifest: nothing to compare to" "the report says there is nothing to compare to"
like "$n_out" "public\.clips +[0-9]+" "and still shows the counts"
is "$(table_sums clipper_db "$REF_MAX")" "$REF_SUMS" "the data is identical to the dump"

done_testing
