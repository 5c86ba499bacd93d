# A throwaway OpenStack Swift on loopback with the s3api and tempauth
# middleware (Debian's swift packages): proxy, account, container and object
# servers, rings built in a temp directory, objects on a temp directory.
# This is the S3 server that really checks SigV4 signatures.
#   swift_start DIR            start everything under DIR (with encryption at
#                              rest unless SWIFT_ENCRYPT=0); waits for every
#                              /healthcheck; sets SWIFT_URL (the S3 endpoint,
#                              http://127.0.0.1:PORT), SWIFT_PORT, SWIFT_KEY,
#                              SWIFT_SECRET (tempauth's "test:tester"), SWIFT_DIR
#   swift_stop                 stop the servers (also on EXIT when started
#                              through swift_trap_cleanup)
#   swift_proxy_pid            the proxy's pid (for tests that kill it)
#   swift_token                a Swift (native API) token for test:tester, for
#                              fast bulk set-up, in SWIFT_TOKEN and SWIFT_STORAGE_URL
# A server that cannot start is a failure (Bail out), never a skip.

SWIFT_PIDS=""

swift_free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

swift_stop() {
	local p
	for p in $SWIFT_PIDS; do
		kill "$p" 2>/dev/null
	done
	for p in $SWIFT_PIDS; do
		for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$p" 2>/dev/null
	done
	SWIFT_PIDS=""
}

swift_proxy_pid() { cat "$SWIFT_DIR/run/proxy.pid"; }

# swift_conf NAME PORT APP_USE [extra DEFAULT lines...]
_swift_server_conf() {
	local name=$1 port=$2 app=$3
	cat >"$SWIFT_DIR/etc/$name-server.conf" <<EOF
[DEFAULT]
bind_ip = 127.0.0.1
bind_port = $port
workers = 0
user = $(id -un)
swift_dir = $SWIFT_DIR/etc
devices = $SWIFT_DIR/srv
mount_check = false
log_name = swift-$name
log_level = WARNING
log_address = $SWIFT_DIR/run/nolog
eventlet_debug = false
disable_fallocate = true

[pipeline:main]
pipeline = healthcheck $name-server

[app:$name-server]
use = egg:swift#$app

[filter:healthcheck]
use = egg:swift#healthcheck
EOF
}

_swift_wait_health() { # URL NAME PIDFILE LOG
	local url=$1 name=$2 pid=$3 log=$4
	for _ in $(seq 150); do
		if curl -sf -m 2 "$url/healthcheck" >/dev/null 2>&1; then
			return 0
		fi
		if ! kill -0 "$pid" 2>/dev/null; then
			sed 's/^/# /' "$log" | tail -30
			bail_out "swift $name server exited during start (log above)"
		fi
		sleep 0.2
	done
	sed 's/^/# /' "$log" | tail -30
	bail_out "swift $name server did not answer $url/healthcheck within 30 s"
}

