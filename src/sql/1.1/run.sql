-- src/sql/1.1/run.sql: what refresh and sync share: refusal inside a
-- transaction block, their refresh_log rows, the run lock taken again,
-- pruning the log.
-- Part of tempo_fdw--1.0--1.1.sql, which make builds (see the Makefile).

-- refresh and sync commit as they go: inside a transaction block they
-- refuse at once, before any download.
CREATE FUNCTION in_transaction_block()
RETURNS boolean
AS 'MODULE_PATHNAME', 'tempo_fdw_in_transaction_block'
LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION in_transaction_block() IS
  'Whether the caller is inside a transaction block (BEGIN, or several statements sent as one), where refresh and sync cannot commit';

CREATE FUNCTION refuse_transaction_block(what text)
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
  IF @extschema@.in_transaction_block() THEN
    RAISE EXCEPTION 'tempo_fdw.% cannot run inside a transaction block', what
      USING ERRCODE = 'active_sql_transaction',
            DETAIL = 'It commits as it goes: after the worklogs, after the schedules, after its log row.',
            HINT = 'CALL it on its own, outside BEGIN ... COMMIT, and one CALL per pg_cron command.';
  END IF;
END $fn$;
COMMENT ON FUNCTION refuse_transaction_block(text) IS
  'Raises 25001 when refresh or sync is called inside a transaction block';

-- A run commits its refresh_log row (outcome running) as it begins, so that
-- other sessions see it; this ends its transaction and so its run lock.
-- run_begin marks what an earlier run of the schema left running (it was
-- cancelled, terminated or crashed: it holds no lock any more), inserts the
-- row and shows the run in the view activity; after the COMMIT, run_relock
-- takes the lock again.  A run that took the lock in between wins, and
-- this one is recorded as skipped.
CREATE FUNCTION run_begin(schema name, kind text)
RETURNS bigint
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
  run bigint;
BEGIN
  UPDATE @extschema@.refresh_log l
     SET finished_at = clock_timestamp(), outcome = 'failed',
         error = 'interrupted: the run ended before it finished (a cancel, a terminate or a crash)'
   WHERE l.schema_name OPERATOR(pg_catalog.=) schema AND l.outcome OPERATOR(pg_catalog.=) 'running';
  INSERT INTO @extschema@.refresh_log (schema_name, kind, started_at, outcome)
  VALUES (schema, kind, clock_timestamp(), 'running') RETURNING run_id INTO run;
  PERFORM @extschema@.activity_phase(kind, schema, run, 'starting');
  RETURN run;
END $fn$;

CREATE FUNCTION run_relock(schema name, run bigint)
RETURNS boolean
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
  IF (SELECT l.taken FROM @extschema@.time_accounts_run_lock(schema) l) THEN
    RETURN true;
  END IF;
  UPDATE @extschema@.refresh_log l
     SET finished_at = clock_timestamp(), outcome = 'skipped',
         error = 'another run of this schema took its lock as this one began'
   WHERE l.run_id OPERATOR(pg_catalog.=) run;
  PERFORM @extschema@.activity_phase(NULL, NULL, NULL, NULL);
  RAISE NOTICE 'another refresh or sync of "%" began at the same time: this one is skipped', schema;
  RETURN false;
END $fn$;
COMMENT ON FUNCTION run_begin(name, text) IS
  'Used by refresh and sync: the refresh_log row of a run that begins (and what earlier runs left running marked as interrupted)';
COMMENT ON FUNCTION run_relock(name, bigint) IS
  'Used by refresh and sync: takes the run lock again after the run''s row was committed, or records the run as skipped';

-- Remove the old rows of refresh_log: those of runs that started more
-- than keep_days ago, except, per schema and kind, the last good run and
-- the last keep_last runs.  schema NULL: every schema.  Returns how many
-- rows went.
CREATE FUNCTION prune_refresh_log(keep_days integer DEFAULT 90, keep_last integer DEFAULT 10, schema name DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
  n bigint;
BEGIN
  IF keep_days IS NULL OR keep_days < 0 OR keep_last IS NULL OR keep_last < 0 THEN
    RAISE EXCEPTION 'keep_days and keep_last must be 0 or more'
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  DELETE FROM @extschema@.refresh_log r
   WHERE r.run_id IN (
     SELECT x.run_id
       FROM (SELECT l.run_id, l.started_at, l.outcome,
                    row_number() OVER (PARTITION BY l.schema_name, l.kind ORDER BY l.run_id DESC) AS nth,
                    row_number() OVER (PARTITION BY l.schema_name, l.kind, l.outcome = 'ok' ORDER BY l.run_id DESC) AS nth_same
               FROM @extschema@.refresh_log l
              WHERE prune_refresh_log.schema IS NULL OR l.schema_name = prune_refresh_log.schema) x
      WHERE x.started_at < now() - make_interval(days => keep_days)
        AND x.nth > keep_last
        AND x.outcome <> 'running'
        AND NOT (x.outcome = 'ok' AND x.nth_same = 1));
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n;
END $fn$;
COMMENT ON FUNCTION prune_refresh_log(integer, integer, name) IS
  'Deletes the rows of refresh_log older than keep_days, keeping per schema and kind the last good run and the last keep_last runs; returns how many';
