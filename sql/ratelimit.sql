-- The rate budget (max_requests_per_second) is shared by every backend of the
-- cluster per API host and token when tempo_fdw is preloaded (the test
-- cluster preloads it), and a 429 with Retry-After pauses every backend.
\getenv sim TEMPO_SIM_URL
\! curl -s "$TEMPO_SIM_URL/_reset" >/dev/null
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

DROP FOREIGN TABLE rl_wa, rl_wb;
DROP SERVER rl_a, rl_b CASCADE;
