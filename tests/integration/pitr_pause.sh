#!/usr/bin/env bash
# PITR to a named restore point with --pause: the server stops at the target,
# read-only, for the engineer to look before deciding; `runs resume` (typed
# confirmation or --yes with --env) then promotes and finishes the plan.
. "$PGR_TEST_LIB/tap.sh"
. "$PGR_TEST_LIB/pgcluster.sh"
pgt_setup
. "$PGR_TEST_LIB/sandbox.sh"
sb_trap_cleanup

run_cmd up "$PGRESCUE" sandbox up
[ "$up_rc" = 0 ] || bail_out "the sandbox could not be built: $up_err"
archived() { [ -f "$SB/store/wal-archive/$1" ]; }

sb_sql "CREATE TABLE ledger AS SELECT g AS id FROM generate_series(1, 777) g"
sb_sql "SELECT pg_create_restore_point('before-cleanup')" >/dev/null
sb_sql "INSERT INTO ledger SELECT g FROM generate_series(1000, 1009) g"
sb_sql "TRUNCATE ledger"
seg=$(sb_sql "SELECT pg_walfile_name(pg_switch_wal())")
wait_for 60 archived "$seg" || bail_out "WAL segment $seg was not archived"

run_cmd bad "$PGRESCUE" --env sandbox pitr --name "it's" --yes
is "$bad_rc" 2 "a restore point name with a quote is refused"

run_cmd p "$PGRESCUE" --env sandbox pitr --name before-cleanup --pause --yes --incident INC-3
is "$p_rc" 0 "pitr --pause stops without an error" || diag "$p_out" "$p_err"
like "$p_out" "is waiting" "it says the run is waiting"
like "$p_out" "pgrescue runs resume" "and how to continue"
is "$(sb_sql "SELECT pg_is_in_recovery()")" t "the server is still in recovery, paused at the target"
is "$(sb_sql "SELECT count(*) FROM ledger")" 777 "the table reads as it was at the restore point"
run_cmd rl "$PGRESCUE" --env sandbox runs
like "$rl_out" "pitr +sandbox +waiting" "runs lists it as waiting"
run_cmd ro "$PGRESCUE" --env sandbox runs resume last </dev/null
is "$ro_rc" 2 "resuming without a terminal and without --yes is refused"
is "$(sb_sql "SELECT pg_is_in_recovery()")" t "and the server was not promoted"

run_cmd r "$PGRESCUE" --env sandbox runs resume last --yes
is "$r_rc" 0 "runs resume --env sandbox --yes promotes and finishes" || diag "$r_out" "$r_err"
like "$r_out" "finished" "it says the run finished"
is "$(sb_sql "SELECT pg_is_in_recovery()")" f "the server is promoted"
is "$(sb_sql "SELECT count(*) FROM ledger")" 777 "the 777 rows are back"
is "$(sb_sql "SELECT count(*) FROM ledger WHERE id >= 1000")" 0 "rows written after the restore point are not"
sb_sql "INSERT INTO ledger VALUES (1)" && pass "the database takes writes again" || fail "the database takes writes again"

done_testing
