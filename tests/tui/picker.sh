#!/usr/bin/env bash
# The PITR target picker as an engineer drives it, the real binary in a
# private tmux server against a sandbox this test builds: the window bar
# (timeline, base backup marks, legend); a time picked with the cursor
# (End, Left a minute, Shift-Left an hour, PgDn a day), each step echoed and
# judged in place; a time typed without a zone refused with a HINT, with a
# zone name echoed in UTC; a time inside a base backup's own run refused
# when no older base reaches it and warned about when one does; in the
# read-only monitor the picker shows and copies a target and starts
# nothing; and an event picked from the scan of the archived WAL (the
# TRUNCATE, below the newer DROP) recovered to just before it through the
# wizard: the truncated table has its rows again.
. "$PGR_TEST_LIB/tap.sh"
. "$PGR_TEST_LIB/pgcluster.sh"
. "$PGR_TEST_LIB/tmux.sh"
pgt_setup
. "$PGR_TEST_LIB/sandbox.sh"
sb_trap_cleanup

export LANG=C.UTF-8 LC_ALL=C.UTF-8
unset NO_COLOR
RUNS="$XDG_STATE_HOME/pgrescue/runs"
run_dirs() { ls "$RUNS" 2>/dev/null | wc -l; }

run_cmd up "$PGRESCUE" sandbox up -q
[ "$up_rc" = 0 ] || { diag "$up_err"; bail_out "the sandbox could not be built"; }

# A table that will be truncated and one that will be dropped, both in a
# second base backup's catalog, so the events name them.
sb_sql "CREATE TABLE victim AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 1234) g"
sb_sql "CREATE TABLE gone AS SELECT g AS id FROM generate_series(1, 77) g"
sleep 2 # the second base backup starts after the first one's end
run_cmd bk "$PGRESCUE" --env sandbox backup
is "$bk_rc" 0 "a second backup with the tables" || diag "$bk_err"
sleep 1.2
sb_sql "TRUNCATE victim"
sleep 1.2
sb_sql "DROP TABLE gone"
seg=$(sb_sql "SELECT pg_walfile_name(pg_switch_wal())")
archived() { [ -f "$SB/store/wal-archive/$seg" ]; }
wait_for 60 archived || bail_out "segment $seg was not archived"

# The base backups' own runs, from their manifests (oldest first).
mapfile -t BASES < <(ls "$SB/store/base" | sort)
[ "${#BASES[@]}" = 2 ] || bail_out "expected 2 base backups, found ${#BASES[@]}"
manifest() { jq -r ".$2" "$SB/store/base/$1/pgrescue.json"; }
B1_START=$(manifest "${BASES[0]}" start_time_unix)
B1_STOP=$(manifest "${BASES[0]}" stop_time_unix)
B2_START=$(manifest "${BASES[1]}" start_time_unix)
B2_STOP=$(manifest "${BASES[1]}" stop_time_unix)
# A base backup of the small sandbox may start and stop within one second;
# its own run then has no whole second to point at.
utc() { date -u -d "@$1" '+%Y-%m-%d %H:%M:%S'; }

console() { # ARGS...
	tmx_start 100 30 "$PGRESCUE" --env sandbox "$@"
	tmx_wait_for 'updated [0-9]' 60 || { diag "$TMX_SCREEN"; bail_out "the console did not draw its first refresh"; }
}
# The time in the Target field.
field_time() { printf '%s\n' "$TMX_SCREEN" | sed -n 's/.*Target  *\([0-9-]* [0-9:]*Z\).*/\1/p' | head -1; }

# ---------------------------------------------------------------- the monitor: shows, copies, starts nothing
console monitor
tmx_keys w
tmx_wait_for "PITR target picker on sandbox" 5
ok $? "monitor: w opens the target picker" || diag "$TMX_SCREEN"
like "$TMX_SCREEN" "read-only" "monitor: the picker says read-only"
tmx_keys End
tmx_wait_for "inside the recoverable window" 5
ok $? "monitor: End puts the cursor at the latest point, inside the window" || diag "$TMX_SCREEN"
tmx_keys Enter
tmx_wait_for "target picked: pgrescue --env sandbox pitr --time '[0-9-]+ [0-9:]+Z'" 5
ok $? "monitor: Enter shows the equivalent command" || diag "$TMX_SCREEN"
like "$TMX_SCREEN" "read-only monitor" "monitor: and says it is the read-only monitor"
unlike "$TMX_SCREEN" "Incident id|Checks passed" "monitor: no wizard step opened"
is "$(run_dirs)" 0 "monitor: no run directory appeared"
tmx_keys Escape
tmx_wait_for "target picker closed; nothing was changed" 5
ok $? "monitor: Esc closes the picker"
tmx_keys t
tmx_wait_for "read-only monitor: moving a recovery's target is not available" 5
ok $? "monitor: t (move a paused recovery's target) answers read-only monitor"
tmx_keys :
tmx_type "window"
tmx_keys Enter
tmx_wait_for "PITR target picker on sandbox" 5
ok $? "monitor: :window opens the picker too" || diag "$TMX_SCREEN"
tmx_keys Escape
tmx_wait_for "target picker closed" 5
tmx_quit_clean "monitor picker"

