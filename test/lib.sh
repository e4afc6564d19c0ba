# test/lib.sh: shared by run_tests.sh, demo.sh and the benchmarks.
#
# Installs what is missing (Debian packages), builds and installs tempo_fdw,
# and starts a throwaway PostgreSQL cluster and the Tempo/Jira simulator on
# free loopback ports.  Everything started is stopped by cleanup (trap).
# PostgreSQL refuses to run as root, so as root the cluster runs as the
# unprivileged system user "tempo_fdw_test".
#
# PG_MAJOR (default 15) picks the PostgreSQL major version.  When this
# machine's Debian release does not ship it, in_chroot_if_needed runs the
# calling script again inside a Debian chroot of a release that does
# (test/chroot.sh: 17 in trixie, 18 in sid).

set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PG_MAJOR=${PG_MAJOR:-15}
PGBIN=/usr/lib/postgresql/$PG_MAJOR/bin
PACKAGES="make gcc python3 curl ca-certificates openssl postgresql-$PG_MAJOR
  postgresql-server-dev-$PG_MAJOR libcurl4-openssl-dev libcjson-dev python3-psycopg2"
# Installed when the Debian release has them; the tests that need one are
# skipped, and say so, when it does not (have_pgtap, have_cron, have_fuzz).
# The fuzzer is built with clang-14, which only bookworm (PostgreSQL 15) has.
OPTIONAL_PACKAGES="postgresql-$PG_MAJOR-pgtap libtap-parser-sourcehandler-pgtap-perl
  postgresql-$PG_MAJOR-cron"
[ "$PG_MAJOR" = 15 ] && OPTIONAL_PACKAGES="$OPTIONAL_PACKAGES clang-14 libclang-rt-14-dev"
WORK=""
SIM_PID=""

log() { printf '%s\n' "== $*" >&2; }

as_root() {
	if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# Run the calling script ("$0") in a chroot when PostgreSQL $PG_MAJOR is
# neither installed here nor the one this machine's Debian release ships (or
# when TEMPO_CHROOT=1).
in_chroot_if_needed() {
	local codename
	[ -n "${TEMPO_IN_CHROOT:-}" ] && return 0
	if [ -z "${TEMPO_CHROOT:-}" ]; then
		[ -x "$PGBIN/pg_config" ] && return 0
		codename=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")
		case "$PG_MAJOR:$codename" in
		15:bookworm | 17:trixie | 18:sid) return 0 ;;
		esac
	fi
	exec bash "$ROOT/test/chroot.sh" "test/$(basename "$0")" "$@"
}

installed() {
	[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]
}

have_pgtap() { installed "postgresql-$PG_MAJOR-pgtap" && installed libtap-parser-sourcehandler-pgtap-perl; }
have_cron() { installed "postgresql-$PG_MAJOR-cron"; }
have_fuzz() { installed clang-14 && installed libclang-rt-14-dev; }

# Install the Debian packages that are missing (no-op when all are there);
# of the optional ones, those this Debian release has.
ensure_packages() {
	local missing="" optional="" p
	for p in $PACKAGES; do
		installed "$p" || missing="$missing $p"
	done
	for p in $OPTIONAL_PACKAGES; do
		installed "$p" || optional="$optional $p"
	done
	[ -z "$missing$optional" ] && return 0
	# no default cluster on port 5432: we start our own
	if [ ! -e /etc/postgresql-common/createcluster.conf ]; then
		as_root mkdir -p /etc/postgresql-common
		echo "create_main_cluster = false" | as_root tee /etc/postgresql-common/createcluster.conf >/dev/null
	fi
	as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
	for p in $optional; do
		if [ -n "$(apt-cache policy "$p" 2>/dev/null | sed -n 's/^ *Candidate: \([0-9]\)/\1/p')" ]; then
			missing="$missing $p"
		else
			log "not in this Debian release: $p (the tests that need it are skipped)"
		fi
	done
	[ -z "$missing" ] && return 0
	log "installing:$missing"
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		-o Dpkg::Options::=--force-confold $missing >/dev/null
}

# Build with warnings as errors and install into the PostgreSQL tree.
build_and_install() {
	# one run at a time per machine: the extension is installed into the one
	# PostgreSQL tree, so two checkouts testing at once would swap libraries
	exec 9>/tmp/tempo_fdw_install.lock
	flock 9
	log "building tempo_fdw"
	make -C "$ROOT" -s COPT=-Werror PG_CONFIG=$PGBIN/pg_config >/dev/null
	# scripts another checkout installed (an install script of a version
	# this one builds from updates) would be taken by CREATE EXTENSION
	as_root find "$($PGBIN/pg_config --sharedir)/extension" -maxdepth 1 \
		-name 'tempo_fdw--*' -delete
	as_root make -C "$ROOT" -s install PG_CONFIG=$PGBIN/pg_config >/dev/null
}

