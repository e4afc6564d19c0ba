-- The Tempo dimension tables: tempo_teams, tempo_team_memberships,
-- tempo_accounts, tempo_work_attributes, tempo_timesheet_approvals,
-- tempo_periods.  Each against the simulator's own objects (/_dims), each
-- pushdown against the same query without it and in the request log, the
-- conditions approvals and periods need, a token without the scope, the
-- failures of a later page, and the data's agreement with the worklogs.
\ir sql/include/setup.sql
SET datestyle = 'ISO, YMD';
\set helpers dims_h
CREATE SCHEMA dims_h;
\ir sql/include/outcome.sql
\ir sql/include/plan.sql
\set t :sim '/@tag=dims/4'
-- pages of 2 rows: every table of more than two rows pages
CREATE SERVER dims_srv FOREIGN DATA WRAPPER tempo_fdw
  OPTIONS (tempo_url :'t', page_size '2', max_requests_per_second '0', max_retries '1');
CREATE USER MAPPING FOR PUBLIC SERVER dims_srv OPTIONS (token 'tempo-test-token');
CREATE SCHEMA dims;
IMPORT FOREIGN SCHEMA tempo
  LIMIT TO (tempo_teams, tempo_team_memberships, tempo_accounts, tempo_work_attributes,
            tempo_timesheet_approvals, tempo_periods, worklogs)
  FROM SERVER dims_srv INTO dims;
SELECT c.relname, string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
                             || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END, ', ' ORDER BY a.attnum) AS columns
  FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0
 WHERE c.relnamespace = 'dims'::regnamespace AND c.relname LIKE 'tempo\_%'
 GROUP BY 1 ORDER BY 1;

-- the simulator's objects, the oracle
\set teams `curl -s "$TEMPO_SIM_URL/_dims?kind=teams"`
\set members `curl -s "$TEMPO_SIM_URL/_dims?kind=memberships"`
\set accounts `curl -s "$TEMPO_SIM_URL/_dims?kind=accounts"`
\set attrs `curl -s "$TEMPO_SIM_URL/_dims?kind=work_attributes"`
\set approvals `curl -s "$TEMPO_SIM_URL/_dims?kind=approvals&team=1&from=2024-06-01&to=2024-07-31"`
CREATE VIEW dims.o_teams AS
  SELECT (e ->> 'id')::bigint AS team_id, e ->> 'name' AS name, e ->> 'summary' AS summary,
         (e ->> 'administrative')::boolean AS administrative, e -> 'lead' ->> 'accountId' AS lead_account_id,
         (e -> 'program' ->> 'id')::bigint AS program_id, e -> 'program' ->> 'name' AS program_name, e AS raw
    FROM jsonb_array_elements(:'teams'::jsonb) e;
CREATE VIEW dims.o_members AS
  SELECT (e ->> 'id')::bigint AS membership_id, (e -> 'team' ->> 'id')::bigint AS team_id,
         e -> 'team' ->> 'name' AS team_name, e -> 'member' ->> 'accountId' AS account_id,
         (e -> 'role' ->> 'id')::bigint AS role_id, e -> 'role' ->> 'name' AS role_name,
         (e ->> 'commitmentPercent')::int AS commitment_percent, (e ->> 'from')::date AS from_date,
         (e ->> 'inclusiveTo')::date AS to_date, e AS raw
    FROM jsonb_array_elements(:'members'::jsonb) e;
CREATE VIEW dims.o_accounts AS
  SELECT (e ->> 'id')::bigint AS account_id, e ->> 'key' AS key, e ->> 'name' AS name, e ->> 'status' AS status,
         (e ->> 'global')::boolean AS global, e -> 'customer' ->> 'key' AS customer_key,
         e -> 'customer' ->> 'name' AS customer_name, e -> 'lead' ->> 'accountId' AS lead_account_id,
         e -> 'category' ->> 'key' AS category_key, (e ->> 'monthlyBudget')::int AS monthly_budget, e AS raw
    FROM jsonb_array_elements(:'accounts'::jsonb) e;
CREATE VIEW dims.o_attrs AS
  SELECT e ->> 'key' AS key, e ->> 'name' AS name, e ->> 'type' AS type, (e ->> 'required')::boolean AS required,
         e -> 'values' AS list_values, e -> 'names' AS list_names, e AS raw
    FROM jsonb_array_elements(:'attrs'::jsonb) e;
