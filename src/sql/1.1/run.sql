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

-- The words where a refresh and a sync differ, for run_time_accounts: what
-- runs (the start of its messages), what the row of a skipped run says was
-- running, the NOTICE of a skipped run (%s: the schema), what a failure
-- leaves unchanged (the end of its hint; %s: the run), and the mode the
-- accounts must have (NULL: any).
CREATE FUNCTION run_words(kind text, OUT what text, OUT running text, OUT skipped text,
                          OUT unchanged text, OUT mode text)
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
  CASE kind
    WHEN 'refresh' THEN
      what := 'refresh of the time accounts';
      running := 'another refresh of this schema was running';
      skipped := 'another refresh of the time accounts in "%s" is running: this one is skipped';
      unchanged := 'The previous data is unchanged; see tempo_fdw.refresh_log (run %s).';
    WHEN 'sync' THEN
      what := 'sync of the worklogs';
      running := 'another refresh or sync of this schema was running';
      skipped := 'another refresh or sync of "%s" is running: this one is skipped';
      unchanged := 'The store, its watermark and the schedules are unchanged; the next run picks up from there.';
      mode := 'sync';
    ELSE
      RAISE EXCEPTION 'tempo_fdw has no run of kind %', quote_nullable(kind)
        USING ERRCODE = 'invalid_parameter_value';
  END CASE;
END $fn$;
COMMENT ON FUNCTION run_words(text) IS
  'Used by run_time_accounts: the words of its messages where a refresh and a sync differ';

-- One run of refresh or sync (kind), the steps they share written once;
-- the command has pinned search_path and refused a transaction block.
-- 1. The accounts (of the mode the kind needs) are checked and their run
--    lock taken.  When another run holds it: a row "skipped" committed,
--    then a NOTICE, or an ERROR when it has been held longer than
--    max_run_time.  (A sync of a schema without synchronised accounts
--    runs unlocked: its work fails, and the failure is logged.)
-- 2. The run's row committed as it begins (run_begin), the lock taken
--    again (run_relock).
-- 3. The work, in one subtransaction: the command's steps
--    <kind>_step_worklogs, then <kind>_step_schedules.  Each takes the
--    accounts, the command's arguments (args) and what the steps before it
--    returned (done), and returns done with its own results added: the
--    columns of refresh_log it sets (worklog_rows, worklog_source,
--    mapped_rows, unattributed_rows, schedule_rows), a note, and what a
--    later step needs.  A failure undoes the work; what the steps that
--    completed returned stays, for the log.  Then, of locked accounts,
--    the figures (materialise_accounts).
-- 4. The row completed and committed: outcome ok or failed, error the
--    failure's message, else the note (a failed sync says so in
--    sync_state too).  After a good run of locked accounts, the lock taken
--    again, the names and teams read (read_lookups, lookups.sql) and
--    committed, their note added to the row.
-- 5. The ERROR of a failure: "<what> in "<schema>" failed: <message>",
--    with its SQLSTATE and detail, and a hint ending with what it left
--    unchanged; else the command's <kind>_step_warning, and a WARNING
--    when a lookup had a problem to look at.
CREATE PROCEDURE run_time_accounts(schema name, kind text, args jsonb)
LANGUAGE plpgsql
AS $proc$
DECLARE
  words     record;
  cfg       @extschema@.time_accounts;
  locked    boolean;
  taken     boolean := true;
  holder    integer;
  held      interval;
  too_long  boolean;
  run       bigint;
  requests0 bigint;
  step      text;
  done      jsonb := '{}';
  logged    @extschema@.refresh_log;
  failed    boolean := false;
  err_state text;
  err_msg   text;
  err_detail text;
  err_hint  text;
  lookups   text;
