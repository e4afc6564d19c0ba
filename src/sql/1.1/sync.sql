-- src/sql/1.1/sync.sql: sync: the worklog store kept in step with Tempo
-- (worklog_columns, sync_fallback, sync_run, sync's steps, the procedure).
-- Part of tempo_fdw--1.0--1.1.sql, which make builds (see the Makefile).

DROP FUNCTION sync_run(name);
DROP PROCEDURE sync(name);

-- The columns of a worklog store that come from the foreign table
-- worklogs, in the store's order; from_jira: only those a row from the
-- Jira fallback replaces (its issue, dates, time and comment: not the
-- worker, billable time, creation or work attributes, and not the ids).
-- The one list sync_run and sync_fallback build their statements from.
CREATE FUNCTION worklog_columns(from_jira boolean DEFAULT false)
RETURNS name[]
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp
AS $$
  SELECT array_agg(c.name ORDER BY c.pos)
    FROM (VALUES (1, 'worklog_id'::name, false), (2, 'source', true), (3, 'issue_id', true),
                 (4, 'author_account_id', false), (5, 'start_date', true), (6, 'start_time', true),
                 (7, 'started_at', true), (8, 'time_spent_seconds', true), (9, 'billable_seconds', false),
                 (10, 'description', true), (11, 'created_at', false), (12, 'updated_at', true),
                 (13, 'attributes', false), (14, 'jira_worklog_id', false)) c(pos, name, jira)
   WHERE c.jira OR NOT from_jira
$$;
COMMENT ON FUNCTION worklog_columns(boolean) IS
  'The columns of a worklog store that come from the foreign table worklogs (from_jira: those a Jira fallback row replaces)';

-- A list of SQL for columns: each column through format(item, column)
-- (so '%I', 'w.%I' or '%1$I = excluded.%1$I'), joined by commas.
CREATE FUNCTION column_list(cols name[], item text)
RETURNS text
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp
AS $$
  SELECT string_agg(format(item, c.name), ', ' ORDER BY c.pos) FROM unnest(cols) WITH ORDINALITY c(name, pos)
$$;
COMMENT ON FUNCTION column_list(name[], text) IS
  'SQL for a list of columns: format(item, column) for each, joined by commas';

-- A sync that read the Jira fallback (allowed), from tempo_sync_incoming:
-- a Jira row whose id is the twin of a stored worklog updates it with
-- Jira's issue, dates, time and comment (worker, billable time and work
-- attributes stay), marked jira_mapped; any other is stored unattributed,
-- with no author, under minus its Jira id (it has no Tempo id; a negative
-- one never meets a Tempo id).  Nothing is deleted and the watermark stays:
-- the next run that reads Tempo reads everything again and replaces them.
-- The store is the schema's worklog_store, checked by the caller.
CREATE FUNCTION sync_fallback(schema name, seen timestamptz, OUT mapped bigint, OUT unattributed bigint)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
  jira_cols constant name[] := @extschema@.worklog_columns(from_jira => true);
BEGIN
  EXECUTE format($q$UPDATE %1$I.worklog_store w
                       SET %2$s, attribution = 'jira_mapped', last_seen_at = $1
                      FROM pg_temp.tempo_sync_incoming i
                     WHERE w.jira_worklog_id OPERATOR(pg_catalog.=) i.worklog_id
                       AND w.attribution OPERATOR(pg_catalog.<>) 'unattributed' AND w.deleted_at IS NULL$q$,
                 schema, @extschema@.column_list(jira_cols, '%1$I = i.%1$I'))
    USING seen;
  GET DIAGNOSTICS mapped = ROW_COUNT;
  EXECUTE format($q$INSERT INTO %1$I.worklog_store AS w
                          (worklog_id, jira_worklog_id, %2$s, created_at, author_account_id, billable_seconds,
                           attributes, attribution, last_seen_at, deleted_at)
                     SELECT OPERATOR(pg_catalog.-) i.worklog_id, i.worklog_id, %3$s, i.created_at, NULL, NULL,
                            NULL, 'unattributed', $1, NULL
                       FROM pg_temp.tempo_sync_incoming i
                      WHERE NOT EXISTS (SELECT 1 FROM %1$I.worklog_store x
                                         WHERE x.jira_worklog_id OPERATOR(pg_catalog.=) i.worklog_id
                                           AND x.attribution OPERATOR(pg_catalog.<>) 'unattributed'
                                           AND x.deleted_at IS NULL)
                     ON CONFLICT (worklog_id) DO UPDATE SET %4$s, last_seen_at = excluded.last_seen_at$q$,
                 schema, @extschema@.column_list(jira_cols, '%I'), @extschema@.column_list(jira_cols, 'i.%I'),
                 @extschema@.column_list(jira_cols, '%1$I = excluded.%1$I'))
    USING seen;
  GET DIAGNOSTICS unattributed = ROW_COUNT;
