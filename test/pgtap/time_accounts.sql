-- pgTAP: time accounts over the simulator's company, checked to the second
-- against figures computed here independently from the simulator's raw data
-- (its /_data endpoint, not the foreign tables).
\ir include/begin.sql
SELECT plan(22);
SET LOCAL timezone = 'UTC';

\set t :sim '/@tag=tap_ta/4'
CREATE SERVER ta_srv FOREIGN DATA WRAPPER tempo_fdw OPTIONS (tempo_url :'t', max_requests_per_second '0');
CREATE USER MAPPING FOR PUBLIC SERVER ta_srv OPTIONS (token 'tempo-test-token');
CREATE SCHEMA ta;
IMPORT FOREIGN SCHEMA tempo FROM SERVER ta_srv INTO ta;

-- the raw data, straight from the simulator
CREATE TEMP TABLE raw_doc (kind text, doc jsonb);
\set cmd 'curl -s "' :sim '/_data?ds=company&kind=tempo"'
COPY raw_doc (doc) FROM PROGRAM :'cmd' WITH (FORMAT csv, QUOTE E'\x01', DELIMITER E'\x02');
UPDATE raw_doc SET kind = 'tempo' WHERE kind IS NULL;
\set cmd 'curl -s "' :sim '/_data?ds=company&kind=schedule&from=2024-06-01&to=2024-12-31"'
COPY raw_doc (doc) FROM PROGRAM :'cmd' WITH (FORMAT csv, QUOTE E'\x01', DELIMITER E'\x02');
UPDATE raw_doc SET kind = 'schedule' WHERE kind IS NULL;
CREATE TEMP TABLE raw_worklog AS
  SELECT w ->> 'startDate' AS day, w -> 'author' ->> 'accountId' AS account,
         (w ->> 'timeSpentSeconds')::bigint AS spent, coalesce((w ->> 'billableSeconds')::bigint, 0) AS billable
    FROM raw_doc, jsonb_array_elements(doc) w WHERE kind = 'tempo';
CREATE TEMP TABLE raw_schedule AS
  SELECT p.key AS account, d ->> 'date' AS day, (d ->> 'requiredSeconds')::bigint AS required,
         d ->> 'type' AS type, d -> 'holiday' ->> 'name' AS holiday, (d -> 'holiday' ->> 'durationSeconds')::bigint AS holiday_length
    FROM raw_doc, jsonb_each(doc) p, jsonb_array_elements(p.value) d WHERE kind = 'schedule';

-- people for the contract cases: A full time then part time, B part time
-- Monday to Thursday, Q no Tempo schedule at all and a contract from December
SELECT min(account) AS a FROM raw_schedule WHERE day = '2024-06-03' AND required = 28800 \gset
SELECT max(account) AS b FROM raw_schedule WHERE day = '2024-06-03' AND required = 28800 \gset
SELECT account AS q FROM raw_worklog EXCEPT SELECT account FROM raw_schedule LIMIT 1 \gset
INSERT INTO tempo_fdw.time_account_contracts (account_id, valid_from, valid_to, monday_hours, tuesday_hours, wednesday_hours, thursday_hours, friday_hours)
VALUES (:'a', '2024-06-01', '2024-09-30', 8, 8, 8, 8, 8),
       (:'a', '2024-10-01', NULL, 4, 4, 4, 4, 4),
       (:'b', '2024-06-15', '2024-12-31', 6, 6, 6, 6, 0),
       (:'q', '2024-12-01', NULL, 7.5, 7.5, 7.5, 7.5, 7.5);

SELECT throws_ok(format($$INSERT INTO tempo_fdw.time_account_contracts (account_id, valid_from, valid_to, monday_hours)
                         VALUES (%L, '2024-09-30', '2024-10-05', 1)$$, :'a'),
                 '23P01', NULL, 'overlapping contracts of one person are refused');
SELECT lives_ok(format($$UPDATE tempo_fdw.time_account_contracts SET note = 'moved' WHERE account_id = %L$$, :'b'),
                'a contract may be updated in place');

SELECT is(tempo_fdw.create_time_accounts('ta', '2024-06-01', '2024-12-31'),
          'time accounts in schema ta from 2024-06-01 to 2024-12-31', 'create_time_accounts');
