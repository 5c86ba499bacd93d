#!/usr/bin/env bash
# The recovery wizards as an on-call engineer drives them: the real binary in
# a private tmux server against a sandbox this test builds. The read-only
# monitor cannot start or resume a plan; the restore wizard walks incident,
# dump, the exact plan, the typed environment name (a wrong name cancels,
# changes nothing and is audited) and the run to its end, with the app's
# replicas back; the PITR wizard shows a time without a zone as an error in
# place, then recovers a dropped table with its exact row count and without
# a write made after the target; a paused PITR left waiting is offered for
# resuming when the console is opened again, and U finishes it; the audit
# screen lists what happened, newest first. Every console ends with q, exit
# code 0 and nothing on stderr (AddressSanitizer with leak detection).
. "$PGR_TEST_LIB/tap.sh"
. "$PGR_TEST_LIB/pgcluster.sh"
. "$PGR_TEST_LIB/tmux.sh"
pgt_setup
. "$PGR_TEST_LIB/sandbox.sh"
sb_trap_cleanup

export LANG=C.UTF-8 LC_ALL=C.UTF-8
unset NO_COLOR

RUNS="$XDG_STATE_HOME/pgrescue/runs"
AUDIT="$XDG_STATE_HOME/pgrescue/audit.log"

run_cmd up "$PGRESCUE" sandbox up -q
[ "$up_rc" = 0 ] || { diag "$up_err"; bail_out "the sandbox could not be built"; }
PORT=$(sb_port)

databases() { sb_db_sql postgres "SELECT string_agg(datname, ' ' ORDER BY datname) FROM pg_database"; }
three_replicas() { [ "$(sb_replicas)" = 3 ]; }
run_dirs() { ls "$RUNS" 2>/dev/null | wc -l; }
# Audit records as "phase outcome incident plan" lines, oldest first.
audit_lines() {
	python3 -c '
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    print(r.get("phase"), r.get("outcome"), r.get("incident"), r.get("plan"), r.get("step"))' "$AUDIT" 2>/dev/null
}
# Press Down until the screen matches (the review's plan is longer than a screen).
scroll_until() { # REGEX
	local i
	for ((i = 0; i < 120; i++)); do
		TMX_SCREEN=$(tmx_screen)
		printf '%s\n' "$TMX_SCREEN" | grep -Eq -- "$1" && return 0
		tmx_keys Down
		sleep 0.05
	done
	return 1
}
# The incident screen: id, Enter, reason, Enter.
incident() { # ID REASON
	tmx_wait_for "Incident id" 10 || return 1
	tmx_type "$1"
	tmx_keys Enter
	tmx_type "$2"
	tmx_keys Enter
}
console() { # ARGS...
	tmx_start 100 30 "$PGRESCUE" --env sandbox "$@"
	tmx_wait_for 'updated [0-9]' 60 || { diag "$TMX_SCREEN"; bail_out "the console did not draw its first refresh"; }
}

# ---------------------------------------------------------------- the monitor cannot start a plan
console monitor
tmx_keys R
tmx_wait_for "read-only monitor: restore is not available" 5
ok $? "monitor: R (restore) answers read-only monitor"
tmx_keys P
tmx_wait_for "read-only monitor: point-in-time recovery is not available" 5
ok $? "monitor: P (PITR) answers read-only monitor"
tmx_keys U
tmx_wait_for "read-only monitor: resuming a run is not available" 5
ok $? "monitor: U (resume) answers read-only monitor"
tmx_keys :
tmx_type "pitr 2026-01-01 00:00:00Z"
tmx_keys Enter
tmx_wait_for "read-only monitor: point-in-time recovery is not available" 5
ok $? "monitor: :pitr answers read-only monitor"
unlike "$TMX_SCREEN" "wizard on sandbox|Incident id" "monitor: no wizard screen opened"
tmx_keys A
tmx_wait_for "Audit log of sandbox" 5
ok $? "monitor: the audit screen opens (reading is not changing)"
tmx_keys Escape
is "$(run_dirs)" 0 "monitor: no run directory appeared"
is "$(sb_replicas)" 3 "monitor: the app still has its 3 replicas"
tmx_quit_clean "monitor"

