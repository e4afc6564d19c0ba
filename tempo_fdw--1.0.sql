/* tempo_fdw--1.0.sql */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION tempo_fdw" to load this file. \quit

CREATE FUNCTION tempo_fdw_handler()
RETURNS fdw_handler
AS 'MODULE_PATHNAME'
LANGUAGE C STRICT;

CREATE FUNCTION tempo_fdw_validator(text[], oid)
RETURNS void
AS 'MODULE_PATHNAME'
LANGUAGE C STRICT;

CREATE FOREIGN DATA WRAPPER tempo_fdw
  HANDLER tempo_fdw_handler
  VALIDATOR tempo_fdw_validator;

-- the schema holds functions and views every role may call or be granted
GRANT USAGE ON SCHEMA @extschema@ TO PUBLIC;

COMMENT ON FOREIGN DATA WRAPPER tempo_fdw IS
  'Tempo Cloud (REST v4) and Jira Cloud worklogs as foreign tables';

CREATE FUNCTION check_connection(server name)
RETURNS TABLE (source text, ok boolean, http_status integer, problem text, hint text)
AS 'MODULE_PATHNAME', 'tempo_fdw_check_connection'
LANGUAGE C STRICT VOLATILE;

COMMENT ON FUNCTION check_connection(name) IS
  'Reaches Tempo (worklogs, schedules) and Jira with the current role''s credentials and reports, per source, OK or the problem with a hint';

CREATE FUNCTION requests_made()
RETURNS bigint
AS 'MODULE_PATHNAME', 'tempo_fdw_requests_made'
LANGUAGE C STRICT VOLATILE;

COMMENT ON FUNCTION requests_made() IS
  'HTTP requests this backend has sent to Tempo and Jira, retries included';

-- ======================================================================
-- Time accounts: required time against logged time, and the balance.
-- ======================================================================

-- Contracts with weekly hours override Tempo's schedule per person and
-- period.  Kept by pg_dump (extension configuration).
CREATE TABLE time_account_contracts (
  contract_id   bigserial PRIMARY KEY,
  account_id    text NOT NULL,
  valid_from    date NOT NULL,
  valid_to      date,
  monday_hours    numeric(4,2) NOT NULL DEFAULT 0 CHECK (monday_hours BETWEEN 0 AND 24),
  tuesday_hours   numeric(4,2) NOT NULL DEFAULT 0 CHECK (tuesday_hours BETWEEN 0 AND 24),
  wednesday_hours numeric(4,2) NOT NULL DEFAULT 0 CHECK (wednesday_hours BETWEEN 0 AND 24),
  thursday_hours  numeric(4,2) NOT NULL DEFAULT 0 CHECK (thursday_hours BETWEEN 0 AND 24),
  friday_hours    numeric(4,2) NOT NULL DEFAULT 0 CHECK (friday_hours BETWEEN 0 AND 24),
  saturday_hours  numeric(4,2) NOT NULL DEFAULT 0 CHECK (saturday_hours BETWEEN 0 AND 24),
  sunday_hours    numeric(4,2) NOT NULL DEFAULT 0 CHECK (sunday_hours BETWEEN 0 AND 24),
  note          text,
  CHECK (valid_to IS NULL OR valid_to >= valid_from)
);
COMMENT ON TABLE time_account_contracts IS
  'Working-time contracts: where one covers a day it defines the required time (Tempo holidays still reduce it); one contract per person and day';
COMMENT ON COLUMN time_account_contracts.account_id IS 'Atlassian account id of the person';
COMMENT ON COLUMN time_account_contracts.valid_from IS 'First day of the contract';
COMMENT ON COLUMN time_account_contracts.valid_to IS 'Last day of the contract, NULL while it is open';
COMMENT ON COLUMN time_account_contracts.monday_hours IS 'Required hours on Mondays (likewise for the other days)';
SELECT pg_catalog.pg_extension_config_dump('time_account_contracts', '');
SELECT pg_catalog.pg_extension_config_dump('time_account_contracts_contract_id_seq', '');

-- No two contracts of one person may cover the same day.
CREATE FUNCTION time_account_contracts_check() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  -- serialise changes per person, then look at the committed state
  PERFORM pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('tempo_fdw.contracts'),
                                           pg_catalog.hashtext(NEW.account_id));
  IF EXISTS (SELECT 1 FROM @extschema@.time_account_contracts c
              WHERE c.account_id = NEW.account_id AND c.contract_id <> NEW.contract_id
                AND pg_catalog.daterange(c.valid_from, c.valid_to, '[]')
                    OPERATOR(pg_catalog.&&) pg_catalog.daterange(NEW.valid_from, NEW.valid_to, '[]')) THEN
    RAISE EXCEPTION 'contract of "%" from % overlaps another contract of that person', NEW.account_id, NEW.valid_from
      USING ERRCODE = 'exclusion_violation',
            HINT = 'End the earlier contract (valid_to) the day before the next one starts.';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER time_account_contracts_no_overlap
  BEFORE INSERT OR UPDATE ON time_account_contracts
  FOR EACH ROW EXECUTE FUNCTION time_account_contracts_check();

