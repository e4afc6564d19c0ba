#!/usr/bin/env bash
# test/bench/memory.sh: the memory soak, on a fresh Debian 12 machine too.
#
#   bash test/bench/memory.sh              # 10,000 scans
#   MEM_SCANS=2000 bash test/bench/memory.sh
#
# Runs MEM_SCANS (default 10,000) scans in ONE backend and reports how much
# its resident set (VmRSS of /proc/<pid>/status, read from the shell through
# psql's \!) grew between the end of a warm-up of 500 scans and the end.
# Every server has max_requests_per_second '0', max_retries '0' and fallback
# 'off'.  The scans mix, out of every 500:
#
#   - successful small scans: 5 in 10 of Tempo worklogs (ds=tiny, every
#     column converted, raw and attributes included) and 1 in 10 of Jira
#     worklogs (ADF comments; worklog/updated then POST worklog/list);
#   - error scans: 2 in 10 answered 503 (max_retries 0), 1 in 10 invalid
#     JSON (fault=badjson), 1 in 10 answered 401;
#   - one cancelled scan: statement_timeout against a server that hangs
#     (fault=hang,slow_ms=2000), caught WHEN query_canceled;
#
# so 20 of the 10,000 are cancels.  Each outcome is counted per block and
# checked.  It prints the RSS after the warm-up and at the end, the growth,
# and PASS or MISS against the target (growth under 5 MB); a MISS does not
# fail the run: the exit status is non-zero only when the soak could not be
# run as planned (a scan ended in an unexpected way).

. "$(dirname "$0")/../lib.sh"
trap cleanup EXIT

SCANS=${MEM_SCANS:-10000}
BLOCK=500
TARGET_KB=$((5 * 1024))
[ $((SCANS % BLOCK)) -eq 0 ] && [ "$SCANS" -ge $((2 * BLOCK)) ] ||
	{ log "MEM_SCANS must be a multiple of $BLOCK, at least $((2 * BLOCK))"; exit 2; }
BLOCKS=$((SCANS / BLOCK))

ensure_packages
build_and_install
start_cluster
start_sim

S="$TEMPO_SIM_URL"
log "setting up: a server per behaviour"
{
	echo "CREATE EXTENSION tempo_fdw;"
	for kind in ok 503 badjson 401 hang; do
		case $kind in
		ok) scenario="ds=tiny" ;;
		503) scenario="fault=503" ;;
		badjson) scenario="ds=tiny,fault=badjson" ;;
		401) scenario="ds=tiny,fault=401" ;;
		hang) scenario="ds=tiny,fault=hang,slow_ms=2000" ;;
		esac
		cat <<SQL
CREATE SERVER mem_$kind FOREIGN DATA WRAPPER tempo_fdw
  OPTIONS (tempo_url '$S/@tag=mem,$scenario/4', jira_url '$S/@tag=mem,$scenario',
           max_requests_per_second '0', max_retries '0', fallback 'off');
CREATE USER MAPPING FOR PUBLIC SERVER mem_$kind
  OPTIONS (token 'tempo-test-token', jira_email 'bot@example.com', jira_token 'jira-test-token');
CREATE SCHEMA mem_$kind;
IMPORT FOREIGN SCHEMA tempo LIMIT TO (worklogs, jira_worklogs) FROM SERVER mem_$kind INTO mem_$kind;
SQL
	done
} | psql -qX -d tempo_test -v ON_ERROR_STOP=1 >/dev/null

# One block of scans: BLOCK - 1 in a DO loop, then one cancelled.  Every
# row's every column is converted (the whole-row reference w::text).
block_sql() {
	cat <<SQL
DO \$\$
DECLARE
	ok int := 0;
	http int := 0;
	badjson int := 0;
	auth int := 0;
	n bigint;
BEGIN
	FOR i IN 1..$((BLOCK - 1)) LOOP
		BEGIN
			CASE i % 10
				WHEN 0, 1, 2, 3, 4 THEN
					SELECT sum(length(w::text)) INTO n FROM mem_ok.worklogs w;
					IF n IS NULL THEN RAISE EXCEPTION 'no rows'; END IF;
					ok := ok + 1;
				WHEN 5 THEN
					SELECT sum(length(w::text)) INTO n FROM mem_ok.jira_worklogs w;
					IF n IS NULL THEN RAISE EXCEPTION 'no Jira rows'; END IF;
					ok := ok + 1;
				WHEN 6, 7 THEN
					SELECT sum(length(w::text)) INTO n FROM mem_503.worklogs w;
				WHEN 8 THEN
					SELECT sum(length(w::text)) INTO n FROM mem_badjson.worklogs w;
				ELSE
					SELECT sum(length(w::text)) INTO n FROM mem_401.worklogs w;
			END CASE;
		EXCEPTION
			WHEN OTHERS THEN
				/* exact codes: WHEN SQLSTATE 'HV000' would take the class */
				CASE SQLSTATE
					WHEN 'HV000' THEN http := http + 1;
					WHEN 'HV00A' THEN badjson := badjson + 1;
					WHEN '28000' THEN auth := auth + 1;
					ELSE RAISE;
				END CASE;
		END;
	END LOOP;
	RAISE NOTICE 'mem block: ok=% http503=% badjson=% http401=%', ok, http, badjson, auth;
END
\$\$;
SET statement_timeout = '300ms';
DO \$\$
BEGIN
	PERFORM count(*) FROM mem_hang.worklogs;
	RAISE NOTICE 'mem cancel: not cancelled';
EXCEPTION
	WHEN query_canceled THEN RAISE NOTICE 'mem cancel: cancelled';
END
\$\$;
RESET statement_timeout;
SQL
}