CREATE VIEW dims.o_approvals AS
  SELECT 1::bigint AS team_id, e -> 'user' ->> 'accountId' AS account_id, (e -> 'period' ->> 'from')::date AS period_from,
         (e -> 'period' ->> 'to')::date AS period_to, e -> 'status' ->> 'key' AS status,
         e -> 'reviewer' ->> 'accountId' AS reviewer_account_id, (e ->> 'requiredSeconds')::bigint AS required_seconds,
         (e ->> 'timeSpentSeconds')::bigint AS time_spent_seconds, e -> 'actions' AS actions, e AS raw
    FROM jsonb_array_elements(:'approvals'::jsonb) e;
-- compare(fdw, oracle): rows of each, and rows in one only (jsonb compared as jsonb)
CREATE FUNCTION dims_h.compare(fdw text, oracle text) RETURNS TABLE (fdw_rows bigint, oracle_rows bigint, only_fdw bigint, only_oracle bigint)
LANGUAGE plpgsql AS $$
BEGIN
  RETURN QUERY EXECUTE format(
    'SELECT (SELECT count(*) FROM (%1$s) a), (SELECT count(*) FROM (%2$s) b),
            (SELECT count(*) FROM ((%1$s) EXCEPT ALL (%2$s)) c), (SELECT count(*) FROM ((%2$s) EXCEPT ALL (%1$s)) d)',
    fdw, oracle);
END $$;
\! curl -s "$TEMPO_SIM_URL/_reset?tag=dims" >/dev/null

-- ============================================================
-- each table, every column, against the oracle
SELECT 'teams' AS t, * FROM dims_h.compare('SELECT * FROM dims.tempo_teams', 'SELECT * FROM dims.o_teams')
UNION ALL SELECT 'memberships', * FROM dims_h.compare('SELECT * FROM dims.tempo_team_memberships', 'SELECT * FROM dims.o_members')
UNION ALL SELECT 'accounts', * FROM dims_h.compare('SELECT * FROM dims.tempo_accounts', 'SELECT * FROM dims.o_accounts')
UNION ALL SELECT 'work attributes', * FROM dims_h.compare('SELECT * FROM dims.tempo_work_attributes', 'SELECT * FROM dims.o_attrs')
UNION ALL SELECT 'approvals', * FROM dims_h.compare(
  $$SELECT * FROM dims.tempo_timesheet_approvals WHERE team_id = 1 AND period_from BETWEEN '2024-06-01' AND '2024-07-31'$$,
  'SELECT * FROM dims.o_approvals');
-- and the rows themselves
SELECT team_id, name, summary, administrative, program_id, program_name,
       lead_account_id = (SELECT account_id FROM dims.tempo_team_memberships m WHERE m.team_id = t.team_id AND role_name = 'Team Lead' LIMIT 1) AS lead_is_a_lead
  FROM dims.tempo_teams t ORDER BY team_id;
SELECT team_id, team_name, role_name, commitment_percent, from_date, to_date, count(*)
  FROM dims.tempo_team_memberships GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1, 3, 4, 5;
SELECT account_id, key, name, status, global, customer_key, customer_name, category_key, monthly_budget
  FROM dims.tempo_accounts ORDER BY account_id;
SELECT key, name, type, required, list_values, list_names ->> 'Meeting' AS meeting FROM dims.tempo_work_attributes ORDER BY key;
SELECT * FROM dims.tempo_periods WHERE period_from BETWEEN '2024-01-15' AND '2024-04-01' ORDER BY 1;
SELECT period_from, period_to, status, count(*), count(reviewer_account_id) AS reviewed,
       string_agg(DISTINCT (SELECT string_agg(k, ',' ORDER BY k) FROM jsonb_object_keys(actions) k), ' | ') AS actions
  FROM dims.tempo_timesheet_approvals WHERE team_id = 1 AND period_from BETWEEN '2024-06-01' AND '2024-07-31'
 GROUP BY 1, 2, 3 ORDER BY 1, 3;
