#!/usr/bin/env bash
# The console as an on-call engineer meets it: the real binary in a private
# tmux server against a sandbox this test builds. The dashboard must show the
# same newest backup and WAL lag as `status --json`; a failing archive_command
# turns the WAL panel to FAIL and a fixed one back to OK; a stopped database is
# shown unreachable while keys still answer; the help lists every key of the
# key table; a small terminal says so; NO_COLOR means no colour; every shipped
# theme loads. Each run ends with q, exit code 0 and nothing on stderr (the
# build runs under AddressSanitizer with leak detection).
. "$PGR_TEST_LIB/tap.sh"
. "$PGR_TEST_LIB/pgcluster.sh"
. "$PGR_TEST_LIB/tmux.sh"
pgt_setup
. "$PGR_TEST_LIB/sandbox.sh"
sb_trap_cleanup

export LANG=C.UTF-8 LC_ALL=C.UTF-8
unset NO_COLOR


# "1m 24s", "2h 05m", "3d 4h", "12s" -> seconds
dur_seconds() {
	local s=0 part
	for part in $1; do
		case $part in
		*d) s=$((s + ${part%d} * 86400)) ;;
		*h) s=$((s + 10#${part%h} * 3600)) ;;
		*m) s=$((s + 10#${part%m} * 60)) ;;
		*s) s=$((s + 10#${part%s})) ;;
		esac
	done
	echo "$s"
}
near() { # A B TOLERANCE: |A - B| <= TOLERANCE
	local d=$(($1 - $2))
	[ "${d#-}" -le "$3" ]
}
json() { # EXPR: a Python expression over the document `d` of `status --json`
	"$PGRESCUE" --env sandbox status --json 2>/dev/null | python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"
}

run_cmd up "$PGRESCUE" sandbox up -q
[ "$up_rc" = 0 ] || { diag "$up_err"; bail_out "the sandbox could not be built"; }

# ---------------------------------------------------------------- the dashboard's facts
tmx_start 100 30 "$PGRESCUE" --env sandbox
tmx_wait_for 'updated [0-9]' 60
ok $? "the dashboard draws its first refresh" || diag "$TMX_SCREEN"
like "$TMX_SCREEN" "env sandbox" "the header names the environment"
like "$TMX_SCREEN" "db clipper_db" "the header names the database from the DSN"
like "$TMX_SCREEN" "(^| )RW( |$)" "the header says the mode in words: RW"
like "$TMX_SCREEN" "every 2s" "the header shows the refresh interval (2 s by default)"
for p in "Backups" "WAL archiving" "Restore tests" "Alerts" "Snapshots" "Recoverable window"; do
	like "$TMX_SCREEN" "$p" "the dashboard has the $p panel"
done
like "$TMX_SCREEN" "Backups .* OK " "the Backups panel says OK in words"
like "$TMX_SCREEN" "N/A: the local platform has no volume snapshots" "Snapshots: N/A on the local platform, in words"
unlike "$TMX_SCREEN" "postgres:|password" "no secrets in the header"

# Newest dump and base backup: the same backups as `status --json`, with the same age.
dump_label=$(json "d['newest_dump']['key'].split('backup-')[1][:15]")
dump_age=$(json "d['newest_dump']['age_seconds']")
base_label=$(json "d['newest_base']['label']")
base_age=$(json "d['newest_base']['age_seconds']")
tmx_wait_for "dump  $dump_label" 10
shown=$(printf '%s\n' "$TMX_SCREEN" | grep -o "dump  $dump_label [0-9dhms ]* ago" | head -1)
ok "$([ -n "$shown" ] && echo 0 || echo 1)" "the Backups panel shows the newest dump $dump_label" || diag "$TMX_SCREEN"
shown_age=$(printf '%s' "$shown" | sed "s/^dump  $dump_label //; s/ ago\$//")
ok "$(near "$(dur_seconds "$shown_age")" "$dump_age" 15 && echo 0 || echo 1)" \
	"its age ($shown_age) is the one status --json reports (${dump_age} s)"
shown=$(printf '%s\n' "$TMX_SCREEN" | grep -o "base  $base_label [0-9dhms ]* ago" | head -1)
ok "$([ -n "$shown" ] && echo 0 || echo 1)" "the Backups panel shows the newest base backup $base_label"
shown_age=$(printf '%s' "$shown" | sed "s/^base  $base_label //; s/ ago\$//")
ok "$(near "$(dur_seconds "$shown_age")" "$base_age" 15 && echo 0 || echo 1)" \
	"its age ($shown_age) is the one status --json reports (${base_age} s)"

# WAL lag and the last archived segment: as status --json says (a segment may be
# switched between the two reads, so a few attempts are allowed).
same=1
for attempt in 1 2 3 4 5; do
	st_lag=$(json "__import__('re').search(r'lag ((?:[0-9]+[dhms] ?)+)', [c['summary'] for c in d['checks'] if c['name']=='wal.archiving'][0]).group(1).strip()")
	st_seg=$(json "d['archiver']['last_archived_wal'][:24]") # the segment (a .backup file's name may be clipped)
	tmx_keys r
	sleep 1
	TMX_SCREEN=$(tmx_screen)
	scr_lag=$(printf '%s\n' "$TMX_SCREEN" | grep -oE '│ lag +([0-9]+[dhms] ?)+' | head -1 | sed -E 's/│ lag +//; s/ $//')
	scr_seg=$(printf '%s\n' "$TMX_SCREEN" | grep -oE 'archived  .* ago  [0-9A-F]{24}' | head -1 | awk '{print $NF}')
	if [ -n "$scr_lag" ] && near "$(dur_seconds "$scr_lag")" "$(dur_seconds "$st_lag")" 15 && [ "$scr_seg" = "$st_seg" ]; then
		same=0
		break
	fi
done
ok $same "the WAL panel shows the lag ($scr_lag) and last archived segment ($scr_seg) of status --json ($st_lag, $st_seg)" ||
	diag "$TMX_SCREEN"
like "$TMX_SCREEN" "WAL archiving ─+ OK " "the WAL panel says OK in words"
like "$TMX_SCREEN" "lag 1h +[▁▂▃▄▅▆▇█·]+ max" "the WAL panel draws a sparkline of the lag"
like "$TMX_SCREEN" "earliest [0-9-]+ [0-9:]+Z \(base $base_label\)" "the window bar starts at the base backup"
like "$TMX_SCREEN" "█+░*│" "the window bar is drawn up to the current time"

# Interval and pause, shown in words.
tmx_keys +
tmx_wait_for "every 1s" 5
ok $? "+ refreshes more often (every 1s in the header)"
tmx_keys - -
tmx_wait_for "every 5s" 5
ok $? "- refreshes less often (every 5s)"
tmx_keys +
tmx_keys p
tmx_wait_for "PAUSED" 5
ok $? "p pauses: PAUSED in the header"
tmx_keys p
tmx_wait_gone "PAUSED" 5
ok $? "p again resumes"

# Enter opens the detail view: the full list with LSN ranges and row counts.
tmx_keys Enter
tmx_wait_for "LSN range" 5
ok $? "Enter on Backups opens the full backup list" || diag "$TMX_SCREEN"
like "$TMX_SCREEN" "base  $base_label .* [0-9A-F]+/[0-9A-F]+-[0-9A-F]+/[0-9A-F]+ +complete" \
	"the list shows the base backup's LSN range and state"
# The newest dump is selected first; move down to the base backup for its manifest.
for i in 1 2 3; do
	printf '%s\n' "$TMX_SCREEN" | grep -Eq "^│> base " && break
	tmx_keys Down
	sleep 0.3
	TMX_SCREEN=$(tmx_screen)
done
tmx_wait_for "rows: .*users 5000" 5
ok $? "the selected base backup shows its manifest's row counts" || diag "$TMX_SCREEN"
tmx_keys Escape
tmx_wait_gone "LSN range" 5
ok $? "Esc closes the view"
tmx_keys Tab Tab Tab Enter
tmx_wait_for "why: " 5
ok $? "Enter on Alerts shows each verdict's rule (why)" || diag "$TMX_SCREEN"
like "$TMX_SCREEN" "RestoreTestNotRun" "the alerts view lists the runbook's alerts"
tmx_keys q
tmx_wait_gone "why: " 5
ok $? "q closes a view (and does not quit)"
like "$TMX_SCREEN" "Backups" "the dashboard is back"

# / filters the lists.
tmx_keys BTab BTab BTab Enter
tmx_wait_for "LSN range" 5
tmx_keys /
tmx_type "base"
tmx_keys Enter
tmx_wait_for "filter: base" 5
ok $? "/ filters the list (the filter is shown)"
unlike "$(printf '%s\n' "$TMX_SCREEN" | grep -E '^│[ >] +dump ')" "." "the filter hides the dumps"
like "$TMX_SCREEN" "base  $base_label" "and keeps the base backups"
tmx_keys Escape
tmx_wait_gone "LSN range" 5
tmx_keys Escape
tmx_wait_gone "LSN range|filter: base|Backups /base" 5
ok $? "Esc closes the view and clears the filter"

# The window view lists each timeline's own window (after a PITR the old one stays restorable).
tmx_keys BTab Enter
tmx_wait_for "Window per timeline" 5
ok $? "Enter on the recoverable window lists the window per timeline" || diag "$TMX_SCREEN"
like "$TMX_SCREEN" "timeline 1 +[0-9-]+ [0-9:]+Z? ?\.\. " "with timeline 1's earliest and latest points"
tmx_keys Escape
tmx_wait_gone "Window per timeline" 5
tmx_keys Tab

# y copies the selected value through OSC 52 (tmux keeps it as a paste buffer).
tmx_tmux set-option -g set-clipboard on
tmx_keys y
tmx_wait_for "copied $base_label" 5
ok $? "y copies the selected backup label and says so"
is "$(tmx_tmux show-buffer 2>/dev/null)" "$base_label" "the terminal received it through OSC 52"

# ---------------------------------------------------------------- help lists every key
tmx_keys '?'
tmx_wait_for "Esc closes" 5
ok $? "? opens the help overlay"
help_screen=$(tmx_help_all)
missing=""
while IFS=$'\t' read -r key label help dangerous; do
	line=$(printf '%s\n' "$help_screen" | grep -F -- "$help" | head -1)
	found=1
	if [ -n "$line" ]; then
		prefix=${line%%"$help"*}
		set -f
		for w in ${prefix//│/ }; do [ "$w" = "$key" ] && found=0; done
		set +f
	fi
	[ $found = 0 ] || missing="$missing [$key]"
done < <("$PGRESCUE" --help-keys)
is "$missing" "" "the help overlay lists every key of the key table (pgrescue --help-keys)"
n_keys=$("$PGRESCUE" --help-keys | wc -l)
ok "$([ "$n_keys" -ge 20 ] && echo 0 || echo 1)" "the key table has the console's keys ($n_keys)"
like "$help_screen" ":theme NAME" "the help lists the : commands"
unlike "$help_screen" "not in monitor" "outside the monitor no key is greyed"
tmx_keys Escape
tmx_wait_gone "Esc closes" 5
ok $? "Esc closes the help"
tmx_keys F1
tmx_wait_for "Esc closes" 5
ok $? "F1 opens it too"
tmx_keys Escape

# Outside the monitor R opens the restore wizard (tests/tui/wizards.sh walks it); Esc leaves it.
tmx_keys R
tmx_wait_for "Restore wizard on sandbox" 5
ok $? "R opens the restore wizard"
tmx_keys Escape
tmx_wait_for "restore wizard closed; nothing was changed" 5
ok $? "Esc on its first screen closes it, saying nothing was changed"
tmx_keys b
tmx_wait_for "Start a backup of environment sandbox" 5
ok $? "b asks before starting a backup, naming the environment"
tmx_keys n
tmx_wait_for "backup cancelled" 5
ok $? "any key but y cancels it"
n_dumps() { ls "$SB/store/database" 2>/dev/null | grep -c 'backup-'; }
dumps_before=$(n_dumps)
tmx_keys b
tmx_wait_for "Start a backup of environment sandbox" 5
tmx_keys y
tmx_wait_for "backup running \(pid [0-9]+\)" 10
ok $? "y starts it in the background and says so"
tmx_wait_for "backup finished OK" 180
ok $? "the console reports the backup's end" || diag "$TMX_SCREEN"
ok "$([ "$(n_dumps)" -gt "$dumps_before" ] && echo 0 || echo 1)" "and the store has a new dump"
tmx_keys :
tmx_type "theme light"
tmx_keys Enter
tmx_wait_for "theme light" 5
ok $? ":theme light switches the theme live"

# ---------------------------------------------------------------- too small, and back
tmx_resize 60 20
tmx_wait_for "terminal too small \(need 80x24, have 60x20\)" 10
ok $? "at 60x20 the console says the terminal is too small" || diag "$TMX_SCREEN"
tmx_resize 100 30
tmx_wait_for "Recoverable window" 10
ok $? "resized back, the dashboard returns"
unlike "$TMX_SCREEN" "too small" "and the message is gone"

# ---------------------------------------------------------------- archive_command fails, then is fixed
# Pause, break archiving, and refresh by hand: the panel must say FAIL after at
# most two refreshes (counted, not timed).
orig_cmd=$(sb_sql "SHOW archive_command")
tmx_keys p
tmx_wait_for "PAUSED" 5
failed0=$(sb_sql "SELECT failed_count FROM pg_stat_archiver")
sb_sql "ALTER SYSTEM SET archive_command = '/bin/false'" >/dev/null
sb_sql "SELECT pg_reload_conf()" >/dev/null
fails_more() {
	sb_sql "SELECT pg_switch_wal()" >/dev/null 2>&1
	[ "$(sb_sql "SELECT failed_count FROM pg_stat_archiver")" -gt "$failed0" ]
}
wait_for 60 fails_more
ok $? "with archive_command = /bin/false, pg_stat_archiver.failed_count rises"
refreshes=0
for n in 1 2; do
	tmx_wait_for "updated ([3-9]|[0-9]{2,})s ago|updated [0-9]+m" 10 # the last refresh is visibly old
	tmx_keys r
	tmx_wait_for "updated [0-2]s ago" 15 # a new refresh has landed
	refreshes=$n
	printf '%s\n' "$(tmx_screen)" | grep -Eq "WAL archiving ─+ FAIL " && break
done
TMX_SCREEN=$(tmx_screen)
like "$TMX_SCREEN" "WAL archiving ─+ FAIL " "the WAL panel says FAIL after $refreshes refresh(es)" || diag "$TMX_SCREEN"
like "$TMX_SCREEN" "failures  [0-9]+ FAILING" "and shows the failures"
like "$TMX_SCREEN" "FAIL +WALArchivingFailed" "the Alerts panel lists WALArchivingFailed as FAIL"
tmx_keys p
sb_sql "ALTER SYSTEM RESET archive_command" >/dev/null
sb_sql "SELECT pg_reload_conf()" >/dev/null
is "$(sb_sql "SHOW archive_command")" "$orig_cmd" "archive_command is restored"
archives_again() {
	sb_sql "SELECT pg_switch_wal()" >/dev/null 2>&1
	[ "$(sb_sql "SELECT last_archived_time > coalesce(last_failed_time, '-infinity') FROM pg_stat_archiver")" = t ]
}
wait_for 90 archives_again
ok $? "archiving succeeds again after the fix"
tmx_wait_for "WAL archiving ─+ OK " 30
ok $? "the WAL panel returns to OK" || diag "$TMX_SCREEN"

# ---------------------------------------------------------------- the database goes away
pgt_as_server "$PG_BINDIR/pg_ctl" -D "$SB/data" -m fast -w stop >/dev/null 2>&1
ok $? "the sandbox's database is stopped"
tmx_wait_for "database unreachable: " 30
ok $? "the dashboard shows the database unreachable, with its error" || diag "$TMX_SCREEN"
like "$TMX_SCREEN" "STALE: database" "the header marks the database STALE"
tmx_keys '?'
tmx_wait_for "Esc closes" 5
ok $? "keys still answer while the database is down (help opens)"
tmx_keys Escape
tmx_wait_gone "Esc closes" 5
ok $? "and closes"
run_cmd up2 "$PGRESCUE" sandbox up -q
is "$up2_rc" 0 "the database is started again" || diag "$up2_err"
tmx_wait_gone "database unreachable" 30
ok $? "the dashboard recovers when the database answers again"
unlike "$TMX_SCREEN" "STALE" "and the STALE mark is gone"
tmx_quit_clean "the dashboard"
like "$(tmx_screen)" "copied: $base_label" "on exit the copied value is printed"

# ---------------------------------------------------------------- NO_COLOR and themes
# An SGR colour parameter (30-38, 40-48, 90-97, 100-107); 39/49 only reset to the default.
has_colour() { printf '%s' "$1" | grep -Pq '\e\[([0-9;]*;)?(3[0-8]|4[0-8]|9[0-7]|10[0-7])[;m]'; }
tmx_start 100 30 "$PGRESCUE" --env sandbox
tmx_wait_for 'updated [0-9]' 30
has_colour "$(tmx_screen_escapes)"
ok $? "with the default theme the screen has colour (so the next check means something)"
tmx_quit_clean "the coloured dashboard"
tmx_start 100 30 env NO_COLOR=1 "$PGRESCUE" --env sandbox
tmx_wait_for 'updated [0-9]' 30
ok $? "with NO_COLOR=1 the dashboard draws"
! has_colour "$(tmx_screen_escapes)"
ok $? "with NO_COLOR=1 no colour escape sequence reaches the screen"
like "$TMX_SCREEN" "Backups .* OK " "and states are still words"
tmx_quit_clean "NO_COLOR"
tmx_start 100 30 "$PGRESCUE" --no-color --env sandbox
tmx_wait_for 'updated [0-9]' 30
! has_colour "$(tmx_screen_escapes)"
ok $? "--no-color: no colour either"
tmx_quit_clean "--no-color"

for theme in default light mono high-contrast deuteranopia tritanopia; do
	tmx_start 100 30 "$PGRESCUE" --theme "$theme" --env sandbox
	tmx_wait_for 'updated [0-9]' 30
	ok $? "--theme $theme shows the dashboard" || diag "$TMX_SCREEN"
	unlike "$TMX_SCREEN" "theme|using the default" "--theme $theme loads without a theme error"
	tmx_quit_clean "--theme $theme"
done

# ---------------------------------------------------------------- plain output without a terminal
run_cmd plain "$PGRESCUE" --env sandbox </dev/null
like "$plain_out" "pgrescue status: environment sandbox" "without a terminal, no command prints status as before"
run_cmd mon "$PGRESCUE" --env sandbox monitor </dev/null
is "$mon_rc" 2 "monitor without a terminal is a usage error (exit 2)"
like "$mon_err" "needs a terminal" "and says it needs a terminal"

done_testing