BEGIN
  PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
  SELECT * INTO words FROM @extschema@.run_words(kind);
  SELECT * INTO cfg FROM @extschema@.time_accounts t
   WHERE t.schema_name = schema AND (words.mode IS NULL OR t.mode = words.mode);
  locked := FOUND;
  IF locked THEN
    PERFORM @extschema@.time_accounts_check_runner(schema, cfg.owner);
    SELECT l.taken, l.holder_pid, l.held_for, l.too_long INTO taken, holder, held, too_long
      FROM @extschema@.time_accounts_run_lock(schema) l;
  END IF;
  requests0 := @extschema@.requests_made();
  IF NOT taken THEN
    INSERT INTO @extschema@.refresh_log (schema_name, kind, started_at, finished_at, outcome, error)
    VALUES (schema, kind, clock_timestamp(), clock_timestamp(), 'skipped',
            CASE WHEN too_long THEN format('another run of this schema has held its lock for %s (backend %s), longer than max_run_time',
                                           held, holder)
                 ELSE words.running END);
    COMMIT;
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    IF too_long THEN
      RAISE EXCEPTION '% in "%" skipped: another run has held the lock for %', words.what, schema, held
        USING ERRCODE = 'lock_not_available',
              DETAIL = format('Backend %s holds it; max_run_time of these time accounts is %s.', holder, cfg.max_run_time),
              HINT = 'Look at that backend in pg_stat_activity: end it if it is stuck (pg_cancel_backend), or raise tempo_fdw.time_accounts.max_run_time.';
    END IF;
    RAISE NOTICE '%', format(words.skipped, schema);
    RETURN;
  END IF;

  run := @extschema@.run_begin(schema, kind);
  COMMIT;
  PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
  IF locked AND NOT @extschema@.run_relock(schema, run) THEN
    RETURN;
  END IF;

  BEGIN
    FOREACH step IN ARRAY ARRAY['worklogs', 'schedules'] LOOP
      EXECUTE format('SELECT @extschema@.%I($1, $2, $3, $4)', kind || '_step_' || step)
        INTO done USING schema, cfg, args, done;
    END LOOP;
    -- the figures of the monthly and balance views (figures.sql)
    IF locked THEN
      PERFORM @extschema@.materialise_accounts(schema);
    END IF;
  EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS err_state = RETURNED_SQLSTATE, err_msg = MESSAGE_TEXT,
                            err_detail = PG_EXCEPTION_DETAIL, err_hint = PG_EXCEPTION_HINT;
    failed := true;
  END;

  IF failed AND kind = 'sync' THEN
    UPDATE @extschema@.sync_state x SET last_outcome = 'failed', error = err_msg WHERE x.schema_name = schema;
  END IF;
  logged := jsonb_populate_record(NULL::@extschema@.refresh_log, done);
  UPDATE @extschema@.refresh_log
     SET finished_at = clock_timestamp(),
         outcome = CASE WHEN failed THEN 'failed' ELSE 'ok' END,
         worklog_rows = logged.worklog_rows, schedule_rows = logged.schedule_rows,
         worklog_source = logged.worklog_source, mapped_rows = logged.mapped_rows,
         unattributed_rows = logged.unattributed_rows,
         requests = @extschema@.requests_made() - requests0,
         error = coalesce(err_msg, done->>'note')
   WHERE run_id = run;
  COMMIT;
  PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);

  -- the names and teams (lookups.sql), in a transaction of their own under
  -- the run lock (taken again: when another run took it, that run reads them)
  IF NOT failed AND locked AND (SELECT l.taken FROM @extschema@.time_accounts_run_lock(schema) l) THEN
    lookups := @extschema@.read_lookups(schema, cfg.owner);
    UPDATE @extschema@.refresh_log
       SET error = nullif(concat_ws('; ', error, lookups), ''), requests = @extschema@.requests_made() - requests0
     WHERE run_id = run;
    COMMIT;
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
  END IF;
  PERFORM @extschema@.activity_phase(NULL, NULL, NULL, NULL);

  IF failed THEN
    err_hint := format('%s%s%s', err_hint, CASE WHEN err_hint <> '' THEN ' ' ELSE '' END, format(words.unchanged, run));
    -- (an empty DETAIL would still be a line of its own)
    IF coalesce(err_detail, '') = '' THEN
      RAISE EXCEPTION '% in "%" failed: %', words.what, schema, err_msg
        USING ERRCODE = err_state, HINT = err_hint;
    END IF;
    RAISE EXCEPTION '% in "%" failed: %', words.what, schema, err_msg
      USING ERRCODE = err_state, DETAIL = err_detail, HINT = err_hint;
  END IF;
  EXECUTE format('SELECT @extschema@.%I($1, $2)', kind || '_step_warning') USING schema, done;
  IF lookups IS NOT NULL THEN
    RAISE WARNING '% in "%": %', words.what, schema, lookups
      USING HINT = 'The accounts are up to date; see names_problem and teams_problem in time_account_status.';
  END IF;
END $proc$;
COMMENT ON PROCEDURE run_time_accounts(name, text, jsonb) IS
  'Used by refresh and sync: one run of either (lock, log row, their steps, the outcome), the steps they share written once';
