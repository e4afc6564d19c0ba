-- Reading Tempo worklogs: every row of a multi-page result, every column
-- with its type, NULLs for absent fields, and the requests actually sent.
\ir sql/include/setup.sql
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';
\set turl :sim '/@tag=scan,ds=company/4'
CREATE SERVER scan_srv FOREIGN DATA WRAPPER tempo_fdw
  OPTIONS (tempo_url :'turl', max_requests_per_second '0', max_concurrency '1');
CREATE USER MAPPING FOR PUBLIC SERVER scan_srv OPTIONS (token 'tempo-test-token');
CREATE SCHEMA scan;
IMPORT FOREIGN SCHEMA tempo LIMIT TO (worklogs) FROM SERVER scan_srv INTO scan;

-- the columns and types of DESIGN.md
SELECT attname, format_type(atttypid, atttypmod), attnotnull
  FROM pg_attribute WHERE attrelid = 'scan.worklogs'::regclass AND attnum > 0 ORDER BY attnum;

-- a whole year of a 40-person company: six pages of up to 5000 worklogs;
-- count and sums equal the simulator's own figures
\! curl -s "$TEMPO_SIM_URL/_reset?tag=scan" >/dev/null
\set stats `curl -s "$TEMPO_SIM_URL/_stats?ds=company"`
SELECT count(*) AS worklogs, sum(time_spent_seconds) AS seconds, sum(billable_seconds) AS billable,
       count(DISTINCT author_account_id) AS authors, count(DISTINCT issue_id) AS issues,
       min(start_date) AS first_day, max(start_date) AS last_day,
       count(DISTINCT worklog_id) = count(*) AS ids_unique
  FROM scan.worklogs;
SELECT (:'stats'::jsonb ->> 'count')::bigint AS sim_worklogs,
       (:'stats'::jsonb ->> 'sum_time_spent')::bigint AS sim_seconds,
       (:'stats'::jsonb ->> 'sum_billable')::bigint AS sim_billable,
       (:'stats'::jsonb ->> 'authors')::int AS sim_authors;
-- the requests: the first page, then metadata.next verbatim to the end
\set log `curl -s "$TEMPO_SIM_URL/_log?tag=scan"`
SELECT e ->> 'method' AS method, e ->> 'path' AS path, e ->> 'query' AS query, e ->> 'status' AS status
  FROM jsonb_array_elements(:'log'::jsonb) e;
-- headers: the Bearer token goes to the server (and only there), JSON, gzip, our name
SELECT DISTINCT e ->> 'auth' = 'Bearer tempo-test-token' AS bearer, e ->> 'accept' AS accept,
       e ->> 'accept_encoding' LIKE '%gzip%' AS gzip, e ->> 'user_agent' AS user_agent
  FROM jsonb_array_elements(:'log'::jsonb) e;

-- many small pages: the last one short, then no next link
\set turl :sim '/@tag=scan_small,ds=gen,n=5500/4'
ALTER SERVER scan_srv OPTIONS (SET tempo_url :'turl', ADD page_size '1000');
\! curl -s "$TEMPO_SIM_URL/_reset?tag=scan_small" >/dev/null
SELECT count(*), count(DISTINCT worklog_id), sum(time_spent_seconds) FROM scan.worklogs;
\set stats `curl -s "$TEMPO_SIM_URL/_stats?ds=gen&n=5500"`
SELECT (:'stats'::jsonb ->> 'count')::bigint AS sim_worklogs, (:'stats'::jsonb ->> 'sum_time_spent')::bigint AS sim_seconds;
\set log `curl -s "$TEMPO_SIM_URL/_log?tag=scan_small"`
SELECT e ->> 'query' AS query FROM jsonb_array_elements(:'log'::jsonb) e;

-- an empty result: one request, no rows
\set turl :sim '/@tag=scan_empty,ds=fixture:empty/4'
ALTER SERVER scan_srv OPTIONS (SET tempo_url :'turl');
SELECT count(*) FROM scan.worklogs;

-- exact rows: every column, absent optional fields as NULL
\set turl :sim '/@tag=scan_tiny,ds=tiny/4'
ALTER SERVER scan_srv OPTIONS (SET tempo_url :'turl');
\x on
SELECT * FROM scan.worklogs ORDER BY worklog_id;
\x off
SELECT pg_typeof(worklog_id), pg_typeof(start_date), pg_typeof(start_time), pg_typeof(started_at),
       pg_typeof(time_spent_seconds), pg_typeof(attributes), pg_typeof(raw)
  FROM scan.worklogs LIMIT 1;
-- raw is the whole object as sent; attributes the {key: value} of attributes.values
SELECT worklog_id, raw ->> 'self' AS self, raw -> 'issue' ->> 'id' = issue_id::text AS issue_matches,
       jsonb_array_length(raw -> 'attributes' -> 'values') = (SELECT count(*) FROM jsonb_object_keys(attributes)) AS attributes_match
  FROM scan.worklogs ORDER BY worklog_id;

-- a table declared by hand may use other types; values go through their input functions
CREATE FOREIGN TABLE scan.custom (
  worklog_id text, time_spent_seconds numeric, start_date text, updated_at timestamp,
  description varchar(40), attributes json
) SERVER scan_srv OPTIONS (resource 'worklogs');
SELECT * FROM scan.custom ORDER BY worklog_id;
SELECT pg_typeof(worklog_id), pg_typeof(time_spent_seconds), pg_typeof(updated_at) FROM scan.custom LIMIT 1;
-- and a value the declared type cannot hold is an error naming column and worklog
ALTER FOREIGN TABLE scan.custom ALTER COLUMN description TYPE varchar(12);
SELECT description FROM scan.custom ORDER BY worklog_id;  -- ERROR

DROP SCHEMA scan CASCADE;
DROP SERVER scan_srv CASCADE;
