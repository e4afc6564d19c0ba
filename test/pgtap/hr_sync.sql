-- pgTAP: Tempo's schedules kept fresh by whatever runs (issue #14, item 5)
-- and the explicit fall back to local schedules (item 3).
--   1. sync fetches the schedules as well, incrementally: the first run
--      every day since "since", later runs the new days and the last
--      schedule_recheck_days again (the request log's from/to say so); a
--      schedule changed in Tempo (the simulator's workload=2) changes the
--      balance after a sync, in that window, and everywhere with full;
--      a failed schedule request fails the run and leaves the old data.
--   2. refresh in snapshot mode fetches incrementally too.
--   3. schedules => 'tempo_or_local' with a token that may not read
--      schedules (403) takes 'local'; with 'tempo' the clear error stays.
-- Expected figures come from the simulator's raw data (/_data), never
-- from the SQL under test.  Not one transaction: sync and refresh commit.
\ir include/setup.sql
\ir include/helpers.sql
DROP SCHEMA IF EXISTS hs CASCADE;
DROP SCHEMA IF EXISTS hs_snap CASCADE;
DROP SCHEMA IF EXISTS hs_l CASCADE;
DROP SCHEMA IF EXISTS hs_t CASCADE;
CREATE EXTENSION tempo_fdw;
SELECT plan(36);

SELECT (now() AT TIME ZONE 'UTC')::date AS today, (now() AT TIME ZONE 'UTC')::date - 40 AS since,
       (now() AT TIME ZONE 'UTC')::date - 31 AS recheck_from, (now() AT TIME ZONE 'UTC')::date - 2 AS new_from \gset
SELECT set_config('hs.sim', :'sim', false) IS NOT NULL AS sim_set \gset

-- the simulator's schedules, per workload scheme (its raw data)
CREATE TEMP TABLE sim_doc (doc jsonb);
CREATE TEMP TABLE sim_sched (workload integer, account text, day date, required bigint);
CREATE FUNCTION pg_temp.load_sched(wl integer, a date, b date) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  TRUNCATE sim_doc;
  EXECUTE format('COPY sim_doc FROM PROGRAM %L WITH (FORMAT csv, QUOTE E''\x01'', DELIMITER E''\x02'')',
                 format('curl -s "%s/_data?ds=company&kind=schedule&from=%s&to=%s&workload=%s"',
                        current_setting('hs.sim'), a, b, wl));
  INSERT INTO sim_sched
  SELECT wl, p.key, (d ->> 'date')::date, (d ->> 'requiredSeconds')::bigint
    FROM sim_doc, jsonb_each(doc) p, jsonb_array_elements(p.value) d;
END $$;
SELECT pg_temp.load_sched(1, :'since', :'today'), pg_temp.load_sched(2, :'since', :'today');
TRUNCATE sim_doc;
\set cmd 'curl -s "' :sim '/_data?ds=company&kind=users"'
COPY sim_doc FROM PROGRAM :'cmd' WITH (FORMAT csv, QUOTE E'\x01', DELIMITER E'\x02');
-- two full-time people of the default holiday scheme
CREATE TEMP TABLE two AS
  SELECT u ->> 'accountId' AS account FROM sim_doc, jsonb_array_elements(doc) u
   WHERE (u ->> 'workloadSchemeId')::int = 1 AND (u ->> 'holidaySchemeId')::int = 1 AND (u ->> 'active')::boolean
   ORDER BY 1 LIMIT 2;
SELECT min(account) AS p1, max(account) AS p2 FROM two \gset

-- the request log of a tag: the user-schedule requests, as "path?query"
CREATE FUNCTION pg_temp.schedule_requests(tag text) RETURNS TABLE (account text, query text, status int) LANGUAGE plpgsql AS $$
BEGIN
  TRUNCATE sim_doc;
  EXECUTE format('COPY sim_doc FROM PROGRAM %L WITH (FORMAT csv, QUOTE E''\x01'', DELIMITER E''\x02'')',
                 format('curl -s "%s/_log?tag=%s"', current_setting('hs.sim'), tag));
  RETURN QUERY SELECT replace(substr(e ->> 'path', length('/4/user-schedule/') + 1), '%3A', ':'), e ->> 'query', (e ->> 'status')::int
                 FROM sim_doc, jsonb_array_elements(doc) e WHERE e ->> 'path' LIKE '/4/user-schedule%' ORDER BY 1, 2;
END $$;

-- ---------------------------------------------------------------------
-- 1. sync keeps the schedules fresh, incrementally
\set t :sim '/@tag=tap_hs/4'
CREATE SERVER hs_srv FOREIGN DATA WRAPPER tempo_fdw OPTIONS (tempo_url :'t', max_requests_per_second '0', max_retries '0');
CREATE USER MAPPING FOR PUBLIC SERVER hs_srv OPTIONS (token 'tempo-test-token');
CREATE SCHEMA hs;
IMPORT FOREIGN SCHEMA tempo FROM SERVER hs_srv INTO hs;
INSERT INTO tempo_fdw.time_account_people (schema_name, account_id, first_day)
SELECT 'hs', account, :'since' FROM two;
\! curl -s "$TEMPO_SIM_URL/_reset?tag=tap_hs" >/dev/null
SELECT lives_ok(format($$SELECT tempo_fdw.create_time_accounts('hs', %L, mode => 'sync', people => 'listed', time_zone => 'UTC')$$, :'since'),
                'synchronised accounts of two people, Tempo schedules, open-ended');
SELECT results_eq($$SELECT * FROM pg_temp.schedule_requests('tap_hs')$$,
                  format($$VALUES (%L, %L, 200), (%L, %L, 200)$$, :'p1', 'from=' || :'since' || '&to=' || :'today',
                         :'p2', 'from=' || :'since' || '&to=' || :'today'),
                  'the first run asks for every day since "since", up to today, one request per person');
SELECT results_eq($$SELECT account_id, first_day, last_day FROM hs.schedule_fetched ORDER BY 1$$,
                  format($$VALUES (%L, %L::date, %L::date), (%L, %L, %L)$$, :'p1', :'since', :'today', :'p2', :'since', :'today'),
                  'schedule_fetched says which days are there');

-- the expected balance: nothing logged, the schedule's time required up to yesterday
CREATE TEMP TABLE expect AS
  SELECT s.account, (sum(s.required) FILTER (WHERE s.workload = 1))::bigint AS all_1,
         (sum(s.required) FILTER (WHERE s.workload = 2))::bigint AS all_2,
         (sum(s.required) FILTER (WHERE (s.workload = 1 AND s.day < :'recheck_from') OR (s.workload = 2 AND s.day >= :'recheck_from')))::bigint AS recent_2
    FROM sim_sched s JOIN two ON two.account = s.account
   WHERE s.day < :'today'
   GROUP BY 1;
SELECT ok((SELECT bool_and(all_1 > all_2 AND all_1 > recent_2 AND recent_2 > all_2) FROM expect),
          'the test''s own check: workload 2 asks less, and the window lies between');
SELECT results_eq($$SELECT account_id, balance_seconds FROM hs.time_account_balance ORDER BY 1$$,
                  $$SELECT account, -all_1 FROM expect ORDER BY 1$$, 'balances: minus the required time of Tempo''s schedules');

-- Tempo's schedules change (an admin moves everyone to part time); the
-- next sync fetches the last 31 days again (schedule_recheck_days)
\set t :sim '/@tag=tap_hs,workload=2/4'
ALTER SERVER hs_srv OPTIONS (SET tempo_url :'t');
\! curl -s "$TEMPO_SIM_URL/_reset?tag=tap_hs" >/dev/null
CALL tempo_fdw.sync('hs');
SELECT results_eq($$SELECT * FROM pg_temp.schedule_requests('tap_hs')$$,
                  format($$VALUES (%L, %L, 200), (%L, %L, 200)$$, :'p1', 'from=' || :'recheck_from' || '&to=' || :'today',
                         :'p2', 'from=' || :'recheck_from' || '&to=' || :'today'),
                  'a sync asks for the schedules too: the last 31 days again, nothing older');
SELECT results_eq($$SELECT account_id, balance_seconds FROM hs.time_account_balance ORDER BY 1$$,
                  $$SELECT account, -recent_2 FROM expect ORDER BY 1$$,
                  'after the sync the balance shows the changed schedule in that window');
SELECT is((SELECT count(*) FROM (
             (SELECT account_id, date, required_seconds FROM hs.time_account_daily
              EXCEPT SELECT s.account, s.day, s.required FROM sim_sched s JOIN two USING (account)
                      WHERE s.day < :'today' AND s.workload = CASE WHEN s.day < :'recheck_from' THEN 1 ELSE 2 END)
             UNION ALL
             (SELECT s.account, s.day, s.required FROM sim_sched s JOIN two USING (account)
               WHERE s.day < :'today' AND s.workload = CASE WHEN s.day < :'recheck_from' THEN 1 ELSE 2 END
              EXCEPT SELECT account_id, date, required_seconds FROM hs.time_account_daily)) d),
          0::bigint, 'every day exact: the old schedule before the window, the new one in it');
SELECT results_eq($$SELECT outcome, kind, schedule_rows FROM tempo_fdw.refresh_log WHERE schema_name = 'hs' ORDER BY run_id DESC LIMIT 1$$,
                  format($$VALUES ('ok', 'sync', %s::bigint)$$, 2 * (:'today'::date - :'since'::date + 1)),
                  'the log row of the sync counts the schedule days kept');

-- only the new days: as if the last run had been three days ago, with no
-- days fetched again (schedule_recheck_days = 0)
UPDATE tempo_fdw.time_accounts SET schedule_recheck_days = 0 WHERE schema_name = 'hs';
UPDATE hs.schedule_fetched SET last_day = :'today'::date - 3;
DELETE FROM hs.schedule_snapshot WHERE date > :'today'::date - 3;
\! curl -s "$TEMPO_SIM_URL/_reset?tag=tap_hs" >/dev/null
CALL tempo_fdw.sync('hs');
SELECT results_eq($$SELECT * FROM pg_temp.schedule_requests('tap_hs')$$,
                  format($$VALUES (%L, %L, 200), (%L, %L, 200)$$, :'p1', 'from=' || :'new_from' || '&to=' || :'today',
                         :'p2', 'from=' || :'new_from' || '&to=' || :'today'),
                  'the next run asks only for the days not fetched yet');
SELECT results_eq($$SELECT account_id, count(*), min(date), max(date) FROM hs.schedule_snapshot GROUP BY 1 ORDER BY 1$$,
                  format($$VALUES (%L, %s::bigint, %L::date, %L::date), (%L, %s, %L, %L)$$,
                         :'p1', :'today'::date - :'since'::date + 1, :'since', :'today',
                         :'p2', :'today'::date - :'since'::date + 1, :'since', :'today'),
                  'and the days are all there again, once');
SELECT results_eq($$SELECT account_id, balance_seconds FROM hs.time_account_balance ORDER BY 1$$,
                  $$SELECT account, -recent_2 FROM expect ORDER BY 1$$, 'the balances are unchanged');

-- a schedule request that fails fails the run; the old data stays
SELECT sum(required_seconds) AS sched_sum, count(*) AS sched_rows FROM hs.schedule_snapshot \gset
SELECT coalesce(watermark::text, 'none') AS wm FROM tempo_fdw.sync_status WHERE schema_name = 'hs' \gset
\set t :sim '/@tag=tap_hs,fault=403,fault_on=user-schedule/4'
ALTER SERVER hs_srv OPTIONS (SET tempo_url :'t');
\set ON_ERROR_STOP off
CALL tempo_fdw.sync('hs');
\set ON_ERROR_STOP on
SELECT is(:'LAST_ERROR_SQLSTATE'::text, '42501', 'a token that lost "View schemes": the sync fails with 42501');
SELECT is(:'LAST_ERROR_MESSAGE'::text, 'sync of the worklogs in "hs" failed: the Tempo token of schema "hs" cannot read user schedules',
          'and says why');
SELECT results_eq($$SELECT outcome, error FROM tempo_fdw.refresh_log WHERE schema_name = 'hs' ORDER BY run_id DESC LIMIT 1$$,
                  $$VALUES ('failed', 'the Tempo token of schema "hs" cannot read user schedules')$$, 'logged as failed');
\set t :sim '/@tag=tap_hs,fault=500,fault_on=user-schedule/4'
ALTER SERVER hs_srv OPTIONS (SET tempo_url :'t');
\set ON_ERROR_STOP off
CALL tempo_fdw.sync('hs', full => true);
\set ON_ERROR_STOP on
SELECT is(:'LAST_ERROR_SQLSTATE'::text, 'HV000', 'Tempo failing on schedules (500): the sync fails with its SQLSTATE');
SELECT results_eq($$SELECT sum(required_seconds), count(*) FROM hs.schedule_snapshot$$,
                  format('VALUES (%s::bigint, %s::bigint)', :'sched_sum', :'sched_rows'),
                  'the schedules are as they were, none half fetched');
SELECT is((SELECT coalesce(watermark::text, 'none') FROM tempo_fdw.sync_status WHERE schema_name = 'hs'), :'wm',
          'the worklogs'' watermark too');

-- full => true fetches every day again
\set t :sim '/@tag=tap_hs,workload=2/4'
ALTER SERVER hs_srv OPTIONS (SET tempo_url :'t');
\! curl -s "$TEMPO_SIM_URL/_reset?tag=tap_hs" >/dev/null
CALL tempo_fdw.sync('hs', full => true);
SELECT results_eq($$SELECT DISTINCT query FROM pg_temp.schedule_requests('tap_hs')$$,
                  format($$VALUES (%L)$$, 'from=' || :'since' || '&to=' || :'today'), 'sync with full => true asks for every day');
SELECT results_eq($$SELECT account_id, balance_seconds FROM hs.time_account_balance ORDER BY 1$$,
                  $$SELECT account, -all_2 FROM expect ORDER BY 1$$, 'the new schedule everywhere');

-- a person who gets an account is fetched from "since"; one who leaves the list is forgotten
DELETE FROM tempo_fdw.time_account_people WHERE schema_name = 'hs' AND account_id = :'p2';
\! curl -s "$TEMPO_SIM_URL/_reset?tag=tap_hs" >/dev/null
CALL tempo_fdw.sync('hs');
SELECT results_eq($$SELECT account_id, count(*) FROM hs.schedule_snapshot GROUP BY 1 UNION ALL SELECT 'fetched', count(*) FROM hs.schedule_fetched$$,
                  format($$VALUES (%L, %s::bigint), ('fetched', 1)$$, :'p1', :'today'::date - :'since'::date + 1),
                  'someone no longer listed: their schedule is no longer kept');
INSERT INTO tempo_fdw.time_account_people (schema_name, account_id, first_day) VALUES ('hs', :'p2', :'since');
\! curl -s "$TEMPO_SIM_URL/_reset?tag=tap_hs" >/dev/null
CALL tempo_fdw.sync('hs');
SELECT results_eq($$SELECT * FROM pg_temp.schedule_requests('tap_hs')$$,
                  format($$VALUES (%L, %L, 200), (%L, %L, 200)$$, :'p1', 'from=' || :'today' || '&to=' || :'today',
                         :'p2', 'from=' || :'since' || '&to=' || :'today'),
                  'someone listed again: every day since "since"; the other only today');

-- ---------------------------------------------------------------------
-- 2. refresh (snapshot mode) fetches incrementally too
CREATE SCHEMA hs_snap;
IMPORT FOREIGN SCHEMA tempo FROM SERVER hs_srv INTO hs_snap;
INSERT INTO tempo_fdw.time_account_people (schema_name, account_id, first_day) VALUES ('hs_snap', :'p1', :'since');
SELECT lives_ok(format($$SELECT tempo_fdw.create_time_accounts('hs_snap', %L, people => 'listed', time_zone => 'UTC')$$, :'since'),
                'snapshot accounts');
\! curl -s "$TEMPO_SIM_URL/_reset?tag=tap_hs" >/dev/null
CALL tempo_fdw.refresh('hs_snap');
SELECT results_eq($$SELECT * FROM pg_temp.schedule_requests('tap_hs')$$,
                  format($$VALUES (%L, %L, 200)$$, :'p1', 'from=' || :'recheck_from' || '&to=' || :'today'),
                  'a refresh asks for the last 31 days only');
SELECT is((SELECT balance_seconds FROM hs_snap.time_account_balance), (SELECT -all_2 FROM expect WHERE account = :'p1'),
          'and its balance is right');

-- ---------------------------------------------------------------------
-- 3. schedules => 'tempo_or_local': a token without "View schemes"
\set t :sim '/@tag=tap_hs403,fault=403,fault_on=user-schedule/4'
CREATE SERVER hs403 FOREIGN DATA WRAPPER tempo_fdw OPTIONS (tempo_url :'t', max_requests_per_second '0', max_retries '0');
CREATE USER MAPPING FOR PUBLIC SERVER hs403 OPTIONS (token 'tempo-test-token');
CREATE SCHEMA hs_l;
IMPORT FOREIGN SCHEMA tempo FROM SERVER hs403 INTO hs_l;
INSERT INTO tempo_fdw.holiday_calendars (calendar) VALUES ('HS-test');
INSERT INTO tempo_fdw.holidays (calendar, date, name, fraction)
VALUES ('HS-test', '2024-12-24', 'Christmas Eve', 0.5), ('HS-test', '2024-12-25', 'Christmas Day', NULL),
       ('HS-test', '2024-12-26', 'Boxing Day', NULL);
INSERT INTO tempo_fdw.time_account_people (schema_name, account_id, first_day) VALUES ('hs_l', 'hs-anna', '2024-12-01');
INSERT INTO tempo_fdw.time_account_contracts (account_id, valid_from, monday_hours, tuesday_hours, wednesday_hours, thursday_hours, friday_hours)
VALUES ('hs-anna', '2024-12-01', 8, 8, 8, 8, 8);

SELECT throws_ok($$SELECT tempo_fdw.create_time_accounts('hs_l', '2024-12-01', '2024-12-31', people => 'listed', calendar => 'HS-test')$$,
                 '42501', 'the Tempo token of schema "hs_l" cannot read user schedules',
                 'schedules => tempo (the default): the clear error stays');
SELECT matches(pg_temp.hint_of($$SELECT tempo_fdw.create_time_accounts('hs_l', '2024-12-01', '2024-12-31', people => 'listed', calendar => 'HS-test')$$),
               'schedules => ''tempo_or_local''', 'and its hint names schedules => ''tempo_or_local''');
\! curl -s "$TEMPO_SIM_URL/_reset?tag=tap_hs403" >/dev/null
SELECT is(tempo_fdw.create_time_accounts('hs_l', '2024-12-01', '2024-12-31', people => 'listed', calendar => 'HS-test',
                                         schedules => 'tempo_or_local'),
          'time accounts in schema hs_l from 2024-12-01 to 2024-12-31 (schedules => local: the token cannot read Tempo''s schedules)',
          'schedules => tempo_or_local: made, with local schedules, and it says so');
SELECT is((SELECT schedules FROM tempo_fdw.time_accounts WHERE schema_name = 'hs_l'), 'local', 'recorded as local');
SELECT results_eq($$SELECT account, query, status FROM pg_temp.schedule_requests('tap_hs403')$$,
                  format($$VALUES ('', %L, 403)$$, 'from=' || :'today' || '&to=' || :'today'),
                  'one schedule request (the token''s own, today): 403; no person''s schedule was asked for');
-- December 2024: 22 weekdays of 8 h, less two holidays and a half one
SELECT results_eq($$SELECT account_id, balance_seconds FROM hs_l.time_account_balance$$,
                  $$VALUES ('hs-anna', -(22 * 8 - 16 - 4) * 3600::bigint)$$,
                  'contract and local calendar: 156 h required in December');
CALL tempo_fdw.refresh('hs_l');
SELECT results_eq($$SELECT outcome, schedule_rows FROM tempo_fdw.refresh_log WHERE schema_name = 'hs_l' ORDER BY run_id DESC LIMIT 1$$,
                  $$VALUES ('ok', 0::bigint)$$, 'a refresh then works, and asks for no schedule');
SELECT is((SELECT count(*) FROM pg_temp.schedule_requests('tap_hs403')), 1::bigint, 'still the one request');

-- with a token that may read schedules, tempo_or_local takes Tempo's
CREATE SCHEMA hs_t;
IMPORT FOREIGN SCHEMA tempo FROM SERVER hs_srv INTO hs_t;
SELECT is(tempo_fdw.create_time_accounts('hs_t', '2024-12-01', '2024-12-31', schedules => 'tempo_or_local', populate => false),
          'time accounts in schema hs_t from 2024-12-01 to 2024-12-31', 'schedules => tempo_or_local with "View schemes"');
SELECT is((SELECT schedules FROM tempo_fdw.time_accounts WHERE schema_name = 'hs_t'), 'tempo', 'recorded as tempo');

-- Tempo failing otherwise (500) is no reason to fall back
\set t :sim '/@tag=tap_hs,fault=500,fault_on=user-schedule/4'
ALTER SERVER hs_srv OPTIONS (SET tempo_url :'t');
SELECT throws_ok($$SELECT tempo_fdw.create_time_accounts('hs_t', '2024-12-01', '2024-12-31', schedules => 'tempo_or_local', populate => false)$$,
                 'HV00N', NULL, 'a 500 on the schedule check is an error, not a fall back');

SELECT * FROM finish();
DROP EXTENSION tempo_fdw CASCADE;
DROP SCHEMA hs CASCADE;
DROP SCHEMA hs_snap CASCADE;
DROP SCHEMA hs_l CASCADE;
DROP SCHEMA hs_t CASCADE;
\! curl -s "$TEMPO_SIM_URL/_reset" >/dev/null
