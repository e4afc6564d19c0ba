-- The rate budget (max_requests_per_second) is shared by every backend of the
-- cluster per API host and token when tempo_fdw is preloaded (the test
-- cluster preloads it), and a 429 with Retry-After pauses every backend.
\ir sql/include/setup.sql
SHOW shared_preload_libraries;
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS dblink;
RESET client_min_messages;
-- two servers on the same host with the same token: one budget
\set ta :sim '/@tag=rl_a,ds=gen,n=800/4'
\set tb :sim '/@tag=rl_b,ds=gen,n=800/4'
CREATE SERVER rl_a FOREIGN DATA WRAPPER tempo_fdw
  OPTIONS (tempo_url :'ta', max_requests_per_second '4', page_size '100', max_concurrency '1');
CREATE SERVER rl_b FOREIGN DATA WRAPPER tempo_fdw
  OPTIONS (tempo_url :'tb', max_requests_per_second '4', page_size '100', max_concurrency '1');
CREATE USER MAPPING FOR PUBLIC SERVER rl_a OPTIONS (token 'tempo-test-token');
CREATE USER MAPPING FOR PUBLIC SERVER rl_b OPTIONS (token 'tempo-test-token');
CREATE FOREIGN TABLE rl_wa (worklog_id bigint) SERVER rl_a OPTIONS (resource 'worklogs');
CREATE FOREIGN TABLE rl_wb (worklog_id bigint) SERVER rl_b OPTIONS (resource 'worklogs');
SELECT format('dbname=%s port=%s host=%s user=%s', current_database(), current_setting('port'),
              current_setting('unix_socket_directories'), current_user) AS conn \gset

-- two backends scan at once: 8 pages each, 16 requests at 4 per second
SELECT dblink_connect('a', :'conn') AS a, dblink_connect('b', :'conn') AS b;
SELECT dblink_send_query('a', 'SELECT count(*) FROM rl_wa') AS sent_a,
       dblink_send_query('b', 'SELECT count(*) FROM rl_wb') AS sent_b;
SELECT * FROM dblink_get_result('a') AS t(n bigint);
SELECT * FROM dblink_get_result('b') AS t(n bigint);
SELECT (SELECT count(*) FROM dblink_get_result('a') AS t(n bigint)) + (SELECT count(*) FROM dblink_get_result('b') AS t(n bigint)) AS no_more_results;
\set la `curl -s "$TEMPO_SIM_URL/_log?tag=rl_a"`
\set lb `curl -s "$TEMPO_SIM_URL/_log?tag=rl_b"`
CREATE TEMP TABLE rl_log AS
  SELECT 'a' AS backend, (e ->> 't')::float8 AS t FROM jsonb_array_elements(:'la'::jsonb) e
  UNION ALL
  SELECT 'b', (e ->> 't')::float8 FROM jsonb_array_elements(:'lb'::jsonb) e;
-- each backend alone would need under 2 s; sharing 4 per second, 16 requests take at least 3.75 s
SELECT count(*) AS requests, count(*) FILTER (WHERE backend = 'a') AS by_a,
       max(t) - min(t) >= 3.5 AS shared_budget_spread_them,
       (SELECT max((SELECT count(*) FROM rl_log l2 WHERE l2.t >= l1.t AND l2.t < l1.t + 1)) FROM rl_log l1) <= 6
         AS at_most_about_4_per_second,
       (SELECT count(DISTINCT backend) FROM rl_log WHERE t < (SELECT min(t) + 2 FROM rl_log)) = 2 AS interleaved
  FROM rl_log;

-- a 429 with Retry-After: 2 for one backend pauses the other too
\! curl -s "$TEMPO_SIM_URL/_reset" >/dev/null
\set ta :sim '/@tag=rl_a,ds=tiny,fault=429,retry_after=2,fault_times=1/4'
\set tb :sim '/@tag=rl_b,ds=tiny/4'
ALTER SERVER rl_a OPTIONS (SET tempo_url :'ta', SET max_requests_per_second '0');
ALTER SERVER rl_b OPTIONS (SET tempo_url :'tb', SET max_requests_per_second '0');
SELECT dblink_send_query('a', 'SELECT count(*) FROM rl_wa') AS sent_a;
SELECT pg_sleep(0.3);
SELECT dblink_send_query('b', 'SELECT count(*) FROM rl_wb') AS sent_b;
SELECT * FROM dblink_get_result('a') AS t(n bigint);
SELECT * FROM dblink_get_result('b') AS t(n bigint);
SELECT (SELECT count(*) FROM dblink_get_result('a') AS t(n bigint)) + (SELECT count(*) FROM dblink_get_result('b') AS t(n bigint)) AS no_more_results;
\set la `curl -s "$TEMPO_SIM_URL/_log?tag=rl_a"`
\set lb `curl -s "$TEMPO_SIM_URL/_log?tag=rl_b"`
SELECT (SELECT string_agg(e ->> 'status', ',') FROM jsonb_array_elements(:'la'::jsonb) e) AS a_statuses,
       (SELECT string_agg(e ->> 'status', ',') FROM jsonb_array_elements(:'lb'::jsonb) e) AS b_statuses,
       (SELECT min((e ->> 't')::float8) FROM jsonb_array_elements(:'lb'::jsonb) e)
         - (SELECT min((e ->> 't')::float8) FROM jsonb_array_elements(:'la'::jsonb) e) >= 1.8 AS b_waited_for_the_pause;
