-- pgTAP: time accounts of roles that are not superusers (issue #14,
-- item 7).  Two roles, each with USAGE on the server, a schema of its own
-- and grant_time_accounts, make, fill and refresh their own accounts;
-- each then tries to read, insert, update and delete the other's people,
-- contracts, absences, adjustments and runs, and to run its accounts.
-- A BI role granted SELECT on one view reads exact figures through it.
-- Not one transaction: refresh commits.
\ir include/setup.sql
\ir include/helpers.sql
DROP SCHEMA IF EXISTS hro_1, hro_2 CASCADE;
CALL pg_temp.drop_roles('hro_r1', 'hro_r2', 'hro_bi', 'hro Odd');
CREATE EXTENSION tempo_fdw;
SELECT plan(33);
\! curl -s "$TEMPO_SIM_URL/_reset?tag=hro" >/dev/null
GRANT EXECUTE ON FUNCTION pg_temp.error_of(text), pg_temp.rows_of(text) TO PUBLIC;

\set t :sim '/@tag=hro/4'
CREATE SERVER hro_srv FOREIGN DATA WRAPPER tempo_fdw OPTIONS (tempo_url :'t', max_requests_per_second '0', max_retries '0');
CREATE USER MAPPING FOR PUBLIC SERVER hro_srv OPTIONS (token 'tempo-test-token');
SELECT tempo_fdw.fill_holiday_calendar('hro_de', 'DE', 2024, 2024) AS filled \gset
CREATE ROLE hro_r1;
CREATE ROLE hro_r2;
CREATE ROLE hro_bi;
GRANT USAGE ON FOREIGN SERVER hro_srv TO hro_r1, hro_r2;
CREATE SCHEMA hro_1 AUTHORIZATION hro_r1;
CREATE SCHEMA hro_2 AUTHORIZATION hro_r2;
SELECT tempo_fdw.grant_time_accounts('hro_r1') IS NULL AS granted \gset
SELECT tempo_fdw.grant_time_accounts('hro_r2') IS NULL AS granted \gset

-- ---------------------------------------------------------------------
-- each role makes, fills and refreshes its own accounts
-- ---------------------------------------------------------------------
SET ROLE hro_r1;
IMPORT FOREIGN SCHEMA tempo FROM SERVER hro_srv INTO hro_1;
SELECT min(author_account_id) AS p1, max(author_account_id) AS p2 FROM hro_1.worklogs WHERE start_date = '2024-12-02' \gset
RESET ROLE;
SELECT isnt(:'p1'::text, :'p2'::text, 'two people log time on 2 December 2024');

