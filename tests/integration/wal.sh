#!/usr/bin/env bash
# WAL archiving through pgrescue, as PostgreSQL really calls it: archive_command
# = "pgrescue --store file://... wal-push %p". What is archived is byte-identical
# to pg_wal, a repeat push is harmless, a different file under an archived name
# is refused, and a broken store shows up in pg_stat_archiver and recovers.
. "$PGR_TEST_LIB/tap.sh"
. "$PGR_TEST_LIB/pgcluster.sh"
pgt_setup

STORE="$PGT_ROOT/store"
pgt_server_dir "$STORE"
push_cmd() { echo "$PGT_PGRESCUE --store file://$1 wal-push %p"; }

pgt_cluster_start pg "archive_mode = on" "archive_command = '$(push_cmd "$STORE")'"

sql() { pgt_psql pg postgres "$1"; }
wait_for() { # wait_for SECONDS CMD...: until CMD succeeds, at most SECONDS
	local limit=$1 i
	shift
	for ((i = 0; i < limit * 5; i++)); do
		"$@" && return 0
		sleep 0.2
	done
	return 1
}
archived_upto() { [ "$(sql "SELECT coalesce(last_archived_wal, '') >= '$1' FROM pg_stat_archiver")" = t ]; }
failed_count() { sql "SELECT failed_count FROM pg_stat_archiver"; }
failed_above() { [ "$(failed_count)" -gt "$1" ]; }
# Write some WAL, switch segments; prints the name of the segment switched out.
make_wal() {
	sql "INSERT INTO t SELECT g, repeat('w', 200) FROM generate_series(1, 2000) g" >/dev/null
	local seg
	seg=$(sql "SELECT pg_walfile_name(pg_current_wal_lsn())")
	sql "SELECT pg_switch_wal()" >/dev/null
	echo "$seg"
}
sha() { sha256sum "$1" | cut -d' ' -f1; }

# ------------------------------------------------------------ archiving works
sql "CREATE TABLE t (id int, pad text)"
segs=()
for i in 1 2 3; do
	segs+=("$(make_wal)")
done
last=${segs[2]}
wait_for 60 archived_upto "$last"
ok $? "pg_stat_archiver reports segments up to $last archived" ||
	diag "$(sql "SELECT * FROM pg_stat_archiver")" "$(tail -20 "$pg_LOG")"
is "$(failed_count)" 0 "no archive_command failures"

