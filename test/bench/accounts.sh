#!/usr/bin/env bash
# test/bench/accounts.sh: the time account views on a big company, measured.
#
#   bash test/bench/accounts.sh                 # 500 people, two years
#   ACCOUNTS_PEOPLE=100 bash test/bench/accounts.sh
#   ACCOUNTS_EXPLAIN=1 bash test/bench/accounts.sh    # and the plans of the views
#
# Fills time accounts (sync mode, local schedules: no request is made) with
# ACCOUNTS_PEOPLE listed people over the last two years: contracts (one in
# five changes hours half way), a German holiday calendar, about 15
# absences a person a year, two adjustments each and two worklogs on each
# working day (about 500,000 worklogs for 500 people), written straight into
# the store.  After ANALYZE it computes the materialised figures
# (tempo_fdw.materialise_accounts, what sync does at the end of a run; the
# store was written directly, so sync's own call did not see these rows)
# and times, each as the median of 5 runs after a warm-up (EXPLAIN
# ANALYZE's planning plus execution time, every row and column computed; a
# query slower than 2 s once, none longer than 120 s):
#   - the baseline: one pass over the worklogs (sum per author), the least
#     any account needs;
#   - time_account_balance and time_account_monthly, whole, from the
#     figures;
#   - the same computed live (every person marked stale, as after a
#     change of a holiday of the accounts' calendar): the views of before
#     the figures;
#   - time_account_team_monthly (12 teams, one person in ten changing
#     team after a year), which sums the daily view (no target: it is
#     computed when read);
# with the session's settings (JIT as configured) and with jit = off, and
# prints each time, its ratio to the baseline and whether it meets the
# target (under 50 ms).  A MISS does not fail the run.  It also checks
# that both ways give the same rows (a difference fails the run).

. "$(dirname "$0")/../lib.sh"
trap cleanup EXIT

PEOPLE=${ACCOUNTS_PEOPLE:-500}
ensure_packages
build_and_install
start_cluster
start_sim

psql -qX -v ON_ERROR_STOP=1 -d tempo_test -v sim="$TEMPO_SIM_URL" -v people="$PEOPLE" \
     ${ACCOUNTS_EXPLAIN:+-v explain=1} <<'SQL'
\set QUIET on
SET client_min_messages = warning;
CREATE EXTENSION tempo_fdw;
\set t :sim '/@tag=bench_accounts/4'
CREATE SERVER bench FOREIGN DATA WRAPPER tempo_fdw OPTIONS (tempo_url :'t', max_requests_per_second '0');
CREATE USER MAPPING FOR PUBLIC SERVER bench OPTIONS (token 'tempo-test-token');
CREATE SCHEMA ba;
IMPORT FOREIGN SCHEMA tempo FROM SERVER bench INTO ba;
SELECT current_date - 730 AS since, current_date AS today \gset
SELECT tempo_fdw.fill_holiday_calendar('BENCH-DE', 'DE', extract(year FROM :'since'::date)::int,
                                       extract(year FROM :'today'::date)::int) AS holidays \gset
SELECT tempo_fdw.create_time_accounts('ba', :'since', mode => 'sync', populate => false, schedules => 'local',
                                      people => 'listed', calendar => 'BENCH-DE', time_zone => 'UTC') AS made \gset

\echo '== filling'
SELECT clock_timestamp() AS t0 \gset
INSERT INTO tempo_fdw.time_account_people (schema_name, account_id, display_name, first_day, last_day, opening_balance_hours, team)
SELECT 'ba', format('bench-%s', i), format('Person %s', i), :'since'::date + (i % 7) * 20,
       CASE WHEN i % 20 = 0 THEN :'today'::date - 100 END, i % 25, format('team %s', i % 12)
  FROM generate_series(1, :people) i;
INSERT INTO tempo_fdw.time_account_contracts (account_id, valid_from, valid_to, monday_hours, tuesday_hours,
                                              wednesday_hours, thursday_hours, friday_hours)
SELECT format('bench-%s', i), :'since', CASE WHEN i % 5 = 0 THEN :'since'::date + 364 END, 8, 8, 8, 8, 8
  FROM generate_series(1, :people) i
UNION ALL
SELECT format('bench-%s', i), :'since'::date + 365, NULL, 7.5, 7.5, 7.5, 7.5, 0
  FROM generate_series(1, :people) i WHERE i % 5 = 0;
-- per person and year: 12 vacations of 1-3 days, 2 sick days, a half day
INSERT INTO tempo_fdw.time_account_absences (schema_name, account_id, first_day, last_day, kind, portion)
SELECT 'ba', format('bench-%s', i), d, d + (k % 3), CASE WHEN k % 7 = 0 THEN 'sick' ELSE 'vacation' END,
       CASE WHEN k % 15 = 14 THEN 'half' ELSE 'full' END
  FROM generate_series(1, :people) i, generate_series(0, 29) k,
       LATERAL (SELECT :'since'::date + 30 + k * 23 + (i % 11) AS d) x
 WHERE d < :'today'::date;
