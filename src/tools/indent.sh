#!/usr/bin/env bash
# src/tools/indent.sh: format the C sources as PostgreSQL's own (pgindent),
# with PostgreSQL's typedefs and ours (src/tools/typedefs.list).  `make indent`.
#
# pgindent and pg_bsd_indent ship with PostgreSQL 17 and later (Debian:
# postgresql-server-dev-17/18); PostgreSQL 15's package has neither.  So:
# with both on PATH (or PGINDENT_DIR naming their directory) they are used
# as they are; otherwise they are taken from the Debian chroot of PostgreSQL
# 18 or 17 that `PG_MAJOR=18 bash test/chroot.sh` keeps (TEMPO_CHROOT_CACHE,
# default /var/cache/tempo_fdw): the files are copied in, formatted there and
# copied back.  The project's typedefs are listed by hand: add a line when
# you add a typedef (pgindent formats an unknown one as an expression).
#
#   bash src/tools/indent.sh [file.c ...]   (default: tempo_fdw.c src/*.[ch])
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
if [ $# -eq 0 ]; then
	set -- tempo_fdw.c src/*.c src/*.h
fi
OURS=src/tools/typedefs.list

run_indent() {		# run_indent BINDIR TYPEDEFS_SYSTEM_FILE FILE...
	local bin=$1 sys=$2
	shift 2
	local all
	all=$(mktemp)
	cat "$sys" "$ROOT/$OURS" | sort -u >"$all"
	"$bin/pgindent" --indent="$bin/pg_bsd_indent" --typedefs="$all" "$@"
	rm -f "$all"
}

DIR=${PGINDENT_DIR:-$(dirname "$(command -v pgindent 2>/dev/null || echo /nonexistent/x)")}
if [ -x "$DIR/pgindent" ] && [ -x "$DIR/pg_bsd_indent" ]; then
	SYS=$(ls /usr/share/postgresql/*/typedefs.list 2>/dev/null | sort -V | tail -n 1)
	[ -n "$SYS" ] || { echo "indent.sh: no typedefs.list of PostgreSQL found" >&2; exit 1; }
	run_indent "$DIR" "$SYS" "$@"
	exit 0
fi

CACHE=${TEMPO_CHROOT_CACHE:-/var/cache/tempo_fdw}
for M in 18 17; do
	CH=$CACHE/chroot-$M
	BIN=/usr/lib/postgresql/$M/bin
	[ -x "$CH$BIN/pgindent" ] && [ -x "$CH$BIN/pg_bsd_indent" ] || continue
	[ "$(id -u)" -eq 0 ] || { echo "indent.sh: the chroot needs root" >&2; exit 1; }
	WORK=$(mktemp -d "$CH/tmp/indent.XXXXXX")
	trap 'rm -rf "$WORK"' EXIT
	for f in "$@"; do
		mkdir -p "$WORK/$(dirname "$f")"
		cp "$f" "$WORK/$f"
	done
	cp "$OURS" "$WORK/ours.list"
	IN=${WORK#"$CH"}
	chroot "$CH" /bin/sh -c "cd $IN && cat /usr/share/postgresql/$M/typedefs.list ours.list | sort -u >all.list &&
		$BIN/pgindent --indent=$BIN/pg_bsd_indent --typedefs=all.list $*"
	for f in "$@"; do
		cmp -s "$WORK/$f" "$f" || cp "$WORK/$f" "$f"
	done
	exit 0
done
echo "indent.sh: no pgindent found: install postgresql-server-dev-17 or -18 (they ship it)," >&2
echo "  or make the chroot once: PG_MAJOR=18 bash test/chroot.sh test/lib.sh" >&2
exit 1