SELECT dblink_disconnect('a') AS da, dblink_disconnect('b') AS db;

-- Retry-After as an HTTP date (3 s ahead) is honoured too
SELECT replace(replace(to_char(now() AT TIME ZONE 'UTC' + interval '3 seconds', 'Dy, DD Mon YYYY HH24:MI:SS') || ' GMT',
                       ',', '%2C'), ' ', '%20') AS http_date \gset
\set ta :sim '/@tag=rl_date,ds=tiny,fault=503,retry_after=' :http_date ',fault_times=1/4'
ALTER SERVER rl_a OPTIONS (SET tempo_url :'ta', ADD max_retries '2');
SELECT count(*) FROM rl_wa;
\set la `curl -s "$TEMPO_SIM_URL/_log?tag=rl_date"`
SELECT string_agg(e ->> 'status', ',') AS statuses,
       max((e ->> 't')::float8) - min((e ->> 't')::float8) >= 1.5 AS waited_until_the_date
  FROM jsonb_array_elements(:'la'::jsonb) e;

-- a request that never went out gives its slot back: five requests
-- cancelled while waiting for their slots (2 s apart) leave no backlog
\set tc :sim '/@tag=rl_c,ds=tiny/4'
CREATE SERVER rl_c FOREIGN DATA WRAPPER tempo_fdw
  OPTIONS (tempo_url :'tc', max_requests_per_second '0.5', max_concurrency '1');
CREATE USER MAPPING FOR PUBLIC SERVER rl_c OPTIONS (token 'tempo-test-token');
CREATE FOREIGN TABLE rl_wc (worklog_id bigint) SERVER rl_c OPTIONS (resource 'worklogs');
SELECT pg_sleep(2.1);  -- earlier slots of this budget are past
SELECT count(*) FROM rl_wc;
SET statement_timeout = '200ms';
SELECT count(*) FROM rl_wc;
SELECT count(*) FROM rl_wc;
SELECT count(*) FROM rl_wc;
SELECT count(*) FROM rl_wc;
SELECT count(*) FROM rl_wc;
RESET statement_timeout;
SELECT clock_timestamp() AS t0 \gset
SELECT count(*) FROM rl_wc;
SELECT clock_timestamp() - :'t0'::timestamptz < interval '3 s' AS waited_one_slot_at_most;

-- a role may queue at most tempo_fdw.max_backlog_per_role of requests (here
-- 2 s at 1 per second: 2 waiting); its next one fails, so another role
-- waits for at most that backlog
ALTER SERVER rl_c OPTIONS (SET max_requests_per_second '1');
CREATE ROLE regress_tempo_greedy;
GRANT USAGE ON FOREIGN SERVER rl_c TO regress_tempo_greedy;
GRANT SELECT ON rl_wc TO regress_tempo_greedy;
SELECT count(dblink_connect(g, :'conn')) AS connected,
       count(dblink_exec(g, 'SET tempo_fdw.max_backlog_per_role = 2000')) AS capped,
       count(dblink_exec(g, 'SET ROLE regress_tempo_greedy')) AS greedy
  FROM unnest(ARRAY['g1', 'g2', 'g3', 'g4', 'g5', 'g6']) g;
SELECT pg_sleep(2.2);  -- earlier slots of this budget are past
SELECT g, dblink_send_query(g, 'SELECT count(*) FROM rl_wc') AS sent, pg_sleep(0.1)
  FROM unnest(ARRAY['g1', 'g2', 'g3', 'g4', 'g5', 'g6']) g;
SELECT clock_timestamp() AS t0 \gset
SELECT count(*) FROM rl_wc;  -- as another role (here the superuser)
SELECT clock_timestamp() - :'t0'::timestamptz < interval '4 s' AS waited_less_than_4_s;
SET client_min_messages = warning;
SELECT g, (SELECT n FROM dblink_get_result(g, false) AS t(n bigint)) AS n,
       split_part(dblink_error_message(g), E'\n', 1) AS error
  FROM unnest(ARRAY['g1', 'g2', 'g3', 'g4', 'g5', 'g6']) g;
RESET client_min_messages;
SELECT count(dblink_disconnect(g)) AS disconnected FROM unnest(ARRAY['g1', 'g2', 'g3', 'g4', 'g5', 'g6']) g;
SET tempo_fdw.max_backlog_per_role = 1000;
SET ROLE regress_tempo_greedy;
SET tempo_fdw.max_backlog_per_role = 100000;  -- ERROR: only superusers
RESET ROLE;
RESET tempo_fdw.max_backlog_per_role;
DROP OWNED BY regress_tempo_greedy;
DROP ROLE regress_tempo_greedy;

DROP FOREIGN TABLE rl_wa, rl_wb;
DROP SERVER rl_a, rl_b, rl_c CASCADE;