-- The time accounts create_time_accounts made, and how.
CREATE TABLE time_accounts (
  schema_name name PRIMARY KEY,
  since       date NOT NULL,
  until       date,
  logged      text NOT NULL CHECK (logged IN ('time_spent', 'billable')),
  issue_ids   bigint[],
  mode        text NOT NULL DEFAULT 'snapshot' CHECK (mode IN ('snapshot', 'sync')),
  deletions   text NOT NULL DEFAULT 'delete' CHECK (deletions IN ('delete', 'mark')),
  reconcile_days integer NOT NULL DEFAULT 90 CHECK (reconcile_days > 0),
  created_at  timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE time_accounts IS 'The time accounts made by create_time_accounts, one per schema';
SELECT pg_catalog.pg_extension_config_dump('time_accounts', '');

-- One row per refresh run.
CREATE TABLE refresh_log (
  run_id        bigserial PRIMARY KEY,
  schema_name   name NOT NULL,
  kind          text NOT NULL DEFAULT 'refresh' CHECK (kind IN ('refresh', 'sync')),
  started_at    timestamptz NOT NULL,
  finished_at   timestamptz,
  outcome       text NOT NULL CHECK (outcome IN ('running', 'ok', 'failed', 'skipped')),
  worklog_rows  bigint,
  worklog_source text CHECK (worklog_source IN ('tempo', 'jira')),
  schedule_rows bigint,
  requests      bigint,
  error         text
);
COMMENT ON TABLE refresh_log IS 'One row per run of tempo_fdw.refresh: when, how much, and how it ended';
SELECT pg_catalog.pg_extension_config_dump('refresh_log', '');
SELECT pg_catalog.pg_extension_config_dump('refresh_log_run_id_seq', '');

-- The state of each synchronised store.
CREATE TABLE sync_state (
  schema_name     name PRIMARY KEY,
  watermark       timestamptz,
  last_started    timestamptz,
  last_finished   timestamptz,
  last_outcome    text CHECK (last_outcome IN ('ok', 'failed')),
  received        bigint,
  inserted        bigint,
  updated         bigint,
  deleted         bigint,
  deletion_source text CHECK (deletion_source IN ('audit', 'reconcile')),
  requests        bigint,
  error           text
);
COMMENT ON TABLE sync_state IS 'Per synchronised schema: the watermark and the figures of the last sync';
SELECT pg_catalog.pg_extension_config_dump('sync_state', '');

CREATE VIEW sync_status AS
SELECT schema_name, watermark, last_started, last_finished, last_outcome,
       received, inserted, updated, deleted, deletion_source, requests, error
  FROM sync_state;
COMMENT ON VIEW sync_status IS 'Per synchronised schema: last watermark, last run, rows inserted, updated and deleted, requests made';

-- One sync of a store, in the caller's transaction: changes since the
-- watermark (less a safety overlap) are upserted, deletions are found in
-- Tempo's audit log (or, when the token may not read it, by comparing a
-- trailing window of worklog dates), and the watermark moves on.  Any
-- failure undoes all of it.
CREATE FUNCTION sync_run(schema name,
  OUT inserted bigint, OUT updated bigint, OUT deleted bigint, OUT deletion_source text)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET client_min_messages = warning
AS $fn$
DECLARE
  s        text := quote_ident(schema);
  overlap  constant interval := interval '5 minutes';
  cfg      record;
  st       record;
  started  timestamptz := clock_timestamp();
  req0     bigint := @extschema@.requests_made();
  ids      bigint[];
  wfrom    date;
  wmark    timestamptz;
  cols     constant text := 'worklog_id, source, issue_id, author_account_id, start_date, start_time, '
                            'started_at, time_spent_seconds, billable_seconds, description, created_at, '
                            'updated_at, attributes';
