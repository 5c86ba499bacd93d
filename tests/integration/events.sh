#!/usr/bin/env bash
# The destructive-event finder against the sandbox, as an engineer looking
# for "the moment just before the damage": a DROP TABLE, a TRUNCATE and a
# mass DELETE are found in the archived WAL by relation name (the dropped
# table named from the base backup's catalog, the others from the live
# server's) with their row counts; a VACUUM FULL is labelled a rewrite, not
# a drop; a small DELETE is not an event. `pitr --before-event` recovers to
# exactly before the DROP (recovery_target_xid, not inclusive): the table is
# back with its exact row count and what came after is not; the same for the
# mass DELETE on a second sandbox; --min-rows sets what counts as mass.
. "$PGR_TEST_LIB/tap.sh"
. "$PGR_TEST_LIB/pgcluster.sh"
pgt_setup
. "$PGR_TEST_LIB/sandbox.sh"
sb_trap_cleanup

run_cmd up "$PGRESCUE" sandbox up
[ "$up_rc" = 0 ] || bail_out "the sandbox could not be built: $up_err"
archived() { [ -f "$SB/store/wal-archive/$1" ]; }

sb_sql "CREATE TABLE a AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 1234) g"
sb_sql "CREATE TABLE b AS SELECT g AS id FROM generate_series(1, 500) g"
sb_sql "CREATE TABLE c (id int PRIMARY KEY, v text); INSERT INTO c SELECT g, md5(g::text) FROM generate_series(1, 8000) g"
sb_sql "CREATE TABLE d AS SELECT g AS id FROM generate_series(1, 300) g"
sb_sql "CREATE TABLE e AS SELECT g AS id FROM generate_series(1, 50) g"
# The nightly base backup: its catalog names the table dropped later.
run_cmd bk "$PGRESCUE" --env sandbox backup --no-dump -q
is "$bk_rc" 0 "a base backup after the tables were created" || diag "$bk_err"

sleep 1.2
SINCE=$(date -u +'%Y-%m-%d %H:%M:%S')Z
sleep 1.2
sb_sql "DROP TABLE a"
sb_sql "TRUNCATE b"
sb_sql "DELETE FROM c WHERE id <= 5000"
sb_sql "VACUUM FULL d"
sb_sql "DELETE FROM e WHERE id <= 10"
seg=$(sb_sql "SELECT pg_walfile_name(pg_switch_wal())")
wait_for 60 archived "$seg" || bail_out "WAL segment $seg was not archived"

# ---------------------------------------------------------------- bad input
run_cmd nz "$PGRESCUE" --env sandbox events --since "${SINCE%Z}"
is "$nz_rc" 2 "a --since without a zone is a usage error"
like "$nz_err" "zone" "the error says the zone is missing"
run_cmd ns "$PGRESCUE" --env sandbox events
is "$ns_rc" 2 "events without --since is a usage error"

# ---------------------------------------------------------------- the events
run_cmd ev "$PGRESCUE" --env sandbox events --since "$SINCE" --json
is "$ev_rc" 0 "events --json exits 0" || diag "$ev_err"
rows() { # KIND NAME -> "id rows xid" of the events of that kind naming that relation
	printf '%s' "$ev_out" | jq -r --arg k "$1" --arg n "$2" \
		'.events[] | select(.kind == $k and any(.relations[]; .name == $n)) | "\(.id) \(.rows) \(.xid)"'
}
drop=$(rows drop public.a)
ok "$([ -n "$drop" ] && echo 0 || echo 1)" "the DROP TABLE of a is found, by name" || diag "$ev_out"
is "$(echo "$drop" | awk '{print $2}')" 1234 "with its row count (from the base backup's manifest)"
like "$(printf '%s' "$ev_out" | jq -r '.events[] | select(.kind == "drop") | .relations[] | select(.name == "public.a") | .source')" \
	'^base backup [0-9]{8}-[0-9]{6}$' "the dropped table's name comes from the base backup's catalog"
is "$(printf '%s' "$ev_out" | jq -r '.events[] | select(.kind == "truncate") | .relations[] | select(.name == "public.b") | .source')" \
	live "the truncated table's from the live server's"
ok "$([ -n "$(rows truncate public.b)" ] && echo 0 || echo 1)" "the TRUNCATE of b is found, by name"
is "$(rows truncate public.b | awk '{print $2}')" 500 "with the rows b had"
is "$(rows 'mass delete' public.c | awk '{print $2}')" 5000 "the DELETE of 5000 rows of c is found with its row count"
ok "$([ -n "$(rows rewrite public.d)" ] && echo 0 || echo 1)" "the VACUUM FULL of d is labelled a rewrite"
is "$(printf '%s' "$ev_out" | jq '[.events[] | select(.kind != "rewrite") | .relations[].name | select(. == "public.d")] | length')" \
	0 "and d is not listed as a drop, truncate or delete"
is "$(printf '%s' "$ev_out" | jq '[.events[] | .relations[].name | select(. == "public.e")] | length')" 0 \
	"the DELETE of 10 rows of e is not an event"
is "$(printf '%s' "$ev_out" | jq -r '[.events[] | select(.kind == "drop")][0].database')" clipper_db \
	"the event names its database"
like "$(printf '%s' "$ev_out" | jq -r '[.events[] | select(.kind == "drop")][0].time')" \
	'^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{6}Z$' "and its commit time in UTC (RFC 3339)"