# ---------------------------------------------------------------- the cursor and the typed time
console
tmx_keys w
tmx_wait_for "PITR target picker on sandbox" 5
ok $? "w opens the target picker"
like "$TMX_SCREEN" "Recoverable window \(timeline 1\)" "it names the window's timeline"
like "$TMX_SCREEN" "TL 1 .*B" "the bar of timeline 1 with base backup marks"
like "$TMX_SCREEN" "recoverable .*WAL without a base backup .*missing WAL .*B base backup" "and its legend"
like "$TMX_SCREEN" "\(now\)" "the axis ends at now"
tmx_keys End
tmx_wait_for "inside the recoverable window of timeline 1" 5
ok $? "End: the latest point, inside the window" || diag "$TMX_SCREEN"
end_t=$(field_time)
ok "$([ -n "$end_t" ] && echo 0 || echo 1)" "End writes the time into the field ($end_t)"
like "$TMX_SCREEN" "base backup ${BASES[1]} \(ended" "the newest base backup is the one used"
like "$TMX_SCREEN" "WAL to replay: about [0-9.]+ [KMG]iB" "the WAL to replay is shown"
like "$TMX_SCREEN" "▲ [0-9-]+ [0-9:]+ UTC|[0-9-]+ [0-9:]+ UTC▲" "the cursor is drawn under the bar, with its time"
tmx_keys Left
want=$(date -u -d "${end_t%Z} UTC - 60 seconds" '+%Y-%m-%d %H:%M:%SZ')
tmx_wait_for "Target +$want" 5
ok $? "Left moves the cursor a minute earlier ($want)" || diag "$TMX_SCREEN"
tmx_keys S-Left
want=$(date -u -d "${end_t%Z} UTC - 3660 seconds" '+%Y-%m-%d %H:%M:%SZ')
tmx_wait_for "Target +$want" 5
ok $? "Shift-Left moves it an hour earlier" || diag "$TMX_SCREEN"
tmx_wait_for "NOT RECOVERABLE: .* is before the recoverable window" 5
ok $? "an hour back is before the window, said in place" || diag "$TMX_SCREEN"
like "$TMX_SCREEN" "HINT: The recoverable window on timeline 1 runs from" "with the window as a HINT"
tmx_keys NPage
want=$(date -u -d "${end_t%Z} UTC + 82740 seconds" '+%Y-%m-%d %H:%M:%SZ')
tmx_wait_for "Target +$want" 5
ok $? "PgDn moves it a day later" || diag "$TMX_SCREEN"
tmx_wait_for "NOT RECOVERABLE: .* is after the end of the recoverable window" 5
ok $? "a day later is after the window" || diag "$TMX_SCREEN"

# Typed: without a zone, then with a zone name, echoed in UTC.
T_OK=$(utc "$((B2_STOP + 1))")
tmx_keys C-u
tmx_type "$T_OK"
tmx_wait_for "has no time zone" 5
ok $? "a time typed without a zone is refused in place" || diag "$TMX_SCREEN"
like "$TMX_SCREEN" "HINT: " "with a HINT"
paris=$(TZ=Europe/Paris date -d "@$((B2_STOP + 1))" '+%Y-%m-%d %H:%M:%S')
tmx_keys C-u
tmx_type "$paris Europe/Paris"
tmx_wait_for "UTC +$T_OK UTC" 5
ok $? "Europe/Paris is accepted and echoed in UTC ($paris Paris = $T_OK UTC)" || diag "$TMX_SCREEN"
like "$TMX_SCREEN" "database +${T_OK} UTC \+00:00" "and in the database's zone (UTC here)"
like "$TMX_SCREEN" "local +[0-9-]+ [0-9:]+" "and in local time"
tmx_keys C-u
tmx_type "${T_OK:0:10}T${T_OK:11}+00:00"
tmx_wait_for "inside the recoverable window" 5
ok $? "an offset is accepted too" || diag "$TMX_SCREEN"

