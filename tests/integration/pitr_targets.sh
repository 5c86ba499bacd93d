#!/usr/bin/env bash
# Where a PITR target may fall, checked against a real archive before
# anything changes: with a WAL segment missing between two base backups, a
# time in the hole is refused naming the missing segment and the times on
# either side, while a time the older base backup still reaches before the
# hole is recovered from that older base; a time inside a base backup's own
# run (start to end), which no older base reaches, is refused naming it.
# Each refusal leaves the server running, the data directory in place and no
# run behind. The stores with a hole or a longer base backup run are copies
# of the sandbox's store (the sandbox's own archive is never touched).
. "$PGR_TEST_LIB/tap.sh"
. "$PGR_TEST_LIB/pgcluster.sh"
pgt_setup
. "$PGR_TEST_LIB/sandbox.sh"
sb_trap_cleanup

run_cmd up "$PGRESCUE" sandbox up -q
[ "$up_rc" = 0 ] || bail_out "the sandbox could not be built: $up_err"
RUNS="$XDG_STATE_HOME/pgrescue/runs"
n_runs() { ls "$RUNS" 2>/dev/null | wc -l; }
asides() { ls -d "$SB"/data.pitr-* 2>/dev/null | wc -l; }
unchanged() { # NAME
	ok "$([ "$(asides)" = 0 ] && [ "$(n_runs)" = 0 ] && [ -f "$SB/data/postmaster.pid" ] && echo 0 || echo 1)" \
		"$1: nothing was changed (no run, data directory in place, server running)"
}
switch_and_wait() {
	local seg
	seg=$(sb_sql "SELECT pg_walfile_name(pg_switch_wal())")
	wait_for 60 test -f "$SB/store/wal-archive/$seg" || bail_out "segment $seg was not archived"
}

# Segments a second apart after the first base backup, then a second base backup.
for i in 1 2 3 4 5 6; do
	sb_sql "CREATE TABLE IF NOT EXISTS t (i int); INSERT INTO t VALUES ($i)"
	sleep 1.1
	switch_and_wait
done
run_cmd bk "$PGRESCUE" --env sandbox backup
is "$bk_rc" 0 "a second base backup" || diag "$bk_err"
sleep 1.1
switch_and_wait

mapfile -t BASES < <(ls "$SB/store/base" | sort)
[ "${#BASES[@]}" = 2 ] || bail_out "expected 2 base backups, found ${#BASES[@]}"
man() { jq -r ".$3" "$1/base/$2/pgrescue.json"; }
B1_STOP_WAL=$(man "$SB/store" "${BASES[0]}" stop_wal)
B2_START_WAL=$(man "$SB/store" "${BASES[1]}" start_wal)
B1_STOP=$(man "$SB/store" "${BASES[0]}" stop_time_unix)
B2_STOP=$(man "$SB/store" "${BASES[1]}" stop_time_unix)
utc() { date -u -d "@$1" '+%Y-%m-%d %H:%M:%SZ'; }

# ---------------------------------------------------------------- a hole between the base backups
GAP="$PGT_ROOT/gapstore"
cp -a "$SB/store" "$GAP"
# Segments strictly between the first base's stop and the second's start, by name.
mapfile -t BETWEEN < <(ls "$GAP/wal-archive" | grep -E '^[0-9A-F]{24}$' | sort |
	awk -v a="$B1_STOP_WAL" -v b="$B2_START_WAL" '$0 > a && $0 < b')
[ "${#BETWEEN[@]}" -ge 4 ] || bail_out "expected at least 4 segments between the base backups, found ${#BETWEEN[@]}"
HOLE=${BETWEEN[2]}
BEFORE=${BETWEEN[1]}
AFTER=${BETWEEN[3]}
rm "$GAP/wal-archive/$HOLE"
t_before=$(stat -c %Y "$GAP/wal-archive/$BEFORE")
t_after=$(stat -c %Y "$GAP/wal-archive/$AFTER")
T_HOLE=$(utc "$((t_after))")
T_REACHED=$(utc "$((t_before - 1))")

run_cmd gap "$PGRESCUE" --env sandbox --store "file://$GAP" pitr --time "$T_HOLE" --yes
is "$gap_rc" 2 "a time in the WAL hole is refused as bad input" || diag "$gap_out" "$gap_err"
like "$gap_err" "in a WAL gap" "the error says it is in a WAL gap"
like "$gap_err" "segment $HOLE is missing" "and names the missing segment"
like "$gap_err" "replay from base backup ${BASES[0]} stops at" "and where replay from the older base stops"
like "$gap_err" "next base backup ${BASES[1]} is consistent only from" "and when the next base backup is usable"
like "$gap_err" "HINT: Pick .* or earlier, or .* or later" "with a HINT naming both sides"
unchanged "time in the hole"

run_cmd reach "$PGRESCUE" --env sandbox --store "file://$GAP" pitr --time "$T_REACHED" --dry-run
is "$reach_rc" 0 "a time before the hole is accepted (dry run)" || diag "$reach_out" "$reach_err"
like "$reach_out" "Base backup: ${BASES[0]}" "it is recovered from the older base backup, whose WAL reaches it"
unchanged "dry run before the hole"

# ---------------------------------------------------------------- inside a base backup's own run
RUN="$PGT_ROOT/runstore"
cp -a "$SB/store" "$RUN"
# The first base backup as if it had run for 30 s (a bigger database).
m="$RUN/base/${BASES[0]}/pgrescue.json"
start=$((B1_STOP - 30))
jq --argjson s "$start" --arg st "$(utc "$start")" '.start_time_unix = $s | .start_time = ($st | sub(" "; "T"))' \
	"$m" >"$m.new" && mv "$m.new" "$m"
T_IN=$(utc "$((B1_STOP - 10))")
run_cmd in "$PGRESCUE" --env sandbox --store "file://$RUN" pitr --time "$T_IN" --yes
is "$in_rc" 2 "a time inside the first base backup's own run is refused" || diag "$in_out" "$in_err"
like "$in_err" "falls inside base backup ${BASES[0]}'s own run" "the error names the base backup and its run"
like "$in_err" "consistent only from its end" "and says why"
like "$in_err" "HINT: Pick $(utc "$B1_STOP" | sed 's/Z$//') UTC or later" "the HINT gives the first time that works"
unchanged "time inside a base backup's run"

# The sandbox's own store, untouched: a time after the second base backup works (dry run).
run_cmd ok2 "$PGRESCUE" --env sandbox pitr --time "$(utc "$((B2_STOP + 1))")" --dry-run
is "$ok2_rc" 0 "the real store accepts a time after the second base backup (dry run)" || diag "$ok2_err"
like "$ok2_out" "Base backup: ${BASES[1]}" "from the newest base backup"

done_testing
