-- The Jira dimension tables: jira_users (users/search, user/bulk),
-- jira_projects (project/search) and jira_issues (search/jql with a bounded
-- JQL), against the simulator's data read independently (GET /_jira), each
-- pushdown compared with pushdown off and checked in the request log; the
-- errors, retries and never-short paging of the worklog tables; and the join
-- from worklogs to issues.
\ir sql/include/setup.sql
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';
\set jurl :sim '/@tag=dims'
\set turl :sim '/@tag=dims/4'
CREATE SERVER dims_srv FOREIGN DATA WRAPPER tempo_fdw
  OPTIONS (tempo_url :'turl', jira_url :'jurl', max_requests_per_second '0',
           max_concurrency '1', max_retries '1');
CREATE USER MAPPING FOR PUBLIC SERVER dims_srv
  OPTIONS (token 'tempo-test-token', jira_email 'bot@example.com', jira_token 'jira-test-token');
CREATE SCHEMA dims;
\set helpers dims
\ir sql/include/outcome.sql
\ir sql/include/plan.sql
IMPORT FOREIGN SCHEMA tempo LIMIT TO (worklogs, jira_users, jira_projects, jira_issues)
  FROM SERVER dims_srv INTO dims;
\d dims.jira_users
\d dims.jira_projects
\d dims.jira_issues
SELECT set_config('dims.sim', :'sim', false) IS NOT NULL AS sim_set;

-- the requests of a log (read through psql backticks into :log): method,
-- path, query, and the JQL of a search
CREATE FUNCTION dims.requests(log jsonb) RETURNS TABLE (method text, path text, query text, jql text)
LANGUAGE sql AS $$
  SELECT e ->> 'method', e ->> 'path', e ->> 'query', (e ->> 'body')::jsonb ->> 'jql'
    FROM jsonb_array_elements(log) e
$$;
\ir sql/include/same.sql

-- ============================================================ jira_users
\set users `curl -s "$TEMPO_SIM_URL/_jira?what=users"`
CREATE TEMP TABLE sim_users AS
  SELECT * FROM jsonb_to_recordset(:'users'::jsonb)
    AS u(account_id text, display_name text, email text, active boolean, account_type text);
-- every user, exactly the simulator's (41: 40 people and the Tempo app)
SELECT count(*) AS users, count(email) AS with_email, count(*) FILTER (WHERE NOT active) AS inactive,
       count(*) FILTER (WHERE account_type = 'app') AS apps FROM dims.jira_users;
SELECT count(*) AS differ FROM ((SELECT account_id, display_name, email, active, account_type FROM dims.jira_users
                                 EXCEPT ALL TABLE sim_users)
                                UNION ALL (TABLE sim_users EXCEPT ALL
                                 SELECT account_id, display_name, email, active, account_type FROM dims.jira_users)) d;
SELECT display_name, email, active, account_type FROM dims.jira_users
  WHERE display_name IN ('Dana Weber', 'Zoë Ångström', 'Paul Richter', 'Noah Müller') ORDER BY 1;
-- pages of 1000 (the cap): one full page, then an empty one ends the list
\! curl -s "$TEMPO_SIM_URL/_reset?tag=dims" >/dev/null
SELECT count(*) FROM dims.jira_users;
\set log `curl -s "$TEMPO_SIM_URL/_log?tag=dims"`
SELECT method, path, query FROM dims.requests(:'log');
-- small pages: maxResults 10, five pages and the empty one
ALTER SERVER dims_srv OPTIONS (ADD page_size '10');
\! curl -s "$TEMPO_SIM_URL/_reset?tag=dims" >/dev/null
SELECT count(*), count(DISTINCT account_id) FROM dims.jira_users;
\set log `curl -s "$TEMPO_SIM_URL/_log?tag=dims"`
SELECT method, path, query FROM dims.requests(:'log');
ALTER SERVER dims_srv OPTIONS (DROP page_size);
-- account_id = and IN: user/bulk
EXPLAIN (VERBOSE, COSTS OFF)
  SELECT display_name FROM dims.jira_users WHERE account_id IN ('557058:tempo-app-user', 'nobody');
