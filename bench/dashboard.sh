#!/usr/bin/env bash
# Benchmark: the console against a sandbox, compared in the same run with
# what an engineer runs by hand for the same picture.
#   cpu:   the real binary `pgrescue --env sandbox` (refresh 2 s) and
#          `watch -n 2 psql ... -c "select * from pg_stat_archiver"` side by
#          side in two windows of one private tmux server, left idle for
#          IDLE_SECS (default 60): CPU seconds (utime+stime of each pane's whole
#          process tree from /proc, children that ended included) as a % of
#          one core. The tmux server's own CPU (it draws both) is shown apart.
#   frame: time from exec to the first complete dashboard frame (the header's
#          "updated", the first refresh's data, and the rest of that write),
#          read from a pty (python3 pty.fork) at 100x30, nothing added to the
#          product; against one `psql -c "select * from pg_stat_archiver"`
#          (connect, query, print). Median of ROUNDS (default 5), warm.
# Usage: bench/dashboard.sh [cpu|frame|all]   (PGRESCUE=path/to/pgrescue, default build/pgrescue)
# Everything lives in a temp root (XDG dirs too); the sandbox is taken down
# and the tmux server killed at the end, also when interrupted.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
: "${PGRESCUE:=$top/build/pgrescue}"
: "${ROUNDS:=5}"
: "${IDLE_SECS:=60}"
what=${1:-all}
case $what in cpu | frame | all) ;; *) echo "usage: $0 [cpu|frame|all]"; exit 2 ;; esac
export PGR_TEST_LIB="$top/tests/lib" PGRESCUE
. "$top/tests/lib/tap.sh"
. "$top/tests/lib/pgcluster.sh"
. "$top/tests/lib/tmux.sh"
[ -x "$PGRESCUE" ] || { echo "build pgrescue first (PGRESCUE=$PGRESCUE)"; exit 1; }
command -v watch >/dev/null || { echo "watch is not installed (apt-get install procps)"; exit 1; }
pgt_setup

SB="$PGT_ROOT/sandbox"
export LANG=C.UTF-8 LC_ALL=C.UTF-8
unset NO_COLOR
sleep_pid=""
bench_cleanup() {
	[ -n "$sleep_pid" ] && kill "$sleep_pid" 2>/dev/null
	tmx_cleanup
	if [ -f "$SB/sandbox.json" ]; then
		"$PGRESCUE" sandbox down --dir="$SB" -q >/dev/null 2>&1
	fi
	if [ -f "$SB/data/postmaster.pid" ]; then
		pgt_as_server "$PG_BINDIR/pg_ctl" -D "$SB/data" -m immediate -w stop >/dev/null 2>&1
	fi
	pgt_cleanup
}
trap bench_cleanup EXIT

# The measuring helpers, in python3 (ships with the system).
helper="$PGT_ROOT/measure.py"
cat >"$helper" <<'EOF'
import os, pty, select, signal, struct, subprocess, sys, time, fcntl, termios

def stat_of(pid):
    with open(f"/proc/{pid}/stat") as f:
        s = f.read()
    rest = s[s.rfind(")") + 2:].split()
    # fields 4 (ppid) and 14..17 (utime, stime, cutime, cstime)
    return int(rest[1]), sum(int(x) for x in rest[11:15])

def ticks(root):
    """CPU ticks of root and every descendant, ended children included."""
    procs = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                procs[int(d)] = stat_of(int(d))
            except (OSError, ValueError, IndexError):
                pass
    kids = {}
    for pid, (ppid, _) in procs.items():
        kids.setdefault(ppid, []).append(pid)
    total, todo = 0, [root]
    while todo:
        p = todo.pop()
        if p in procs:
            total += procs[p][1]
            todo.extend(kids.get(p, []))
    return total

def run(argv):
    t0 = time.monotonic()
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    t1 = time.monotonic()
    if p.returncode != 0 or not p.stdout:
        sys.stderr.write(p.stderr.decode(errors="replace"))
        sys.exit(1)
    print(f"total_ms={(t1 - t0) * 1000:.1f}")

