#!/bin/bash
# Retention against a real cluster archiving through wal-push: four daily
# backups on pinned days (PGRESCUE_NOW), WAL aged by setting its mtime, then
# the last backup applies retention (dumps 2d, WAL and base backups 1d).
# What must survive: the newest backup, the base backup the 1-day window
# starts from and every WAL segment from its start on; what must go: older
# dumps, older base backups and the WAL before them.
. "$PGR_TEST_LIB/tap.sh"
. "$PGR_TEST_LIB/pgcluster.sh"

pgt_setup
STORE="$PGT_ROOT/store"
pgt_server_dir "$STORE"
pgt_cluster_start src "archive_mode = on" \
	"archive_command = '$PGT_PGRESCUE --store file://$STORE wal-push %p'"
pgt_make_clipper_db src 200 1000

CFG="$PGT_ROOT/pgrescue.ini"
pgt_config "$CFG" prod "$src_DSN_BASE dbname=clipper_db" "file://$STORE" \
	"data_dir=$src_DATA" retention_dumps=2d retention_wal=1d

epoch() { date -u -d "$1" +%s; }
P1=$(epoch 2026-01-01T02:00:00Z)
P2=$(epoch 2026-01-02T02:00:00Z)
P3=$(epoch 2026-01-03T02:00:00Z)
P4=$(epoch 2026-01-04T03:00:00Z) # an hour past day 4, so no age sits exactly on a limit
rfc() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }
lbl() { date -u -d "@$1" +%Y%m%d-%H%M%S; }

# Switch to a new segment and wait until the archive has the one just closed.
switch_and_wait() {
	local seg i
	seg=$(pgt_psql src postgres "SELECT pg_walfile_name(pg_switch_wal())") || return 1
	for i in $(seq 1 600); do
		[ -f "$STORE/wal-archive/$seg" ] && return 0
		sleep 0.1
	done
	diag "segment $seg never reached the archive"
	return 1
}

# Give every WAL object not aged yet the modification time EPOCH.
AGED="$PGT_ROOT/aged.list"
: >"$AGED"
age_new_wal() {
	local f
	for f in "$STORE"/wal-archive/*; do
		[ -e "$f" ] || continue
		grep -qxF "$f" "$AGED" && continue
		touch -m -d "@$1" "$f"
		echo "$f" >>"$AGED"
	done
}

write_some() {
	pgt_psql src clipper_db "INSERT INTO clips (user_id, title, duration_seconds)
	  SELECT 1 + g % 200, 'more ' || g, 10 FROM generate_series(1, 3000) g" >/dev/null
}

backup_at() { # backup_at EPOCH [options]
	local t=$1; shift
	run_cmd bk env PGRESCUE_NOW="$(rfc "$t")" "$PGRESCUE" --config "$CFG" backup "$@"
	if [ "$bk_rc" != 0 ]; then
		diag "backup at $(rfc "$t") failed (exit $bk_rc):" "$bk_err"
		return 1
	fi
}

switch_and_wait || bail_out "WAL archiving through wal-push does not work"
age_new_wal $((P1 - 3600))

# Days 1-3: a backup each day, then a day's worth of writes.
day=1
for t in "$P1" "$P2" "$P3"; do
	backup_at "$t" --no-retention
	ok $? "backup of day $day"
	write_some
	switch_and_wait
	write_some
	switch_and_wait
	age_new_wal $((t + 1800))
	day=$((day + 1))
done
first_wal=$(ls "$STORE/wal-archive" | grep -E '^[0-9A-F]{24}$' | sort | head -1)

# Day 4: the backup applies retention.
backup_at "$P4"
ok $? "backup of day 4 with retention"
like "$bk_err" "dump older than 2d" "retention says why a dump goes"

L1=$(lbl "$P1") L2=$(lbl "$P2") L3=$(lbl "$P3") L4=$(lbl "$P4")
dump() { echo "$STORE/database/postgres-backup-$1.sql.gz"; }

# The newest backup survives, whole.
ok "$([ -f "$(dump "$L4")" ] && echo 0 || echo 1)" "the newest dump survives"
ok "$([ -f "$STORE/base/$L4/pgrescue.json" ] && [ -f "$STORE/base/$L4/base.tar" ] && echo 0 || echo 1)" \
	"the newest base backup survives"
# Dumps younger than 2 days stay; older ones go with their manifests.
ok "$([ -f "$(dump "$L3")" ] && echo 0 || echo 1)" "the dump of day 3 (1d old) survives"
ok "$([ ! -e "$(dump "$L1")" ] && [ ! -e "$(dump "$L2")" ] && echo 0 || echo 1)" \
	"the dumps of days 1 and 2 (older than 2d) are gone"
ok "$([ ! -e "$STORE/pgrescue/dumps/postgres-backup-$L1.sql.gz.json" ] && echo 0 || echo 1)" \
	"a deleted dump's manifest is gone too"
# The window is 1 day: it starts at day 3's base backup, which stays although older than 1d.
ok "$([ -f "$STORE/base/$L3/pgrescue.json" ] && [ -f "$STORE/base/$L3/base.tar" ] && echo 0 || echo 1)" \
	"the base backup the WAL window starts from (day 3) survives"
left=$(find "$STORE/base/$L1" "$STORE/base/$L2" -type f 2>/dev/null | wc -l)
is "$left" 0 "the base backups of days 1 and 2 are gone"

# WAL: what precedes day 3's base backup and is older than 1d is gone.
start_wal=$(jq -r .start_wal "$STORE/base/$L3/pgrescue.json")
like "$start_wal" '^[0-9A-F]{24}$' "day 3's base backup names its start segment ($start_wal)"
ok "$([ -n "$first_wal" ] && [ ! -e "$STORE/wal-archive/$first_wal" ] && echo 0 || echo 1)" \
	"the oldest WAL ($first_wal) is gone"
segno() { echo $((16#${1:8:8} * 4096 + 16#${1:16:8})); } # 1 MB segments: 4096 per log file
segname() { printf '%s%08X%08X' "${2:0:8}" $(($1 / 4096)) $(($1 % 4096)); }
older=""
for name in $(ls "$STORE/wal-archive" | grep -E '^[0-9A-F]{24}$'); do
	[ "$(segno "$name")" -lt "$(segno "$start_wal")" ] && older="$older $name"
done
is "$older" "" "no segment before $start_wal is left"

# PITR from day 3's base backup: every segment from its start to the newest is there.
last_wal=$(ls "$STORE/wal-archive" | grep -E '^[0-9A-F]{24}$' | sort | tail -1)
missing=""
n=0
for s in $(seq "$(segno "$start_wal")" "$(segno "$last_wal")"); do
	name=$(segname "$s" "$start_wal")
	[ -f "$STORE/wal-archive/$name" ] || missing="$missing $name"
	n=$((n + 1))
done
is "$missing" "" "all $n segments from $start_wal to $last_wal are archived"
ok "$([ "$n" -ge 3 ] && echo 0 || echo 1)" "the kept run spans the day-3 base backup and later writes ($n segments)"

done_testing