\! curl -s "$TEMPO_SIM_URL/_reset?tag=dims" >/dev/null
SELECT display_name, account_type FROM dims.jira_users
  WHERE account_id IN ('557058:tempo-app-user', 'nobody', (SELECT account_id FROM sim_users WHERE display_name = 'Dana Weber'))
  ORDER BY 1;
\set log `curl -s "$TEMPO_SIM_URL/_log?tag=dims"`
SELECT method, path, query FROM dims.requests(:'log');
SELECT dims.same($$SELECT * FROM dims.jira_users WHERE account_id = '557058:tempo-app-user'$$);
SELECT dims.same($$SELECT * FROM dims.jira_users WHERE account_id = ANY (ARRAY(SELECT account_id FROM sim_users WHERE active)) AND account_id IN ('557058:tempo-app-user', 'x')$$);

-- ============================================================ jira_projects
SELECT id, key, name, project_type, category_id, category_name, lead_display_name,
       lead_account_id = (SELECT account_id FROM sim_users WHERE display_name = 'Dana Weber') AS lead_is_dana
  FROM dims.jira_projects ORDER BY id;
\set projects `curl -s "$TEMPO_SIM_URL/_jira?what=projects"`
SELECT count(*) AS differ FROM ((SELECT id, key, name FROM dims.jira_projects
                                 EXCEPT SELECT * FROM jsonb_to_recordset(:'projects'::jsonb) AS p(id bigint, key text, name text))
                                UNION ALL (SELECT * FROM jsonb_to_recordset(:'projects'::jsonb) AS p(id bigint, key text, name text)
                                 EXCEPT SELECT id, key, name FROM dims.jira_projects)) d;
-- pages of 2: total and isLast
ALTER SERVER dims_srv OPTIONS (ADD page_size '2');
\! curl -s "$TEMPO_SIM_URL/_reset?tag=dims" >/dev/null
SELECT count(*) FROM dims.jira_projects;
\set log `curl -s "$TEMPO_SIM_URL/_log?tag=dims"`
SELECT method, path, query FROM dims.requests(:'log');
ALTER SERVER dims_srv OPTIONS (DROP page_size);
-- id and key pushed
EXPLAIN (VERBOSE, COSTS OFF) SELECT name FROM dims.jira_projects WHERE key = 'OPS';
EXPLAIN (VERBOSE, COSTS OFF) SELECT name FROM dims.jira_projects WHERE id IN (10100, 10102);
SELECT dims.same($$SELECT * FROM dims.jira_projects WHERE key = 'OPS'$$);
SELECT dims.same($$SELECT * FROM dims.jira_projects WHERE id IN (10100, 10102, 5)$$);
SELECT dims.same($$SELECT * FROM dims.jira_projects WHERE key IN ('INT', 'NOPE')$$);

-- ============================================================ jira_issues
\set issues `curl -s "$TEMPO_SIM_URL/_jira?what=issues"`
CREATE TEMP TABLE sim_issues AS
  SELECT * FROM jsonb_to_recordset(:'issues'::jsonb)
    AS i(id bigint, key text, project_key text, issue_type text, parent_key text, updated_ms bigint);
-- without a condition: an error that says what to add
SELECT dims.outcome('SELECT * FROM dims.jira_issues');
SELECT dims.outcome($$SELECT * FROM dims.jira_issues WHERE summary LIKE 'Fix%'$$);
-- per project: every issue the simulator has
\! curl -s "$TEMPO_SIM_URL/_reset?tag=dims" >/dev/null
SELECT project_key, count(*), count(*) FILTER (WHERE issue_type = 'Epic') AS epics,
       count(epic_key) AS in_epic, count(parent_key) AS with_parent
  FROM dims.jira_issues WHERE project_key IN ('ACME', 'OPS', 'INT') GROUP BY 1 ORDER BY 1;
