#!/usr/bin/env bash
# test/pm_death.sh: a backend whose scan waits for an answer exits at once
# when the postmaster dies (its wait watches postmaster death, not only the
# interrupt flags: no signal tells a backend that the postmaster is gone).
# Starts a cluster of its own (the suite's must live on); needs
# TEMPO_SIM_URL of a running simulator and tempo_fdw installed.  Prints
# "ok - ..." or "not ok - ..." and exits 0 or 1.
. "$(dirname "$0")/lib.sh"
backend=""
# (cleanup reads the exit status: kept through the kill)
trap 'rc=$?; [ -z "$backend" ] || kill -KILL "$backend" 2>/dev/null; (exit $rc); cleanup' EXIT

start_cluster >/dev/null 2>&1
psql -qX -v ON_ERROR_STOP=1 -d tempo_test -v u="$TEMPO_SIM_URL/@tag=pmd,fault=hang,slow_ms=30000/4" <<'SQL' >/dev/null
CREATE EXTENSION tempo_fdw;
CREATE SERVER pmd FOREIGN DATA WRAPPER tempo_fdw
  OPTIONS (tempo_url :'u', max_requests_per_second '0', timeout_ms '60000', max_retries '0');
CREATE USER MAPPING FOR PUBLIC SERVER pmd OPTIONS (token 'tempo-test-token');
CREATE FOREIGN TABLE pmd_w (worklog_id bigint) SERVER pmd OPTIONS (resource 'worklogs');
SQL
psql -qX -d tempo_test -c "SELECT count(*) FROM pmd_w" >/dev/null 2>&1 &
for _ in $(seq 1 100); do
	backend=$(psql -qXAt -d tempo_test -c "SELECT pid FROM pg_stat_activity WHERE query = 'SELECT count(*) FROM pmd_w' AND wait_event_type = 'Extension'")
	[ -n "$backend" ] && break
	sleep 0.1
done
if [ -z "$backend" ]; then
	echo "not ok - postmaster death: the scan did not start waiting"
	exit 1
fi
sleep 0.3
kill -KILL "$(head -n 1 "$WORK/data/postmaster.pid")"
# alive: exists and is not a zombie (the dead postmaster's children are
# reaped by whoever adopts them, maybe late)
alive() { [ -e "/proc/$1" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null; }
start=$(date +%s%N)
while alive "$backend" && [ $(($(date +%s%N) - start)) -lt 10000000000 ]; do
	sleep 0.01
done
ms=$((($(date +%s%N) - start) / 1000000))
if alive "$backend"; then
	echo "not ok - postmaster death: the waiting backend still runs ${ms} ms after the postmaster died"
	exit 1
fi
backend=""
if [ "$ms" -lt 1000 ]; then
	echo "ok - postmaster death: the waiting backend exited within ${ms} ms"
else
	echo "not ok - postmaster death: the waiting backend took ${ms} ms to exit"
	exit 1
fi