SELECT has_materialized_view('ta', 'worklog_snapshot', 'worklog snapshot');
SELECT has_table('ta', 'schedule_snapshot', 'schedule snapshot (a table, fetched incrementally)');
SELECT has_view('ta', 'time_account_daily', 'daily view');
SELECT has_view('ta', 'time_account_monthly', 'monthly view');
SELECT has_view('ta', 'time_account_balance', 'balance view');
SELECT is((SELECT count(*) FROM pg_index WHERE indisunique AND indrelid IN ('ta.worklog_snapshot'::regclass, 'ta.schedule_snapshot'::regclass)),
          2::bigint, 'each snapshot has a unique index (REFRESH CONCURRENTLY, the days of a schedule)');
SELECT is((SELECT count(*) FROM pg_attribute a WHERE a.attrelid IN ('ta.time_account_daily'::regclass, 'ta.time_account_monthly'::regclass, 'ta.time_account_balance'::regclass)
              AND a.attnum > 0 AND col_description(a.attrelid, a.attnum) IS NULL),
          0::bigint, 'every column of the views has a comment');
SELECT isnt(obj_description('ta.time_account_daily'::regclass, 'pg_class'), NULL, 'the daily view has a comment');

-- the expected daily figures, computed here from the raw data
CREATE TEMP TABLE expected_daily AS
WITH people AS (
  SELECT DISTINCT account FROM raw_worklog WHERE day BETWEEN '2024-06-01' AND '2024-12-31'
  UNION SELECT account_id FROM tempo_fdw.time_account_contracts
), days AS (
  SELECT account, d::date AS day FROM people, generate_series('2024-06-01'::date, '2024-12-31', '1 day') d
)
SELECT days.account, days.day,
       CASE WHEN c.contract_id IS NOT NULL THEN
              greatest(0, (3600 * CASE extract(isodow FROM days.day)
                                    WHEN 1 THEN c.monday_hours WHEN 2 THEN c.tuesday_hours WHEN 3 THEN c.wednesday_hours
                                    WHEN 4 THEN c.thursday_hours WHEN 5 THEN c.friday_hours WHEN 6 THEN c.saturday_hours
                                    ELSE c.sunday_hours END)::bigint
                          - CASE WHEN s.type LIKE 'HOLIDAY%' THEN coalesce(s.holiday_length, 86400) ELSE 0 END)
            WHEN s.day IS NOT NULL THEN s.required ELSE 0 END AS required,
       coalesce(l.logged, 0) AS logged,
       CASE WHEN c.contract_id IS NOT NULL THEN 'contract' WHEN s.day IS NOT NULL THEN 'tempo' ELSE 'none' END AS source
  FROM days
  LEFT JOIN raw_schedule s ON s.account = days.account AND s.day::date = days.day
  LEFT JOIN (SELECT account, day::date AS day, sum(spent) AS logged FROM raw_worklog GROUP BY 1, 2) l
         ON l.account = days.account AND l.day = days.day
  LEFT JOIN tempo_fdw.time_account_contracts c ON c.account_id = days.account
        AND days.day BETWEEN c.valid_from AND coalesce(c.valid_to, 'infinity');

SELECT is((SELECT count(*) FROM ta.time_account_daily), (SELECT count(*) FROM expected_daily), 'one daily row per person and day');
SELECT is((SELECT count(*) FROM (
             (SELECT account_id, date, required_seconds, logged_seconds, balance_seconds, required_source FROM ta.time_account_daily
              EXCEPT SELECT account, day, required, logged, logged - required, source FROM expected_daily)
             UNION ALL
             (SELECT account, day, required, logged, logged - required, source FROM expected_daily
              EXCEPT SELECT account_id, date, required_seconds, logged_seconds, balance_seconds, required_source FROM ta.time_account_daily)) d),
          0::bigint, 'daily required, logged and balance seconds all equal the independent figures');
SELECT is((SELECT count(*) FROM (
             SELECT account_id, month, required_seconds, logged_seconds, cumulative_balance_seconds FROM ta.time_account_monthly
             EXCEPT
             SELECT account, month, req, log, sum(log - req) OVER (PARTITION BY account ORDER BY month)
               FROM (SELECT account, date_trunc('month', day)::date AS month, sum(required) AS req, sum(logged) AS log
                       FROM expected_daily GROUP BY 1, 2) m) d),
          0::bigint, 'monthly figures and the running balance equal the independent figures');
