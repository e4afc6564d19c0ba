-- src/sql/1.1/scan_views.sql: the views of the scans: stats, activity,
-- rate_budgets.
-- Part of tempo_fdw--1.0--1.1.sql, which make builds (see the Makefile).

-- ======================================================================
-- 1.1: cumulative statistics of the scans, per server and resource (the
-- counters live in shared memory when tempo_fdw is preloaded).
-- ======================================================================

CREATE FUNCTION scan_stats(OUT serverid oid, OUT resource text, OUT scans bigint, OUT errors bigint,
                           OUT fallbacks bigint, OUT rows bigint, OUT pages bigint, OUT requests bigint,
                           OUT retries bigint, OUT throttled bigint, OUT bytes bigint, OUT http_ms bigint,
                           OUT budget_wait_ms bigint, OUT retry_wait_ms bigint,
                           OUT since timestamptz, OUT shared boolean, OUT errors_auth bigint,
                           OUT errors_network bigint, OUT errors_http bigint, OUT errors_other bigint)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'tempo_fdw_stats'
LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION scan_stats() IS
  'The scans'' counters of this database, per server and resource (see the view stats)';

CREATE FUNCTION stats_reset()
RETURNS void
AS 'MODULE_PATHNAME', 'tempo_fdw_stats_reset'
LANGUAGE C STRICT VOLATILE;
REVOKE ALL ON FUNCTION stats_reset() FROM PUBLIC;
COMMENT ON FUNCTION stats_reset() IS
  'Sets every counter of the view stats back to zero, in every database (superusers, and roles granted EXECUTE)';

CREATE VIEW stats AS
SELECT s.srvname AS server_name, c.resource, c.scans, c.errors, c.errors_auth, c.errors_network,
       c.errors_http, c.errors_other, c.fallbacks, c.rows, c.pages, c.requests,
       c.retries, c.throttled, c.bytes, c.http_ms, c.budget_wait_ms, c.retry_wait_ms, c.since, c.shared
  FROM @extschema@.scan_stats() c
  LEFT JOIN pg_catalog.pg_foreign_server s ON s.oid OPERATOR(pg_catalog.=) c.serverid;
GRANT SELECT ON stats TO PUBLIC;
COMMENT ON VIEW stats IS
  'Per server and resource: what the scans of this database did since the server started or stats_reset() (only this session''s when tempo_fdw is not preloaded)';
COMMENT ON COLUMN stats.server_name IS 'The foreign server (NULL: servers counted together once every entry was taken, or a server since dropped)';
COMMENT ON COLUMN stats.resource IS 'The resource scanned (worklogs, jira_worklogs, user_schedules, worklog_deletions)';
COMMENT ON COLUMN stats.scans IS 'Scans ended';
COMMENT ON COLUMN stats.errors IS 'Scans ended by an error or a cancel';
COMMENT ON COLUMN stats.errors_auth IS 'Of those: no credentials, HTTP 401 or 403';
COMMENT ON COLUMN stats.errors_network IS 'Of those: could not connect, timed out, TLS, a broken transfer';
COMMENT ON COLUMN stats.errors_http IS 'Of those: any other HTTP status (404, 429, 5xx after the retries, ...)';
COMMENT ON COLUMN stats.errors_other IS 'Of those: anything else (bad data, a limit, a cancel, an error of the query)';
COMMENT ON COLUMN stats.fallbacks IS 'Scans that read Jira because Tempo could not serve them';
COMMENT ON COLUMN stats.rows IS 'Rows the scans returned';
COMMENT ON COLUMN stats.pages IS 'Pages turned into rows';
COMMENT ON COLUMN stats.requests IS 'HTTP requests sent, retries included';
COMMENT ON COLUMN stats.retries IS 'Requests repeated after a transient fault (429, 5xx, a reset)';
COMMENT ON COLUMN stats.throttled IS 'Responses 429 Too Many Requests (each also counted as a retry, or as the error)';
COMMENT ON COLUMN stats.bytes IS 'Response bytes received (decoded)';
COMMENT ON COLUMN stats.http_ms IS 'Milliseconds in HTTP transfers (summed over concurrent ones)';
COMMENT ON COLUMN stats.budget_wait_ms IS 'Milliseconds waited for a slot of the request budget (max_requests_per_second, a pause after a 429)';
COMMENT ON COLUMN stats.retry_wait_ms IS 'Milliseconds waited before retries (Retry-After, backoff)';
COMMENT ON COLUMN stats.since IS 'When counting started (server start or the last stats_reset())';
COMMENT ON COLUMN stats.shared IS 'true: every backend''s scans (tempo_fdw preloaded); false: only this session''s';

-- ======================================================================
-- 1.1: live progress of the scans, one row per backend scanning (shared
-- memory when tempo_fdw is preloaded).
-- ======================================================================

