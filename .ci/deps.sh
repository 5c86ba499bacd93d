# Debian 12 packages pgrescue needs to build and to run its tests. Sourced by
# .ci/run and .ci/demo; installs only what is missing (apt-get as root, or
# through sudo for a normal user).
PGR_BUILD_DEPS="build-essential autoconf automake autoconf-archive pkg-config
  libncurses-dev libpq-dev libcurl4-openssl-dev libcjson-dev libssl-dev libreadline-dev
  libinih-dev libxml2-dev libxxhash-dev postgresql-15 postgresql-client-15"
PGR_TEST_DEPS="libcmocka-dev tmux prometheus prometheus-pushgateway clang-format python3 curl ca-certificates openssl jq xxhash
  swift swift-proxy swift-account swift-container swift-object memcached"

pgr_install_deps() { # pgr_install_deps PACKAGES...
	local missing=() p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	local sudo=""
	if [ "$(id -u)" != 0 ]; then
		command -v sudo >/dev/null || { echo "pgrescue: need root (or sudo) to install: ${missing[*]}" >&2; return 1; }
		sudo=sudo
	fi
	echo "pgrescue: installing ${missing[*]}" >&2
	# A fresh postgresql-15 would create and start a 'main' cluster on 5432: the
	# tests start their own clusters and need none.
	if [ ! -e /etc/postgresql-common/createcluster.d/pgrescue.conf ]; then
		$sudo mkdir -p /etc/postgresql-common/createcluster.d
		echo "create_main_cluster = false" | $sudo tee /etc/postgresql-common/createcluster.d/pgrescue.conf >/dev/null
	fi
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# azurite (the Azure Storage emulator) for tests/integration/azure.sh: from npm,
# pinned: 3.34.0 runs on Node 20 and has --disableTelemetry (3.31 has not; with
# telemetry on, azurite does not stop on SIGTERM), under ~/.cache/pgrescue/npm where
# tests/lib/azurite.sh looks for it.
PGR_AZURITE_VERSION=3.34.0
PGR_NPM_PREFIX="${PGR_NPM_PREFIX:-$HOME/.cache/pgrescue/npm}"
pgr_install_azurite() {
	local bin="$PGR_NPM_PREFIX/node_modules/.bin/azurite-blob"
	[ -x "$bin" ] && [ "$("$bin" --version 2>/dev/null)" = "$PGR_AZURITE_VERSION" ] && return 0
	command -v npm >/dev/null || pgr_install_deps nodejs npm || return 1
	echo "pgrescue: installing azurite $PGR_AZURITE_VERSION from npm into $PGR_NPM_PREFIX" >&2
	mkdir -p "$PGR_NPM_PREFIX" &&
		npm install --prefix "$PGR_NPM_PREFIX" --no-audit --no-fund --omit=dev --loglevel=error \
			"azurite@$PGR_AZURITE_VERSION" >/dev/null
}
