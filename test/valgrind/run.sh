#!/usr/bin/env bash
# test/valgrind/run.sh: the regression suite with every backend under valgrind.
#
#   bash test/valgrind/run.sh          (or: make valgrind)
#
# Like test/run_tests.sh it installs what is missing (here also valgrind),
# builds and installs tempo_fdw and starts the simulator; the throwaway
# cluster is made like test/lib.sh's, but the postmaster runs under valgrind
# memcheck, so every backend it forks (and the background processes) is
# checked, each into a log of its own ($WORK/valgrind/PID.log).  Then
# pg_regress runs sql/ (the slow, timing-bound tests are skipped: valgrind
# makes a backend 20-50 times slower), the cluster is stopped with a fast
# shutdown (each process exits normally, so its leaks are checked), and
# test/valgrind/summarize.py counts the errors: "definitely lost" records
# and invalid reads/writes, all of them and those whose stacks run through
# tempo_fdw (our shared library, our source files, tempo* functions).
#
# Environment:
#   VALGRIND_SKIP  tests left out (default: cancel http_errors fallback concurrency ratelimit)
#   VALGRIND_TESTS tests to run instead of all of sql/ minus VALGRIND_SKIP
#   VALGRIND_OUT   where the logs are kept (default: a new /tmp/tempo_fdw-valgrind.XXXXXX)
#   VALGRIND_EXTRA more valgrind options (e.g. --track-origins=yes, slower)
#
# Exit status: 0 when no error of tempo_fdw's own was found (regression
# failures under valgrind's timing are reported, not counted).

. "$(dirname "$0")/../lib.sh"

PACKAGES="$PACKAGES valgrind"
SKIP="${VALGRIND_SKIP-cancel http_errors fallback concurrency ratelimit}"
OUT="${VALGRIND_OUT:-}"
PM_PID=""

vg_cleanup() {
	local rc=$?
	# the postmaster under valgrind: a fast shutdown, so that every process
	# exits through proc_exit and valgrind checks its leaks
	if [ -n "$PM_PID" ] && kill -0 "$PM_PID" 2>/dev/null; then
		as_pg $PGBIN/pg_ctl -D "$WORK/data" -m fast -t 600 -w stop >/dev/null 2>&1 || true
		wait "$PM_PID" 2>/dev/null || true
	fi
	if [ -n "$OUT" ] && [ -n "$WORK" ] && [ -d "$WORK/valgrind" ]; then
		mkdir -p "$OUT"
		cp -r "$WORK/valgrind" "$WORK/postgres.log" "$OUT/" 2>/dev/null || true
		[ -d "$WORK/regress" ] && cp -r "$WORK/regress" "$OUT/" 2>/dev/null || true
	fi
	(exit $rc)
	cleanup
}
trap vg_cleanup EXIT

ensure_packages
build_and_install

# --- the cluster, as in lib.sh's start_cluster, with the postmaster under valgrind
init_cluster
[ -n "$OUT" ] || OUT=$(mktemp -d /tmp/tempo_fdw-valgrind.XXXXXX)
log "starting PostgreSQL under valgrind on port $PGPORT ($WORK, logs kept in $OUT)"
as_pg mkdir -p "$WORK/valgrind"
cp "$ROOT/test/valgrind/postgres.supp" "$WORK/postgres.supp"
chmod 644 "$WORK/postgres.supp"
# JIT and autovacuum off: less noise, less time.
cat >>"$WORK/data/postgresql.conf" <<CONF
jit = off
autovacuum = off
huge_pages = off
CONF
# --leak-check=full with --show-leak-kinds/--errors-for-leak-kinds=definite
# reports definite leaks only (valgrind has no --leak-check=definite);
# --fullpath-after= prints whole source paths, so our frames are recognisable
# (PostgreSQL has a json.c of its own).
as_pg valgrind --trace-children=yes --leak-check=full --show-leak-kinds=definite \
	--errors-for-leak-kinds=definite --track-origins=no --read-var-info=no --num-callers=30 \
	--fullpath-after= --suppressions="$WORK/postgres.supp" \
	--log-file="$WORK/valgrind/%p.log" ${VALGRIND_EXTRA:-} \
	$PGBIN/postgres -D "$WORK/data" >"$WORK/postgres.log" 2>&1 &
PM_PID=$!
for _ in $(seq 1 600); do
	$PGBIN/pg_isready -q -h "$WORK/sock" -p "$PGPORT" && break
	kill -0 "$PM_PID" 2>/dev/null || { log "the postmaster under valgrind died"; cat "$WORK/postgres.log" >&2; exit 1; }
	sleep 0.5
done
$PGBIN/pg_isready -q -h "$WORK/sock" -p "$PGPORT" || { log "the postmaster did not start"; exit 1; }
use_cluster

start_sim

if [ -n "${VALGRIND_TESTS:-}" ]; then
	tests="$VALGRIND_TESTS"
else
	tests=""
	for f in "$ROOT"/sql/*.sql; do
		t=$(basename "$f" .sql)
		case " $SKIP " in *" $t "*) ;; *) tests="$tests $t" ;; esac
	done
fi
log "pg_regress under valgrind:$tests (skipped: ${SKIP:-none})"
mkdir -p "$WORK/regress"
set +e
make -C "$ROOT" -s installcheck PG_CONFIG=$PGBIN/pg_config REGRESS="$tests" \
	EXTRA_REGRESS_OPTS="--outputdir=$WORK/regress" >"$WORK/regress.out" 2>&1
set -e
cat "$WORK/regress.out"
cp "$WORK/regress.out" "$OUT/" 2>/dev/null || true

log "stopping the cluster (fast shutdown: leak checks run at each process's exit)"
kill "$SIM_PID" 2>/dev/null || true
SIM_PID=""
as_pg $PGBIN/pg_ctl -D "$WORK/data" -m fast -t 600 -w stop >/dev/null
wait "$PM_PID" 2>/dev/null || true
PM_PID=""

log "valgrind summary ($(ls "$WORK/valgrind" | wc -l) process logs)"
mkdir -p "$OUT"
cp -r "$WORK/valgrind" "$WORK/postgres.log" "$OUT/"
[ -d "$WORK/regress" ] && cp -r "$WORK/regress" "$OUT/"
set +e
python3 "$ROOT/test/valgrind/summarize.py" --root "$ROOT" --report "$OUT/report.txt" "$OUT"/valgrind/*.log
rc=$?
set -e
log "logs and the full report: $OUT"
exit $rc
