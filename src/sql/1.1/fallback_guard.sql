-- src/sql/1.1/fallback_guard.sql: the fallback guard: Jira fallback rows
-- kept out of stores, snapshots and accounts unless allowed.
-- Part of tempo_fdw--1.0--1.1.sql, which make builds (see the Makefile).

-- ======================================================================
-- 1.1: fallback rows never enter a store, snapshot or account unawares.
--
-- - sync reads with the GUC tempo_fdw.fallback off (its deletion window
--   too: Jira ids in it would delete every stored worklog); refresh too,
--   unless allow_fallback;
-- - a snapshot refreshed outside refresh (pg_restore, a user's REFRESH)
--   fails on a fallback row (snapshot_fallback_guard in its definition);
-- - the last fallback of each server: the view last_fallback;
-- - sync(schema, full => true) reads everything since "since" and
--   reconciles the whole store; a run that would delete more than
--   max_deletion_share of its window fails unless force => true; an
--   earlier "since" makes the next sync a whole one.
-- ======================================================================

CREATE FUNCTION last_fallbacks(OUT serverid oid, OUT relid oid, OUT fell_back_at timestamptz,
                               OUT reason text, OUT rows bigint, OUT shared boolean)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'tempo_fdw_last_fallbacks'
LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION last_fallbacks() IS
  'The last Jira fallback of each server of this database (see the view last_fallback)';

CREATE VIEW last_fallback AS
SELECT s.srvname AS server_name, f.relid::pg_catalog.regclass AS table_name, f.fell_back_at, f.reason,
       f.rows, f.shared
  FROM @extschema@.last_fallbacks() f
  JOIN pg_catalog.pg_foreign_server s ON s.oid OPERATOR(pg_catalog.=) f.serverid;
GRANT SELECT ON last_fallback TO PUBLIC;
COMMENT ON VIEW last_fallback IS
  'Per server: the last worklogs scan that read Jira because Tempo could not serve it (since the server started; only this session''s when tempo_fdw is not preloaded)';
COMMENT ON COLUMN last_fallback.server_name IS 'The foreign server';
COMMENT ON COLUMN last_fallback.table_name IS 'The foreign table scanned';
COMMENT ON COLUMN last_fallback.fell_back_at IS 'When the scan fell back';
COMMENT ON COLUMN last_fallback.reason IS 'Why Tempo could not serve (e.g. HTTP 401)';
COMMENT ON COLUMN last_fallback.rows IS 'Rows the scan returned from Jira';
COMMENT ON COLUMN last_fallback.shared IS 'true: every backend''s fallbacks (tempo_fdw preloaded); false: only this session''s';

-- In the definition of a snapshot: a fallback row is an ERROR unless
-- tempo_fdw.fallback_snapshots is on (refresh sets it with allow_fallback).
CREATE FUNCTION snapshot_fallback_guard(schema name, source text)
RETURNS boolean
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
  IF coalesce(current_setting('tempo_fdw.fallback_snapshots', true), 'off') = 'on' THEN
    RETURN true;
  END IF;
  RAISE EXCEPTION 'the worklog snapshot of "%" would take rows from the Jira fallback', schema
    USING ERRCODE = 'fdw_error',
          DETAIL = format('A row has source = %L: Tempo could not serve (see tempo_fdw.last_fallback), and Jira attributes Tempo-made worklogs to the Tempo app user.', source),
          HINT = format('Refresh it when Tempo answers: CALL tempo_fdw.refresh(%L); to take the Jira rows knowingly: allow_fallback => true.', schema);
END $fn$;
COMMENT ON FUNCTION snapshot_fallback_guard(name, text) IS
  'In a worklog snapshot''s definition: an ERROR on a row from the Jira fallback unless tempo_fdw.fallback_snapshots is on';

-- how much of its window a sync may delete; 'full' deletions
ALTER TABLE time_accounts
  ADD COLUMN max_deletion_share numeric NOT NULL DEFAULT 0.1
    CHECK (max_deletion_share >= 0 AND max_deletion_share <= 1);
COMMENT ON COLUMN time_accounts.max_deletion_share IS
  'The largest share of the stored worklogs of its window that a sync may delete by reconciling; more is an ERROR unless forced';
-- attributed fallback: how many rows of a run that read Jira were given
-- back to their workers from the last good Tempo data, and how many not
ALTER TABLE refresh_log
  ADD COLUMN mapped_rows bigint,
  ADD COLUMN unattributed_rows bigint;
COMMENT ON COLUMN refresh_log.mapped_rows IS
  'Rows of a run that read the Jira fallback whose worker, billable time and attributes came from the last good Tempo data';
COMMENT ON COLUMN refresh_log.unattributed_rows IS
  'Rows of a run that read the Jira fallback with no known Tempo twin: counted for nobody (time_account_unattributed)';

-- Whether a relation has a column (a foreign table imported before
-- jira_worklog_id existed, a store or snapshot made before attribution).
CREATE FUNCTION relation_has_column(rel text, col name)
RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
AS $$
  SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a
                  WHERE a.attrelid = pg_catalog.to_regclass(rel) AND a.attname = col
                    AND a.attnum > 0 AND NOT a.attisdropped)
$$;
COMMENT ON FUNCTION relation_has_column(text, name) IS
  'Whether a relation (by its quoted name) has a column of that name';

ALTER TABLE sync_state DROP CONSTRAINT sync_state_deletion_source_check,
  ADD CONSTRAINT sync_state_deletion_source_check CHECK (deletion_source IN ('audit', 'reconcile', 'full'));