run_cmd evt "$PGRESCUE" --env sandbox events --since "$SINCE" --until "2099-01-01 00:00:00+01:00"
is "$evt_rc" 0 "events (text) exits 0"
like "$evt_out" "drop .*public\.a" "the text lists the drop of public.a"
like "$evt_out" "rewrite.*public\.d.*no data lost" "and says the rewrite of d lost no data"
like "$evt_out" "pitr --before-event" "and how to recover to just before one"

run_cmd late "$PGRESCUE" --env sandbox events --since "2099-01-01 00:00:00Z" --json
is "$(printf '%s' "$late_out" | jq '.events | length')" 0 "nothing is found after the archived WAL"

# ---------------------------------------------------------------- the window
run_cmd win "$PGRESCUE" --env sandbox window --json
is "$win_rc" 0 "window --json exits 0"
is "$(printf '%s' "$win_out" | jq -r '.timelines[0].recoverable')" true "timeline 1 is recoverable"
ok "$(printf '%s' "$win_out" | jq -e '.timelines[0].base_backups | length >= 2' >/dev/null && echo 0 || echo 1)" \
	"both base backups are shown on it"
ok "$(printf '%s' "$win_out" | jq -e '.timelines[0].wal.segments > 0' >/dev/null && echo 0 || echo 1)" \
	"with its WAL coverage"

# ---------------------------------------------------------------- recover to before the DROP
drop_id=$(echo "$drop" | awk '{print $1}')
drop_xid=$(echo "$drop" | awk '{print $3}')
run_cmd bad "$PGRESCUE" --env sandbox pitr --before-event 1-0/1 --dry-run
ok "$([ "$bad_rc" != 0 ] && echo 0 || echo 1)" "an unknown event id is refused"
like "$bad_err" "event 1-0/1|no destructive event" "the error names the event"

run_cmd dry "$PGRESCUE" --env sandbox pitr --before-event "$drop_id" --dry-run
is "$dry_rc" 0 "--before-event --dry-run exits 0" || diag "$dry_err"
like "$dry_out" "recovery_target_xid = '$drop_xid'" "the target is the DROP's xid"
like "$dry_out" "recovery_target_inclusive = 'false'" "excluded: recovery stops just before it"
like "$dry_out" "just before event $drop_id" "the plan names the event and its time"

run_cmd pitr "$PGRESCUE" --env sandbox pitr --before-event "$drop_id" --yes --incident INC-5 --reason "a was dropped"
is "$pitr_rc" 0 "pitr --before-event finishes" || diag "$pitr_out" "$pitr_err"
is "$(sb_sql "SELECT count(*) FROM a")" 1234 "the dropped table is back with its exact row count"
is "$(sb_sql "SELECT count(*) FROM b")" 500 "the TRUNCATE after it did not happen"
is "$(sb_sql "SELECT count(*) FROM c")" 8000 "nor the mass DELETE"

# ---------------------------------------------------------------- recover to before the mass DELETE
# The DELETE came after the DROP on timeline 1, past where timeline 2 now
# branches off: a fresh sandbox for it.
run_cmd down "$PGRESCUE" sandbox down -q
is "$down_rc" 0 "the first sandbox is taken down" || diag "$down_err"
run_cmd up2 "$PGRESCUE" sandbox up
[ "$up2_rc" = 0 ] || bail_out "the second sandbox could not be built: $up2_err"
sb_sql "CREATE TABLE c (id int PRIMARY KEY, v text); INSERT INTO c SELECT g, md5(g::text) FROM generate_series(1, 8000) g"
sleep 1.2
SINCE2=$(date -u +'%Y-%m-%d %H:%M:%S')Z
sleep 1.2
sb_sql "DELETE FROM c WHERE id <= 5000"
sb_sql "INSERT INTO c VALUES (100000, 'after the delete')"
seg=$(sb_sql "SELECT pg_walfile_name(pg_switch_wal())")
wait_for 60 archived "$seg" || bail_out "WAL segment $seg was not archived"
run_cmd ev2 "$PGRESCUE" --env sandbox events --since "$SINCE2" --min-rows 4000 --json
del_id=$(printf '%s' "$ev2_out" | jq -r '.events[] | select(.kind == "mass delete" and any(.relations[]; .name == "public.c" and .rows == 5000)) | .id')
ok "$([ -n "$del_id" ] && echo 0 || echo 1)" "the mass DELETE is found with --min-rows 4000" || diag "$ev2_out" "$ev2_err"
run_cmd ev3 "$PGRESCUE" --env sandbox events --since "$SINCE2" --min-rows 6000 --json
is "$(printf '%s' "$ev3_out" | jq '[.events[] | select(.kind == "mass delete")] | length')" 0 \
	"and not with --min-rows 6000"
run_cmd pitr2 "$PGRESCUE" --env sandbox pitr --before-event "$del_id" --yes --incident INC-6 --reason "c was emptied"
is "$pitr2_rc" 0 "pitr --before-event for the DELETE finishes" || diag "$pitr2_out" "$pitr2_err"
is "$(sb_sql "SELECT count(*) FROM c")" 8000 "c has its 8000 rows again"
is "$(sb_sql "SELECT count(*) FROM c WHERE id = 100000")" 0 "and not the row inserted after the DELETE"

done_testing