BEGIN
  SELECT * INTO cfg FROM @extschema@.time_accounts t WHERE t.schema_name = schema AND t.mode = 'sync';
  IF NOT FOUND THEN
    RAISE EXCEPTION 'schema "%" has no synchronised time accounts', schema
      USING ERRCODE = 'undefined_object',
            HINT = format('SELECT tempo_fdw.create_time_accounts(%L, mode => ''sync'');', schema);
  END IF;
  INSERT INTO @extschema@.sync_state AS x (schema_name) VALUES (schema) ON CONFLICT DO NOTHING;
  SELECT * INTO st FROM @extschema@.sync_state x WHERE x.schema_name = schema FOR UPDATE;

  -- what changed: everything since "since" the first time, then since the watermark
  DROP TABLE IF EXISTS tempo_sync_incoming;
  EXECUTE format('CREATE TEMP TABLE tempo_sync_incoming ON COMMIT DROP AS SELECT %s FROM %s.worklogs WHERE %s',
                 cols, s,
                 CASE WHEN st.watermark IS NULL THEN format('start_date >= %L::date', cfg.since)
                      ELSE format('updated_at >= %L::timestamptz', st.watermark - overlap) END);
  IF EXISTS (SELECT 1 FROM tempo_sync_incoming WHERE source = 'jira') THEN
    RAISE EXCEPTION 'the worklogs came from the Jira fallback'
      USING ERRCODE = 'fdw_error',
            DETAIL = 'A store synchronised from Jira would attribute Tempo-made worklogs to the Tempo app user.';
  END IF;

  EXECUTE format($q$SELECT count(*) FROM tempo_sync_incoming i JOIN %1$s.worklog_store w USING (worklog_id)
                     WHERE (w.source, w.issue_id, w.author_account_id, w.start_date, w.start_time, w.started_at,
                            w.time_spent_seconds, w.billable_seconds, w.description, w.created_at, w.updated_at,
                            w.attributes, w.deleted_at)
                           IS DISTINCT FROM
                           (i.source, i.issue_id, i.author_account_id, i.start_date, i.start_time, i.started_at,
                            i.time_spent_seconds, i.billable_seconds, i.description, i.created_at, i.updated_at,
                            i.attributes, NULL::timestamptz)$q$, s) INTO updated;
  EXECUTE format($q$WITH up AS (
                       INSERT INTO %1$s.worklog_store AS w (%2$s, last_seen_at, deleted_at)
                       SELECT %2$s, %3$L::timestamptz, NULL FROM tempo_sync_incoming
                       ON CONFLICT (worklog_id) DO UPDATE SET
                         source = excluded.source, issue_id = excluded.issue_id,
                         author_account_id = excluded.author_account_id, start_date = excluded.start_date,
                         start_time = excluded.start_time, started_at = excluded.started_at,
                         time_spent_seconds = excluded.time_spent_seconds,
                         billable_seconds = excluded.billable_seconds, description = excluded.description,
                         created_at = excluded.created_at, updated_at = excluded.updated_at,
                         attributes = excluded.attributes, last_seen_at = excluded.last_seen_at,
                         deleted_at = NULL
                       RETURNING xmax = 0 AS was_inserted)
                     SELECT count(*) FILTER (WHERE was_inserted) FROM up$q$, s, cols, started) INTO inserted;

  -- deletions: Tempo's audit log when the token may read it, else a trailing window
  deleted := 0;
  IF st.watermark IS NOT NULL THEN
    BEGIN
      EXECUTE format('SELECT coalesce(array_agg(worklog_id), ''{}'') FROM %s.worklog_deletions WHERE deleted_at >= %L::timestamptz',
                     s, greatest(st.last_started - overlap, now() - interval '179 days')) INTO ids;
      deletion_source := 'audit';
    EXCEPTION WHEN insufficient_privilege OR invalid_authorization_specification
                   OR fdw_table_not_found OR undefined_table THEN
      deletion_source := 'reconcile';
    END;
    IF deletion_source = 'reconcile' THEN
      wfrom := greatest(cfg.since, current_date - cfg.reconcile_days);
      DROP TABLE IF EXISTS tempo_sync_window;
      EXECUTE format('CREATE TEMP TABLE tempo_sync_window ON COMMIT DROP AS SELECT worklog_id FROM %s.worklogs WHERE start_date >= %L::date',
                     s, wfrom);
      IF EXISTS (SELECT 1 FROM tempo_sync_window w WHERE w.worklog_id IS NULL) THEN
        RAISE EXCEPTION 'a worklog without id in the reconciliation window' USING ERRCODE = 'fdw_invalid_data_type';
      END IF;
      EXECUTE format('SELECT coalesce(array_agg(worklog_id), ''{}'') FROM %s.worklog_store w
                       WHERE w.deleted_at IS NULL AND w.start_date >= %L::date
                         AND NOT EXISTS (SELECT 1 FROM tempo_sync_window x WHERE x.worklog_id = w.worklog_id)',
                     s, wfrom) INTO ids;
    END IF;
    IF cfg.deletions = 'mark' THEN
      EXECUTE format('UPDATE %s.worklog_store SET deleted_at = %L::timestamptz WHERE deleted_at IS NULL AND worklog_id = ANY (%L::bigint[])',
                     s, started, ids);
    ELSE
      EXECUTE format('DELETE FROM %s.worklog_store WHERE worklog_id = ANY (%L::bigint[])', s, ids);
    END IF;
    GET DIAGNOSTICS deleted = ROW_COUNT;
  END IF;

  -- the watermark moves to the latest change received, never back
  SELECT max(updated_at) INTO wmark FROM tempo_sync_incoming;
  UPDATE @extschema@.sync_state x
     SET watermark = greatest(x.watermark, wmark), last_started = started,
         last_finished = clock_timestamp(), last_outcome = 'ok',
         received = (SELECT count(*) FROM tempo_sync_incoming),
         inserted = sync_run.inserted, updated = sync_run.updated, deleted = sync_run.deleted,
         deletion_source = sync_run.deletion_source,
         requests = @extschema@.requests_made() - req0, error = NULL
   WHERE x.schema_name = schema;