# Keep copies right away: a later checkpoint may recycle pg_wal files.
mkdir -p "$PGT_ROOT/walcopy"
compared=0 differ=0
for f in "$STORE"/wal-archive/*; do
	name=$(basename "$f")
	[ -f "$pg_DATA/pg_wal/$name" ] || continue
	cp "$pg_DATA/pg_wal/$name" "$PGT_ROOT/walcopy/$name"
	cmp -s "$f" "$pg_DATA/pg_wal/$name" || differ=$((differ + 1))
	compared=$((compared + 1))
done
ok $((compared < 3)) "at least three archived segments found in pg_wal ($compared)"
is "$differ" 0 "every archived segment is byte-identical to the server's pg_wal file"
for s in "${segs[@]}"; do
	[ -f "$STORE/wal-archive/$s" ] || fail "segment $s is in the store"
done
is "$(stat -c '%U %a' "$STORE/wal-archive/${segs[0]}")" "postgres 640" "archived files belong to the server's user, mode 640"
is "$(find "$STORE" -name '.pgrescue-tmp*' | wc -l)" 0 "no temporary files left in the store"

seg1=${segs[0]}
[ -f "$PGT_ROOT/walcopy/$seg1" ] || bail_out "no copy of $seg1 kept from pg_wal"

# ------------------------------------------------------------ wal-fetch
mkdir -p "$PGT_ROOT/fetch"
run_cmd r "$PGRESCUE" --store "file://$STORE" wal-fetch "$seg1" "$PGT_ROOT/fetch/RECOVERYXLOG"
is "$r_rc" 0 "wal-fetch of an archived segment exits 0"
cmp -s "$PGT_ROOT/fetch/RECOVERYXLOG" "$PGT_ROOT/walcopy/$seg1"
ok $? "the fetched segment is byte-identical to the original"

# restore_command runs as the server's user: it must be able to read the store.
pgt_server_dir "$PGT_ROOT/fetch-pg"
run_cmd r pgt_as_server "$PGT_PGRESCUE" --store "file://$STORE" wal-fetch "$seg1" "$PGT_ROOT/fetch-pg/RECOVERYXLOG"
is "$r_rc" 0 "wal-fetch as the server's user exits 0" || diag "$r_err"
cmp -s "$PGT_ROOT/fetch-pg/RECOVERYXLOG" "$PGT_ROOT/walcopy/$seg1"
ok $? "and gives identical bytes"

missing=000000090000000000000042
run_cmd r "$PGRESCUE" -v --store "file://$STORE" wal-fetch "$missing" "$PGT_ROOT/fetch/missing"
is "$r_rc" 1 "wal-fetch of a segment not in the archive exits 1"
ok "$([ -e "$PGT_ROOT/fetch/missing" ] && echo 1 || echo 0)" "and creates nothing at the destination"
is "$(ls -A "$PGT_ROOT/fetch" | grep -vc '^RECOVERYXLOG$')" 0 "no temporary file left beside the destination"
like "$r_err" "$missing.*not in the archive" "with -v it says the segment is not in the archive"

# ------------------------------------------------------------ wal-push by hand
before=$(sha "$STORE/wal-archive/$seg1")
run_cmd r "$PGRESCUE" --store "file://$STORE" wal-push "$PGT_ROOT/walcopy/$seg1"
is "$r_rc" 0 "pushing an already archived, identical segment again exits 0" || diag "$r_err"

mkdir -p "$PGT_ROOT/imposter"
head -c "$(stat -c %s "$PGT_ROOT/walcopy/$seg1")" /dev/urandom >"$PGT_ROOT/imposter/$seg1"
run_cmd r "$PGRESCUE" --store "file://$STORE" wal-push "$PGT_ROOT/imposter/$seg1"
ok $((r_rc == 0)) "pushing a different file under an archived name fails (exit $r_rc)"
like "$r_err" "refusing to archive WAL file $seg1" "the error says it refuses and names the segment"
like "$r_err" "SHA-256" "the detail gives both checksums"
like "$r_err" "HINT: .*nother cluster" "the hint says another cluster may be archiving here"
is "$(sha "$STORE/wal-archive/$seg1")" "$before" "the archived copy is unchanged"

run_cmd r "$PGRESCUE" --store "file://$STORE" wal-push "$pg_DATA/postgresql.conf"
is "$r_rc" 1 "pushing a file that is not WAL exits 1"
like "$r_err" "postgresql.conf.*not a WAL" "and says why, naming the file"
is "$(ls "$STORE/wal-archive" | grep -c postgresql)" 0 "nothing was stored for it"

# root pushes into a store owned by postgres: the new file keeps the store's owner.
fake=000000050000000000000001
cp "$PGT_ROOT/walcopy/$seg1" "$PGT_ROOT/imposter/$fake"
run_cmd r "$PGRESCUE" --store "file://$STORE" wal-push "$PGT_ROOT/imposter/$fake"
is "$r_rc" 0 "root can push a new segment" || diag "$r_err"
is "$(stat -c '%U %G %a' "$STORE/wal-archive/$fake")" "postgres postgres 640" \
	"a file root writes belongs to the store's owner, mode 640"

for args in "wal-push" "wal-push a b" "wal-fetch" "wal-fetch $seg1" "wal-fetch a b c"; do
	# shellcheck disable=SC2086
	run_cmd r "$PGRESCUE" --store "file://$STORE" $args
	is "$r_rc" 2 "'$args' is a usage error (exit 2)"
done

# ------------------------------------------------------------ a broken store
BAD="$PGT_ROOT/badstore"
mkdir -p "$BAD"
chmod 755 "$BAD" # root's: the server's user cannot write here
failed0=$(failed_count)
sql "ALTER SYSTEM SET archive_command = '$(push_cmd "$BAD")'" >/dev/null
sql "SELECT pg_reload_conf()" >/dev/null
# The archiver rereads its configuration asynchronously: should a segment
# still reach the good store, switch again (a few times at most).
for attempt in 1 2 3 4 5; do
	bad_seg=$(make_wal)
	wait_for 20 failed_above "$failed0" && break
	archived_upto "$bad_seg" || break
done
failed_above "$failed0"
ok $? "pg_stat_archiver failed_count rises while the store is unwritable" ||
	diag "$(sql "SELECT * FROM pg_stat_archiver")"
is "$(sql "SELECT last_failed_wal FROM pg_stat_archiver")" "$bad_seg" "the failing segment is $bad_seg"
like "$(cat "$pg_LOG")" "pgrescue: ERROR: .*badstore" "the server log has pgrescue's error naming the store"
ok "$([ -e "$BAD/wal-archive/$bad_seg" ] && echo 1 || echo 0)" "nothing half-written in the broken store"

sql "ALTER SYSTEM SET archive_command = '$(push_cmd "$STORE")'" >/dev/null
sql "SELECT pg_reload_conf()" >/dev/null
wait_for 60 archived_upto "$bad_seg"
ok $? "after the fix, archiving resumes and reaches $bad_seg" ||
	diag "$(sql "SELECT * FROM pg_stat_archiver")" "$(tail -20 "$pg_LOG")"
cmp -s "$STORE/wal-archive/$bad_seg" "$pg_DATA/pg_wal/$bad_seg"
ok $? "the once-failing segment is archived byte-identical"
next=$(make_wal)
wait_for 60 archived_upto "$next"
ok $? "and later segments keep flowing ($next)"

done_testing
