-- src/sql/1.1/figures.sql: materialised time accounts: the figures the
-- monthly and balance views read, kept fresh or computed live (issue #14, item 8).
-- Part of tempo_fdw--1.0--1.1.sql, which make builds (see the Makefile).

-- ======================================================================
-- 1.1: materialised time accounts (issue #14, item 8).
--
-- time_account_monthly and time_account_balance read per (person, month)
-- figures that refresh, sync and create_time_accounts (populate) write
-- into <schema>.time_account_figures, in the transaction that writes the
-- worklogs (materialise_accounts): required and logged seconds of the days
-- up to the last day counted, summed per month, and of the days after it
-- up to a horizon (the last day the worklogs reach: today in sync mode, a
-- week ahead in snapshot mode, which reads nothing new until its next
-- refresh) one row per day, so that the views stay exact as the last day
-- counted moves on.  Adjustments and opening balances stay live (a small
-- ledger).  The figures are never shown stale:
-- - a change of people, absences, contracts or holidays marks, in the
--   same transaction, the people it touches (a statement trigger, per
--   person; more than stale_accounts_max of them, a holiday of a schema's
--   own calendar, a TRUNCATE: the whole schema) in time_account_freshness;
--   the views compute those people live (from time_account_daily, as
--   before) until the next run or materialise_accounts;
-- - so do they for everyone when the last day counted has left
--   [figures_through, figures_horizon] (no run for longer than that), when
--   nothing was materialised yet, or when time_account_freshness has no
--   row for the schema (restored by pg_dump: it is not configuration);
-- - time_account_status says which (figures_*).
-- materialise_accounts locks the schema's row of time_account_freshness
-- before it reads: an HR change committed before is in the figures; one
-- committing later waits for it and marks its people afterwards.
-- ======================================================================

CREATE TABLE time_account_freshness (
  schema_name     name PRIMARY KEY,
  params          text NOT NULL,
  figures_through date,
  figures_horizon date,
  figures_at      timestamptz,
  stale_all       boolean NOT NULL DEFAULT true,
  stale_accounts  text[] NOT NULL DEFAULT '{}',
  stale_since     timestamptz,
  names_at        timestamptz,
  names_problem   text,
  teams_at        timestamptz,
  teams_problem   text,
  CHECK (figures_horizon >= figures_through)
);
COMMENT ON TABLE time_account_freshness IS
  'Per time-account schema: how far its materialised figures (time_account_figures) reach, and whose figures HR changes made stale (computed live until the next run)';
COMMENT ON COLUMN time_account_freshness.params IS 'The settings the accounts'' views were made with (with others, materialise_accounts leaves everyone live)';
COMMENT ON COLUMN time_account_freshness.figures_through IS 'The last day counted when the figures were computed: months are summed up to it';
COMMENT ON COLUMN time_account_freshness.figures_horizon IS 'The figures hold single days after figures_through up to this day; later the views compute every account live';
COMMENT ON COLUMN time_account_freshness.figures_at IS 'When the figures were computed (NULL: never)';
COMMENT ON COLUMN time_account_freshness.stale_all IS 'Whether every account is computed live (no figures yet, a holiday of the accounts'' calendar changed, too many people changed)';
COMMENT ON COLUMN time_account_freshness.stale_accounts IS 'People whose HR data changed since the figures were computed: computed live';
COMMENT ON COLUMN time_account_freshness.stale_since IS 'When the first of these changes was made';
COMMENT ON COLUMN time_account_freshness.names_at IS 'When person_name_snapshot was last read from jira_users (lookups.sql)';
COMMENT ON COLUMN time_account_freshness.names_problem IS 'Why the last read of the names failed (SQLSTATE: message), NULL when it did not';
COMMENT ON COLUMN time_account_freshness.teams_at IS 'When team_membership_snapshot was last read from tempo_team_memberships';
COMMENT ON COLUMN time_account_freshness.teams_problem IS 'Why the last read of the team memberships failed, NULL when it did not';
ALTER TABLE time_account_freshness ENABLE ROW LEVEL SECURITY;
CREATE POLICY keepers ON time_account_freshness USING (@extschema@.time_account_keeper(schema_name))
  WITH CHECK (@extschema@.time_account_keeper(schema_name));
CREATE POLICY readers ON time_account_freshness FOR SELECT USING (@extschema@.time_account_reader(schema_name));

-- More people marked stale in one schema than this make the whole schema
-- stale: one live computation of everyone is cheaper than one per person.
CREATE FUNCTION stale_accounts_max() RETURNS integer
LANGUAGE sql IMMUTABLE AS 'SELECT 20';
COMMENT ON FUNCTION stale_accounts_max() IS
  'How many people of a schema may be marked stale before the whole schema is (see time_account_freshness)';

-- The settings that make a schema's views (and so its figures) what they
-- are, as one text: recorded when the views are made, compared before
-- every materialisation.
CREATE FUNCTION time_account_figures_params(t time_accounts)
RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
AS $$
  SELECT pg_catalog.format('%s|%s|%s|%s|%s|%s|%s|%s|%s|%s', t.since, t.until, t.logged, t.mode, t.schedules, t.people,
                           t.calendar, t.time_zone, t.count_today, t.absence_issue_ids)
$$;
COMMENT ON FUNCTION time_account_figures_params(time_accounts) IS
  'The settings of a schema''s time accounts that its views and figures depend on, as one text';

-- The rows time_account_monthly and _balance sum (a WITH clause ending in
-- "days": account_id, month, req, log, adj): the figures when they are
-- fresh, else (per stale person, or for everyone) time_account_daily.
-- asof is the SQL of the last day counted.
CREATE FUNCTION time_account_figures_query(schema name, since date, asof text)
RETURNS text
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp
AS $$
  SELECT pg_catalog.format($q$WITH st AS MATERIALIZED (
      SELECT b.as_of, f.stale_accounts AS stale,
             coalesce(NOT f.stale_all AND f.figures_through <= b.as_of AND b.as_of <= f.figures_horizon, false) AS fast
        FROM (SELECT %3$s AS as_of) b
        LEFT JOIN @extschema@.time_account_freshness f ON f.schema_name = %2$L
    ), days AS (
      -- fresh: the figures, and the adjustments within each account's days
      SELECT g.account_id, g.month, g.required_seconds AS req, g.logged_seconds AS log, 0::numeric AS adj
        FROM %1$I.time_account_figures g
       WHERE (SELECT st.fast FROM st) AND g.last_day <= (SELECT st.as_of FROM st)
         AND g.account_id <> ALL (coalesce((SELECT st.stale FROM st), '{}'))
      UNION ALL
      SELECT j.account_id, date_trunc('month', j.date)::date, 0, 0, sum(round(3600 * j.hours))
        FROM @extschema@.time_account_adjustments j
        JOIN @extschema@.time_account_people p ON p.schema_name = j.schema_name AND p.account_id = j.account_id
       WHERE (SELECT st.fast FROM st) AND j.schema_name = %2$L
         AND j.date >= greatest(p.first_day, %4$L::date) AND j.date <= least(p.last_day, (SELECT st.as_of FROM st))
         AND j.account_id <> ALL (coalesce((SELECT st.stale FROM st), '{}'))
       GROUP BY 1, 2
      UNION ALL
      -- live: the people HR data changed for, or (not fresh) everyone
      SELECT l.account_id, l.month, l.req, l.log, l.adj
        FROM %1$I.time_account_live(CASE WHEN (SELECT st.fast FROM st) THEN (SELECT st.stale FROM st) END) l
       WHERE NOT (SELECT st.fast FROM st) OR cardinality((SELECT st.stale FROM st)) > 0
      UNION ALL
      -- never read (the planner drops it): the views depend on the daily one
      SELECT d.account_id, d.date, d.required_seconds, d.logged_seconds, d.adjustment_seconds
        FROM %1$I.time_account_daily d
       WHERE false
    )$q$, schema, schema, asof, since)
$$;
COMMENT ON FUNCTION time_account_figures_query(name, date, text) IS
  'The rows the monthly and balance views of a schema sum: materialised figures when fresh, else time_account_daily';

-- <schema>.time_account_live(accounts): what the monthly and balance views
-- compute live, per person and month from time_account_daily: those
-- people (one at a time), or everyone (NULL).  Called by the views only
-- when needed, and a function so that the plan of the views that read the
-- figures stays small (no JIT for the cost of what does not run).  It is
-- the accounts owner's SECURITY DEFINER, as the views read with the
-- owner's rights: the role the session acts as (whatever definer functions
-- run in between) must be allowed to read the monthly or balance view.
-- Made by time_account_views after the daily view.
CREATE FUNCTION time_account_live_function(schema name)
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
  EXECUTE format($q$
    CREATE FUNCTION %1$I.time_account_live(accounts text[])
    RETURNS TABLE (account_id text, month date, req bigint, log bigint, adj bigint)
    LANGUAGE sql STABLE SECURITY DEFINER ROWS 1000 SET search_path = pg_catalog, pg_temp SET jit = off
    AS $b$
      SELECT @extschema@.time_account_live_check(%2$L);
      SELECT d.account_id, date_trunc('month', d.date)::date, sum(d.required_seconds)::bigint,
             sum(d.logged_seconds)::bigint, sum(d.adjustment_seconds)::bigint
        FROM %1$I.time_account_daily d
       WHERE accounts IS NULL
       GROUP BY 1, 2
      UNION ALL
      SELECT d.account_id, date_trunc('month', d.date)::date, sum(d.required_seconds)::bigint,
             sum(d.logged_seconds)::bigint, sum(d.adjustment_seconds)::bigint
        FROM unnest(accounts) a(account_id)
       CROSS JOIN LATERAL (SELECT x.* FROM %1$I.time_account_daily x WHERE x.account_id = a.account_id OFFSET 0) d
       WHERE accounts IS NOT NULL
       GROUP BY 1, 2
    $b$;
    REVOKE ALL ON FUNCTION %1$I.time_account_live(text[]) FROM PUBLIC;
    GRANT EXECUTE ON FUNCTION %1$I.time_account_live(text[]) TO PUBLIC;
    COMMENT ON FUNCTION %1$I.time_account_live(text[]) IS
      'What the monthly and balance views compute live (people whose HR data changed since the last run, or everyone); for them only'
  $q$, schema, schema);
END $fn$;
COMMENT ON FUNCTION time_account_live_function(name) IS
  'Creates <schema>.time_account_live, what the monthly and balance views of a schema compute live (called by time_account_views)';

-- An ERROR unless the role the session acts as (SET ROLE, else the
-- session user: not a definer function's owner) may read the monthly or
-- balance view of a schema: what <schema>.time_account_live checks.
CREATE FUNCTION time_account_live_check(schema name)
RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
  acting name := CASE WHEN current_setting('role') = 'none' THEN session_user ELSE current_setting('role') END;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                  WHERE n.nspname = schema AND c.relname IN ('time_account_monthly', 'time_account_balance')
                    AND has_table_privilege(acting, c.oid, 'SELECT')) THEN
    RAISE EXCEPTION 'permission denied for function %.time_account_live', quote_ident(schema)
      USING ERRCODE = 'insufficient_privilege',
            DETAIL = format('Role %s may read neither %I.time_account_monthly nor %I.time_account_balance.', acting, schema, schema);
  END IF;
END $fn$;
COMMENT ON FUNCTION time_account_live_check(name) IS
  'An ERROR unless the role the session acts as may read the monthly or balance view of a schema (see <schema>.time_account_live)';

-- Compute the figures of a schema's time accounts again (refresh, sync and
-- create_time_accounts call it; call it yourself after many HR changes
-- rather than wait for the next run).  Only the accounts' owner (any
-- superuser, when the owner is one) may.  Returns the rows written; NULL
-- for accounts made before 1.1's figures (make them again).
CREATE FUNCTION materialise_accounts(schema name)
RETURNS bigint
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
  cfg     @extschema@.time_accounts;
  fr      record;
  figs    text;
  today   date;
  through date;
  horizon date;
  n       bigint;
