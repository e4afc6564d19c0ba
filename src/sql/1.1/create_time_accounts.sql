-- src/sql/1.1/create_time_accounts.sql: create_time_accounts: the objects of
-- a schema's time accounts made (or made again).
-- Part of tempo_fdw--1.0--1.1.sql, which make builds (see the Makefile).

-- Create (or replace) the time accounts of a schema (see above); the
-- snapshot refuses fallback rows; an earlier since reloads the store.
-- schedules, people, calendar, time_zone, count_today, absence_issue_ids:
-- see the part "time accounts as HR and team leads mean them" below;
-- schedules => 'tempo_or_local' asks Tempo once (check_connection) and takes
-- 'local', with a NOTICE, when the token may not read schedules (403).
DROP FUNCTION create_time_accounts(name, date, date, text, bigint[], boolean, text, text, integer);
CREATE FUNCTION create_time_accounts(
  schema    name,
  since     date DEFAULT (pg_catalog.date_trunc('year', pg_catalog.now()) - interval '1 year')::date,
  until     date DEFAULT NULL,
  logged    text DEFAULT 'time_spent',
  issue_ids bigint[] DEFAULT NULL,
  populate  boolean DEFAULT true,
  mode      text DEFAULT 'snapshot',
  deletions text DEFAULT 'delete',
  reconcile_days integer DEFAULT 90,
  schedules text DEFAULT 'tempo',
  people    text DEFAULT 'authors',
  calendar  text DEFAULT NULL,
  time_zone text DEFAULT NULL,
  count_today boolean DEFAULT false,
  absence_issue_ids bigint[] DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET client_min_messages = warning
AS $fn$
DECLARE
  s    text := quote_ident(schema);
  tz   text := coalesce(time_zone, current_setting('TimeZone'));
  -- the last day a snapshot keeps, and the last day the accounts count
  upto text;
  asof text;
  col  text := CASE logged WHEN 'billable' THEN 'coalesce(billable_seconds, 0)' ELSE 'time_spent_seconds' END;
  me   regrole := (SELECT r.oid FROM pg_roles r WHERE r.rolname = current_user)::regrole;
  prev regrole;
  prev_since date;
  rel  text;
  obj  record;
  fallback boolean;
  grants text[] := '{}';
  g    text;
  twin text;
  existed name[] := '{}';
  readers text[];
  probe record;
  fell_back boolean := false;
BEGIN
  IF logged IS NULL OR logged NOT IN ('time_spent', 'billable') THEN
    RAISE EXCEPTION 'logged must be ''time_spent'' or ''billable'', not %', quote_nullable(logged)
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF mode IS NULL OR mode NOT IN ('snapshot', 'sync') THEN
    RAISE EXCEPTION 'mode must be ''snapshot'' or ''sync'', not %', quote_nullable(mode)
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF deletions IS NULL OR deletions NOT IN ('delete', 'mark') THEN
    RAISE EXCEPTION 'deletions must be ''delete'' or ''mark'', not %', quote_nullable(deletions)
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF schedules IS NULL OR schedules NOT IN ('tempo', 'local', 'tempo_or_local') THEN
    RAISE EXCEPTION 'schedules must be ''tempo'', ''local'' or ''tempo_or_local'', not %', quote_nullable(schedules)
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF people IS NULL OR people NOT IN ('authors', 'listed') THEN
    RAISE EXCEPTION 'people must be ''authors'' or ''listed'', not %', quote_nullable(people)
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF calendar IS NOT NULL AND NOT EXISTS (SELECT 1 FROM @extschema@.holiday_calendars h WHERE h.calendar = create_time_accounts.calendar) THEN
    RAISE EXCEPTION 'holiday calendar % does not exist', quote_literal(calendar)
      USING ERRCODE = 'undefined_object',
            HINT = format('SELECT tempo_fdw.fill_holiday_calendar(%L, ''DE'', 2024, 2030);', calendar);
  END IF;
  BEGIN
    PERFORM now() AT TIME ZONE tz;
  EXCEPTION WHEN invalid_parameter_value THEN
    RAISE EXCEPTION 'time zone % is not known', quote_literal(tz)
      USING ERRCODE = 'invalid_parameter_value', HINT = 'Give a name from pg_timezone_names, e.g. ''Europe/Berlin''.';
  END;
  IF until IS NOT NULL AND until < since THEN
    RAISE EXCEPTION 'until (%) is before since (%)', until, since USING ERRCODE = 'invalid_parameter_value';
  END IF;
  upto := CASE WHEN until IS NULL THEN format('(pg_catalog.now() AT TIME ZONE %L)::date', tz)
               ELSE quote_literal(until) || '::date' END;
  asof := format('least(%s, (pg_catalog.now() AT TIME ZONE %L)::date - %s)',
                 quote_nullable(until) || '::date', tz, CASE WHEN count_today THEN 0 ELSE 1 END);
  -- their rows (people, contracts, runs) belong to the schema's owner
  IF NOT @extschema@.time_account_keeper(schema) THEN
    RAISE EXCEPTION 'schema "%" belongs to %: only its members keep time accounts there, not %', schema,
                    (SELECT n.nspowner::regrole FROM pg_namespace n WHERE n.nspname = schema), me
      USING ERRCODE = 'insufficient_privilege',
            HINT = 'Make them in a schema you own (CREATE SCHEMA ... AUTHORIZATION), or as a member of its owner.';
  END IF;
  -- accounts of another role are not taken over; a running refresh is waited for
  SELECT t.owner, t.since INTO prev, prev_since FROM @extschema@.time_accounts t WHERE t.schema_name = schema FOR NO KEY UPDATE;
  IF FOUND THEN
    PERFORM @extschema@.time_accounts_check_runner(schema, prev);
  END IF;
  IF @extschema@.checked_relation(schema, 'worklogs', me, 'worklogs', true) IS NULL
     OR @extschema@.checked_relation(schema, 'user_schedules', me, 'user_schedules', true) IS NULL THEN
    RAISE EXCEPTION 'schema "%" has no foreign tables worklogs and user_schedules', schema
      USING ERRCODE = 'undefined_table',
            HINT = format('IMPORT FOREIGN SCHEMA tempo FROM SERVER <server> INTO %s;', s);
  END IF;

  -- never populated from the Jira fallback (local to this call)
  PERFORM set_config('tempo_fdw.fallback', 'off', true);

  -- who may read the views (SELECT on daily, monthly or balance): given
  -- SELECT on the status, and on a weekly view an earlier call did not make
  SELECT coalesce(array_agg(DISTINCT coalesce(r.rolname, 'public')), '{}')
    INTO readers
    FROM @extschema@.time_account_objects o
    JOIN pg_class c ON c.oid = to_regclass(format('%I.%I', o.schema_name, o.object_name))
   CROSS JOIN LATERAL aclexplode(c.relacl) a
    LEFT JOIN pg_roles r ON r.oid = a.grantee
   WHERE o.schema_name = schema AND o.object_name IN ('time_account_daily', 'time_account_monthly', 'time_account_balance')
     AND a.privilege_type = 'SELECT' AND a.grantee <> c.relowner;

  -- tempo_or_local: Tempo's schedules if the token may read them, else local
  IF schedules = 'tempo_or_local' THEN
    SELECT c.ok, c.http_status, c.problem, c.hint INTO probe
      FROM @extschema@.check_connection((SELECT fs.srvname FROM pg_foreign_table ft
                                          JOIN pg_foreign_server fs ON fs.oid = ft.ftserver
                                         WHERE ft.ftrelid = to_regclass(format('%I.user_schedules', schema)))) c
     WHERE c.source = 'tempo schedules';
    IF probe.ok THEN
      schedules := 'tempo';
    ELSIF probe.http_status = 403 THEN
      schedules := 'local';
      fell_back := true;
      -- said whatever the caller's client_min_messages (this function sets warning)
      PERFORM set_config('client_min_messages', 'notice', true);
      RAISE NOTICE 'the Tempo token of schema "%" cannot read user schedules: the accounts take required time from contracts and local holiday calendars (schedules => ''local'')', schema
        USING DETAIL = 'Tempo answered 403 to a schedule request: the token lacks "View schemes".',
              HINT = format('tempo_fdw.time_accounts records schedules = ''local''. With a token that has "View schemes", make the accounts again: SELECT tempo_fdw.create_time_accounts(%L, schedules => ''tempo'', ...);', schema);
      PERFORM set_config('client_min_messages', 'warning', true);
    ELSE
      RAISE EXCEPTION 'cannot tell whether the Tempo token of schema "%" may read user schedules: %', schema, coalesce(probe.problem, 'no answer')
        USING ERRCODE = 'fdw_unable_to_establish_connection',
              DETAIL = format('tempo_fdw.check_connection: HTTP status %s.', coalesce(probe.http_status::text, 'none')),
              HINT = coalesce(probe.hint, 'Run SELECT * FROM tempo_fdw.check_connection(<server>); or choose schedules => ''tempo'' or ''local''.');
    END IF;
  END IF;

  -- replace what an earlier call made, and nothing else (no CASCADE: a
  -- user's view on ours makes this fail rather than vanish)
  FOR obj IN SELECT n.name FROM (VALUES (0, 'time_account_unaccounted'::name), (1, 'time_account_unattributed'),
                                        (2, 'time_account_balance'), (3, 'time_account_monthly'),
                                        (4, 'time_account_daily'), (5, 'schedule_snapshot'),
                                        (6, 'schedule_fetched'), (7, 'worklog_snapshot'), (-1, 'time_account_status'),
                                        (-2, 'time_account_weekly'), (8, 'time_account_figures'),
                                        (-3, 'time_account_team_monthly'), (9, 'person_name_snapshot'),
                                        (10, 'team_membership_snapshot')) n(pos, name) ORDER BY n.pos LOOP
    rel := @extschema@.checked_relation(schema, obj.name, me, NULL, true);
    IF rel IS NOT NULL THEN
      existed := existed || obj.name;
      -- its grants (a BI role's SELECT) are given again to what replaces it
      SELECT grants || coalesce(array_agg(format('GRANT %s ON %I.%I TO %I%s', a.privilege_type, schema, obj.name,
                                                 coalesce(r.rolname, 'public'),
                                                 CASE WHEN a.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END)), '{}')
        INTO grants
        FROM pg_class c CROSS JOIN LATERAL aclexplode(c.relacl) a
        LEFT JOIN pg_roles r ON r.oid = a.grantee
       WHERE c.oid = to_regclass(rel) AND a.grantee <> c.relowner;
      -- (checked_relation locked it: the names still mean it)
      EXECUTE format(CASE (SELECT o.kind FROM @extschema@.time_account_objects o
                            WHERE o.schema_name = schema AND o.object_name = obj.name)
                       WHEN 'table' THEN 'DROP TABLE %I.%I' WHEN 'view' THEN 'DROP VIEW %I.%I'
                       ELSE 'DROP MATERIALIZED VIEW %I.%I' END, schema, obj.name);
    END IF;
    DELETE FROM @extschema@.time_account_objects o WHERE o.schema_name = schema AND o.object_name = obj.name;
  END LOOP;
  EXECUTE format('DROP FUNCTION IF EXISTS %I.time_account_live(text[])', schema);

  -- each worklog's Jira twin, when the foreign table has the column
  twin := CASE WHEN @extschema@.relation_has_column(format('%I.worklogs', schema), 'jira_worklog_id')
               THEN 'w.jira_worklog_id' ELSE 'NULL::bigint' END;
  IF mode = 'snapshot' THEN
    -- the Jira twins of the last good Tempo data: a fallback row whose id
    -- is there goes to its worker (kept when the accounts are made again)
    IF @extschema@.checked_relation(schema, 'worklog_twins', me, NULL, true) IS NULL THEN
      DELETE FROM @extschema@.time_account_objects o WHERE o.schema_name = schema AND o.object_name = 'worklog_twins';
      EXECUTE format($q$
        CREATE TABLE %1$I.worklog_twins (
          jira_worklog_id bigint PRIMARY KEY, worklog_id bigint NOT NULL,
          account_id text NOT NULL, billable_seconds integer)$q$, schema);
      EXECUTE format($c$COMMENT ON TABLE %I.worklog_twins IS 'The Jira twin of each worklog of the last tempo_fdw.refresh that read Tempo, with its worker and billable time: what a refresh from the Jira fallback attributes rows with'$c$, schema);
      INSERT INTO @extschema@.time_account_objects (schema_name, object_name, kind) VALUES (schema, 'worklog_twins', 'table');
    END IF;
    EXECUTE format($q$
      CREATE MATERIALIZED VIEW %1$I.worklog_snapshot AS
      SELECT coalesce(t.worklog_id, w.worklog_id) AS worklog_id, w.source, w.issue_id,
             CASE WHEN w.source OPERATOR(pg_catalog.=) 'tempo' THEN w.author_account_id ELSE t.account_id END AS account_id,
             w.start_date, w.time_spent_seconds,
             CASE WHEN w.source OPERATOR(pg_catalog.=) 'tempo' THEN w.billable_seconds ELSE t.billable_seconds END AS billable_seconds,
             w.updated_at, %6$s AS jira_worklog_id,
             CASE WHEN w.source OPERATOR(pg_catalog.=) 'tempo' THEN 'tempo'
                  WHEN t.worklog_id IS NOT NULL THEN 'jira_mapped' ELSE 'unattributed' END AS attribution
        FROM %1$I.worklogs w
        LEFT JOIN %1$I.worklog_twins t
               ON w.source OPERATOR(pg_catalog.<>) 'tempo' AND t.jira_worklog_id OPERATOR(pg_catalog.=) %6$s
       WHERE w.start_date >= %2$L::date AND w.start_date <= %3$s %4$s
         AND (w.source OPERATOR(pg_catalog.=) 'tempo' OR @extschema@.snapshot_fallback_guard(%5$L, w.source))
      WITH NO DATA$q$, schema, since, upto,
      CASE WHEN issue_ids IS NULL THEN '' ELSE format('AND w.issue_id = ANY (%L::bigint[])', issue_ids || absence_issue_ids) END, schema, twin);
    EXECUTE format('CREATE UNIQUE INDEX ON %I.worklog_snapshot (attribution, worklog_id)', schema);
  ELSE
    -- the store keeps its rows when the accounts are made again; a store
    -- create_time_accounts did not make is never taken over
    IF @extschema@.checked_relation(schema, 'worklog_store', me, NULL, true) IS NULL THEN
      DELETE FROM @extschema@.time_account_objects o WHERE o.schema_name = schema AND o.object_name = 'worklog_store';
      EXECUTE format($q$
        CREATE TABLE %1$I.worklog_store (
          worklog_id bigint PRIMARY KEY, source text NOT NULL, issue_id bigint NOT NULL,
          author_account_id text, start_date date NOT NULL, start_time time,
          started_at timestamptz, time_spent_seconds integer NOT NULL, billable_seconds integer,
          description text, created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL,
          attributes jsonb, last_seen_at timestamptz NOT NULL, deleted_at timestamptz,
          jira_worklog_id bigint, attribution text NOT NULL DEFAULT 'tempo'
            CHECK (attribution IN ('tempo', 'jira_mapped', 'unattributed')),
          CHECK (author_account_id IS NOT NULL OR attribution = 'unattributed'))$q$, schema);
      EXECUTE format('CREATE INDEX worklog_store_start_date ON %I.worklog_store (start_date)', schema);
      EXECUTE format($c$COMMENT ON TABLE %I.worklog_store IS 'Tempo worklogs kept in step by tempo_fdw.sync: changes since the watermark, deletions from the audit log or a trailing window'$c$, schema);
      INSERT INTO @extschema@.time_account_objects (schema_name, object_name, kind) VALUES (schema, 'worklog_store', 'table');
    ELSIF prev_since IS NOT NULL AND since < prev_since THEN
      -- an earlier start: the next sync reads everything since "since" again
      -- and reconciles the whole store
      UPDATE @extschema@.sync_state x SET watermark = NULL WHERE x.schema_name = schema;
    END IF;
    IF NOT @extschema@.relation_has_column(format('%I.worklog_store', schema), 'attribution') THEN
      EXECUTE format('ALTER TABLE %I.worklog_store ADD COLUMN jira_worklog_id bigint, ADD COLUMN attribution text NOT NULL DEFAULT %L '
                     'CHECK (attribution IN (''tempo'', ''jira_mapped'', ''unattributed'')), '
                     'ALTER COLUMN author_account_id DROP NOT NULL, '
                     'ADD CHECK (author_account_id IS NOT NULL OR attribution = ''unattributed'')', schema, 'tempo');
    END IF;
    EXECUTE format($q$
      CREATE VIEW %1$I.worklog_snapshot AS
      SELECT CASE WHEN attribution OPERATOR(pg_catalog.=) 'unattributed' THEN jira_worklog_id ELSE worklog_id END AS worklog_id,
             source, issue_id,
             CASE WHEN attribution OPERATOR(pg_catalog.=) 'unattributed' THEN NULL ELSE author_account_id END AS account_id,
             start_date, time_spent_seconds, billable_seconds, updated_at, jira_worklog_id, attribution
        FROM %1$I.worklog_store
       WHERE deleted_at IS NULL AND start_date >= %2$L::date AND start_date <= %3$s %4$s$q$, schema, since, upto,
      CASE WHEN issue_ids IS NULL THEN '' ELSE format('AND issue_id = ANY (%L::bigint[])', issue_ids || absence_issue_ids) END);
  END IF;
  -- Tempo's schedules of the people with accounts, fetched incrementally
  -- (refresh_schedules; empty with schedules => 'local', never read)
  EXECUTE format($q$
    CREATE TABLE %1$I.schedule_snapshot (
      account_id text NOT NULL, date date NOT NULL, required_seconds integer, day_type text,
      holiday_name text, holiday_seconds integer, PRIMARY KEY (account_id, date));
    CREATE TABLE %1$I.schedule_fetched (
      account_id text PRIMARY KEY, first_day date NOT NULL, last_day date NOT NULL,
      fetched_at timestamptz NOT NULL)$q$, schema);
  -- what the monthly and balance views read (materialise_accounts)
  EXECUTE format($q$
    CREATE TABLE %1$I.time_account_figures (
      account_id text NOT NULL, month date NOT NULL, last_day date NOT NULL,
      required_seconds bigint NOT NULL, logged_seconds bigint NOT NULL, PRIMARY KEY (account_id, last_day))$q$, schema);

  -- the names and teams of the people (lookups.sql)
  PERFORM @extschema@.lookup_caches(schema);

  PERFORM @extschema@.time_account_views(schema, since, asof, col, schedules, people, calendar, absence_issue_ids);
  PERFORM @extschema@.time_account_team_view(schema);
  PERFORM @extschema@.time_account_status_view(schema, asof, mode, schedules);

  -- fallback rows of no known worker: counted for nobody, shown here
  EXECUTE format($q$
    CREATE VIEW %1$I.time_account_unattributed AS
    SELECT start_date AS date, issue_id, sum(time_spent_seconds)::bigint AS seconds
      FROM %1$I.worklog_snapshot
     WHERE attribution OPERATOR(pg_catalog.=) 'unattributed'
     GROUP BY 1, 2$q$, schema);

  -- what BI tools show
  EXECUTE format($c$
    COMMENT ON %3$s %1$I.worklog_snapshot IS 'Tempo worklogs the time accounts count, as of the last tempo_fdw.refresh';
    COMMENT ON TABLE %1$I.schedule_snapshot IS %4$L;
    COMMENT ON TABLE %1$I.schedule_fetched IS 'Per person, the days of Tempo''s schedule in schedule_snapshot (first_day to last_day) and when they were last fetched';
    COMMENT ON COLUMN %1$I.time_account_daily.logged_seconds IS 'Logged time (%2$s) of worklogs on the day';
    COMMENT ON COLUMN %1$I.time_account_balance.as_of IS %5$L;
    COMMENT ON COLUMN %1$I.worklog_snapshot.jira_worklog_id IS 'Id of the worklog''s twin in Jira';
    COMMENT ON COLUMN %1$I.worklog_snapshot.attribution IS 'tempo: from Tempo; jira_mapped: from the Jira fallback, worker and billable time from the last good Tempo data; unattributed: from the Jira fallback with no known worker (account_id NULL)';
    COMMENT ON VIEW %1$I.time_account_unattributed IS 'Time from the Jira fallback that no worker is known for (made while Tempo could not be read): counted in no account until the next refresh from Tempo';
    COMMENT ON COLUMN %1$I.time_account_unattributed.date IS 'Day of the work (Jira''s started, in its offset)';
    COMMENT ON COLUMN %1$I.time_account_unattributed.issue_id IS 'Jira issue id';
    COMMENT ON COLUMN %1$I.time_account_unattributed.seconds IS 'Logged time in seconds'
  $c$, schema, CASE logged WHEN 'billable' THEN 'billable seconds' ELSE 'time spent' END,
     CASE mode WHEN 'sync' THEN 'VIEW' ELSE 'MATERIALIZED VIEW' END,
     CASE schedules WHEN 'tempo' THEN 'Tempo user schedules of the people with accounts, fetched incrementally by tempo_fdw.refresh and sync (see schedule_fetched)'
          ELSE 'Empty: these accounts take required time from contracts and local holiday calendars (schedules => local)' END,
     format('The last day counted: %s in %s%s', CASE WHEN count_today THEN 'today' ELSE 'yesterday' END, tz,
            CASE WHEN until IS NULL THEN '' ELSE format(', at most %s', until) END));

  FOREACH g IN ARRAY grants LOOP
    EXECUTE g;
  END LOOP;
  FOREACH g IN ARRAY readers LOOP
    IF NOT 'time_account_weekly' = ANY (existed) THEN
      EXECUTE format('GRANT SELECT ON %I.time_account_weekly TO %I', schema, g);
    END IF;
    IF NOT 'time_account_team_monthly' = ANY (existed) THEN
      EXECUTE format('GRANT SELECT ON %I.time_account_team_monthly TO %I', schema, g);
    END IF;
    EXECUTE format('GRANT SELECT ON %I.time_account_status TO %I', schema, g);
  END LOOP;

  INSERT INTO @extschema@.time_account_objects (schema_name, object_name, kind)
  VALUES (schema, 'worklog_snapshot', CASE mode WHEN 'sync' THEN 'view' ELSE 'materialized view' END),
         (schema, 'schedule_snapshot', 'table'), (schema, 'schedule_fetched', 'table'), (schema, 'time_account_daily', 'view'),
         (schema, 'time_account_monthly', 'view'), (schema, 'time_account_balance', 'view'),
         (schema, 'time_account_unaccounted', 'view'), (schema, 'time_account_unattributed', 'view'),
         (schema, 'time_account_weekly', 'view'), (schema, 'time_account_status', 'view'),
         (schema, 'time_account_figures', 'table'), (schema, 'time_account_team_monthly', 'view'),
         (schema, 'person_name_snapshot', 'table'), (schema, 'team_membership_snapshot', 'table');
  INSERT INTO @extschema@.time_accounts AS t (schema_name, since, until, logged, issue_ids, mode, deletions, reconcile_days, owner,
                                              schedules, people, calendar, time_zone, count_today, absence_issue_ids)
  VALUES (schema, since, until, logged, issue_ids, mode, deletions, reconcile_days, me,
          schedules, people, calendar, tz, count_today, absence_issue_ids)
  ON CONFLICT (schema_name) DO UPDATE
    SET since = excluded.since, until = excluded.until, logged = excluded.logged,
        issue_ids = excluded.issue_ids, mode = excluded.mode, deletions = excluded.deletions,
        reconcile_days = excluded.reconcile_days, owner = excluded.owner, created_at = now(),
        schedules = excluded.schedules, people = excluded.people, calendar = excluded.calendar,
        time_zone = excluded.time_zone, count_today = excluded.count_today,
        absence_issue_ids = excluded.absence_issue_ids;
  -- no figures yet: the views count live until materialise_accounts
  INSERT INTO @extschema@.time_account_freshness AS f (schema_name, params, stale_since)
  SELECT schema, @extschema@.time_account_figures_params(t), now() FROM @extschema@.time_accounts t WHERE t.schema_name = schema
  ON CONFLICT (schema_name) DO UPDATE
    SET params = excluded.params, figures_through = NULL, figures_horizon = NULL, figures_at = NULL,
        stale_all = true, stale_accounts = '{}', stale_since = excluded.stale_since,
        names_at = NULL, names_problem = NULL, teams_at = NULL, teams_problem = NULL;

  IF populate AND mode = 'sync' THEN
    PERFORM @extschema@.sync_run(schema);
  ELSIF populate THEN
    EXECUTE format('REFRESH MATERIALIZED VIEW %I.worklog_snapshot', schema);
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I.worklog_snapshot WHERE source = ''jira'')', schema) INTO fallback;
    IF fallback THEN
      RAISE EXCEPTION 'the worklogs of "%" came from the Jira fallback', schema
        USING ERRCODE = 'fdw_error',
              HINT = 'Fix the Tempo connection (tempo_fdw.check_connection), or create the accounts with populate => false and refresh later.';
    END IF;
    PERFORM @extschema@.keep_twins(schema, me);
  END IF;
  IF populate THEN
    BEGIN
      PERFORM @extschema@.refresh_schedules(schema, me, true);
    EXCEPTION WHEN fdw_table_not_found THEN
      -- (refresh_schedules named the account in the detail and hint)
      GET STACKED DIAGNOSTICS g = MESSAGE_TEXT, rel = PG_EXCEPTION_DETAIL, twin = PG_EXCEPTION_HINT;
      IF g !~ '/user-schedule/[^?/]+' THEN
        RAISE;
      END IF;
      RAISE EXCEPTION 'the schedules of the time accounts in "%" could not be read: %', schema, g
        USING ERRCODE = 'fdw_table_not_found', DETAIL = rel, HINT = twin;
    END;
    PERFORM @extschema@.materialise_accounts(schema);
    -- the names and teams: never a failure of the accounts
    g := @extschema@.read_lookups(schema, me);
    IF g IS NOT NULL THEN
      RAISE WARNING 'time accounts in "%": %', schema, g
        USING HINT = 'The accounts are made; see names_problem and teams_problem in time_account_status.';
    END IF;
  END IF;
  RETURN format('time accounts in schema %s from %s to %s%s', s, since, coalesce(until::text, 'today'),
                CASE WHEN fell_back THEN ' (schedules => local: the token cannot read Tempo''s schedules)' ELSE '' END);
END $fn$;
COMMENT ON FUNCTION create_time_accounts(name, date, date, text, bigint[], boolean, text, text, integer, text, text, text, text, boolean, bigint[]) IS
  'Creates (or replaces) time account views over the Tempo foreign tables of a schema: daily, monthly and balance, from contracts, Tempo schedules or local calendars, people and absences';