END $fn$;
COMMENT ON FUNCTION sync_fallback(name, timestamptz) IS
  'Stores the rows of a sync that read the Jira fallback: attributed to the stored worklogs they are twins of, or unattributed';

-- One sync of a store, in the caller's transaction (see trust.sql); full
-- reads everything since "since" and reconciles the whole store; force
-- lifts max_deletion_share.  Its relations are the schema's worklogs,
-- worklog_store and (when there) worklog_deletions, each checked
-- (checked_relation) before it is named, with %I, in a statement; values
-- go in as parameters.
CREATE FUNCTION sync_run(schema name, full boolean DEFAULT false, force boolean DEFAULT false,
  allow_fallback boolean DEFAULT false,
  OUT inserted bigint, OUT updated bigint, OUT deleted bigint, OUT deletion_source text,
  OUT mapped bigint, OUT unattributed bigint)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET client_min_messages = warning
AS $fn$
DECLARE
  overlap  constant interval := interval '5 minutes';
  cols     constant name[] := @extschema@.worklog_columns();
  -- the columns a stored row takes from an incoming one (all but its id)
  data_cols constant name[] := cols[2:];
  cfg      record;
  st       record;
  started  timestamptz := clock_timestamp();
  req0     bigint := @extschema@.requests_made();
  has_audit boolean;
  ids      bigint[];
  wfrom    date;
  wmark    timestamptz;
  whole    boolean;
  stored   bigint;
  fb_rows  boolean;
  dropped  bigint := 0;
  -- SQL fragments of the reading of worklogs: its select list and filter
  select_sql text;
  where_sql  text;