def frame(cols, rows, marker, argv):
    marker = marker.encode()
    t0 = time.monotonic()
    pid, fd = pty.fork()
    if pid == 0:
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        os.environ["TERM"] = "xterm-256color"
        try:
            os.execvp(argv[0], argv)
        finally:
            os._exit(127)
    buf, paint, seen, last = b"", None, None, None
    try:
        while time.monotonic() - t0 < 30:
            # once the marker is in, the frame ends with the first 10 ms of quiet
            r, _, _ = select.select([fd], [], [], 0.01 if seen is not None else 0.5)
            if not r:
                if seen is not None:
                    break
                continue
            try:
                data = os.read(fd, 65536)
            except OSError:
                break
            if not data:
                break
            now = time.monotonic() - t0
            buf += data
            last = now
            if paint is None and b"\x1b[" in buf:
                paint = now
            if seen is None and marker in buf:
                seen = now
        if seen is None:
            sys.stderr.write("no frame with %r in 30 s; the program wrote:\n%s\n" %
                             (marker, buf[-2000:].decode(errors="replace")))
            sys.exit(1)
        print(f"paint_ms={paint * 1000:.1f} marker_ms={seen * 1000:.1f} frame_ms={last * 1000:.1f}")
    finally:
        try:
            os.write(fd, b"q")
        except OSError:
            pass
        for _ in range(100):
            if os.waitpid(pid, os.WNOHANG)[0]:
                break
            time.sleep(0.05)
        else:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        os.close(fd)

mode = sys.argv[1]
if mode == "ticks":
    print(" ".join(str(ticks(int(p))) for p in sys.argv[2:]))
elif mode == "run":
    run(sys.argv[2:])
elif mode == "frame":
    frame(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5:])
EOF