SELECT is((SELECT count(*) FROM (
             SELECT account_id, balance_seconds, balance_hours FROM ta.time_account_balance
             EXCEPT
             SELECT account, sum(logged - required), round(sum(logged - required) / 3600.0, 2) FROM expected_daily GROUP BY 1) d),
          0::bigint, 'the balance of every person equals the independent figure');

-- the interesting days, spelled out
SELECT results_eq(format($$SELECT date, required_seconds, day_type, required_source FROM ta.time_account_daily
                           WHERE account_id = %L AND date IN ('2024-09-30', '2024-10-01', '2024-12-23', '2024-12-24', '2024-12-25')
                           ORDER BY date$$, :'a'),
                  $$VALUES ('2024-09-30'::date, 28800::bigint, 'WORKING_DAY', 'contract'),
                           ('2024-10-01', 14400, 'WORKING_DAY', 'contract'),
                           ('2024-12-23', 14400, 'WORKING_DAY', 'contract'),
                           ('2024-12-24', 0, 'HOLIDAY', 'contract'),
                           ('2024-12-25', 0, 'HOLIDAY', 'contract')$$,
                  'A: full time until September, part time from October, half-day and full holidays');
SELECT results_eq(format($$SELECT date, required_seconds, day_type, holiday_name FROM ta.time_account_daily
                           WHERE account_id = %L AND date IN ('2024-06-08', '2024-06-13', '2024-06-20', '2024-06-21', '2024-12-24')
                           ORDER BY date$$, :'b'),
                  $$VALUES ('2024-06-08'::date, 0::bigint, 'HOLIDAY_AND_NON_WORKING_DAY', 'Founders'' Day'),
                           ('2024-06-13', 28800, 'WORKING_DAY', NULL),
                           ('2024-06-20', 21600, 'WORKING_DAY', NULL),
                           ('2024-06-21', 0, 'NON_WORKING_DAY', NULL),
                           ('2024-12-24', 7200, 'HOLIDAY', 'Christmas Eve')$$,
                  'B: Tempo before the contract, Monday to Thursday after; a weekend holiday; 6 h less a half-day holiday');
SELECT results_eq(format($$SELECT required_source, count(*), sum(required_seconds) FROM ta.time_account_daily
                           WHERE account_id = %L GROUP BY 1 ORDER BY 1$$, :'q'),
                  $$VALUES ('contract', 31::bigint, (22 * 27000)::numeric), ('none', 183, 0)$$,
                  'Q: no schedule: nothing required until the contract, then 7.5 h on each of 22 weekdays of December');
SELECT ok((SELECT sum(logged_seconds) > 0 FROM ta.time_account_daily WHERE extract(isodow FROM date) >= 6),
          'weekend worklogs count');

-- billable time instead of time spent, and only some issues
SELECT lives_ok($$SELECT tempo_fdw.create_time_accounts('ta', '2024-06-01', '2024-12-31', logged => 'billable', issue_ids => '{10000,10005}')$$,
                'create again: billable time, two issues');
SELECT is((SELECT sum(logged_seconds) FROM ta.time_account_daily),
          (SELECT sum(billable)::numeric FROM raw_doc, jsonb_array_elements(doc) w,
                  LATERAL (SELECT coalesce((w ->> 'billableSeconds')::bigint, 0) AS billable) b
            WHERE kind = 'tempo' AND (w -> 'issue' ->> 'id')::bigint IN (10000, 10005)
              AND w ->> 'startDate' BETWEEN '2024-06-01' AND '2024-12-31'),
          'logged time is the billable time of the chosen issues');

-- replacing never takes a user's objects along
CREATE VIEW ta.my_report AS SELECT * FROM ta.time_account_balance;
SELECT throws_ok($$SELECT tempo_fdw.create_time_accounts('ta', '2024-06-01', '2024-12-31')$$,
                 '2BP01', NULL, 'a view of the user on ours stops the replacement instead of vanishing');

SELECT * FROM finish();
ROLLBACK;