\set log `curl -s "$TEMPO_SIM_URL/_log?tag=dims"`
SELECT method, path, jql FROM dims.requests(:'log');
SELECT count(*) AS differ FROM ((SELECT id, key, project_key, issue_type, parent_key,
                                        (extract(epoch FROM updated_at) * 1000)::bigint FROM dims.jira_issues
                                  WHERE project_key IN ('ACME', 'OPS', 'INT')
                                 EXCEPT ALL TABLE sim_issues)
                                UNION ALL (TABLE sim_issues EXCEPT ALL
                                 SELECT id, key, project_key, issue_type, parent_key,
                                        (extract(epoch FROM updated_at) * 1000)::bigint FROM dims.jira_issues
                                  WHERE project_key IN ('ACME', 'OPS', 'INT'))) d;
SELECT id, key, summary, project_id, project_key, issue_type, status, status_category,
       parent_id, parent_key, epic_key, created_at, updated_at, resolved_at, labels
  FROM dims.jira_issues WHERE project_key = 'INT' ORDER BY id LIMIT 6;
-- pages of 4: nextPageToken, the body of each search in the log
ALTER SERVER dims_srv OPTIONS (ADD page_size '4');
\! curl -s "$TEMPO_SIM_URL/_reset?tag=dims" >/dev/null
SELECT count(*), count(DISTINCT id) FROM dims.jira_issues WHERE project_key = 'ACME';
\set log `curl -s "$TEMPO_SIM_URL/_log?tag=dims"`
SELECT e ->> 'method' AS method, e ->> 'path' AS path, (e ->> 'body')::jsonb - 'fields' AS body
  FROM jsonb_array_elements(:'log'::jsonb) e;
ALTER SERVER dims_srv OPTIONS (DROP page_size);
-- each pushdown, as EXPLAIN shows it, and the same answer as PostgreSQL's
-- filter over every issue (without pushdown, jira_issues cannot be read:
-- Jira has no unbounded search)
CREATE TEMP TABLE all_issues AS
  SELECT * FROM dims.jira_issues WHERE project_key IN ('ACME', 'OPS', 'INT');
