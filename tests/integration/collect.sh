#!/usr/bin/env bash
# The collector against real servers: a PostgreSQL cluster archiving through
# wal-push with a backup, a Pushgateway, and Prometheus scraping it with the
# runbook's alert rules. `pgrescue status --json` shows Prometheus's metric
# values and firing alerts beside pgrescue's own verdicts; with Prometheus
# stopped it still answers from native facts; with a Prometheus that accepts
# connections and never answers it gives up after the source timeout and says so.
. "$PGR_TEST_LIB/tap.sh"
. "$PGR_TEST_LIB/pgcluster.sh"
pgt_setup

command -v prometheus >/dev/null || bail_out "prometheus not installed (apt-get install prometheus)"
command -v prometheus-pushgateway >/dev/null || bail_out "prometheus-pushgateway not installed"
command -v promtool >/dev/null || bail_out "promtool not installed (package prometheus)"

# Stop the HTTP servers before the harness removes their directories.
stop_servers() {
	local f
	for f in "$PGT_ROOT"/prometheus.pid "$PGT_ROOT"/pushgateway.pid "$PGT_ROOT"/blackhole.pid; do
		[ -f "$f" ] || continue
		kill "$(cat "$f")" 2>/dev/null
		for _ in $(seq 1 50); do kill -0 "$(cat "$f")" 2>/dev/null || break; sleep 0.1; done
		rm -f "$f"
	done
}
trap 'stop_servers; pgt_cleanup' EXIT

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}
wait_http() { # wait_http URL SECONDS
	local i
	for ((i = 0; i < $2 * 5; i++)); do
		curl -sf -o /dev/null --max-time 2 "$1" && return 0
		sleep 0.2
	done
	return 1
}
jq_py() { # jq_py JSON PYTHON-EXPRESSION-ON-d
	printf '%s' "$1" | python3 -c "import json, sys; d = json.load(sys.stdin); print($2)"
}

# ------------------------------------------------------------ PostgreSQL + backup
store="$PGT_ROOT/store"
pgt_server_dir "$store"
pgt_cluster_start db "archive_mode = on" "track_commit_timestamp = on" \
	"archive_command = '$PGT_PGRESCUE --store file://$store wal-push %p'"
pgt_make_clipper_db db 100 500
run_cmd b "$PGRESCUE" --store "file://$store" --dsn "$db_DSN_BASE dbname=clipper_db" backup
is "$b_rc" 0 "a backup to start from" || diag "$b_err"

# ------------------------------------------------------------ Pushgateway + Prometheus
pgw_port=$(free_port)
prom_port=$(free_port)
mkdir -p "$PGT_ROOT/prom/data"
prometheus-pushgateway --web.listen-address="127.0.0.1:$pgw_port" \
	--persistence.file="$PGT_ROOT/prom/pushgateway.data" >"$PGT_ROOT/prom/pushgateway.log" 2>&1 &
echo $! >"$PGT_ROOT/pushgateway.pid"

rules="$PGT_ROOT/prom/clipper-backup-alerts.yml"
cp "$PGR_SRCDIR/tests/data/clipper-backup-alerts.yml" "$rules"
run_cmd pc promtool check rules "$rules"
is "$pc_rc" 0 "the runbook's rules file is valid for promtool" || diag "$pc_out" "$pc_err"
like "$pc_out" "SUCCESS: 10 rules found" "and holds the ten alerts"

# The runbook's rules wait 5 minutes to 2 hours before firing, and evaluate
# every 60 s: a test group fires at once, every second. RestoreTestFailed
# agrees with what pgrescue sees, WALArchivingFailed fires with archiving
# healthy (a disagreement), RestoreRTOExceeded stays pending (not firing).
cat >"$PGT_ROOT/prom/test-alerts.yml" <<'EOF'
groups:
  - name: collect_test
    interval: 1s
    rules:
      - alert: RestoreTestFailed
        expr: postgres_restore_test_success == 0
        labels: {severity: critical}
      - alert: WALArchivingFailed
        expr: vector(1)
        labels: {severity: critical}
      - alert: RestoreRTOExceeded
        expr: postgres_restore_test_duration_seconds > 3600
        for: 1h
        labels: {severity: warning}