# ---------------------------------------------------------------- restore: a wrong name cancels
DUMP_NAME=$(ls "$SB/store/database" | grep '^postgres-backup-.*\.sql\.gz$' | sort | tail -1)
[ -n "$DUMP_NAME" ] || bail_out "the sandbox has no dump"
dbs_before=$(databases)
console
tmx_keys R
tmx_wait_for "Restore wizard on sandbox" 5
ok $? "R opens the restore wizard"
like "$TMX_SCREEN" "\[1 Incident\]" "it starts with the incident (step 1 marked)"
incident "INC-101" "users damaged by a bad migration"
tmx_wait_for "Pick the dump to restore" 10
ok $? "Enter twice: the dump list"
tmx_wait_for "> .*$DUMP_NAME" 10
ok $? "the newest dump ($DUMP_NAME) is selected" || diag "$TMX_SCREEN"
like "$TMX_SCREEN" "Time \(UTC\) +Age +Size" "the list shows time (UTC), age and size"
like "$(printf '%s\n' "$TMX_SCREEN" | grep -F "$DUMP_NAME")" "[0-9.]+ [kM]?B +good" "with its size and state"
tmx_keys Enter
tmx_wait_for "Checks passed" 60
ok $? "the review screen: the plan is checked before anything changes" || diag "$TMX_SCREEN"
like "$TMX_SCREEN" "Plan: Restore clipper_db from $DUMP_NAME" "the review shows the plan's header"
like "$TMX_SCREEN" "incident +INC-101: users damaged by a bad migration" "with the incident and reason"
scroll_until "pg_restore -j [0-9]+"
ok $? "the review shows the exact pg_restore command" || diag "$TMX_SCREEN"
tmx_keys Enter
tmx_wait_for "Type the environment's name \(sandbox\)" 5
ok $? "Enter: the confirmation asks for the environment's name"
like "$TMX_SCREEN" "This will stop the application, restore $DUMP_NAME" "it restates what will happen to what"
like "$TMX_SCREEN" "default: cancel" "its default is cancel"
tmx_type "sandbx"
tmx_keys Enter
tmx_wait_for "Cancelled: nothing was changed" 5
ok $? "a wrong name cancels, and says nothing was changed"
is "$(databases)" "$dbs_before" "no database was created or renamed"
is "$(run_dirs)" 0 "no run was started"
is "$(sb_replicas)" 3 "the app was not touched"
like "$(audit_lines | tail -1)" "^cancelled cancelled INC-101 restore None$" "the audit log has the cancellation, with the incident"

# ---------------------------------------------------------------- restore: the right name runs it
tmx_keys R
incident "INC-101" "users damaged by a bad migration"
tmx_wait_for "> .*$DUMP_NAME" 10
tmx_keys Enter
tmx_wait_for "Checks passed" 60
tmx_keys Enter
tmx_wait_for "Type the environment's name" 5
unlike "$TMX_SCREEN" "> sandbx" "nothing typed before is remembered"
tmx_type "sandbox"
tmx_keys Enter
tmx_wait_for "Run of restore on sandbox" 10
ok $? "the right name starts the run and opens its view" || diag "$TMX_SCREEN"
like "$TMX_SCREEN" "d: leave; the run goes on|d: leave" "the view says how to leave it"
tmx_wait_for "Result: finished" 180
ok $? "the run view reaches: Result: finished" || diag "$TMX_SCREEN"
screen=$TMX_SCREEN
like "$screen" "─ done ─" "its state word is done"
like "$screen" "\[x\] done +[0-9]+\. Health check" "each step has a marker and a state word"
unlike "$screen" "\[!\]|failed" "no step failed"
like "$screen" "the application runs with 3 replicas" "the reports are shown"
wait_for 30 three_replicas
ok $? "the app is back at its 3 replicas"
like "$(databases)" "clipper_db_replaced_[0-9]{8}_[0-9]{6}" "the replaced database is kept"
like "$(sb_db_sql clipper_db "SELECT count(*) FROM users")" "^[1-9][0-9]*$" "the restored clipper_db answers, with its users"
tmx_keys Up Up Up Up Up Up Up Up Up Up Up Up Up Up Up Up Up Up Up Up Up Up Up Up Up Up Up Up Up Up
tmx_wait_for "\[x\] done +1\. Preflight" 5
ok $? "Up scrolls back to the first step, done"
tmx_keys d
tmx_wait_for "left the view of run [0-9]{8}-[0-9]{6}-restore-sandbox" 5
ok $? "d leaves the run view"

