#!/usr/bin/env bash
# Themes on the real binary in a private tmux server: every shipped theme loads and colours the
# screen (FAIL in the theme's fail colour, as 256-colour codes), mono/NO_COLOR/--no-color give no
# colour at all, a broken user theme is reported as file:line and the default theme is used, a
# user theme overrides a shipped one, the config key and `:theme` (with Tab completion) switch.
# The database is a closed loopback port: themes are about what is drawn, not about the facts.
source "$PGR_TEST_LIB/tap.sh"
source "$PGR_TEST_LIB/pgcluster.sh"

pgt_setup
command -v tmux >/dev/null || bail_out "tmux not found (apt-get install tmux)"

SOCK="$PGT_ROOT/tmux.sock"
TM() { tmux -S "$SOCK" -f /dev/null "$@"; }
trap 'TM kill-server >/dev/null 2>&1; pgt_cleanup' EXIT

mkdir -p "$PGT_ROOT/store"
CFG="$PGT_ROOT/config.ini"
pgt_config "$CFG" t "host=127.0.0.1 port=1 dbname=clipper_db connect_timeout=2" "file://$PGT_ROOT/store"
pgt_config "$CFG" lightenv "host=127.0.0.1 port=1 dbname=clipper_db connect_timeout=2" "file://$PGT_ROOT/store" \
	theme=light
USER_THEMES="$XDG_CONFIG_HOME/pgrescue/themes"
mkdir -p "$USER_THEMES"

# One server for the whole test; panes stay after their program exits so its status can be read.
TM new-session -d -s keep -x 100 -y 30 "sleep 3600" || bail_out "cannot start tmux"
TM set-option -g remain-on-exit on >/dev/null

n=0
# start [ENV=VALUE...] -- ARGS...: run pgrescue in a new 100x30 session; sets $S.
start() {
	n=$((n + 1))
	S="s$n"
	local envs=()
	while [ "$1" != "--" ]; do envs+=("$1"); shift; done
	shift
	TM new-session -d -s "$S" -x "${WIDTH:-100}" -y 30 \
		env -u COLORTERM -u NO_COLOR TERM=tmux-256color LANG=C.UTF-8 LC_ALL=C.UTF-8 \
		XDG_CONFIG_HOME="$XDG_CONFIG_HOME" XDG_STATE_HOME="$XDG_STATE_HOME" \
		PGRESCUE_THEMEDIR="$PGRESCUE_THEMEDIR" "${envs[@]}" \
		sh -c '"$@"; echo "[pgrescue exited $?]"; sleep 60' sh "$PGRESCUE" --config "$CFG" "$@"
}
screen() { TM capture-pane -p -t "$S"; }
# The screen with its attributes; ESC shown as E so patterns stay readable.
screen_sgr() { TM capture-pane -p -e -t "$S" | sed 's/\x1b/E/g'; }
wait_for() { # wait_for REGEX [SECONDS]
	local i
	for ((i = 0; i < ${2:-15} * 10; i++)); do
		screen | grep -Eq -- "$1" && return 0
		sleep 0.1
	done
	return 1
}
# quit: q, then pgrescue must end with status 0, read from the screen: tmux 3.3 may reap a pane
# before showing its last output, so the wrapper shell prints the status and stays a while.
quit() {
	TM send-keys -t "$S" q
	if wait_for "\[pgrescue exited [0-9]+\]" 10; then
		like "$(screen)" "\[pgrescue exited 0\]" "$1: q quits with status 0"
	else
		fail "$1: q quits with status 0"
		diag "$(screen | grep -v '^$' | tail -5)"
	fi
	TM kill-session -t "$S" 2>/dev/null
}
# A colour code (not a reset) in an SGR sequence.
COLOUR_SGR='E\[([0-9;]*;)?(3[0-8]|4[0-8]|9[0-7]|10[0-7])(;[0-9;]*)?m'
# fail_in CODE: FAIL drawn right after an SGR that sets CODE (e.g. "38;5;203").
fail_in() { screen_sgr | grep -Eq -- "${1}m(E\[[0-9;]*m)*FAIL"; }