INSERT INTO tempo_fdw.time_account_adjustments (schema_name, account_id, date, hours, kind, reason)
SELECT 'ba', format('bench-%s', i), :'since'::date + 200 + (i % 30) + j * 300, CASE WHEN j = 0 THEN 1.5 ELSE -10 END,
       CASE WHEN j = 0 THEN 'correction' ELSE 'payout' END, 'benchmark'
  FROM generate_series(1, :people) i, generate_series(0, 1) j;
-- two worklogs on each working day: about 8 hours, a little more or less
INSERT INTO ba.worklog_store (worklog_id, source, issue_id, author_account_id, start_date, time_spent_seconds,
                              billable_seconds, created_at, updated_at, last_seen_at)
SELECT row_number() OVER (), 'tempo', 10000 + (i + n) % 100, format('bench-%s', i), d::date,
       CASE n WHEN 0 THEN 12600 ELSE 14400 + ((i * 7 + extract(doy FROM d)::int) % 9 - 4) * 900 END,
       NULL, d, d, now()
  FROM generate_series(1, :people) i, generate_series(:'since'::date, :'today'::date - 1, '1 day') d, generate_series(0, 1) n
 WHERE extract(isodow FROM d) <= 5;
-- the names and teams a run reads (jira_users, tempo_team_memberships):
-- 12 teams, one person in ten changing team after a year
INSERT INTO ba.person_name_snapshot (account_id, display_name, active, account_type)
SELECT format('bench-%s', i), format('Jira Person %s', i), true, 'atlassian' FROM generate_series(1, :people) i;
INSERT INTO ba.team_membership_snapshot (membership_id, team_id, team_name, account_id, from_date, to_date)
SELECT i, i % 12 + 1, format('Team %s', i % 12 + 1), format('bench-%s', i), :'since',
       CASE WHEN i % 10 = 0 THEN :'since'::date + 364 END
  FROM generate_series(1, :people) i
UNION ALL
SELECT 100000 + i, (i + 1) % 12 + 1, format('Team %s', (i + 1) % 12 + 1), format('bench-%s', i), :'since'::date + 365, NULL
  FROM generate_series(1, :people) i WHERE i % 10 = 0;
ANALYZE ba.person_name_snapshot;
ANALYZE ba.team_membership_snapshot;
ANALYZE ba.worklog_store;
ANALYZE tempo_fdw.time_account_people;
ANALYZE tempo_fdw.time_account_contracts;
ANALYZE tempo_fdw.time_account_absences;
ANALYZE tempo_fdw.time_account_adjustments;
ANALYZE tempo_fdw.holidays;
SELECT round(extract(epoch FROM clock_timestamp() - :'t0'::timestamptz)::numeric, 1) || ' s' AS fill_time,
       (SELECT count(*) FROM tempo_fdw.time_account_people WHERE schema_name = 'ba') AS people,
       (SELECT count(*) FROM ba.worklog_store) AS worklogs,
       (SELECT count(*) FROM tempo_fdw.time_account_absences WHERE schema_name = 'ba') AS absences,
       (SELECT count(*) FROM tempo_fdw.time_account_contracts) AS contracts,
       :'since' AS since, :'today'::date - 1 AS as_of;

\echo '== materialising'
SELECT clock_timestamp() AS t1 \gset
SELECT tempo_fdw.materialise_accounts('ba') AS figure_rows \gset
SELECT round(extract(epoch FROM clock_timestamp() - :'t1'::timestamptz)::numeric, 1) || ' s' AS materialise_time,
       :figure_rows AS figure_rows;

-- the median of 5 runs after a warm-up, in ms (planning + execution), and
-- whether JIT compiled anything; a query slower than 2 s is run once.  Each
-- measurement is a statement of its own, stopped after 120 s
-- (statement_timeout): then its time is missing, i.e. more than that.
CREATE TEMP TABLE timings (setting text, pos int, ms numeric, jit boolean);
CREATE FUNCTION pg_temp.measure(pos int, q text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  plan json;
  t numeric;
  used boolean;
  times numeric[] := '{}';
BEGIN
  FOR i IN 0..5 LOOP
    EXECUTE 'EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) ' || q INTO plan;
    t := (plan -> 0 ->> 'Planning Time')::numeric + (plan -> 0 ->> 'Execution Time')::numeric;
    used := (plan -> 0 -> 'JIT') IS NOT NULL;
    IF i = 0 AND t > 2000 THEN
      times := ARRAY[t];
      EXIT;
    ELSIF i > 0 THEN
      times := times || t;
    END IF;
  END LOOP;
  INSERT INTO timings
  VALUES (format('jit = %s', current_setting('jit')), pos,
          round((SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x) FROM unnest(times) x)::numeric, 1), used);