-- the requests: one GET per page of teams (read ahead by offset), the
-- searches posted again to each metadata.next
\set log `curl -s "$TEMPO_SIM_URL/_log?tag=dims"`
SELECT e ->> 'method' AS method, e ->> 'path' AS path, count(*) AS requests,
       count(DISTINCT e ->> 'query') AS queries, string_agg(DISTINCT e ->> 'body', ' ') AS body
  FROM jsonb_array_elements(:'log'::jsonb) e GROUP BY 1, 2 ORDER BY 2, 1;

-- ============================================================
-- the data agree with the worklogs: their authors are team members, their
-- _Account_ values are accounts, the approvals' time is their worklogs'
WITH w AS MATERIALIZED (SELECT author_account_id, attributes ->> '_Account_' AS account_key, time_spent_seconds
                         FROM dims.worklogs WHERE start_date BETWEEN '2024-07-01' AND '2024-07-31')
SELECT (SELECT count(DISTINCT author_account_id) FROM w) AS authors,
       (SELECT count(*) FROM (SELECT author_account_id FROM w EXCEPT SELECT account_id FROM dims.tempo_team_memberships) x) AS not_members,
       (SELECT count(DISTINCT account_key) FROM w) AS account_keys,
       (SELECT count(*) FROM (SELECT account_key FROM w WHERE account_key IS NOT NULL
                              EXCEPT SELECT key FROM dims.tempo_accounts) x) AS unknown_keys;
WITH w AS MATERIALIZED (SELECT author_account_id, sum(time_spent_seconds) AS spent FROM dims.worklogs
                         WHERE start_date BETWEEN '2024-07-01' AND '2024-07-31' GROUP BY 1),
     a AS MATERIALIZED (SELECT * FROM dims.tempo_timesheet_approvals WHERE team_id IN (1, 2) AND period_from = '2024-07-01')
SELECT count(*) AS approvals, count(*) FILTER (WHERE a.time_spent_seconds = coalesce(w.spent, 0)) AS agree,
       sum(a.time_spent_seconds) AS seconds
  FROM a LEFT JOIN w ON w.author_account_id = a.account_id;

-- ============================================================
-- pushdown: the request, the same rows without it, the request log
\! curl -s "$TEMPO_SIM_URL/_reset?tag=dims" >/dev/null
EXPLAIN (VERBOSE, COSTS OFF) SELECT team_id, name FROM dims.tempo_teams WHERE team_id IN (1, 3, 5);
SELECT team_id, name FROM dims.tempo_teams WHERE team_id IN (1, 3, 5) ORDER BY 1;
SET tempo_fdw.enable_pushdown = off;
SELECT team_id, name FROM dims.tempo_teams WHERE team_id IN (1, 3, 5) ORDER BY 1;
RESET tempo_fdw.enable_pushdown;
-- (PostgreSQL 17 and later print the InitPlan as "(InitPlan 1).col1" and
-- "InitPlan 1": shown here as 15 prints them)
SELECT regexp_replace(regexp_replace(p, '\(InitPlan 1\)\.col1', '$0'), 'InitPlan 1$', 'InitPlan 1 (returns $0)')
       AS "QUERY PLAN"
  FROM dims_h.plan($q$EXPLAIN (VERBOSE, COSTS OFF)
  SELECT membership_id, team_id FROM dims.tempo_team_memberships
   WHERE team_id = ANY ('{2,5}') AND account_id = (SELECT lead_account_id FROM dims.tempo_teams WHERE team_id = 2)$q$) p;
SELECT membership_id, team_id, role_name FROM dims.tempo_team_memberships
 WHERE team_id = ANY ('{2,5}') AND account_id = (SELECT lead_account_id FROM dims.tempo_teams WHERE team_id = 2) ORDER BY 1;
SET tempo_fdw.enable_pushdown = off;
SELECT membership_id, team_id, role_name FROM dims.tempo_team_memberships
 WHERE team_id = ANY ('{2,5}') AND account_id = (SELECT lead_account_id FROM dims.tempo_teams WHERE team_id = 2) ORDER BY 1;
