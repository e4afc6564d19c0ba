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
  EXECUTE format('DELETE FROM %s', twins);
  EXECUTE format($q$INSERT INTO %s (jira_worklog_id, worklog_id, account_id, billable_seconds)
                    SELECT jira_worklog_id, worklog_id, account_id, billable_seconds FROM %s
                     WHERE attribution OPERATOR(pg_catalog.=) 'tempo' AND jira_worklog_id IS NOT NULL$q$,
                 twins, wsnap);
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n;
END $fn$;
COMMENT ON FUNCTION keep_twins(name, regrole) IS
  'Keeps the Jira twins of a snapshot read from Tempo, for attributing the rows of a later Jira fallback';

-- Refresh the time accounts of a schema (see trust.sql); reads with the
-- fallback off unless allow_fallback.
CREATE OR REPLACE PROCEDURE refresh(schema name, allow_fallback boolean DEFAULT false)
LANGUAGE plpgsql
AS $proc$
DECLARE
  cfg       record;
  taken     boolean;
  holder    integer;
  held      interval;
  too_long  boolean;
  run       bigint;
  requests0 bigint;
  wsnap     text;
  ssnap     text;
  populated boolean;
  fallback  boolean;
  wrows     bigint;
  mapped    bigint;
  unattrib  bigint;
  srows     bigint;
  failed    boolean := false;
  err_state text;
  err_msg   text;
  err_detail text;
  err_hint  text;
  note      text;
