-- pgTAP: operations of the time accounts (issue #14, item 6).
--   1. contracts per time-account schema: a schema's own contract takes
--      precedence over one of no schema; an unknown account fails the
--      refresh (and the sync) of its own schema only, named;
--   2. no overlapping contracts, also between two REPEATABLE READ
--      transactions (dblink); valid_to before valid_from is the CHECK's
--      error;
--   3. the view time_account_weekly, against figures computed here (hours
--      by hand, logged time from the foreign table by to_char's ISO week);
--   4. the view time_account_status, and its grants;
--   5. prune_refresh_log, with exact row counts.
-- Not one transaction: refresh commits.
\ir include/setup.sql
\ir include/helpers.sql
DROP SCHEMA IF EXISTS ops_a, ops_b, ops_s, ops_w, ops_x CASCADE;
CALL pg_temp.drop_roles('ops_bi');
CREATE EXTENSION tempo_fdw;
CREATE EXTENSION IF NOT EXISTS dblink;
SELECT plan(32);
\! curl -s "$TEMPO_SIM_URL/_reset?tag=ops" >/dev/null

\set t :sim '/@tag=ops/4'
CREATE SERVER ops_srv FOREIGN DATA WRAPPER tempo_fdw OPTIONS (tempo_url :'t', max_requests_per_second '0', max_retries '0');
CREATE USER MAPPING FOR PUBLIC SERVER ops_srv OPTIONS (token 'tempo-test-token');
CREATE SCHEMA ops_a;
CREATE SCHEMA ops_b;
CREATE SCHEMA ops_w;
CREATE SCHEMA ops_x;
IMPORT FOREIGN SCHEMA tempo FROM SERVER ops_srv INTO ops_a;
IMPORT FOREIGN SCHEMA tempo FROM SERVER ops_srv INTO ops_b;
IMPORT FOREIGN SCHEMA tempo FROM SERVER ops_srv INTO ops_w;
IMPORT FOREIGN SCHEMA tempo FROM SERVER ops_srv INTO ops_x;
-- a person who logs time in December 2024
SELECT min(author_account_id) AS p FROM ops_w.worklogs WHERE start_date = '2024-12-02' \gset

-- ---------------------------------------------------------------------
-- 1. contracts per schema
-- ---------------------------------------------------------------------
SELECT tempo_fdw.fill_holiday_calendar('ops_de', 'DE', 2024, 2024) AS filled \gset
INSERT INTO tempo_fdw.time_account_people (schema_name, account_id, first_day, opening_balance_hours)
VALUES ('ops_w', :'p', '2024-12-04', 10), ('ops_x', :'p', '2024-12-01', 0);
-- ops_w's own: 8 h Monday to Friday; of no schema: 4 h Monday to Friday
INSERT INTO tempo_fdw.time_account_contracts (schema_name, account_id, valid_from, monday_hours, tuesday_hours,
                                              wednesday_hours, thursday_hours, friday_hours)
VALUES ('ops_w', :'p', '2024-01-01', 8, 8, 8, 8, 8), (NULL, :'p', '2024-06-01', 4, 4, 4, 4, 4);
INSERT INTO tempo_fdw.time_account_adjustments (schema_name, account_id, date, hours, reason)
VALUES ('ops_w', :'p', '2024-12-10', -2, 'correction');
SELECT tempo_fdw.create_time_accounts(s, '2024-12-01', '2024-12-31', schedules => 'local', people => 'listed',
                                      calendar => 'ops_de') IS NOT NULL AS made
  FROM unnest(ARRAY['ops_w', 'ops_x']) s \g /dev/null
-- December 2024 from the 4th: 20 working days less 25 and 26 December = 18;
-- from the 1st: 21 = 22 less the two holidays (1 December is a Sunday)
SELECT results_eq($$SELECT 'ops_w', sum(required_seconds), min(required_source) FROM ops_w.time_account_daily
                    UNION ALL SELECT 'ops_x', sum(required_seconds), min(required_source) FROM ops_x.time_account_daily$$,
                  $$VALUES ('ops_w', 18 * 8 * 3600::numeric, 'contract'), ('ops_x', 20 * 4 * 3600::numeric, 'contract')$$,
                  'a schema''s own contract takes precedence; the contract of no schema applies elsewhere');

-- an unknown account in a contract of ops_a fails ops_a only, named
INSERT INTO tempo_fdw.time_account_contracts (schema_name, account_id, valid_from, monday_hours)
VALUES ('ops_a', 'ops-nobody', '2024-01-01', 8);
SELECT tempo_fdw.create_time_accounts(s, '2024-12-02', '2024-12-03', populate => false) IS NOT NULL AS made
  FROM unnest(ARRAY['ops_a', 'ops_b']) s \g /dev/null
\set ON_ERROR_STOP off
CALL tempo_fdw.refresh('ops_a');
\set ON_ERROR_STOP on
SELECT is(:'LAST_ERROR_SQLSTATE' || ' ' || regexp_replace(:'LAST_ERROR_MESSAGE', 'GET /\S*/4/', 'GET /4/'),
          'HV00R refresh of the time accounts in "ops_a" failed: Tempo answered 404 Not Found for GET /4/user-schedule/ops-nobody?from=2024-12-02&to=2024-12-03',
          'an unknown account fails the refresh of its schema, with the request naming it');
SELECT run_id AS bad_run FROM tempo_fdw.refresh_log WHERE schema_name = 'ops_a' ORDER BY run_id DESC LIMIT 1 \gset
CREATE FUNCTION pg_temp.detail_hint_of(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  d text; h text;
BEGIN
  EXECUTE q;
  RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
  RETURN d || ' / ' || h;
END $$;
SELECT is(pg_temp.detail_hint_of($$SELECT tempo_fdw.create_time_accounts('ops_a', '2024-12-02', '2024-12-03')$$),
          'Tempo knows no user ''ops-nobody''. These accounts read the schedule of every person of time_account_people '
          'and every holder of a contract of schema "ops_a" (or of no schema), and with people => ''authors'' of every '
          'worklog author; the accounts of other schemas are not affected. / Correct the account id, or remove it: '
          'DELETE FROM tempo_fdw.time_account_contracts WHERE schema_name = ''ops_a'' AND account_id = ''ops-nobody'';',
          'the detail says which account and where it comes from, the hint how to remove it');
CALL tempo_fdw.refresh('ops_b');
SELECT results_eq($$SELECT schema_name::text COLLATE "default", outcome FROM tempo_fdw.refresh_log WHERE schema_name IN ('ops_a', 'ops_b') ORDER BY run_id$$,
                  $$VALUES ('ops_a', 'failed'), ('ops_b', 'ok')$$,
                  'the other schema refreshes fine');
\set log `curl -s "$TEMPO_SIM_URL/_log?tag=ops"`
SELECT is((SELECT count(*) FROM jsonb_array_elements(:'log'::jsonb) e WHERE e ->> 'path' LIKE '%/user-schedule/ops-nobody'),
          2::bigint, 'ops_b never asked for the schedule of ops_a''s unknown account (ops_a''s refresh and create_time_accounts did)');
SELECT ok((SELECT count(*) > 0 FROM ops_b.schedule_snapshot WHERE account_id = :'p'),
          'ops_b has the schedules of its people, the holder of the contract of no schema too');
-- sync names the unknown account as refresh does (refresh_schedules does it
-- for both)
CREATE SCHEMA ops_s;
IMPORT FOREIGN SCHEMA tempo LIMIT TO (worklogs, user_schedules) FROM SERVER ops_srv INTO ops_s;
INSERT INTO tempo_fdw.time_account_contracts (schema_name, account_id, valid_from, monday_hours)
VALUES ('ops_s', 'ops-nobody', '2024-01-01', 8);
SELECT tempo_fdw.create_time_accounts('ops_s', '2024-12-02', '2024-12-03', mode => 'sync', populate => false) IS NOT NULL AS made \gset
\set ON_ERROR_STOP off
CALL tempo_fdw.sync('ops_s');
\set ON_ERROR_STOP on
SELECT is(:'LAST_ERROR_SQLSTATE' || ' ' || regexp_replace(:'LAST_ERROR_MESSAGE', 'GET /\S*/4/', 'GET /4/'),
          'HV00R sync of the worklogs in "ops_s" failed: Tempo answered 404 Not Found for GET /4/user-schedule/ops-nobody?from=2024-12-02&to=2024-12-03',
          'an unknown account fails the sync of its schema, with the request naming it');
SELECT is(pg_temp.detail_hint_of($$SELECT tempo_fdw.refresh_schedules('ops_s', 'postgres')$$),
          'Tempo knows no user ''ops-nobody''. These accounts read the schedule of every person of time_account_people '
          'and every holder of a contract of schema "ops_s" (or of no schema), and with people => ''authors'' of every '
          'worklog author; the accounts of other schemas are not affected. / Correct the account id, or remove it: '
          'DELETE FROM tempo_fdw.time_account_contracts WHERE schema_name = ''ops_s'' AND account_id = ''ops-nobody'';',
          'the schedules of a sync say which account and where it comes from, as a refresh''s');

-- ---------------------------------------------------------------------
-- 2. overlapping contracts
-- ---------------------------------------------------------------------
SELECT is(pg_temp.error_of(format($$INSERT INTO tempo_fdw.time_account_contracts (schema_name, account_id, valid_from, valid_to)
                                    VALUES ('ops_w', %L, '2024-12-01', '2024-12-31')$$, :'p')),
          format('23P01 | contract of "%s" from 2024-12-01 overlaps another contract of that person in "ops_w"', :'p'),
          'an overlapping contract in the same schema is refused');
SELECT is(pg_temp.error_of(format($$INSERT INTO tempo_fdw.time_account_contracts (schema_name, account_id, valid_from, valid_to)
                                    VALUES ('ops_b', %L, '2024-12-01', '2024-12-31'), ('ops_b', %L, '2024-12-31', NULL)$$, :'p', :'p')),
          format('23P01 | contract of "%s" from 2024-12-31 overlaps another contract of that person in "ops_b"', :'p'),
          'two overlapping contracts in one statement are refused');
SELECT is(pg_temp.error_of(format($$INSERT INTO tempo_fdw.time_account_contracts (schema_name, account_id, valid_from, valid_to)
                                    VALUES ('ops_b', %L, '2024-12-01', '2024-12-31')$$, :'p')),
          'no error', 'a contract of the same person in another schema is not an overlap');
SELECT is(pg_temp.error_of(format($$INSERT INTO tempo_fdw.time_account_contracts (schema_name, account_id, valid_from, valid_to)
                                    VALUES ('ops_b', %L, '2024-12-31', '2024-12-01')$$, :'p')),
          '23514 | new row for relation "time_account_contracts" violates check constraint "contract_ends_before_it_starts"',
          'valid_to before valid_from: the CHECK''s error, not a range error');

-- two sessions under REPEATABLE READ (and READ COMMITTED): the second of two
-- overlapping inserts fails, whether it waited for the first or not
CREATE FUNCTION public.ops_try(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  st text;
BEGIN
  EXECUTE q;
  RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE;
  RETURN st;
END $$;
CREATE FUNCTION pg_temp.wait_for_lock(backend integer) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
  FOR i IN 1 .. 200 LOOP
    IF EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.pid = backend AND a.wait_event_type = 'Lock') THEN
      RETURN true;
    END IF;
    PERFORM pg_sleep(0.05);
  END LOOP;
  RETURN false;
END $$;
SELECT format('dbname=%s port=%s host=%s user=%s', current_database(), current_setting('port'),
              current_setting('unix_socket_directories'), current_user) AS conn \gset
SELECT dblink_connect('ops_1', :'conn') AS c1, dblink_connect('ops_2', :'conn') AS c2 \gset
\set ins1 'INSERT INTO tempo_fdw.time_account_contracts (schema_name, account_id, valid_from, valid_to) VALUES (''ops_x'', ''ops-rr'', ''2025-01-01'', ''2025-06-30'')'
\set ins2 'INSERT INTO tempo_fdw.time_account_contracts (schema_name, account_id, valid_from, valid_to) VALUES (''ops_x'', ''ops-rr'', ''2025-03-01'', NULL)'
CREATE FUNCTION pg_temp.race(level text, wait boolean, ins1 text, ins2 text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  r1 text; r2 text; waited boolean := false; pid2 integer;
BEGIN
  PERFORM dblink_exec('ops_1', 'DELETE FROM tempo_fdw.time_account_contracts WHERE account_id = ''ops-rr''');
  SELECT t.pid INTO pid2 FROM dblink('ops_2', 'SELECT pg_backend_pid()') AS t(pid integer);
  PERFORM dblink_exec('ops_1', 'BEGIN ISOLATION LEVEL ' || level);
  PERFORM dblink_exec('ops_2', 'BEGIN ISOLATION LEVEL ' || level);
  -- both take their snapshots now
  PERFORM * FROM dblink('ops_1', 'SELECT count(*) FROM tempo_fdw.time_account_contracts') AS t(n bigint);
  PERFORM * FROM dblink('ops_2', 'SELECT count(*) FROM tempo_fdw.time_account_contracts') AS t(n bigint);
  SELECT t.r INTO r1 FROM dblink('ops_1', format('SELECT public.ops_try(%L)', ins1)) AS t(r text);
  IF wait THEN
    PERFORM dblink_send_query('ops_2', format('SELECT public.ops_try(%L)', ins2));
    waited := pg_temp.wait_for_lock(pid2);
    PERFORM dblink_exec('ops_1', 'COMMIT');
    SELECT t.r INTO r2 FROM dblink_get_result('ops_2') AS t(r text);
    PERFORM * FROM dblink_get_result('ops_2') AS t(r text);
  ELSE
    PERFORM dblink_exec('ops_1', 'COMMIT');
    SELECT t.r INTO r2 FROM dblink('ops_2', format('SELECT public.ops_try(%L)', ins2)) AS t(r text);
  END IF;
  PERFORM dblink_exec('ops_2', 'COMMIT');
  RETURN format('%s %s%s, %s contract(s)', r1, r2, CASE WHEN waited THEN ' (waited)' ELSE '' END,
                (SELECT count(*) FROM tempo_fdw.time_account_contracts WHERE account_id = 'ops-rr'));
END $$;
SELECT is(pg_temp.race('REPEATABLE READ', false, :'ins1', :'ins2'), 'ok 40001, 1 contract(s)',
          'REPEATABLE READ: the second insert, after the first committed, fails with 40001 (1.0 took both)');
SELECT is(pg_temp.race('REPEATABLE READ', true, :'ins1', :'ins2'), 'ok 40001 (waited), 1 contract(s)',
          'REPEATABLE READ: the second insert waits for the first, then fails with 40001');
SELECT is(pg_temp.race('SERIALIZABLE', true, :'ins1', :'ins2'), 'ok 40001 (waited), 1 contract(s)',
          'SERIALIZABLE: likewise');
SELECT is(pg_temp.race('READ COMMITTED', true, :'ins1', :'ins2'), 'ok 23P01 (waited), 1 contract(s)',
          'READ COMMITTED: the second waits, then sees the first and fails with 23P01');
SELECT is(pg_temp.race('REPEATABLE READ', false, :'ins1', replace(:'ins2', '''ops_x''', '''ops_w''')), 'ok ok, 2 contract(s)',
          'REPEATABLE READ: contracts of one person in two schemas are independent');
SELECT dblink_disconnect('ops_1') || dblink_disconnect('ops_2') AS gone \gset
DROP FUNCTION public.ops_try(text);
DELETE FROM tempo_fdw.time_account_contracts WHERE account_id = 'ops-rr';

-- ---------------------------------------------------------------------
-- 3. time_account_weekly
-- ---------------------------------------------------------------------
-- required by hand (8 h a working day from Wednesday 4 December; 25 and 26
-- December are holidays; 30 December 2024 is in ISO week 1 of 2025);
-- logged from the foreign table, by to_char's ISO year and week
CREATE TEMP TABLE ops_expect AS
SELECT e.week, e.iso_year, e.iso_week, e.required_hours * 3600 AS required_seconds,
       coalesce((SELECT sum(w.time_spent_seconds) FROM ops_w.worklogs w
                  WHERE w.author_account_id = :'p' AND w.start_date BETWEEN '2024-12-04' AND '2024-12-31'
                    AND to_char(w.start_date, 'IYYY-IW') = format('%s-%s', e.iso_year, lpad(e.iso_week::text, 2, '0'))), 0) AS logged_seconds,
       e.adjustment_hours * 3600 AS adjustment_seconds
  FROM (VALUES ('2024-12-02'::date, 2024, 49, 24, 0), ('2024-12-09', 2024, 50, 40, -2), ('2024-12-16', 2024, 51, 40, 0),
               ('2024-12-23', 2024, 52, 24, 0), ('2024-12-30', 2025, 1, 16, 0)) e(week, iso_year, iso_week, required_hours, adjustment_hours);
SELECT results_eq($$SELECT week, iso_year, iso_week, required_seconds, logged_seconds, adjustment_seconds,
                           cumulative_balance_seconds FROM ops_w.time_account_weekly ORDER BY week$$,
                  $$SELECT e.week, e.iso_year, e.iso_week, e.required_seconds::bigint, e.logged_seconds::bigint, e.adjustment_seconds::bigint,
                           (10 * 3600 + (SELECT sum(x.logged_seconds - x.required_seconds + x.adjustment_seconds)
                                           FROM ops_expect x WHERE x.week <= e.week))::bigint
                      FROM ops_expect e ORDER BY e.week$$,
                  'time_account_weekly: ISO weeks, required, logged, adjustments and the running balance');
SELECT ok((SELECT sum(logged_seconds) > 0 FROM ops_expect), 'the person logged time in those weeks (the test is not vacuous)');
SELECT is((SELECT cumulative_balance_seconds FROM ops_w.time_account_weekly ORDER BY week DESC LIMIT 1),
          (SELECT balance_seconds FROM ops_w.time_account_balance), 'its last running balance is the balance');

-- ---------------------------------------------------------------------
-- 4. time_account_status
-- ---------------------------------------------------------------------
SELECT results_eq($$SELECT s.schema_name::text COLLATE "default", s.mode, s.schedules, s.last_good_refresh, s.data_as_of, s.source, s.counted_through,
                           s.last_run_kind, s.last_outcome, s.last_error_at, s.last_error FROM ops_b.time_account_status s$$,
                  $$SELECT 'ops_b', 'snapshot', 'tempo', l.finished_at, l.started_at, 'tempo', '2024-12-03'::date,
                           'refresh', 'ok', NULL::timestamptz, NULL::text
                      FROM tempo_fdw.refresh_log l WHERE l.schema_name = 'ops_b'$$,
                  'time_account_status after a good refresh');
SELECT results_eq($$SELECT s.last_good_refresh, s.source, s.last_outcome, s.last_error_at, s.last_error FROM ops_a.time_account_status s$$,
                  format($$SELECT NULL::timestamptz, NULL::text, 'failed', l.finished_at, l.error
                            FROM tempo_fdw.refresh_log l WHERE l.run_id = %s$$, :bad_run),
                  'and after failed ones: no good refresh, the last error');
SELECT ok((SELECT last_error LIKE 'Tempo answered 404 Not Found for GET %/user-schedule/ops-nobody?%' FROM ops_a.time_account_status),
          'the last error names the request');
-- the readers of the views may read the status, also after the accounts are made again
CREATE ROLE ops_bi;
GRANT USAGE ON SCHEMA ops_b TO ops_bi;
GRANT SELECT ON ops_b.time_account_balance TO ops_bi;
SELECT tempo_fdw.create_time_accounts('ops_b', '2024-12-02', '2024-12-03', populate => false) IS NOT NULL AS made \gset
SET ROLE ops_bi;
SELECT is((SELECT last_outcome FROM ops_b.time_account_status), 'ok', 'a role that may read the balance reads the status');
RESET ROLE;
CREATE FUNCTION pg_temp.bi_reads() RETURNS text LANGUAGE sql AS $$
  SELECT string_agg(c, ', ' ORDER BY c) FROM unnest(ARRAY['time_account_daily', 'time_account_weekly', 'time_account_monthly',
                                                          'time_account_balance', 'time_account_status']) c
   WHERE has_table_privilege('ops_bi', 'ops_b.' || c, 'SELECT') $$;
SELECT is(pg_temp.bi_reads(), 'time_account_balance, time_account_status',
          'the status goes to the readers of the other views; the grants given stay');
-- accounts made before the weekly view existed: it goes to the readers too
DROP VIEW ops_b.time_account_weekly;
SELECT tempo_fdw.create_time_accounts('ops_b', '2024-12-02', '2024-12-03', populate => false) IS NOT NULL AS made \gset
SELECT is(pg_temp.bi_reads(), 'time_account_balance, time_account_status, time_account_weekly',
          'a weekly view made for accounts that had none goes to the readers of the others');
REVOKE SELECT ON ops_b.time_account_weekly FROM ops_bi;
SELECT tempo_fdw.create_time_accounts('ops_b', '2024-12-02', '2024-12-03', populate => false) IS NOT NULL AS made \gset
SELECT is(has_table_privilege('ops_bi', 'ops_b.time_account_weekly', 'SELECT'), false,
          'a grant revoked from a view stays revoked when the accounts are made again');

-- ---------------------------------------------------------------------
-- 5. prune_refresh_log
-- ---------------------------------------------------------------------
-- ops_log: 12 refreshes 200 to 189 days ago (the 3rd ok, the others
-- failed), 4 syncs 100 to 97 days ago (all ok), 2 refreshes 10 days ago
-- (failed) and one running since 120 days
INSERT INTO tempo_fdw.refresh_log (schema_name, kind, started_at, finished_at, outcome)
SELECT 'ops_log', 'refresh', now() - (200 - i) * interval '1 day', now() - (200 - i) * interval '1 day',
       CASE WHEN i = 2 THEN 'ok' ELSE 'failed' END
  FROM generate_series(0, 11) i;
INSERT INTO tempo_fdw.refresh_log (schema_name, kind, started_at, finished_at, outcome)
SELECT 'ops_log', 'sync', now() - (100 - i) * interval '1 day', now() - (100 - i) * interval '1 day', 'ok'
  FROM generate_series(0, 3) i;
INSERT INTO tempo_fdw.refresh_log (schema_name, kind, started_at, finished_at, outcome)
VALUES ('ops_log', 'refresh', now() - interval '120 days', NULL, 'running'),
       ('ops_log', 'refresh', now() - interval '10 days', now() - interval '10 days', 'failed'),
       ('ops_log', 'refresh', now() - interval '10 days', now() - interval '10 days', 'failed');
SELECT (SELECT count(*) FROM tempo_fdw.refresh_log) AS before_all \gset
-- keep 90 days and the last 2 runs of each kind: of the refreshes the
-- running one stays, the two recent ones are the last 2, the ok one (the
-- 3rd) stays: 11 of 12 go; of the syncs the last 2 stay, and 2 go
SELECT is(tempo_fdw.prune_refresh_log(90, 2, 'ops_log'), 13::bigint, 'prune_refresh_log(90, 2) deletes 13 rows of ops_log');
SELECT is((SELECT count(*) FROM tempo_fdw.refresh_log), (:before_all - 13)::bigint, 'and no row of another schema');
SELECT results_eq($$SELECT kind, outcome, extract(day FROM now() - started_at)::integer FROM tempo_fdw.refresh_log WHERE schema_name = 'ops_log' ORDER BY run_id$$,
                  $$VALUES ('refresh', 'ok', 198), ('sync', 'ok', 98), ('sync', 'ok', 97),
                           ('refresh', 'running', 120), ('refresh', 'failed', 10), ('refresh', 'failed', 10)$$,
                  'what stays: the last good refresh, the last 2 syncs, the running run, the recent ones');
SELECT is(tempo_fdw.prune_refresh_log(0, 0, 'ops_log'), 3::bigint,
          'prune_refresh_log(0, 0) leaves the last good run of each kind and the running one');
SELECT is(pg_temp.error_of($$SELECT tempo_fdw.prune_refresh_log(-1)$$), '22023 | keep_days and keep_last must be 0 or more',
          'a negative number of days is refused');
DELETE FROM tempo_fdw.refresh_log WHERE schema_name = 'ops_log';

SELECT * FROM finish();
DROP EXTENSION tempo_fdw CASCADE;
DROP SCHEMA ops_a, ops_b, ops_s, ops_w, ops_x CASCADE;
DROP OWNED BY ops_bi CASCADE;
DROP ROLE ops_bi;
\! curl -s "$TEMPO_SIM_URL/_reset?tag=ops" >/dev/null
