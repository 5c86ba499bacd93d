# The real binary in a private tmux server, for tests/tui (bash).
#   tmx_start COLS ROWS CMD...  a private server (tmux -S SOCKET -f /dev/null) running CMD in a
#                               COLS x ROWS window, TERM=xterm-256color; the program's stderr and
#                               exit code are kept (tmx_stderr, tmx_wait_exit)
#   tmx_keys KEY...             tmux send-keys (names as tmux knows them: Enter, Escape, Tab, F1)
#   tmx_type TEXT               send TEXT literally
#   tmx_screen                  the visible text (capture-pane -p)
#   tmx_screen_escapes          the same with attributes and colours as escape sequences (-e)
#   tmx_wait_for REGEX [SECS]   wait until the screen matches (extended regex); the last
#                               capture is in $TMX_SCREEN. A bounded loop: it only stops a hang.
#   tmx_wait_gone REGEX [SECS]  wait until it no longer matches
#   tmx_resize COLS ROWS
#   tmx_wait_exit [SECS]        wait for the program to end; its exit code in $TMX_RC
#   tmx_stop                    kill the server (also done on exit by tmx_cleanup)
#   tmx_quit_clean NAME         press q: TAP checks that the program exits 0 with nothing on
#                               stderr (no sanitizer report)
# Environment for the program: export it before tmx_start, or put `env NAME=value` in CMD.

TMX_DIR=""
TMX_SOCK=""
TMX_SCREEN=""
TMX_RC=""
TMX_SESSION=pgr

command -v tmux >/dev/null 2>&1 || bail_out "tmux is not installed (apt-get install tmux)"

tmx_tmux() { tmux -S "$TMX_SOCK" -f /dev/null "$@"; }

tmx_stop() {
	if [ -n "$TMX_SOCK" ] && [ -S "$TMX_SOCK" ]; then
		tmx_tmux kill-server >/dev/null 2>&1
	fi
	return 0
}

tmx_cleanup() {
	tmx_stop
	[ -n "$TMX_DIR" ] && [ -d "$TMX_DIR" ] && rm -rf "$TMX_DIR"
	TMX_DIR=""
}

tmx_start() { # COLS ROWS CMD...
	local cols=$1 rows=$2; shift 2
	tmx_stop
	[ -n "$TMX_DIR" ] || TMX_DIR=$(mktemp -d /tmp/pgrescue-tmux.XXXXXX) || bail_out "mktemp failed"
	TMX_SOCK="$TMX_DIR/socket"
	rm -f "$TMX_DIR/rc" "$TMX_DIR/stderr"
	# The wrapper keeps the pane (and what the program printed on exit) after it ends.
	cat >"$TMX_DIR/run.sh" <<'EOF'
#!/bin/sh
dir=$1; shift
"$@" 2>"$dir/stderr"
echo $? >"$dir/rc.tmp" && mv "$dir/rc.tmp" "$dir/rc"
exec sleep 86400
EOF
	tmx_tmux new-session -d -s "$TMX_SESSION" -x "$cols" -y "$rows" -- \
		env TERM=xterm-256color sh "$TMX_DIR/run.sh" "$TMX_DIR" "$@" ||
		bail_out "cannot start a tmux session"
}

tmx_keys() { tmx_tmux send-keys -t "$TMX_SESSION" "$@"; }
tmx_type() { tmx_tmux send-keys -t "$TMX_SESSION" -l -- "$1"; }
tmx_screen() { tmx_tmux capture-pane -p -t "$TMX_SESSION"; }
tmx_screen_escapes() { tmx_tmux capture-pane -p -e -t "$TMX_SESSION"; }
tmx_resize() { tmx_tmux resize-window -t "$TMX_SESSION" -x "$1" -y "$2"; }
tmx_stderr() { cat "$TMX_DIR/stderr" 2>/dev/null; }
tmx_quit_clean() {
	tmx_keys q
	if tmx_wait_exit 30; then
		is "$TMX_RC" 0 "$1: q quits with exit code 0"
		is "$(tmx_stderr)" "" "$1: nothing on stderr (no sanitizer report)"
	else
		fail "$1: q quits"
	fi
}

# A capture may catch a frame half drawn: take it again until two agree.
tmx_settled() {
	local again i
	for ((i = 0; i < 10; i++)); do
		sleep 0.1
		again=$(tmx_screen 2>/dev/null)
		[ "$again" = "$TMX_SCREEN" ] && return 0
		TMX_SCREEN=$again
	done
	return 0
}

tmx_wait_for() { # REGEX [SECS]
	local re=$1 secs=${2:-30} i
	for ((i = 0; i <= secs * 5; i++)); do
		TMX_SCREEN=$(tmx_screen 2>/dev/null)
		if printf '%s\n' "$TMX_SCREEN" | grep -Eq -- "$re"; then
			tmx_settled
			printf '%s\n' "$TMX_SCREEN" | grep -Eq -- "$re" && return 0
		fi
		sleep 0.2
	done
	return 1
}

tmx_wait_gone() { # REGEX [SECS]
	local re=$1 secs=${2:-30} i
	for ((i = 0; i <= secs * 5; i++)); do
		TMX_SCREEN=$(tmx_screen 2>/dev/null)
		if ! printf '%s\n' "$TMX_SCREEN" | grep -Eq -- "$re"; then
			tmx_settled
			printf '%s\n' "$TMX_SCREEN" | grep -Eq -- "$re" || return 0
		fi
		sleep 0.2
	done
	return 1
}

tmx_wait_exit() { # [SECS]
	local secs=${1:-30} i
	TMX_RC=""
	for ((i = 0; i <= secs * 5; i++)); do
		if [ -f "$TMX_DIR/rc" ]; then
			TMX_RC=$(cat "$TMX_DIR/rc")
			return 0
		fi
		sleep 0.2
	done
	return 1
}

# The whole help overlay, open on the screen: its pages joined, scrolling
# with Down until the last row stops changing (the overlay pages when it is
# taller than the terminal). Prints the lines.
tmx_help_all() {
	local all prev="" cur i
	all=$(tmx_screen)
	for ((i = 0; i < 80; i++)); do
		tmx_keys Down
		sleep 0.05
		cur=$(tmx_screen)
		[ "$cur" = "$prev" ] && break
		all="$all"$'\n'"$cur"
		prev=$cur
	done
	printf '%s\n' "$all"
}