field() { printf '%s\n' "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

echo "# building the sandbox..."
"$PGRESCUE" sandbox up --dir="$SB" -q >"$PGT_ROOT/sandbox-up.log" 2>&1 ||
	{ sed 's/^/# /' "$PGT_ROOT/sandbox-up.log"; bail_out "the sandbox could not be built"; }
port=$(sed -n 's/.*"port":[[:space:]]*\([0-9]*\).*/\1/p' "$SB/sandbox.json")
[ -n "$port" ] || bail_out "no port in $SB/sandbox.json"
psql_argv=("$PG_BINDIR/psql" -X -h "$SB/run" -p "$port" -U postgres -d clipper_db -c "select * from pg_stat_archiver")
"${psql_argv[@]}" >/dev/null || bail_out "psql cannot reach the sandbox"
pgr_argv=("$PGRESCUE" --env sandbox)
result_frame="" result_cpu=""

# ---------------------------------------------------------------- first frame
if [ "$what" != cpu ]; then
	python3 "$helper" run "${psql_argv[@]}" >/dev/null || bail_out "psql failed"
	python3 "$helper" frame 100 30 updated "${pgr_argv[@]}" >/dev/null || bail_out "the dashboard drew no frame"
	pm=() fm=() paint=()
	for round in $(seq 1 "$ROUNDS"); do
		r=$(python3 "$helper" run "${psql_argv[@]}") || bail_out "psql failed"
		p=$(python3 "$helper" frame 100 30 updated "${pgr_argv[@]}") || bail_out "the dashboard drew no frame"
		pm+=("$(field total_ms "$r")") fm+=("$(field frame_ms "$p")") paint+=("$(field paint_ms "$p")")
		printf '# round %d: psql %s ms; pgrescue first paint %s ms, first complete frame %s ms\n' \
			"$round" "${pm[-1]}" "${paint[-1]}" "${fm[-1]}"
	done
	m_psql=$(median "${pm[@]}") m_frame=$(median "${fm[@]}")
	result_frame=$(printf 'first frame %.0f ms (first paint %.0f ms) vs. psql pg_stat_archiver %.0f ms, ratio %.2f (target < 150 ms)' \
		"$m_frame" "$(median "${paint[@]}")" "$m_psql" "$(echo "$m_frame / $m_psql" | bc -l)")
	echo "$result_frame"
fi

# ---------------------------------------------------------------- idle CPU
if [ "$what" != frame ]; then
	tmx_start 100 30 "${pgr_argv[@]}"
	tmx_wait_for 'updated [0-9]' 60 || { diag "$TMX_SCREEN"; bail_out "the dashboard did not draw its first refresh"; }
	printf -v watch_cmd '%q ' "${psql_argv[@]}"
	tmx_tmux new-window -d -t "$TMX_SESSION" -n watch -- env TERM=xterm-256color watch -n 2 "$watch_cmd" ||
		bail_out "cannot start watch in tmux"
	sleep 5 # both past their first refresh and store listing
	pgr_pid=$(tmx_tmux list-panes -t "$TMX_SESSION:0" -F '#{pane_pid}')
	watch_pid=$(tmx_tmux list-panes -t "$TMX_SESSION:watch" -F '#{pane_pid}')
	tmux_pid=$(tmx_tmux display-message -p '#{pid}')
	hz=$(getconf CLK_TCK)
	echo "# both idle for ${IDLE_SECS} s (pane trees $pgr_pid, $watch_pid; tmux server $tmux_pid; $hz ticks/s)..."
	t0=$(date +%s.%N)
	read -r p0 w0 x0 < <(python3 "$helper" ticks "$pgr_pid" "$watch_pid" "$tmux_pid")
	sleep "$IDLE_SECS" &
	sleep_pid=$!
	wait "$sleep_pid" # not a foreground sleep, so an interrupt cleans up at once
	sleep_pid=""
	read -r p1 w1 x1 < <(python3 "$helper" ticks "$pgr_pid" "$watch_pid" "$tmux_pid")
	t1=$(date +%s.%N)
	el=$(echo "$t1 - $t0" | bc)
	TMX_SCREEN=$(tmx_screen)
	printf '%s\n' "$TMX_SCREEN" | grep -Eq 'updated [0-5]s ago' ||
		{ diag "$TMX_SCREEN"; bail_out "the dashboard stopped refreshing during the measurement"; }
	printf '%s\n' "$TMX_SCREEN" | grep -q 'STALE' && echo "# WARNING: the dashboard shows STALE"
	pct() { echo "scale=4; $1 * 100 / $hz / $el" | bc; }
	pc=$(pct $((p1 - p0))) wc=$(pct $((w1 - w0))) xc=$(pct $((x1 - x0)))
	printf '# over %.1f s: pgrescue %d ticks, watch+psql %d ticks, tmux server (draws both) %d ticks = %.2f%%\n' \
		"$el" $((p1 - p0)) $((w1 - w0)) $((x1 - x0)) "$xc"
	watch_screen=$(tmx_tmux capture-pane -p -t "$TMX_SESSION:watch")
	printf '%s\n' "$watch_screen" | grep -q archived_count ||
		{ diag "$watch_screen"; bail_out "watch did not show pg_stat_archiver"; }
	ratio=n/a
	[ $((w1 - w0)) -gt 0 ] && ratio=$(printf '%.2f' "$(echo "($p1 - $p0) / ($w1 - $w0)" | bc -l)")
	result_cpu=$(printf 'idle dashboard %.2f%% of a core (%.2f CPU s in %.0f s) vs. watch -n 2 psql %.2f%% (%.2f CPU s), ratio %s (target < 2%%)' \
		"$pc" "$(echo "($p1 - $p0) / $hz" | bc -l)" "$el" "$wc" "$(echo "($w1 - $w0) / $hz" | bc -l)" "$ratio")
	echo "$result_cpu"
	tmx_stop
fi

"$PGRESCUE" sandbox down --dir="$SB" -q >/dev/null 2>&1 || echo "# WARNING: sandbox down failed"
[ -n "$result_frame" ] && [ -n "$result_cpu" ] && echo "dashboard: $result_cpu; $result_frame"
exit 0
