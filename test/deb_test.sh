#!/usr/bin/env bash
# test/deb_test.sh: the Debian package, built and installed as a user would.
#
# In a copy of a pristine Debian 12 chroot (debootstrap minbase, made once
# and kept in $TEMPO_CHROOT_CACHE, default /var/cache/tempo_fdw, as
# base-bookworm), installs the build dependencies and runs `make deb`; in
# another fresh copy, `apt-get install ./postgresql-15-tempo-fdw_*.deb`
# (the dependencies from Debian), starts a cluster there and runs CREATE
# EXTENSION tempo_fdw and a scan against the simulator, which runs on this
# machine's loopback.  Ends with "N passed, N failed".  Needs root (or sudo).

. "$(dirname "$0")/lib.sh"
if [ "$(id -u)" -ne 0 ]; then exec sudo bash "$0" "$@"; fi
set +e

CACHE=${TEMPO_CHROOT_CACHE:-/var/cache/tempo_fdw}
MIRROR=${TEMPO_DEBIAN_MIRROR:-$(debian_mirror)}
BASE=$CACHE/base-bookworm
ROOTS=""
passed=0
failed=0

unmount_under() {
	awk -v d="$1" '$2 == d || index($2, d "/") == 1 { print $2 }' /proc/mounts | sort -r |
		while read -r m; do umount -l "$m" 2>/dev/null || true; done
}

deb_cleanup() {
	local rc=$? r
	for r in $ROOTS; do
		unmount_under "$r"
		# never remove a tree that still has /dev or /proc mounted in it
		awk -v d="$r" 'index($2, d "/") == 1 { found = 1 } END { exit !found }' /proc/mounts ||
			rm -rf "$r"
	done
	(exit $rc)
	cleanup
}
trap deb_cleanup EXIT

check() {	# description, command...
	local what=$1
	shift
	if "$@"; then
		echo "ok - $what"
		passed=$((passed + 1))
	else
		echo "not ok - $what"
		failed=$((failed + 1))
	fi
}

# The pristine base system, made once (a temporary name until complete).
make_base() {
	[ -e "$BASE/.tempo_fdw_base" ] && return 0
	command -v debootstrap >/dev/null || {
		DEBIAN_FRONTEND=noninteractive apt-get update -qq
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
	}
	mkdir -p "$CACHE"
	unmount_under "$BASE.new"
	rm -rf "$BASE.new"
	log "creating a pristine Debian bookworm chroot in $BASE (debootstrap)"
	debootstrap --variant=minbase bookworm "$BASE.new" "$MIRROR" >"$CACHE/debootstrap-base.log" 2>&1 || {
		tail -n 20 "$CACHE/debootstrap-base.log" >&2
		unmount_under "$BASE.new"
		return 1
	}
	unmount_under "$BASE.new"
	touch "$BASE.new/.tempo_fdw_base"
	mv "$BASE.new" "$BASE"
}

# A fresh copy of the base, mounted and ready for apt-get, in FRESH (not
# through $(...): ROOTS must be kept in this shell, for deb_cleanup).
fresh_root() {
	local r
	r=$(mktemp -d /var/tmp/tempo_fdw_deb.XXXXXX)
	ROOTS="$ROOTS $r"
	FRESH=$r
	cp -a "$BASE/." "$r/"
	printf '#!/bin/sh\nexit 101\n' >"$r/usr/sbin/policy-rc.d"
	chmod 755 "$r/usr/sbin/policy-rc.d"
	cp /etc/resolv.conf "$r/etc/resolv.conf"
	mount -t proc proc "$r/proc"
	mount --bind /dev "$r/dev"
	mount -t tmpfs -o mode=1777 shm "$r/dev/shm"
}

in_root() {	# root, command...
	local r=$1
	shift
	chroot "$r" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
		DEBIAN_FRONTEND=noninteractive "$@" </dev/null
}