BEGIN
  SELECT * INTO cfg FROM @extschema@.time_accounts t WHERE t.schema_name = schema;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'schema "%" has no time accounts', schema
      USING ERRCODE = 'undefined_object', HINT = format('SELECT tempo_fdw.create_time_accounts(%L);', schema);
  END IF;
  PERFORM @extschema@.time_accounts_check_runner(schema, cfg.owner);
  figs := @extschema@.checked_relation(schema, 'time_account_figures', cfg.owner, NULL, true);
  IF figs IS NULL THEN
    RETURN NULL;
  END IF;
  -- (no row after a restore: pg_dump does not keep them; the views count
  -- live until then)
  INSERT INTO @extschema@.time_account_freshness (schema_name, params, stale_since)
  VALUES (schema, @extschema@.time_account_figures_params(cfg), now())
  ON CONFLICT (schema_name) DO NOTHING;
  -- first, so that no HR change commits between what is read and the mark
  SELECT * INTO fr FROM @extschema@.time_account_freshness f WHERE f.schema_name = schema FOR UPDATE;
  -- tempo_fdw.time_accounts updated directly: the views still count with
  -- the settings they were made with; everyone live (status: everyone)
  IF fr.params IS DISTINCT FROM @extschema@.time_account_figures_params(cfg) THEN
    UPDATE @extschema@.time_account_freshness f
       SET stale_all = true, stale_accounts = '{}', stale_since = coalesce(f.stale_since, now())
     WHERE f.schema_name = schema;
    RETURN NULL;
  END IF;
  today := (now() AT TIME ZONE cfg.time_zone)::date;
  through := least(cfg.until, today - CASE WHEN cfg.count_today THEN 0 ELSE 1 END);
  -- sync: the store's view shows no later worklog before its day; snapshot:
  -- nothing new arrives before the next refresh
  horizon := greatest(through, CASE WHEN cfg.mode = 'sync' THEN coalesce(cfg.until, today)
                                    ELSE least(cfg.until, through + 7) END);
  EXECUTE format('DELETE FROM %I.time_account_figures', schema);
  EXECUTE format($q$
    INSERT INTO %1$I.time_account_figures (account_id, month, last_day, required_seconds, logged_seconds)
    SELECT d.account_id, date_trunc('month', d.date)::date, max(d.date), sum(d.required_seconds), sum(d.logged_seconds)
      FROM (%2$s) d
     GROUP BY d.account_id, date_trunc('month', d.date), CASE WHEN d.date > %3$L::date THEN d.date END$q$,
    schema, @extschema@.time_account_views(schema, cfg.since, quote_literal(horizon) || '::date',
                                          CASE cfg.logged WHEN 'billable' THEN 'coalesce(billable_seconds, 0)' ELSE 'time_spent_seconds' END,
                                          cfg.schedules, cfg.people, cfg.calendar, cfg.absence_issue_ids, true),
    through);
  GET DIAGNOSTICS n = ROW_COUNT;
  EXECUTE format('ANALYZE %I.time_account_figures', schema);
  UPDATE @extschema@.time_account_freshness f
     SET figures_through = through, figures_horizon = horizon, figures_at = now(),
         stale_all = false, stale_accounts = '{}', stale_since = NULL
   WHERE f.schema_name = schema;
  RETURN n;