# The Debian archive this machine's apt uses (for debootstrap), read from its
# sources rather than written here.
debian_mirror() {
	{
		sed -n 's/^URIs:[[:space:]]*//p' /etc/apt/sources.list.d/*.sources 2>/dev/null
		sed -n 's/^deb[[:space:]]\+\(\[[^]]*\][[:space:]]\+\)\?\([^[:space:]]*\).*/\2/p' \
			/etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null
	} | tr ' ' '\n' | grep -E '/debian/?$' | head -n 1 || true
}

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Run a command as the cluster's owner.
as_pg() {
	if [ "$(id -u)" -eq 0 ]; then runuser -u tempo_fdw_test -- "$@"; else "$@"; fi
}

# A fresh, configured data directory (pg_cron and tempo_fdw preloaded, the
# rate budget in shared memory); sets WORK and PGPORT.  Extra settings can be
# appended to "$WORK/data/postgresql.conf" before the cluster starts.
init_cluster() {
	WORK=$(mktemp -d /tmp/tempo_fdw.XXXXXX)
	chmod 755 "$WORK"
	if [ "$(id -u)" -eq 0 ]; then
		id tempo_fdw_test >/dev/null 2>&1 ||
			useradd --system --no-create-home --shell /usr/sbin/nologin tempo_fdw_test
		chown tempo_fdw_test "$WORK"
	fi
	PGPORT=$(free_port)
	as_pg $PGBIN/initdb -D "$WORK/data" -U postgres -A trust --no-sync -E UTF8 --locale=C.UTF-8 >/dev/null
	mkdir -p "$WORK/sock" && { [ "$(id -u)" -ne 0 ] || chown tempo_fdw_test "$WORK/sock"; }
	cat >>"$WORK/data/postgresql.conf" <<CONF
port = $PGPORT
listen_addresses = ''
unix_socket_directories = '$WORK/sock'
shared_preload_libraries = '$(have_cron && printf 'pg_cron, ')tempo_fdw'
cron.database_name = 'tempo_test'
cron.use_background_workers = on
max_worker_processes = 16
fsync = off
log_min_messages = ${TEMPO_LOG_MIN_MESSAGES:-warning}
timezone = 'UTC'
CONF
}

# Point psql at the running cluster and make the tests' database.
use_cluster() {
	export PGHOST="$WORK/sock" PGPORT PGUSER=postgres PGDATABASE=postgres
	psql -qX -c "CREATE DATABASE tempo_test" >/dev/null
}

# A fresh cluster, started; exports PGHOST, PGPORT, PGUSER.
start_cluster() {
	init_cluster
	log "starting PostgreSQL on port $PGPORT ($WORK)"
	# an https proxy that does not work: tempo_fdw must ignore the environment's
	# (the https tests prove it; not http_proxy: tests run curl from the server)
	# (without the install lock's descriptor: a server left running must not
	# hold the lock for the runs after it)
	as_pg env https_proxy=http://127.0.0.1:9 HTTPS_PROXY=http://127.0.0.1:9 \
		$PGBIN/pg_ctl -D "$WORK/data" -l "$WORK/postgres.log" -w start >/dev/null 9>&-
	use_cluster
}

# The simulator; exports TEMPO_SIM_URL (http://127.0.0.1:PORT, no slash) and
# TEMPO_SIM_TLS_URL (https://127.0.0.1:PORT, the same simulator behind TLS with a
# throwaway self-signed certificate for 127.0.0.1, made here; see sql/tls.sql).
start_sim() {
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
		-addext subjectAltName=IP:127.0.0.1 \
		-keyout "$WORK/sim-key.pem" -out "$WORK/sim-cert.pem" >/dev/null 2>&1 ||
		{ log "openssl could not make the simulator's certificate"; return 1; }
	python3 "$ROOT/test/tempo_sim" --port 0 --port-file "$WORK/sim.port" \
		--tls-port-file "$WORK/sim-tls.port" --tls-cert "$WORK/sim-cert.pem" \
		--tls-key "$WORK/sim-key.pem" "$@" >"$WORK/sim.log" 2>&1 9>&- &
	SIM_PID=$!
	for _ in $(seq 1 300); do
		[ -s "$WORK/sim.port" ] && break
		kill -0 "$SIM_PID" 2>/dev/null || { cat "$WORK/sim.log" >&2; return 1; }
		sleep 0.1
	done
	[ -s "$WORK/sim.port" ] || { log "the simulator did not start"; return 1; }
	export TEMPO_SIM_URL="http://127.0.0.1:$(cat "$WORK/sim.port")"
	export TEMPO_SIM_TLS_URL="https://127.0.0.1:$(cat "$WORK/sim-tls.port")"
	log "simulator at $TEMPO_SIM_URL and $TEMPO_SIM_TLS_URL"
}

cleanup() {
	local rc=$?
	[ -n "$SIM_PID" ] && kill "$SIM_PID" 2>/dev/null || true
	if [ -n "$WORK" ] && [ -d "$WORK/data" ]; then
		as_pg $PGBIN/pg_ctl -D "$WORK/data" -m immediate -w stop >/dev/null 2>&1 || true
	fi
	if [ -n "$WORK" ]; then
		if [ "$rc" -ne 0 ] && [ -f "$WORK/postgres.log" ]; then
			log "last lines of the server log:"
			tail -n 30 "$WORK/postgres.log" >&2 || true
		fi
		rm -rf "$WORK"
	fi
	exit $rc
}