EOF
cat >"$PGT_ROOT/prom/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - $rules
  - $PGT_ROOT/prom/test-alerts.yml
scrape_configs:
  - job_name: pushgateway
    honor_labels: true
    static_configs:
      - targets: ['127.0.0.1:$pgw_port']
EOF
prometheus --config.file="$PGT_ROOT/prom/prometheus.yml" --storage.tsdb.path="$PGT_ROOT/prom/data" \
	--web.listen-address="127.0.0.1:$prom_port" >"$PGT_ROOT/prom/prometheus.log" 2>&1 &
echo $! >"$PGT_ROOT/prometheus.pid"

wait_http "http://127.0.0.1:$pgw_port/-/ready" 30 ||
	{ sed 's/^/# /' "$PGT_ROOT/prom/pushgateway.log"; bail_out "the Pushgateway did not start"; }
wait_http "http://127.0.0.1:$prom_port/-/ready" 60 ||
	{ sed 's/^/# /' "$PGT_ROOT/prom/prometheus.log"; bail_out "Prometheus did not start"; }

backup_ts=$(($(date +%s) - 3600))
printf 'postgres_backup_success 1\npostgres_backup_timestamp %s\npostgres_backup_size_bytes 123456789\n' "$backup_ts" |
	curl -sf --data-binary @- "http://127.0.0.1:$pgw_port/metrics/job/postgres_backup" ||
	bail_out "cannot push to the Pushgateway"
printf 'postgres_restore_test_success 0\npostgres_restore_test_timestamp %s\npostgres_restore_test_duration_seconds 4000\n' \
	"$(date +%s)" | curl -sf --data-binary @- "http://127.0.0.1:$pgw_port/metrics/job/postgres_restore_test" ||
	bail_out "cannot push to the Pushgateway"

# Until Prometheus has scraped the push and evaluated the test rules.
scraped() {
	local q a
	q=$(curl -sf "http://127.0.0.1:$prom_port/api/v1/query?query=postgres_restore_test_duration_seconds") || return 1
	a=$(curl -sf "http://127.0.0.1:$prom_port/api/v1/alerts") || return 1
	[ "$(jq_py "$q" 'len(d["data"]["result"])')" = 1 ] || return 1
	[ "$(jq_py "$a" '",".join(sorted(x["labels"]["alertname"] + ":" + x["state"] for x in d["data"]["alerts"]
	     if x["labels"].get("severity") and x["labels"]["alertname"] in ("RestoreTestFailed", "WALArchivingFailed", "RestoreRTOExceeded")
	     and not x["labels"].get("category")))')" = "RestoreRTOExceeded:pending,RestoreTestFailed:firing,WALArchivingFailed:firing" ]
}
ok=1
for _ in $(seq 1 150); do scraped && { ok=0; break; }; sleep 0.2; done
ok $ok "Prometheus has scraped the pushed metrics and evaluated the rules" ||
	diag "$(curl -s "http://127.0.0.1:$prom_port/api/v1/alerts")"

# ------------------------------------------------------------ the last archived commit
# A commit, two seconds of nothing, then the segment switch: the archived
# file's time is later than the commit, and only pg_waldump knows the commit's.
pgt_psql db clipper_db "CREATE TABLE marker (x int)" >/dev/null
commit_epoch=$(pgt_psql db clipper_db "INSERT INTO marker VALUES (1) RETURNING 1" >/dev/null &&
	pgt_psql db clipper_db "SELECT floor(extract(epoch FROM pg_xact_commit_timestamp(xmin)))::bigint FROM marker")
sleep 2
seg=$(pgt_psql db postgres "SELECT pg_walfile_name(pg_current_wal_lsn())")
pgt_psql db postgres "SELECT pg_switch_wal()" >/dev/null
for _ in $(seq 1 100); do
	[ "$(pgt_psql db postgres "SELECT coalesce(last_archived_wal, '') >= '$seg' FROM pg_stat_archiver")" = t ] && break
	sleep 0.1
done
switch_epoch=$(date +%s)