END $fn$;

-- Synchronise a store; for pg_cron.  Same rules as refresh: one run at a
-- time per schema, a row per run in refresh_log (kind 'sync'), all or
-- nothing, an ERROR on failure.  Call it at top level.
CREATE PROCEDURE sync(schema name)
LANGUAGE plpgsql
AS $proc$
DECLARE
  run       bigint;
  ins       bigint;
  upd       bigint;
  requests0 bigint := @extschema@.requests_made();
  failed    boolean := false;
  err_state text;
  err_msg   text;
  err_detail text;
BEGIN
  IF NOT pg_catalog.pg_try_advisory_xact_lock(pg_catalog.hashtext('tempo_fdw.refresh'),
                                              pg_catalog.hashtext(schema)) THEN
    INSERT INTO @extschema@.refresh_log (schema_name, kind, started_at, finished_at, outcome, error)
    VALUES (schema, 'sync', pg_catalog.clock_timestamp(), pg_catalog.clock_timestamp(), 'skipped',
            'another refresh or sync of this schema was running');
    COMMIT;
    RAISE NOTICE 'another refresh or sync of "%" is running: this one is skipped', schema;
    RETURN;
  END IF;
  INSERT INTO @extschema@.refresh_log (schema_name, kind, started_at, outcome)
  VALUES (schema, 'sync', pg_catalog.clock_timestamp(), 'running') RETURNING run_id INTO run;
  BEGIN
    SELECT inserted, updated INTO ins, upd FROM @extschema@.sync_run(schema);
  EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS err_state = RETURNED_SQLSTATE, err_msg = MESSAGE_TEXT,
                            err_detail = PG_EXCEPTION_DETAIL;
    failed := true;
  END;
  IF failed THEN
    UPDATE @extschema@.sync_state x SET last_outcome = 'failed', error = err_msg WHERE x.schema_name = schema;
  END IF;
  UPDATE @extschema@.refresh_log
     SET finished_at = pg_catalog.clock_timestamp(),
         outcome = CASE WHEN failed THEN 'failed' ELSE 'ok' END,
         worklog_rows = ins + upd,
         worklog_source = CASE WHEN failed THEN NULL ELSE 'tempo' END,
         requests = @extschema@.requests_made() - requests0,
         error = err_msg
   WHERE run_id = run;
  COMMIT;
  IF failed AND coalesce(err_detail, '') = '' THEN
    RAISE EXCEPTION 'sync of the worklogs in "%" failed: %', schema, err_msg
      USING ERRCODE = err_state,
            HINT = 'The store and its watermark are unchanged; the next run picks up from there.';
  ELSIF failed THEN
    RAISE EXCEPTION 'sync of the worklogs in "%" failed: %', schema, err_msg
      USING ERRCODE = err_state, DETAIL = err_detail,
            HINT = 'The store and its watermark are unchanged; the next run picks up from there.';
  END IF;
END $proc$;

COMMENT ON PROCEDURE sync(name) IS
  'Brings the worklog store of a schema in step with Tempo (changes since the watermark, deletions); for pg_cron';

-- Create (or replace) the time accounts of a schema that holds the
-- foreign tables worklogs and user_schedules.
CREATE FUNCTION create_time_accounts(
  schema    name,
  since     date DEFAULT (pg_catalog.date_trunc('year', pg_catalog.now()) - interval '1 year')::date,
  until     date DEFAULT NULL,
  logged    text DEFAULT 'time_spent',
  issue_ids bigint[] DEFAULT NULL,
  populate  boolean DEFAULT true,
  mode      text DEFAULT 'snapshot',
  deletions text DEFAULT 'delete',
  reconcile_days integer DEFAULT 90)