CREATE FUNCTION pg_temp.fill(schema text, person text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO tempo_fdw.time_account_people (schema_name, account_id, display_name, first_day, opening_balance_hours)
  VALUES (schema, person, 'P of ' || schema, '2024-12-02', 5);
  INSERT INTO tempo_fdw.time_account_contracts (schema_name, account_id, valid_from, monday_hours, tuesday_hours,
                                                wednesday_hours, thursday_hours, friday_hours, note)
  VALUES (schema, person, '2024-01-01', 8, 8, 8, 8, 8, 'secret of ' || schema);
  INSERT INTO tempo_fdw.time_account_absences (schema_name, account_id, first_day, kind, note)
  VALUES (schema, person, '2024-12-03', 'sick', 'secret of ' || schema);
  INSERT INTO tempo_fdw.time_account_adjustments (schema_name, account_id, date, hours, reason)
  VALUES (schema, person, '2024-12-04', 1, 'secret of ' || schema);
END $$;
GRANT EXECUTE ON FUNCTION pg_temp.fill(text, text) TO PUBLIC;

SET ROLE hro_r1;
SELECT pg_temp.fill('hro_1', :'p1');
SELECT tempo_fdw.create_time_accounts('hro_1', '2024-12-02', '2024-12-06', schedules => 'local', people => 'listed',
                                      calendar => 'hro_de', populate => false) IS NOT NULL AS made \gset
CALL tempo_fdw.refresh('hro_1');
SET ROLE hro_r2;
IMPORT FOREIGN SCHEMA tempo FROM SERVER hro_srv INTO hro_2;
SELECT pg_temp.fill('hro_2', :'p2');
SELECT tempo_fdw.create_time_accounts('hro_2', '2024-12-02', '2024-12-06', schedules => 'local', people => 'listed',
                                      calendar => 'hro_de') IS NOT NULL AS made \gset
CALL tempo_fdw.refresh('hro_2');
RESET ROLE;
SELECT results_eq($$SELECT schema_name::text COLLATE "default", outcome FROM tempo_fdw.refresh_log ORDER BY run_id$$,
                  $$VALUES ('hro_1', 'ok'), ('hro_2', 'ok')$$, 'both roles made, filled and refreshed their accounts');
-- 5 h opening + 1 h adjustment + logged - 4 days of 8 h (3 December: sick)
SELECT results_eq($$SELECT account_id, balance_seconds, display_name FROM hro_1.time_account_balance
                    UNION ALL SELECT account_id, balance_seconds, display_name FROM hro_2.time_account_balance$$,
                  format($$SELECT %L::text, (6 * 3600 - 32 * 3600 + (SELECT sum(time_spent_seconds) FROM hro_1.worklogs
                                       WHERE author_account_id = %L AND start_date BETWEEN '2024-12-02' AND '2024-12-06'))::bigint, 'P of hro_1'
                           UNION ALL
                           SELECT %L::text, (6 * 3600 - 32 * 3600 + (SELECT sum(time_spent_seconds) FROM hro_2.worklogs
                                       WHERE author_account_id = %L AND start_date BETWEEN '2024-12-02' AND '2024-12-06'))::bigint, 'P of hro_2'$$,
                         :'p1', :'p1', :'p2', :'p2'),
                  'each account counts its own opening balance, contract, absence and adjustment');
SELECT results_eq($$SELECT owner::text FROM tempo_fdw.time_accounts ORDER BY schema_name$$, $$VALUES ('hro_r1'), ('hro_r2')$$,
                  'the accounts belong to the roles that made them');

-- ---------------------------------------------------------------------
-- hro_r2 against hro_r1's rows
-- ---------------------------------------------------------------------
SET ROLE hro_r2;
SELECT is((SELECT string_agg(t || ' ' || n, ', ' ORDER BY t) FROM (
             SELECT 'people' AS t, count(*) AS n FROM tempo_fdw.time_account_people
             UNION ALL SELECT 'contracts', count(*) FROM tempo_fdw.time_account_contracts
             UNION ALL SELECT 'absences', count(*) FROM tempo_fdw.time_account_absences
             UNION ALL SELECT 'adjustments', count(*) FROM tempo_fdw.time_account_adjustments
             UNION ALL SELECT 'refresh_log', count(*) FROM tempo_fdw.refresh_log
             UNION ALL SELECT 'time_accounts', count(*) FROM tempo_fdw.time_accounts
             UNION ALL SELECT 'objects', count(*) FROM tempo_fdw.time_account_objects WHERE schema_name = 'hro_1'
             UNION ALL SELECT 'sync_state', count(*) FROM tempo_fdw.sync_state) x),
          'absences 1, adjustments 1, contracts 1, objects 0, people 1, refresh_log 1, sync_state 0, time_accounts 1',
          'hro_r2 sees its own rows only');
SELECT is((SELECT count(*) FROM tempo_fdw.time_account_contracts WHERE note = 'secret of hro_1'), 0::bigint,
          'not even by asking for them');
SELECT is(pg_temp.error_of(format($$INSERT INTO tempo_fdw.time_account_people (schema_name, account_id, first_day) VALUES ('hro_1', 'x', '2024-12-01')$$)),
          '42501 | new row violates row-level security policy for table "time_account_people"', 'it cannot add a person to hro_1');
SELECT is(pg_temp.error_of(format($$INSERT INTO tempo_fdw.time_account_contracts (schema_name, account_id, valid_from) VALUES ('hro_1', %L, '2025-01-01')$$, :'p1')),
          '42501 | new row violates row-level security policy for table "time_account_contracts"', 'nor a contract');
SELECT is(pg_temp.error_of(format($$INSERT INTO tempo_fdw.time_account_contracts (schema_name, account_id, valid_from) VALUES (NULL, %L, '2025-01-01')$$, :'p1')),
          '42501 | new row violates row-level security policy for table "time_account_contracts"', 'nor one of no schema (every schema''s)');
SELECT is(pg_temp.error_of(format($$INSERT INTO tempo_fdw.time_account_absences (schema_name, account_id, first_day, kind) VALUES ('hro_1', %L, '2024-12-05', 'vacation')$$, :'p1')),
          '42501 | new row violates row-level security policy for table "time_account_absences"', 'nor an absence');
SELECT is(pg_temp.error_of(format($$INSERT INTO tempo_fdw.time_account_adjustments (schema_name, account_id, date, hours, reason) VALUES ('hro_1', %L, '2024-12-05', 100, 'gift')$$, :'p1')),
          '42501 | new row violates row-level security policy for table "time_account_adjustments"', 'nor an adjustment');
SELECT is(pg_temp.error_of($$INSERT INTO tempo_fdw.refresh_log (schema_name, started_at, outcome) VALUES ('hro_1', now(), 'ok')$$),
          '42501 | new row violates row-level security policy for table "refresh_log"', 'nor a run');
SELECT is(pg_temp.rows_of($$UPDATE tempo_fdw.time_account_people SET opening_balance_hours = 1000 WHERE schema_name = 'hro_1'$$)
          || ', ' || pg_temp.rows_of($$UPDATE tempo_fdw.time_account_contracts SET monday_hours = 0 WHERE schema_name = 'hro_1'$$)
          || ', ' || pg_temp.rows_of($$UPDATE tempo_fdw.time_account_absences SET portion = 'half' WHERE schema_name = 'hro_1'$$)
          || ', ' || pg_temp.rows_of($$UPDATE tempo_fdw.time_account_adjustments SET hours = 100 WHERE schema_name = 'hro_1'$$)
          || ', ' || pg_temp.rows_of($$UPDATE tempo_fdw.time_accounts SET max_deletion_share = 1 WHERE schema_name = 'hro_1'$$)
          || ', ' || pg_temp.rows_of($$UPDATE tempo_fdw.refresh_log SET outcome = 'failed' WHERE schema_name = 'hro_1'$$),
          '0 rows, 0 rows, 0 rows, 0 rows, 0 rows, 0 rows', 'its updates of hro_1''s rows change nothing');
SELECT is(pg_temp.rows_of($$DELETE FROM tempo_fdw.time_account_people WHERE schema_name = 'hro_1'$$)
          || ', ' || pg_temp.rows_of($$DELETE FROM tempo_fdw.time_account_contracts WHERE schema_name = 'hro_1'$$)
          || ', ' || pg_temp.rows_of($$DELETE FROM tempo_fdw.time_account_absences WHERE schema_name = 'hro_1'$$)
          || ', ' || pg_temp.rows_of($$DELETE FROM tempo_fdw.time_account_adjustments WHERE schema_name = 'hro_1'$$)
          || ', ' || pg_temp.rows_of($$DELETE FROM tempo_fdw.time_accounts WHERE schema_name = 'hro_1'$$)
          || ', ' || pg_temp.rows_of($$DELETE FROM tempo_fdw.time_account_objects WHERE schema_name = 'hro_1'$$)
          || ', ' || pg_temp.rows_of($$DELETE FROM tempo_fdw.refresh_log WHERE schema_name = 'hro_1'$$),
          '0 rows, 0 rows, 0 rows, 0 rows, 0 rows, 0 rows, 0 rows', 'nor do its deletions');
SELECT is(pg_temp.error_of($$UPDATE tempo_fdw.time_account_adjustments SET schema_name = 'hro_1' WHERE schema_name = 'hro_2'$$),
          '42501 | new row violates row-level security policy for table "time_account_adjustments"',
          'it cannot move its own rows into hro_1');
SELECT is(pg_temp.error_of($$SELECT * FROM tempo_fdw.close_time_account_year('hro_1', 2024, 0)$$),
          '42704 | schema "hro_1" has no time accounts', 'it cannot close hro_1''s year');
SELECT is(pg_temp.error_of($$SELECT * FROM tempo_fdw.drop_time_accounts('hro_1')$$),
          '42704 | schema "hro_1" has no time accounts', 'nor drop hro_1''s accounts');
SELECT is(pg_temp.error_of($$SELECT tempo_fdw.create_time_accounts('hro_1', '2024-12-02', '2024-12-06', populate => false)$$),
          '42501 | schema "hro_1" belongs to hro_r1: only its members keep time accounts there, not hro_r2',
          'nor make accounts there');
SELECT is(pg_temp.error_of($$SELECT count(*) FROM hro_1.time_account_balance$$),
          '42501 | permission denied for schema hro_1', 'nor read its views');
SELECT is(pg_temp.error_of($$SELECT * FROM tempo_fdw.time_accounts WHERE schema_name = 'hro_1' FOR UPDATE$$), 'no error',
          'locking hro_1''s accounts...');
SELECT is((SELECT count(*) FROM (SELECT FROM tempo_fdw.time_accounts FOR UPDATE) l), 1::bigint, '...takes its own row only');
RESET ROLE;
\set ON_ERROR_STOP off
SET ROLE hro_r2;
CALL tempo_fdw.refresh('hro_1');
RESET ROLE;
\set ON_ERROR_STOP on
SELECT is(:'LAST_ERROR_SQLSTATE' || ' ' || :'LAST_ERROR_MESSAGE', '42704 schema "hro_1" has no time accounts',
          'hro_r2 cannot refresh hro_1''s accounts');
SELECT results_eq($$SELECT count(*) FROM tempo_fdw.time_account_people WHERE schema_name = 'hro_1' AND opening_balance_hours = 5
                    UNION ALL SELECT count(*) FROM tempo_fdw.time_account_adjustments WHERE schema_name = 'hro_1' AND hours = 1
                    UNION ALL SELECT count(*) FROM tempo_fdw.refresh_log WHERE schema_name = 'hro_1' AND outcome = 'ok'
                    UNION ALL SELECT count(*) FROM tempo_fdw.time_account_objects WHERE schema_name = 'hro_1'$$,
                  $$VALUES (1::bigint), (1), (1), (15)$$, 'hro_1''s rows are as hro_r1 left them');

-- ... and hro_r1 against hro_r2's (the same policies, the other way)
SET ROLE hro_r1;
SELECT is((SELECT count(*) FROM tempo_fdw.time_account_people WHERE schema_name = 'hro_2')
          + (SELECT count(*) FROM tempo_fdw.time_account_absences WHERE schema_name = 'hro_2'), 0::bigint,
          'hro_r1 sees none of hro_r2''s people and absences');
SELECT is(pg_temp.rows_of($$DELETE FROM tempo_fdw.time_account_absences WHERE schema_name = 'hro_2'$$), '0 rows',
          'and deletes none of them');
RESET ROLE;

-- ---------------------------------------------------------------------
-- a BI role reads hro_r1's accounts through the views only
-- ---------------------------------------------------------------------
SET ROLE hro_r1;
GRANT USAGE ON SCHEMA hro_1 TO hro_bi;
GRANT SELECT ON hro_1.time_account_balance, hro_1.time_account_status TO hro_bi;
RESET ROLE;
SELECT balance_seconds AS r1_balance FROM hro_1.time_account_balance \gset
SET ROLE hro_bi;
SELECT results_eq($$SELECT balance_seconds, display_name FROM hro_1.time_account_balance$$,
                  format($$VALUES (%s::bigint, 'P of hro_1')$$, :r1_balance),
                  'a BI role reads the balance of hro_r1''s accounts, the listed person''s name too');
SELECT is((SELECT last_outcome || ' ' || source FROM hro_1.time_account_status), 'ok tempo', 'and their status');
SELECT is(pg_temp.error_of($$SELECT count(*) FROM tempo_fdw.time_account_people$$),
          '42501 | permission denied for table time_account_people', 'but not the table of people');
RESET ROLE;
SET ROLE hro_r1;
SELECT is(pg_temp.error_of($$SELECT tempo_fdw.grant_time_accounts('hro_bi')$$),
          '42501 | only the owner of tempo_fdw (or a superuser) grants the use of time accounts',
          'only the extension''s owner grants the use of the accounts');
RESET ROLE;

-- tempo_fdw.activity_phase shows a run of refresh or sync in the view
-- activity: only roles that run them may call it, else any role could show
-- a run that is not one
SET ROLE hro_bi;
SELECT is(pg_temp.error_of($$SELECT tempo_fdw.activity_phase('refresh', 'hro_1', 1, 'worklogs')$$),
          '42501 | permission denied for function activity_phase', 'a BI role cannot show a run in activity');
RESET ROLE;
SELECT is((SELECT count(*) FROM tempo_fdw.activity WHERE run_schema = 'hro_1')::int, 0, 'and no run shows');
SELECT ok(has_function_privilege('hro_r1', 'tempo_fdw.activity_phase(text, name, bigint, text)', 'EXECUTE'),
          'a role given the use of time accounts may (its refresh and sync do)');
-- grant_time_accounts names the role with %I: a name that needs quotes
CREATE ROLE "hro Odd";
SELECT tempo_fdw.grant_time_accounts('"hro Odd"') IS NULL AS granted \gset
SELECT ok(has_table_privilege('hro Odd', 'tempo_fdw.time_account_people', 'INSERT')
          AND has_function_privilege('hro Odd', 'tempo_fdw.activity_phase(text, name, bigint, text)', 'EXECUTE'),
          'grant_time_accounts grants to a role whose name needs quotes');

SELECT * FROM finish();
DROP EXTENSION tempo_fdw CASCADE;
DROP SCHEMA hro_1, hro_2 CASCADE;
DROP OWNED BY hro_r1, hro_r2, hro_bi, "hro Odd" CASCADE;
DROP ROLE hro_r1, hro_r2, hro_bi, "hro Odd";
\! curl -s "$TEMPO_SIM_URL/_reset?tag=hro" >/dev/null
