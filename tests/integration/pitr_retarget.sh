#!/usr/bin/env bash
# Pause, inspect, move the target, promote, on a real server: a pitr --pause
# to T1 stops read-only at T1; `runs inspect` shows T1's row counts next to
# the base backup's and those before the recovery, runs a query of the
# engineer's and refuses one that writes; `runs retarget` to a later T2
# replays on from where it stopped (the base backup is not extracted again,
# a file left in the data directory is still there) and stops at T2; a
# target earlier than where replay stopped is refused with the reason and
# changes nothing; `runs resume` promotes; the data is T2's; the audit log
# holds the move and verifies.
. "$PGR_TEST_LIB/tap.sh"
. "$PGR_TEST_LIB/pgcluster.sh"
pgt_setup
. "$PGR_TEST_LIB/sandbox.sh"
sb_trap_cleanup

run_cmd up "$PGRESCUE" sandbox up
[ "$up_rc" = 0 ] || bail_out "the sandbox could not be built: $up_err"
RUNS="$XDG_STATE_HOME/pgrescue/runs"
archived() { [ -f "$SB/store/wal-archive/$1" ]; }
now_utc() { date -u +'%Y-%m-%d %H:%M:%S.%3N'Z; }
asides() { ls -d "$SB"/data.pitr-* 2>/dev/null | wc -l; }
journal() { cat "$RUNS"/*/journal.jsonl; }
in_recovery() { sb_sql "SELECT pg_is_in_recovery()"; }
ledger() { sb_sql "SELECT count(*) FROM ledger"; }

# ---------------------------------------------------------------- history: T0 < T1 < T2
T0=$(now_utc)
sleep 1.2
sb_sql "CREATE TABLE ledger AS SELECT g AS id FROM generate_series(1, 100) g"
sleep 1.2
T1=$(now_utc)
L1=$(sb_sql "SELECT pg_current_wal_lsn()")
sleep 1.2
sb_sql "INSERT INTO ledger SELECT g FROM generate_series(101, 250) g"
sleep 1.2
T2=$(now_utc)
sleep 1.2
X3=$(sb_sql "INSERT INTO ledger SELECT g FROM generate_series(251, 400) g; SELECT txid_current()")
sb_sql "DELETE FROM ledger" # the incident
seg=$(sb_sql "SELECT pg_walfile_name(pg_switch_wal())")
wait_for 60 archived "$seg" || bail_out "WAL segment $seg was not archived"

# ---------------------------------------------------------------- pause at T1
run_cmd p "$PGRESCUE" --env sandbox pitr --time "$T1" --pause --yes --incident INC-5 --reason "ledger emptied"
is "$p_rc" 0 "pitr --pause to T1 stops without an error" || diag "$p_out" "$p_err"
like "$p_out" "is waiting" "it says the run is waiting"
like "$p_out" "runs inspect" "and how to look before deciding"
like "$p_out" "runs retarget" "and how to move the target"
is "$(in_recovery)" t "the server is in recovery, paused"
is "$(ledger)" 100 "the ledger reads as at T1"
touch "$SB/data/pgrescue-test-marker"

# ---------------------------------------------------------------- inspect
run_cmd in "$PGRESCUE" runs inspect last
is "$in_rc" 0 "runs inspect answers" || diag "$in_out" "$in_err"
like "$in_out" "paused at its target" "it says the run is paused at its target"
like "$in_out" "target: +time ${T1:0:19}" "and names the target"
like "$in_out" "public\.ledger +\| +\| +0 \| +100$" \
	"ledger: not in the base backup, 0 before the recovery, 100 now"
like "$in_out" "public\.users +\| +[0-9]+ \| +[0-9]+ \| +[0-9]+$" "every table is counted in every column"
run_cmd ij "$PGRESCUE" runs inspect last --json
is "$(printf '%s' "$ij_out" | jq -r '.counts.rows[] | select(.[0] == "public.ledger") | .[3]')" 100 \
	"--json gives the same count"
is "$(printf '%s' "$ij_out" | jq -r '.stop.in_recovery, .at_gate' | tr '\n' ' ')" "true true " \
	"--json: in recovery, at the promote gate"

run_cmd q "$PGRESCUE" runs inspect last --sql "SELECT count(*) AS n, max(id) AS top FROM ledger;"
is "$q_rc" 0 "a query of one's own runs on the paused server" || diag "$q_err"
like "$q_out" "^ +100 \| +100$" "and gives T1's answer"
like "$q_out" "\(1 row\)" "with its row count"
run_cmd ql "$PGRESCUE" runs inspect last --sql "SELECT id FROM ledger ORDER BY id" --limit 5
like "$ql_out" "\(5 rows\)" "--limit keeps the first rows"
like "$ql_out" "only the first 5 rows" "and says more were left off"

run_cmd w "$PGRESCUE" runs inspect last --sql "DELETE FROM ledger"
is "$w_rc" 2 "a write query is refused"
like "$w_err" "DELETE is not one" "the error says DELETE is not a query"
like "$w_err" "HINT:" "with a hint"
run_cmd pr "$PGRESCUE" runs inspect last --sql "SELECT pg_promote()"
is "$pr_rc" 2 "pg_promote() is refused"
like "$pr_err" "pg_promote\(\)" "the error names the function"
run_cmd cte "$PGRESCUE" runs inspect last --sql "WITH d AS (DELETE FROM ledger RETURNING id) SELECT count(*) FROM d"
is "$cte_rc" 1 "a data-modifying WITH is refused by the server"
like "$cte_err" "failed on the paused server" "with the server's words"
run_cmd rf "$PGRESCUE" runs inspect last --sql "SELECT pg_read_file('postgresql.conf')"
is "$rf_rc" 1 "a function beyond reading tables is denied: the query runs as pg_read_all_data"
like "$rf_err" "permission denied" "the server says permission denied"
is "$(in_recovery)" t "after all that the server is still in recovery"
is "$(ledger)" 100 "and the ledger unchanged"

# ---------------------------------------------------------------- move the target
run_cmd e0 "$PGRESCUE" --env sandbox runs retarget last --time "$T0" --yes
is "$e0_rc" 2 "a target before where replay stopped is refused"
like "$e0_err" "not later than where replay stopped" "the error says why"
like "$e0_err" "HINT: .*plan a new run" "and what to do instead"
run_cmd nt "$PGRESCUE" --env sandbox runs retarget last --time "$T2" </dev/null
is "$nt_rc" 2 "without a terminal and without --yes, retarget refuses"
is "$(journal | grep -c '"event":"reopen"')" 0 "refusals reopened nothing"

run_cmd rt "$PGRESCUE" --env sandbox runs retarget last --time "$T2" --yes
is "$rt_rc" 0 "retarget to T2 replays on and stops again" || diag "$rt_out" "$rt_err"
like "$rt_out" "from: +time ${T1:0:19}" "it shows the old target"
like "$rt_out" "to: +time ${T2:0:19}" "and the new one"
like "$rt_out" "is waiting" "the run waits at its promote gate again"
is "$(in_recovery)" t "the server is in recovery, paused at T2"
is "$(ledger)" 250 "the ledger reads as at T2"
is "$(journal | grep -c '"step":"extract-base","event":"done"')" 1 "the base backup was extracted once"
ok "$([ -f "$SB/data/pgrescue-test-marker" ] && echo 0 || echo 1)" \
	"the file left in the data directory is still there: nothing was re-extracted"
is "$(asides)" 1 "no other directory was moved aside"
is "$(journal | grep -c '"event":"reopen"')" 3 "configure-recovery, start-recovery and replay were reopened"
conf=$(cat "$SB/data/postgresql.auto.conf")
like "$conf" "recovery_target_time = '${T2:0:19}" "postgresql.auto.conf now says T2"
is "$(grep -c '^recovery_target_time =' "$SB/data/postgresql.auto.conf")" 1 "in one recovery_target_time line"
like "$conf" "recovery_target_action = 'pause'" "and still pauses at the target"
like "$(journal | grep '"event":"retarget"')" "\"from\":\"time ${T1:0:19}.*\"to\":\"time ${T2:0:19}" \
	"the journal records the old and new target"
run_cmd in2 "$PGRESCUE" runs inspect last
like "$in2_out" "public\.ledger +\| +\| +0 \| +250$" "inspect now counts 250"
like "$in2_out" "target: +time ${T2:0:19}" "for the new target"

run_cmd e1 "$PGRESCUE" --env sandbox runs retarget last --time "$T1" --yes
is "$e1_rc" 2 "going back to T1 is refused"
like "$e1_err" "time ${T1:0:19}.* is not later than where replay stopped" "the error names the target and why"
run_cmd el "$PGRESCUE" --env sandbox runs retarget last --lsn "$L1" --yes
is "$el_rc" 2 "an LSN before the stop point is refused"
like "$el_err" "lsn $L1 .*not later than where replay stopped: LSN" "the error names the LSN and where replay stopped"
is "$(ledger)" 250 "refusals changed nothing"
is "$(journal | grep -c '"event":"reopen"')" 3 "and reopened nothing"

# An xid cannot be checked before replay reaches it: accepted with a note.
# Just before the transaction that wrote rows 251..400: still T2's data.
run_cmd rx "$PGRESCUE" --env sandbox runs retarget last --xid "$X3" --exclusive --yes
is "$rx_rc" 0 "retarget to just before xid $X3 replays on" || diag "$rx_out" "$rx_err"
like "$rx_out" "NOTE: An xid cannot be checked" "with a note that an xid cannot be checked beforehand"
like "$rx_out" "is waiting" "and waits at its gate again"
is "$(ledger)" 250 "the rows of xid $X3 are not there"
is "$(journal | grep -c '"step":"extract-base","event":"done"')" 1 "still extracted once"

# ---------------------------------------------------------------- promote
run_cmd r "$PGRESCUE" --env sandbox runs resume last --yes
is "$r_rc" 0 "runs resume promotes and finishes" || diag "$r_out" "$r_err"
like "$r_out" "finished" "it says the run finished"
is "$(in_recovery)" f "the server is promoted"
is "$(ledger)" 250 "the data is T2's: 250 rows"
is "$(sb_sql "SELECT count(*) FROM ledger WHERE id > 250")" 0 "nothing written after T2"
sb_sql "INSERT INTO ledger VALUES (1)" && pass "the database takes writes again" || fail "the database takes writes again"
run_cmd ri "$PGRESCUE" runs inspect last
is "$ri_rc" 2 "inspect refuses a promoted server"
like "$ri_err" "no longer in recovery" "and says why"

run_cmd rd "$PGRESCUE" --env sandbox runs retarget last --time "$(now_utc)" --yes
is "$rd_rc" 2 "a finished run cannot be retargeted"
like "$rd_err" "not waiting at its promote gate" "the error says why"

run_cmd av "$PGRESCUE" --env sandbox audit verify
is "$av_rc" 0 "audit verify passes" || diag "$av_out" "$av_err"
AUDIT="$XDG_STATE_HOME/pgrescue/audit.log"
like "$(grep '"step":"retarget"' "$AUDIT" | grep '"phase":"intent"')" "time ${T1:0:19}.*time ${T2:0:19}" \
	"the audit log has the retarget's intent with both targets"
like "$(grep '"step":"retarget"' "$AUDIT" | grep '"phase":"outcome"')" '"outcome":"ok"' "and its outcome"
is "$(grep '"phase":"refused"' "$AUDIT" | grep 'runs retarget' | grep -c 'not later than')" 3 \
	"the refused retargets are audited with the reason"
like "$(grep '"step":"inspect"' "$AUDIT")" 'SELECT count\(\*\) AS n' "the queries run are audited"

done_testing
