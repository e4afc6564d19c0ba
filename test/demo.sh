#!/usr/bin/env bash
# test/demo.sh: the demo, on a fresh Debian machine too.
#
# Installs what is missing, builds and installs tempo_fdw, starts a throwaway
# PostgreSQL cluster and the bundled Tempo/Jira simulator loaded with a
# 40-person company and a year of worklogs, sets up the foreign tables and
# prints a few useful answers.  With TEMPO_TOKEN set (and optionally
# TEMPO_URL, default https://api.tempo.io/4) it reads the real Tempo instead,
# over the last 90 days.  Everything is stopped at the end.

. "$(dirname "$0")/lib.sh"
trap cleanup EXIT

ensure_packages
build_and_install
start_cluster

if [ -n "${TEMPO_TOKEN:-}" ]; then
	url="${TEMPO_URL:-https://api.tempo.io/4}"
	since="current_date - 90"
	until="NULL"
	rps=5
	log "reading the real Tempo at $url"
else
	start_sim
	url="$TEMPO_SIM_URL/4"
	since="date '2024-01-01'"
	until="date '2024-12-31'"
	rps=0
	TEMPO_TOKEN=tempo-test-token
fi

psql -X -q -v ON_ERROR_STOP=1 -d tempo_test -v VERBOSITY=terse \
	-v url="$url" -v token="$TEMPO_TOKEN" -v rps="$rps" <<SQL
\pset footer off
CREATE EXTENSION tempo_fdw;
CREATE SERVER tempo FOREIGN DATA WRAPPER tempo_fdw
  OPTIONS (tempo_url :'url', max_requests_per_second :'rps');
CREATE USER MAPPING FOR PUBLIC SERVER tempo OPTIONS (token :'token');
CREATE SCHEMA tempo;
IMPORT FOREIGN SCHEMA tempo FROM SERVER tempo INTO tempo;

\echo
\echo '== Is Tempo reachable with this token?'
SELECT source, ok, http_status, problem FROM tempo_fdw.check_connection('tempo') WHERE source LIKE 'tempo%';

\echo
\echo '== Hours per person per month (eight people, the first six months)'
WITH m AS (
  SELECT author_account_id AS person,
         (extract(year FROM start_date) * 12 + extract(month FROM start_date))::int AS mon,
         sum(time_spent_seconds) AS seconds
    FROM tempo.worklogs WHERE start_date >= $since
   GROUP BY 1, 2),
i AS (SELECT person, mon - min(mon) OVER () + 1 AS n, round(seconds / 3600.0, 1) AS hours FROM m)
SELECT left(person, 14) AS person,
       max(hours) FILTER (WHERE n = 1) AS month_1, max(hours) FILTER (WHERE n = 2) AS month_2,
       max(hours) FILTER (WHERE n = 3) AS month_3, max(hours) FILTER (WHERE n = 4) AS month_4,
       max(hours) FILTER (WHERE n = 5) AS month_5, max(hours) FILTER (WHERE n = 6) AS month_6
  FROM i WHERE person IN (SELECT DISTINCT person FROM m ORDER BY 1 LIMIT 8)
 GROUP BY person ORDER BY person;

\echo
\echo '== The ten issues with the most hours'
SELECT issue_id, count(*) AS worklogs, round(sum(time_spent_seconds) / 3600.0, 1) AS hours,
       round(100.0 * sum(billable_seconds) / nullif(sum(time_spent_seconds), 0), 1) AS billable_pct
  FROM tempo.worklogs WHERE start_date >= $since
 GROUP BY 1 ORDER BY hours DESC LIMIT 10;

\echo
\echo '== What one month asks Tempo for (pushdown)'
EXPLAIN (COSTS OFF, VERBOSE)
SELECT count(*) FROM tempo.worklogs WHERE start_date BETWEEN $since AND $since + 30;

\echo
\echo '== Time accounts: a contract for one person, then the overtime account'
INSERT INTO tempo_fdw.time_account_contracts (account_id, valid_from, monday_hours, tuesday_hours, wednesday_hours, thursday_hours)
SELECT min(author_account_id), $since, 7.5, 7.5, 7.5, 7.5 FROM tempo.worklogs WHERE start_date BETWEEN $since AND $since + 6;
SELECT tempo_fdw.create_time_accounts('tempo', since => $since, until => $until);
SELECT left(account_id, 14) AS person, balance_hours, as_of FROM tempo.time_account_balance
 ORDER BY balance_hours DESC LIMIT 10;
\echo
\echo '== One person, month by month'
SELECT month, required_hours, logged_hours, balance_hours, cumulative_balance_hours
  FROM tempo.time_account_monthly
 WHERE account_id = (SELECT min(account_id) FROM tempo_fdw.time_account_contracts) ORDER BY month;
\echo
\echo '== Per Tempo team, the last three months (members on the days they were members)'
SELECT team_name, month, members, required_hours, logged_hours, balance_hours
  FROM tempo.time_account_team_monthly
 WHERE month >= (SELECT max(month) FROM tempo.time_account_team_monthly) - interval '2 months'
 ORDER BY team_name, month;
\echo
\echo '== Names and teams: read with every refresh, or why not (no Jira site here: no names)'
SELECT names_at IS NOT NULL AS names_read, names_problem, teams_at IS NOT NULL AS teams_read, teams_problem
  FROM tempo.time_account_status;
\echo
\echo '== Where the required time comes from'
SELECT required_source, count(*) AS days, round(sum(required_seconds) / 3600.0, 1) AS hours
  FROM tempo.time_account_daily GROUP BY 1 ORDER BY 1;
CALL tempo_fdw.refresh('tempo');
SELECT run_id, outcome, worklog_rows, schedule_rows, requests FROM tempo_fdw.refresh_log;
SQL
log "demo done"
