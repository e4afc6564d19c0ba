-- src/sql/1.1/drop_time_accounts.sql: drop_time_accounts: what
-- create_time_accounts made removed, with its pg_cron jobs.
-- Part of tempo_fdw--1.0--1.1.sql, which make builds (see the Makefile).

-- ======================================================================
-- 1.1: a clean uninstall (issue #15): drop_time_accounts.
--
-- Removes what create_time_accounts made in a schema, and nothing else:
-- only relations recorded in time_account_objects that are still of the
-- recorded kind and owner (checked_relation, after a lock); one of that
-- name made by another role stays, with a WARNING and a row saying so.
-- The store only when asked; the schema's rows of time_accounts,
-- time_account_objects and sync_state go (refresh_log keeps its history).
-- pg_cron jobs of this database whose whole command is one call of
-- tempo_fdw.refresh or tempo_fdw.sync with this schema as first argument
-- are unscheduled; a job that names the schema otherwise stays, with a
-- WARNING.  pg_cron shows a role other than a superuser its own jobs only,
-- so such a role unschedules its own.  Only the accounts' owner or a
-- superuser may call it; it runs no code of another role (search_path
-- pinned, objects locked and checked, dropped without CASCADE).
-- ======================================================================

-- One call of tempo_fdw.refresh or tempo_fdw.sync and nothing else: the
-- schema argument (a string constant, first or named "schema"), else NULL.
CREATE FUNCTION cron_command_schema(command text)
RETURNS name
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
  m text[] := regexp_match(command,
    '^\s*call\s+("tempo_fdw"|tempo_fdw)\s*\.\s*("refresh"|"sync"|refresh|sync)\s*\(\s*'
    '(?:("schema"|schema)\s*=>\s*)?''((?:[^'']|'''')*)''(?:\s*::\s*(?:pg_catalog\s*\.\s*)?(?:name|text))?'
    '\s*(?:,[^;]*)?\)\s*;?\s*$', 'i');
BEGIN
  -- a quoted name is case-sensitive: "TEMPO_FDW" is another schema
  IF m IS NULL OR (m[1] LIKE '"%' AND m[1] <> '"tempo_fdw"') OR (m[2] LIKE '"%' AND m[2] NOT IN ('"refresh"', '"sync"'))
     OR (m[3] LIKE '"%' AND m[3] <> '"schema"') THEN
    RETURN NULL;
  END IF;
  RETURN replace(m[4], '''''', '''');
END $fn$;

-- The pg_cron jobs of this database for a schema's accounts: unscheduled
-- when their command is one call of refresh or sync for the schema; a
-- row per job, and per reason some were not looked at.  Any role may call
-- it: it unschedules only jobs the caller could unschedule itself.
CREATE FUNCTION drop_time_accounts_jobs(schema name, OUT object text, OUT outcome text)
RETURNS SETOF record
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
  cron_nsp   name;   -- the schema of cron.job and cron.unschedule(bigint), if they are pg_cron's
  cron_job   name;
  cron_unsch name;
  unsch_nsp  name;
  j          jsonb;
  target     name;
BEGIN
  SELECT c.relname, n.nspname INTO cron_job, cron_nsp
    FROM pg_extension e
    JOIN pg_depend d ON d.refclassid = 'pg_extension'::regclass AND d.refobjid = e.oid AND d.deptype = 'e'
                    AND d.classid = 'pg_class'::regclass
    JOIN pg_class c ON c.oid = d.objid AND c.relname = 'job' AND c.relkind = 'r'
    JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE e.extname = 'pg_cron';
  SELECT p.proname, n.nspname INTO cron_unsch, unsch_nsp
    FROM pg_extension e
    JOIN pg_depend d ON d.refclassid = 'pg_extension'::regclass AND d.refobjid = e.oid AND d.deptype = 'e'
                    AND d.classid = 'pg_proc'::regclass
    JOIN pg_proc p ON p.oid = d.objid AND p.proname = 'unschedule' AND p.proargtypes = '20'::oidvector
    JOIN pg_namespace n ON n.oid = p.pronamespace
   WHERE e.extname = 'pg_cron';
  object := 'pg_cron jobs';
  IF cron_job IS NULL OR cron_unsch IS NULL THEN
    outcome := 'not looked at: pg_cron is not installed in this database (jobs that cron.schedule_in_database '
               'made for it live in the database of cron.database_name: cron.unschedule them there)';
    RETURN NEXT;
    RETURN;
  ELSIF NOT has_schema_privilege(cron_nsp, 'USAGE') OR NOT has_table_privilege(format('%I.%I', cron_nsp, cron_job)::regclass, 'SELECT')
        OR NOT has_function_privilege(format('%I.%I(bigint)', unsch_nsp, cron_unsch)::regprocedure, 'EXECUTE') THEN
    outcome := 'not looked at: this role may not use pg_cron (USAGE on its schema), so it has no jobs to remove';
    RETURN NEXT;
    RETURN;
  END IF;
  IF NOT (SELECT r.rolsuper FROM pg_roles r WHERE r.rolname = current_user) THEN
    outcome := 'only this role''s jobs were looked at: pg_cron shows and unschedules no other role''s '
               'but to a superuser; jobs of other roles for this schema stay';
    RETURN NEXT;
  END IF;
  FOR j IN EXECUTE format('SELECT to_jsonb(x) FROM %I.%I x WHERE x.database = current_database() ORDER BY x.jobid',
                          cron_nsp, cron_job) LOOP
    object := format('pg_cron job %s%s of %s: %s', j ->> 'jobid', coalesce(' ' || quote_ident(j ->> 'jobname'), ''),
                     quote_ident(j ->> 'username'), j ->> 'command');
    target := @extschema@.cron_command_schema(j ->> 'command');
    IF target = schema THEN
      EXECUTE format('SELECT %I.%I($1)', unsch_nsp, cron_unsch) USING (j ->> 'jobid')::bigint;
      outcome := 'unscheduled';
      RETURN NEXT;
    ELSIF target IS NULL AND strpos(j ->> 'command', schema) > 0 AND (j ->> 'command') ~* '(refresh|sync)' THEN
      outcome := 'left in place: it names the schema but is not one call of tempo_fdw.refresh or tempo_fdw.sync for it';
      RAISE WARNING '% was left in place', object
        USING DETAIL = 'Its command is not one CALL of tempo_fdw.refresh or tempo_fdw.sync with this schema as a string constant.',
              HINT = format('If it only ran the accounts of "%s": SELECT cron.unschedule(%s);', schema, j ->> 'jobid');
      RETURN NEXT;
    END IF;
  END LOOP;
END $fn$;

-- Remove the time accounts of a schema (see the header of this part).
-- Returns a row per object and pg_cron job: what was done with it.
CREATE FUNCTION drop_time_accounts(schema name, drop_store boolean DEFAULT false)
RETURNS TABLE (object text, outcome text)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
  me    regrole := (SELECT r.oid FROM pg_roles r WHERE r.rolname = current_user)::regrole;
  acct  regrole;
  o     record;
  rel   text;
  msg   text;
  det   text;
BEGIN
  SELECT t.owner INTO acct FROM @extschema@.time_accounts t WHERE t.schema_name = schema;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'schema "%" has no time accounts', schema
      USING ERRCODE = 'undefined_object',
            HINT = 'SELECT schema_name FROM tempo_fdw.time_accounts; lists the schemas that have them.';
  END IF;
  IF acct::oid <> me::oid AND NOT (SELECT r.rolsuper FROM pg_roles r WHERE r.oid = me::oid) THEN
    RAISE EXCEPTION 'the time accounts in "%" belong to %, not to %', schema, acct, me
      USING ERRCODE = 'insufficient_privilege',
            DETAIL = 'Only their owner or a superuser removes them.',
            HINT = format('Run it as %s (SET ROLE) or as a superuser.', acct);
  END IF;
  -- a running refresh or sync is waited for; none starts until the end
  PERFORM FROM @extschema@.time_accounts t WHERE t.schema_name = schema FOR UPDATE;

  FOR o IN SELECT x.object_name, x.kind FROM @extschema@.time_account_objects x
            WHERE x.schema_name = schema
            ORDER BY array_position(ARRAY['time_account_status', 'time_account_weekly', 'time_account_team_monthly',
                                          'time_account_unaccounted', 'time_account_unattributed', 'time_account_balance',
                                          'time_account_monthly', 'time_account_daily', 'schedule_snapshot', 'schedule_fetched', 'worklog_snapshot',
                                          'worklog_twins', 'worklog_store', 'time_account_figures',
                                          'person_name_snapshot', 'team_membership_snapshot']::name[], x.object_name)
  LOOP
    object := format('%s %I.%I', o.kind, schema, o.object_name);
    IF o.object_name = 'worklog_store' AND NOT drop_store THEN
      outcome := 'kept (drop_store => false): an ordinary table now, no longer used by tempo_fdw';
      RETURN NEXT;
      CONTINUE;
    END IF;
    BEGIN
      -- locked and checked: recorded, of the recorded kind, of the owner
      rel := @extschema@.checked_relation(schema, o.object_name, acct, NULL, true);
    EXCEPTION WHEN wrong_object_type OR insufficient_privilege OR duplicate_table THEN
      GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL;
      outcome := 'left in place: ' || msg;
      RAISE WARNING '% was left in place: it is not what create_time_accounts made', object
        USING DETAIL = format('%s (%s)', msg, det),
              HINT = 'Look at it: drop it yourself if it is not wanted.';
      RETURN NEXT;
      CONTINUE;
    END;
    IF rel IS NULL THEN
      outcome := 'already gone';
    ELSE
      BEGIN
        -- (checked_relation locked it: the names still mean it)
        EXECUTE format(CASE o.kind WHEN 'table' THEN 'DROP TABLE %I.%I'
                                   WHEN 'view' THEN 'DROP VIEW %I.%I'
                                   ELSE 'DROP MATERIALIZED VIEW %I.%I' END,
                       schema, o.object_name);
      EXCEPTION WHEN dependent_objects_still_exist THEN
        GET STACKED DIAGNOSTICS det = PG_EXCEPTION_DETAIL;
        RAISE EXCEPTION 'cannot drop %: other objects depend on it', object
          USING ERRCODE = 'dependent_objects_still_exist', DETAIL = det,
                HINT = 'They are not tempo_fdw''s: drop or change them, then call drop_time_accounts again (nothing was removed).';
      END;
      outcome := 'dropped';
    END IF;
    RETURN NEXT;
  END LOOP;

  IF to_regprocedure(format('%I.time_account_live(text[])', schema)) IS NOT NULL THEN
    object := format('function %I.time_account_live(text[])', schema);
    EXECUTE format('DROP FUNCTION %I.time_account_live(text[])', schema);
    outcome := 'dropped';
    RETURN NEXT;
  END IF;
  DELETE FROM @extschema@.time_account_objects x WHERE x.schema_name = schema;
  DELETE FROM @extschema@.sync_state x WHERE x.schema_name = schema;
  DELETE FROM @extschema@.time_account_freshness x WHERE x.schema_name = schema;
  DELETE FROM @extschema@.time_accounts t WHERE t.schema_name = schema;
  RETURN QUERY SELECT j.object, j.outcome FROM @extschema@.drop_time_accounts_jobs(schema) j;
END $fn$;

COMMENT ON FUNCTION cron_command_schema(text) IS
  'The schema a pg_cron command runs tempo_fdw.refresh or tempo_fdw.sync for, when it is one such call and nothing else';
COMMENT ON FUNCTION drop_time_accounts_jobs(name) IS
  'Unschedules the pg_cron jobs of this database that run tempo_fdw.refresh or sync for a schema; a row per job';
COMMENT ON FUNCTION drop_time_accounts(name, boolean) IS
  'Removes what create_time_accounts made in a schema (the store only with drop_store), its rows and pg_cron jobs; a row per object';
