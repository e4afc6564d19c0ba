/* tempo_fdw--1.0--1.1.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION tempo_fdw UPDATE TO '1.1'" to load this file. \quit

-- ======================================================================
-- 1.1: what pg_cron runs as a superuser trusts nothing it did not check.
--
-- - refresh and sync resolve every name in pg_catalog (search_path pinned
--   at entry and again after each COMMIT; functions have it pinned by SET);
-- - every object of a time-accounts schema is locked, then checked before
--   use: the foreign tables are tempo_fdw's with the expected resource, the
--   rest are what create_time_accounts made (time_account_objects), and
--   all belong to the accounts' owner; nothing existing is ever adopted;
-- - only that owner (or a superuser, when the owner is one) runs them;
-- - runs serialise on the schema's row of time_accounts, which no other
--   role may lock (1.0 used an advisory key any role could take), and a
--   lock held longer than max_run_time makes the run fail, not skip.
-- ======================================================================

-- Who owns the time accounts, and how long a run may take.  Accounts made
-- by 1.0 belong to the owner of their worklog_snapshot (the role that ran
-- create_time_accounts), else to the extension's owner.
ALTER TABLE time_accounts
  ADD COLUMN owner regrole,
  ADD COLUMN max_run_time interval NOT NULL DEFAULT interval '1 hour'
    CHECK (max_run_time > interval '0');
UPDATE time_accounts t
   SET owner = COALESCE(
         (SELECT c.relowner FROM pg_catalog.pg_class c
           WHERE c.oid = pg_catalog.to_regclass(pg_catalog.format('%I.worklog_snapshot', t.schema_name))),
         (SELECT e.extowner FROM pg_catalog.pg_extension e WHERE e.extname = 'tempo_fdw'))::regrole;
ALTER TABLE time_accounts ALTER COLUMN owner SET NOT NULL;
COMMENT ON COLUMN time_accounts.owner IS
  'The role that made the accounts: what they use must be its own, and only it refreshes them (any superuser when it is one)';
COMMENT ON COLUMN time_accounts.max_run_time IS
  'The longest a refresh or sync may take: a run that finds the lock held longer fails instead of being skipped';

-- What create_time_accounts made in each schema: only these are replaced,
-- refreshed or written; an object of the same name made by anyone else
-- stops the work with an ERROR.
CREATE TABLE time_account_objects (
  schema_name name NOT NULL,
  object_name name NOT NULL,
  kind        text NOT NULL CHECK (kind IN ('table', 'view', 'materialized view')),
  created_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
  PRIMARY KEY (schema_name, object_name)
);
COMMENT ON TABLE time_account_objects IS
  'The relations create_time_accounts made, per schema: the only ones tempo_fdw replaces, refreshes or writes';
SELECT pg_catalog.pg_extension_config_dump('time_account_objects', '');

-- The objects 1.0 made: recorded when they are what 1.0 makes and belong to
-- the accounts' owner (a store another role planted is left out, and the
-- next sync fails naming it).
INSERT INTO time_account_objects (schema_name, object_name, kind)
SELECT t.schema_name, o.name, o.kind
  FROM time_accounts t
 CROSS JOIN (VALUES ('worklog_store'::name, 'r'::"char", 'table'),
                    ('worklog_snapshot', 'm', 'materialized view'),
                    ('worklog_snapshot', 'v', 'view'),
                    ('schedule_snapshot', 'm', 'materialized view'),
                    ('time_account_daily', 'v', 'view'),
                    ('time_account_monthly', 'v', 'view'),
                    ('time_account_balance', 'v', 'view')) o(name, relkind, kind)
  JOIN pg_catalog.pg_class c
    ON c.oid = pg_catalog.to_regclass(pg_catalog.format('%I.%I', t.schema_name, o.name))
 WHERE c.relkind OPERATOR(pg_catalog.=) o.relkind
   AND c.relowner OPERATOR(pg_catalog.=) t.owner::oid;

-- Whether what role "member" owns or runs may be used for the accounts of
-- role "acct_owner": its own, or any superuser's when it is a superuser.
CREATE FUNCTION time_accounts_trust(acct_owner regrole, member regrole)
RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
AS $$
  SELECT acct_owner::oid = member::oid
      OR (SELECT count(*) FROM pg_catalog.pg_roles r
           WHERE r.rolsuper AND r.oid IN (acct_owner::oid, member::oid)) = 2
$$;

-- An ERROR unless the current role may act for the accounts' owner: what a
-- run touches executes with the caller's privileges.
CREATE FUNCTION time_accounts_check_runner(schema name, acct_owner regrole)
RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
  me regrole := (SELECT r.oid FROM pg_roles r WHERE r.rolname = current_user)::regrole;
BEGIN
  IF NOT @extschema@.time_accounts_trust(acct_owner, me) THEN
    RAISE EXCEPTION 'the time accounts in "%" belong to %, not to %', schema, acct_owner, me
      USING ERRCODE = 'insufficient_privilege',
            DETAIL = 'Only their owner (any superuser, when the owner is one) refreshes, synchronises or replaces them.',
            HINT = format('Run it as %s: SET ROLE, or that username for the pg_cron job.', acct_owner);
  END IF;
END $fn$;

-- A relation of a time-accounts schema, before anything uses it: locked
-- until the transaction ends (PREPARE parses and rewrites, which takes the
-- lock, and neither plans nor runs anything), then checked.  With a
-- resource it must be a foreign table of tempo_fdw with that resource;
-- without, one create_time_accounts made, of the kind it made.  Its owner
-- must be trusted by the accounts' owner.  Returns the quoted name; NULL if
-- there is none and missing_ok, else an ERROR.
CREATE FUNCTION checked_relation(schema name, relname name, acct_owner regrole,
                                 resource text DEFAULT NULL, missing_ok boolean DEFAULT false)
RETURNS text
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
  qname text := format('%I.%I', schema, relname);
  rel   regclass := to_regclass(qname);
  c     record;
  made  text;
BEGIN
  IF rel IS NOT NULL AND (SELECT cl.relkind FROM pg_class cl WHERE cl.oid = rel) IN ('r', 'p', 'v', 'm', 'f') THEN
    IF EXISTS (SELECT 1 FROM pg_prepared_statements p WHERE p.name = 'tempo_fdw_lock') THEN
      DEALLOCATE tempo_fdw_lock;
    END IF;
    EXECUTE format('PREPARE tempo_fdw_lock AS SELECT FROM %s', qname);
    DEALLOCATE tempo_fdw_lock;
    rel := to_regclass(qname);   -- locked now: the name keeps meaning this relation
  END IF;
  IF rel IS NULL AND missing_ok THEN
    RETURN NULL;
  ELSIF rel IS NULL THEN
    RAISE EXCEPTION 'relation % does not exist', qname
      USING ERRCODE = 'undefined_table',
            HINT = CASE WHEN resource IS NULL THEN 'Make the time accounts again: tempo_fdw.create_time_accounts.'
                        ELSE format('IMPORT FOREIGN SCHEMA tempo LIMIT TO (%I) FROM SERVER <server> INTO %I;', resource, schema) END;
  END IF;
  SELECT cl.relkind, cl.relowner::regrole AS relowner, w.fdwname, ft.ftoptions,
         CASE WHEN cl.relkind IN ('r', 'p') THEN 'table' WHEN cl.relkind = 'v' THEN 'view'
              WHEN cl.relkind = 'm' THEN 'materialized view' WHEN cl.relkind = 'f' THEN 'foreign table'
              WHEN cl.relkind IN ('i', 'I') THEN 'index' WHEN cl.relkind = 'S' THEN 'sequence'
              ELSE 'relation' END AS kind
    INTO c
    FROM pg_class cl
    LEFT JOIN pg_foreign_table ft ON ft.ftrelid = cl.oid
    LEFT JOIN pg_foreign_server fs ON fs.oid = ft.ftserver
    LEFT JOIN pg_foreign_data_wrapper w ON w.oid = fs.srvfdw
   WHERE cl.oid = rel;
  IF resource IS NOT NULL THEN
    IF c.relkind <> 'f' OR c.fdwname IS DISTINCT FROM 'tempo_fdw'
       OR NOT coalesce(('resource=' || resource) = ANY (c.ftoptions), false) THEN
      RAISE EXCEPTION '% is not a foreign table of tempo_fdw with resource ''%''', qname, resource
        USING ERRCODE = 'wrong_object_type',
              DETAIL = format('It is a %s%s, owned by %s.', c.kind,
                              CASE WHEN c.relkind = 'f' THEN ' of the wrapper ' || quote_ident(c.fdwname) ELSE '' END,
                              c.relowner),
              HINT = format('Drop it and import it again: IMPORT FOREIGN SCHEMA tempo LIMIT TO (%I) FROM SERVER <server> INTO %I;',
                            resource, schema);
    END IF;
  ELSE
    SELECT o.kind INTO made FROM @extschema@.time_account_objects o
     WHERE o.schema_name = schema AND o.object_name = relname;
    IF made IS NULL THEN
      RAISE EXCEPTION '% was not made by tempo_fdw.create_time_accounts', qname
        USING ERRCODE = 'duplicate_table',
              DETAIL = format('It is a %s owned by %s; tempo_fdw never uses or replaces a relation it did not make.',
                              c.kind, c.relowner),
              HINT = 'Drop or rename it (after looking at what it does), then run tempo_fdw.create_time_accounts again.';
    ELSIF made <> c.kind THEN
      RAISE EXCEPTION '% is a % where create_time_accounts made a %', qname, c.kind, made
        USING ERRCODE = 'wrong_object_type',
              DETAIL = format('It is owned by %s.', c.relowner),
              HINT = 'Drop it (after looking at what it does), then run tempo_fdw.create_time_accounts again.';
    END IF;
  END IF;
  IF NOT @extschema@.time_accounts_trust(acct_owner, c.relowner) THEN
    RAISE EXCEPTION '% is owned by %, not by %, the owner of the time accounts', qname, c.relowner, acct_owner
      USING ERRCODE = 'insufficient_privilege',
            DETAIL = 'tempo_fdw uses only relations of the accounts'' owner: what runs in another role''s relation would run with the caller''s privileges.',
            HINT = format('If it is trusted: ALTER %s %s OWNER TO %s; else drop it and run tempo_fdw.create_time_accounts again.',
                          upper(c.kind), qname, acct_owner);
  END IF;
  RETURN qname;
END $fn$;

-- The run lock of a schema: its row of time_accounts, FOR NO KEY UPDATE,
-- which only roles allowed to update that table can take.  When another
-- transaction holds it: that backend, and for how long it has held it.
CREATE FUNCTION time_accounts_run_lock(schema name,
  OUT taken boolean, OUT holder_pid integer, OUT held_for interval, OUT too_long boolean)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
  PERFORM FROM @extschema@.time_accounts t WHERE t.schema_name = schema FOR NO KEY UPDATE SKIP LOCKED;
  taken := FOUND;
  IF NOT taken THEN
    SELECT a.pid, clock_timestamp() - a.xact_start, clock_timestamp() - a.xact_start > t.max_run_time
      INTO holder_pid, held_for, too_long
      FROM @extschema@.time_accounts t
      JOIN pg_locks l ON l.locktype = 'transactionid' AND l.transactionid = t.xmax
                     AND l.mode = 'ExclusiveLock' AND l.granted
      JOIN pg_stat_activity a ON a.pid = l.pid
     WHERE t.schema_name = schema;
    too_long := coalesce(too_long, false);
  END IF;
END $fn$;

-- refresh, sync, sync_run and create_time_accounts, hardened as said above,
-- are defined once, in the next block, which also keeps fallback rows out.

COMMENT ON FUNCTION checked_relation(name, name, regrole, text, boolean) IS
  'A relation of a time-accounts schema, locked and checked (kind, owner, made by create_time_accounts) before use';
COMMENT ON FUNCTION time_accounts_trust(regrole, regrole) IS
  'Whether the time accounts of a role may use what another role owns or runs: its own, or any superuser''s for a superuser';
COMMENT ON FUNCTION time_accounts_check_runner(name, regrole) IS
  'An ERROR unless the current role may refresh, synchronise or replace the time accounts of a schema';
COMMENT ON FUNCTION time_accounts_run_lock(name) IS
  'Takes the run lock of a schema''s time accounts (its row of time_accounts), or says who holds it and for how long';

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

DROP FUNCTION sync_run(name);
DROP PROCEDURE sync(name);

-- A sync that read the Jira fallback (allowed), from tempo_sync_incoming:
-- a Jira row whose id is the twin of a stored worklog updates it with
-- Jira's issue, dates, time and comment (worker, billable time and work
-- attributes stay), marked jira_mapped; any other is stored unattributed,
-- with no author, under minus its Jira id (it has no Tempo id; a negative
-- one never meets a Tempo id).  Nothing is deleted and the watermark stays:
-- the next run that reads Tempo reads everything again and replaces them.
CREATE FUNCTION sync_fallback(store text, seen timestamptz, OUT mapped bigint, OUT unattributed bigint)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
  EXECUTE format($q$UPDATE %1$s w
                       SET source = i.source, issue_id = i.issue_id, start_date = i.start_date,
                           start_time = i.start_time, started_at = i.started_at,
                           time_spent_seconds = i.time_spent_seconds, description = i.description,
                           updated_at = i.updated_at, attribution = 'jira_mapped', last_seen_at = %2$L::timestamptz
                      FROM pg_temp.tempo_sync_incoming i
                     WHERE w.jira_worklog_id OPERATOR(pg_catalog.=) i.worklog_id
                       AND w.attribution OPERATOR(pg_catalog.<>) 'unattributed' AND w.deleted_at IS NULL$q$,
                 store, seen);
  GET DIAGNOSTICS mapped = ROW_COUNT;
  EXECUTE format($q$INSERT INTO %1$s AS w (worklog_id, source, issue_id, author_account_id, start_date, start_time,
                          started_at, time_spent_seconds, billable_seconds, description, created_at, updated_at,
                          attributes, jira_worklog_id, attribution, last_seen_at, deleted_at)
                     SELECT OPERATOR(pg_catalog.-) i.worklog_id, i.source, i.issue_id, NULL, i.start_date,
                            i.start_time, i.started_at, i.time_spent_seconds, NULL, i.description, i.created_at,
                            i.updated_at, NULL, i.worklog_id, 'unattributed', %2$L::timestamptz, NULL
                       FROM pg_temp.tempo_sync_incoming i
                      WHERE NOT EXISTS (SELECT 1 FROM %1$s x
                                         WHERE x.jira_worklog_id OPERATOR(pg_catalog.=) i.worklog_id
                                           AND x.attribution OPERATOR(pg_catalog.<>) 'unattributed'
                                           AND x.deleted_at IS NULL)
                     ON CONFLICT (worklog_id) DO UPDATE SET
                       source = excluded.source, issue_id = excluded.issue_id, start_date = excluded.start_date,
                       start_time = excluded.start_time, started_at = excluded.started_at,
                       time_spent_seconds = excluded.time_spent_seconds, description = excluded.description,
                       updated_at = excluded.updated_at, last_seen_at = excluded.last_seen_at$q$,
                 store, seen);
  GET DIAGNOSTICS unattributed = ROW_COUNT;
END $fn$;
COMMENT ON FUNCTION sync_fallback(text, timestamptz) IS
  'Stores the rows of a sync that read the Jira fallback: attributed to the stored worklogs they are twins of, or unattributed';

-- One sync of a store, in the caller's transaction (see above); full
-- reads everything since "since" and reconciles the whole store; force
-- lifts max_deletion_share.
CREATE FUNCTION sync_run(schema name, full boolean DEFAULT false, force boolean DEFAULT false,
  allow_fallback boolean DEFAULT false,
  OUT inserted bigint, OUT updated bigint, OUT deleted bigint, OUT deletion_source text,
  OUT mapped bigint, OUT unattributed bigint)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET client_min_messages = warning
AS $fn$
DECLARE
  overlap  constant interval := interval '5 minutes';
  cfg      record;
  st       record;
  started  timestamptz := clock_timestamp();
  req0     bigint := @extschema@.requests_made();
  wl       text;
  store    text;
  audit    text;
  ids      bigint[];
  wfrom    date;
  wmark    timestamptz;
  whole    boolean;
  stored   bigint;
  twin     text;
  fb_rows  boolean;
  dropped  bigint := 0;
  cols     constant text := 'worklog_id, source, issue_id, author_account_id, start_date, start_time, '
                            'started_at, time_spent_seconds, billable_seconds, description, created_at, '
                            'updated_at, attributes, jira_worklog_id';
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
  wl := @extschema@.checked_relation(schema, 'worklogs', cfg.owner, 'worklogs');
  store := @extschema@.checked_relation(schema, 'worklog_store', cfg.owner);
  audit := @extschema@.checked_relation(schema, 'worklog_deletions', cfg.owner, 'worklog_deletions', true);
  -- each worklog's Jira twin, for an attributed fallback of the accounts
  -- (a store made before keeps working, and gets the columns now)
  IF NOT @extschema@.relation_has_column(store, 'attribution') THEN
    EXECUTE format('ALTER TABLE %s ADD COLUMN jira_worklog_id bigint, ADD COLUMN attribution text NOT NULL DEFAULT %L '
                   'CHECK (attribution IN (''tempo'', ''jira_mapped'', ''unattributed'')), '
                   'ALTER COLUMN author_account_id DROP NOT NULL, '
                   'ADD CHECK (author_account_id IS NOT NULL OR attribution = ''unattributed'')', store, 'tempo');
  END IF;
  twin := CASE WHEN @extschema@.relation_has_column(wl, 'jira_worklog_id') THEN 'jira_worklog_id'
               ELSE 'NULL::bigint AS jira_worklog_id' END;
  INSERT INTO @extschema@.sync_state AS x (schema_name) VALUES (schema) ON CONFLICT DO NOTHING;
  SELECT * INTO st FROM @extschema@.sync_state x WHERE x.schema_name = schema FOR UPDATE;
  -- rows of an earlier fallback: the next reading of Tempo is a whole one
  EXECUTE format('SELECT EXISTS (SELECT 1 FROM %s w WHERE w.attribution OPERATOR(pg_catalog.<>) %L)', store, 'tempo')
    INTO fb_rows;
  whole := sync_run.full OR st.watermark IS NULL OR fb_rows;

  -- what changed: everything since "since" the first time, then since the watermark
  PERFORM @extschema@.activity_phase(NULL, NULL, NULL, 'worklogs');
  DROP TABLE IF EXISTS pg_temp.tempo_sync_incoming;
  EXECUTE format('CREATE TEMP TABLE tempo_sync_incoming ON COMMIT DROP AS SELECT %s, %s FROM %s WHERE %s',
                 replace(cols, ', jira_worklog_id', ''), twin, wl,
                 CASE WHEN whole THEN format('start_date >= %L::date', cfg.since)
                      ELSE format('updated_at >= %L::timestamptz', st.watermark - overlap) END);
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
    SELECT f.mapped, f.unattributed INTO mapped, unattributed FROM @extschema@.sync_fallback(store, started) f;
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
  EXECUTE format($q$SELECT count(*) FROM pg_temp.tempo_sync_incoming i JOIN %1$s w USING (worklog_id)
                     WHERE (w.source, w.issue_id, w.author_account_id, w.start_date, w.start_time, w.started_at,
                            w.time_spent_seconds, w.billable_seconds, w.description, w.created_at, w.updated_at,
                            w.attributes, w.deleted_at, w.jira_worklog_id, w.attribution)
                           IS DISTINCT FROM
                           (i.source, i.issue_id, i.author_account_id, i.start_date, i.start_time, i.started_at,
                            i.time_spent_seconds, i.billable_seconds, i.description, i.created_at, i.updated_at,
                            i.attributes, NULL::timestamptz, i.jira_worklog_id, 'tempo')$q$, store) INTO updated;
  EXECUTE format($q$WITH up AS (
                       INSERT INTO %1$s AS w (%2$s, attribution, last_seen_at, deleted_at)
                       SELECT %2$s, 'tempo', %3$L::timestamptz, NULL FROM pg_temp.tempo_sync_incoming
                       ON CONFLICT (worklog_id) DO UPDATE SET
                         source = excluded.source, issue_id = excluded.issue_id,
                         author_account_id = excluded.author_account_id, start_date = excluded.start_date,
                         start_time = excluded.start_time, started_at = excluded.started_at,
                         time_spent_seconds = excluded.time_spent_seconds,
                         billable_seconds = excluded.billable_seconds, description = excluded.description,
                         created_at = excluded.created_at, updated_at = excluded.updated_at,
                         attributes = excluded.attributes, jira_worklog_id = excluded.jira_worklog_id,
                         attribution = excluded.attribution, last_seen_at = excluded.last_seen_at,
                         deleted_at = NULL
                       RETURNING xmax = 0 AS was_inserted)
                     SELECT count(*) FILTER (WHERE was_inserted) FROM up$q$, store, cols, started) INTO inserted;
  IF fb_rows THEN
    -- what the fallback could not attribute now came from Tempo, under Tempo ids
    EXECUTE format('DELETE FROM %s w WHERE w.attribution OPERATOR(pg_catalog.=) %L', store, 'unattributed');
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
    IF audit IS NOT NULL THEN
      BEGIN
        EXECUTE format('SELECT coalesce(array_agg(worklog_id), ''{}'') FROM %s WHERE deleted_at >= %L::timestamptz',
                       audit, greatest(st.last_started - overlap, now() - interval '179 days')) INTO ids;
        deletion_source := 'audit';
      EXCEPTION WHEN insufficient_privilege OR invalid_authorization_specification OR fdw_table_not_found THEN
        deletion_source := 'reconcile';
      END;
    END IF;
    IF deletion_source = 'reconcile' THEN
      wfrom := greatest(cfg.since, current_date - cfg.reconcile_days);
      DROP TABLE IF EXISTS pg_temp.tempo_sync_window;
      EXECUTE format('CREATE TEMP TABLE tempo_sync_window ON COMMIT DROP AS SELECT worklog_id, source FROM %s WHERE start_date >= %L::date',
                     wl, wfrom);
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
    EXECUTE format('SELECT count(*) FROM %s w WHERE w.deleted_at IS NULL AND w.start_date >= %L::date',
                   store, wfrom) INTO stored;
    EXECUTE format('SELECT coalesce(array_agg(worklog_id), ''{}'') FROM %s w
                     WHERE w.deleted_at IS NULL AND w.start_date >= %L::date
                       AND NOT EXISTS (SELECT 1 FROM pg_temp.tempo_sync_window x WHERE x.worklog_id = w.worklog_id)',
                   store, wfrom) INTO ids;
    IF NOT sync_run.force AND cardinality(ids) > cfg.max_deletion_share * stored THEN
      RAISE EXCEPTION 'sync of "%" would delete % of the % stored worklogs since %', schema, cardinality(ids), stored, wfrom
        USING ERRCODE = 'data_exception',
              DETAIL = format('That is more than max_deletion_share (%s) of the window; nothing was changed.', cfg.max_deletion_share),
              HINT = format('If Tempo really lost them: CALL tempo_fdw.sync(%L, force => true); or raise tempo_fdw.time_accounts.max_deletion_share.', schema);
    END IF;
  END IF;
  IF cfg.deletions = 'mark' THEN
    EXECUTE format('UPDATE %s SET deleted_at = %L::timestamptz WHERE deleted_at IS NULL AND worklog_id = ANY (%L::bigint[])',
                   store, started, ids);
  ELSE
    EXECUTE format('DELETE FROM %s WHERE worklog_id = ANY (%L::bigint[])', store, ids);
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

-- Synchronise a store; for pg_cron (see above); full and force as in
-- sync_run.
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

CREATE PROCEDURE sync(schema name, full boolean DEFAULT false, force boolean DEFAULT false,
                      allow_fallback boolean DEFAULT false)
LANGUAGE plpgsql
AS $proc$
DECLARE
  cfg       record;
  taken     boolean := true;
  holder    integer;
  held      interval;
  too_long  boolean;
  run       bigint;
  ins       bigint;
  upd       bigint;
  mapped    bigint;
  unattrib  bigint;
  srows     bigint;
  requests0 bigint;
  locked    boolean := false;
  failed    boolean := false;
  err_state text;
  err_msg   text;
  err_detail text;
  err_hint  text;
BEGIN
  PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
  PERFORM @extschema@.refuse_transaction_block('sync');
  SELECT * INTO cfg FROM @extschema@.time_accounts t WHERE t.schema_name = schema AND t.mode = 'sync';
  IF FOUND THEN
    locked := true;
    PERFORM @extschema@.time_accounts_check_runner(schema, cfg.owner);
    SELECT l.taken, l.holder_pid, l.held_for, l.too_long INTO taken, holder, held, too_long
      FROM @extschema@.time_accounts_run_lock(schema) l;
  END IF;
  requests0 := @extschema@.requests_made();
  IF NOT taken THEN
    INSERT INTO @extschema@.refresh_log (schema_name, kind, started_at, finished_at, outcome, error)
    VALUES (schema, 'sync', clock_timestamp(), clock_timestamp(), 'skipped',
            CASE WHEN too_long THEN format('another run of this schema has held its lock for %s (backend %s), longer than max_run_time',
                                              held, holder)
                 ELSE 'another refresh or sync of this schema was running' END);
    COMMIT;
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    IF too_long THEN
      RAISE EXCEPTION 'sync of the worklogs in "%" skipped: another run has held the lock for %', schema, held
        USING ERRCODE = 'lock_not_available',
              DETAIL = format('Backend %s holds it; max_run_time of these time accounts is %s.', holder, cfg.max_run_time),
              HINT = 'Look at that backend in pg_stat_activity: end it if it is stuck (pg_cancel_backend), or raise tempo_fdw.time_accounts.max_run_time.';
    END IF;
    RAISE NOTICE 'another refresh or sync of "%" is running: this one is skipped', schema;
    RETURN;
  END IF;
  run := @extschema@.run_begin(schema, 'sync');
  COMMIT;
  PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
  IF locked AND NOT @extschema@.run_relock(schema, run) THEN
    RETURN;
  END IF;
  BEGIN
    SELECT r.inserted, r.updated, r.mapped, r.unattributed INTO ins, upd, mapped, unattrib
      FROM @extschema@.sync_run(schema, sync.full, sync.force, sync.allow_fallback) r;
    -- Tempo's schedules too (the new days, the last ones again; full: all);
    -- after a run from the Jira fallback they stay as they were
    IF mapped IS NULL THEN
      PERFORM @extschema@.activity_phase(NULL, NULL, NULL, 'schedules');
      SELECT r.schedule_rows INTO srows FROM @extschema@.refresh_schedules(schema, cfg.owner, sync.full) r;
    END IF;
  EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS err_state = RETURNED_SQLSTATE, err_msg = MESSAGE_TEXT,
                            err_detail = PG_EXCEPTION_DETAIL, err_hint = PG_EXCEPTION_HINT;
    failed := true;
  END;
  IF failed THEN
    UPDATE @extschema@.sync_state x SET last_outcome = 'failed', error = err_msg WHERE x.schema_name = schema;
  END IF;
  UPDATE @extschema@.refresh_log
     SET finished_at = clock_timestamp(),
         outcome = CASE WHEN failed THEN 'failed' ELSE 'ok' END,
         worklog_rows = ins + upd, schedule_rows = srows,
         worklog_source = CASE WHEN failed THEN NULL WHEN mapped IS NOT NULL THEN 'jira' ELSE 'tempo' END,
         mapped_rows = CASE WHEN failed THEN NULL ELSE coalesce(mapped, 0) END,
         unattributed_rows = CASE WHEN failed THEN NULL ELSE coalesce(unattrib, 0) END,
         requests = @extschema@.requests_made() - requests0,
         error = err_msg
   WHERE run_id = run;
  COMMIT;
  PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
  PERFORM @extschema@.activity_phase(NULL, NULL, NULL, NULL);
  IF failed THEN
    err_hint := format('%s%sThe store, its watermark and the schedules are unchanged; the next run picks up from there.',
                       err_hint, CASE WHEN err_hint <> '' THEN ' ' ELSE '' END);
  END IF;
  IF failed AND coalesce(err_detail, '') = '' THEN
    RAISE EXCEPTION 'sync of the worklogs in "%" failed: %', schema, err_msg
      USING ERRCODE = err_state, HINT = err_hint;
  ELSIF failed THEN
    RAISE EXCEPTION 'sync of the worklogs in "%" failed: %', schema, err_msg
      USING ERRCODE = err_state, DETAIL = err_detail, HINT = err_hint;
  ELSIF mapped IS NOT NULL THEN
    RAISE WARNING 'sync of the worklogs in "%": from the Jira fallback (allowed): % attributed from the stored Tempo data, % unattributed',
                  schema, mapped, unattrib
      USING DETAIL = 'Unattributed rows count for nobody (time_account_unattributed); nothing was deleted and the watermark stays.',
            HINT = 'The next run that reads Tempo reads every worklog since "since" again and replaces these rows.';
  END IF;
END $proc$;
COMMENT ON PROCEDURE sync(name, boolean, boolean, boolean) IS
  'Brings the worklog store of a schema in step with Tempo (changes since the watermark, deletions; full: everything since "since"; allow_fallback: attributed Jira rows when Tempo fails); for pg_cron';

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

-- Tempo's schedules are kept in a table per schema, schedule_snapshot,
-- fetched incrementally by whatever runs (refresh, sync, create_time_accounts):
-- per person, from the day after the last day fetched, or from
-- schedule_recheck_days before today when that is earlier (Tempo's schedules
-- change when an admin edits a holiday or a workload scheme), up to the last
-- day that can count (today in the accounts' zone, at most until).  A person
-- fetched never before: everything since "since".  schedule_fetched says per
-- person which days are there.  A failed request fails the run: nothing is
-- half fetched.
ALTER TABLE time_accounts
  ADD COLUMN schedule_recheck_days integer NOT NULL DEFAULT 31 CHECK (schedule_recheck_days >= 0);
COMMENT ON COLUMN time_accounts.schedule_recheck_days IS
  'How many days before today each run fetches Tempo''s schedules again (older days are fetched once; sync with full => true fetches all again)';

-- The Tempo schedules of a schema's people brought up to date (see above);
-- whole: every day since "since" again.  Accounts made by 1.0 (a
-- materialized view) are refreshed whole.  fetched_rows: the schedule days
-- received; schedule_rows: the days kept.
CREATE FUNCTION refresh_schedules(schema name, acct_owner regrole, whole boolean DEFAULT false,
  OUT fetched_rows bigint, OUT schedule_rows bigint)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET client_min_messages = warning
AS $fn$
DECLARE
  cfg     record;
  kind    text;
  ssnap   text := @extschema@.checked_relation(schema, 'schedule_snapshot', acct_owner);
  fetched text;
  us      text;
  wsnap   text;
  today   date;
  upto    date;
  grp     record;
  populated boolean;
BEGIN
  SELECT * INTO cfg FROM @extschema@.time_accounts t WHERE t.schema_name = schema;
  SELECT o.kind INTO kind FROM @extschema@.time_account_objects o
   WHERE o.schema_name = schema AND o.object_name = 'schedule_snapshot';
  IF kind = 'materialized view' THEN
    SELECT c.relispopulated INTO populated FROM pg_class c WHERE c.oid = to_regclass(ssnap);
    EXECUTE format('REFRESH MATERIALIZED VIEW %s %s', CASE WHEN populated THEN 'CONCURRENTLY' ELSE '' END, ssnap);
    EXECUTE format('SELECT count(*) FROM %s', ssnap) INTO schedule_rows;
    fetched_rows := schedule_rows;
    RETURN;
  END IF;
  fetched_rows := 0;
  IF cfg.schedules = 'local' THEN
    schedule_rows := 0;
    RETURN;
  END IF;
  fetched := @extschema@.checked_relation(schema, 'schedule_fetched', acct_owner);
  us := @extschema@.checked_relation(schema, 'user_schedules', acct_owner, 'user_schedules');
  wsnap := @extschema@.checked_relation(schema, 'worklog_snapshot', acct_owner);
  today := (now() AT TIME ZONE coalesce(cfg.time_zone, current_setting('TimeZone')))::date;
  upto := least(cfg.until, today);

  -- whose: the listed people, and with people => authors everyone who
  -- logged time or holds a contract
  DROP TABLE IF EXISTS pg_temp.tempo_sched_want;
  EXECUTE format($q$
    CREATE TEMP TABLE tempo_sched_want ON COMMIT DROP AS
    SELECT p.account_id,
           CASE WHEN %3$L OR f.account_id IS NULL OR f.first_day > %4$L::date THEN %4$L::date
                ELSE greatest(%4$L::date, least(f.last_day + 1, %5$L::date - %6$s)) END AS from_day,
           %7$L::date AS to_day
      FROM (SELECT x.account_id FROM @extschema@.time_account_people x WHERE x.schema_name = %8$L
            %9$s) p
      LEFT JOIN %2$s f ON f.account_id OPERATOR(pg_catalog.=) p.account_id$q$,
    ssnap, fetched, whole, cfg.since, today, cfg.schedule_recheck_days, upto, schema,
    CASE WHEN cfg.people = 'authors'
         THEN format('UNION SELECT w.account_id FROM %s w WHERE w.account_id IS NOT NULL
                      UNION SELECT c.account_id FROM @extschema@.time_account_contracts c
                       WHERE c.schema_name OPERATOR(pg_catalog.=) %L OR c.schema_name IS NULL', wsnap, schema)
         ELSE '' END);

  -- one request per person asked: those with the same days together
  DROP TABLE IF EXISTS pg_temp.tempo_sched_incoming;
  CREATE TEMP TABLE tempo_sched_incoming (account_id text, date date, required_seconds integer, day_type text,
                                          holiday_name text, holiday_seconds integer) ON COMMIT DROP;
  BEGIN
    FOR grp IN SELECT w.from_day, w.to_day, array_agg(w.account_id ORDER BY w.account_id) AS ids
                 FROM pg_temp.tempo_sched_want w WHERE w.from_day <= w.to_day
                GROUP BY 1, 2 ORDER BY 1, 2 LOOP
      EXECUTE format($q$INSERT INTO pg_temp.tempo_sched_incoming
                        SELECT us.account_id, us.date, us.required_seconds, us.day_type, us.holiday_name, us.holiday_seconds
                          FROM %s us
                         WHERE us.account_id = ANY (%L::text[]) AND us.date >= %L::date AND us.date <= %L::date$q$,
                     us, grp.ids, grp.from_day, grp.to_day);
    END LOOP;
  EXCEPTION WHEN insufficient_privilege THEN
    RAISE EXCEPTION 'the Tempo token of schema "%" cannot read user schedules', schema
      USING ERRCODE = 'insufficient_privilege',
            DETAIL = 'Tempo answered 403: the token lacks "View schemes" (a token with "View worklogs" only is common).',
            HINT = format('Take required time from contracts and a local holiday calendar: SELECT tempo_fdw.create_time_accounts(%L, schedules => ''local'', calendar => ...) '
                          '(or schedules => ''tempo_or_local'', which does so when the token cannot read schedules); or create a token with "View schemes".', schema);
  END;
  SELECT count(*) INTO fetched_rows FROM pg_temp.tempo_sched_incoming;

  -- the days asked for are replaced; people who no longer have accounts go
  EXECUTE format($q$DELETE FROM %s s USING pg_temp.tempo_sched_want w
                     WHERE s.account_id OPERATOR(pg_catalog.=) w.account_id AND w.from_day <= w.to_day
                       AND s.date >= w.from_day$q$, ssnap);
  EXECUTE format('INSERT INTO %s SELECT * FROM pg_temp.tempo_sched_incoming', ssnap);
  EXECUTE format($q$DELETE FROM %s s WHERE NOT EXISTS (SELECT 1 FROM pg_temp.tempo_sched_want w
                                                       WHERE w.account_id OPERATOR(pg_catalog.=) s.account_id)$q$, ssnap);
  EXECUTE format($q$DELETE FROM %s f WHERE NOT EXISTS (SELECT 1 FROM pg_temp.tempo_sched_want w
                                                       WHERE w.account_id OPERATOR(pg_catalog.=) f.account_id)$q$, fetched);
  EXECUTE format($q$INSERT INTO %s AS f (account_id, first_day, last_day, fetched_at)
                     SELECT w.account_id, w.from_day, w.to_day, pg_catalog.now() FROM pg_temp.tempo_sched_want w
                      WHERE w.from_day <= w.to_day
                     ON CONFLICT (account_id) DO UPDATE
                       SET first_day = least(f.first_day, excluded.first_day), last_day = excluded.last_day,
                           fetched_at = excluded.fetched_at$q$, fetched);
  EXECUTE format('SELECT count(*) FROM %s', ssnap) INTO schedule_rows;
END $fn$;
COMMENT ON FUNCTION refresh_schedules(name, regrole, boolean) IS
  'Brings the Tempo schedules of a schema''s people up to date: new days, the last schedule_recheck_days again, everything for a new person (whole: everything)';

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
  SELECT coalesce(array_agg(DISTINCT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(r.rolname) END), '{}')
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
                                        (-2, 'time_account_weekly')) n(pos, name) ORDER BY n.pos LOOP
    rel := @extschema@.checked_relation(schema, obj.name, me, NULL, true);
    IF rel IS NOT NULL THEN
      existed := existed || obj.name;
      -- its grants (a BI role's SELECT) are given again to what replaces it
      SELECT grants || coalesce(array_agg(format('GRANT %s ON %s TO %s%s', a.privilege_type, rel,
                                                 CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(r.rolname) END,
                                                 CASE WHEN a.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END)), '{}')
        INTO grants
        FROM pg_class c CROSS JOIN LATERAL aclexplode(c.relacl) a
        LEFT JOIN pg_roles r ON r.oid = a.grantee
       WHERE c.oid = to_regclass(rel) AND a.grantee <> c.relowner;
      EXECUTE format('DROP %s %s', (SELECT o.kind FROM @extschema@.time_account_objects o
                                     WHERE o.schema_name = schema AND o.object_name = obj.name), rel);
    END IF;
    DELETE FROM @extschema@.time_account_objects o WHERE o.schema_name = schema AND o.object_name = obj.name;
  END LOOP;

  -- each worklog's Jira twin, when the foreign table has the column
  twin := CASE WHEN @extschema@.relation_has_column(format('%I.worklogs', schema), 'jira_worklog_id')
               THEN 'w.jira_worklog_id' ELSE 'NULL::bigint' END;
  IF mode = 'snapshot' THEN
    -- the Jira twins of the last good Tempo data: a fallback row whose id
    -- is there goes to its worker (kept when the accounts are made again)
    IF @extschema@.checked_relation(schema, 'worklog_twins', me, NULL, true) IS NULL THEN
      DELETE FROM @extschema@.time_account_objects o WHERE o.schema_name = schema AND o.object_name = 'worklog_twins';
      EXECUTE format($q$
        CREATE TABLE %1$s.worklog_twins (
          jira_worklog_id bigint PRIMARY KEY, worklog_id bigint NOT NULL,
          account_id text NOT NULL, billable_seconds integer)$q$, s);
      EXECUTE format($c$COMMENT ON TABLE %s.worklog_twins IS 'The Jira twin of each worklog of the last tempo_fdw.refresh that read Tempo, with its worker and billable time: what a refresh from the Jira fallback attributes rows with'$c$, s);
      INSERT INTO @extschema@.time_account_objects (schema_name, object_name, kind) VALUES (schema, 'worklog_twins', 'table');
    END IF;
    EXECUTE format($q$
      CREATE MATERIALIZED VIEW %1$s.worklog_snapshot AS
      SELECT coalesce(t.worklog_id, w.worklog_id) AS worklog_id, w.source, w.issue_id,
             CASE WHEN w.source OPERATOR(pg_catalog.=) 'tempo' THEN w.author_account_id ELSE t.account_id END AS account_id,
             w.start_date, w.time_spent_seconds,
             CASE WHEN w.source OPERATOR(pg_catalog.=) 'tempo' THEN w.billable_seconds ELSE t.billable_seconds END AS billable_seconds,
             w.updated_at, %6$s AS jira_worklog_id,
             CASE WHEN w.source OPERATOR(pg_catalog.=) 'tempo' THEN 'tempo'
                  WHEN t.worklog_id IS NOT NULL THEN 'jira_mapped' ELSE 'unattributed' END AS attribution
        FROM %1$s.worklogs w
        LEFT JOIN %1$s.worklog_twins t
               ON w.source OPERATOR(pg_catalog.<>) 'tempo' AND t.jira_worklog_id OPERATOR(pg_catalog.=) %6$s
       WHERE w.start_date >= %2$L::date AND w.start_date <= %3$s %4$s
         AND (w.source OPERATOR(pg_catalog.=) 'tempo' OR @extschema@.snapshot_fallback_guard(%5$L, w.source))
      WITH NO DATA$q$, s, since, upto,
      CASE WHEN issue_ids IS NULL THEN '' ELSE format('AND w.issue_id = ANY (%L::bigint[])', issue_ids || absence_issue_ids) END, schema, twin);
    EXECUTE format('CREATE UNIQUE INDEX ON %s.worklog_snapshot (attribution, worklog_id)', s);
  ELSE
    -- the store keeps its rows when the accounts are made again; a store
    -- create_time_accounts did not make is never taken over
    IF @extschema@.checked_relation(schema, 'worklog_store', me, NULL, true) IS NULL THEN
      DELETE FROM @extschema@.time_account_objects o WHERE o.schema_name = schema AND o.object_name = 'worklog_store';
      EXECUTE format($q$
        CREATE TABLE %1$s.worklog_store (
          worklog_id bigint PRIMARY KEY, source text NOT NULL, issue_id bigint NOT NULL,
          author_account_id text, start_date date NOT NULL, start_time time,
          started_at timestamptz, time_spent_seconds integer NOT NULL, billable_seconds integer,
          description text, created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL,
          attributes jsonb, last_seen_at timestamptz NOT NULL, deleted_at timestamptz,
          jira_worklog_id bigint, attribution text NOT NULL DEFAULT 'tempo'
            CHECK (attribution IN ('tempo', 'jira_mapped', 'unattributed')),
          CHECK (author_account_id IS NOT NULL OR attribution = 'unattributed'))$q$, s);
      EXECUTE format('CREATE INDEX worklog_store_start_date ON %s.worklog_store (start_date)', s);
      EXECUTE format($c$COMMENT ON TABLE %s.worklog_store IS 'Tempo worklogs kept in step by tempo_fdw.sync: changes since the watermark, deletions from the audit log or a trailing window'$c$, s);
      INSERT INTO @extschema@.time_account_objects (schema_name, object_name, kind) VALUES (schema, 'worklog_store', 'table');
    ELSIF prev_since IS NOT NULL AND since < prev_since THEN
      -- an earlier start: the next sync reads everything since "since" again
      -- and reconciles the whole store
      UPDATE @extschema@.sync_state x SET watermark = NULL WHERE x.schema_name = schema;
    END IF;
    IF NOT @extschema@.relation_has_column(format('%I.worklog_store', schema), 'attribution') THEN
      EXECUTE format('ALTER TABLE %s.worklog_store ADD COLUMN jira_worklog_id bigint, ADD COLUMN attribution text NOT NULL DEFAULT %L '
                     'CHECK (attribution IN (''tempo'', ''jira_mapped'', ''unattributed'')), '
                     'ALTER COLUMN author_account_id DROP NOT NULL, '
                     'ADD CHECK (author_account_id IS NOT NULL OR attribution = ''unattributed'')', s, 'tempo');
    END IF;
    EXECUTE format($q$
      CREATE VIEW %1$s.worklog_snapshot AS
      SELECT CASE WHEN attribution OPERATOR(pg_catalog.=) 'unattributed' THEN jira_worklog_id ELSE worklog_id END AS worklog_id,
             source, issue_id,
             CASE WHEN attribution OPERATOR(pg_catalog.=) 'unattributed' THEN NULL ELSE author_account_id END AS account_id,
             start_date, time_spent_seconds, billable_seconds, updated_at, jira_worklog_id, attribution
        FROM %1$s.worklog_store
       WHERE deleted_at IS NULL AND start_date >= %2$L::date AND start_date <= %3$s %4$s$q$, s, since, upto,
      CASE WHEN issue_ids IS NULL THEN '' ELSE format('AND issue_id = ANY (%L::bigint[])', issue_ids || absence_issue_ids) END);
  END IF;
  -- Tempo's schedules of the people with accounts, fetched incrementally
  -- (refresh_schedules; empty with schedules => 'local', never read)
  EXECUTE format($q$
    CREATE TABLE %1$s.schedule_snapshot (
      account_id text NOT NULL, date date NOT NULL, required_seconds integer, day_type text,
      holiday_name text, holiday_seconds integer, PRIMARY KEY (account_id, date));
    CREATE TABLE %1$s.schedule_fetched (
      account_id text PRIMARY KEY, first_day date NOT NULL, last_day date NOT NULL,
      fetched_at timestamptz NOT NULL)$q$, s);

  PERFORM @extschema@.time_account_views(schema, since, asof, col, schedules, people, calendar, absence_issue_ids);
  PERFORM @extschema@.time_account_status_view(schema, asof, mode, schedules);

  -- fallback rows of no known worker: counted for nobody, shown here
  EXECUTE format($q$
    CREATE VIEW %1$s.time_account_unattributed AS
    SELECT start_date AS date, issue_id, sum(time_spent_seconds)::bigint AS seconds
      FROM %1$s.worklog_snapshot
     WHERE attribution OPERATOR(pg_catalog.=) 'unattributed'
     GROUP BY 1, 2$q$, s);

  -- what BI tools show
  EXECUTE format($c$
    COMMENT ON %3$s %1$s.worklog_snapshot IS 'Tempo worklogs the time accounts count, as of the last tempo_fdw.refresh';
    COMMENT ON TABLE %1$s.schedule_snapshot IS %4$L;
    COMMENT ON TABLE %1$s.schedule_fetched IS 'Per person, the days of Tempo''s schedule in schedule_snapshot (first_day to last_day) and when they were last fetched';
    COMMENT ON COLUMN %1$s.time_account_daily.logged_seconds IS 'Logged time (%2$s) of worklogs on the day';
    COMMENT ON COLUMN %1$s.time_account_balance.as_of IS %5$L;
    COMMENT ON COLUMN %1$s.worklog_snapshot.jira_worklog_id IS 'Id of the worklog''s twin in Jira';
    COMMENT ON COLUMN %1$s.worklog_snapshot.attribution IS 'tempo: from Tempo; jira_mapped: from the Jira fallback, worker and billable time from the last good Tempo data; unattributed: from the Jira fallback with no known worker (account_id NULL)';
    COMMENT ON VIEW %1$s.time_account_unattributed IS 'Time from the Jira fallback that no worker is known for (made while Tempo could not be read): counted in no account until the next refresh from Tempo';
    COMMENT ON COLUMN %1$s.time_account_unattributed.date IS 'Day of the work (Jira''s started, in its offset)';
    COMMENT ON COLUMN %1$s.time_account_unattributed.issue_id IS 'Jira issue id';
    COMMENT ON COLUMN %1$s.time_account_unattributed.seconds IS 'Logged time in seconds'
  $c$, s, CASE logged WHEN 'billable' THEN 'billable seconds' ELSE 'time spent' END,
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
      EXECUTE format('GRANT SELECT ON %s.time_account_weekly TO %s', s, g);
    END IF;
    EXECUTE format('GRANT SELECT ON %s.time_account_status TO %s', s, g);
  END LOOP;

  INSERT INTO @extschema@.time_account_objects (schema_name, object_name, kind)
  VALUES (schema, 'worklog_snapshot', CASE mode WHEN 'sync' THEN 'view' ELSE 'materialized view' END),
         (schema, 'schedule_snapshot', 'table'), (schema, 'schedule_fetched', 'table'), (schema, 'time_account_daily', 'view'),
         (schema, 'time_account_monthly', 'view'), (schema, 'time_account_balance', 'view'),
         (schema, 'time_account_unaccounted', 'view'), (schema, 'time_account_unattributed', 'view'),
         (schema, 'time_account_weekly', 'view'), (schema, 'time_account_status', 'view');
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

  IF populate AND mode = 'sync' THEN
    PERFORM @extschema@.sync_run(schema);
  ELSIF populate THEN
    EXECUTE format('REFRESH MATERIALIZED VIEW %s.worklog_snapshot', s);
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM %s.worklog_snapshot WHERE source = ''jira'')', s) INTO fallback;
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
      GET STACKED DIAGNOSTICS g = MESSAGE_TEXT;
      IF g !~ '/user-schedule/[^?/]+' THEN
        RAISE;
      END IF;
      SELECT u.detail, u.hint INTO rel, twin FROM @extschema@.unknown_schedule_account(schema, g) u;
      RAISE EXCEPTION 'the schedules of the time accounts in "%" could not be read: %', schema, g
        USING ERRCODE = 'fdw_table_not_found', DETAIL = rel, HINT = twin;
    END;
  END IF;
  RETURN format('time accounts in schema %s from %s to %s%s', s, since, coalesce(until::text, 'today'),
                CASE WHEN fell_back THEN ' (schedules => local: the token cannot read Tempo''s schedules)' ELSE '' END);
END $fn$;
COMMENT ON FUNCTION create_time_accounts(name, date, date, text, bigint[], boolean, text, text, integer, text, text, text, text, boolean, bigint[]) IS
  'Creates (or replaces) time account views over the Tempo foreign tables of a schema: daily, monthly and balance, from contracts, Tempo schedules or local calendars, people and absences';

-- Refresh the time accounts of a schema (see above); reads with the
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
  cron_job   text;   -- cron.job and cron.unschedule(bigint), if they are pg_cron's
  cron_unsch text;
  cron_nsp   name;
  j          jsonb;
  target     name;
BEGIN
  SELECT format('%I.%I', n.nspname, c.relname), n.nspname INTO cron_job, cron_nsp
    FROM pg_extension e
    JOIN pg_depend d ON d.refclassid = 'pg_extension'::regclass AND d.refobjid = e.oid AND d.deptype = 'e'
                    AND d.classid = 'pg_class'::regclass
    JOIN pg_class c ON c.oid = d.objid AND c.relname = 'job' AND c.relkind = 'r'
    JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE e.extname = 'pg_cron';
  SELECT format('%I.%I', n.nspname, p.proname) INTO cron_unsch
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
  ELSIF NOT has_schema_privilege(cron_nsp, 'USAGE') OR NOT has_table_privilege(cron_job::regclass, 'SELECT')
        OR NOT has_function_privilege(format('%s(bigint)', cron_unsch)::regprocedure, 'EXECUTE') THEN
    outcome := 'not looked at: this role may not use pg_cron (USAGE on its schema), so it has no jobs to remove';
    RETURN NEXT;
    RETURN;
  END IF;
  IF NOT (SELECT r.rolsuper FROM pg_roles r WHERE r.rolname = current_user) THEN
    outcome := 'only this role''s jobs were looked at: pg_cron shows and unschedules no other role''s '
               'but to a superuser; jobs of other roles for this schema stay';
    RETURN NEXT;
  END IF;
  FOR j IN EXECUTE format('SELECT to_jsonb(x) FROM %s x WHERE x.database = current_database() ORDER BY x.jobid', cron_job) LOOP
    object := format('pg_cron job %s%s of %s: %s', j ->> 'jobid', coalesce(' ' || quote_ident(j ->> 'jobname'), ''),
                     quote_ident(j ->> 'username'), j ->> 'command');
    target := @extschema@.cron_command_schema(j ->> 'command');
    IF target = schema THEN
      EXECUTE format('SELECT %s(%L::bigint)', cron_unsch, j ->> 'jobid');
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
            ORDER BY array_position(ARRAY['time_account_status', 'time_account_weekly',
                                          'time_account_unaccounted', 'time_account_unattributed', 'time_account_balance',
                                          'time_account_monthly', 'time_account_daily', 'schedule_snapshot', 'schedule_fetched', 'worklog_snapshot',
                                          'worklog_twins', 'worklog_store']::name[], x.object_name)
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
        EXECUTE format('DROP %s %s', upper(o.kind), rel);
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

  DELETE FROM @extschema@.time_account_objects x WHERE x.schema_name = schema;
  DELETE FROM @extschema@.sync_state x WHERE x.schema_name = schema;
  DELETE FROM @extschema@.time_accounts t WHERE t.schema_name = schema;
  RETURN QUERY SELECT j.object, j.outcome FROM @extschema@.drop_time_accounts_jobs(schema) j;
END $fn$;

COMMENT ON FUNCTION cron_command_schema(text) IS
  'The schema a pg_cron command runs tempo_fdw.refresh or tempo_fdw.sync for, when it is one such call and nothing else';
COMMENT ON FUNCTION drop_time_accounts_jobs(name) IS
  'Unschedules the pg_cron jobs of this database that run tempo_fdw.refresh or sync for a schema; a row per job';
COMMENT ON FUNCTION drop_time_accounts(name, boolean) IS
  'Removes what create_time_accounts made in a schema (the store only with drop_store), its rows and pg_cron jobs; a row per object';

-- ======================================================================
-- 1.1: cumulative statistics of the scans, per server and resource (the
-- counters live in shared memory when tempo_fdw is preloaded).
-- ======================================================================

CREATE FUNCTION scan_stats(OUT serverid oid, OUT resource text, OUT scans bigint, OUT errors bigint,
                           OUT fallbacks bigint, OUT rows bigint, OUT pages bigint, OUT requests bigint,
                           OUT retries bigint, OUT throttled bigint, OUT bytes bigint, OUT http_ms bigint,
                           OUT budget_wait_ms bigint, OUT retry_wait_ms bigint,
                           OUT since timestamptz, OUT shared boolean, OUT errors_auth bigint,
                           OUT errors_network bigint, OUT errors_http bigint, OUT errors_other bigint)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'tempo_fdw_stats'
LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION scan_stats() IS
  'The scans'' counters of this database, per server and resource (see the view stats)';

CREATE FUNCTION stats_reset()
RETURNS void
AS 'MODULE_PATHNAME', 'tempo_fdw_stats_reset'
LANGUAGE C STRICT VOLATILE;
REVOKE ALL ON FUNCTION stats_reset() FROM PUBLIC;
COMMENT ON FUNCTION stats_reset() IS
  'Sets every counter of the view stats back to zero, in every database (superusers, and roles granted EXECUTE)';

CREATE VIEW stats AS
SELECT s.srvname AS server_name, c.resource, c.scans, c.errors, c.errors_auth, c.errors_network,
       c.errors_http, c.errors_other, c.fallbacks, c.rows, c.pages, c.requests,
       c.retries, c.throttled, c.bytes, c.http_ms, c.budget_wait_ms, c.retry_wait_ms, c.since, c.shared
  FROM @extschema@.scan_stats() c
  LEFT JOIN pg_catalog.pg_foreign_server s ON s.oid OPERATOR(pg_catalog.=) c.serverid;
GRANT SELECT ON stats TO PUBLIC;
COMMENT ON VIEW stats IS
  'Per server and resource: what the scans of this database did since the server started or stats_reset() (only this session''s when tempo_fdw is not preloaded)';
COMMENT ON COLUMN stats.server_name IS 'The foreign server (NULL: servers counted together once every entry was taken, or a server since dropped)';
COMMENT ON COLUMN stats.resource IS 'The resource scanned (worklogs, jira_worklogs, user_schedules, worklog_deletions)';
COMMENT ON COLUMN stats.scans IS 'Scans ended';
COMMENT ON COLUMN stats.errors IS 'Scans ended by an error or a cancel';
COMMENT ON COLUMN stats.errors_auth IS 'Of those: no credentials, HTTP 401 or 403';
COMMENT ON COLUMN stats.errors_network IS 'Of those: could not connect, timed out, TLS, a broken transfer';
COMMENT ON COLUMN stats.errors_http IS 'Of those: any other HTTP status (404, 429, 5xx after the retries, ...)';
COMMENT ON COLUMN stats.errors_other IS 'Of those: anything else (bad data, a limit, a cancel, an error of the query)';
COMMENT ON COLUMN stats.fallbacks IS 'Scans that read Jira because Tempo could not serve them';
COMMENT ON COLUMN stats.rows IS 'Rows the scans returned';
COMMENT ON COLUMN stats.pages IS 'Pages turned into rows';
COMMENT ON COLUMN stats.requests IS 'HTTP requests sent, retries included';
COMMENT ON COLUMN stats.retries IS 'Requests repeated after a transient fault (429, 5xx, a reset)';
COMMENT ON COLUMN stats.throttled IS 'Responses 429 Too Many Requests (each also counted as a retry, or as the error)';
COMMENT ON COLUMN stats.bytes IS 'Response bytes received (decoded)';
COMMENT ON COLUMN stats.http_ms IS 'Milliseconds in HTTP transfers (summed over concurrent ones)';
COMMENT ON COLUMN stats.budget_wait_ms IS 'Milliseconds waited for a slot of the request budget (max_requests_per_second, a pause after a 429)';
COMMENT ON COLUMN stats.retry_wait_ms IS 'Milliseconds waited before retries (Retry-After, backoff)';
COMMENT ON COLUMN stats.since IS 'When counting started (server start or the last stats_reset())';
COMMENT ON COLUMN stats.shared IS 'true: every backend''s scans (tempo_fdw preloaded); false: only this session''s';

-- ======================================================================
-- 1.1: time accounts as HR and team leads mean them (issue #14).
--
-- - people: whose accounts a schema keeps, from which first to which last
--   day, with an opening balance, a holiday calendar and a team;
-- - absences (vacation, sick leave, ...; full day, half day or hours)
--   reduce a day's required time, never below 0;
-- - local holiday calendars, so that required time can come from
--   contracts and a calendar with no Tempo schedule at all
--   (create_time_accounts(..., schedules => 'local')), filled without
--   network by fill_holiday_calendar;
-- - days count up to yesterday in the accounts' time zone (or today),
--   never beyond, whatever the reading session's TimeZone.
-- These tables are extension configuration (pg_dump keeps them) and, like
-- time_account_contracts, belong to the extension's owner: the views and
-- snapshots create_time_accounts makes read them, nothing else does.
-- ======================================================================

ALTER TABLE time_accounts
  ADD COLUMN schedules text NOT NULL DEFAULT 'tempo' CHECK (schedules IN ('tempo', 'local')),
  ADD COLUMN people text NOT NULL DEFAULT 'authors' CHECK (people IN ('authors', 'listed')),
  ADD COLUMN calendar text,
  ADD COLUMN time_zone text,
  ADD COLUMN count_today boolean NOT NULL DEFAULT false,
  ADD COLUMN absence_issue_ids bigint[];
COMMENT ON COLUMN time_accounts.schedules IS
  'Where holidays and, without a contract, required time come from: tempo (user schedules) or local (contracts and holiday calendars)';
COMMENT ON COLUMN time_accounts.people IS
  'Whose accounts are kept: authors (everyone who logged time or holds a contract, plus the listed people) or listed (time_account_people only)';
COMMENT ON COLUMN time_accounts.calendar IS 'Holiday calendar of the people without one of their own';
COMMENT ON COLUMN time_accounts.time_zone IS 'The zone whose date decides which days are over (as_of)';
COMMENT ON COLUMN time_accounts.count_today IS 'Whether today counts (else days count up to yesterday)';
COMMENT ON COLUMN time_accounts.absence_issue_ids IS 'Issues whose worklogs count as absence, not as work (e.g. an HR vacation issue)';

CREATE TABLE holiday_calendars (
  calendar    text PRIMARY KEY CHECK (calendar <> ''),
  description text
);
COMMENT ON TABLE holiday_calendars IS 'Local holiday calendars (schedules => ''local''), e.g. one per office or country';
SELECT pg_catalog.pg_extension_config_dump('holiday_calendars', '');

CREATE TABLE holidays (
  calendar text NOT NULL REFERENCES holiday_calendars ON UPDATE CASCADE ON DELETE CASCADE,
  date     date NOT NULL,
  name     text NOT NULL,
  fraction numeric CHECK (fraction > 0 AND fraction <= 1),
  hours    numeric CHECK (hours > 0 AND hours <= 24),
  PRIMARY KEY (calendar, date),
  CHECK (fraction IS NULL OR hours IS NULL)
);
COMMENT ON TABLE holidays IS 'The holidays of each local calendar: a whole day unless fraction (0.5: half the contracted day) or hours is set';
COMMENT ON COLUMN holidays.fraction IS 'Share of the contracted day that is off (0.5 for a half day); NULL with hours NULL: the whole day';
COMMENT ON COLUMN holidays.hours IS 'Hours off instead of a fraction (never more than the contracted day)';
SELECT pg_catalog.pg_extension_config_dump('holidays', '');

CREATE TABLE time_account_people (
  schema_name   name NOT NULL,
  account_id    text NOT NULL,
  display_name  text,
  first_day     date NOT NULL,
  last_day      date,
  opening_balance_hours numeric NOT NULL DEFAULT 0,
  calendar      text REFERENCES holiday_calendars ON UPDATE CASCADE,
  team          text,
  PRIMARY KEY (schema_name, account_id),
  CHECK (last_day IS NULL OR last_day >= first_day)
);
COMMENT ON TABLE time_account_people IS
  'The people whose time accounts a schema keeps: an account from first_day to last_day, whether or not they logged time';
COMMENT ON COLUMN time_account_people.schema_name IS 'The schema of the time accounts';
COMMENT ON COLUMN time_account_people.account_id IS 'Atlassian account id of the person';
COMMENT ON COLUMN time_account_people.first_day IS 'First day of the account (nothing counts before it)';
COMMENT ON COLUMN time_account_people.last_day IS 'Last day of the account, NULL while it runs (nothing counts after it)';
COMMENT ON COLUMN time_account_people.opening_balance_hours IS 'Balance carried into the account on its first day';
COMMENT ON COLUMN time_account_people.calendar IS 'Holiday calendar (schedules => ''local''); NULL: the accounts'' calendar';
SELECT pg_catalog.pg_extension_config_dump('time_account_people', '');

CREATE TABLE time_account_absence_kinds (
  kind        text PRIMARY KEY CHECK (kind <> ''),
  description text,
  builtin     boolean NOT NULL DEFAULT false
);
INSERT INTO time_account_absence_kinds (kind, description, builtin)
VALUES ('vacation', 'Paid vacation', true), ('sick', 'Sick leave', true), ('training', 'Training', true),
       ('parental_leave', 'Parental leave', true), ('time_off_in_lieu', 'Time off in lieu of overtime', true),
       ('other', 'Other approved absence', true);
COMMENT ON TABLE time_account_absence_kinds IS 'Kinds of absence; add your own';
SELECT pg_catalog.pg_extension_config_dump('time_account_absence_kinds', 'WHERE NOT builtin');

CREATE TABLE time_account_absences (
  absence_id  bigserial PRIMARY KEY,
  schema_name name NOT NULL,
  account_id  text NOT NULL,
  first_day   date NOT NULL,
  last_day    date,
  kind        text NOT NULL REFERENCES time_account_absence_kinds ON UPDATE CASCADE,
  portion     text NOT NULL DEFAULT 'full' CHECK (portion IN ('full', 'half', 'hours')),
  hours       numeric CHECK (hours > 0 AND hours <= 24),
  note        text,
  FOREIGN KEY (schema_name, account_id) REFERENCES time_account_people ON UPDATE CASCADE ON DELETE CASCADE,
  CHECK ((portion = 'hours') = (hours IS NOT NULL)),
  CHECK (last_day IS NULL OR last_day >= first_day)
);
COMMENT ON TABLE time_account_absences IS
  'Approved absences of listed people: each day from first_day to last_day (NULL: first_day only) is off in full, by half the contracted day, or by hours';
COMMENT ON COLUMN time_account_absences.portion IS 'full (the whole day), half (half the contracted day) or hours';
COMMENT ON COLUMN time_account_absences.hours IS 'Hours off on each day (portion = ''hours'')';
SELECT pg_catalog.pg_extension_config_dump('time_account_absences', '');
SELECT pg_catalog.pg_extension_config_dump('time_account_absences_absence_id_seq', '');

CREATE TABLE time_account_adjustments (
  adjustment_id bigserial PRIMARY KEY,
  schema_name name NOT NULL,
  account_id  text NOT NULL,
  date        date NOT NULL,
  hours       numeric NOT NULL CHECK (hours <> 0),
  kind        text NOT NULL DEFAULT 'correction' CHECK (kind IN ('correction', 'payout', 'carry_over')),
  reason      text NOT NULL CHECK (reason <> ''),
  FOREIGN KEY (schema_name, account_id) REFERENCES time_account_people ON UPDATE CASCADE ON DELETE CASCADE
);
CREATE UNIQUE INDEX time_account_adjustments_one_carry_over
  ON time_account_adjustments (schema_name, account_id, date) WHERE kind = 'carry_over';
COMMENT ON TABLE time_account_adjustments IS
  'Signed hours added to the account of a listed person on a day: corrections, payouts of overtime, year-end carry-over (close_time_account_year)';
COMMENT ON COLUMN time_account_adjustments.hours IS 'Hours added to the balance (negative: taken off, e.g. overtime paid out)';
SELECT pg_catalog.pg_extension_config_dump('time_account_adjustments', '');
SELECT pg_catalog.pg_extension_config_dump('time_account_adjustments_adjustment_id_seq', '');

-- Easter Sunday (Gregorian; the anonymous algorithm, Meeus/Jones/Butcher).
CREATE FUNCTION easter_sunday(year integer)
RETURNS date
LANGUAGE plpgsql IMMUTABLE STRICT SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
  a integer := year % 19;
  b integer := year / 100;
  c integer := year % 100;
  h integer;
  l integer;
  m integer;
BEGIN
  h := (19 * a + b - b / 4 - (b - (b + 8) / 25 + 1) / 3 + 15) % 30;
  l := (32 + 2 * (b % 4) + 2 * (c / 4) - h - c % 4) % 7;
  m := (a + 11 * h + 22 * l) / 451;
  RETURN make_date(year, (h + l - 7 * m + 114) / 31, (h + l - 7 * m + 114) % 31 + 1);
END $fn$;
COMMENT ON FUNCTION easter_sunday(integer) IS 'Easter Sunday of a year (Gregorian calendar)';

-- The n-th given weekday (ISO: 1 = Monday) of a month; n = -1: the last.
CREATE FUNCTION nth_weekday(year integer, month integer, isodow integer, n integer)
RETURNS date
LANGUAGE sql IMMUTABLE STRICT SET search_path = pg_catalog, pg_temp
AS $$
  SELECT CASE WHEN n > 0
              THEN make_date(year, month, 1)
                   + (isodow - extract(isodow FROM make_date(year, month, 1))::integer + 7) % 7 + 7 * (n - 1)
              ELSE (make_date(year, month, 1) + interval '1 month')::date - 1
                   - (extract(isodow FROM (make_date(year, month, 1) + interval '1 month')::date - 1)::integer - isodow + 7) % 7
         END
$$;

-- The nationwide public holidays of a country, the days people are off
-- (for GB and US the substitute or observed day when one falls on a
-- weekend).  See the README for what each country includes.
CREATE FUNCTION public_holidays(country text, first_year integer, last_year integer)
RETURNS TABLE (day date, holiday text)
LANGUAGE plpgsql IMMUTABLE STRICT SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
  y integer;
  e date;
  x date;
  obs integer;
BEGIN
  IF country NOT IN ('DE', 'AT', 'CH', 'GB', 'US') THEN
    RAISE EXCEPTION 'no public holidays for country %', quote_literal(country)
      USING ERRCODE = 'invalid_parameter_value',
            HINT = 'Known: DE, AT, CH, GB (England and Wales), US (federal). For others INSERT INTO tempo_fdw.holidays.';
  END IF;
  IF first_year < 1950 OR last_year > 2200 OR last_year < first_year THEN
    RAISE EXCEPTION 'years % to % are out of range', first_year, last_year
      USING ERRCODE = 'invalid_parameter_value', HINT = 'Give years from 1950 to 2200, the first not after the last.';
  END IF;
  FOR y IN first_year - 1 .. last_year + 1 LOOP   -- observed days may cross a year's end
    e := @extschema@.easter_sunday(y);
    IF country = 'DE' THEN
      RETURN QUERY SELECT v.d, v.n FROM (VALUES
        (make_date(y, 1, 1), 'Neujahr'), (e - 2, 'Karfreitag'), (e + 1, 'Ostermontag'),
        (make_date(y, 5, 1), 'Tag der Arbeit'), (e + 39, 'Christi Himmelfahrt'), (e + 50, 'Pfingstmontag'),
        (make_date(y, 10, 3), 'Tag der Deutschen Einheit'), (make_date(y, 12, 25), '1. Weihnachtstag'),
        (make_date(y, 12, 26), '2. Weihnachtstag')) v(d, n)
        WHERE v.d BETWEEN make_date(first_year, 1, 1) AND make_date(last_year, 12, 31);
    ELSIF country = 'AT' THEN
      RETURN QUERY SELECT v.d, v.n FROM (VALUES
        (make_date(y, 1, 1), 'Neujahr'), (make_date(y, 1, 6), 'Heilige Drei Könige'), (e + 1, 'Ostermontag'),
        (make_date(y, 5, 1), 'Staatsfeiertag'), (e + 39, 'Christi Himmelfahrt'), (e + 50, 'Pfingstmontag'),
        (e + 60, 'Fronleichnam'), (make_date(y, 8, 15), 'Mariä Himmelfahrt'),
        (make_date(y, 10, 26), 'Nationalfeiertag'), (make_date(y, 11, 1), 'Allerheiligen'),
        (make_date(y, 12, 8), 'Mariä Empfängnis'), (make_date(y, 12, 25), 'Christtag'),
        (make_date(y, 12, 26), 'Stefanitag')) v(d, n)
        WHERE v.d BETWEEN make_date(first_year, 1, 1) AND make_date(last_year, 12, 31);
    ELSIF country = 'CH' THEN
      RETURN QUERY SELECT v.d, v.n FROM (VALUES
        (make_date(y, 1, 1), 'Neujahr'), (e + 39, 'Auffahrt'), (make_date(y, 8, 1), 'Bundesfeier'),
        (make_date(y, 12, 25), 'Weihnachten')) v(d, n)
        WHERE v.d BETWEEN make_date(first_year, 1, 1) AND make_date(last_year, 12, 31);
    ELSIF country = 'GB' THEN
      x := make_date(y, 1, 1);
      obs := extract(isodow FROM make_date(y, 12, 25))::integer;
      RETURN QUERY SELECT v.d, v.n FROM (VALUES
        (x + CASE extract(isodow FROM x)::integer WHEN 6 THEN 2 WHEN 7 THEN 1 ELSE 0 END,
         CASE WHEN extract(isodow FROM x) >= 6 THEN 'New Year''s Day (substitute day)' ELSE 'New Year''s Day' END),
        (e - 2, 'Good Friday'), (e + 1, 'Easter Monday'),
        (@extschema@.nth_weekday(y, 5, 1, 1), 'Early May bank holiday'),
        (@extschema@.nth_weekday(y, 5, 1, -1), 'Spring bank holiday'),
        (@extschema@.nth_weekday(y, 8, 1, -1), 'Summer bank holiday'),
        (make_date(y, 12, 25) + CASE obs WHEN 6 THEN 2 WHEN 7 THEN 2 ELSE 0 END,
         CASE WHEN obs >= 6 THEN 'Christmas Day (substitute day)' ELSE 'Christmas Day' END),
        (make_date(y, 12, 26) + CASE obs WHEN 5 THEN 2 WHEN 6 THEN 2 ELSE 0 END,
         CASE WHEN obs IN (5, 6) THEN 'Boxing Day (substitute day)' ELSE 'Boxing Day' END)) v(d, n)
        WHERE v.d BETWEEN make_date(first_year, 1, 1) AND make_date(last_year, 12, 31);
    ELSE
      RETURN QUERY SELECT f.d + CASE extract(isodow FROM f.d)::integer WHEN 6 THEN -1 WHEN 7 THEN 1 ELSE 0 END,
                          f.n || CASE WHEN extract(isodow FROM f.d) >= 6 THEN ' (observed)' ELSE '' END
        FROM (VALUES (make_date(y, 1, 1), 'New Year''s Day'),
                     (CASE WHEN y >= 2021 THEN make_date(y, 6, 19) END, 'Juneteenth National Independence Day'),
                     (make_date(y, 7, 4), 'Independence Day'), (make_date(y, 11, 11), 'Veterans Day'),
                     (make_date(y, 12, 25), 'Christmas Day'),
                     (@extschema@.nth_weekday(y, 1, 1, 3), 'Birthday of Martin Luther King, Jr.'),
                     (@extschema@.nth_weekday(y, 2, 1, 3), 'Washington''s Birthday'),
                     (@extschema@.nth_weekday(y, 5, 1, -1), 'Memorial Day'),
                     (@extschema@.nth_weekday(y, 9, 1, 1), 'Labor Day'),
                     (@extschema@.nth_weekday(y, 10, 1, 2), 'Columbus Day'),
                     (@extschema@.nth_weekday(y, 11, 4, 4), 'Thanksgiving Day')) f(d, n)
       WHERE f.d IS NOT NULL
         AND f.d + CASE extract(isodow FROM f.d)::integer WHEN 6 THEN -1 WHEN 7 THEN 1 ELSE 0 END
             BETWEEN make_date(first_year, 1, 1) AND make_date(last_year, 12, 31);
    END IF;
  END LOOP;
END $fn$;
COMMENT ON FUNCTION public_holidays(text, integer, integer) IS
  'Nationwide public holidays of DE, AT, CH, GB (England and Wales) or US (federal) in a range of years, computed without network';

-- Fill (or complete) a local calendar with a country's public holidays;
-- rows already there (your edits) are kept.  Returns the rows added.
CREATE FUNCTION fill_holiday_calendar(calendar_name text, country text, first_year integer, last_year integer)
RETURNS integer
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
  added integer;
BEGIN
  INSERT INTO @extschema@.holiday_calendars AS c (calendar, description)
  VALUES (calendar_name, format('Public holidays of %s', country))
  ON CONFLICT ON CONSTRAINT holiday_calendars_pkey DO NOTHING;
  INSERT INTO @extschema@.holidays AS h (calendar, date, name)
  SELECT calendar_name, p.day, p.holiday
    FROM @extschema@.public_holidays(country, first_year, last_year) p
  ON CONFLICT ON CONSTRAINT holidays_pkey DO NOTHING;
  GET DIAGNOSTICS added = ROW_COUNT;
  RETURN added;
END $fn$;
COMMENT ON FUNCTION fill_holiday_calendar(text, text, integer, integer) IS
  'Adds a country''s nationwide public holidays of some years to a local holiday calendar (made if missing); returns the rows added';

-- The views of a schema's time accounts (called by create_time_accounts,
-- after it dropped the earlier ones): time_account_daily, _monthly,
-- _balance and _unaccounted.  asof is the SQL of the last day counted.
CREATE FUNCTION time_account_views(schema name, since date, asof text, col text,
                                   schedules text, people text, calendar text, absence_issue_ids bigint[])
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
  s text := quote_ident(schema);
BEGIN
  EXECUTE format($q$
    CREATE VIEW %1$s.time_account_daily AS
    WITH bounds AS (
      SELECT %3$s AS as_of
    ), listed AS (
      SELECT p.account_id, greatest(p.first_day, %2$L::date) AS first_day,
             least(p.last_day, b.as_of) AS last_day, coalesce(p.calendar, %6$L) AS calendar
        FROM @extschema@.time_account_people p, bounds b
       WHERE p.schema_name = %5$L
    ), people AS (
      SELECT * FROM listed
      %7$s
    ), logged AS (
      SELECT account_id, start_date AS date,
             coalesce(sum(%4$s) FILTER (WHERE NOT a.absent), 0)::bigint AS logged_seconds,
             coalesce(sum(coalesce(billable_seconds, 0)) FILTER (WHERE NOT a.absent), 0)::bigint AS billable_seconds,
             coalesce(sum(time_spent_seconds) FILTER (WHERE a.absent), 0)::bigint AS absence_logged_seconds
        FROM %1$s.worklog_snapshot
       CROSS JOIN LATERAL (SELECT coalesce(issue_id = ANY (%10$L::bigint[]), false) AS absent) a
       GROUP BY 1, 2
    ), absent AS (
      -- each day of each absence, joined by (account, day): no lookup per row
      SELECT a.account_id, a.first_day + i AS date,
             bool_or(a.portion = 'full') AS full_day,
             count(*) FILTER (WHERE a.portion = 'half') AS halves,
             coalesce(sum(round(3600 * a.hours)) FILTER (WHERE a.portion = 'hours'), 0) AS hour_seconds,
             string_agg(DISTINCT a.kind, ', ' ORDER BY a.kind) AS kinds
        FROM @extschema@.time_account_absences a
       CROSS JOIN LATERAL generate_series(0, coalesce(a.last_day, a.first_day) - a.first_day) i
       WHERE a.schema_name = %5$L
       GROUP BY 1, 2
    ), adjusted AS (
      SELECT j.account_id, j.date, sum(round(3600 * j.hours))::bigint AS adjustment_seconds
        FROM @extschema@.time_account_adjustments j
       WHERE j.schema_name = %5$L
       GROUP BY 1, 2
    )
    SELECT p.account_id, d.date, r.required_seconds,
           coalesce(l.logged_seconds, 0) AS logged_seconds,
           coalesce(l.billable_seconds, 0) AS billable_seconds,
           coalesce(l.logged_seconds, 0) - r.required_seconds AS balance_seconds,
           k.day_type, h0.holiday_name, k.required_source,
           k.base_seconds - r.required_seconds AS absence_seconds,
           nullif(concat_ws(', ', ab.kinds, CASE WHEN l.absence_logged_seconds > 0 THEN 'absence issue' END), '') AS absence_kind,
           coalesce(adj.adjustment_seconds, 0)::bigint AS adjustment_seconds
      FROM people p
     CROSS JOIN LATERAL (SELECT p.first_day + i AS date FROM generate_series(0, p.last_day - p.first_day) i) d
      %8$s
      LEFT JOIN LATERAL (
       SELECT c.* FROM @extschema@.time_account_contracts c
        WHERE c.account_id = p.account_id AND (c.schema_name = %5$L OR c.schema_name IS NULL)
          AND d.date >= c.valid_from AND (c.valid_to IS NULL OR d.date <= c.valid_to)
        ORDER BY c.schema_name IS NULL LIMIT 1) c ON true
      LEFT JOIN logged l ON l.account_id = p.account_id AND l.date = d.date
     CROSS JOIN LATERAL (
       SELECT round(3600 * (ARRAY[c.monday_hours, c.tuesday_hours, c.wednesday_hours, c.thursday_hours,
                                  c.friday_hours, c.saturday_hours, c.sunday_hours])
                            [extract(isodow FROM d.date)::int])::bigint AS contract_seconds
     ) c0
     CROSS JOIN LATERAL (
       SELECT h.date IS NOT NULL OR coalesce(sch.day_type IN ('HOLIDAY', 'HOLIDAY_AND_NON_WORKING_DAY'), false) AS holiday,
              CASE WHEN h.date IS NOT NULL AND h.hours IS NOT NULL THEN round(3600 * h.hours)
                   WHEN h.date IS NOT NULL THEN round(c0.contract_seconds * coalesce(h.fraction, 1))
                   ELSE coalesce(sch.holiday_seconds, c0.contract_seconds) END::bigint AS holiday_seconds,
              coalesce(h.name, sch.holiday_name) AS holiday_name
     ) h0
     CROSS JOIN LATERAL (
       SELECT CASE WHEN c.contract_id IS NOT NULL
                   THEN greatest(0, c0.contract_seconds - CASE WHEN h0.holiday THEN h0.holiday_seconds ELSE 0 END)
                   WHEN sch.date IS NOT NULL THEN sch.required_seconds
                   ELSE 0 END::bigint AS base_seconds,
              CASE WHEN c.contract_id IS NOT NULL THEN c0.contract_seconds
                   WHEN sch.date IS NOT NULL THEN sch.required_seconds + CASE WHEN h0.holiday THEN coalesce(sch.holiday_seconds, 0) ELSE 0 END
                   ELSE 0 END::bigint AS day_seconds,
              CASE WHEN c.contract_id IS NOT NULL
                   THEN CASE WHEN h0.holiday AND c0.contract_seconds > 0 THEN 'HOLIDAY'
                             WHEN h0.holiday THEN 'HOLIDAY_AND_NON_WORKING_DAY'
                             WHEN c0.contract_seconds > 0 THEN 'WORKING_DAY'
                             ELSE 'NON_WORKING_DAY' END
                   WHEN %9$L = 'local' THEN CASE WHEN h0.holiday THEN 'HOLIDAY_AND_NON_WORKING_DAY' ELSE 'NON_WORKING_DAY' END
                   ELSE sch.day_type END AS day_type,
              CASE WHEN c.contract_id IS NOT NULL THEN 'contract'
                   WHEN sch.date IS NOT NULL THEN 'tempo'
                   ELSE 'none' END AS required_source
     ) k
      LEFT JOIN absent ab ON ab.account_id = p.account_id AND ab.date = d.date
     CROSS JOIN LATERAL (
       SELECT CASE WHEN coalesce(ab.full_day, false) THEN 0
                   ELSE greatest(0, k.base_seconds - round(coalesce(ab.halves, 0) * k.day_seconds / 2.0)
                                    - coalesce(ab.hour_seconds, 0) - coalesce(l.absence_logged_seconds, 0))
              END::bigint AS required_seconds
     ) r
      LEFT JOIN adjusted adj ON adj.account_id = p.account_id AND adj.date = d.date$q$, s, since, asof, col, schema, calendar,
    CASE WHEN people = 'authors' THEN format($p$
      UNION ALL
      SELECT a.account_id, %2$L::date, b.as_of, %3$L
        FROM (SELECT account_id FROM %1$s.worklog_snapshot WHERE account_id IS NOT NULL
              UNION SELECT account_id FROM @extschema@.time_account_contracts
                     WHERE schema_name = %4$L OR schema_name IS NULL) a, bounds b
       WHERE NOT EXISTS (SELECT 1 FROM listed x WHERE x.account_id = a.account_id)$p$, s, since, calendar, schema)
      ELSE '' END,
    -- local: the person's calendar and no Tempo schedule; tempo: the reverse
    CASE WHEN schedules = 'local'
         THEN 'LEFT JOIN @extschema@.holidays h ON h.calendar = p.calendar AND h.date = d.date
      LEFT JOIN (SELECT NULL::text AS account_id, NULL::date AS date, NULL::integer AS required_seconds, NULL::text AS day_type,
                        NULL::text AS holiday_name, NULL::integer AS holiday_seconds) sch ON false'
         ELSE format('LEFT JOIN %s.schedule_snapshot sch ON sch.account_id = p.account_id AND sch.date = d.date
      LEFT JOIN (SELECT NULL::date AS date, NULL::text AS name, NULL::numeric AS fraction, NULL::numeric AS hours) h ON false', s) END,
    schedules, absence_issue_ids);

  EXECUTE format($q$
    CREATE VIEW %1$s.time_account_monthly AS
    SELECT m.account_id, m.month,
           round(m.req / 3600.0, 2) AS required_hours,
           round(m.log / 3600.0, 2) AS logged_hours,
           round(m.bal / 3600.0, 2) AS balance_hours,
           round((m.cum + o.opening) / 3600.0, 2) AS cumulative_balance_hours,
           m.req::bigint AS required_seconds,
           m.log::bigint AS logged_seconds,
           m.bal::bigint AS balance_seconds,
           (m.cum + o.opening)::bigint AS cumulative_balance_seconds,
           round(m.adj / 3600.0, 2) AS adjustment_hours,
           m.adj::bigint AS adjustment_seconds
      FROM (SELECT account_id, date_trunc('month', date)::date AS month, sum(required_seconds) AS req,
                   sum(logged_seconds) AS log, sum(balance_seconds) AS bal, sum(adjustment_seconds) AS adj,
                   sum(sum(balance_seconds + adjustment_seconds))
                     OVER (PARTITION BY account_id ORDER BY date_trunc('month', date)::date) AS cum
              FROM %1$s.time_account_daily
             GROUP BY 1, 2) m
     CROSS JOIN LATERAL (
       SELECT coalesce((SELECT round(3600 * p.opening_balance_hours) FROM @extschema@.time_account_people p
                         WHERE p.schema_name = %2$L AND p.account_id = m.account_id), 0) AS opening
     ) o$q$, s, schema);

  -- ISO weeks (Monday to Sunday; the week of 1 January may belong to the
  -- year before)
  EXECUTE format($q$
    CREATE VIEW %1$s.time_account_weekly AS
    SELECT w.account_id, w.week, extract(isoyear FROM w.week)::integer AS iso_year,
           extract(week FROM w.week)::integer AS iso_week,
           round(w.req / 3600.0, 2) AS required_hours,
           round(w.log / 3600.0, 2) AS logged_hours,
           round(w.bal / 3600.0, 2) AS balance_hours,
           round((w.cum + o.opening) / 3600.0, 2) AS cumulative_balance_hours,
           w.req::bigint AS required_seconds,
           w.log::bigint AS logged_seconds,
           w.bal::bigint AS balance_seconds,
           (w.cum + o.opening)::bigint AS cumulative_balance_seconds,
           round(w.adj / 3600.0, 2) AS adjustment_hours,
           w.adj::bigint AS adjustment_seconds
      FROM (SELECT account_id, date_trunc('week', date)::date AS week, sum(required_seconds) AS req,
                   sum(logged_seconds) AS log, sum(balance_seconds) AS bal, sum(adjustment_seconds) AS adj,
                   sum(sum(balance_seconds + adjustment_seconds))
                     OVER (PARTITION BY account_id ORDER BY date_trunc('week', date)::date) AS cum
              FROM %1$s.time_account_daily
             GROUP BY 1, 2) w
     CROSS JOIN LATERAL (
       SELECT coalesce((SELECT round(3600 * p.opening_balance_hours) FROM @extschema@.time_account_people p
                         WHERE p.schema_name = %2$L AND p.account_id = w.account_id), 0) AS opening
     ) o$q$, s, schema);

  EXECUTE format($q$
    CREATE VIEW %1$s.time_account_balance AS
    SELECT d.account_id, %3$s AS as_of,
           round((sum(d.balance_seconds + d.adjustment_seconds) + coalesce(round(3600 * p.opening_balance_hours), 0)) / 3600.0, 2) AS balance_hours,
           (sum(d.balance_seconds + d.adjustment_seconds) + coalesce(round(3600 * p.opening_balance_hours), 0))::bigint AS balance_seconds,
           p.display_name, p.team
      FROM %1$s.time_account_daily d
      LEFT JOIN @extschema@.time_account_people p ON p.schema_name = %2$L AND p.account_id = d.account_id
     GROUP BY d.account_id, p.opening_balance_hours, p.display_name, p.team$q$, s, schema, asof);

  EXECUTE format($q$
    CREATE VIEW %1$s.time_account_unaccounted AS
    SELECT w.account_id,
           CASE WHEN p.account_id IS NOT NULL AND w.start_date < p.first_day THEN 'before first_day'
                WHEN p.account_id IS NOT NULL THEN 'after last_day'
                ELSE 'not in time_account_people' END AS reason,
           p.account_id IS NULL AND %4$L = 'authors' AS counted,
           min(w.start_date) AS first_date, max(w.start_date) AS last_date,
           count(*) AS worklogs, sum(%5$s)::bigint AS logged_seconds
      FROM %1$s.worklog_snapshot w
      LEFT JOIN @extschema@.time_account_people p ON p.schema_name = %2$L AND p.account_id = w.account_id
     WHERE w.start_date <= %3$s AND w.account_id IS NOT NULL
       AND (p.account_id IS NULL OR w.start_date < p.first_day OR w.start_date > p.last_day)
     GROUP BY 1, 2, 3$q$, s, schema, asof, people, col);

  EXECUTE format($c$
    COMMENT ON VIEW %1$s.time_account_daily IS 'Per person and day of the account: required time, logged time and their difference, in seconds';
    COMMENT ON COLUMN %1$s.time_account_daily.account_id IS 'Atlassian account id of the person';
    COMMENT ON COLUMN %1$s.time_account_daily.date IS 'The day (from the person''s first day to the last day counted)';
    COMMENT ON COLUMN %1$s.time_account_daily.required_seconds IS 'Required working time: contract (less holidays) or Tempo schedule, less absences, never below 0';
    COMMENT ON COLUMN %1$s.time_account_daily.billable_seconds IS 'Billable time of worklogs on the day';
    COMMENT ON COLUMN %1$s.time_account_daily.balance_seconds IS 'logged_seconds minus required_seconds';
    COMMENT ON COLUMN %1$s.time_account_daily.day_type IS 'WORKING_DAY, NON_WORKING_DAY, HOLIDAY or HOLIDAY_AND_NON_WORKING_DAY';
    COMMENT ON COLUMN %1$s.time_account_daily.holiday_name IS 'Name of the holiday, if any';
    COMMENT ON COLUMN %1$s.time_account_daily.required_source IS 'Where the required time comes from: contract, tempo or none';
    COMMENT ON COLUMN %1$s.time_account_daily.absence_seconds IS 'Required time the day''s absences took off';
    COMMENT ON COLUMN %1$s.time_account_daily.absence_kind IS 'Kinds of the day''s absences, if any (absence issue: worklogs on absence_issue_ids)';
    COMMENT ON COLUMN %1$s.time_account_daily.adjustment_seconds IS 'Adjustments of the day (time_account_adjustments), not in balance_seconds';
    COMMENT ON VIEW %1$s.time_account_monthly IS 'Per person and month: required, logged and balance hours, and the running balance';
    COMMENT ON COLUMN %1$s.time_account_monthly.account_id IS 'Atlassian account id of the person';
    COMMENT ON COLUMN %1$s.time_account_monthly.month IS 'First day of the month';
    COMMENT ON COLUMN %1$s.time_account_monthly.required_hours IS 'Required hours in the month (2 decimals)';
    COMMENT ON COLUMN %1$s.time_account_monthly.logged_hours IS 'Logged hours in the month (2 decimals)';
    COMMENT ON COLUMN %1$s.time_account_monthly.balance_hours IS 'Logged minus required hours in the month';
    COMMENT ON COLUMN %1$s.time_account_monthly.cumulative_balance_hours IS 'The overtime account at the end of the month (with the opening balance and adjustments)';
    COMMENT ON COLUMN %1$s.time_account_monthly.adjustment_hours IS 'Adjustments in the month (corrections, payouts, carry-over)';
    COMMENT ON COLUMN %1$s.time_account_monthly.adjustment_seconds IS 'The same, exact in seconds';
    COMMENT ON COLUMN %1$s.time_account_monthly.required_seconds IS 'Required time in the month, exact';
    COMMENT ON COLUMN %1$s.time_account_monthly.logged_seconds IS 'Logged time in the month, exact';
    COMMENT ON COLUMN %1$s.time_account_monthly.balance_seconds IS 'Logged minus required time in the month, exact';
    COMMENT ON COLUMN %1$s.time_account_monthly.cumulative_balance_seconds IS 'The overtime account at the end of the month, exact';
    COMMENT ON VIEW %1$s.time_account_weekly IS 'Per person and ISO week (Monday to Sunday): required, logged and balance hours, and the running balance';
    COMMENT ON COLUMN %1$s.time_account_weekly.account_id IS 'Atlassian account id of the person';
    COMMENT ON COLUMN %1$s.time_account_weekly.week IS 'Monday of the week (the account''s days in it only, at its start and end)';
    COMMENT ON COLUMN %1$s.time_account_weekly.iso_year IS 'ISO year of the week (1 January may fall in week 52 or 53 of the year before)';
    COMMENT ON COLUMN %1$s.time_account_weekly.iso_week IS 'ISO week number (1 to 53)';
    COMMENT ON COLUMN %1$s.time_account_weekly.required_hours IS 'Required hours in the week (2 decimals)';
    COMMENT ON COLUMN %1$s.time_account_weekly.logged_hours IS 'Logged hours in the week (2 decimals)';
    COMMENT ON COLUMN %1$s.time_account_weekly.balance_hours IS 'Logged minus required hours in the week';
    COMMENT ON COLUMN %1$s.time_account_weekly.cumulative_balance_hours IS 'The overtime account at the end of the week (with the opening balance and adjustments)';
    COMMENT ON COLUMN %1$s.time_account_weekly.required_seconds IS 'Required time in the week, exact';
    COMMENT ON COLUMN %1$s.time_account_weekly.logged_seconds IS 'Logged time in the week, exact';
    COMMENT ON COLUMN %1$s.time_account_weekly.balance_seconds IS 'Logged minus required time in the week, exact';
    COMMENT ON COLUMN %1$s.time_account_weekly.cumulative_balance_seconds IS 'The overtime account at the end of the week, exact';
    COMMENT ON COLUMN %1$s.time_account_weekly.adjustment_hours IS 'Adjustments in the week (corrections, payouts, carry-over)';
    COMMENT ON COLUMN %1$s.time_account_weekly.adjustment_seconds IS 'The same, exact in seconds';
    COMMENT ON VIEW %1$s.time_account_balance IS 'Per person: the overtime account as of the last day counted';
    COMMENT ON COLUMN %1$s.time_account_balance.account_id IS 'Atlassian account id of the person';
    COMMENT ON COLUMN %1$s.time_account_balance.balance_hours IS 'Opening balance plus adjustments plus logged minus required hours';
    COMMENT ON COLUMN %1$s.time_account_balance.balance_seconds IS 'The same, exact in seconds';
    COMMENT ON COLUMN %1$s.time_account_balance.display_name IS 'Name of the person (time_account_people)';
    COMMENT ON COLUMN %1$s.time_account_balance.team IS 'Team of the person (time_account_people)';
    COMMENT ON VIEW %1$s.time_account_unaccounted IS 'Worklogs no listed account counts: authors not in time_account_people, days outside a person''s account';
    COMMENT ON COLUMN %1$s.time_account_unaccounted.account_id IS 'Atlassian account id of the author';
    COMMENT ON COLUMN %1$s.time_account_unaccounted.reason IS 'not in time_account_people, before first_day or after last_day';
    COMMENT ON COLUMN %1$s.time_account_unaccounted.counted IS 'Whether an account counts them anyway (people => authors: an unlisted author''s account over the whole period)';
    COMMENT ON COLUMN %1$s.time_account_unaccounted.first_date IS 'First day of these worklogs';
    COMMENT ON COLUMN %1$s.time_account_unaccounted.last_date IS 'Last day of these worklogs';
    COMMENT ON COLUMN %1$s.time_account_unaccounted.worklogs IS 'Number of worklogs';
    COMMENT ON COLUMN %1$s.time_account_unaccounted.logged_seconds IS 'Their logged time'
  $c$, s);
END $fn$;
COMMENT ON FUNCTION time_account_views(name, date, text, text, text, text, text, bigint[]) IS
  'Creates the views of a schema''s time accounts (called by create_time_accounts)';

-- Close an accounting year (ending 31 December) of a schema's listed people:
-- a balance above cap_hours on that day is forfeited (or paid out) by a
-- carry_over adjustment on it, so that the history stays explainable; a
-- balance below the cap carries over in full.  One row per adjustment made.
CREATE FUNCTION close_time_account_year(schema name, year integer, cap_hours numeric, payout boolean DEFAULT false)
RETURNS TABLE (account_id text, balance_hours numeric, adjustment_hours numeric)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
  cfg   record;
  daily text;
  ye    date := make_date(year, 12, 31);
  asof  date;
BEGIN
  SELECT * INTO cfg FROM @extschema@.time_accounts t WHERE t.schema_name = schema;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'schema "%" has no time accounts', schema
      USING ERRCODE = 'undefined_object', HINT = format('SELECT tempo_fdw.create_time_accounts(%L);', schema);
  END IF;
  PERFORM @extschema@.time_accounts_check_runner(schema, cfg.owner);
  -- (NaN and Infinity are no cap; NaN is above every number)
  IF cap_hours IS NULL OR cap_hours < 0 OR cap_hours IN ('NaN', 'Infinity') THEN
    RAISE EXCEPTION 'cap_hours must be 0 or more, not %', quote_nullable(cap_hours) USING ERRCODE = 'invalid_parameter_value';
  END IF;
  daily := @extschema@.checked_relation(schema, 'time_account_daily', cfg.owner);
  EXECUTE format('SELECT max(as_of) FROM %s', @extschema@.checked_relation(schema, 'time_account_balance', cfg.owner)) INTO asof;
  IF asof IS NULL OR asof < ye THEN
    RAISE EXCEPTION 'the year % of "%" is not over: its accounts count up to %', year, schema, coalesce(asof::text, 'no day')
      USING ERRCODE = 'object_not_in_prerequisite_state', HINT = 'Close a year once its last day has been counted.';
  END IF;
  IF EXISTS (SELECT 1 FROM @extschema@.time_account_adjustments j
              WHERE j.schema_name = schema AND j.date = ye AND j.kind = 'carry_over') THEN
    RAISE EXCEPTION 'the year % of "%" is already closed', year, schema
      USING ERRCODE = 'unique_violation',
            HINT = format('To close it again: DELETE FROM tempo_fdw.time_account_adjustments WHERE schema_name = %L AND date = %L AND kind = ''carry_over'';', schema, ye);
  END IF;
  RETURN QUERY EXECUTE format($q$
    INSERT INTO @extschema@.time_account_adjustments AS j (schema_name, account_id, date, hours, kind, reason)
    SELECT p.schema_name, p.account_id, %2$L, %3$L::numeric - b.hours, 'carry_over',
           format('%%s: above the cap of %%s h, %%s', %4$s, %3$L::numeric, %5$L)
      FROM @extschema@.time_account_people p
     CROSS JOIN LATERAL (
       SELECT (p.opening_balance_hours * 3600 + sum(d.balance_seconds + d.adjustment_seconds)) / 3600 AS hours
         FROM %1$s d WHERE d.account_id = p.account_id AND d.date <= %2$L) b
     WHERE p.schema_name = %6$L AND p.first_day <= %2$L AND (p.last_day IS NULL OR p.last_day >= %2$L)
       AND b.hours > %3$L::numeric
    RETURNING j.account_id, round(%3$L::numeric - j.hours, 2), round(j.hours, 2)$q$,
    daily, ye, cap_hours, year, CASE WHEN payout THEN 'paid out' ELSE 'forfeited' END, schema);
END $fn$;
COMMENT ON FUNCTION close_time_account_year(name, integer, numeric, boolean) IS
  'Closes a year of a schema''s time accounts: balances above the cap are forfeited or paid out by a carry_over adjustment on 31 December';

-- ======================================================================
-- 1.1: operations of the time accounts (issue #14, item 6).
--
-- - contracts belong to one time-account schema (schema_name); a contract
--   without one (1.0's, or a new one with NULL) applies in every schema
--   whose accounts can see it, and a contract of the schema itself takes
--   precedence over it on the days both cover;
-- - no two contracts of one person in one schema (or two without a
--   schema) cover the same day, under every isolation level: the trigger
--   first writes the row of (schema, person) in
--   time_account_contract_locks, which makes a concurrent writer of the
--   same key wait, and under REPEATABLE READ or SERIALIZABLE fail with
--   40001 when the other committed after its snapshot; only then does it
--   look for an overlap, which therefore sees every committed contract of
--   that key (23P01);
-- - valid_to before valid_from is the CHECK's error (23514), not a range
--   error from the trigger;
-- - refresh_log keeps what prune_refresh_log leaves.
-- ======================================================================

ALTER TABLE time_account_contracts ADD COLUMN schema_name name;
COMMENT ON COLUMN time_account_contracts.schema_name IS
  'The schema of the time accounts it belongs to; NULL: every schema (a contract of the schema itself takes precedence)';
ALTER TABLE time_account_contracts RENAME CONSTRAINT time_account_contracts_check TO contract_ends_before_it_starts;
CREATE INDEX time_account_contracts_person ON time_account_contracts (account_id, valid_from);

-- One row per (schema, person) that ever had a contract: what the
-- overlap check locks ('' stands for the contracts of no schema).
CREATE TABLE time_account_contract_locks (
  schema_key text NOT NULL,
  account_id text NOT NULL,
  changes    bigint NOT NULL DEFAULT 1,
  PRIMARY KEY (schema_key, account_id)
);
COMMENT ON TABLE time_account_contract_locks IS
  'Written by every change of a contract, per schema and person, so that two transactions cannot both add overlapping contracts';

-- Writes the row of (schema, person) of time_account_contract_locks: waits
-- for a concurrent writer of this key; 40001 under REPEATABLE READ or
-- SERIALIZABLE when one committed after this transaction's snapshot.
-- (As the table's owner: the roles that change contracts may not write it.)
CREATE FUNCTION time_account_contract_lock(schema name, account text)
RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
  INSERT INTO @extschema@.time_account_contract_locks AS l (schema_key, account_id)
  VALUES (coalesce(schema::text, ''), account)
  ON CONFLICT (schema_key, account_id) DO UPDATE SET changes = l.changes OPERATOR(pg_catalog.+) 1
$$;
REVOKE ALL ON FUNCTION time_account_contract_lock(name, text) FROM PUBLIC;
COMMENT ON FUNCTION time_account_contract_lock(name, text) IS
  'Locks the contracts of a person in a schema for the overlap check (the trigger time_account_contracts_no_overlap)';

-- No two contracts of one person in one schema may cover the same day.
-- It runs as the role changing the contract: row-level security shows it
-- the contracts of schemas it keeps only, and refuses the row afterwards
-- when it is not one of them.
CREATE OR REPLACE FUNCTION time_account_contracts_check() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
  IF NEW.valid_to < NEW.valid_from THEN
    RETURN NEW;   -- the CHECK constraint refuses it, with its own message
  END IF;
  PERFORM @extschema@.time_account_contract_lock(NEW.schema_name, NEW.account_id);
  IF EXISTS (SELECT 1 FROM @extschema@.time_account_contracts c
              WHERE c.account_id = NEW.account_id AND c.schema_name IS NOT DISTINCT FROM NEW.schema_name
                AND c.contract_id <> NEW.contract_id
                AND daterange(c.valid_from, c.valid_to, '[]') && daterange(NEW.valid_from, NEW.valid_to, '[]')) THEN
    RAISE EXCEPTION 'contract of "%" from % overlaps another contract of that person%', NEW.account_id, NEW.valid_from,
                    CASE WHEN NEW.schema_name IS NULL THEN '' ELSE format(' in "%s"', NEW.schema_name) END
      USING ERRCODE = 'exclusion_violation',
            HINT = 'End the earlier contract (valid_to) the day before the next one starts.';
  END IF;
  RETURN NEW;
END $fn$;

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

-- The view time_account_status of a schema's accounts (called by
-- create_time_accounts): one row, from refresh_log, for the readers of
-- the other views.  asof is the SQL of the last day counted.
CREATE FUNCTION time_account_status_view(schema name, asof text, mode text, schedules text)
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
  s text := quote_ident(schema);
BEGIN
  EXECUTE format($q$
    CREATE VIEW %1$s.time_account_status AS
    SELECT %2$L::name AS schema_name, %3$L::text AS mode, %4$L::text AS schedules,
           ok.finished_at AS last_good_refresh, ok.started_at AS data_as_of, ok.worklog_source AS source,
           %5$s AS counted_through,
           last.started_at AS last_run_at, last.kind AS last_run_kind, last.outcome AS last_outcome,
           bad.finished_at AS last_error_at, bad.error AS last_error
      FROM (SELECT) one
      LEFT JOIN LATERAL (SELECT l.finished_at, l.started_at, l.worklog_source FROM @extschema@.refresh_log l
                          WHERE l.schema_name = %2$L AND l.outcome = 'ok' ORDER BY l.run_id DESC LIMIT 1) ok ON true
      LEFT JOIN LATERAL (SELECT l.started_at, l.kind, l.outcome FROM @extschema@.refresh_log l
                          WHERE l.schema_name = %2$L ORDER BY l.run_id DESC LIMIT 1) last ON true
      LEFT JOIN LATERAL (SELECT l.finished_at, l.error FROM @extschema@.refresh_log l
                          WHERE l.schema_name = %2$L AND l.outcome = 'failed' ORDER BY l.run_id DESC LIMIT 1) bad ON true$q$,
    s, schema, mode, schedules, asof);
  EXECUTE format($c$
    COMMENT ON VIEW %1$s.time_account_status IS 'How fresh the time accounts are: the last good refresh or sync, what it read, the last error';
    COMMENT ON COLUMN %1$s.time_account_status.mode IS 'snapshot (refresh reads every worklog) or sync (a store kept in step)';
    COMMENT ON COLUMN %1$s.time_account_status.schedules IS 'Where required time comes from: tempo (user schedules) or local (contracts and holiday calendars)';
    COMMENT ON COLUMN %1$s.time_account_status.last_good_refresh IS 'When the last refresh or sync that succeeded ended (NULL: none yet)';
    COMMENT ON COLUMN %1$s.time_account_status.data_as_of IS 'When that run began reading: the worklogs are Tempo''s of that moment';
    COMMENT ON COLUMN %1$s.time_account_status.source IS 'Where that run read the worklogs: tempo, or jira (the fallback, allowed)';
    COMMENT ON COLUMN %1$s.time_account_status.counted_through IS 'The last day the accounts count (as_of of time_account_balance)';
    COMMENT ON COLUMN %1$s.time_account_status.last_run_at IS 'When the last run (of any outcome) began';
    COMMENT ON COLUMN %1$s.time_account_status.last_run_kind IS 'refresh or sync';
    COMMENT ON COLUMN %1$s.time_account_status.last_outcome IS 'ok, failed, skipped or running';
    COMMENT ON COLUMN %1$s.time_account_status.last_error_at IS 'When the last run that failed ended';
    COMMENT ON COLUMN %1$s.time_account_status.last_error IS 'Its error message'
  $c$, s);
END $fn$;
COMMENT ON FUNCTION time_account_status_view(name, text, text, text) IS
  'Creates the view time_account_status of a schema''s time accounts (called by create_time_accounts)';

-- The detail and hint of a refresh whose schedule request Tempo answered
-- with 404: which account it was, and where these accounts take it from.
CREATE FUNCTION unknown_schedule_account(schema name, message text, OUT detail text, OUT hint text)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
  acct text := (regexp_match(message, '/user-schedule/([^?/]+)'))[1];
BEGIN
  detail := format('Tempo knows no user %s. These accounts read the schedule of every person of time_account_people '
                   'and every holder of a contract of schema "%s" (or of no schema), and with people => ''authors'' of every worklog author; '
                   'the accounts of other schemas are not affected.', quote_literal(acct), schema);
  hint := format('Correct the account id, or remove it: DELETE FROM tempo_fdw.time_account_contracts WHERE schema_name = %L AND account_id = %L;',
                 schema, acct);
END $fn$;
COMMENT ON FUNCTION unknown_schedule_account(name, text) IS
  'The detail and hint of an error of a schedule request Tempo answered with 404: the account, and where the accounts take it from';

-- ======================================================================
-- 1.1: time accounts of roles that are not superusers (issue #14, item 7).
--
-- The rows of the shared tables belong to the owner of the schema they
-- name (schema_name): only members of that role see and change them
-- ("keepers"); a role that may read one of the accounts' views there (a
-- BI role granted SELECT on it) may read the rows those views read.
-- Rows of no schema (contracts with schema_name NULL) are their tables'
-- owner's.  Row-level security enforces it; superusers and the tables'
-- owner (the extension's) see every row, as before.  Nobody gets a
-- privilege on these tables by default: grant_time_accounts(role) gives a
-- role what it needs (UPDATE would let any role LOCK a shared table and
-- stop every refresh, so it is not PUBLIC's).
-- ======================================================================

-- Whether the current role keeps the rows of a schema: a member of its
-- owner.  (Qualified throughout: it runs in policies, on any path.)
CREATE FUNCTION time_account_keeper(schema name)
RETURNS boolean
LANGUAGE sql STABLE
AS $$
  SELECT coalesce((SELECT pg_catalog.pg_has_role(CURRENT_USER, n.nspowner, 'MEMBER')
                     FROM pg_catalog.pg_namespace n WHERE n.nspname OPERATOR(pg_catalog.=) schema), false)
$$;
COMMENT ON FUNCTION time_account_keeper(name) IS
  'Whether the current role keeps the time-account rows of a schema (people, contracts, absences, adjustments, runs): a member of the schema''s owner';

-- Whether the current role may read them: a keeper, or a reader of one of
-- the accounts' views in the schema (owned by a keeper).
CREATE FUNCTION time_account_reader(schema name)
RETURNS boolean
LANGUAGE sql STABLE
AS $$
  SELECT @extschema@.time_account_keeper(schema)
      OR EXISTS (SELECT 1 FROM pg_catalog.pg_namespace n
                   JOIN pg_catalog.pg_class c ON c.relnamespace OPERATOR(pg_catalog.=) n.oid
                  WHERE n.nspname OPERATOR(pg_catalog.=) schema AND c.relkind OPERATOR(pg_catalog.=) 'v'
                    AND c.relname OPERATOR(pg_catalog.=) ANY (ARRAY['time_account_daily', 'time_account_weekly',
                          'time_account_monthly', 'time_account_balance', 'time_account_unaccounted',
                          'time_account_status']::name[])
                    AND pg_catalog.pg_has_role(c.relowner, n.nspowner, 'MEMBER')
                    AND pg_catalog.has_table_privilege(c.oid, 'SELECT'))
$$;
COMMENT ON FUNCTION time_account_reader(name) IS
  'Whether the current role may read the time-account rows of a schema: a keeper, or a role that may read one of the accounts'' views there';

DO $do$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['time_account_people', 'time_account_contracts', 'time_account_absences',
                           'time_account_adjustments', 'refresh_log'] LOOP
    EXECUTE format('ALTER TABLE @extschema@.%I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('CREATE POLICY keepers ON @extschema@.%I USING (@extschema@.time_account_keeper(schema_name)) '
                   'WITH CHECK (@extschema@.time_account_keeper(schema_name))', t);
    EXECUTE format('CREATE POLICY readers ON @extschema@.%I FOR SELECT USING (@extschema@.time_account_reader(schema_name))', t);
  END LOOP;
  FOREACH t IN ARRAY ARRAY['time_account_objects', 'sync_state'] LOOP
    EXECUTE format('ALTER TABLE @extschema@.%I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('CREATE POLICY keepers ON @extschema@.%I USING (@extschema@.time_account_keeper(schema_name)) '
                   'WITH CHECK (@extschema@.time_account_keeper(schema_name))', t);
  END LOOP;
END $do$;
-- the accounts: seen by the schema's keepers, changed (and locked for a
-- run) only by their owner's members
ALTER TABLE time_accounts ENABLE ROW LEVEL SECURITY;
CREATE POLICY keepers ON time_accounts FOR SELECT USING (@extschema@.time_account_keeper(schema_name));
CREATE POLICY owners ON time_accounts
  USING (@extschema@.time_account_keeper(schema_name) AND pg_catalog.pg_has_role(CURRENT_USER, owner, 'MEMBER'))
  WITH CHECK (@extschema@.time_account_keeper(schema_name) AND pg_catalog.pg_has_role(CURRENT_USER, owner, 'MEMBER'));

-- What a role needs to keep time accounts of its own (in schemas it owns).
CREATE FUNCTION grant_time_accounts(role regrole)
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
  r text := role::text;
BEGIN
  IF NOT pg_has_role(current_user, (SELECT e.extowner FROM pg_extension e WHERE e.extname = 'tempo_fdw'), 'MEMBER') THEN
    RAISE EXCEPTION 'only the owner of tempo_fdw (or a superuser) grants the use of time accounts'
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON @extschema@.time_accounts, @extschema@.time_account_objects, '
                 '@extschema@.sync_state, @extschema@.refresh_log, @extschema@.time_account_people, '
                 '@extschema@.time_account_contracts, @extschema@.time_account_absences, '
                 '@extschema@.time_account_adjustments TO %s', r);
  EXECUTE format('GRANT SELECT ON @extschema@.holiday_calendars, @extschema@.holidays, '
                 '@extschema@.time_account_absence_kinds TO %s', r);
  EXECUTE format('GRANT EXECUTE ON FUNCTION @extschema@.time_account_contract_lock(name, text) TO %s', r);
  EXECUTE format('GRANT USAGE ON SEQUENCE @extschema@.refresh_log_run_id_seq, @extschema@.time_account_contracts_contract_id_seq, '
                 '@extschema@.time_account_absences_absence_id_seq, @extschema@.time_account_adjustments_adjustment_id_seq TO %s', r);
END $fn$;
COMMENT ON FUNCTION grant_time_accounts(regrole) IS
  'Lets a role keep time accounts of its own: privileges on the shared tables, whose rows row-level security confines to the schemas it owns';

-- ======================================================================
-- 1.1: live progress of the scans, one row per backend scanning (shared
-- memory when tempo_fdw is preloaded).
-- ======================================================================

CREATE FUNCTION scan_activity(OUT pid integer, OUT userid oid, OUT serverid oid, OUT relid oid,
                              OUT state text, OUT request text, OUT pages bigint, OUT rows bigint,
                              OUT bytes bigint, OUT requests bigint, OUT retries bigint, OUT throttled bigint,
                              OUT budget_wait_ms bigint, OUT retry_wait_ms bigint, OUT http_ms bigint,
                              OUT started_at timestamptz, OUT state_since timestamptz,
                              OUT run text, OUT run_schema name, OUT run_id bigint, OUT phase text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'tempo_fdw_activity'
LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION scan_activity() IS
  'The scans and runs of refresh or sync in this database, one row per backend (see the view activity)';

-- refresh and sync say which phase they are in (an abort clears it).
CREATE FUNCTION activity_phase(run text, run_schema name, run_id bigint, phase text)
RETURNS void
AS 'MODULE_PATHNAME', 'tempo_fdw_activity_phase'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION activity_phase(text, name, bigint, text) IS
  'Shows this backend''s refresh or sync and its phase in the view activity (phase NULL: the run ended); used by refresh and sync';

CREATE VIEW activity AS
SELECT a.pid, r.rolname AS role_name, a.run, a.run_schema, a.run_id, a.phase,
       s.srvname AS server_name, a.relid::pg_catalog.regclass AS table_name,
       a.state, a.request, a.pages, a.rows, a.bytes, a.requests, a.retries, a.throttled,
       a.budget_wait_ms, a.retry_wait_ms, a.http_ms, a.started_at, a.state_since
  FROM @extschema@.scan_activity() a
  LEFT JOIN pg_catalog.pg_foreign_server s ON s.oid OPERATOR(pg_catalog.=) a.serverid
  LEFT JOIN pg_catalog.pg_roles r ON r.oid OPERATOR(pg_catalog.=) a.userid;
GRANT SELECT ON activity TO PUBLIC;
COMMENT ON VIEW activity IS
  'The tempo_fdw scans and the runs of refresh and sync going on now in this database, one row per backend (every backend''s when tempo_fdw is preloaded, else only this session''s)';
COMMENT ON COLUMN activity.pid IS 'The backend (pg_stat_activity.pid)';
COMMENT ON COLUMN activity.run IS 'refresh or sync when the backend runs one (else NULL)';
COMMENT ON COLUMN activity.run_schema IS 'The time-accounts schema of that run';
COMMENT ON COLUMN activity.run_id IS 'Its row of refresh_log (committed when the run began, outcome running)';
COMMENT ON COLUMN activity.phase IS 'worklogs, deletions, merging, schedules or logging';
COMMENT ON COLUMN activity.server_name IS 'The server of the scan running now (the scan columns are NULL between scans)';
COMMENT ON COLUMN activity.state IS 'starting, requesting, waiting on the request budget, waiting to retry, or converting (a page into rows)';
COMMENT ON COLUMN activity.request IS 'Method and path of the current request (no host, no token); NULL unless you are a member of the scanning role or of pg_read_all_stats';
COMMENT ON COLUMN activity.pages IS 'Pages turned into rows so far';
COMMENT ON COLUMN activity.rows IS 'Rows returned so far';
COMMENT ON COLUMN activity.requests IS 'HTTP requests sent so far, retries included';
COMMENT ON COLUMN activity.throttled IS 'Responses 429 Too Many Requests so far';
COMMENT ON COLUMN activity.budget_wait_ms IS 'Milliseconds waited so far on the request budget (max_requests_per_second, a pause after a 429)';
COMMENT ON COLUMN activity.retry_wait_ms IS 'Milliseconds waited so far before retries (Retry-After, backoff)';
COMMENT ON COLUMN activity.http_ms IS 'Milliseconds in HTTP transfers so far';
COMMENT ON COLUMN activity.started_at IS 'When the scan began';
COMMENT ON COLUMN activity.state_since IS 'When the current state began';

-- ======================================================================
-- 1.1: the shared request budgets (max_requests_per_second, 429 pauses).
-- ======================================================================

CREATE FUNCTION rate_budget_state(OUT budget integer, OUT rate double precision, OUT slots_ahead bigint,
                                  OUT next_slot_at timestamptz, OUT paused_until timestamptz,
                                  OUT waiting bigint, OUT roles_waiting integer, OUT last_used timestamptz,
                                  OUT shared boolean)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'tempo_fdw_rate_budgets'
LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION rate_budget_state() IS 'The request budgets in use (see the view rate_budgets)';

CREATE VIEW rate_budgets AS SELECT * FROM @extschema@.rate_budget_state();
GRANT SELECT ON rate_budgets TO PUBLIC;
COMMENT ON VIEW rate_budgets IS
  'The request budgets in use, one per API host and credential (shared by every backend when tempo_fdw is preloaded); the key itself is not shown';
COMMENT ON COLUMN rate_budgets.budget IS 'A number for this listing only';
COMMENT ON COLUMN rate_budgets.rate IS 'max_requests_per_second of its last request (0: no limit)';
COMMENT ON COLUMN rate_budgets.slots_ahead IS 'Request slots already given out that have not begun';
COMMENT ON COLUMN rate_budgets.next_slot_at IS 'When the next request of this budget may start (NULL: no limit)';
COMMENT ON COLUMN rate_budgets.paused_until IS 'No request before this, as a 429''s Retry-After asked (NULL: not paused)';
COMMENT ON COLUMN rate_budgets.waiting IS 'Requests waiting for their slot';
COMMENT ON COLUMN rate_budgets.roles_waiting IS 'Roles with requests waiting';
COMMENT ON COLUMN rate_budgets.shared IS 'true: every backend''s budgets (tempo_fdw preloaded); false: only this session''s';