RESET tempo_fdw.enable_pushdown;
EXPLAIN (VERBOSE, COSTS OFF) SELECT key, status FROM dims.tempo_accounts WHERE key IN ('INTERNAL', 'LEGACY-MIGRATION');
SELECT key, status FROM dims.tempo_accounts WHERE key IN ('INTERNAL', 'LEGACY-MIGRATION') ORDER BY 1;
SELECT key, status FROM dims.tempo_accounts WHERE account_id = 3;
SET tempo_fdw.enable_pushdown = off;
SELECT key, status FROM dims.tempo_accounts WHERE key IN ('INTERNAL', 'LEGACY-MIGRATION') ORDER BY 1;
SELECT key, status FROM dims.tempo_accounts WHERE account_id = 3;
RESET tempo_fdw.enable_pushdown;
\set log `curl -s "$TEMPO_SIM_URL/_log?tag=dims"`
SELECT e ->> 'method' AS method, e ->> 'path' AS path, e ->> 'query' AS query, e ->> 'body' AS body, count(*)
  FROM jsonb_array_elements(:'log'::jsonb) e
 WHERE e ->> 'query' LIKE '%teamIds%' OR e ->> 'body' LIKE '%Ids%' OR e ->> 'body' LIKE '%keys%' OR e ->> 'body' LIKE '%"ids"%'
 GROUP BY 1, 2, 3, 4 ORDER BY 2, 3, 4;

-- approvals: per team (=, IN, a join key) and period, one request each
\! curl -s "$TEMPO_SIM_URL/_reset?tag=dims" >/dev/null
EXPLAIN (VERBOSE, COSTS OFF)
  SELECT t.name, a.account_id, a.status FROM dims.tempo_teams t
    JOIN dims.tempo_timesheet_approvals a ON a.team_id = t.team_id
   WHERE t.administrative AND a.period_from >= '2024-10-01' AND a.period_from < '2024-11-01';
SELECT t.name, a.period_from, a.status, count(*) FROM dims.tempo_teams t
  JOIN dims.tempo_timesheet_approvals a ON a.team_id = t.team_id
 WHERE t.team_id > 2 AND a.period_from >= '2024-10-01' AND a.period_from < '2024-11-01'
 GROUP BY 1, 2, 3 ORDER BY 1, 2, 3;
SELECT team_id, period_from, count(*) FROM dims.tempo_timesheet_approvals
 WHERE team_id IN (4, 6, 99) AND period_from > '2024-10-15' AND period_from <= '2024-11-01' GROUP BY 1, 2 ORDER BY 1, 2;
\set log `curl -s "$TEMPO_SIM_URL/_log?tag=dims"`
SELECT e ->> 'path' AS path, e ->> 'query' AS query, (e ->> 'status')::int AS status
  FROM jsonb_array_elements(:'log'::jsonb) e WHERE e ->> 'path' LIKE '/4/timesheet-approvals/%' ORDER BY (e ->> 'seq')::int;
-- periods: the range of period_from becomes from/to
EXPLAIN (VERBOSE, COSTS OFF) SELECT * FROM dims.tempo_periods WHERE period_from > '2024-02-10' AND period_from <= '2024-05-01';

-- without a team or a range Tempo cannot answer: say how to ask
SELECT * FROM dims.tempo_timesheet_approvals WHERE period_from BETWEEN '2024-01-01' AND '2024-01-31';  -- ERROR
SELECT * FROM dims.tempo_timesheet_approvals WHERE team_id = 1 AND period_from >= '2024-01-01';  -- ERROR
SELECT * FROM dims.tempo_periods;  -- ERROR
SET tempo_fdw.enable_pushdown = off;
SELECT * FROM dims.tempo_periods WHERE period_from BETWEEN '2024-01-01' AND '2024-01-31';  -- ERROR
RESET tempo_fdw.enable_pushdown;