cfg="$PGT_ROOT/config.ini"
pgt_config "$cfg" test "$db_DSN_BASE dbname=clipper_db" "file://$store" "prometheus=http://127.0.0.1:$prom_port"

# ------------------------------------------------------------ with Prometheus
run_cmd s "$PGRESCUE" --config "$cfg" status --json
is "$s_rc" 0 "status --json with Prometheus exits 0 (the checks are unchanged)" || diag "$s_out" "$s_err"
is "$(jq_py "$s_out" 'd["sources"]["prometheus"]["configured"], d["sources"]["prometheus"]["reachable"]')" \
	"True True" "Prometheus is a configured, reachable source"
is "$(jq_py "$s_out" 'int(d["metrics"]["postgres_backup_timestamp"]["value"]), d["metrics"]["postgres_backup_timestamp"]["source"]')" \
	"$backup_ts prometheus" "postgres_backup_timestamp is the pushed value, from Prometheus"
is "$(jq_py "$s_out" 'int(d["metrics"]["postgres_backup_size_bytes"]["value"]), d["metrics"]["postgres_backup_success"]["value"], d["metrics"]["postgres_backup_success"]["source"]')" \
	"123456789 1 prometheus" "postgres_backup_size_bytes and _success too"
is "$(jq_py "$s_out" 'd["metrics"]["postgres_restore_test_success"]["value"], d["metrics"]["postgres_restore_test_duration_seconds"]["value"]')" \
	"0 4000" "the restore test's metrics arrive as numbers (Prometheus sends strings)"
is "$(jq_py "$s_out" 'd["metrics"]["postgres_restore_test_clip_count"]')" "None" \
	"a series nobody pushed is unknown (null), not zero"
is "$(jq_py "$s_out" 'sorted(d["prometheus_firing"])')" "['RestoreTestFailed', 'WALArchivingFailed']" \
	"Prometheus's firing alerts are listed; the pending one is not"
alert() { jq_py "$s_out" "[(a['level'], a['prometheus_firing'], a['disagree']) for a in d['alerts'] if a['name'] == '$1'][0]"; }
is "$(jq_py "$s_out" 'len(d["alerts"]), sorted(set(a["severity"] for a in d["alerts"]))')" \
	"10 ['critical', 'warning']" "ten alert verdicts with their severities"
is "$(alert RestoreTestFailed)" "('FAIL', True, False)" "RestoreTestFailed: FAIL in pgrescue, firing in Prometheus: they agree"
like "$(alert WALArchivingFailed)" "^\('OK', True, True\)$" \
	"WALArchivingFailed: OK in pgrescue while Prometheus fires it: a disagreement"
like "$(alert RestoreRTOExceeded)" ", False, " "RestoreRTOExceeded is pending in Prometheus, so not firing there"
like "$(alert BackupJobFailed)" "^\('OK', False, False\)$" "BackupJobFailed: OK in both (backup an hour old)"
like "$(jq_py "$s_out" '[a["rule"] for a in d["alerts"] if a["name"] == "RestoreTestFailed"][0]')" "." \
	"a verdict carries its rule"
is "$(jq_py "$s_out" 'd["database"]["reachable"], d["store"]["reachable"], d["sources"]["database"]["reachable"]')" \
	"True True True" "the database and the store answered in the same refresh"
like "$(jq_py "$s_out" 'd["database"]["current_lsn"]')" "^[0-9A-F]+/[0-9A-F]+$" "the current WAL position is shown"

lac=$(jq_py "$s_out" 'd["window"]["last_archived_commit"]')
lac_epoch=$(date -u -d "$lac" +%s 2>/dev/null || echo 0)
latest_epoch=$(date -u -d "$(jq_py "$s_out" 'd["window"]["latest"]')" +%s 2>/dev/null || echo 0)
ok $([ "$lac_epoch" -ge "$commit_epoch" ] && [ "$lac_epoch" -le "$switch_epoch" ] && echo 0 || echo 1) \
	"the window's last archived commit is the marker's commit time (from pg_waldump), $lac" ||
	diag "commit $commit_epoch, switch $switch_epoch, got $lac ($lac_epoch)"
