-- user_schedules: per account (=, IN, a join key) and date range, both
-- pushed into GET /4/user-schedule/{accountId}?from&to; without them an
-- error whose hint shows a working query.
\ir sql/include/setup.sql
SET datestyle = 'ISO, YMD';
\set t :sim '/@tag=sched/4'
CREATE SERVER sched_srv FOREIGN DATA WRAPPER tempo_fdw OPTIONS (tempo_url :'t', max_requests_per_second '0');
CREATE USER MAPPING FOR PUBLIC SERVER sched_srv OPTIONS (token 'tempo-test-token');
CREATE SCHEMA sched;
IMPORT FOREIGN SCHEMA tempo LIMIT TO (user_schedules, worklogs) FROM SERVER sched_srv INTO sched;
SELECT author_account_id AS a1 FROM sched.worklogs GROUP BY 1 ORDER BY 1 LIMIT 1 \gset
SELECT author_account_id AS a2 FROM sched.worklogs GROUP BY 1 ORDER BY 1 OFFSET 1 LIMIT 1 \gset
\! curl -s "$TEMPO_SIM_URL/_reset?tag=sched" >/dev/null

-- one person, the last days of the year: a half-day and two full holidays
EXPLAIN (VERBOSE, COSTS OFF)
  SELECT * FROM sched.user_schedules WHERE account_id = :'a1' AND date BETWEEN '2024-12-23' AND '2024-12-27';
SELECT * FROM sched.user_schedules WHERE account_id = :'a1' AND date BETWEEN '2024-12-23' AND '2024-12-27' ORDER BY date;
-- two people: one request each
SELECT account_id = :'a1' AS first, count(*), sum(required_seconds) FROM sched.user_schedules
 WHERE account_id IN (:'a1', :'a2') AND date >= '2024-01-01' AND date < '2024-02-01' GROUP BY 1 ORDER BY 1;
-- a join from the people who logged time on one day: one request per person
EXPLAIN (VERBOSE, COSTS OFF)
  SELECT p.a, s.date, s.required_seconds
    FROM (SELECT DISTINCT author_account_id AS a FROM sched.worklogs WHERE start_date = '2024-03-11') p
    JOIN sched.user_schedules s ON s.account_id = p.a
   WHERE s.date BETWEEN '2024-03-11' AND '2024-03-15';
SELECT count(*) AS rows, count(DISTINCT account_id) AS people, sum(required_seconds) AS required
  FROM (SELECT DISTINCT author_account_id AS a FROM sched.worklogs WHERE start_date = '2024-03-11') p
  JOIN sched.user_schedules s ON s.account_id = p.a
 WHERE s.date BETWEEN '2024-03-11' AND '2024-03-15';
\set log `curl -s "$TEMPO_SIM_URL/_log?tag=sched"`
SELECT count(*) AS requests, count(DISTINCT e ->> 'path') AS people_asked
  FROM jsonb_array_elements(:'log'::jsonb) e
 WHERE e ->> 'path' LIKE '/4/user-schedule/%' AND e ->> 'query' = 'from=2024-03-11&to=2024-03-15';

-- without an account or a date range Tempo cannot answer: say how to ask
SELECT * FROM sched.user_schedules WHERE date = '2024-03-11';  -- ERROR
SELECT * FROM sched.user_schedules WHERE account_id = :'a1';  -- ERROR
-- a person Tempo does not know is an error, not an empty answer
SELECT * FROM sched.user_schedules WHERE account_id = 'nobody' AND date = '2024-03-11';  -- ERROR

DROP SCHEMA sched CASCADE;
DROP SERVER sched_srv CASCADE;