BEGIN
  SELECT * INTO cfg FROM @extschema@.time_accounts t WHERE t.schema_name = schema AND t.mode = 'sync';
  IF NOT FOUND THEN
    RAISE EXCEPTION 'schema "%" has no synchronised time accounts', schema
      USING ERRCODE = 'undefined_object',
            HINT = format('SELECT tempo_fdw.create_time_accounts(%L, mode => ''sync'');', schema);
  END IF;
  PERFORM @extschema@.time_accounts_check_runner(schema, cfg.owner);
  -- the Jira fallback only when allowed, and then attributed (local to this call)
  PERFORM set_config('tempo_fdw.fallback', CASE WHEN allow_fallback THEN 'on' ELSE 'off' END, true);
  PERFORM @extschema@.checked_relation(schema, 'worklogs', cfg.owner, 'worklogs');
  PERFORM @extschema@.checked_relation(schema, 'worklog_store', cfg.owner);
  has_audit := @extschema@.checked_relation(schema, 'worklog_deletions', cfg.owner, 'worklog_deletions', true) IS NOT NULL;
  -- each worklog's Jira twin, for an attributed fallback of the accounts
  -- (a store made before keeps working, and gets the columns now)
  IF NOT @extschema@.relation_has_column(format('%I.worklog_store', schema), 'attribution') THEN
    EXECUTE format('ALTER TABLE %I.worklog_store ADD COLUMN jira_worklog_id bigint, '
                   'ADD COLUMN attribution text NOT NULL DEFAULT ''tempo'' '
                   'CHECK (attribution IN (''tempo'', ''jira_mapped'', ''unattributed'')), '
                   'ALTER COLUMN author_account_id DROP NOT NULL, '
                   'ADD CHECK (author_account_id IS NOT NULL OR attribution = ''unattributed'')', schema);
  END IF;
  -- a foreign table imported before jira_worklog_id existed: NULL twins
  select_sql := @extschema@.column_list(cols[:array_length(cols, 1) - 1], '%I') || ', ' ||
                CASE WHEN @extschema@.relation_has_column(format('%I.worklogs', schema), 'jira_worklog_id')
                     THEN 'jira_worklog_id' ELSE 'NULL::bigint AS jira_worklog_id' END;
  INSERT INTO @extschema@.sync_state AS x (schema_name) VALUES (schema) ON CONFLICT DO NOTHING;
  SELECT * INTO st FROM @extschema@.sync_state x WHERE x.schema_name = schema FOR UPDATE;
  -- rows of an earlier fallback: the next reading of Tempo is a whole one
  EXECUTE format($q$SELECT EXISTS (SELECT 1 FROM %I.worklog_store w WHERE w.attribution OPERATOR(pg_catalog.<>) 'tempo')$q$,
                 schema)
    INTO fb_rows;
  whole := sync_run.full OR st.watermark IS NULL OR fb_rows;

  -- what changed: everything since "since" the first time, then since the watermark
  PERFORM @extschema@.activity_phase(NULL, NULL, NULL, 'worklogs');
  DROP TABLE IF EXISTS pg_temp.tempo_sync_incoming;
  where_sql := CASE WHEN whole THEN 'start_date >= $1' ELSE 'updated_at >= $2' END;
  EXECUTE format('CREATE TEMP TABLE tempo_sync_incoming ON COMMIT DROP AS SELECT %s FROM %I.worklogs WHERE %s',
                 select_sql, schema, where_sql)
    USING cfg.since, st.watermark - overlap;
  IF EXISTS (SELECT 1 FROM pg_temp.tempo_sync_incoming WHERE source = 'jira') THEN
    IF NOT allow_fallback THEN
      RAISE EXCEPTION 'the worklogs came from the Jira fallback'
        USING ERRCODE = 'fdw_error',
              DETAIL = 'A store synchronised from Jira would attribute Tempo-made worklogs to the Tempo app user.';
    END IF;
    IF NOT @extschema@.relation_has_column(@extschema@.checked_relation(schema, 'worklog_snapshot', cfg.owner), 'attribution') THEN
      RAISE EXCEPTION 'the time accounts in "%" cannot attribute rows from the Jira fallback', schema
        USING ERRCODE = 'fdw_error',
              DETAIL = 'They were made before tempo_fdw 1.1: their views would count unattributed rows for a person of no account.',
              HINT = format('Make them again: SELECT tempo_fdw.create_time_accounts(%L, ..., mode => ''sync'');', schema);
    END IF;
    SELECT f.mapped, f.unattributed INTO mapped, unattributed FROM @extschema@.sync_fallback(schema, started) f;
    -- rows written: counted as updated (an unattributed row may be new)
    inserted := 0; updated := mapped + unattributed; deleted := 0;
    UPDATE @extschema@.sync_state x
       SET last_started = started, last_finished = clock_timestamp(), last_outcome = 'ok',
           received = (SELECT count(*) FROM pg_temp.tempo_sync_incoming),
           inserted = 0, updated = sync_run.updated, deleted = 0, deletion_source = NULL,
           requests = @extschema@.requests_made() - req0,
           error = format('from the Jira fallback: %s rows attributed from the stored Tempo data, %s unattributed; '
                          'the next run that reads Tempo reads everything again', mapped, unattributed)
     WHERE x.schema_name = schema;
    RETURN;
  END IF;
  -- the deletion window is read from Tempo only: Jira ids are not Tempo's
  PERFORM set_config('tempo_fdw.fallback', 'off', true);

  PERFORM @extschema@.activity_phase(NULL, NULL, NULL, 'merging');
  EXECUTE format($q$SELECT count(*) FROM pg_temp.tempo_sync_incoming i JOIN %1$I.worklog_store w USING (worklog_id)
                     WHERE (%2$s, w.deleted_at, w.attribution) IS DISTINCT FROM (%3$s, NULL::timestamptz, 'tempo')$q$,
                 schema, @extschema@.column_list(data_cols, 'w.%I'), @extschema@.column_list(data_cols, 'i.%I'))
    INTO updated;
  EXECUTE format($q$WITH up AS (
                       INSERT INTO %1$I.worklog_store AS w (%2$s, attribution, last_seen_at, deleted_at)
                       SELECT %2$s, 'tempo', $1, NULL FROM pg_temp.tempo_sync_incoming
                       ON CONFLICT (worklog_id) DO UPDATE SET
                         %3$s, attribution = excluded.attribution, last_seen_at = excluded.last_seen_at,
                         deleted_at = NULL
                       RETURNING xmax = 0 AS was_inserted)
                     SELECT count(*) FILTER (WHERE was_inserted) FROM up$q$,
                 schema, @extschema@.column_list(cols, '%I'), @extschema@.column_list(data_cols, '%1$I = excluded.%1$I'))
    INTO inserted USING started;
  IF fb_rows THEN
    -- what the fallback could not attribute now came from Tempo, under Tempo ids
    EXECUTE format($q$DELETE FROM %I.worklog_store w WHERE w.attribution OPERATOR(pg_catalog.=) 'unattributed'$q$, schema);
    GET DIAGNOSTICS dropped = ROW_COUNT;
  END IF;

  -- deletions: a whole reading (the first, or full) reconciles the whole
  -- store with it; else Tempo's audit log when the token may read it, else
  -- a trailing window read again
  PERFORM @extschema@.activity_phase(NULL, NULL, NULL, 'deletions');
  deleted := 0;
  IF whole THEN
    deletion_source := 'full';
    wfrom := cfg.since;
    DROP TABLE IF EXISTS pg_temp.tempo_sync_window;
    CREATE TEMP TABLE tempo_sync_window ON COMMIT DROP AS
      SELECT i.worklog_id, i.source FROM pg_temp.tempo_sync_incoming i;
  ELSE
    deletion_source := 'reconcile';
    IF has_audit THEN
      BEGIN
        EXECUTE format('SELECT coalesce(array_agg(worklog_id), ''{}'') FROM %I.worklog_deletions WHERE deleted_at >= $1',
                       schema)
          INTO ids USING greatest(st.last_started - overlap, now() - interval '179 days');
        deletion_source := 'audit';
      EXCEPTION WHEN insufficient_privilege OR invalid_authorization_specification OR fdw_table_not_found THEN
        deletion_source := 'reconcile';
      END;
    END IF;
    IF deletion_source = 'reconcile' THEN
      wfrom := greatest(cfg.since, current_date - cfg.reconcile_days);
      DROP TABLE IF EXISTS pg_temp.tempo_sync_window;
      EXECUTE format('CREATE TEMP TABLE tempo_sync_window ON COMMIT DROP AS SELECT worklog_id, source FROM %I.worklogs WHERE start_date >= $1',
                     schema)
        USING wfrom;
    END IF;
  END IF;
  IF deletion_source <> 'audit' THEN
    IF EXISTS (SELECT 1 FROM pg_temp.tempo_sync_window w WHERE w.worklog_id IS NULL) THEN
      RAISE EXCEPTION 'a worklog without id in the reconciliation window' USING ERRCODE = 'fdw_invalid_data_type';
    END IF;
    IF EXISTS (SELECT 1 FROM pg_temp.tempo_sync_window w WHERE w.source OPERATOR(pg_catalog.<>) 'tempo') THEN
      RAISE EXCEPTION 'the reconciliation window came from the Jira fallback'
        USING ERRCODE = 'fdw_error',
              DETAIL = 'Jira worklog ids are not Tempo ids: every stored worklog would count as deleted.';
    END IF;
    EXECUTE format('SELECT count(*) FROM %I.worklog_store w WHERE w.deleted_at IS NULL AND w.start_date >= $1', schema)
      INTO stored USING wfrom;
    EXECUTE format('SELECT coalesce(array_agg(worklog_id), ''{}'') FROM %I.worklog_store w
                     WHERE w.deleted_at IS NULL AND w.start_date >= $1
                       AND NOT EXISTS (SELECT 1 FROM pg_temp.tempo_sync_window x WHERE x.worklog_id = w.worklog_id)',
                   schema)
      INTO ids USING wfrom;
    IF NOT sync_run.force AND cardinality(ids) > cfg.max_deletion_share * stored THEN
      RAISE EXCEPTION 'sync of "%" would delete % of the % stored worklogs since %', schema, cardinality(ids), stored, wfrom
        USING ERRCODE = 'data_exception',
              DETAIL = format('That is more than max_deletion_share (%s) of the window; nothing was changed.', cfg.max_deletion_share),
              HINT = format('If Tempo really lost them: CALL tempo_fdw.sync(%L, force => true); or raise tempo_fdw.time_accounts.max_deletion_share.', schema);
    END IF;
  END IF;
  IF cfg.deletions = 'mark' THEN
    EXECUTE format('UPDATE %I.worklog_store SET deleted_at = $1 WHERE deleted_at IS NULL AND worklog_id = ANY ($2)', schema)
      USING started, ids;
  ELSE
    EXECUTE format('DELETE FROM %I.worklog_store WHERE worklog_id = ANY ($1)', schema) USING ids;
  END IF;
  GET DIAGNOSTICS deleted = ROW_COUNT;
  deleted := deleted + dropped;

  -- the watermark moves to the latest change received, never back
  SELECT max(updated_at) INTO wmark FROM pg_temp.tempo_sync_incoming;
  UPDATE @extschema@.sync_state x
     SET watermark = greatest(x.watermark, wmark), last_started = started,
         last_finished = clock_timestamp(), last_outcome = 'ok',
         received = (SELECT count(*) FROM pg_temp.tempo_sync_incoming),
         inserted = sync_run.inserted, updated = sync_run.updated, deleted = sync_run.deleted,
         deletion_source = sync_run.deletion_source,
         requests = @extschema@.requests_made() - req0, error = NULL
   WHERE x.schema_name = schema;