ok $([ "$lac_epoch" -lt "$latest_epoch" ] && echo 0 || echo 1) \
	"and earlier than the archived file's own time, which is not a commit time" ||
	diag "last_archived_commit $lac_epoch, window latest $latest_epoch"

run_cmd t "$PGRESCUE" --config "$cfg" status
like "$t_out" "alerts \(the runbook's rules" "the text output has an alerts section"
like "$t_out" "FAIL +RestoreTestFailed" "naming each alert with its level"
like "$t_out" "WALArchivingFailed.*Prometheus" "and where Prometheus sees it otherwise"

# ------------------------------------------------------------ Prometheus stopped
kill "$(cat "$PGT_ROOT/prometheus.pid")"
for _ in $(seq 1 100); do curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$prom_port/-/ready" || break; sleep 0.1; done
# `timeout` only guards against a hang; how fast it answers is for bench/, not tests.
start=$(date +%s.%N)
run_cmd s timeout 120 "$PGRESCUE" --config "$cfg" status --json
elapsed=$(python3 -c "print(round($(date +%s.%N) - $start, 2))")
is "$s_rc" 0 "with Prometheus stopped, status still works (exit 0)" || diag "$s_out" "$s_err"
is "$(jq_py "$s_out" 'd["sources"]["prometheus"]["reachable"]')" "False" "Prometheus is shown unreachable"
like "$(jq_py "$s_out" 'd["sources"]["prometheus"]["error"]')" "^Prometheus http://127.0.0.1:$prom_port: .*([Cc]onnect|refused)" \
	"with the reason, naming the URL"
is "$(jq_py "$s_out" 'd["metrics"]["postgres_backup_timestamp"]["source"], int(d["metrics"]["postgres_backup_timestamp"]["value"]) != '"$backup_ts"'')" \
	"store True" "the backup's time now comes from the store itself"
is "$(jq_py "$s_out" 'd["metrics"]["backup_storage_used_bytes"]["source"], d["metrics"]["backup_storage_total_bytes"]["value"] > 0')" \
	"store True" "storage capacity comes from the store's file system (BackupStorageLow without Prometheus)"
is "$(jq_py "$s_out" 'len(d["alerts"]), [a["level"] for a in d["alerts"] if a["name"] == "BackupJobFailed"][0], [a["prometheus_firing"] for a in d["alerts"]].count(None)')" \
	"10 OK 10" "the ten verdicts come from native facts, none claims Prometheus's view"
like "$(jq_py "$s_out" '[a["level"] for a in d["alerts"] if a["name"] == "BackupStorageLow"][0]')" "^(OK|WARN)$" \
	"BackupStorageLow is judged from the store's file system"
diag "status with Prometheus stopped answered in ${elapsed}s"

# ------------------------------------------------------------ a Prometheus that never answers
bh_port=$(free_port)
python3 -c '
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(64)
conns = []
while True:
    c, _ = s.accept()
    conns.append(c)  # read nothing, answer nothing
' "$bh_port" &
echo $! >"$PGT_ROOT/blackhole.pid"
for _ in $(seq 1 50); do python3 -c "import socket; socket.create_connection(('127.0.0.1', $bh_port), 1).close()" 2>/dev/null && break; sleep 0.1; done
pgt_config "$cfg" blackhole "$db_DSN_BASE dbname=clipper_db" "file://$store" "prometheus=http://127.0.0.1:$bh_port/"
start=$(date +%s.%N)
run_cmd s timeout 120 "$PGRESCUE" --config "$cfg" --env blackhole status --json
elapsed=$(python3 -c "print(round($(date +%s.%N) - $start, 2))")
is "$s_rc" 0 "with a Prometheus that never answers, status still completes" || diag "$s_out" "$s_err"
like "$(jq_py "$s_out" 'd["sources"]["prometheus"]["error"]')" "^Prometheus http://127.0.0.1:$bh_port/: no answer within 5 s" \
	"the error names Prometheus's URL and the timeout"
is "$(jq_py "$s_out" 'd["database"]["reachable"], d["store"]["reachable"]')" "True True" \
	"the database and the store were not held up by it"
diag "status with a silent Prometheus answered in ${elapsed}s"

done_testing
