-- src/sql/1.1/refresh.sql: refresh: the time accounts brought up to date
-- (keep_twins, the procedure refresh).
-- Part of tempo_fdw--1.0--1.1.sql, which make builds (see the Makefile).

-- After a refresh that read Tempo: the Jira twins of the snapshot's
-- worklogs, with their workers and billable time, become what a later
-- refresh from the Jira fallback attributes rows with.  Returns how many;
-- NULL for accounts without twins (made before them: make them again).
CREATE FUNCTION keep_twins(schema name, acct_owner regrole)
RETURNS bigint
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
  twins text := @extschema@.checked_relation(schema, 'worklog_twins', acct_owner, NULL, true);
  wsnap text := @extschema@.checked_relation(schema, 'worklog_snapshot', acct_owner);
  n     bigint;
BEGIN
  IF twins IS NULL OR NOT @extschema@.relation_has_column(wsnap, 'attribution') THEN
    RETURN NULL;
  END IF;
  EXECUTE format('DELETE FROM %I.worklog_twins', schema);
  EXECUTE format($q$INSERT INTO %1$I.worklog_twins (jira_worklog_id, worklog_id, account_id, billable_seconds)
                    SELECT jira_worklog_id, worklog_id, account_id, billable_seconds FROM %1$I.worklog_snapshot
                     WHERE attribution OPERATOR(pg_catalog.=) 'tempo' AND jira_worklog_id IS NOT NULL$q$,
                 schema);
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n;
END $fn$;
COMMENT ON FUNCTION keep_twins(name, regrole) IS
  'Keeps the Jira twins of a snapshot read from Tempo, for attributing the rows of a later Jira fallback';

-- The steps of a refresh, run by run_time_accounts (run.sql) in one
-- subtransaction: the worklogs, then the schedules; then, after the run's
-- row is committed, its WARNING.  args: allow_fallback.

-- The worklogs: the snapshot refreshed (the store synchronised, for
-- accounts of mode sync) with the fallback off unless allow_fallback, and
-- counted.
CREATE FUNCTION refresh_step_worklogs(schema name, cfg @extschema@.time_accounts, args jsonb, done jsonb)
RETURNS jsonb
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
  allow_fallback boolean := (args->>'allow_fallback')::boolean;
  wsnap     text;
  populated boolean;
  attributed boolean;
  fallback  boolean;
  wrows     bigint;
  mapped    bigint;
  unattrib  bigint;
BEGIN
  PERFORM @extschema@.activity_phase(NULL, NULL, NULL, 'worklogs');
  -- Jira rows only when allowed (local to this transaction)
  PERFORM pg_catalog.set_config('tempo_fdw.fallback', CASE WHEN allow_fallback THEN 'on' ELSE 'off' END, true);
  PERFORM pg_catalog.set_config('tempo_fdw.fallback_snapshots', CASE WHEN allow_fallback THEN 'on' ELSE 'off' END, true);
  IF cfg.mode = 'sync' THEN
    PERFORM @extschema@.sync_run(schema, allow_fallback => allow_fallback);
    wsnap := @extschema@.checked_relation(schema, 'worklog_snapshot', cfg.owner);
  ELSE
    wsnap := @extschema@.checked_relation(schema, 'worklog_snapshot', cfg.owner);
    SELECT c.relispopulated INTO populated FROM pg_class c WHERE c.oid = to_regclass(wsnap);
    IF populated THEN
      EXECUTE format('REFRESH MATERIALIZED VIEW CONCURRENTLY %I.worklog_snapshot', schema);
    ELSE
      EXECUTE format('REFRESH MATERIALIZED VIEW %I.worklog_snapshot', schema);
    END IF;
  END IF;
  attributed := @extschema@.relation_has_column(wsnap, 'attribution');
  IF attributed THEN
    EXECUTE format($q$SELECT count(*), count(*) FILTER (WHERE source OPERATOR(pg_catalog.=) 'jira') > 0,
                             count(*) FILTER (WHERE attribution OPERATOR(pg_catalog.=) 'jira_mapped'),
                             count(*) FILTER (WHERE attribution OPERATOR(pg_catalog.=) 'unattributed')
                        FROM %I.worklog_snapshot$q$, schema)
      INTO wrows, fallback, mapped, unattrib;
  ELSE
    EXECUTE format('SELECT count(*), count(*) FILTER (WHERE source = ''jira'') > 0 FROM %I.worklog_snapshot', schema)
      INTO wrows, fallback;
  END IF;
  RETURN done || jsonb_build_object(
    'worklog_rows', wrows,
    'worklog_source', CASE WHEN fallback THEN 'jira' ELSE 'tempo' END,
    'mapped_rows', coalesce(mapped, 0),
    'unattributed_rows', CASE WHEN unattrib IS NOT NULL THEN unattrib WHEN fallback THEN wrows ELSE 0 END,
    'fallback', fallback, 'attributed', attributed, 'mapped', mapped, 'unattributed', unattrib);