# Inside a base backup's own run.
if [ "$B1_STOP" -gt "$B1_START" ]; then
	tmx_keys C-u
	tmx_type "$(utc "$B1_START")Z"
	tmx_wait_for "NOT RECOVERABLE: .* falls inside base backup ${BASES[0]}'s own run" 5
	ok $? "a time inside the first base backup's own run is refused, naming it" || diag "$TMX_SCREEN"
	like "$TMX_SCREEN" "HINT: .*Pick $(utc "$B1_STOP") UTC or later" "with the first time that works"
else
	pass "the first base backup started and stopped within one second: no time inside its run"
	pass "(nothing to point at)"
fi
if [ "$B2_STOP" -gt "$B2_START" ]; then
	tmx_keys C-u
	tmx_type "$(utc "$B2_START")Z"
	tmx_wait_for "WARNING: the target falls inside base backup ${BASES[1]}'s own run" 5
	ok $? "inside the second base backup's run: a warning" || diag "$TMX_SCREEN"
	like "$TMX_SCREEN" "base backup ${BASES[0]} \(ended" "and the older base backup serves it"
else
	pass "the second base backup started and stopped within one second"
	pass "(nothing to point at)"
fi
tmx_keys Escape
tmx_wait_for "target picker closed; nothing was changed" 5
ok $? "Esc closes the picker, nothing changed"
is "$(run_dirs)" 0 "no run directory appeared"

# ---------------------------------------------------------------- an event, picked and recovered to
tmx_keys w
tmx_wait_for "PITR target picker on sandbox" 5
tmx_keys Up Left
tmx_wait_for "\[event\]" 5
ok $? "Up, Left: the kind event" || diag "$TMX_SCREEN"
tmx_wait_for "events? in the archived WAL, newest first" 120
ok $? "the scan of the archived WAL runs in the background and lists events" || diag "$TMX_SCREEN"
like "$TMX_SCREEN" "> .* drop +clipper_db +public.gone +77 rows" "the newest loss, the DROP of gone, is preselected with its rows"
like "$TMX_SCREEN" "truncate +clipper_db +public.victim +1234 rows" "the TRUNCATE of victim is listed, by name"
tmx_keys Down
tmx_keys Down
tmx_wait_for "> .* truncate +clipper_db +public.victim" 5
ok $? "Down, Down: the TRUNCATE is picked" || diag "$TMX_SCREEN"
like "$TMX_SCREEN" "Recover to just before it: recovery_target_xid = [0-9]+, exclusive" "shown as an exclusive xid"
xid=$(printf '%s\n' "$TMX_SCREEN" | sed -n 's/.*recovery_target_xid = \([0-9]*\).*/\1/p' | head -1)
tmx_keys Enter
tmx_wait_for "target picked: pgrescue --env sandbox pitr --before-event 1-" 5
ok $? "Enter hands the event over to the wizard" || diag "$TMX_SCREEN"
tmx_wait_for "Incident id" 5
ok $? "which asks who and why (optional)"
tmx_keys Enter Enter
tmx_wait_for "Checks passed" 60
ok $? "then the plan, checked" || diag "$TMX_SCREEN"
like "$TMX_SCREEN" "to xid $xid \(exclusive\)" "the plan recovers to just before the xid"
tmx_keys Enter
tmx_wait_for "Type the environment's name \(sandbox\)" 5
tmx_type "sandbox"
tmx_keys Enter
tmx_wait_for "Result: finished" 300
ok $? "the PITR run finishes" || diag "$TMX_SCREEN"
is "$(sb_sql "SELECT count(*) FROM victim")" 1234 "victim has its 1234 rows again"
is "$(sb_sql "SELECT count(*) FROM gone")" 77 "gone, dropped after the TRUNCATE, is back too"
tmx_keys d
# That recovery measured this machine's replay speed: estimates use it now.
tmx_keys w
tmx_wait_for "PITR target picker on sandbox" 5
tmx_keys End
tmx_wait_for "WAL to replay: about [0-9.]+ [KMG]iB: about [0-9.]+ (s|min|h) at [0-9.]+ [KMG]iB/s, measured over 1 recovery here" 30
ok $? "after a recovery the WAL to replay comes with a time estimate from its measured speed" || diag "$TMX_SCREEN"
like "$TMX_SCREEN" "TL 2" "and the new timeline has its own bar"
tmx_keys Escape
tmx_quit_clean "picker console"

done_testing
