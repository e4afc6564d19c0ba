#!/usr/bin/env bash
# test/readme_install.sh: the SQL of README.md's Installation section, run as
# written, with only the Tempo and Jira URLs and the tokens replaced by the
# simulator's.  The first sql block runs as a superuser in the database of
# cron.database_name (tempo_test); the second one up to "-- as alice" too,
# the rest as alice.  Without pg_cron (HAVE_CRON=0) the lines naming cron are
# left out, and it says so.  Needs PGHOST, PGPORT, PGUSER of the test cluster
# and TEMPO_SIM_URL; prints "ok - ..." or "not ok - ..." and exits 0 or 1.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
work=$(mktemp -d)
db=tempo_test
trap 'rm -rf "$work"' EXIT

# the ```sql blocks of the Installation section, one file each
awk -v dir="$work" '
	/^## / { inside = ($0 == "## Installation") }
	inside && /^```sql$/ { n++; out = dir "/block" n ".sql"; next }
	inside && /^```$/ { out = ""; next }
	out != "" { print > out }
' "$ROOT/README.md"
[ -s "$work/block1.sql" ] && [ -s "$work/block2.sql" ] ||
	{ echo "not ok - README.md's Installation section lost its two sql blocks"; exit 1; }

for f in "$work"/block1.sql "$work"/block2.sql; do
	sed -i -e "s|'https://api.tempo.io/4'|'$TEMPO_SIM_URL/@tag=readme/4'|" \
		-e "s|'https://acme.atlassian.net'|'$TEMPO_SIM_URL/@tag=readme_jira'|" \
		-e "s|'tempo-api-token'|'tempo-test-token'|; s|'alices-tempo-token'|'tempo-test-token'|" \
		-e "s|'bot@acme.com'|'bot@example.com'|; s|'jira-api-token'|'jira-test-token'|" "$f"
	if [ "${HAVE_CRON:-1}" = 0 ]; then
		grep -n cron "$f" | sed 's/^/  left out (no pg_cron for this PostgreSQL): /'
		sed -i '/cron/d' "$f"
	fi
done
sed -n '1,/^-- as alice/p' "$work/block2.sql" >"$work/super.sql"
sed -n '/^-- as alice/,$p' "$work/block2.sql" >"$work/alice.sql"

# a newcomer's database: no tempo_fdw, no pg_cron, no alice yet
psql -qX -d "$db" >/dev/null 2>&1 <<'SQL'
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS tempo_fdw CASCADE;
DROP EXTENSION IF EXISTS pg_cron CASCADE;
DROP SCHEMA IF EXISTS tempo, tempo_alice CASCADE;
DROP SERVER IF EXISTS tempo CASCADE;
SQL

run() {	# role, file
	if ! psql -X -v ON_ERROR_STOP=1 -U "$1" -d "$db" -f "$2" >"$work/out" 2>&1; then
		echo "not ok - README.md's Installation SQL failed as $1:"
		sed 's/^/  /' "$work/out" | tail -n 8
		return 1
	fi
}
status=0
run postgres "$work/block1.sql" && run postgres "$work/super.sql" && run alice "$work/alice.sql" ||
	status=1

if [ "$status" -eq 0 ]; then
	# what it made: every source reachable, worklogs read, the accounts made, alice's tables hers
	got=$(psql -qXAt -d "$db" -c "
		SELECT (SELECT bool_and(ok) FROM tempo_fdw.check_connection('tempo'))
		    || ',' || (SELECT count(*) > 0 FROM tempo.worklogs WHERE start_date >= '2024-01-01')
		    || ',' || (to_regclass('tempo.time_account_balance') IS NOT NULL)
		    || ',' || (SELECT count(*) FROM pg_class WHERE relnamespace = 'tempo_alice'::regnamespace
		                AND pg_get_userbyid(relowner) = 'alice')")
	want="true,true,true,"
	if [ "${got%,*}," = "$want" ] && [ "${got##*,}" -gt 0 ]; then
		echo "ok - README.md's Installation SQL runs as written (superuser, then alice: $got)"
	else
		echo "not ok - README.md's Installation SQL ran, but made [$got], not [${want}N>0]"
		status=1
	fi
fi

psql -qX -d "$db" >/dev/null 2>&1 <<'SQL' || true
SET client_min_messages = warning;
SELECT cron.unschedule('tempo-refresh') FROM cron.job WHERE jobname = 'tempo-refresh';
DROP SCHEMA IF EXISTS tempo, tempo_alice CASCADE;
DROP OWNED BY alice CASCADE;
DROP ROLE IF EXISTS alice;
DROP EXTENSION IF EXISTS tempo_fdw CASCADE;
SQL
exit $status