ensure_packages || exit 1		# python3 and openssl for the simulator
make_base || exit 1
WORK=$(mktemp -d /tmp/tempo_fdw.XXXXXX)
start_sim || exit 1

log "building the package in a fresh bookworm chroot (make deb)"
fresh_root
b=$FRESH
mkdir "$b/src"
tar -C "$ROOT" --exclude=.git --exclude='*.o' --exclude='*.so' --exclude='*.bc' \
	--exclude=results --exclude=regression.diffs --exclude=regression.out -cf - . | tar -C "$b/src" -xf -
in_root "$b" apt-get update -qq
in_root "$b" apt-get install -y -qq --no-install-recommends build-essential debhelper postgresql-all \
	libcurl4-openssl-dev libcjson-dev >"$WORK/build-deps.log" 2>&1 || tail -n 20 "$WORK/build-deps.log"
in_root "$b" sh -c 'cd /src && make deb' >"$WORK/build.log" 2>&1
build_rc=$?
deb=$(ls "$b"/postgresql-15-tempo-fdw_*.deb 2>/dev/null | head -n 1)
check "make deb builds $(basename "${deb:-postgresql-15-tempo-fdw (none)}")" [ "$build_rc" -eq 0 -a -n "$deb" ]
[ -n "$deb" ] || { tail -n 30 "$WORK/build.log"; echo "$passed passed, $((failed + 3)) failed"; exit 1; }

log "installing it into another fresh bookworm chroot (apt-get install ./...deb)"
fresh_root
r=$FRESH
cp "$deb" "$r/tmp/"
in_root "$r" apt-get update -qq
in_root "$r" sh -c "apt-get install -y -qq ./tmp/$(basename "$deb")" >"$WORK/install.log" 2>&1
check "apt-get install ./$(basename "$deb") resolves its dependencies from Debian (postgresql-15, libcurl, libcjson)" \
	in_root "$r" sh -c 'dpkg -S /usr/lib/postgresql/15/lib/tempo_fdw.so >/dev/null &&
		dpkg -s postgresql-15 libcjson1 >/dev/null 2>&1' ||
	tail -n 20 "$WORK/install.log"

port=$(free_port)
want=$(curl -s "$TEMPO_SIM_URL/_stats?ds=tiny" | python3 -c 'import json,sys; print(json.load(sys.stdin)["count"])')
cat >"$r/tmp/scan.sh" <<SCRIPT
set -e
runuser -u postgres -- /usr/lib/postgresql/15/bin/initdb -D /tmp/pg -U postgres -A trust >/dev/null
runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_ctl -D /tmp/pg -l /tmp/pg.log -w \
	-o "-p $port -k /tmp -c listen_addresses=''" start >/dev/null
psql -XAtq -h /tmp -p $port -U postgres -v ON_ERROR_STOP=1 <<'SQL'
CREATE EXTENSION tempo_fdw;
CREATE SERVER tempo FOREIGN DATA WRAPPER tempo_fdw OPTIONS (tempo_url '$TEMPO_SIM_URL/@tag=deb,ds=tiny/4');
CREATE USER MAPPING FOR PUBLIC SERVER tempo OPTIONS (token 'tempo-test-token');
CREATE SCHEMA tempo;
IMPORT FOREIGN SCHEMA tempo LIMIT TO (worklogs) FROM SERVER tempo INTO tempo;
SELECT extversion || ' ' || count(*) FROM pg_extension, tempo.worklogs WHERE extname = 'tempo_fdw' GROUP BY extversion;
SQL
runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_ctl -D /tmp/pg -m immediate stop >/dev/null
SCRIPT
got=$(in_root "$r" bash /tmp/scan.sh 2>&1 | tail -n 3)
check "CREATE EXTENSION tempo_fdw and a scan in the installed package: [$got], the simulator has $want worklogs" \
	[ "$got" = "$(sed -n "s/^default_version = '\(.*\)'/\1/p" "$ROOT/tempo_fdw.control") $want" ]

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