# ---------------------------------------------------------------- the audit screen
tmx_keys A
tmx_wait_for "Audit log of sandbox, newest first: chain intact, [0-9]+ records" 5
ok $? "A opens the audit screen; its header says the chain is intact" || diag "$TMX_SCREEN"
rows=$(printf '%s\n' "$TMX_SCREEN" | grep -E "^│[> ] +(ok|intent|cancelled|refused|failed|run-start) ")
like "$(printf '%s\n' "$rows" | head -1)" "ok .*INC-101 +restore +run-end" "newest first: the run's end is on top"
like "$rows" "intent .*INC-101 +restore +swap" "the steps' intent records are listed"
tmx_keys Escape
tmx_keys :
tmx_type "audit"
tmx_keys Enter
tmx_wait_for "Audit log of sandbox" 5
ok $? ":audit opens it too"
scroll_until "cancelled .*INC-101 +restore"
ok $? "the cancelled restore is listed, with its incident"
tmx_keys Escape

# ---------------------------------------------------------------- PITR: a dropped table comes back
sb_db_sql clipper_db "CREATE TABLE keepme AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 1234) g"
sleep 1.2
T=$(date -u '+%Y-%m-%d %H:%M:%S')
sleep 1.2
sb_db_sql clipper_db "DROP TABLE keepme"
sb_db_sql clipper_db "INSERT INTO users (username, email, display_name) VALUES ('after_target', 'a@t.x', 'After')"
seg=$(sb_db_sql clipper_db "SELECT pg_walfile_name(pg_switch_wal())")
archived() { [ -f "$SB/store/wal-archive/$seg" ]; }
wait_for 60 archived || bail_out "segment $seg was not archived"
tmx_keys P
tmx_wait_for "Point-in-time recovery wizard on sandbox" 5
ok $? "P opens the PITR wizard"
incident "INC-102" "keepme dropped by accident"
tmx_wait_for "Recoverable window \(timeline 1\)" 10
ok $? "the target screen shows the recoverable window" || diag "$TMX_SCREEN"
like "$TMX_SCREEN" "\[time\] +xid +lsn +name +immediate" "the kind time is preselected"
like "$TMX_SCREEN" "\[inclusive\] +exclusive" "inclusive is preselected"
tmx_type "$T"
tmx_wait_for "has no time zone" 5
ok $? "a time without a zone is refused in place" || diag "$TMX_SCREEN"
like "$TMX_SCREEN" "HINT: Did you mean" "with its HINT"
tmx_keys Enter
tmx_wait_for "Recoverable window" 2
like "$TMX_SCREEN" "\[2 Target\]" "Enter does not go on with a bad target"
tmx_keys C-u
tmx_type "2099-01-01 00:00:00Z"
tmx_wait_for "is after the end of the recoverable window" 5
ok $? "a time after the window is shown as such in place" || diag "$TMX_SCREEN"
runs_before=$(run_dirs)
tmx_keys Enter
tmx_wait_for "REFUSED: target time 2099-01-01 00:00:00 UTC .* is after the end of the recoverable" 60
ok $? "Enter anyway: the plan is refused on the review screen" || diag "$TMX_SCREEN"
like "$TMX_SCREEN" "HINT: The recoverable window on timeline 1 runs from" "with the window as a HINT"
like "$TMX_SCREEN" "Nothing was changed" "and says nothing was changed"
like "$(audit_lines | tail -1)" "^refused refused INC-102 pitr None$" "the refusal is in the audit log"
is "$(run_dirs)" "$runs_before" "no run was started"
tmx_keys Escape
tmx_wait_for "\[2 Target\]" 5
ok $? "Esc goes back to the target"
tmx_keys C-u
tmx_type "${T}Z"
tmx_wait_for "inside the recoverable window" 5
ok $? "with the zone it is inside the window" || diag "$TMX_SCREEN"
like "$TMX_SCREEN" "UTC +${T} UTC" "the echo in UTC"
like "$TMX_SCREEN" "database +${T:0:10}" "the echo in the database's zone"
like "$TMX_SCREEN" "local +${T:0:10}" "the echo in local time"
tmx_keys Enter
tmx_wait_for "Checks passed" 60
ok $? "the PITR plan is checked" || diag "$TMX_SCREEN"
like "$TMX_SCREEN" "Plan: Recover clipper_db on sandbox to time $T UTC \(inclusive\)" "the review names the target"
scroll_until "recovery_target_time"
ok $? "the review shows the recovery settings"
tmx_keys Enter
tmx_wait_for "Type the environment's name \(sandbox\)" 5
like "$TMX_SCREEN" "This will stop the database server of sandbox" "the confirmation restates what will happen"
tmx_type "sandbox"
tmx_keys Enter
tmx_wait_for "Run of point-in-time recovery on sandbox" 10
ok $? "the PITR run starts"
tmx_wait_for "Result: finished" 300
ok $? "the PITR run view reaches: Result: finished" || diag "$TMX_SCREEN"
like "$TMX_SCREEN" "public.keepme .*\(missing\) +1234" "the verification shows keepme back, next to the counts before"
is "$(sb_db_sql clipper_db "SELECT count(*) FROM keepme")" 1234 "keepme is back with its exact row count"
is "$(sb_db_sql clipper_db "SELECT count(*) FROM users WHERE username = 'after_target'")" 0 \
	"a write made after the target is not there"
