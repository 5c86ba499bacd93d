#!/usr/bin/env bash
# Pause, inspect, move the target, promote, in the console: the PITR wizard
# with "pause" at the target stops there read-only and shows the row counts
# at once; :sql runs a query of the engineer's own and refuses a write; t
# moves the target later after the environment's name is typed, replay goes
# on without starting over and the counts follow; an earlier target is
# refused in place; U promotes, and the data is the later target's.
. "$PGR_TEST_LIB/tap.sh"
. "$PGR_TEST_LIB/pgcluster.sh"
. "$PGR_TEST_LIB/tmux.sh"
pgt_setup
. "$PGR_TEST_LIB/sandbox.sh"
sb_trap_cleanup

export LANG=C.UTF-8 LC_ALL=C.UTF-8
unset NO_COLOR
RUNS="$XDG_STATE_HOME/pgrescue/runs"

run_cmd up "$PGRESCUE" sandbox up -q
[ "$up_rc" = 0 ] || { diag "$up_err"; bail_out "the sandbox could not be built"; }

# T1: 100 rows in ledger; T2: 250; then the table is dropped.
sb_sql "CREATE TABLE ledger AS SELECT g AS id FROM generate_series(1, 100) g"
sleep 1.2
T1=$(date -u '+%Y-%m-%d %H:%M:%S')
sleep 1.2
sb_sql "INSERT INTO ledger SELECT g FROM generate_series(101, 250) g"
sleep 1.2
T2=$(date -u '+%Y-%m-%d %H:%M:%S')
sleep 1.2
sb_sql "DROP TABLE ledger"
seg=$(sb_sql "SELECT pg_walfile_name(pg_switch_wal())")
archived() { [ -f "$SB/store/wal-archive/$seg" ]; }
wait_for 60 archived || bail_out "segment $seg was not archived"

tmx_start 100 30 "$PGRESCUE" --env sandbox
tmx_wait_for 'updated [0-9]' 60 || { diag "$TMX_SCREEN"; bail_out "the console did not draw its first refresh"; }
command() { # TEXT: a : command
	tmx_keys :
	tmx_type "$1"
	tmx_keys Enter
}

tmx_keys P
tmx_wait_for "Incident id" 10
tmx_type "INC-77"
tmx_keys Enter
tmx_type "ledger dropped"
tmx_keys Enter
tmx_wait_for "Recoverable window" 10
tmx_type "${T1}Z"
tmx_wait_for "inside the recoverable window" 5
ok $? "T1 is inside the window" || diag "$TMX_SCREEN"
tmx_keys Down Down Right
tmx_wait_for "promote +\[pause\]" 5
ok $? "Down, Down, Right: pause at the target" || diag "$TMX_SCREEN"
tmx_keys Enter
tmx_wait_for "Checks passed" 60
ok $? "the plan is checked" || diag "$TMX_SCREEN"
tmx_keys Enter
tmx_wait_for "Type the environment's name \(sandbox\)" 5
tmx_type "sandbox"
tmx_keys Enter
tmx_wait_for "Paused at the target, read-only" 300
ok $? "the run stops paused at the target and says what can be done there" || diag "$TMX_SCREEN"
tmx_wait_for "public.ledger .* 100" 60
ok $? "the row counts at the target are shown at once: ledger has 100 rows" || diag "$TMX_SCREEN"
like "$TMX_SCREEN" "Replay stopped at LSN" "with where replay stopped"
RUN=$(ls "$RUNS" | tail -1)

command "sql SELECT count(*) AS n, max(id) AS top FROM ledger"
tmx_wait_for "Query: SELECT count\(\*\) AS n, max\(id\) AS top FROM ledger" 10
ok $? ":sql runs a query of the engineer's own" || diag "$TMX_SCREEN"
tmx_wait_for "^│ +100 \| +100 " 30 || tmx_wait_for " 100 \| +100" 30
ok $? "and shows its answer as a table (100 rows, top id 100)" || diag "$TMX_SCREEN"
command "sql DELETE FROM ledger"
tmx_wait_for "read-only|only SELECT|not allowed|refused" 10
ok $? ":sql refuses a write" || diag "$TMX_SCREEN"
is "$(sb_sql "SELECT count(*) FROM ledger")" 100 "the server still has 100 rows"
tmx_keys i
tmx_wait_for "Row counts at the target:" 30
ok $? "i shows the row counts again, in place of the query's answer" || diag "$TMX_SCREEN"
like "$TMX_SCREEN" "public.ledger .* 100" "ledger still at 100 rows"
unlike "$TMX_SCREEN" "Query: SELECT" "the query's answer is gone"

# Move the target: an earlier time is refused, T2 replays on.
tmx_keys t
tmx_wait_for "Run $RUN is paused at its target" 5
ok $? "t opens the target step for this run" || diag "$TMX_SCREEN"
tmx_type "${T1}Z"
tmx_keys Enter
tmx_wait_for "Type the environment's name \(sandbox\)" 5
like "$TMX_SCREEN" "Move the target of run $RUN to time" "the confirmation says what moves"
tmx_type "sandbox"
tmx_keys Enter
tmx_wait_for "target not moved: " 60
ok $? "the same (not later) target is refused" || diag "$TMX_SCREEN"
tmx_keys t
tmx_wait_for "Run $RUN is paused at its target" 5
tmx_type "${T2}Z"
tmx_keys Enter
tmx_wait_for "Type the environment's name \(sandbox\)" 5
tmx_type "sandbox"
tmx_keys Enter
tmx_wait_for "target moved from time ${T1}.* to time ${T2}" 60
ok $? "T2: the target moves" || diag "$TMX_SCREEN"
tmx_wait_for "public.ledger .* 250" 300
ok $? "replay goes on and stops at T2: ledger has 250 rows" || diag "$TMX_SCREEN"
is "$(grep -c '"step":"extract-base","event":"done"' "$RUNS/$RUN/journal.jsonl")" 1 \
	"the base backup was extracted once (no start over)"

# Promote.
tmx_keys U
tmx_wait_for "Type the environment's name \(sandbox\)" 10
tmx_type "sandbox"
tmx_keys Enter
tmx_wait_for "Result: finished" 300
ok $? "U promotes and the run finishes" || diag "$TMX_SCREEN"
is "$(sb_sql "SELECT count(*) FROM ledger")" 250 "ledger has T2's 250 rows"
is "$(sb_sql "SELECT pg_is_in_recovery()")" f "the server is promoted"
run_cmd av "$PGRESCUE" --env sandbox audit verify
is "$av_rc" 0 "the audit log verifies" || diag "$av_out" "$av_err"
grep -q 'runs retarget' "$XDG_STATE_HOME/pgrescue/audit.log"
ok $? "the move is in the audit log with its command"
tmx_keys d
tmx_keys q
if tmx_wait_exit 30; then
	is "$TMX_RC" 0 "q quits with exit code 0"
	is "$(tmx_stderr)" "" "nothing on stderr (no sanitizer report)"
else
	fail "q quits"
fi
done_testing
