-- pgTAP: the HR time accounts of 1.1 (issue #14) against hostile roles.
-- Each attack leaves a trace if its code ever runs: a row in
-- hra_evil.witness and a call of hra_evil.witness_seq (which a rollback
-- does not undo).
--   1. operators and functions the new SQL uses (date arithmetic, =, ||,
--      %, *, generate_series, make_date, round, format, ...) planted by a
--      role that may create in a schema ahead of pg_catalog on the
--      superuser's path, through create_time_accounts (local and tempo
--      schedules, listed people, absences, adjustments), refresh, reading
--      the views, public_holidays, fill_holiday_calendar and
--      close_time_account_year;
--   2. the new tables and their sequences: no role but their owner may
--      change them (nobody else changes another schema's accounts);
--   3. close_time_account_year run by a superuser on a schema another role
--      owns: her views in place of ours, or accounts that are hers;
--   4. close_time_account_year builds SQL from cap_hours: only a number.
-- Not one transaction: refresh commits.
\ir include/setup.sql
\ir include/helpers.sql
DROP SCHEMA IF EXISTS hra_l, hra_t, hra_a, hra_evil CASCADE;
CALL pg_temp.drop_roles('hra_mallory', 'hra_alice');
CREATE EXTENSION tempo_fdw;
SELECT plan(16);
\! curl -s "$TEMPO_SIM_URL/_reset?tag=hra" >/dev/null

CREATE ROLE hra_mallory LOGIN;   -- owns hra_evil (a schema on the superuser's path)
CREATE ROLE hra_alice LOGIN;     -- owns the schema hra_a
CREATE SCHEMA hra_evil AUTHORIZATION hra_mallory;

-- ---------------------------------------------------------------------
-- 1. Mallory's operators and functions; every one writes the witness
-- ---------------------------------------------------------------------
SET ROLE hra_mallory;
CREATE TABLE hra_evil.witness (what text, by_role name, superuser boolean);
CREATE SEQUENCE hra_evil.witness_seq;
GRANT USAGE ON SCHEMA hra_evil TO PUBLIC;
GRANT INSERT ON hra_evil.witness TO PUBLIC;
GRANT USAGE ON SEQUENCE hra_evil.witness_seq TO PUBLIC;
CREATE FUNCTION hra_evil.witness_note(what text) RETURNS boolean LANGUAGE sql AS $$
  SELECT pg_catalog.nextval('hra_evil.witness_seq');
  INSERT INTO hra_evil.witness SELECT what, r.rolname, r.rolsuper FROM pg_catalog.pg_roles r
   WHERE r.rolname OPERATOR(pg_catalog.=) CURRENT_USER RETURNING true;
$$;
-- one operator per line: name, left, right, result, the built-in to call
DO $$
DECLARE
  o record;
BEGIN
  FOR o IN SELECT * FROM (VALUES
      ('=',  'text', 'text', 'boolean'), ('=', 'name', 'name', 'boolean'), ('=', 'date', 'date', 'boolean'),
      ('=',  'bigint', 'bigint', 'boolean'),
      ('<=', 'date', 'date', 'boolean'), ('>=', 'date', 'date', 'boolean'), ('<', 'date', 'date', 'boolean'),
      ('>',  'numeric', 'numeric', 'boolean'), ('<', 'numeric', 'numeric', 'boolean'), ('>', 'bigint', 'integer', 'boolean'),
      ('+',  'date', 'integer', 'date'), ('-', 'date', 'integer', 'date'), ('-', 'date', 'date', 'integer'),
      ('+',  'integer', 'integer', 'integer'), ('-', 'integer', 'integer', 'integer'),
      ('*',  'integer', 'integer', 'integer'), ('/', 'integer', 'integer', 'integer'), ('%', 'integer', 'integer', 'integer'),
      ('*',  'integer', 'numeric', 'numeric'), ('*', 'numeric', 'numeric', 'numeric'), ('-', 'numeric', 'numeric', 'numeric'),
      ('+',  'numeric', 'numeric', 'numeric'), ('/', 'numeric', 'numeric', 'numeric'), ('-', 'bigint', 'bigint', 'bigint'),
      ('||', 'text', 'text', 'text')) v(op, l, r, res) LOOP
    EXECUTE format('CREATE FUNCTION hra_evil.%s(%s, %s) RETURNS %s LANGUAGE sql AS %L',
                   'h_' || md5(o.op || o.l || o.r), o.l, o.r, o.res,
                   format('SELECT hra_evil.witness_note(%L); SELECT $1 OPERATOR(pg_catalog.%s) $2',
                          o.op || '(' || o.l || ',' || o.r || ')', o.op));
    EXECUTE format('CREATE OPERATOR hra_evil.%s (LEFTARG = %s, RIGHTARG = %s, FUNCTION = hra_evil.%s)',
                   o.op, o.l, o.r, 'h_' || md5(o.op || o.l || o.r));
  END LOOP;
END $$;
CREATE FUNCTION hra_evil.generate_series(integer, integer) RETURNS SETOF integer LANGUAGE sql
  AS $$ SELECT hra_evil.witness_note('generate_series(integer,integer)'); SELECT pg_catalog.generate_series($1, $2) $$;
CREATE FUNCTION hra_evil.make_date(integer, integer, integer) RETURNS date LANGUAGE sql
  AS $$ SELECT hra_evil.witness_note('make_date'); SELECT pg_catalog.make_date($1, $2, $3) $$;
CREATE FUNCTION hra_evil.round(numeric) RETURNS numeric LANGUAGE sql
  AS $$ SELECT hra_evil.witness_note('round(numeric)'); SELECT pg_catalog.round($1) $$;
CREATE FUNCTION hra_evil.round(numeric, integer) RETURNS numeric LANGUAGE sql
  AS $$ SELECT hra_evil.witness_note('round(numeric,integer)'); SELECT pg_catalog.round($1, $2) $$;
CREATE FUNCTION hra_evil.format(text, text) RETURNS text LANGUAGE sql
  AS $$ SELECT hra_evil.witness_note('format(text,text)'); SELECT pg_catalog.format($1, $2) $$;
CREATE FUNCTION hra_evil.date_trunc(text, date) RETURNS timestamp LANGUAGE sql
  AS $$ SELECT hra_evil.witness_note('date_trunc(text,date)'); SELECT pg_catalog.date_trunc($1, $2::timestamp) $$;
CREATE FUNCTION hra_evil.quote_literal(text) RETURNS text LANGUAGE sql
  AS $$ SELECT hra_evil.witness_note('quote_literal(text)'); SELECT pg_catalog.quote_literal($1) $$;
CREATE FUNCTION hra_evil.concat_ws(text, text, text) RETURNS text LANGUAGE sql
  AS $$ SELECT hra_evil.witness_note('concat_ws(text,text,text)'); SELECT pg_catalog.concat_ws($1, $2, $3) $$;
RESET ROLE;

\set t :sim '/@tag=hra/4'
CREATE SERVER hra_srv FOREIGN DATA WRAPPER tempo_fdw
  OPTIONS (tempo_url :'t', max_requests_per_second '0', max_retries '0');
CREATE USER MAPPING FOR PUBLIC SERVER hra_srv OPTIONS (token 'tempo-test-token');
CREATE SCHEMA hra_l;
CREATE SCHEMA hra_t;
IMPORT FOREIGN SCHEMA tempo FROM SERVER hra_srv INTO hra_l;
IMPORT FOREIGN SCHEMA tempo FROM SERVER hra_srv INTO hra_t;
-- the hostile path only around our calls (pgTAP would trip over it)
\set evil 'SET search_path = hra_evil, pg_catalog, public'
:evil;
SELECT 'a'::text = 'b'::text AS probe, '2024-01-01'::date + 1 AS probe2 \gset
RESET search_path;
SELECT is((SELECT string_agg(what, ', ' ORDER BY what) FROM hra_evil.witness), '+(date,integer), =(text,text)',
          'the planted operators are live on that path (this test is not vacuous)');
TRUNCATE hra_evil.witness;
ALTER SEQUENCE hra_evil.witness_seq RESTART;

-- people, an absence, an adjustment, a contract: every part of the views has rows
:evil;
SELECT tempo_fdw.fill_holiday_calendar('hra_de', 'DE', 2024, 2025) AS filled \gset
SELECT count(*) AS n FROM tempo_fdw.public_holidays('GB', 2024, 2024) \gset
SELECT count(*) AS n FROM tempo_fdw.public_holidays('US', 2024, 2024) \gset
SELECT count(*) AS n FROM tempo_fdw.public_holidays('AT', 2024, 2024) \gset
SELECT count(*) AS n FROM tempo_fdw.public_holidays('CH', 2024, 2024) \gset
RESET search_path;
INSERT INTO tempo_fdw.time_account_people (schema_name, account_id, display_name, first_day, opening_balance_hours, calendar)
SELECT 'hra_l', a, 'P ' || a, '2024-12-01', 100, 'hra_de' FROM unnest(ARRAY['hra-p1', 'hra-p2']) a;
INSERT INTO tempo_fdw.time_account_absences (schema_name, account_id, first_day, last_day, kind, portion)
VALUES ('hra_l', 'hra-p1', '2024-12-02', '2024-12-03', 'vacation', 'full'),
       ('hra_l', 'hra-p2', '2024-12-04', NULL, 'sick', 'half');
INSERT INTO tempo_fdw.time_account_adjustments (schema_name, account_id, date, hours, reason)
VALUES ('hra_l', 'hra-p1', '2024-12-05', -2, 'correction by HR');
INSERT INTO tempo_fdw.time_account_contracts (account_id, valid_from, monday_hours, tuesday_hours, wednesday_hours,
                                              thursday_hours, friday_hours)
VALUES ('hra-p1', '2024-01-01', 8, 8, 8, 8, 8);
:evil;
SELECT tempo_fdw.create_time_accounts('hra_l', '2024-12-01', '2024-12-31', schedules => 'local', people => 'listed',
                                      calendar => 'hra_de', time_zone => 'Europe/Berlin', count_today => true,
                                      absence_issue_ids => '{10001}') IS NOT NULL AS made \gset
-- Tempo schedules (nobody listed: the simulator knows no hra-p1)
SELECT tempo_fdw.create_time_accounts('hra_t', '2024-12-01', '2024-12-31', people => 'listed',
                                      time_zone => 'America/New_York') IS NOT NULL AS made \gset
CALL tempo_fdw.refresh('hra_l');
CALL tempo_fdw.refresh('hra_t');
SELECT count(*) AS n FROM (SELECT * FROM hra_l.time_account_daily UNION ALL SELECT * FROM hra_t.time_account_daily) d \gset
SELECT count(*) AS n FROM (SELECT * FROM hra_l.time_account_monthly UNION ALL SELECT * FROM hra_t.time_account_monthly) d \gset
SELECT count(*) AS n FROM (SELECT * FROM hra_l.time_account_balance UNION ALL SELECT * FROM hra_t.time_account_balance) d \gset
SELECT count(*) AS n FROM (SELECT * FROM hra_l.time_account_unaccounted UNION ALL SELECT * FROM hra_t.time_account_unaccounted) d \gset
SELECT count(*) AS closed FROM tempo_fdw.close_time_account_year('hra_l', 2024, 10, payout => true) \gset
RESET search_path;
SELECT results_eq($$SELECT schema_name::text COLLATE "default", outcome FROM tempo_fdw.refresh_log ORDER BY run_id$$,
                  $$VALUES ('hra_l', 'ok'), ('hra_t', 'ok')$$, 'on that path create_time_accounts and refresh succeed');
-- hra-p1: 100 h less 18 working days of 8 h (22 weekdays of December 2024,
-- less 25 and 26 December, less 2 days of vacation) less 2 h: -46 h, under
-- the cap; hra-p2 (no contract, logs nothing): 100 h, above it
SELECT is(:closed::integer, 1, 'and close_time_account_year made one carry-over adjustment');
SELECT is((SELECT count(*) FROM tempo_fdw.holidays WHERE calendar = 'hra_de'), 18::bigint,
          'fill_holiday_calendar added DE''s nine holidays of 2024 and of 2025');
SELECT ok((SELECT count(DISTINCT account_id) = 2 AND count(*) FILTER (WHERE absence_kind = 'vacation') = 2
                  AND sum(adjustment_seconds) FILTER (WHERE account_id = 'hra-p1') = -7200 FROM hra_l.time_account_daily),
          'the views read people, absences and adjustments');
SELECT results_eq($$SELECT what, by_role, superuser FROM hra_evil.witness$$, $$SELECT NULL::text, NULL::name, NULL::boolean WHERE false$$,
                  'none of the planted operators or functions ran');
SELECT is((SELECT is_called FROM hra_evil.witness_seq), false, 'not even in a transaction that was rolled back');

-- ---------------------------------------------------------------------
-- 2. the new tables: only their owner changes them
-- ---------------------------------------------------------------------
SELECT is((SELECT string_agg(t || ':' || p, ', ' ORDER BY t, p)
             FROM unnest(ARRAY['holiday_calendars', 'holidays', 'time_account_people', 'time_account_absence_kinds',
                               'time_account_absences', 'time_account_adjustments']) t,
                  unnest(ARRAY['INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']) p
            WHERE has_table_privilege('hra_mallory', 'tempo_fdw.' || t, p)), NULL,
          'a role of its own has no privilege that changes the new tables (or hangs a trigger on them)');
SELECT is((SELECT string_agg(s, ', ') FROM unnest(ARRAY['time_account_absences_absence_id_seq',
                                                         'time_account_adjustments_adjustment_id_seq']) s
            WHERE has_sequence_privilege('hra_mallory', 'tempo_fdw.' || s, 'USAGE, UPDATE')), NULL,
          'nor their sequences');
SET ROLE hra_mallory;
SELECT is(pg_temp.error_of($$INSERT INTO tempo_fdw.time_account_adjustments (schema_name, account_id, date, hours, reason)
                             VALUES ('hra_l', 'hra-p1', '2024-12-06', 1000, 'mine')$$),
          '42501 | permission denied for table time_account_adjustments', 'so mallory cannot add hours to another''s account');
SELECT is(pg_temp.error_of($$SELECT tempo_fdw.fill_holiday_calendar('hra_de', 'US', 2024, 2024)$$),
          '42501 | permission denied for table holiday_calendars', 'nor fill a calendar (the function runs as its caller)');
SELECT is(pg_temp.error_of($$SELECT * FROM tempo_fdw.close_time_account_year('hra_l', 2024, 0)$$),
          '42501 | permission denied for table time_accounts', 'nor close the year of another''s accounts');
RESET ROLE;

-- ---------------------------------------------------------------------
-- 3. close_time_account_year as superuser in a schema alice owns
-- ---------------------------------------------------------------------
CREATE SCHEMA hra_a AUTHORIZATION hra_alice;
IMPORT FOREIGN SCHEMA tempo FROM SERVER hra_srv INTO hra_a;
SELECT tempo_fdw.create_time_accounts('hra_a', '2024-12-01', '2024-12-31', populate => false) IS NOT NULL AS made \gset
SET ROLE hra_alice;
DROP VIEW hra_a.time_account_daily CASCADE;
CREATE FUNCTION hra_a.steal() RETURNS bigint LANGUAGE sql AS $$ SELECT 0::bigint WHERE hra_evil.witness_note('view hra_a') $$;
CREATE VIEW hra_a.time_account_daily AS
  SELECT 'x'::text AS account_id, '2024-12-31'::date AS date, hra_a.steal() AS balance_seconds, 0::bigint AS adjustment_seconds;
CREATE VIEW hra_a.time_account_balance AS SELECT 'x'::text AS account_id, '2024-12-31'::date + hra_a.steal()::integer AS as_of;
RESET ROLE;
SELECT is(pg_temp.error_of($$SELECT * FROM tempo_fdw.close_time_account_year('hra_a', 2024, 0)$$),
          '42501 | hra_a.time_account_daily is owned by hra_alice, not by postgres, the owner of the time accounts',
          '(3) a superuser''s close_time_account_year refuses the views alice put in place of ours');
-- accounts that are alice's (as if she had made them): a superuser does not run them
UPDATE tempo_fdw.time_accounts SET owner = 'hra_alice' WHERE schema_name = 'hra_a';
SELECT is(pg_temp.error_of($$SELECT * FROM tempo_fdw.close_time_account_year('hra_a', 2024, 0)$$),
          '42501 | the time accounts in "hra_a" belong to hra_alice, not to postgres',
          '(3) nor closes the year of accounts of another role');
SELECT is((SELECT count(*) FROM hra_evil.witness), 0::bigint, '(3) alice''s function did not run');

-- ---------------------------------------------------------------------
-- 4. cap_hours goes into SQL: a number, not NaN or Infinity
-- ---------------------------------------------------------------------
DELETE FROM tempo_fdw.time_account_adjustments WHERE schema_name = 'hra_l' AND kind = 'carry_over';
SELECT is(pg_temp.error_of($$SELECT * FROM tempo_fdw.close_time_account_year('hra_l', 2024, 'NaN')$$) || ' / '
          || pg_temp.error_of($$SELECT * FROM tempo_fdw.close_time_account_year('hra_l', 2024, 'Infinity')$$),
          '22023 | cap_hours must be 0 or more, not ''NaN'' / 22023 | cap_hours must be 0 or more, not ''Infinity''',
          '(4) NaN and Infinity are refused as caps');

SELECT * FROM finish();
DROP EXTENSION tempo_fdw CASCADE;
DROP SCHEMA hra_l, hra_t, hra_a CASCADE;
DROP OWNED BY hra_mallory, hra_alice CASCADE;
DROP ROLE hra_mallory, hra_alice;
\! curl -s "$TEMPO_SIM_URL/_reset?tag=hra" >/dev/null