CREATE FUNCTION dims.same_issues(cond text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  diff bigint; n bigint;
BEGIN
  EXECUTE 'CREATE TEMP TABLE push_on ON COMMIT DROP AS SELECT id, key, summary, updated_at, labels FROM dims.jira_issues WHERE ' || cond;
  EXECUTE 'CREATE TEMP TABLE push_off ON COMMIT DROP AS SELECT id, key, summary, updated_at, labels FROM all_issues WHERE ' || cond;
  SELECT count(*) INTO diff FROM ((TABLE push_off EXCEPT ALL TABLE push_on)
                                  UNION ALL (TABLE push_on EXCEPT ALL TABLE push_off)) d;
  SELECT count(*) INTO n FROM push_on;
  DROP TABLE push_off, push_on;
  RETURN CASE WHEN diff = 0 THEN 'same ' || n || ' rows' ELSE diff || ' rows differ' END;
END $$;
EXPLAIN (VERBOSE, COSTS OFF) SELECT key FROM dims.jira_issues WHERE id IN (10000, 10036, 7);
EXPLAIN (VERBOSE, COSTS OFF) SELECT key FROM dims.jira_issues WHERE key = 'ACME-1';
EXPLAIN (VERBOSE, COSTS OFF)
  SELECT key FROM dims.jira_issues WHERE project_key = 'OPS' AND updated_at >= '2024-03-01 00:30+00';
EXPLAIN (VERBOSE, COSTS OFF)
  SELECT key FROM dims.jira_issues WHERE key IN ('A"B', 'C\D', 'E''F') AND project_key = 'ACME';
SELECT dims.same_issues($$id IN (10000, 10036, 7)$$);
SELECT dims.same_issues($$id = 10036 AND id IN (10036, 10037)$$);
SELECT dims.same_issues($$key IN ('ACME-1', 'OPS-4', 'NOPE-1')$$);
SELECT dims.same_issues($$project_key = 'OPS' AND updated_at >= '2024-03-01 00:30+00'$$);
SELECT dims.same_issues($$updated_at > '2024-05-01'$$);
SELECT dims.same_issues($$updated_at >= '2024-06-09 12:24+00' AND updated_at < '2024-06-09 12:25+00'$$);
-- quotes and backslashes in a key: escaped in the JQL, read back by the
-- simulator's JQL parser exactly (no such issue: no rows, no error); keys
-- alone go to issue/bulkfetch as JSON strings
\! curl -s "$TEMPO_SIM_URL/_reset?tag=dims" >/dev/null
SELECT count(*) FROM dims.jira_issues WHERE key IN ('A"B', 'C\D', 'E''F', 'ACME-1') AND project_key IN ('ACME', 'OPS');
SELECT count(*) FROM dims.jira_issues WHERE key IN ('A"B', 'C\D', 'E''F', 'ACME-1');
\set log `curl -s "$TEMPO_SIM_URL/_log?tag=dims"`
SELECT e ->> 'path' AS path, coalesce((e ->> 'body')::jsonb ->> 'jql', (e ->> 'body')::jsonb ->> 'issueIdsOrKeys') AS asked
  FROM jsonb_array_elements(:'log'::jsonb) e;
-- a NULL or an empty list: no request
\! curl -s "$TEMPO_SIM_URL/_reset?tag=dims" >/dev/null
SELECT count(*) FROM dims.jira_issues WHERE key = NULL;
SELECT count(*) FROM dims.jira_issues WHERE id = ANY ('{}');
SELECT count(*) FROM dims.jira_issues WHERE id IN (10000) AND id IN (10001);
\set log `curl -s "$TEMPO_SIM_URL/_log?tag=dims"`
SELECT count(*) AS requests FROM dims.requests(:'log');
-- more ids than one request takes (100): a request per 100, in a search
-- (with another condition) or in issue/bulkfetch (ids alone)
\! curl -s "$TEMPO_SIM_URL/_reset?tag=dims" >/dev/null
SELECT count(*) FROM dims.jira_issues
 WHERE id = ANY (ARRAY(SELECT g FROM generate_series(9950, 10149) g)) AND updated_at >= '2000-01-01';
SELECT count(*) FROM dims.jira_issues WHERE id = ANY (ARRAY(SELECT g FROM generate_series(9950, 10149) g));
\set log `curl -s "$TEMPO_SIM_URL/_log?tag=dims"`
SELECT e ->> 'method' AS method, e ->> 'path' AS path,
       left(coalesce((e ->> 'body')::jsonb ->> 'jql', (e ->> 'body')::jsonb ->> 'issueIdsOrKeys'), 30) AS asked_start,
       right(coalesce((e ->> 'body')::jsonb ->> 'jql', (e ->> 'body')::jsonb ->> 'issueIdsOrKeys'), 30) AS asked_end
  FROM jsonb_array_elements(:'log'::jsonb) e;

-- ============================================================ errors
-- 401, 403, 404 and 500 (after a retry), 429 with Retry-After then success,
-- and a failure on a later page: an ERROR, never fewer rows
CREATE FUNCTION dims.with_fault(scenario text, q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE r text;
BEGIN
  EXECUTE format('ALTER SERVER dims_srv OPTIONS (SET jira_url %L)',
                 current_setting('dims.sim') || '/@tag=dims_fault,' || scenario);
  r := dims.outcome(q);
  EXECUTE format('ALTER SERVER dims_srv OPTIONS (SET jira_url %L)', current_setting('dims.sim') || '/@tag=dims');
  RETURN r;
END $$;
SELECT s AS scenario, t AS tbl,
       dims.with_fault(s, format('SELECT count(*) FROM dims.%I %s', t,
                                 CASE t WHEN 'jira_issues' THEN $$WHERE project_key = 'ACME'$$ ELSE '' END)) AS outcome
  FROM unnest(ARRAY['fault=401', 'fault=403', 'fault=404', 'fault=500', 'fault=429,retry_after=0,fault_times=1']) s,
       unnest(ARRAY['jira_users', 'jira_projects', 'jira_issues']) t ORDER BY 1, 2;
ALTER SERVER dims_srv OPTIONS (ADD page_size '2');
SELECT s AS scenario, t AS tbl,
       dims.with_fault(s, format('SELECT count(*) FROM dims.%I %s', t,
                                 CASE t WHEN 'jira_issues' THEN $$WHERE project_key = 'ACME'$$ ELSE '' END)) AS outcome
  FROM unnest(ARRAY['fault=500,fault_at=1', 'fault=badjson,fault_at=1', 'fault=reset,fault_at=1']) s,
       unnest(ARRAY['jira_users', 'jira_projects', 'jira_issues']) t ORDER BY 1, 2;
ALTER SERVER dims_srv OPTIONS (DROP page_size);
-- paging that would end short or never: a total the pages do not reach, a
-- nextPageToken that comes back, an issue bulkfetch could not return (the
-- error's detail says which)
CREATE FUNCTION dims.fault_detail(scenario text, q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE st text; d text;
BEGIN
  EXECUTE format('ALTER SERVER dims_srv OPTIONS (SET jira_url %L)',
                 current_setting('dims.sim') || '/@tag=dims_fault,' || scenario);
  BEGIN
    EXECUTE q;
    st := 'ok';
  EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, d = PG_EXCEPTION_DETAIL;
  END;
  EXECUTE format('ALTER SERVER dims_srv OPTIONS (SET jira_url %L)', current_setting('dims.sim') || '/@tag=dims');
  RETURN st || coalesce(': ' || d, '');
END $$;
SELECT dims.fault_detail('fault=countmismatch', 'SELECT count(*) FROM dims.jira_projects') AS outcome;
SELECT dims.fault_detail('fault=nextloop', $$SELECT count(*) FROM dims.jira_issues WHERE project_key = 'ACME'$$) AS outcome;
SELECT dims.fault_detail('fault=countmismatch', 'SELECT count(*) FROM dims.jira_issues WHERE id IN (10000, 10036)') AS outcome;
-- no Jira credentials: a clear error, no request
CREATE SERVER dims_nocred FOREIGN DATA WRAPPER tempo_fdw OPTIONS (jira_url :'jurl');
CREATE USER MAPPING FOR PUBLIC SERVER dims_nocred OPTIONS (token 'tempo-test-token');
CREATE FOREIGN TABLE dims.users_nocred (account_id text) SERVER dims_nocred OPTIONS (resource 'jira_users');
SELECT dims.outcome('SELECT * FROM dims.users_nocred');
CREATE SERVER dims_nojira FOREIGN DATA WRAPPER tempo_fdw;
CREATE FOREIGN TABLE dims.users_nojira (account_id text) SERVER dims_nojira OPTIONS (resource 'jira_users');
SELECT dims.outcome('SELECT * FROM dims.users_nojira');

-- ============================================================ joins
-- worklogs joined to their issues: jira_issues is the inner side of a nested
-- loop parameterized by issue_id, and each rescan with a key not read yet
-- asks for all the keys of the worklogs page that holds it: one
-- issue/bulkfetch per page of worklogs (pages of 50 here), not one per row
ALTER SERVER dims_srv OPTIONS (ADD page_size '50');
EXPLAIN (COSTS OFF)
  SELECT i.project_key, sum(w.time_spent_seconds) FROM dims.worklogs w
    JOIN dims.jira_issues i ON i.id = w.issue_id
   WHERE w.start_date BETWEEN '2024-03-04' AND '2024-03-08' GROUP BY 1;
\! curl -s "$TEMPO_SIM_URL/_reset?tag=dims" >/dev/null
SELECT i.project_key, i.issue_type, count(*), sum(w.time_spent_seconds) FROM dims.worklogs w
  JOIN dims.jira_issues i ON i.id = w.issue_id
 WHERE w.start_date BETWEEN '2024-03-04' AND '2024-03-08' GROUP BY 1, 2 ORDER BY 1, 2;
\set log `curl -s "$TEMPO_SIM_URL/_log?tag=dims"`
SELECT method, path, count(*) AS requests FROM dims.requests(:'log') GROUP BY 1, 2 ORDER BY 1 DESC, 2;
-- EXPLAIN ANALYZE: the inner scan ran for every worklog, and read 10 batches
SELECT p FROM dims.plan($$EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF, BUFFERS OFF)
  SELECT count(*) FROM dims.worklogs w JOIN dims.jira_issues i ON i.id = w.issue_id
   WHERE w.start_date BETWEEN '2024-03-04' AND '2024-03-08'$$) p
 WHERE p ~ 'Foreign Scan|Key batches|Requests:|Pages:';
-- each request asks for the distinct issues of one page of worklogs
SELECT count(*) AS requests, max(jsonb_array_length((e ->> 'body')::jsonb -> 'issueIdsOrKeys')) AS most_ids,
       sum(jsonb_array_length((e ->> 'body')::jsonb -> 'issueIdsOrKeys')) AS ids_asked
  FROM jsonb_array_elements(:'log'::jsonb) e WHERE e ->> 'path' = '/rest/api/3/issue/bulkfetch';
-- the same figures from the simulator's issues, joined locally
SELECT s.project_key, s.issue_type, count(*), sum(w.time_spent_seconds)
  FROM (SELECT * FROM dims.worklogs WHERE start_date BETWEEN '2024-03-04' AND '2024-03-08') w
  JOIN sim_issues s ON s.id = w.issue_id GROUP BY 1, 2 ORDER BY 1, 2;
-- epics: hours by epic in March
SELECT coalesce(i.epic_key, i.key) AS epic_or_issue, count(*) AS worklogs
  FROM dims.worklogs w JOIN dims.jira_issues i ON i.id = w.issue_id
 WHERE w.start_date BETWEEN '2024-03-04' AND '2024-03-05' AND i.project_key = 'OPS'
 GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 5;
-- users: the planner's choice here is the nested loop, with user/bulk for
-- each page's authors (the second page's authors were all in the first's);
-- without nested loops, a hash join over users/search (a page, and the
-- empty page that ends the list)
EXPLAIN (COSTS OFF)
  SELECT u.display_name, count(*) FROM dims.worklogs w
    JOIN dims.jira_users u ON u.account_id = w.author_account_id
   WHERE w.start_date = '2024-03-04' GROUP BY 1;
\! curl -s "$TEMPO_SIM_URL/_reset?tag=dims" >/dev/null
SELECT u.display_name, count(*) FROM dims.worklogs w
  JOIN dims.jira_users u ON u.account_id = w.author_account_id
 WHERE w.start_date = '2024-03-04' GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 3;
\set log `curl -s "$TEMPO_SIM_URL/_log?tag=dims"`
SELECT method, path, count(*) AS requests FROM dims.requests(:'log') GROUP BY 1, 2 ORDER BY 1 DESC, 2;
SET enable_nestloop = off;
\! curl -s "$TEMPO_SIM_URL/_reset?tag=dims" >/dev/null
SELECT u.display_name, count(*) FROM dims.worklogs w
  JOIN dims.jira_users u ON u.account_id = w.author_account_id
 WHERE w.start_date = '2024-03-04' GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 3;
\set log `curl -s "$TEMPO_SIM_URL/_log?tag=dims"`
SELECT method, path, count(*) AS requests FROM dims.requests(:'log') GROUP BY 1, 2 ORDER BY 1 DESC, 2;
RESET enable_nestloop;
-- keys from a local table: no worklogs page holds them, so one request per key
-- (424242 does not exist: issue/bulkfetch leaves it out, no error)
\! curl -s "$TEMPO_SIM_URL/_reset?tag=dims" >/dev/null
SELECT v.id, i.key FROM (VALUES (10000::bigint), (10036), (10036), (424242)) v(id)
  LEFT JOIN dims.jira_issues i ON i.id = v.id ORDER BY 1, 2;
\set log `curl -s "$TEMPO_SIM_URL/_log?tag=dims"`
SELECT e ->> 'path' AS path, (e ->> 'body')::jsonb -> 'issueIdsOrKeys' AS asked
  FROM jsonb_array_elements(:'log'::jsonb) e;
-- a failure of a later batch (the fourth request): an ERROR, not fewer rows
SELECT dims.with_fault('fault=500,src=jira,fault_skip=3',
  $$SELECT count(*) FROM dims.worklogs w JOIN dims.jira_issues i ON i.id = w.issue_id
     WHERE w.start_date BETWEEN '2024-03-04' AND '2024-03-08'$$) AS outcome;
ALTER SERVER dims_srv OPTIONS (DROP page_size);

-- (quietly: what IMPORT made is listed at the top)
SET client_min_messages = warning;
DROP SCHEMA dims CASCADE;
DROP SERVER dims_srv CASCADE;
RESET client_min_messages;