is "$(sb_db_sql clipper_db "SELECT pg_is_in_recovery()")" f "the server is promoted and writable"
tmx_keys d
tmx_quit_clean "restore and PITR console"

# ---------------------------------------------------------------- a paused PITR, resumed after reopening
run_cmd b "$PGRESCUE" --env sandbox backup --no-dump
is "$b_rc" 0 "a base backup on the new timeline" || diag "$b_err"
sb_db_sql clipper_db "CREATE TABLE keepme2 AS SELECT g AS id FROM generate_series(1, 777) g"
sleep 1.2
T2=$(date -u '+%Y-%m-%d %H:%M:%SZ')
sleep 1.2
sb_db_sql clipper_db "DROP TABLE keepme2"
seg=$(sb_db_sql clipper_db "SELECT pg_walfile_name(pg_switch_wal())")
wait_for 60 archived || bail_out "segment $seg was not archived"
console
tmx_keys P
incident "INC-103" "keepme2 dropped"
tmx_wait_for "Recoverable window" 10
tmx_type "$T2"
tmx_keys Down Down Right
tmx_wait_for "\[pause\]" 5
ok $? "Down to At target, Right: pause"
tmx_keys Enter
tmx_wait_for "Checks passed" 60
ok $? "the paused plan is checked" || diag "$TMX_SCREEN"
tmx_keys Enter
tmx_wait_for "Type the environment's name" 5
tmx_type "sandbox"
tmx_keys Enter
tmx_wait_for "Result: waiting at step" 300
ok $? "the run stops waiting at the target" || diag "$TMX_SCREEN"
tmx_keys q
tmx_wait_for "updated [0-9]" 5
tmx_quit_clean "the console that started the paused run"

console
tmx_wait_for "Run [0-9]{8}-[0-9]{6}-pitr-sandbox \(pitr\) is waiting at step [0-9]+ of [0-9]+: U continues it" 10
ok $? "reopened, the console offers to resume the waiting run" || diag "$TMX_SCREEN"
tmx_keys U
tmx_wait_for "Type the environment's name \(sandbox\)" 5
ok $? "U asks for the environment's name" || diag "$TMX_SCREEN"
like "$TMX_SCREEN" "Resume run [0-9]{8}-[0-9]{6}-pitr-sandbox \(waiting\) at step" "it says which run, at which step"
tmx_type "sandbox"
tmx_keys Enter
tmx_wait_for "Result: finished" 300
ok $? "the resumed run finishes" || diag "$TMX_SCREEN"
is "$(sb_db_sql clipper_db "SELECT count(*) FROM keepme2")" 777 "keepme2 is back with its exact row count"
is "$(sb_db_sql clipper_db "SELECT pg_is_in_recovery()")" f "and the server was promoted"
like "$(audit_lines | grep -c 'INC-103')" "^[1-9][0-9]*$" "the audit log records the resumed run under its incident"
tmx_keys d
tmx_wait_gone "is waiting at step" 5
ok $? "the banner is gone once the run is done"

# ---------------------------------------------------------------- too small, and back
tmx_keys R
tmx_wait_for "Restore wizard" 5
tmx_resize 70 20
tmx_wait_for "terminal too small" 5
ok $? "the wizard too says when the terminal is too small"
tmx_resize 100 30
tmx_wait_for "Restore wizard on sandbox" 5
ok $? "and comes back where it was"
tmx_keys Escape
tmx_quit_clean "the reopened console"

like "$("$PGRESCUE" --env sandbox audit verify)" "chain intact" "pgrescue audit verify passes on the log the wizards wrote"

done_testing
