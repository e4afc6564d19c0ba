#!/usr/bin/env bash
# test/equivalence.sh: the long run of test/equivalence.py, apart from the test command.
#
#   bash test/equivalence.sh [COUNT [SEED]]
#
# Builds and installs tempo_fdw, starts a throwaway cluster and the simulator (as
# test/run_tests.sh does), and compares COUNT random queries (default 4000) with pushdown on
# and off, with SEED or a random one, printed so that a failure can be run again.
. "$(dirname "$0")/lib.sh"
trap cleanup EXIT
count=${1:-4000}
seed=${2:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
ensure_packages
build_and_install
start_cluster
start_sim
log "equivalence: $count random queries, seed $seed"
/usr/bin/python3 "$ROOT/test/equivalence.py" --seed "$seed" --count "$count" --show 30