BEGIN
  PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
  SELECT * INTO cfg FROM @extschema@.time_accounts t WHERE t.schema_name = schema;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'schema "%" has no time accounts', schema
      USING ERRCODE = 'undefined_object',
            HINT = format('SELECT tempo_fdw.create_time_accounts(%L);', schema);
  END IF;
  PERFORM @extschema@.refuse_transaction_block('refresh');
  PERFORM @extschema@.time_accounts_check_runner(schema, cfg.owner);
  requests0 := @extschema@.requests_made();

  SELECT l.taken, l.holder_pid, l.held_for, l.too_long INTO taken, holder, held, too_long
    FROM @extschema@.time_accounts_run_lock(schema) l;
  IF NOT taken THEN
    INSERT INTO @extschema@.refresh_log (schema_name, started_at, finished_at, outcome, error)
    VALUES (schema, clock_timestamp(), clock_timestamp(), 'skipped',
            CASE WHEN too_long THEN format('another run of this schema has held its lock for %s (backend %s), longer than max_run_time',
                                           held, holder)
                 ELSE 'another refresh of this schema was running' END);
    COMMIT;
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    IF too_long THEN
      RAISE EXCEPTION 'refresh of the time accounts in "%" skipped: another run has held the lock for %', schema, held
        USING ERRCODE = 'lock_not_available',
              DETAIL = format('Backend %s holds it; max_run_time of these time accounts is %s.', holder, cfg.max_run_time),
              HINT = 'Look at that backend in pg_stat_activity: end it if it is stuck (pg_cancel_backend), or raise tempo_fdw.time_accounts.max_run_time.';
    END IF;
    RAISE NOTICE 'another refresh of the time accounts in "%" is running: this one is skipped', schema;
    RETURN;
  END IF;

  run := @extschema@.run_begin(schema, 'refresh');
  COMMIT;
  PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
  IF NOT @extschema@.run_relock(schema, run) THEN
    RETURN;
  END IF;

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
      EXECUTE format('REFRESH MATERIALIZED VIEW %s %s', CASE WHEN populated THEN 'CONCURRENTLY' ELSE '' END, wsnap);
    END IF;
    IF @extschema@.relation_has_column(wsnap, 'attribution') THEN
      EXECUTE format($q$SELECT count(*), count(*) FILTER (WHERE source OPERATOR(pg_catalog.=) 'jira') > 0,
                               count(*) FILTER (WHERE attribution OPERATOR(pg_catalog.=) 'jira_mapped'),
                               count(*) FILTER (WHERE attribution OPERATOR(pg_catalog.=) 'unattributed')
                          FROM %s$q$, wsnap)
        INTO wrows, fallback, mapped, unattrib;
    ELSE
      EXECUTE format('SELECT count(*), count(*) FILTER (WHERE source = ''jira'') > 0 FROM %s', wsnap)
        INTO wrows, fallback;
      IF fallback THEN
        RAISE EXCEPTION 'the time accounts in "%" cannot attribute rows from the Jira fallback', schema
          USING ERRCODE = 'fdw_error',
                DETAIL = 'They were made before tempo_fdw 1.1: their rows from Jira would count for the Tempo app user.',
                HINT = format('Make them again: SELECT tempo_fdw.create_time_accounts(%L, ...);', schema);
      END IF;
    END IF;
    IF fallback AND NOT allow_fallback THEN
      RAISE EXCEPTION 'the worklogs came from the Jira fallback'
        USING ERRCODE = 'fdw_error',
              DETAIL = 'Jira attributes Tempo-made worklogs to the Tempo app user: the accounts would be wrong.';
    END IF;
    ssnap := @extschema@.checked_relation(schema, 'schedule_snapshot', cfg.owner);
    PERFORM @extschema@.activity_phase(NULL, NULL, NULL, 'schedules');
    IF fallback THEN
      -- Tempo cannot serve: its schedules stay as the last good run left them
      note := format('worklogs from the Jira fallback (allowed): %s attributed from the last good Tempo data, '
                     '%s unattributed (see time_account_unattributed); schedules kept from the last run',
                     coalesce(mapped, 0), coalesce(unattrib, wrows));
    ELSE
      IF cfg.mode = 'snapshot' THEN
        PERFORM @extschema@.keep_twins(schema, cfg.owner);
      END IF;
      -- the new days of Tempo's schedules, and the last ones again
      PERFORM @extschema@.refresh_schedules(schema, cfg.owner);
    END IF;
    EXECUTE format('SELECT count(*) FROM %s', ssnap) INTO srows;
  EXCEPTION WHEN OTHERS THEN
    -- the refreshes above are undone: the previous data stays
    GET STACKED DIAGNOSTICS err_state = RETURNED_SQLSTATE, err_msg = MESSAGE_TEXT,
                            err_detail = PG_EXCEPTION_DETAIL, err_hint = PG_EXCEPTION_HINT;
    failed := true;
    -- a person Tempo does not know: named, and where it comes from
    IF err_state = 'HV00R' AND err_msg ~ '/user-schedule/[^?/]+' THEN
      SELECT u.detail, u.hint INTO err_detail, err_hint
        FROM @extschema@.unknown_schedule_account(schema, err_msg) u;
    END IF;
  END;

  UPDATE @extschema@.refresh_log
     SET finished_at = clock_timestamp(),
         outcome = CASE WHEN failed THEN 'failed' ELSE 'ok' END,
         worklog_rows = wrows, schedule_rows = srows,
         worklog_source = CASE WHEN wrows IS NULL THEN NULL WHEN fallback THEN 'jira' ELSE 'tempo' END,
         mapped_rows = CASE WHEN wrows IS NULL THEN NULL ELSE coalesce(mapped, 0) END,
         unattributed_rows = CASE WHEN wrows IS NULL THEN NULL WHEN unattrib IS NOT NULL THEN unattrib
                                  WHEN fallback THEN wrows ELSE 0 END,
         requests = @extschema@.requests_made() - requests0,
         error = coalesce(err_msg, note)
   WHERE run_id = run;
  COMMIT;
  PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
  PERFORM @extschema@.activity_phase(NULL, NULL, NULL, NULL);

  IF failed THEN
    err_hint := format('%s%sThe previous data is unchanged; see tempo_fdw.refresh_log (run %s).',
                       err_hint, CASE WHEN err_hint <> '' THEN ' ' ELSE '' END, run);
  END IF;
  IF failed AND coalesce(err_detail, '') = '' THEN
    RAISE EXCEPTION 'refresh of the time accounts in "%" failed: %', schema, err_msg
      USING ERRCODE = err_state, HINT = err_hint;
  ELSIF failed THEN
    RAISE EXCEPTION 'refresh of the time accounts in "%" failed: %', schema, err_msg
      USING ERRCODE = err_state, DETAIL = err_detail, HINT = err_hint;
  ELSIF note IS NOT NULL THEN
    RAISE WARNING 'time accounts in "%": %', schema, note;
  END IF;
END $proc$;
