-- pgTAP: the materialised figures of the time accounts (issue #14, item 8).
--   1. the figures materialise_accounts writes, and the monthly and
--      balance views that read them, against figures computed by hand
--      from the raw rows below (a part-time new hire who leaves mid-month,
--      a half-day absence on a half-day holiday, an opening balance, an
--      adjustment);
--   2. HR changes show at once: an absence inserted and deleted, a
--      contract changed, a holiday inserted, a person's last day moved;
--      each marks its people (or the whole schema) stale in
--      time_account_freshness and time_account_status, and the views
--      compute them live until materialise_accounts; a last day counted
--      beyond the figures' horizon is computed live too;
--   3. security: the trigger function is not callable, nor attachable by
--      another role; <schema>.time_account_live refuses a role that may
--      read neither view, serves one that may read the balance only;
--      another schema's keeper neither sees nor clears these marks;
--      planted operators and functions on a superuser's path never run
--      (HR changes, the views, materialise_accounts).
-- The store is written directly (sync mode, local schedules, a past
-- "until"): no request is made, the last day counted is fixed.
\set QUIET on
\set ON_ERROR_STOP on
SET timezone = 'UTC';
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS tempo_fdw CASCADE;
\ir include/helpers.sql
DROP SCHEMA IF EXISTS hf, hf_a, hf_evil CASCADE;
CALL pg_temp.drop_roles('hf_mallory', 'hf_alice', 'hf_bi');
CREATE EXTENSION tempo_fdw;
SELECT plan(34);

CREATE SERVER hf_srv FOREIGN DATA WRAPPER tempo_fdw OPTIONS (tempo_url 'http://127.0.0.1:1/', max_retries '0');
CREATE USER MAPPING FOR PUBLIC SERVER hf_srv OPTIONS (token 'tempo-test-token');
CREATE SCHEMA hf;
IMPORT FOREIGN SCHEMA tempo FROM SERVER hf_srv INTO hf;
INSERT INTO tempo_fdw.holiday_calendars VALUES ('HF', 'figures test');
INSERT INTO tempo_fdw.holidays (calendar, date, name, fraction)
VALUES ('HF', '2024-12-24', 'Christmas Eve', 0.5), ('HF', '2024-12-25', 'Christmas Day', NULL);
SELECT tempo_fdw.create_time_accounts('hf', '2024-11-01', '2024-12-31', mode => 'sync', populate => false,
                                      schedules => 'local', people => 'listed', calendar => 'HF', time_zone => 'UTC') AS made \gset
-- hf-1: full time (8 h Monday to Friday) from 1 November, 10 h opening
-- balance, vacation 2-4 December, a half day off on the half-day holiday
-- 24 December, +2.5 h on 31 December.  hf-2: part time (4 h Monday to
-- Wednesday), hired 18 November, leaves 20 December.
INSERT INTO tempo_fdw.time_account_people (schema_name, account_id, display_name, first_day, last_day, opening_balance_hours)
VALUES ('hf', 'hf-1', 'One', '2024-11-01', NULL, 10), ('hf', 'hf-2', 'Two', '2024-11-18', '2024-12-20', 0);
INSERT INTO tempo_fdw.time_account_contracts (schema_name, account_id, valid_from, monday_hours, tuesday_hours,
                                              wednesday_hours, thursday_hours, friday_hours)
VALUES ('hf', 'hf-1', '2024-11-01', 8, 8, 8, 8, 8), ('hf', 'hf-2', '2024-11-18', 4, 4, 4, 0, 0);
INSERT INTO tempo_fdw.time_account_absences (schema_name, account_id, first_day, last_day, kind, portion)
VALUES ('hf', 'hf-1', '2024-12-02', '2024-12-04', 'vacation', 'full'), ('hf', 'hf-1', '2024-12-24', NULL, 'vacation', 'half');
INSERT INTO tempo_fdw.time_account_adjustments (schema_name, account_id, date, hours, reason)
VALUES ('hf', 'hf-1', '2024-12-31', 2.5, 'correction');
INSERT INTO hf.worklog_store (worklog_id, source, issue_id, author_account_id, start_date, time_spent_seconds,
                              created_at, updated_at, last_seen_at)
VALUES (1, 'tempo', 10, 'hf-1', '2024-11-04', 28800, now(), now(), now()),
       (2, 'tempo', 10, 'hf-1', '2024-12-05', 36000, now(), now(), now()),
       (3, 'tempo', 10, 'hf-1', '2024-12-24', 7200, now(), now(), now()),
       (4, 'tempo', 10, 'hf-2', '2024-11-19', 18000, now(), now(), now()),
       (5, 'tempo', 10, 'hf-2', '2024-12-23', 10800, now(), now(), now());

-- By hand.  hf-1, November: 21 weekdays x 8 h = 604,800 s required,
-- 28,800 logged.  December: 22 weekdays less the 25th (holiday), the 24th
-- (4 h holiday, 4 h absence: 0) and 2-4 December = 17 x 8 h = 489,600 s,
-- 43,200 logged.  Balance 10 + 2.5 + (72,000 - 1,094,400) / 3600 = -271.5 h.
-- hf-2, November: Monday to Wednesday 18 to 27 November, 6 x 4 h = 86,400 s,
-- 18,000 logged; December up to the 20th: 9 x 4 h = 129,600 s, the worklog
-- of the 23rd is after its last day.  Balance -55 h.
CREATE TEMP TABLE expected_monthly (account_id text, month date, required_seconds bigint, logged_seconds bigint,
                                    adjustment_seconds bigint, cumulative_balance_seconds bigint);
CREATE FUNCTION pg_temp.expect(p1_nov bigint, p1_dec bigint, p2_nov bigint, p2_dec bigint) RETURNS void LANGUAGE sql AS $$
  DELETE FROM expected_monthly;
  INSERT INTO expected_monthly VALUES
    ('hf-1', '2024-11-01', p1_nov, 28800, 0, 36000 + 28800 - p1_nov),
    ('hf-1', '2024-12-01', p1_dec, 43200, 9000, 36000 + 28800 - p1_nov + 43200 - p1_dec + 9000),
    ('hf-2', '2024-11-01', p2_nov, 18000, 0, 18000 - p2_nov),
    ('hf-2', '2024-12-01', p2_dec, 0, 0, 18000 - p2_nov - p2_dec);
$$;
CREATE FUNCTION pg_temp.monthly() RETURNS TABLE (account_id text, month date, required_seconds bigint, logged_seconds bigint,
                                                adjustment_seconds bigint, cumulative_balance_seconds bigint)
LANGUAGE sql AS $$
  SELECT account_id, month, required_seconds, logged_seconds, adjustment_seconds, cumulative_balance_seconds
    FROM hf.time_account_monthly ORDER BY 1, 2
$$;
CREATE FUNCTION pg_temp.balance() RETURNS text LANGUAGE sql AS $$
  SELECT string_agg(format('%s %s %s', account_id, balance_hours, as_of), ', ' ORDER BY account_id) FROM hf.time_account_balance
$$;
CREATE FUNCTION pg_temp.live() RETURNS text LANGUAGE sql AS $$
  SELECT coalesce(computed_live, 'nobody') FROM hf.time_account_status
$$;

-- ---------------------------------------------------------------------
-- 1. the figures
-- ---------------------------------------------------------------------
SELECT is(pg_temp.live(), 'everyone', '(1) before any figures, the views compute everyone live');
SELECT pg_temp.expect(604800, 489600, 86400, 129600);
SELECT results_eq('SELECT * FROM pg_temp.monthly()', 'SELECT * FROM expected_monthly ORDER BY 1, 2',
                  '(1) ... and exactly (monthly)');
SELECT is(tempo_fdw.materialise_accounts('hf'), 4::bigint, '(1) materialise_accounts writes a row per person and month');
SELECT results_eq($$SELECT account_id, month, last_day, required_seconds, logged_seconds FROM hf.time_account_figures ORDER BY 1, 2$$,
                  $$VALUES ('hf-1'::text, '2024-11-01'::date, '2024-11-30'::date, 604800::bigint, 28800::bigint),
                           ('hf-1', '2024-12-01', '2024-12-31', 489600, 43200),
                           ('hf-2', '2024-11-01', '2024-11-30', 86400, 18000),
                           ('hf-2', '2024-12-01', '2024-12-20', 129600, 0)$$,
                  '(1) the figures are the hand-computed ones');
SELECT results_eq($$SELECT figures_through, figures_horizon, stale_all, stale_accounts, stale_since IS NULL
                      FROM tempo_fdw.time_account_freshness WHERE schema_name = 'hf'$$,
                  $$VALUES ('2024-12-31'::date, '2024-12-31'::date, false, '{}'::text[], true)$$,
                  '(1) fresh through "until", nobody stale');
SELECT is(pg_temp.live(), 'nobody', '(1) time_account_status: nobody is computed live');
SELECT results_eq('SELECT * FROM pg_temp.monthly()', 'SELECT * FROM expected_monthly ORDER BY 1, 2',
                  '(1) the monthly view from the figures');
SELECT is(pg_temp.balance(), 'hf-1 -271.50 2024-12-31, hf-2 -55.00 2024-12-31', '(1) the balance view from the figures');
SELECT ok((SELECT count(*) = 0 FROM (SELECT account_id, month, required_seconds, logged_seconds FROM hf.time_account_monthly
                                     EXCEPT SELECT account_id, date_trunc('month', date)::date, sum(required_seconds), sum(logged_seconds)
                                              FROM hf.time_account_daily GROUP BY 1, 2) x),
          '(1) and the daily view (live) agrees');

-- ---------------------------------------------------------------------
-- 2. HR changes show at once
-- ---------------------------------------------------------------------
INSERT INTO tempo_fdw.time_account_absences (schema_name, account_id, first_day, kind) VALUES ('hf', 'hf-1', '2024-11-05', 'sick');
SELECT is(pg_temp.live(), 'hf-1', '(2a) an absence marks its person');
SELECT pg_temp.expect(576000, 489600, 86400, 129600);
SELECT results_eq('SELECT * FROM pg_temp.monthly()', 'SELECT * FROM expected_monthly ORDER BY 1, 2',
                  '(2a) a sick day on 5 November: 8 h less required at once');
SELECT is(pg_temp.balance(), 'hf-1 -263.50 2024-12-31, hf-2 -55.00 2024-12-31', '(2a) the balance too');
DELETE FROM tempo_fdw.time_account_absences WHERE account_id = 'hf-1' AND first_day = '2024-11-05';
SELECT is(pg_temp.balance(), 'hf-1 -271.50 2024-12-31, hf-2 -55.00 2024-12-31', '(2a) deleted: as before');

UPDATE tempo_fdw.time_account_contracts SET monday_hours = 6, tuesday_hours = 6, wednesday_hours = 6 WHERE account_id = 'hf-2';
SELECT is(pg_temp.live(), 'hf-1, hf-2', '(2b) a contract change marks its person');
SELECT pg_temp.expect(604800, 489600, 129600, 194400);
SELECT results_eq('SELECT * FROM pg_temp.monthly()', 'SELECT * FROM expected_monthly ORDER BY 1, 2',
                  '(2b) hf-2 works 6 h a day: required at once');

UPDATE tempo_fdw.time_account_people SET last_day = '2024-12-11' WHERE account_id = 'hf-2';
SELECT pg_temp.expect(604800, 489600, 129600, 129600);
SELECT results_eq('SELECT * FROM pg_temp.monthly()', 'SELECT * FROM expected_monthly ORDER BY 1, 2',
                  '(2c) hf-2 leaves on 11 December: 6 days x 6 h of December at once');

INSERT INTO tempo_fdw.holidays (calendar, date, name) VALUES ('HF', '2024-11-29', 'Company day');
SELECT is(pg_temp.live(), 'everyone', '(2d) a holiday of the accounts'' calendar: everyone is computed live');
SELECT pg_temp.expect(576000, 489600, 129600, 129600);
SELECT results_eq('SELECT * FROM pg_temp.monthly()', 'SELECT * FROM expected_monthly ORDER BY 1, 2',
                  '(2d) Friday 29 November off: hf-1 8 h less, hf-2 (no Fridays) the same');
SELECT is(pg_temp.balance(), 'hf-1 -263.50 2024-12-31, hf-2 -67.00 2024-12-31', '(2d) the balance too');

SELECT is(tempo_fdw.materialise_accounts('hf'), 4::bigint, '(2e) materialise_accounts again');
SELECT is(pg_temp.live(), 'nobody', '(2e) nobody computed live');
SELECT results_eq('SELECT * FROM pg_temp.monthly()', 'SELECT * FROM expected_monthly ORDER BY 1, 2',
                  '(2e) the new figures are the changed ones');
-- the last day counted beyond the figures (no run since): live
UPDATE tempo_fdw.time_account_freshness SET figures_through = '2024-12-20', figures_horizon = '2024-12-30' WHERE schema_name = 'hf';
SELECT is(pg_temp.live(), 'everyone', '(2f) figures that end before the last day counted: everyone live');
SELECT is(pg_temp.balance(), 'hf-1 -263.50 2024-12-31, hf-2 -67.00 2024-12-31', '(2f) ... and exact');
SELECT is(tempo_fdw.materialise_accounts('hf'), 4::bigint, '(2f) materialised again');

-- ---------------------------------------------------------------------
-- 3. security
-- ---------------------------------------------------------------------
CREATE ROLE hf_mallory LOGIN;
CREATE ROLE hf_alice LOGIN;
CREATE ROLE hf_bi LOGIN;
SELECT tempo_fdw.grant_time_accounts('hf_alice');
CREATE SCHEMA hf_a AUTHORIZATION hf_alice;
CREATE SCHEMA hf_evil AUTHORIZATION hf_mallory;
GRANT USAGE ON SCHEMA hf TO hf_mallory, hf_bi;
GRANT SELECT ON hf.time_account_balance TO hf_bi;
SELECT is(pg_temp.error_of('SELECT tempo_fdw.time_account_hr_changed()'),
          '0A000 | trigger functions can only be called as triggers', '(3a) the trigger function cannot be called');
SET ROLE hf_mallory;
CREATE TABLE hf_evil.t (schema_name name, account_id text);
SELECT is(pg_temp.error_of($$CREATE TRIGGER x AFTER INSERT ON hf_evil.t REFERENCING NEW TABLE AS new_rows
                             FOR EACH STATEMENT EXECUTE FUNCTION tempo_fdw.time_account_hr_changed()$$),
          '42501 | permission denied for function tempo_fdw.time_account_hr_changed', '(3a) nor put on another table');
SELECT is(pg_temp.error_of('SELECT * FROM hf.time_account_live(NULL)'),
          '42501 | permission denied for function hf.time_account_live',
          '(3b) time_account_live refuses a role that may read neither the monthly nor the balance view');
RESET ROLE;
-- hf-1 stale: hf_bi reads it live through time_account_live, and exactly
INSERT INTO tempo_fdw.time_account_absences (schema_name, account_id, first_day, kind) VALUES ('hf', 'hf-1', '2024-11-05', 'sick');
SET ROLE hf_bi;
SELECT is(pg_temp.balance(), 'hf-1 -255.50 2024-12-31, hf-2 -67.00 2024-12-31',
          '(3b) a role that may read the balance only reads it, computed live for hf-1');
SET ROLE hf_alice;
WITH u AS (UPDATE tempo_fdw.time_account_freshness SET stale_accounts = '{}', stale_all = false RETURNING 1)
SELECT (SELECT count(*) FROM u) + (SELECT count(*) FROM tempo_fdw.time_account_freshness) AS n \gset
SELECT is(:n::bigint, 0::bigint, '(3c) another schema''s keeper neither sees nor clears its marks');
RESET ROLE;
SELECT is((SELECT stale_accounts FROM tempo_fdw.time_account_freshness WHERE schema_name = 'hf'), '{hf-1}'::text[],
          '(3c) the mark stands');

-- (3d) Mallory's operators and functions on a superuser's path
SET ROLE hf_mallory;
CREATE TABLE hf_evil.witness (what text, superuser boolean);
GRANT INSERT ON hf_evil.witness TO PUBLIC;
GRANT USAGE ON SCHEMA hf_evil TO PUBLIC;
CREATE FUNCTION hf_evil.note(what text) RETURNS boolean LANGUAGE sql AS $$
  INSERT INTO hf_evil.witness SELECT what, r.rolsuper FROM pg_catalog.pg_roles r
   WHERE r.rolname OPERATOR(pg_catalog.=) CURRENT_USER RETURNING true;
$$;
DO $$
DECLARE
  o record;
BEGIN
  FOR o IN SELECT * FROM (VALUES
      ('=', 'text', 'text', 'boolean'), ('=', 'name', 'name', 'boolean'), ('<>', 'text', 'text', 'boolean'),
      ('=', 'date', 'date', 'boolean'), ('<=', 'date', 'date', 'boolean'), ('>=', 'date', 'date', 'boolean'),
      ('>', 'date', 'date', 'boolean'), ('>', 'integer', 'integer', 'boolean'), ('-', 'date', 'integer', 'date'),
      ('+', 'date', 'integer', 'date'), ('||', 'text[]', 'text[]', 'text[]'), ('||', 'text', 'text', 'text'),
      ('-', 'bigint', 'bigint', 'bigint'), ('+', 'numeric', 'numeric', 'numeric')) v(op, l, r, res) LOOP
    EXECUTE format('CREATE FUNCTION hf_evil.%s(%s, %s) RETURNS %s LANGUAGE sql AS %L',
                   'h_' || md5(o.op || o.l || o.r), o.l, o.r, o.res,
                   format('SELECT hf_evil.note(%L); SELECT $1 OPERATOR(pg_catalog.%s) $2',
                          o.op || '(' || o.l || ',' || o.r || ')', o.op));
    EXECUTE format('CREATE OPERATOR hf_evil.%s (LEFTARG = %s, RIGHTARG = %s, FUNCTION = hf_evil.%s)',
                   o.op, o.l, o.r, 'h_' || md5(o.op || o.l || o.r));
  END LOOP;
END $$;
CREATE FUNCTION hf_evil.cardinality(anyarray) RETURNS integer LANGUAGE sql
  AS $$ SELECT hf_evil.note('cardinality'); SELECT pg_catalog.cardinality($1) $$;
CREATE FUNCTION hf_evil.unnest(text[]) RETURNS SETOF text LANGUAGE sql
  AS $$ SELECT hf_evil.note('unnest'); SELECT pg_catalog.unnest($1) $$;
CREATE FUNCTION hf_evil.now() RETURNS timestamptz LANGUAGE sql
  AS $$ SELECT hf_evil.note('now'); SELECT pg_catalog.now() $$;
CREATE FUNCTION hf_evil.date_trunc(text, date) RETURNS timestamp LANGUAGE sql
  AS $$ SELECT hf_evil.note('date_trunc'); SELECT pg_catalog.date_trunc($1, $2::timestamp) $$;
CREATE FUNCTION hf_evil.format(text, text) RETURNS text LANGUAGE sql
  AS $$ SELECT hf_evil.note('format'); SELECT pg_catalog.format($1, $2) $$;
CREATE FUNCTION hf_evil.quote_literal(date) RETURNS text LANGUAGE sql
  AS $$ SELECT hf_evil.note('quote_literal'); SELECT pg_catalog.quote_literal($1) $$;
RESET ROLE;
\set evil 'SET search_path = hf_evil, pg_catalog, public'
:evil;
SELECT 'a'::text = 'b'::text AS probe \gset
RESET search_path;
SELECT is((SELECT string_agg(what, ', ') FROM hf_evil.witness), '=(text,text)',
          '(3d) the planted operators are live on that path (this test is not vacuous)');
TRUNCATE hf_evil.witness;
:evil;
INSERT INTO tempo_fdw.time_account_absences (schema_name, account_id, first_day, kind) VALUES ('hf', 'hf-2', '2024-11-20', 'sick');
UPDATE tempo_fdw.time_account_people SET first_day = '2024-11-01' WHERE account_id OPERATOR(pg_catalog.=) 'hf-1';
INSERT INTO tempo_fdw.holidays (calendar, date, name) VALUES ('HF', '2024-11-28', 'Another');
DELETE FROM tempo_fdw.holidays WHERE date OPERATOR(pg_catalog.=) '2024-11-28';
SELECT count(*) AS n FROM hf.time_account_monthly \gset
SELECT count(*) AS n FROM hf.time_account_balance \gset
SELECT tempo_fdw.materialise_accounts('hf') AS n \gset
SELECT count(*) AS n FROM hf.time_account_monthly \gset
DELETE FROM tempo_fdw.time_account_absences
 WHERE account_id OPERATOR(pg_catalog.=) 'hf-2' AND first_day OPERATOR(pg_catalog.=) '2024-11-20';
SELECT count(*) AS n FROM hf.time_account_balance \gset
RESET search_path;
SELECT is((SELECT string_agg(DISTINCT what || ' ' || superuser, ', ') FROM hf_evil.witness), NULL,
          '(3d) none ran: HR changes (triggers), the views (figures and live), materialise_accounts');
SELECT is(pg_temp.balance(), 'hf-1 -255.50 2024-12-31, hf-2 -67.00 2024-12-31', '(3d) and the balance is still exact');

SELECT * FROM finish();
