#!/usr/bin/env bash
# test/bench/run.sh: the tempo_fdw benchmark, on a fresh Debian 12 machine too.
#
#   bash test/bench/run.sh               # full run (3 repetitions, up to 1,000,000 rows)
#   BENCH_QUICK=1 bash test/bench/run.sh # smoke run (1 repetition, no 1,000,000 rows)
#
# Installs what is missing (test/lib.sh's packages plus python3-requests and
# python3-psycopg2), builds and installs tempo_fdw, starts a throwaway cluster
# and the simulator on loopback, builds test/bench/bound.c, then
# test/bench/bench.py measures tempo_fdw, the Python baseline and the
# fetch-and-parse bound against the same simulated pages and prints a table
# and the project's targets with PASS/MISS.  A MISS does not fail the run:
# the exit status is non-zero only when something could not be measured.
# Everything started is stopped at the end.

. "$(dirname "$0")/../lib.sh"
trap cleanup EXIT

PACKAGES="$PACKAGES python3-requests python3-psycopg2" ensure_packages
build_and_install
start_cluster
# the 1,000,000-row pages alone take ~0.8 GB (plain and gzip): room for every dataset
start_sim --cache-mb 3072

log "building test/bench/bound"
gcc -O2 -Wall -Wextra -o "$WORK/bound" "$ROOT/test/bench/bound.c" -lcurl -lcjson

# The machine, for the header of the table.
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
mem=$(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
commit=$(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo unknown)
BENCH_INFO="machine: $(nproc) CPUs, ${cpu:-unknown CPU}, $mem RAM, $(uname -sr)
libraries: $("$WORK/bound" --version)
tempo_fdw: $commit
simulator: $TEMPO_SIM_URL (loopback), gen dataset, page_size 5000, max_requests_per_second 0"

# Debian's python3, where apt-get put requests and psycopg2 (a python3 earlier
# in PATH, e.g. pyenv's, would not see them).
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

log "measuring (BENCH_QUICK=${BENCH_QUICK:-0})"
BENCH_BOUND="$WORK/bound" BENCH_INFO="$BENCH_INFO" PGDATABASE=tempo_test \
	"$PY" "$ROOT/test/bench/bench.py"