END $fn$;
COMMENT ON FUNCTION refresh_step_worklogs(name, time_accounts, jsonb, jsonb) IS
  'Used by refresh: its worklogs read (snapshot refreshed or store synchronised) and counted';

-- The schedules: no rows from the Jira fallback unless allowed and
-- attributed; Tempo's schedules brought up to date (after a fallback they
-- stay as the last good run left them, and a note says so).
CREATE FUNCTION refresh_step_schedules(schema name, cfg @extschema@.time_accounts, args jsonb, done jsonb)
RETURNS jsonb
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
  fallback boolean := (done->>'fallback')::boolean;
  srows    bigint;
  note     text;
BEGIN
  IF fallback AND NOT (done->>'attributed')::boolean THEN
    RAISE EXCEPTION 'the time accounts in "%" cannot attribute rows from the Jira fallback', schema
      USING ERRCODE = 'fdw_error',
            DETAIL = 'They were made before tempo_fdw 1.1: their rows from Jira would count for the Tempo app user.',
            HINT = format('Make them again: SELECT tempo_fdw.create_time_accounts(%L, ...);', schema);
  END IF;
  IF fallback AND NOT (args->>'allow_fallback')::boolean THEN
    RAISE EXCEPTION 'the worklogs came from the Jira fallback'
      USING ERRCODE = 'fdw_error',
            DETAIL = 'Jira attributes Tempo-made worklogs to the Tempo app user: the accounts would be wrong.';
  END IF;
  PERFORM @extschema@.checked_relation(schema, 'schedule_snapshot', cfg.owner);
  PERFORM @extschema@.activity_phase(NULL, NULL, NULL, 'schedules');
  IF fallback THEN
    -- Tempo cannot serve: its schedules stay as the last good run left them
    note := format('worklogs from the Jira fallback (allowed): %s attributed from the last good Tempo data, '
                   '%s unattributed (see time_account_unattributed); schedules kept from the last run',
                   coalesce((done->>'mapped')::bigint, 0),
                   coalesce((done->>'unattributed')::bigint, (done->>'worklog_rows')::bigint));
  ELSE
    IF cfg.mode = 'snapshot' THEN
      PERFORM @extschema@.keep_twins(schema, cfg.owner);
    END IF;
    -- the new days of Tempo's schedules, and the last ones again (a person
    -- Tempo does not know: an ERROR that names the account)
    PERFORM @extschema@.refresh_schedules(schema, cfg.owner);
  END IF;
  EXECUTE format('SELECT count(*) FROM %I.schedule_snapshot', schema) INTO srows;
  RETURN done || jsonb_build_object('schedule_rows', srows, 'note', note);
END $fn$;
COMMENT ON FUNCTION refresh_step_schedules(name, time_accounts, jsonb, jsonb) IS
  'Used by refresh: the fallback checked, Tempo''s schedules brought up to date';

-- After a refresh that read the Jira fallback (allowed): its WARNING.
CREATE FUNCTION refresh_step_warning(schema name, done jsonb)
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
  IF done->>'note' IS NOT NULL THEN
    RAISE WARNING 'time accounts in "%": %', schema, done->>'note';
  END IF;
END $fn$;
COMMENT ON FUNCTION refresh_step_warning(name, jsonb) IS
  'Used by refresh: the WARNING of a run that read the Jira fallback';

-- Refresh the time accounts of a schema (see trust.sql); reads with the
-- fallback off unless allow_fallback.  The run: run_time_accounts
-- (run.sql), with the steps above.
CREATE OR REPLACE PROCEDURE refresh(schema name, allow_fallback boolean DEFAULT false)
LANGUAGE plpgsql
AS $proc$
DECLARE
  acct_owner pg_catalog.regrole;   -- (declared types are resolved on the caller's path)
BEGIN
  PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
  SELECT t.owner INTO acct_owner FROM @extschema@.time_accounts t WHERE t.schema_name = schema;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'schema "%" has no time accounts', schema
      USING ERRCODE = 'undefined_object',
            HINT = format('SELECT tempo_fdw.create_time_accounts(%L);', schema);
  END IF;
  PERFORM @extschema@.refuse_transaction_block('refresh');
  PERFORM @extschema@.time_accounts_check_runner(schema, acct_owner);
  CALL @extschema@.run_time_accounts(schema, 'refresh',
                                     pg_catalog.jsonb_build_object('allow_fallback', refresh.allow_fallback));
END $proc$;