END $$;
CREATE TEMP TABLE queries (pos int, name text);
INSERT INTO queries VALUES (0, 'baseline: sum per author over the store'), (1, 'time_account_balance'), (2, 'time_account_monthly'),
                           (3, 'time_account_balance, computed live'), (4, 'time_account_monthly, computed live'),
                           (5, 'time_account_team_monthly (from the daily view)');
CREATE FUNCTION pg_temp.live(on_ boolean) RETURNS void LANGUAGE sql AS
  $$UPDATE tempo_fdw.time_account_freshness SET stale_all = on_ WHERE schema_name = 'ba'$$;
\echo '== measuring'
SET statement_timeout = '120s';
\set ON_ERROR_STOP off
SELECT pg_temp.measure(0, 'SELECT author_account_id, sum(time_spent_seconds) FROM ba.worklog_store GROUP BY 1');
SELECT pg_temp.measure(1, 'SELECT * FROM ba.time_account_balance');
SELECT pg_temp.measure(2, 'SELECT * FROM ba.time_account_monthly');
SELECT pg_temp.live(true);
SELECT pg_temp.measure(3, 'SELECT * FROM ba.time_account_balance');
SELECT pg_temp.measure(4, 'SELECT * FROM ba.time_account_monthly');
SELECT pg_temp.live(false);
SELECT pg_temp.measure(5, 'SELECT * FROM ba.time_account_team_monthly');
SET jit = off;
SELECT pg_temp.measure(0, 'SELECT author_account_id, sum(time_spent_seconds) FROM ba.worklog_store GROUP BY 1');
SELECT pg_temp.measure(1, 'SELECT * FROM ba.time_account_balance');
SELECT pg_temp.measure(2, 'SELECT * FROM ba.time_account_monthly');
SELECT pg_temp.live(true);
SELECT pg_temp.measure(3, 'SELECT * FROM ba.time_account_balance');
SELECT pg_temp.measure(4, 'SELECT * FROM ba.time_account_monthly');
SELECT pg_temp.live(false);
SELECT pg_temp.measure(5, 'SELECT * FROM ba.time_account_team_monthly');
SELECT (SELECT count(*) FROM ba.time_account_balance) AS balance_rows, (SELECT count(*) FROM ba.time_account_monthly) AS monthly_rows;
\set ON_ERROR_STOP on
RESET statement_timeout;
-- the figures give what the live computation gives, row for row
CREATE TEMP TABLE fast_balance AS SELECT * FROM ba.time_account_balance;
CREATE TEMP TABLE fast_monthly AS SELECT * FROM ba.time_account_monthly;
SELECT pg_temp.live(true);
CREATE TEMP TABLE live_balance AS SELECT * FROM ba.time_account_balance;
CREATE TEMP TABLE live_monthly AS SELECT * FROM ba.time_account_monthly;
SELECT pg_temp.live(false);
SELECT (SELECT count(*) FROM ((TABLE fast_balance EXCEPT ALL TABLE live_balance)
                              UNION ALL (TABLE live_balance EXCEPT ALL TABLE fast_balance)) x) AS balance_rows_differing,
       (SELECT count(*) FROM ((TABLE fast_monthly EXCEPT ALL TABLE live_monthly)
                              UNION ALL (TABLE live_monthly EXCEPT ALL TABLE fast_monthly)) x) AS monthly_rows_differing,
       (SELECT count(*) FROM fast_balance) AS balance_rows, (SELECT count(*) FROM fast_monthly) AS monthly_rows \gset
\echo 'rows differing between the figures and the live computation: balance' :balance_rows_differing 'of' :balance_rows ', monthly' :monthly_rows_differing 'of' :monthly_rows
SELECT :balance_rows_differing + :monthly_rows_differing = 0 AND :balance_rows > 0 AS same \gset
\if :same
\else
  DO $$BEGIN RAISE EXCEPTION 'FAIL: the figures differ from the live computation'; END$$;
\endif
RESET jit;
RESET statement_timeout;
\if :{?explain}
SELECT pg_temp.live(false);
EXPLAIN (ANALYZE, BUFFERS) SELECT * FROM ba.time_account_balance;
EXPLAIN (ANALYZE, BUFFERS) SELECT * FROM ba.time_account_monthly;
\endif
SELECT s.setting || CASE WHEN s.setting = 'jit = ' || current_setting('jit') THEN ' (default)' ELSE '' END AS setting,
       q.name AS query, t.ms, t.jit AS jit_used,
       round(t.ms / nullif(b.ms, 0), 1) AS ratio_to_baseline,
       CASE WHEN q.pos IN (0, 5) THEN '' WHEN t.ms < 50 THEN 'PASS' WHEN t.ms IS NULL THEN 'MISS (more than 120 s)' ELSE 'MISS' END AS target_50ms
  FROM (SELECT DISTINCT setting FROM timings) s CROSS JOIN queries q
  LEFT JOIN timings t ON t.setting = s.setting AND t.pos = q.pos
  LEFT JOIN timings b ON b.setting = s.setting AND b.pos = 0
 ORDER BY 1, q.pos;
SQL
