#!/usr/bin/env bash
# test/bench/cancel.sh: how fast a cancel ends a tempo_fdw wait.
#
#   bash test/bench/cancel.sh            # 100 cancels per phase (about 2 minutes)
#   CANCEL_N=20 bash test/bench/cancel.sh
#
# Builds and installs tempo_fdw, starts a throwaway cluster and the
# simulator on loopback, then test/bench/cancel.py cancels scans waiting for
# an answer, with concurrent requests, in a TCP connect, in a TLS handshake
# and for Retry-After, and prints per phase the median, the 95th percentile
# and the maximum latency from pg_cancel_backend to the scan's ERROR, with
# the 95th percentile against the target of 100 ms (PASS/MISS).  A MISS does
# not fail the run; the exit status is non-zero only when something could
# not be measured.  Everything started is stopped at the end.

. "$(dirname "$0")/../lib.sh"
trap cleanup EXIT

PACKAGES="$PACKAGES python3-psycopg2" ensure_packages
build_and_install
start_cluster
start_sim

# Debian's python3, where apt-get put psycopg2
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
log "measuring (CANCEL_N=${CANCEL_N:-100})"
"$PY" "$ROOT/test/bench/cancel.py"