END $fn$;
COMMENT ON FUNCTION materialise_accounts(name) IS
  'Computes the figures of a schema''s time accounts again (done by refresh, sync and create_time_accounts); returns the rows written';

-- The people an HR change touches, marked stale in their schemas (see
-- above).  As the extension's owner: whoever may change the row may mark
-- it (row-level security let the change through), in every schema it
-- touches, including those the changing role cannot see (a contract or a
-- holiday of every schema).  A trigger function: nobody calls it directly.
CREATE FUNCTION time_account_hr_changed()
RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
  sch text[] := '{}';    -- per person touched: its schema ('' every schema) ...
  acc text[] := '{}';    -- ... and its account
  cal text[] := '{}';
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    UPDATE @extschema@.time_account_freshness f
       SET stale_all = true, stale_accounts = '{}', stale_since = coalesce(f.stale_since, now());
    RETURN NULL;
  END IF;
  IF TG_TABLE_NAME = 'holidays' THEN
    IF TG_OP <> 'INSERT' THEN
      cal := cal || ARRAY(SELECT o.calendar FROM old_rows o);
    END IF;
    IF TG_OP <> 'DELETE' THEN
      cal := cal || ARRAY(SELECT n.calendar FROM new_rows n);
    END IF;
    -- schemas whose own calendar it is: everyone; else its people
    UPDATE @extschema@.time_account_freshness f
       SET stale_all = true, stale_accounts = '{}', stale_since = coalesce(f.stale_since, now())
      FROM @extschema@.time_accounts t
     WHERE t.schema_name = f.schema_name AND t.schedules = 'local' AND t.calendar = ANY (cal);
    SELECT coalesce(array_agg(p.schema_name::text), '{}'), coalesce(array_agg(p.account_id), '{}') INTO sch, acc
      FROM @extschema@.time_account_people p
      JOIN @extschema@.time_accounts t ON t.schema_name = p.schema_name AND t.schedules = 'local'
     WHERE p.calendar = ANY (cal);
  ELSE
    -- people, absences and contracts (schema_name NULL: every schema)
    IF TG_OP <> 'INSERT' THEN
      SELECT sch || array_agg(coalesce(o.schema_name::text, '')), acc || array_agg(o.account_id) INTO sch, acc
        FROM old_rows o;
    END IF;
    IF TG_OP <> 'DELETE' THEN
      SELECT coalesce(sch, '{}') || array_agg(coalesce(n.schema_name::text, '')), coalesce(acc, '{}') || array_agg(n.account_id)
        INTO sch, acc
        FROM new_rows n;
    END IF;
  END IF;
  IF coalesce(cardinality(sch), 0) = 0 THEN
    RETURN NULL;
  END IF;
  UPDATE @extschema@.time_account_freshness f
     SET stale_all = f.stale_all OR cardinality(m.accounts) > @extschema@.stale_accounts_max(),
         stale_accounts = CASE WHEN f.stale_all OR cardinality(m.accounts) > @extschema@.stale_accounts_max() THEN '{}'
                               ELSE m.accounts END,
         stale_since = coalesce(f.stale_since, now())
    FROM (SELECT g.schema_name,
                 ARRAY(SELECT DISTINCT a FROM unnest(g.stale_accounts || ARRAY(
                         SELECT x.a FROM unnest(sch, acc) x(s, a) WHERE x.s IN ('', g.schema_name::text))) a
                        ORDER BY 1) AS accounts
            FROM @extschema@.time_account_freshness g
           WHERE g.schema_name::text = ANY (sch) OR '' = ANY (sch)) m
   WHERE f.schema_name = m.schema_name;
  RETURN NULL;
END $fn$;
REVOKE ALL ON FUNCTION time_account_hr_changed() FROM PUBLIC;
COMMENT ON FUNCTION time_account_hr_changed() IS
  'Statement trigger of the HR tables: marks the people a change touches stale in time_account_freshness';

DO $do$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['time_account_people', 'time_account_absences', 'time_account_contracts', 'holidays'] LOOP
    EXECUTE format('CREATE TRIGGER figures_insert AFTER INSERT ON @extschema@.%I REFERENCING NEW TABLE AS new_rows '
                   'FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.time_account_hr_changed()', t);
    EXECUTE format('CREATE TRIGGER figures_update AFTER UPDATE ON @extschema@.%I REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows '
                   'FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.time_account_hr_changed()', t);
    EXECUTE format('CREATE TRIGGER figures_delete AFTER DELETE ON @extschema@.%I REFERENCING OLD TABLE AS old_rows '
                   'FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.time_account_hr_changed()', t);
    EXECUTE format('CREATE TRIGGER figures_truncate AFTER TRUNCATE ON @extschema@.%I '
                   'FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.time_account_hr_changed()', t);
  END LOOP;
END $do$;