# Each shipped theme: the theme's fail colour, mapped to the xterm 256 cube on this
# 256-colour terminal (what pgr_theme_nearest gives for the file's #rrggbb).
declare -A FAIL_CODE=(
	[default]="38;5;203"          # #ff5f5f
	[light]="38;5;124"            # #c00000
	[high-contrast]="48;5;160"    # white on #d70000
	[deuteranopia]="38;5;166"     # #d55e00 vermilion
	[tritanopia]="38;5;160"       # #e00000
)
for theme in default light mono high-contrast deuteranopia tritanopia; do
	start -- --env t --theme "$theme"
	if ! wait_for "Recoverable window"; then
		fail "$theme: the dashboard appears"
		diag "$(screen)"
		TM kill-session -t "$S"
		continue
	fi
	pass "$theme: the dashboard appears"
	unlike "$(screen)" "theme|HINT" "$theme: no theme error on the screen"
	if [ "$theme" = mono ]; then
		unlike "$(screen_sgr)" "$COLOUR_SGR" "mono: no colour at all"
		like "$(screen_sgr)" 'E\[([0-9;]*;)?(1|7)(;[0-9;]*)?m(E\[[0-9;]*m)*FAIL' "mono: FAIL in bold or reverse"
	else
		like "$(screen_sgr)" "$COLOUR_SGR" "$theme: colours on a 256-colour terminal"
		ok "$(fail_in "${FAIL_CODE[$theme]}"; echo $?)" "$theme: FAIL in the theme's fail colour (${FAIL_CODE[$theme]})"
	fi
	quit "$theme"
done

# NO_COLOR (non-empty) and --no-color: monochrome, the states still in words.
start NO_COLOR=1 -- --env t --theme deuteranopia
wait_for "Recoverable window" || diag "$(screen)"
unlike "$(screen_sgr)" "$COLOUR_SGR" "NO_COLOR=1: no colour"
like "$(screen)" "FAIL" "NO_COLOR=1: states in words"
quit "NO_COLOR"
start NO_COLOR= -- --env t
wait_for "Recoverable window" || diag "$(screen)"
ok "$(fail_in "38;5;203"; echo $?)" "NO_COLOR empty: colours as usual"
quit "NO_COLOR empty"
start -- --env t --no-color
wait_for "Recoverable window" || diag "$(screen)"
unlike "$(screen_sgr)" "$COLOUR_SGR" "--no-color: no colour"
quit "--no-color"

# A broken theme of the user's own: file:line on the screen, then the default theme.
printf '# mine\nok = fg:#00ff00\nwarn = fg:#zzzzzz bold\n' >"$USER_THEMES/broken.theme"
WIDTH=200 start -- --env t --theme broken
wait_for "Recoverable window" || diag "$(screen)"
wait_for "broken\.theme:3:" 5
like "$(screen)" "broken\.theme:3: bad colour" "broken user theme: the message names file:line"
like "$(screen)" "default theme" "broken user theme: says the default theme is used"
ok "$(fail_in "38;5;203"; echo $?)" "broken user theme: the default theme's colours"
quit "broken theme"
# And an unknown name.
start -- --env t --theme nosuch
wait_for "Recoverable window" || diag "$(screen)"
wait_for "not found" 5
like "$(screen)" "theme \"nosuch\" not found" "unknown theme: said so"
quit "unknown theme"

# A user theme overrides the shipped one of the same name.
printf 'fail = fg:#00ffff bold\n' >"$USER_THEMES/light.theme"
start -- --env t --theme light
wait_for "Recoverable window" || diag "$(screen)"
ok "$(fail_in "38;5;51"; echo $?)" "user light.theme overrides the shipped one"
quit "user theme"
rm -f "$USER_THEMES/light.theme" "$USER_THEMES/broken.theme"

# The environment's theme key.
start -- --env lightenv
wait_for "Recoverable window" || diag "$(screen)"
ok "$(fail_in "38;5;124"; echo $?)" "theme = light in the config"

# :theme switches live; Tab completes the name; an unknown one is refused with a message.
TM send-keys -t "$S" ":theme trit" Tab Enter
sleep 1
ok "$(fail_in "38;5;160"; echo $?)" ":theme trit<Tab> switches to tritanopia"
TM send-keys -t "$S" ":theme nosuch" Enter
wait_for "not found" 5
like "$(screen)" "nosuch.*not found" ":theme nosuch: error message"
ok "$(fail_in "38;5;160"; echo $?)" ":theme nosuch keeps the theme in use"
TM send-keys -t "$S" ":theme mono" Enter
sleep 1
unlike "$(screen_sgr)" "$COLOUR_SGR" ":theme mono: no colour"
quit ":theme"

done_testing