RETURNS text
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET client_min_messages = warning
AS $fn$
DECLARE
  s   text := quote_ident(schema);
  upto text := CASE WHEN until IS NULL THEN 'current_date' ELSE quote_literal(until) || '::date' END;
  col text := CASE logged WHEN 'billable' THEN 'coalesce(billable_seconds, 0)' ELSE 'time_spent_seconds' END;
  fallback boolean;
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
  IF until IS NOT NULL AND until < since THEN
    RAISE EXCEPTION 'until (%) is before since (%)', until, since USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF to_regclass(s || '.worklogs') IS NULL OR to_regclass(s || '.user_schedules') IS NULL THEN
    RAISE EXCEPTION 'schema "%" has no foreign tables worklogs and user_schedules', schema
      USING ERRCODE = 'undefined_table',
            HINT = format('IMPORT FOREIGN SCHEMA tempo FROM SERVER <server> INTO %s;', s);
  END IF;

  -- replace what an earlier call made, and nothing else (no CASCADE: a
  -- user's view on ours makes this fail rather than vanish)
  EXECUTE format('DROP VIEW IF EXISTS %1$s.time_account_balance, %1$s.time_account_monthly, %1$s.time_account_daily', s);
  EXECUTE format('DROP MATERIALIZED VIEW IF EXISTS %1$s.schedule_snapshot', s);
  IF (SELECT relkind FROM pg_class WHERE oid = to_regclass(s || '.worklog_snapshot')) = 'v' THEN
    EXECUTE format('DROP VIEW %s.worklog_snapshot', s);
  ELSE
    EXECUTE format('DROP MATERIALIZED VIEW IF EXISTS %s.worklog_snapshot', s);
  END IF;

  IF mode = 'snapshot' THEN
    EXECUTE format($q$
      CREATE MATERIALIZED VIEW %1$s.worklog_snapshot AS
      SELECT worklog_id, source, issue_id, author_account_id AS account_id, start_date,
             time_spent_seconds, billable_seconds, updated_at
        FROM %1$s.worklogs
       WHERE start_date >= %2$L::date AND start_date <= %3$s %4$s
      WITH NO DATA$q$, s, since, upto,
      CASE WHEN issue_ids IS NULL THEN '' ELSE format('AND issue_id = ANY (%L::bigint[])', issue_ids) END);
    EXECUTE format('CREATE UNIQUE INDEX ON %s.worklog_snapshot (source, worklog_id)', s);
  ELSE
    -- the store keeps its rows when the accounts are made again
    EXECUTE format($q$
      CREATE TABLE IF NOT EXISTS %1$s.worklog_store (
        worklog_id bigint PRIMARY KEY, source text NOT NULL, issue_id bigint NOT NULL,
        author_account_id text NOT NULL, start_date date NOT NULL, start_time time,
        started_at timestamptz, time_spent_seconds integer NOT NULL, billable_seconds integer,
        description text, created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL,
        attributes jsonb, last_seen_at timestamptz NOT NULL, deleted_at timestamptz)$q$, s);
    EXECUTE format('CREATE INDEX IF NOT EXISTS worklog_store_start_date ON %s.worklog_store (start_date)', s);
    EXECUTE format($c$COMMENT ON TABLE %s.worklog_store IS 'Tempo worklogs kept in step by tempo_fdw.sync: changes since the watermark, deletions from the audit log or a trailing window'$c$, s);
    EXECUTE format($q$
      CREATE VIEW %1$s.worklog_snapshot AS
      SELECT worklog_id, source, issue_id, author_account_id AS account_id, start_date,
             time_spent_seconds, billable_seconds, updated_at
        FROM %1$s.worklog_store
       WHERE deleted_at IS NULL AND start_date >= %2$L::date AND start_date <= %3$s %4$s$q$, s, since, upto,
      CASE WHEN issue_ids IS NULL THEN '' ELSE format('AND issue_id = ANY (%L::bigint[])', issue_ids) END);
  END IF;
  EXECUTE format($q$
    CREATE MATERIALIZED VIEW %1$s.schedule_snapshot AS
    SELECT us.account_id, us.date, us.required_seconds, us.day_type, us.holiday_name, us.holiday_seconds
      FROM (SELECT account_id FROM %1$s.worklog_snapshot
            UNION SELECT account_id FROM @extschema@.time_account_contracts) people
      JOIN %1$s.user_schedules us ON us.account_id = people.account_id
     WHERE us.date >= %2$L::date AND us.date <= %3$s
    WITH NO DATA$q$, s, since, upto);
  EXECUTE format('CREATE UNIQUE INDEX ON %s.schedule_snapshot (account_id, date)', s);

  EXECUTE format($q$
    CREATE VIEW %1$s.time_account_daily AS
    WITH people AS (
      SELECT account_id FROM %1$s.worklog_snapshot
      UNION SELECT account_id FROM @extschema@.time_account_contracts
    ), logged AS (
      SELECT account_id, start_date AS date, sum(%4$s)::bigint AS logged_seconds,
             sum(coalesce(billable_seconds, 0))::bigint AS billable_seconds
        FROM %1$s.worklog_snapshot GROUP BY 1, 2
    )
    SELECT p.account_id, d.date::date AS date, r.required_seconds,
           coalesce(l.logged_seconds, 0) AS logged_seconds,
           coalesce(l.billable_seconds, 0) AS billable_seconds,
           coalesce(l.logged_seconds, 0) - r.required_seconds AS balance_seconds,
           r.day_type, sch.holiday_name, r.required_source
      FROM people p
     CROSS JOIN generate_series(%2$L::date, %3$s, interval '1 day') d
      LEFT JOIN %1$s.schedule_snapshot sch ON sch.account_id = p.account_id AND sch.date = d.date::date
      LEFT JOIN @extschema@.time_account_contracts c
             ON c.account_id = p.account_id AND d.date::date >= c.valid_from
            AND (c.valid_to IS NULL OR d.date::date <= c.valid_to)
      LEFT JOIN logged l ON l.account_id = p.account_id AND l.date = d.date::date
     CROSS JOIN LATERAL (
       SELECT round(3600 * (ARRAY[c.monday_hours, c.tuesday_hours, c.wednesday_hours, c.thursday_hours,
                                  c.friday_hours, c.saturday_hours, c.sunday_hours])
                            [extract(isodow FROM d.date)::int])::bigint AS contract_seconds,
              sch.day_type IN ('HOLIDAY', 'HOLIDAY_AND_NON_WORKING_DAY') AS holiday
     ) k
     CROSS JOIN LATERAL (
       SELECT CASE WHEN c.contract_id IS NOT NULL
                   THEN greatest(0, k.contract_seconds
                                    - CASE WHEN k.holiday THEN coalesce(sch.holiday_seconds, k.contract_seconds) ELSE 0 END)
                   WHEN sch.date IS NOT NULL THEN sch.required_seconds
                   ELSE 0 END::bigint AS required_seconds,
              CASE WHEN c.contract_id IS NOT NULL
                   THEN CASE WHEN k.holiday AND k.contract_seconds > 0 THEN 'HOLIDAY'
                             WHEN k.holiday THEN 'HOLIDAY_AND_NON_WORKING_DAY'
                             WHEN k.contract_seconds > 0 THEN 'WORKING_DAY'
                             ELSE 'NON_WORKING_DAY' END
                   ELSE sch.day_type END AS day_type,
              CASE WHEN c.contract_id IS NOT NULL THEN 'contract'
                   WHEN sch.date IS NOT NULL THEN 'tempo'
                   ELSE 'none' END AS required_source
     ) r$q$, s, since, upto, col);

  EXECUTE format($q$
    CREATE VIEW %1$s.time_account_monthly AS
    SELECT account_id, date_trunc('month', date)::date AS month,
           round(sum(required_seconds) / 3600.0, 2) AS required_hours,
           round(sum(logged_seconds) / 3600.0, 2) AS logged_hours,
           round(sum(balance_seconds) / 3600.0, 2) AS balance_hours,
           round(sum(sum(balance_seconds)) OVER w / 3600.0, 2) AS cumulative_balance_hours,
           sum(required_seconds)::bigint AS required_seconds,
           sum(logged_seconds)::bigint AS logged_seconds,
           sum(balance_seconds)::bigint AS balance_seconds,
           (sum(sum(balance_seconds)) OVER w)::bigint AS cumulative_balance_seconds
      FROM %1$s.time_account_daily
     GROUP BY 1, 2
    WINDOW w AS (PARTITION BY account_id ORDER BY date_trunc('month', date)::date)$q$, s);

  EXECUTE format($q$
    CREATE VIEW %1$s.time_account_balance AS
    SELECT account_id, %2$s AS as_of,
           round(sum(balance_seconds) / 3600.0, 2) AS balance_hours,
           sum(balance_seconds)::bigint AS balance_seconds
      FROM %1$s.time_account_daily
     GROUP BY account_id$q$, s, upto);

  -- what BI tools show
  EXECUTE format($c$
    COMMENT ON %3$s %1$s.worklog_snapshot IS 'Tempo worklogs the time accounts count, as of the last tempo_fdw.refresh';
    COMMENT ON MATERIALIZED VIEW %1$s.schedule_snapshot IS 'Tempo user schedules of everyone who logged time or holds a contract, as of the last tempo_fdw.refresh';
    COMMENT ON VIEW %1$s.time_account_daily IS 'Per person and day: required time, logged time and their difference, in seconds';
    COMMENT ON COLUMN %1$s.time_account_daily.account_id IS 'Atlassian account id of the person';
    COMMENT ON COLUMN %1$s.time_account_daily.date IS 'The day';
    COMMENT ON COLUMN %1$s.time_account_daily.required_seconds IS 'Required working time: from the contract covering the day, else the Tempo schedule, else 0';
    COMMENT ON COLUMN %1$s.time_account_daily.logged_seconds IS 'Logged time (%2$s) of worklogs on the day';
    COMMENT ON COLUMN %1$s.time_account_daily.billable_seconds IS 'Billable time of worklogs on the day';
    COMMENT ON COLUMN %1$s.time_account_daily.balance_seconds IS 'logged_seconds minus required_seconds';
    COMMENT ON COLUMN %1$s.time_account_daily.day_type IS 'WORKING_DAY, NON_WORKING_DAY, HOLIDAY or HOLIDAY_AND_NON_WORKING_DAY';
    COMMENT ON COLUMN %1$s.time_account_daily.holiday_name IS 'Name of the holiday, if any';
    COMMENT ON COLUMN %1$s.time_account_daily.required_source IS 'Where the required time comes from: contract, tempo or none';
    COMMENT ON VIEW %1$s.time_account_monthly IS 'Per person and month: required, logged and balance hours, and the running balance';
    COMMENT ON COLUMN %1$s.time_account_monthly.account_id IS 'Atlassian account id of the person';
    COMMENT ON COLUMN %1$s.time_account_monthly.month IS 'First day of the month';
    COMMENT ON COLUMN %1$s.time_account_monthly.required_hours IS 'Required hours in the month (2 decimals)';
    COMMENT ON COLUMN %1$s.time_account_monthly.logged_hours IS 'Logged hours in the month (2 decimals)';
    COMMENT ON COLUMN %1$s.time_account_monthly.balance_hours IS 'Logged minus required hours in the month';
    COMMENT ON COLUMN %1$s.time_account_monthly.cumulative_balance_hours IS 'The overtime account at the end of the month';
    COMMENT ON COLUMN %1$s.time_account_monthly.required_seconds IS 'Required time in the month, exact';
    COMMENT ON COLUMN %1$s.time_account_monthly.logged_seconds IS 'Logged time in the month, exact';
    COMMENT ON COLUMN %1$s.time_account_monthly.balance_seconds IS 'Logged minus required time in the month, exact';
    COMMENT ON COLUMN %1$s.time_account_monthly.cumulative_balance_seconds IS 'The overtime account at the end of the month, exact';
    COMMENT ON VIEW %1$s.time_account_balance IS 'Per person: the overtime account as of today (or the end of the accounts)';
    COMMENT ON COLUMN %1$s.time_account_balance.account_id IS 'Atlassian account id of the person';
    COMMENT ON COLUMN %1$s.time_account_balance.as_of IS 'The last day counted';
    COMMENT ON COLUMN %1$s.time_account_balance.balance_hours IS 'Logged minus required hours since the start of the accounts';
    COMMENT ON COLUMN %1$s.time_account_balance.balance_seconds IS 'The same, exact in seconds'
  $c$, s, CASE logged WHEN 'billable' THEN 'billable seconds' ELSE 'time spent' END,
     CASE mode WHEN 'sync' THEN 'VIEW' ELSE 'MATERIALIZED VIEW' END);

  INSERT INTO @extschema@.time_accounts AS t (schema_name, since, until, logged, issue_ids, mode, deletions, reconcile_days)
  VALUES (schema, since, until, logged, issue_ids, mode, deletions, reconcile_days)
  ON CONFLICT (schema_name) DO UPDATE
    SET since = excluded.since, until = excluded.until, logged = excluded.logged,
        issue_ids = excluded.issue_ids, mode = excluded.mode, deletions = excluded.deletions,
        reconcile_days = excluded.reconcile_days, created_at = now();

  IF populate AND mode = 'sync' THEN
    PERFORM @extschema@.sync_run(schema);
    EXECUTE format('REFRESH MATERIALIZED VIEW %s.schedule_snapshot', s);
  ELSIF populate THEN
    EXECUTE format('REFRESH MATERIALIZED VIEW %s.worklog_snapshot', s);
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM %s.worklog_snapshot WHERE source = ''jira'')', s) INTO fallback;
    IF fallback THEN
      RAISE EXCEPTION 'the worklogs of "%" came from the Jira fallback', schema
        USING ERRCODE = 'fdw_error',
              HINT = 'Fix the Tempo connection (tempo_fdw.check_connection), or create the accounts with populate => false and refresh later.';
    END IF;
    EXECUTE format('REFRESH MATERIALIZED VIEW %s.schedule_snapshot', s);
  END IF;
  RETURN format('time accounts in schema %s from %s to %s', s, since, coalesce(until::text, 'today'));