END $fn$;

-- The steps of a sync, run by run_time_accounts (run.sql) in one
-- subtransaction: the worklogs, then the schedules; then, after the run's
-- row is committed, its WARNING.  args: full, force, allow_fallback.

-- The worklogs: sync_run.
CREATE FUNCTION sync_step_worklogs(schema name, cfg @extschema@.time_accounts, args jsonb, done jsonb)
RETURNS jsonb
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
  r record;
BEGIN
  SELECT x.inserted, x.updated, x.mapped, x.unattributed INTO r
    FROM @extschema@.sync_run(schema, (args->>'full')::boolean, (args->>'force')::boolean,
                              (args->>'allow_fallback')::boolean) x;
  RETURN done || jsonb_build_object('worklog_rows', r.inserted + r.updated,
                                    'mapped', r.mapped, 'unattributed', r.unattributed);
END $fn$;
COMMENT ON FUNCTION sync_step_worklogs(name, time_accounts, jsonb, jsonb) IS
  'Used by sync: its worklogs synchronised (sync_run)';

-- The schedules: Tempo's (the new days, the last ones again; full: all);
-- after a run from the Jira fallback they stay as they were.  Where the
-- worklogs came from is logged only when this step completes.
CREATE FUNCTION sync_step_schedules(schema name, cfg @extschema@.time_accounts, args jsonb, done jsonb)
RETURNS jsonb
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
  mapped bigint := (done->>'mapped')::bigint;
  srows  bigint;
