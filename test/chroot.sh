#!/usr/bin/env bash
# test/chroot.sh: run a test script against another PostgreSQL major version,
# inside a Debian chroot.
#
#   PG_MAJOR=17 bash test/chroot.sh [script [args...]]   (default test/run_tests.sh)
#
# Debian ships PostgreSQL 15 in bookworm, 17 in trixie and 18 in sid.  The
# chroot of that release is made with debootstrap (installed when missing) on
# first use and kept in $TEMPO_CHROOT_CACHE (default /var/cache/tempo_fdw) as
# chroot-NN; the packages the tests need are installed in it by the script
# itself (test/lib.sh, ensure_packages).  Each run mounts /proc, /dev and a
# fresh /dev/shm in it, bind-mounts this checkout read-only at /src and copies
# it to /build (the build's objects never mix with the host's), runs the
# script there as root with PG_MAJOR set, and unmounts everything on exit.
# The chroot shares the host's network: the cluster and the simulator stay on
# loopback.  One run per chroot at a time (a lock next to it).  Needs root
# (or sudo): debootstrap, mount and chroot do.

set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
M=${PG_MAJOR:?PG_MAJOR must name the PostgreSQL major version: 15, 17 or 18}
case "$M" in
15) SUITE=bookworm ;;
17) SUITE=trixie ;;
18) SUITE=sid ;;
*) echo "test/chroot.sh: no Debian release ships PostgreSQL $M (15: bookworm, 17: trixie, 18: sid)" >&2; exit 2 ;;
esac
CACHE=${TEMPO_CHROOT_CACHE:-/var/cache/tempo_fdw}
. "$ROOT/test/lib.sh"		# debian_mirror
MIRROR=${TEMPO_DEBIAN_MIRROR:-$(debian_mirror)}
CH=$CACHE/chroot-$M

if [ "$(id -u)" -ne 0 ]; then
	exec sudo env PG_MAJOR="$M" TEMPO_CHROOT_CACHE="$CACHE" TEMPO_DEBIAN_MIRROR="$MIRROR" \
		bash "${BASH_SOURCE[0]}" "$@"
fi

log() { printf '%s\n' "== $*" >&2; }

# The base system: debootstrap minbase, no services started, no default
# cluster, no recommended packages.  Made under a temporary name and renamed
# when complete, so an interrupted creation is started again.
make_chroot() {
	[ -x "$CH/usr/bin/apt-get" ] && [ -e "$CH/.tempo_fdw_base" ] && return 0
	command -v debootstrap >/dev/null || {
		log "installing debootstrap"
		DEBIAN_FRONTEND=noninteractive apt-get update -qq
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
	}
	local tmp="$CH.new"
	unmount_all "$tmp"
	rm -rf "$tmp"
	log "creating a Debian $SUITE chroot for PostgreSQL $M in $CH (debootstrap, a few minutes)"
	debootstrap --variant=minbase "$SUITE" "$tmp" "$MIRROR" >"$CACHE/debootstrap-$M.log" 2>&1 || {
		tail -n 20 "$CACHE/debootstrap-$M.log" >&2
		unmount_all "$tmp"
		return 1
	}
	unmount_all "$tmp"
	printf '#!/bin/sh\nexit 101\n' >"$tmp/usr/sbin/policy-rc.d"
	chmod 755 "$tmp/usr/sbin/policy-rc.d"
	mkdir -p "$tmp/etc/postgresql-common"
	echo "create_main_cluster = false" >"$tmp/etc/postgresql-common/createcluster.conf"
	# sid's Release files are valid for a week only; a mirror a little
	# behind (or a clock a little ahead) must not stop the tests
	printf '%s\n' 'APT::Install-Recommends "false";' 'APT::Install-Suggests "false";' \
		'Acquire::Check-Valid-Until "false";' >"$tmp/etc/apt/apt.conf.d/90tempo_fdw"
	touch "$tmp/.tempo_fdw_base"
	mv "$tmp" "$CH"
}

# Unmount whatever is mounted under $1 (deepest first).
unmount_all() {
	local dir
	dir=$(readlink -m "$1")
	awk -v d="$dir" '$2 == d || index($2, d "/") == 1 { print $2 }' /proc/mounts | sort -r |
		while read -r m; do umount -l "$m" 2>/dev/null || true; done
}

cleanup_chroot() {
	local rc=$?
	unmount_all "$CH"
	rm -rf "$CH/build"
	exit $rc
}

mkdir -p "$CACHE"
exec 8>"$CACHE/chroot-$M.lock"
flock 8
make_chroot
trap cleanup_chroot EXIT
unmount_all "$CH"
mount -t proc proc "$CH/proc"
mount --bind /dev "$CH/dev"
mount -t tmpfs -o mode=1777 shm "$CH/dev/shm"
mount -t devpts -o newinstance,ptmxmode=0666 devpts "$CH/dev/pts" 2>/dev/null || true
mkdir -p "$CH/src"
mount --bind "$ROOT" "$CH/src"
mount -o remount,bind,ro "$CH/src"
cp /etc/resolv.conf "$CH/etc/resolv.conf"
rm -rf "$CH/build"
mkdir "$CH/build"
tar -C "$ROOT" --exclude=.git --exclude='*.o' --exclude='*.so' --exclude='*.bc' \
	--exclude=results --exclude=regression.diffs --exclude=regression.out -cf - . |
	tar -C "$CH/build" -xf -

script=${1:-test/run_tests.sh}
[ $# -gt 0 ] && shift
log "PostgreSQL $M in the Debian $SUITE chroot $CH: $script"
set +e
chroot "$CH" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	HOME=/root LANG=C.UTF-8 PG_MAJOR="$M" TEMPO_IN_CHROOT=1 \
	bash "/build/$script" "$@" </dev/null
rc=$?
set -e
exit $rc