-- ============================================================
-- a token without the scope: 403, SQLSTATE 42501, the scope in the hint
\set t :sim '/@tag=dims,fault=403,fault_on=teams/4'
CREATE SERVER dims_403 FOREIGN DATA WRAPPER tempo_fdw OPTIONS (tempo_url :'t', max_requests_per_second '0');
CREATE USER MAPPING FOR PUBLIC SERVER dims_403 OPTIONS (token 'tempo-test-token');
CREATE FOREIGN TABLE dims.teams_403 (team_id bigint, name text) SERVER dims_403 OPTIONS (resource 'tempo_teams');
CREATE FOREIGN TABLE dims.accounts_403 (key text) SERVER dims_403 OPTIONS (resource 'tempo_accounts');
\set VERBOSITY verbose
SELECT * FROM dims.teams_403;  -- ERROR
\set VERBOSITY default
SELECT count(*) AS accounts_still_readable FROM dims.accounts_403;
SELECT source, ok, http_status, problem FROM tempo_fdw.check_connection('dims_403');
\set t :sim '/@tag=dims,fault=403,fault_on=timesheet-approvals/4'
ALTER SERVER dims_403 OPTIONS (SET tempo_url :'t');
SELECT source, ok, http_status, problem FROM tempo_fdw.check_connection('dims_403') WHERE NOT ok;
\set t :sim '/@tag=dims,fault=403,fault_on=accounts/4'
ALTER SERVER dims_403 OPTIONS (SET tempo_url :'t');
SELECT dims_h.outcome('SELECT * FROM dims.accounts_403');
-- a host that does not answer: the scopes' probes are not sent (each would
-- wait as long again), they take the first probe's outcome
\set t :sim '/@tag=dimshang,fault=hang,slow_ms=3000/4'
ALTER SERVER dims_403 OPTIONS (SET tempo_url :'t', ADD timeout_ms '500');
SELECT source, ok, problem FROM tempo_fdw.check_connection('dims_403');
\set log `curl -s "$TEMPO_SIM_URL/_log?tag=dimshang"`
SELECT e ->> 'path' AS path FROM jsonb_array_elements(:'log'::jsonb) e ORDER BY (e ->> 'seq')::int;

-- ============================================================
-- never short: a failure of a later page is an ERROR; 429 and 5xx retried
\set t :sim '/@tag=dims,fault=500,fault_at=1/4'
ALTER SERVER dims_srv OPTIONS (SET tempo_url :'t');
SELECT 'teams' AS t, dims_h.outcome('SELECT * FROM dims.tempo_teams')
UNION ALL SELECT 'memberships', dims_h.outcome('SELECT * FROM dims.tempo_team_memberships')
UNION ALL SELECT 'accounts', dims_h.outcome('SELECT * FROM dims.tempo_accounts')
UNION ALL SELECT 'work attributes', dims_h.outcome('SELECT * FROM dims.tempo_work_attributes');
\set t :sim '/@tag=dims,fault=countmismatch,fault_at=2/4'
ALTER SERVER dims_srv OPTIONS (SET tempo_url :'t');
SELECT dims_h.outcome('SELECT * FROM dims.tempo_team_memberships');
\set t :sim '/@tag=dims,fault=nextloop,fault_at=1/4'
ALTER SERVER dims_srv OPTIONS (SET tempo_url :'t');
SELECT dims_h.outcome('SELECT * FROM dims.tempo_accounts');
\set t :sim '/@tag=dims,fault=500,fault_on=timesheet-approvals,fault_skip=1/4'
ALTER SERVER dims_srv OPTIONS (SET tempo_url :'t');
SELECT dims_h.outcome($$SELECT * FROM dims.tempo_timesheet_approvals WHERE team_id IN (1, 2) AND period_from BETWEEN '2024-01-01' AND '2024-01-31'$$);
\set t :sim '/@tag=dims429,fault=429,fault_at=1,fault_times=1,retry_after=1/4'
ALTER SERVER dims_srv OPTIONS (SET tempo_url :'t');
SELECT p AS plan FROM dims_h.plan('EXPLAIN (ANALYZE, VERBOSE, COSTS OFF, TIMING OFF, SUMMARY OFF, BUFFERS OFF) SELECT * FROM dims.tempo_team_memberships') p
 WHERE p NOT LIKE '%Retry wait%' AND p NOT LIKE '%Bytes received%';
\set log `curl -s "$TEMPO_SIM_URL/_log?tag=dims429"`
SELECT e ->> 'query' AS query, (e ->> 'status')::int AS status, count(*)
  FROM jsonb_array_elements(:'log'::jsonb) e WHERE e ->> 'query' LIKE 'offset=2&%' OR e ->> 'query' = 'limit=2'
 GROUP BY 1, 2 ORDER BY 1, 2;

DROP SCHEMA dims CASCADE;
DROP SCHEMA dims_h CASCADE;
DROP SERVER dims_srv CASCADE;
DROP SERVER dims_403 CASCADE;
