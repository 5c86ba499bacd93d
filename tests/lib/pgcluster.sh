# Throwaway PostgreSQL 15 clusters for integration tests (bash).
#   pgt_setup                  temp root (reachable by the postgres user), cleanup trap
#   pgt_cluster_start NAME [postgresql.conf lines...]
#                              initdb --wal-segsize=1, unique socket dir, started;
#                              sets NAME_DATA NAME_SOCK NAME_PORT NAME_DSN_BASE
#   pgt_psql NAME DB SQL       psql -XAtq as the superuser
#   pgt_as_server CMD...       run a server program (as postgres when root)
#   pgt_config FILE ENV DSN STORE [key=value...]   write a config section
# A cluster that cannot start is a failure (Bail out), never a skip.

: "${PG_BINDIR:=$(pg_config --bindir 2>/dev/null || echo /usr/lib/postgresql/15/bin)}"
PGT_CLUSTERS=""

pgt_as_server() {
	if [ "$(id -u)" = 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

pgt_cleanup() {
	local c
	for c in $PGT_CLUSTERS; do
		local d="${PGT_ROOT}/$c/data"
		[ -f "$d/postmaster.pid" ] && pgt_as_server "$PG_BINDIR/pg_ctl" -D "$d" -m immediate -w stop >/dev/null 2>&1
	done
	# Processes a test started in the background (app replicas, runners).
	if [ -n "${PGT_ROOT:-}" ] && [ -d "$PGT_ROOT" ]; then
		for pidf in $(find "$PGT_ROOT" -name '*.pid' -not -name postmaster.pid 2>/dev/null); do
			kill "$(head -1 "$pidf")" 2>/dev/null
		done
		[ -n "${PGT_KEEP:-}" ] || rm -rf "$PGT_ROOT"
	fi
}

pgt_setup() {
	[ -x "$PG_BINDIR/initdb" ] || bail_out "PostgreSQL server programs not found in $PG_BINDIR (install postgresql-15)"
	if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
		bail_out "running as root but there is no postgres user (install postgresql-15)"
	fi
	PGT_ROOT=$(mktemp -d /tmp/pgrescue-test.XXXXXX) || bail_out "mktemp failed"
	chmod 755 "$PGT_ROOT"
	trap pgt_cleanup EXIT
	trap 'exit 130' INT TERM
	# The server runs archive_command as its own user, which may not reach the
	# build tree (e.g. under /root): give it a copy it can execute.
	mkdir -p "$PGT_ROOT/bin"
	cp "$PGRESCUE" "$PGT_ROOT/bin/pgrescue"
	chmod 755 "$PGT_ROOT/bin" "$PGT_ROOT/bin/pgrescue"
	PGT_PGRESCUE="$PGT_ROOT/bin/pgrescue"
	export XDG_CONFIG_HOME="$PGT_ROOT/xdg-config" XDG_STATE_HOME="$PGT_ROOT/xdg-state"
	unset PGRESCUE_CONFIG PGHOST PGPORT PGUSER PGDATABASE PGSERVICE
}

# Make a directory the server's user owns (for stores written by archive_command).
pgt_server_dir() {
	mkdir -p "$1"
	[ "$(id -u)" = 0 ] && chown -R postgres: "$1"
	chmod 755 "$1"
}

pgt_cluster_start() {
	local name=$1; shift
	local dir="$PGT_ROOT/$name"
	local port=$((20000 + (RANDOM % 20000)))
	mkdir -p "$dir/sock"
	[ "$(id -u)" = 0 ] && chown -R postgres: "$dir"
	chmod 755 "$dir"
	pgt_as_server "$PG_BINDIR/initdb" -D "$dir/data" -U postgres -A trust --wal-segsize=1 \
		-E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
		{ cat "$dir/initdb.log" | sed 's/^/# /'; bail_out "initdb failed for cluster $name"; }
	{
		echo "listen_addresses = ''"
		echo "unix_socket_directories = '$dir/sock'"
		echo "port = $port"
		echo "fsync = off"
		echo "max_wal_senders = 4"
		echo "wal_level = replica"
		echo "shared_buffers = 32MB"
		for line in "$@"; do echo "$line"; done
	} | pgt_as_server tee -a "$dir/data/postgresql.conf" >/dev/null
	pgt_as_server "$PG_BINDIR/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null 2>&1 ||
		{ sed 's/^/# /' "$dir/server.log"; bail_out "cannot start PostgreSQL cluster $name"; }
	PGT_CLUSTERS="$PGT_CLUSTERS $name"
	printf -v "${name}_DATA" '%s' "$dir/data"
	printf -v "${name}_SOCK" '%s' "$dir/sock"
	printf -v "${name}_PORT" '%s' "$port"
	printf -v "${name}_LOG" '%s' "$dir/server.log"
	printf -v "${name}_DSN_BASE" '%s' "host=$dir/sock port=$port user=postgres"
}

pgt_cluster_stop() {
	local name=$1 mode=${2:-fast}
	pgt_as_server "$PG_BINDIR/pg_ctl" -D "$PGT_ROOT/$name/data" -m "$mode" -w stop >/dev/null 2>&1
}

pgt_cluster_restart() {
	local name=$1
	pgt_as_server "$PG_BINDIR/pg_ctl" -D "$PGT_ROOT/$name/data" -l "$PGT_ROOT/$name/server.log" -w -t 60 start >/dev/null 2>&1
}

pgt_psql() { # pgt_psql NAME DB SQL
	local name=$1 db=$2 sql=$3
	local sock port
	sock="$PGT_ROOT/$name/sock"
	port=$(grep -E '^port = ' "$PGT_ROOT/$name/data/postgresql.conf" | tail -1 | awk '{print $3}')
	"$PG_BINDIR/psql" -X -A -t -q -v ON_ERROR_STOP=1 -h "$sock" -p "$port" -U postgres -d "$db" -c "$sql"
}

# A small clipper_db: users and clips.
pgt_make_clipper_db() { # NAME USERS CLIPS
	local name=$1 users=${2:-1000} clips=${3:-5000}
	pgt_psql "$name" postgres "CREATE DATABASE clipper_db" >/dev/null
	pgt_psql "$name" clipper_db "
	  CREATE TABLE users (id bigserial PRIMARY KEY, username text NOT NULL UNIQUE, email text NOT NULL,
	                      created_at timestamptz NOT NULL DEFAULT now());
	  CREATE TABLE clips (id bigserial PRIMARY KEY, user_id bigint NOT NULL REFERENCES users(id),
	                      title text NOT NULL, duration_seconds int NOT NULL, views bigint NOT NULL DEFAULT 0,
	                      created_at timestamptz NOT NULL DEFAULT now());
	  INSERT INTO users (username, email) SELECT 'user' || g, 'user' || g || '@example.com' FROM generate_series(1, $users) g;
	  INSERT INTO clips (user_id, title, duration_seconds, views)
	    SELECT 1 + (g % $users), 'clip ' || g, 5 + g % 55, g * 7 % 1000 FROM generate_series(1, $clips) g;" >/dev/null
}

pgt_config() { # FILE ENV DSN STORE [key=value...]
	local file=$1 env=$2 dsn=$3 store=$4; shift 4
	mkdir -p "$(dirname "$file")"
	{
		echo "[env $env]"
		echo "platform = local"
		echo "dsn = $dsn"
		echo "store = $store"
		echo "pg_bindir = $PG_BINDIR"
		for kv in "$@"; do echo "${kv%%=*} = ${kv#*=}"; done
		echo
	} >>"$file"
	chmod 600 "$file"
}