swift_start() { # DIR
	SWIFT_DIR=$1
	local b
	for b in swift-ring-builder swift-proxy-server swift-account-server swift-container-server swift-object-server; do
		command -v "$b" >/dev/null || bail_out "$b not found (install swift swift-proxy swift-account swift-container swift-object)"
	done
	mkdir -p "$SWIFT_DIR/etc" "$SWIFT_DIR/srv/d1" "$SWIFT_DIR/run"
	local hash
	hash=$(od -An -N8 -tx8 /dev/urandom | tr -d ' ')
	cat >"$SWIFT_DIR/etc/swift.conf" <<EOF
[swift-hash]
swift_hash_path_suffix = s$hash
swift_hash_path_prefix = p$hash

[storage-policy:0]
name = Policy-0
default = yes
EOF
	command -v memcached >/dev/null || bail_out "memcached not found (install memcached: tempauth keeps its tokens there)"
	local acct cont obj proxy mc
	acct=$(swift_free_port) cont=$(swift_free_port) obj=$(swift_free_port) proxy=$(swift_free_port)
	mc=$(swift_free_port)
	local ring port
	for ring in account:$acct container:$cont object:$obj; do
		port=${ring#*:}
		ring=${ring%%:*}
		{
			swift-ring-builder "$SWIFT_DIR/etc/$ring.builder" create 6 1 1 &&
				swift-ring-builder "$SWIFT_DIR/etc/$ring.builder" add \
					--region 1 --zone 1 --ip 127.0.0.1 --port "$port" --device d1 --weight 100 &&
				swift-ring-builder "$SWIFT_DIR/etc/$ring.builder" rebalance
		} >"$SWIFT_DIR/run/ring-$ring.log" 2>&1 ||
			{ sed 's/^/# /' "$SWIFT_DIR/run/ring-$ring.log"; bail_out "swift-ring-builder failed for the $ring ring"; }
	done
	_swift_server_conf account "$acct" account
	_swift_server_conf container "$cont" container
	_swift_server_conf object "$obj" object
	# Encryption at rest, so that s3api accepts x-amz-server-side-encryption:
	# AES256; SWIFT_ENCRYPT=0 leaves it out (it costs the proxy CPU per byte).
	local crypto="keymaster encryption"
	[ "${SWIFT_ENCRYPT:-1}" = 0 ] && crypto=""
	SWIFT_KEY="test:tester"
	SWIFT_SECRET="testing-$(od -An -N6 -tx1 /dev/urandom | tr -d ' ')"
	cat >"$SWIFT_DIR/etc/proxy-server.conf" <<EOF
[DEFAULT]
bind_ip = 127.0.0.1
bind_port = $proxy
workers = 0
user = $(id -un)
swift_dir = $SWIFT_DIR/etc
log_name = swift-proxy
log_level = WARNING
log_address = $SWIFT_DIR/run/nolog

[pipeline:main]
pipeline = catch_errors gatekeeper healthcheck proxy-logging cache listing_formats bulk s3api tempauth copy slo dlo $crypto proxy-logging proxy-server

[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true
conn_timeout = 2
node_timeout = 30
recoverable_node_timeout = 30

[filter:tempauth]
use = egg:swift#tempauth
user_test_tester = $SWIFT_SECRET .admin
reseller_prefix = AUTH
token_life = 86400

[filter:s3api]
use = egg:swift#s3api
location = us-east-1
storage_domain = localhost
s3_acl = false
max_bucket_listing = 1000
min_segment_size = 5242880

[filter:cache]
use = egg:swift#memcache
memcache_servers = 127.0.0.1:$mc

[filter:catch_errors]
use = egg:swift#catch_errors
[filter:gatekeeper]
use = egg:swift#gatekeeper
[filter:healthcheck]
use = egg:swift#healthcheck
[filter:proxy-logging]
use = egg:swift#proxy_logging
[filter:listing_formats]
use = egg:swift#listing_formats
[filter:bulk]
use = egg:swift#bulk
max_containers_per_extraction = 10
max_failed_extractions = 100
max_deletes_per_request = 100000
yield_frequency = 10
[filter:keymaster]
use = egg:swift#keymaster
encryption_root_secret = $(head -c 32 /dev/urandom | base64)
[filter:encryption]
use = egg:swift#encryption
[filter:copy]
use = egg:swift#copy
[filter:slo]
use = egg:swift#slo
[filter:dlo]
use = egg:swift#dlo
EOF
	trap 'swift_stop; pgt_cleanup 2>/dev/null' EXIT
	local s
	memcached -l 127.0.0.1 -p "$mc" -U 0 -m 64 -u "$(id -un)" >"$SWIFT_DIR/run/memcached.log" 2>&1 &
	echo $! >"$SWIFT_DIR/run/memcached.pid"
	SWIFT_PIDS="$SWIFT_PIDS $!"
	for s in account:$acct container:$cont object:$obj proxy:$proxy; do
		port=${s#*:}
		s=${s%%:*}
		"swift-$s-server" "$SWIFT_DIR/etc/$s-server.conf" >"$SWIFT_DIR/run/$s.log" 2>&1 &
		echo $! >"$SWIFT_DIR/run/$s.pid"
		SWIFT_PIDS="$SWIFT_PIDS $!"
	done
	for s in account:$acct container:$cont object:$obj proxy:$proxy; do
		port=${s#*:}
		s=${s%%:*}
		_swift_wait_health "http://127.0.0.1:$port" "$s" "$(cat "$SWIFT_DIR/run/$s.pid")" "$SWIFT_DIR/run/$s.log"
	done
	SWIFT_PORT=$proxy
	SWIFT_URL="http://127.0.0.1:$proxy"
}

swift_token() {
	local h
	h=$(curl -sf -D - -o /dev/null -m 10 -H "X-Auth-User: $SWIFT_KEY" -H "X-Auth-Key: $SWIFT_SECRET" \
		"$SWIFT_URL/auth/v1.0") || bail_out "cannot get a Swift token from tempauth"
	SWIFT_TOKEN=$(printf '%s' "$h" | tr -d '\r' | sed -n 's/^[Xx]-[Aa]uth-[Tt]oken: //p')
	SWIFT_STORAGE_URL=$(printf '%s' "$h" | tr -d '\r' | sed -n 's/^[Xx]-[Ss]torage-[Uu]rl: //p')
	[ -n "$SWIFT_TOKEN" ] || bail_out "tempauth gave no token"
}