CREATE FUNCTION scan_activity(OUT pid integer, OUT userid oid, OUT serverid oid, OUT relid oid,
                              OUT state text, OUT request text, OUT pages bigint, OUT rows bigint,
                              OUT bytes bigint, OUT requests bigint, OUT retries bigint, OUT throttled bigint,
                              OUT budget_wait_ms bigint, OUT retry_wait_ms bigint, OUT http_ms bigint,
                              OUT started_at timestamptz, OUT state_since timestamptz,
                              OUT run text, OUT run_schema name, OUT run_id bigint, OUT phase text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'tempo_fdw_activity'
LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION scan_activity() IS
  'The scans and runs of refresh or sync in this database, one row per backend (see the view activity)';

-- refresh and sync say which phase they are in (an abort clears it).
CREATE FUNCTION activity_phase(run text, run_schema name, run_id bigint, phase text)
RETURNS void
AS 'MODULE_PATHNAME', 'tempo_fdw_activity_phase'
LANGUAGE C VOLATILE;
-- (only roles that run refresh or sync: the owner, superusers and the roles
-- of grant_time_accounts; anyone else could show a run that is not one)
REVOKE ALL ON FUNCTION activity_phase(text, name, bigint, text) FROM PUBLIC;
COMMENT ON FUNCTION activity_phase(text, name, bigint, text) IS
  'Shows this backend''s refresh or sync and its phase in the view activity (phase NULL: the run ended); used by refresh and sync';

CREATE VIEW activity AS
SELECT a.pid, r.rolname AS role_name, a.run, a.run_schema, a.run_id, a.phase,
       s.srvname AS server_name, a.relid::pg_catalog.regclass AS table_name,
       a.state, a.request, a.pages, a.rows, a.bytes, a.requests, a.retries, a.throttled,
       a.budget_wait_ms, a.retry_wait_ms, a.http_ms, a.started_at, a.state_since
  FROM @extschema@.scan_activity() a
  LEFT JOIN pg_catalog.pg_foreign_server s ON s.oid OPERATOR(pg_catalog.=) a.serverid
  LEFT JOIN pg_catalog.pg_roles r ON r.oid OPERATOR(pg_catalog.=) a.userid;
GRANT SELECT ON activity TO PUBLIC;
COMMENT ON VIEW activity IS
  'The tempo_fdw scans and the runs of refresh and sync going on now in this database, one row per backend (every backend''s when tempo_fdw is preloaded, else only this session''s)';
COMMENT ON COLUMN activity.pid IS 'The backend (pg_stat_activity.pid)';
COMMENT ON COLUMN activity.run IS 'refresh or sync when the backend runs one (else NULL)';
COMMENT ON COLUMN activity.run_schema IS 'The time-accounts schema of that run';
COMMENT ON COLUMN activity.run_id IS 'Its row of refresh_log (committed when the run began, outcome running)';
COMMENT ON COLUMN activity.phase IS 'worklogs, deletions, merging, schedules or logging';
COMMENT ON COLUMN activity.server_name IS 'The server of the scan running now (the scan columns are NULL between scans)';
COMMENT ON COLUMN activity.state IS 'starting, requesting, waiting on the request budget, waiting to retry, or converting (a page into rows)';
COMMENT ON COLUMN activity.request IS 'Method and path of the current request (no host, no token); NULL unless you are a member of the scanning role or of pg_read_all_stats';
COMMENT ON COLUMN activity.pages IS 'Pages turned into rows so far';
COMMENT ON COLUMN activity.rows IS 'Rows returned so far';
COMMENT ON COLUMN activity.requests IS 'HTTP requests sent so far, retries included';
COMMENT ON COLUMN activity.throttled IS 'Responses 429 Too Many Requests so far';
COMMENT ON COLUMN activity.budget_wait_ms IS 'Milliseconds waited so far on the request budget (max_requests_per_second, a pause after a 429)';
COMMENT ON COLUMN activity.retry_wait_ms IS 'Milliseconds waited so far before retries (Retry-After, backoff)';
COMMENT ON COLUMN activity.http_ms IS 'Milliseconds in HTTP transfers so far';
COMMENT ON COLUMN activity.started_at IS 'When the scan began';
COMMENT ON COLUMN activity.state_since IS 'When the current state began';

-- ======================================================================
-- 1.1: the shared request budgets (max_requests_per_second, 429 pauses).
-- ======================================================================

CREATE FUNCTION rate_budget_state(OUT budget integer, OUT rate double precision, OUT slots_ahead bigint,
                                  OUT next_slot_at timestamptz, OUT paused_until timestamptz,
                                  OUT waiting bigint, OUT roles_waiting integer, OUT last_used timestamptz,
                                  OUT shared boolean)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'tempo_fdw_rate_budgets'
LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION rate_budget_state() IS 'The request budgets in use (see the view rate_budgets)';

CREATE VIEW rate_budgets AS SELECT * FROM @extschema@.rate_budget_state();
GRANT SELECT ON rate_budgets TO PUBLIC;
COMMENT ON VIEW rate_budgets IS
  'The request budgets in use, one per API host and credential (shared by every backend when tempo_fdw is preloaded); the key itself is not shown';
COMMENT ON COLUMN rate_budgets.budget IS 'A number for this listing only';
COMMENT ON COLUMN rate_budgets.rate IS 'max_requests_per_second of its last request (0: no limit)';
COMMENT ON COLUMN rate_budgets.slots_ahead IS 'Request slots already given out that have not begun';
COMMENT ON COLUMN rate_budgets.next_slot_at IS 'When the next request of this budget may start (NULL: no limit)';
COMMENT ON COLUMN rate_budgets.paused_until IS 'No request before this, as a 429''s Retry-After asked (NULL: not paused)';
COMMENT ON COLUMN rate_budgets.waiting IS 'Requests waiting for their slot';
COMMENT ON COLUMN rate_budgets.roles_waiting IS 'Roles with requests waiting';
COMMENT ON COLUMN rate_budgets.shared IS 'true: every backend''s budgets (tempo_fdw preloaded); false: only this session''s';