RSS="$WORK/rss.txt"
: >"$RSS"
{
	echo "SELECT pg_backend_pid() AS pid \\gset"
	echo "\\setenv MEM_PID :pid"
	echo "\\setenv MEM_RSS $RSS"
	echo "\\! echo \"0 \$(awk '/^VmRSS:/ {print \$2}' /proc/\$MEM_PID/status)\" >>\"\$MEM_RSS\""
	for b in $(seq 1 "$BLOCKS"); do
		block_sql
		echo "\\! echo \"$((b * BLOCK)) \$(awk '/^VmRSS:/ {print \$2}' /proc/\$MEM_PID/status)\" >>\"\$MEM_RSS\""
	done
} >"$WORK/soak.sql"

log "soak: $SCANS scans in one backend, $BLOCKS blocks of $BLOCK"
start=$(date +%s)
set +e
psql -X -d tempo_test -f "$WORK/soak.sql" >"$WORK/soak.out" 2>&1
rc=$?
set -e
secs=$(($(date +%s) - start))

# every block must have ended as planned
expect=(0 0 0 0)
for i in $(seq 1 $((BLOCK - 1))); do
	case $((i % 10)) in
	[0-5]) expect[0]=$((expect[0] + 1)) ;;
	[67]) expect[1]=$((expect[1] + 1)) ;;
	8) expect[2]=$((expect[2] + 1)) ;;
	*) expect[3]=$((expect[3] + 1)) ;;
	esac
done
expected_block="mem block: ok=${expect[0]} http503=${expect[1]} badjson=${expect[2]} http401=${expect[3]}"
blocks_ok=$(grep -c "NOTICE:  $expected_block$" "$WORK/soak.out" || true)
cancels=$(grep -c "mem cancel: cancelled" "$WORK/soak.out" || true)
errors=$(grep -c "ERROR" "$WORK/soak.out" || true)
sed -n 's/.*mem block: //p' "$WORK/soak.out" | sort | uniq -c | sed 's/^/   blocks: /'

requests=$(curl -s "$TEMPO_SIM_URL/_log?tag=mem&format=tsv" | grep -c . || true)
echo "memory soak: $SCANS scans in one backend in ${secs}s ($cancels cancelled," \
	"$requests requests answered by the simulator)"
echo "   RSS (kB) after every $BLOCK scans:"
awk '{ printf "   %6d scans  %8d kB\n", $1, $2 }' "$RSS"
warm=$(awk -v b=$BLOCK '$1 == b { print $2 }' "$RSS")
end=$(tail -n 1 "$RSS" | awk '{ print $2 }')
if [ "$rc" -ne 0 ] || [ "$errors" -ne 0 ] || [ "$blocks_ok" -ne "$BLOCKS" ] ||
	[ "$cancels" -ne "$BLOCKS" ] || [ -z "$warm" ] || [ -z "$end" ]; then
	echo "the soak did not run as planned (psql exit $rc, $errors errors," \
		"$blocks_ok of $BLOCKS blocks as expected, $cancels of $BLOCKS cancels):"
	grep -E "ERROR|mem " "$WORK/soak.out" | sort | uniq -c | head -20
	exit 1
fi
growth=$((end - warm))
verdict=PASS
[ "$growth" -lt "$TARGET_KB" ] || verdict=MISS
echo "backend RSS after the $BLOCK-scan warm-up: $warm kB; after $SCANS scans: $end kB;" \
	"growth: $growth kB ($(awk -v g="$growth" 'BEGIN { printf "%.2f", g / 1024 }') MB)"
echo "target: growth under 5 MB over $SCANS scans: $verdict"
exit 0