BEGIN
  IF mapped IS NULL THEN
    PERFORM @extschema@.activity_phase(NULL, NULL, NULL, 'schedules');
    SELECT r.schedule_rows INTO srows FROM @extschema@.refresh_schedules(schema, cfg.owner, (args->>'full')::boolean) r;
  END IF;
  RETURN done || jsonb_build_object(
    'schedule_rows', srows,
    'worklog_source', CASE WHEN mapped IS NOT NULL THEN 'jira' ELSE 'tempo' END,
    'mapped_rows', coalesce(mapped, 0),
    'unattributed_rows', coalesce((done->>'unattributed')::bigint, 0));
END $fn$;
COMMENT ON FUNCTION sync_step_schedules(name, time_accounts, jsonb, jsonb) IS
  'Used by sync: Tempo''s schedules brought up to date, unless the worklogs came from the Jira fallback';

-- After a sync that read the Jira fallback (allowed): its WARNING.
CREATE FUNCTION sync_step_warning(schema name, done jsonb)
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
  IF done->>'mapped' IS NOT NULL THEN
    RAISE WARNING 'sync of the worklogs in "%": from the Jira fallback (allowed): % attributed from the stored Tempo data, % unattributed',
                  schema, done->>'mapped', done->>'unattributed'
      USING DETAIL = 'Unattributed rows count for nobody (time_account_unattributed); nothing was deleted and the watermark stays.',
            HINT = 'The next run that reads Tempo reads every worklog since "since" again and replaces these rows.';
  END IF;
END $fn$;
COMMENT ON FUNCTION sync_step_warning(name, jsonb) IS
  'Used by sync: the WARNING of a run that read the Jira fallback';

-- Synchronise a store; for pg_cron (see trust.sql); full and force as in
-- sync_run.  The run: run_time_accounts (run.sql), with the steps above.
CREATE PROCEDURE sync(schema name, full boolean DEFAULT false, force boolean DEFAULT false,
                      allow_fallback boolean DEFAULT false)
LANGUAGE plpgsql
AS $proc$
BEGIN
  PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
  PERFORM @extschema@.refuse_transaction_block('sync');
  CALL @extschema@.run_time_accounts(schema, 'sync',
                                     pg_catalog.jsonb_build_object('full', sync.full, 'force', sync.force,
                                                                   'allow_fallback', sync.allow_fallback));
END $proc$;
COMMENT ON PROCEDURE sync(name, boolean, boolean, boolean) IS
  'Brings the worklog store of a schema in step with Tempo (changes since the watermark, deletions; full: everything since "since"; allow_fallback: attributed Jira rows when Tempo fails); for pg_cron';
