#!/usr/bin/env bash
# test/run_tests.sh: the whole test suite, on a fresh Debian machine too.
#
# Installs missing packages (apt-get, as root or through sudo), builds with
# -Werror, installs, starts a throwaway cluster (pg_cron preloaded) and the
# simulator on free loopback ports, runs pg_regress (sql/, expected/) and
# pgTAP (test/pgtap/), stops everything and ends with "N passed, N failed".
# Exit status: 0 only when nothing failed.
#
# PG_MAJOR=17 or PG_MAJOR=18 runs the same suite against that PostgreSQL
# major version, in a Debian chroot made and cached by test/chroot.sh.

. "$(dirname "$0")/lib.sh"
in_chroot_if_needed "$@"
trap cleanup EXIT

ensure_packages
build_and_install
start_cluster
start_sim

passed=0
failed=0

log "simulator self-test (it must follow the reference APIs)"
set +e
python3 "$ROOT/test/sim_selftest.py" >"$WORK/selftest.out" 2>&1
set -e
sed -n "s/^\([0-9]*\) passed, \([0-9]*\) failed.*/simulator self-test: \1 ok, \2 failing/p" "$WORK/selftest.out"
ok=$(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed.*/\1/p' "$WORK/selftest.out" | tail -n 1)
bad=$(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed.*/\2/p' "$WORK/selftest.out" | tail -n 1)
if [ -z "$ok" ]; then cat "$WORK/selftest.out"; ok=0; bad=1; fi
passed=$((passed + ok))
failed=$((failed + bad))

log "pg_regress"
set +e
make -C "$ROOT" -s installcheck PG_CONFIG=$PGBIN/pg_config >"$WORK/regress.out" 2>&1
regress_rc=$?
set -e
cat "$WORK/regress.out"
# "test ... ok" up to 15, "ok 1 - test" (TAP) from 16 on
ok=$(grep -cE '\.\.\. ok|^ok [0-9]+ ' "$WORK/regress.out" || true)
bad=$(grep -cE '\.\.\. FAILED|\.\.\. failed|^not ok [0-9]+ ' "$WORK/regress.out" || true)
passed=$((passed + ok))
failed=$((failed + bad))
if [ "$regress_rc" -ne 0 ] && [ "$bad" -eq 0 ]; then failed=$((failed + 1)); fi
[ -f "$ROOT/regression.diffs" ] && [ "$bad" -gt 0 ] && cat "$ROOT/regression.diffs"

log "make installcheck on its own (no simulator): it must stop at once and say what to run"
set +e
alone=$(env -u TEMPO_SIM_URL make -C "$ROOT" -s installcheck PG_CONFIG=$PGBIN/pg_config 2>&1)
alone_rc=$?
set -e
if [ "$alone_rc" -ne 0 ] && grep -q "bash test/run_tests.sh" <<<"$alone" &&
	! grep -qE '^(ok|not ok) [0-9]|\.\.\. ' <<<"$alone"; then
	echo "ok - make installcheck without the simulator stops before any test and names the test command"
	passed=$((passed + 1))
else
	echo "not ok - make installcheck without the simulator (exit $alone_rc):"
	printf '%s\n' "$alone" | head -5
	failed=$((failed + 1))
fi

log "pgTAP"
if have_pgtap; then
	pgtap_files=$(ls "$ROOT"/test/pgtap/*.sql)
	if ! have_cron; then
		echo "skipped - test/pgtap/refresh.sql: Debian has no postgresql-$PG_MAJOR-cron"
		pgtap_files=$(echo "$pgtap_files" | grep -v '/refresh\.sql$')
	fi
	psql -qX -d tempo_test -c "CREATE EXTENSION IF NOT EXISTS pgtap" >/dev/null
	set +e
	# shellcheck disable=SC2086
	pg_prove -d tempo_test --ext .sql $pgtap_files >"$WORK/pgtap.out" 2>&1
	pgtap_rc=$?
	set -e
	cat "$WORK/pgtap.out"
	total=$(sed -n 's/^Files=[0-9]*, Tests=\([0-9]*\),.*/\1/p' "$WORK/pgtap.out")
	sub=$(sed -n 's/.*Failed \([0-9]*\)\/[0-9]* subtests.*/\1/p' "$WORK/pgtap.out" | awk '{s+=$1} END {print s+0}')
	total=${total:-0}
	sub=${sub:-0}
	passed=$((passed + total - sub))
	failed=$((failed + sub))
	if [ "$pgtap_rc" -ne 0 ] && [ "$sub" -eq 0 ]; then failed=$((failed + 1)); fi
else
	echo "skipped - test/pgtap: Debian has no postgresql-$PG_MAJOR-pgtap or pg_prove"
fi

log "pushdown equivalence: random queries with pushdown on and off (fixed seed; test/equivalence.sh runs more)"
set +e
/usr/bin/python3 "$ROOT/test/equivalence.py" --seed 20261201 --count 400 >"$WORK/equiv.out" 2>&1
set -e
grep -v '^[0-9]* passed, [0-9]* failed' "$WORK/equiv.out" || true
ok=$(grep -c '^ok - ' "$WORK/equiv.out" || true)
bad=$(grep -c '^not ok - ' "$WORK/equiv.out" || true)
if [ "$ok" -eq 0 ] && [ "$bad" -eq 0 ]; then bad=1; fi
passed=$((passed + ok))
failed=$((failed + bad))

log "pg_dump and restore of contracts"
if bash "$ROOT/test/dump_restore.sh"; then passed=$((passed + 1)); else failed=$((failed + 1)); fi

log "README.md's Installation SQL, as written"
if HAVE_CRON=$(have_cron && echo 1 || echo 0) bash "$ROOT/test/readme_install.sh"; then
	passed=$((passed + 1))
else
	failed=$((failed + 1))
fi
log "pg_restore of time accounts during a Tempo outage takes no fallback rows"
if bash "$ROOT/test/dump_restore_fallback.sh"; then passed=$((passed + 1)); else failed=$((failed + 1)); fi

log "no credential left in a backend's memory after its statements"
if bash "$ROOT/test/token_memory.sh"; then passed=$((passed + 1)); else failed=$((failed + 1)); fi

log "postmaster death ends a waiting scan at once"
if bash "$ROOT/test/pm_death.sh"; then passed=$((passed + 1)); else failed=$((failed + 1)); fi

log "secrets in the server log"
# sql/security.sql logs at debug5; no token may reach the log, in any form
secrets="tempo-test-token|jira-test-token|$(printf 'bot@example.com:jira-test-token' | base64)"
if grep -qE "$secrets" "$WORK/postgres.log"; then
	echo "not ok - the server log holds a token:"
	grep -nE "$secrets" "$WORK/postgres.log" | sed -E "s/$secrets/<SECRET>/g" | head -5
	failed=$((failed + 1))
elif ! grep -q "DEBUG:" "$WORK/postgres.log"; then
	echo "not ok - the server log holds no debug lines: the check above proves nothing"
	failed=$((failed + 1))
else
	echo "ok - no token in $(wc -l <"$WORK/postgres.log") lines of server log (debug5 during sql/security.sql)"
	passed=$((passed + 1))
fi

log "clang: the project's C compiles warning-free under clang too (-Wall -Wextra -Werror)"
if ! have_fuzz; then
	echo "skipped - clang check: clang-14 is only in bookworm (the PostgreSQL 15 run checks)"
elif clang_out=$(make -C "$ROOT" -s clang-check CLANG=clang-14 PG_CONFIG=$PGBIN/pg_config 2>&1); then
	echo "ok - clang-14 -Wall -Wextra -Werror: no warning in the project's C"
	passed=$((passed + 1))
else
	echo "not ok - clang-14 warns about the project's C:"
	printf '%s\n' "$clang_out" | head -20
	failed=$((failed + 1))
fi

log "fuzz smoke: the regression inputs of test/fuzz/crashers, the seed corpus, 20 s of fuzzing"
if ! have_fuzz; then
	# the fuzzer does not depend on PostgreSQL: the PostgreSQL 15 pass runs it
	echo "skipped - fuzz smoke: clang-14 is only in bookworm (the PostgreSQL 15 run fuzzes)"
else
	set +e
	make -C "$ROOT" -s fuzz-smoke PG_CONFIG=$PGBIN/pg_config >"$WORK/fuzz.out" 2>&1
	fuzz_rc=$?
	set -e
	if [ "$fuzz_rc" -eq 0 ]; then
		echo "ok - fuzz smoke: $(ls "$ROOT"/test/fuzz/crashers 2>/dev/null | wc -l) regression inputs" \
			"and $(ls "$ROOT"/test/fuzz/corpus | wc -l) seeds replayed," \
			"$(sed -n 's/^stat::number_of_executed_units: *//p' "$WORK/fuzz.out" | tail -n 1) runs of fuzzing, no crash"
		passed=$((passed + 1))
	else
		echo "not ok - fuzz smoke: make fuzz-smoke exited $fuzz_rc (the input is in test/fuzz/findings):"
		grep -E "^==[0-9]+==|SUMMARY|check failed|runtime error|Test unit written" "$WORK/fuzz.out" | head -20
		failed=$((failed + 1))
	fi
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
