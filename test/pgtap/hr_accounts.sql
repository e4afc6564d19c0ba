-- pgTAP: time accounts as HR and team leads mean them (issue #14): local
-- holiday calendars with a token that cannot read Tempo's schedules,
-- people with first and last days, absences, and which days count.
-- Every figure is computed here independently (by hand or from the
-- simulator's raw data), never by the SQL under test.
-- Part 0 is not in the transaction: CALL tempo_fdw.refresh commits.
\ir include/setup.sql
\ir include/helpers.sql
DROP SCHEMA IF EXISTS hr_r CASCADE;
CREATE EXTENSION tempo_fdw;
SELECT plan(57);

-- ---------------------------------------------------------------------
-- 0. refresh, with a token that cannot read schedules (403 on each)
\set t :sim '/@tag=tap_hr0,fault=403,fault_on=user-schedule/4'
CREATE SERVER hr0_srv FOREIGN DATA WRAPPER tempo_fdw OPTIONS (tempo_url :'t', max_requests_per_second '0', max_retries '0');
CREATE USER MAPPING FOR PUBLIC SERVER hr0_srv OPTIONS (token 'tempo-test-token');
CREATE SCHEMA hr_r;
IMPORT FOREIGN SCHEMA tempo FROM SERVER hr0_srv INTO hr_r;
SELECT tempo_fdw.create_time_accounts('hr_r', '2024-12-01', '2024-12-31', schedules => 'local', populate => false) IS NOT NULL AS made \gset
\! curl -s "$TEMPO_SIM_URL/_reset?tag=tap_hr0" >/dev/null
CALL tempo_fdw.refresh('hr_r');
SELECT results_eq($$SELECT outcome, schedule_rows, error FROM tempo_fdw.refresh_log WHERE schema_name = 'hr_r' ORDER BY run_id DESC LIMIT 1$$,
                  $$VALUES ('ok', 0::bigint, NULL::text)$$, 'schedules => local: refresh succeeds with a worklogs-only token');
\set log `curl -s "$TEMPO_SIM_URL/_log?tag=tap_hr0"`
SELECT is((SELECT count(*) FILTER (WHERE e ->> 'path' LIKE '/4/user-schedule%') || ' ' || count(*) FILTER (WHERE e ->> 'path' LIKE '/4/worklogs%')
                    || ' ' || count(*) FILTER (WHERE e ->> 'path' = '/4/worklogs/tempo-to-jira')
             FROM jsonb_array_elements(:'log'::jsonb) e),
          '0 2 1', 'it read the worklogs (and their Jira twins) and asked for no schedule');
SELECT ok((SELECT sum(logged_seconds) > 0 AND sum(required_seconds) = 0 FROM hr_r.time_account_daily),
          'the accounts show the worklogs (no contracts: nothing required)');
SELECT count(*) >= 0 AS dropped FROM tempo_fdw.drop_time_accounts('hr_r') \gset
DROP SCHEMA hr_r CASCADE;
DROP SERVER hr0_srv CASCADE;

BEGIN;
SET LOCAL timezone = 'UTC';

-- ---------------------------------------------------------------------
-- 1. public holidays without network, against published lists
SELECT results_eq($$SELECT day, holiday FROM tempo_fdw.public_holidays('DE', 2025, 2025) ORDER BY day$$,
  $$VALUES ('2025-01-01'::date, 'Neujahr'), ('2025-04-18', 'Karfreitag'), ('2025-04-21', 'Ostermontag'),
           ('2025-05-01', 'Tag der Arbeit'), ('2025-05-29', 'Christi Himmelfahrt'), ('2025-06-09', 'Pfingstmontag'),
           ('2025-10-03', 'Tag der Deutschen Einheit'), ('2025-12-25', '1. Weihnachtstag'), ('2025-12-26', '2. Weihnachtstag')$$,
  'DE 2025: the nine nationwide holidays');
SELECT results_eq($$SELECT day FROM tempo_fdw.public_holidays('AT', 2024, 2024) ORDER BY day$$,
  $$VALUES ('2024-01-01'::date), ('2024-01-06'), ('2024-04-01'), ('2024-05-01'), ('2024-05-09'), ('2024-05-20'),
           ('2024-05-30'), ('2024-08-15'), ('2024-10-26'), ('2024-11-01'), ('2024-12-08'), ('2024-12-25'), ('2024-12-26')$$,
  'AT 2024: the thirteen national holidays');
SELECT results_eq($$SELECT day FROM tempo_fdw.public_holidays('CH', 2024, 2024) ORDER BY day$$,
  $$VALUES ('2024-01-01'::date), ('2024-05-09'), ('2024-08-01'), ('2024-12-25')$$,
  'CH 2024: the holidays of every canton');
SELECT results_eq($$SELECT day, holiday FROM tempo_fdw.public_holidays('GB', 2021, 2021) ORDER BY day$$,
  $$VALUES ('2021-01-01'::date, 'New Year''s Day'), ('2021-04-02', 'Good Friday'), ('2021-04-05', 'Easter Monday'),
           ('2021-05-03', 'Early May bank holiday'), ('2021-05-31', 'Spring bank holiday'),
           ('2021-08-30', 'Summer bank holiday'), ('2021-12-27', 'Christmas Day (substitute day)'),
           ('2021-12-28', 'Boxing Day (substitute day)')$$,
  'GB 2021 (England and Wales): Christmas on a Saturday, both substitute days');
SELECT results_eq($$SELECT day FROM tempo_fdw.public_holidays('GB', 2022, 2023) WHERE extract(month FROM day) IN (1, 12) ORDER BY day$$,
  $$VALUES ('2022-01-03'::date), ('2022-12-26'), ('2022-12-27'), ('2023-01-02'), ('2023-12-25'), ('2023-12-26')$$,
  'GB: New Year on a weekend moves to Monday; Christmas on a Sunday to Tuesday');
SELECT results_eq($$SELECT day, holiday FROM tempo_fdw.public_holidays('US', 2022, 2022) ORDER BY day$$,
  $$VALUES ('2022-01-17'::date, 'Birthday of Martin Luther King, Jr.'), ('2022-02-21', 'Washington''s Birthday'),
           ('2022-05-30', 'Memorial Day'), ('2022-06-20', 'Juneteenth National Independence Day (observed)'),
           ('2022-07-04', 'Independence Day'), ('2022-09-05', 'Labor Day'), ('2022-10-10', 'Columbus Day'),
           ('2022-11-11', 'Veterans Day'), ('2022-11-24', 'Thanksgiving Day'), ('2022-12-26', 'Christmas Day (observed)')$$,
  'US 2022 (OPM): observed days; New Year 2022 was observed on 2021-12-31');
SELECT results_eq($$SELECT tempo_fdw.easter_sunday(y) FROM unnest('{1961,2000,2019,2038,2100}'::int[]) y$$,
  $$VALUES ('1961-04-02'::date), ('2000-04-23'), ('2019-04-21'), ('2038-04-25'), ('2100-03-28')$$,
  'Easter Sunday of some years');
SELECT throws_ok($$SELECT * FROM tempo_fdw.public_holidays('FR', 2024, 2024)$$, '22023',
                 'no public holidays for country ''FR''', 'an unknown country is an error');

-- ---------------------------------------------------------------------
-- 2. a token without "View schemes": every user-schedule request is 403
\set t :sim '/@tag=tap_hr,fault=403,fault_on=user-schedule/4'
CREATE SERVER hr_srv FOREIGN DATA WRAPPER tempo_fdw OPTIONS (tempo_url :'t', max_requests_per_second '0', max_retries '0');
CREATE USER MAPPING FOR PUBLIC SERVER hr_srv OPTIONS (token 'tempo-test-token');
CREATE SCHEMA hr_a;
IMPORT FOREIGN SCHEMA tempo FROM SERVER hr_srv INTO hr_a;
\! curl -s "$TEMPO_SIM_URL/_reset?tag=tap_hr" >/dev/null

CREATE TEMP TABLE raw_doc (doc jsonb);
\set cmd 'curl -s "' :sim '/_data?ds=company&kind=tempo"'
COPY raw_doc (doc) FROM PROGRAM :'cmd' WITH (FORMAT csv, QUOTE E'\x01', DELIMITER E'\x02');
CREATE TEMP TABLE raw_worklog AS
  SELECT (w ->> 'startDate')::date AS day, w -> 'author' ->> 'accountId' AS account,
         (w ->> 'timeSpentSeconds')::bigint AS spent
    FROM raw_doc, jsonb_array_elements(doc) w;
SELECT min(account) AS a, max(account) AS b FROM raw_worklog \gset

INSERT INTO tempo_fdw.time_account_contracts (account_id, valid_from, valid_to, monday_hours, tuesday_hours, wednesday_hours, thursday_hours, friday_hours)
VALUES (:'a', '2024-06-01', NULL, 8, 8, 8, 8, 8),
       (:'b', '2024-06-15', '2024-11-30', 6, 6, 6, 6, 0);

SELECT throws_ok($$SELECT tempo_fdw.create_time_accounts('hr_a', '2024-12-01', '2024-12-31')$$, '42501',
                 'the Tempo token of schema "hr_a" cannot read user schedules',
                 'schedules => tempo with a worklogs-only token: a clear error');
SELECT matches(pg_temp.hint_of($$SELECT tempo_fdw.create_time_accounts('hr_a', '2024-12-01', '2024-12-31')$$),
               'create_time_accounts\(''hr_a'', schedules => ''local''',
               'its hint names schedules => ''local''');
SELECT throws_ok($$SELECT tempo_fdw.create_time_accounts('hr_a', '2024-06-01', '2024-12-31', schedules => 'local', calendar => 'DE-test')$$,
                 '42704', 'holiday calendar ''DE-test'' does not exist', 'an unknown calendar is an error');

SELECT is(tempo_fdw.fill_holiday_calendar('DE-test', 'DE', 2024, 2024), 9, 'fill_holiday_calendar: 9 holidays of 2024');
INSERT INTO tempo_fdw.holidays (calendar, date, name, fraction, hours)
VALUES ('DE-test', '2024-12-24', 'Heiligabend', 0.5, NULL), ('DE-test', '2024-12-31', 'Silvester', NULL, 4);
SELECT is(tempo_fdw.fill_holiday_calendar('DE-test', 'DE', 2024, 2025), 9, 'filling again adds only the missing year');

\! curl -s "$TEMPO_SIM_URL/_reset?tag=tap_hr" >/dev/null
SELECT is(tempo_fdw.create_time_accounts('hr_a', '2024-06-01', '2024-12-31', schedules => 'local', calendar => 'DE-test'),
          'time accounts in schema hr_a from 2024-06-01 to 2024-12-31', 'schedules => local works with that token');
\set log `curl -s "$TEMPO_SIM_URL/_log?tag=tap_hr"`
SELECT is((SELECT count(*) FROM jsonb_array_elements(:'log'::jsonb) e WHERE e ->> 'path' LIKE '/4/user-schedule%'),
          0::bigint, 'no user-schedule request was made');
SELECT ok((SELECT count(*) FROM jsonb_array_elements(:'log'::jsonb) e WHERE e ->> 'path' LIKE '/4/worklogs%' AND e ->> 'status' = '200') > 0,
          'the worklogs were read');
SELECT is((SELECT count(*) FROM hr_a.schedule_snapshot), 0::bigint, 'the schedule snapshot is empty');

-- the expected days: contract hours less the holidays typed here
CREATE TEMP TABLE exp_a AS
WITH people AS (
  SELECT DISTINCT account FROM raw_worklog WHERE day BETWEEN '2024-06-01' AND '2024-12-31'
  UNION SELECT :'a' UNION SELECT :'b'
), hol (day, off_share, off_hours) AS (
  VALUES ('2024-10-03'::date, 1.0, NULL::numeric), ('2024-12-25', 1.0, NULL), ('2024-12-26', 1.0, NULL),
         ('2024-12-24', 0.5, NULL), ('2024-12-31', NULL, 4)
), days AS (
  SELECT account, '2024-06-01'::date + i AS day FROM people, generate_series(0, 213) i
), contract AS (
  SELECT days.*, CASE WHEN account = :'a' AND extract(isodow FROM day) <= 5 THEN 28800
                      WHEN account = :'b' AND day BETWEEN '2024-06-15' AND '2024-11-30' AND extract(isodow FROM day) <= 4 THEN 21600
                      WHEN account = :'a' OR (account = :'b' AND day BETWEEN '2024-06-15' AND '2024-11-30') THEN 0
                 END AS hours_s
    FROM days
)
SELECT c.account, c.day,
       coalesce(greatest(0, c.hours_s - coalesce(h.off_hours * 3600, h.off_share * c.hours_s, 0)), 0)::bigint AS required,
       coalesce((SELECT sum(spent) FROM raw_worklog w WHERE w.account = c.account AND w.day = c.day), 0)::bigint AS logged,
       CASE WHEN c.hours_s IS NULL THEN 'none' ELSE 'contract' END AS source
  FROM contract c LEFT JOIN hol h ON h.day = c.day;

SELECT is((SELECT count(*) FROM hr_a.time_account_daily), (SELECT count(*) FROM exp_a), 'one row per person and day');
SELECT is((SELECT count(*) FROM (
             (SELECT account_id, date, required_seconds, logged_seconds, required_source FROM hr_a.time_account_daily
              EXCEPT SELECT account, day, required, logged, source FROM exp_a)
             UNION ALL
             (SELECT account, day, required, logged, source FROM exp_a
              EXCEPT SELECT account_id, date, required_seconds, logged_seconds, required_source FROM hr_a.time_account_daily)) d),
          0::bigint, 'contracts + a local calendar: every day exact');
SELECT is((SELECT count(*) FROM (
             SELECT account_id, balance_seconds FROM hr_a.time_account_balance
             EXCEPT SELECT account, sum(logged - required)::bigint FROM exp_a GROUP BY 1) d),
          0::bigint, 'every balance exact');
SELECT results_eq(format($$SELECT date, required_seconds, day_type, holiday_name FROM hr_a.time_account_daily
                           WHERE account_id = %L AND date IN ('2024-10-03', '2024-12-24', '2024-12-28', '2024-12-31') ORDER BY date$$, :'a'),
                  $$VALUES ('2024-10-03'::date, 0::bigint, 'HOLIDAY', 'Tag der Deutschen Einheit'),
                           ('2024-12-24', 14400, 'HOLIDAY', 'Heiligabend'), ('2024-12-28', 0, 'NON_WORKING_DAY', NULL),
                           ('2024-12-31', 14400, 'HOLIDAY', 'Silvester')$$,
                  'a full, a half and a 4-hour holiday; a weekend');

-- ---------------------------------------------------------------------
-- 3. people, absences, the worked example of docs/time-accounts.md
CREATE SCHEMA hr_b;
IMPORT FOREIGN SCHEMA tempo FROM SERVER hr_srv INTO hr_b;
SELECT is(tempo_fdw.fill_holiday_calendar('DE-anna', 'DE', 2025, 2025), 9, 'Anna''s calendar');
INSERT INTO tempo_fdw.holiday_calendars (calendar) VALUES ('B-cal');
INSERT INTO tempo_fdw.holidays (calendar, date, name, fraction)
VALUES ('B-cal', '2025-04-09', 'Half holiday', 0.5), ('B-cal', '2025-04-18', 'Good Friday', NULL);
INSERT INTO tempo_fdw.time_account_people (schema_name, account_id, display_name, first_day, last_day, opening_balance_hours, calendar, team)
VALUES ('hr_b', 'anna', 'Anna', '2025-03-03', NULL, 5, NULL, 'Red'),
       ('hr_b', 'ben', 'Ben', '2025-01-01', '2025-04-10', 0, 'B-cal', 'Red'),
       ('hr_b', 'carla', 'Carla', '2025-04-22', NULL, 0, NULL, 'Blue');
INSERT INTO tempo_fdw.time_account_contracts (account_id, valid_from, valid_to, monday_hours, tuesday_hours, wednesday_hours, thursday_hours, friday_hours)
VALUES ('anna', '2025-03-03', NULL, 8, 8, 8, 8, 4),
       ('ben', '2024-01-01', NULL, 8, 8, 8, 8, 8),
       ('carla', '2025-04-22', NULL, 8, 8, 8, 8, 8);
INSERT INTO tempo_fdw.time_account_absences (schema_name, account_id, first_day, last_day, kind, portion, hours)
VALUES ('hr_b', 'anna', '2025-04-14', '2025-04-16', 'vacation', 'full', NULL),
       ('hr_b', 'anna', '2025-04-17', NULL, 'vacation', 'half', NULL),
       ('hr_b', 'ben', '2025-04-09', NULL, 'vacation', 'half', NULL),
       ('hr_b', 'carla', '2025-04-24', NULL, 'other', 'hours', 3),
       ('hr_b', 'carla', '2025-04-25', NULL, 'sick', 'full', NULL),
       ('hr_b', 'carla', '2025-04-28', NULL, 'time_off_in_lieu', 'hours', 10);
INSERT INTO tempo_fdw.time_account_adjustments (schema_name, account_id, date, hours, kind, reason)
VALUES ('hr_b', 'anna', '2025-04-30', -10, 'payout', 'overtime paid out');
SELECT throws_ok($$INSERT INTO tempo_fdw.time_account_absences (schema_name, account_id, first_day, kind) VALUES ('hr_b', 'dora', '2025-04-01', 'sick')$$,
                 '23503', NULL, 'absences are for listed people');

SELECT is(tempo_fdw.create_time_accounts('hr_b', '2025-01-01', '2025-04-30', mode => 'sync', populate => false,
                                         schedules => 'local', people => 'listed', calendar => 'DE-anna'),
          'time accounts in schema hr_b from 2025-01-01 to 2025-04-30', 'listed people, local schedules');
-- the worklogs, straight into the store: Anna 150 h in March (and 2 h the
-- Saturday before her first day), 126.5 h in April; Ben 8 h on 2 January
-- and 4 h the day after his last; Dora, not listed, 5 h
INSERT INTO hr_b.worklog_store (worklog_id, source, issue_id, author_account_id, start_date, time_spent_seconds, created_at, updated_at, last_seen_at)
SELECT 900000 + row_number() OVER (), 'tempo', 10000, who, day, secs, now(), now(), now()
  FROM (SELECT 'anna' AS who, d::date AS day, 7 * 3600 AS secs FROM generate_series('2025-03-03'::date, '2025-03-31', '1 day') d WHERE extract(isodow FROM d) <= 5
        UNION ALL SELECT 'anna', '2025-03-08', 3 * 3600
        UNION ALL SELECT 'anna', '2025-03-01', 2 * 3600
        UNION ALL SELECT 'anna', d::date, 7 * 3600 FROM generate_series('2025-04-01'::date, '2025-04-30', '1 day') d
                   WHERE extract(isodow FROM d) <= 5 AND d::date NOT IN ('2025-04-14', '2025-04-15', '2025-04-16', '2025-04-18', '2025-04-21')
        UNION ALL SELECT 'anna', '2025-04-26', 27000
        UNION ALL SELECT 'ben', '2025-01-02', 8 * 3600
        UNION ALL SELECT 'ben', '2025-04-11', 4 * 3600
        UNION ALL SELECT 'dora', '2025-02-03', 5 * 3600) w;
SELECT is((SELECT sum(time_spent_seconds) FROM hr_b.worklog_store WHERE author_account_id = 'anna' AND start_date >= '2025-04-01'),
          455400::bigint, 'the test''s own check: Anna logged 126.5 h in April');

SELECT results_eq($$SELECT account_id, month, required_hours, logged_hours, balance_hours, adjustment_hours, cumulative_balance_hours
                      FROM hr_b.time_account_monthly WHERE account_id = 'anna' ORDER BY month$$,
                  $$VALUES ('anna', '2025-03-01'::date, 152.00, 150.00, -2.00, 0.00, 3.00),
                           ('anna', '2025-04-01', 120.00, 126.50, 6.50, -10.00, -0.50)$$,
                  'Anna: 152 h due in March from the 3rd, the worked example''s 120 h in April, +5 h opening, 10 h paid out');
SELECT results_eq($$SELECT date, required_seconds, absence_seconds, absence_kind, day_type, holiday_name FROM hr_b.time_account_daily
                     WHERE account_id = 'anna' AND date BETWEEN '2025-04-14' AND '2025-04-21' ORDER BY date$$,
                  $$VALUES ('2025-04-14'::date, 0::bigint, 28800::bigint, 'vacation', 'WORKING_DAY', NULL),
                           ('2025-04-15', 0, 28800, 'vacation', 'WORKING_DAY', NULL),
                           ('2025-04-16', 0, 28800, 'vacation', 'WORKING_DAY', NULL),
                           ('2025-04-17', 14400, 14400, 'vacation', 'WORKING_DAY', NULL),
                           ('2025-04-18', 0, 0, NULL, 'HOLIDAY', 'Karfreitag'),
                           ('2025-04-19', 0, 0, NULL, 'NON_WORKING_DAY', NULL),
                           ('2025-04-20', 0, 0, NULL, 'NON_WORKING_DAY', NULL),
                           ('2025-04-21', 0, 0, NULL, 'HOLIDAY', 'Ostermontag')$$,
                  'Anna''s vacation, half day and Easter, day by day');
SELECT results_eq($$SELECT account_id, as_of, balance_hours, balance_seconds, display_name, team FROM hr_b.time_account_balance ORDER BY account_id$$,
                  $$VALUES ('anna', '2025-04-30'::date, -0.50, -1800::bigint, 'Anna', 'Red'),
                           ('ben', '2025-04-30', -560.00, -2016000, 'Ben', 'Red'),
                           ('carla', '2025-04-30', -37.00, -133200, 'Carla', 'Blue')$$,
                  'balances: Anna 5 - 2 + 6.5 - 10; Ben 8 - 568 h (a half-day absence on a half holiday is 0 h); Carla 56 - 3 - 8 - 8 h');
SELECT results_eq($$SELECT account_id, min(date), max(date), count(*) FROM hr_b.time_account_daily GROUP BY 1 ORDER BY 1$$,
                  $$VALUES ('anna', '2025-03-03'::date, '2025-04-30'::date, 59::bigint), ('ben', '2025-01-01', '2025-04-10', 100),
                           ('carla', '2025-04-22', '2025-04-30', 9)$$,
                  'an account from the first to the last day, whether logged or not; nobody else');
SELECT results_eq($$SELECT date, required_seconds, absence_seconds FROM hr_b.time_account_daily
                     WHERE account_id IN ('ben', 'carla') AND date IN ('2025-04-09', '2025-04-24', '2025-04-25', '2025-04-28') ORDER BY date$$,
                  $$VALUES ('2025-04-09'::date, 0::bigint, 14400::bigint), ('2025-04-24', 18000, 10800),
                           ('2025-04-25', 0, 28800), ('2025-04-28', 0, 28800)$$,
                  'half absence on a half holiday, hours, a sick day, hours beyond the day: never below 0');
SELECT results_eq($$SELECT account_id, reason, counted, first_date, last_date, worklogs, logged_seconds
                      FROM hr_b.time_account_unaccounted ORDER BY account_id$$,
                  $$VALUES ('anna', 'before first_day', false, '2025-03-01'::date, '2025-03-01'::date, 1::bigint, 7200::bigint),
                           ('ben', 'after last_day', false, '2025-04-11', '2025-04-11', 1, 14400),
                           ('dora', 'not in time_account_people', false, '2025-02-03', '2025-02-03', 1, 18000)$$,
                  'worklogs no account counts are listed, not silently dropped');

-- grants on the views survive making the accounts again
CREATE ROLE hr_bi NOLOGIN;
GRANT USAGE ON SCHEMA hr_b TO hr_bi;
GRANT SELECT ON hr_b.time_account_balance, hr_b.time_account_daily TO hr_bi WITH GRANT OPTION;
GRANT SELECT ON hr_b.time_account_monthly TO PUBLIC;

-- people => 'authors' (the default): an unlisted author gets an account over the whole period
SELECT lives_ok($$SELECT tempo_fdw.create_time_accounts('hr_b', '2025-01-01', '2025-04-30', mode => 'sync', populate => false,
                                                        schedules => 'local', calendar => 'DE-anna')$$, 'people => authors');
SELECT results_eq($$SELECT account_id, count(*), sum(required_seconds), sum(logged_seconds) FROM hr_b.time_account_daily
                     WHERE account_id IN ('dora', 'anna') GROUP BY 1 ORDER BY 1$$,
                  $$VALUES ('anna', 59::bigint, (272 * 3600)::numeric, (276.5 * 3600)::numeric), ('dora', 120, 0, 18000)$$,
                  'Dora: 120 days, nothing required without a contract; Anna unchanged');
SELECT results_eq($$SELECT c.relname::text COLLATE "default", coalesce(r.rolname::text, 'PUBLIC') COLLATE "default", a.privilege_type, a.is_grantable
                      FROM pg_class c CROSS JOIN LATERAL aclexplode(c.relacl) a LEFT JOIN pg_roles r ON r.oid = a.grantee
                     WHERE c.relnamespace = 'hr_b'::regnamespace AND a.grantee <> c.relowner ORDER BY 1, 2$$,
                  $$VALUES ('time_account_balance', 'hr_bi', 'SELECT', true), ('time_account_daily', 'hr_bi', 'SELECT', true),
                           ('time_account_monthly', 'PUBLIC', 'SELECT', false),
                           ('time_account_status', 'PUBLIC', 'SELECT', false), ('time_account_status', 'hr_bi', 'SELECT', false)$$,
                  'the grants on the views are given again when the accounts are made again (the status to all their readers)');
SELECT results_eq($$SELECT account_id, counted FROM hr_b.time_account_unaccounted ORDER BY 1$$,
                  $$VALUES ('anna', false), ('ben', false), ('dora', true)$$,
                  'and the list says that Dora is counted');

-- worklogs on an absence issue (an HR "vacation" issue) are absence, not work
SELECT lives_ok($$SELECT tempo_fdw.create_time_accounts('hr_b', '2025-01-01', '2025-04-30', mode => 'sync', populate => false,
                                                        schedules => 'local', people => 'listed', calendar => 'DE-anna',
                                                        absence_issue_ids => '{20000}')$$, 'absence_issue_ids');
INSERT INTO hr_b.worklog_store (worklog_id, source, issue_id, author_account_id, start_date, time_spent_seconds, created_at, updated_at, last_seen_at)
VALUES (910001, 'tempo', 20000, 'carla', '2025-04-29', 6 * 3600, now(), now(), now());
SELECT results_eq($$SELECT required_seconds, logged_seconds, absence_seconds, absence_kind FROM hr_b.time_account_daily
                     WHERE account_id = 'carla' AND date = '2025-04-29'$$,
                  $$VALUES (7200::bigint, 0::bigint, 21600::bigint, 'absence issue')$$,
                  '6 h logged on the absence issue: 8 - 6 h required, nothing logged');
SELECT is((SELECT balance_seconds FROM hr_b.time_account_balance WHERE account_id = 'carla'), (-31 * 3600)::bigint,
          'Carla: 37 h required before, 6 h fewer now');

-- ---------------------------------------------------------------------
-- 4. which days count: up to yesterday in the accounts' zone, never the future
SELECT lives_ok($$SELECT tempo_fdw.create_time_accounts('hr_b', '2025-01-01', mode => 'sync', populate => false, schedules => 'local',
                                                        people => 'listed', calendar => 'DE-anna', time_zone => 'Europe/Berlin')$$,
                'open-ended accounts in Europe/Berlin');
SET LOCAL timezone = 'Pacific/Auckland';
SELECT is((SELECT max(date) FROM hr_b.time_account_daily WHERE account_id = 'carla'),
          (timezone('Europe/Berlin', now()))::date - 1, 'a session in Pacific/Auckland: days up to yesterday in Berlin');
SELECT is((SELECT DISTINCT as_of FROM hr_b.time_account_balance), (timezone('Europe/Berlin', now()))::date - 1,
          'as_of is yesterday in Berlin');
-- the year end: a balance above the cap goes (Eve: 100 h opening, nothing required)
INSERT INTO tempo_fdw.time_account_people (schema_name, account_id, first_day, opening_balance_hours)
VALUES ('hr_b', 'eve', '2025-12-01', 100);
SELECT results_eq($$SELECT * FROM tempo_fdw.close_time_account_year('hr_b', 2025, 40)$$,
                  $$VALUES ('eve', 100.00, -60.00)$$, 'closing 2025 with a cap of 40 h: Eve forfeits 60 h; negative balances carry over');
SELECT results_eq($$SELECT month, adjustment_hours, cumulative_balance_hours FROM hr_b.time_account_monthly
                     WHERE account_id = 'eve' AND month <= '2026-01-01' ORDER BY month$$,
                  $$VALUES ('2025-12-01'::date, -60.00, 40.00), ('2026-01-01', 0.00, 40.00)$$,
                  'the carry-over is an adjustment on 31 December: 40 h carried into 2026');
SELECT throws_ok($$SELECT * FROM tempo_fdw.close_time_account_year('hr_b', 2025, 40)$$, '23505',
                 'the year 2025 of "hr_b" is already closed', 'a year is closed once');
SELECT throws_ok($$SELECT * FROM tempo_fdw.close_time_account_year('hr_b', 2026, 40)$$, '55000', NULL,
                 'a year that is not over is not closed');
SELECT is((SELECT tempo_fdw.create_time_accounts('hr_b', '2025-01-01', '2099-12-31', mode => 'sync', populate => false, schedules => 'local',
                                                 people => 'listed', time_zone => 'Europe/Berlin', count_today => true) IS NOT NULL), true,
          'until in the future, today counting');
SELECT is((SELECT max(date) FROM hr_b.time_account_daily), (timezone('Europe/Berlin', now()))::date,
          'today at most, never a future day');
SELECT is((SELECT time_zone FROM tempo_fdw.time_accounts WHERE schema_name = 'hr_b'), 'Europe/Berlin', 'the zone is recorded');
SET LOCAL timezone = 'America/Santiago';
SELECT lives_ok($$SELECT tempo_fdw.create_time_accounts('hr_b', '2024-09-01', '2025-04-10', mode => 'sync', populate => false, schedules => 'local',
                                                        people => 'listed')$$,
                'accounts made in a session in America/Santiago (clocks change at midnight)');
SELECT is((SELECT time_zone FROM tempo_fdw.time_accounts WHERE schema_name = 'hr_b'), 'America/Santiago', 'the zone defaults to the session''s');
SELECT results_eq($$SELECT count(*), max(date), count(DISTINCT date) FROM hr_b.time_account_daily WHERE account_id = 'ben'$$,
                  $$VALUES (100::bigint, '2025-04-10'::date, 100::bigint)$$,
                  'every day once, the last one too, across the DST change of 2025-04-06');
SELECT results_eq($$SELECT count(*), max(date) FROM hr_b.time_account_daily WHERE account_id = 'anna'$$,
                  $$VALUES (39::bigint, '2025-04-10'::date)$$, 'Anna from 3 March to 10 April');
SELECT throws_ok($$SELECT tempo_fdw.create_time_accounts('hr_b', '2025-01-01', mode => 'sync', populate => false, time_zone => 'Mars/Olympus')$$,
                 '22023', 'time zone ''Mars/Olympus'' is not known', 'an unknown zone is an error');
SELECT throws_ok($$SELECT tempo_fdw.create_time_accounts('hr_b', '2025-01-01', mode => 'sync', populate => false, schedules => 'outlook')$$,
                 '22023', 'schedules must be ''tempo'', ''local'' or ''tempo_or_local'', not ''outlook''', 'schedules is checked');

SELECT * FROM finish();
ROLLBACK;
DROP EXTENSION tempo_fdw CASCADE;
\! curl -s "$TEMPO_SIM_URL/_reset" >/dev/null