END $fn$;

COMMENT ON FUNCTION create_time_accounts(name, date, date, text, bigint[], boolean, text, text, integer) IS
  'Creates (or replaces) in a schema the materialized snapshots and the views time_account_daily, time_account_monthly and time_account_balance';

-- Refresh the time accounts of a schema; for pg_cron.  One run at a time
-- per schema; a row in refresh_log per run; a run that fails, or whose
-- worklogs came from the Jira fallback (unless allowed), leaves the
-- previous data in place and ends in an ERROR.  Call it at top level (it
-- commits the log row), as pg_cron does.
CREATE PROCEDURE refresh(schema name, allow_fallback boolean DEFAULT false)
LANGUAGE plpgsql
AS $proc$
DECLARE
  s         text := pg_catalog.quote_ident(schema);
  run       bigint;
  requests0 bigint := @extschema@.requests_made();
  populated boolean;
  fallback  boolean;
  wrows     bigint;
  srows     bigint;
  failed    boolean := false;
  err_state text;
  err_msg   text;
  err_detail text;
  note      text;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM @extschema@.time_accounts t WHERE t.schema_name = schema) THEN
    RAISE EXCEPTION 'schema "%" has no time accounts', schema
      USING ERRCODE = 'undefined_object',
            HINT = pg_catalog.format('SELECT tempo_fdw.create_time_accounts(%L);', schema);
  END IF;

  IF NOT pg_catalog.pg_try_advisory_xact_lock(pg_catalog.hashtext('tempo_fdw.refresh'),
                                              pg_catalog.hashtext(schema)) THEN
    INSERT INTO @extschema@.refresh_log (schema_name, started_at, finished_at, outcome, error)
    VALUES (schema, pg_catalog.clock_timestamp(), pg_catalog.clock_timestamp(), 'skipped',
            'another refresh of this schema was running');
    COMMIT;
    RAISE NOTICE 'another refresh of the time accounts in "%" is running: this one is skipped', schema;
    RETURN;
  END IF;

  INSERT INTO @extschema@.refresh_log (schema_name, started_at, outcome)
  VALUES (schema, pg_catalog.clock_timestamp(), 'running') RETURNING run_id INTO run;

  BEGIN
    IF (SELECT t.mode FROM @extschema@.time_accounts t WHERE t.schema_name = schema) = 'sync' THEN
      PERFORM @extschema@.sync_run(schema);
    ELSE
      SELECT c.relispopulated INTO populated FROM pg_catalog.pg_class c
       WHERE c.oid = pg_catalog.to_regclass(s || '.worklog_snapshot');
      EXECUTE pg_catalog.format('REFRESH MATERIALIZED VIEW %s %s.worklog_snapshot',
                                CASE WHEN populated THEN 'CONCURRENTLY' ELSE '' END, s);
    END IF;
    EXECUTE pg_catalog.format('SELECT count(*), count(*) FILTER (WHERE source = ''jira'') > 0 FROM %s.worklog_snapshot', s)
      INTO wrows, fallback;
    IF fallback AND NOT allow_fallback THEN
      RAISE EXCEPTION 'the worklogs came from the Jira fallback'
        USING ERRCODE = 'fdw_error',
              DETAIL = 'Jira attributes Tempo-made worklogs to the Tempo app user: the accounts would be wrong.';
    END IF;
    IF fallback THEN
      -- Tempo cannot serve: its schedules stay as the last good run left them
      note := 'worklogs from the Jira fallback (allowed); schedules kept from the last run';
    ELSE
      SELECT c.relispopulated INTO populated FROM pg_catalog.pg_class c
       WHERE c.oid = pg_catalog.to_regclass(s || '.schedule_snapshot');
      EXECUTE pg_catalog.format('REFRESH MATERIALIZED VIEW %s %s.schedule_snapshot',
                                CASE WHEN populated THEN 'CONCURRENTLY' ELSE '' END, s);
    END IF;
    EXECUTE pg_catalog.format('SELECT count(*) FROM %s.schedule_snapshot', s) INTO srows;
  EXCEPTION WHEN OTHERS THEN
    -- the refreshes above are undone: the previous data stays
    GET STACKED DIAGNOSTICS err_state = RETURNED_SQLSTATE, err_msg = MESSAGE_TEXT,
                            err_detail = PG_EXCEPTION_DETAIL;
    failed := true;
  END;

  UPDATE @extschema@.refresh_log
     SET finished_at = pg_catalog.clock_timestamp(),
         outcome = CASE WHEN failed THEN 'failed' ELSE 'ok' END,
         worklog_rows = wrows, schedule_rows = srows,
         worklog_source = CASE WHEN wrows IS NULL THEN NULL WHEN fallback THEN 'jira' ELSE 'tempo' END,
         requests = @extschema@.requests_made() - requests0,
         error = coalesce(err_msg, note)
   WHERE run_id = run;
  COMMIT;

  IF failed AND coalesce(err_detail, '') = '' THEN
    RAISE EXCEPTION 'refresh of the time accounts in "%" failed: %', schema, err_msg
      USING ERRCODE = err_state,
            HINT = 'The previous data is unchanged; see tempo_fdw.refresh_log (run ' || run || ').';
  ELSIF failed THEN
    RAISE EXCEPTION 'refresh of the time accounts in "%" failed: %', schema, err_msg
      USING ERRCODE = err_state, DETAIL = err_detail,
            HINT = 'The previous data is unchanged; see tempo_fdw.refresh_log (run ' || run || ').';
  ELSIF note IS NOT NULL THEN
    RAISE WARNING 'time accounts in "%": %', schema, note;
  END IF;
END $proc$;

COMMENT ON PROCEDURE refresh(name, boolean) IS
  'Refreshes the time accounts of a schema (for pg_cron): one run at a time, logged in refresh_log, all or nothing';
