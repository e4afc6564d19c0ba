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

-- Synchronise a store; for pg_cron (see above); full and force as in
-- sync_run.
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
  requests0 bigint;
  failed    boolean := false;
  err_state text;
  err_msg   text;
  err_detail text;
  err_hint  text;
BEGIN
  PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
  SELECT * INTO cfg FROM @extschema@.time_accounts t WHERE t.schema_name = schema AND t.mode = 'sync';
  IF FOUND THEN
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
  INSERT INTO @extschema@.refresh_log (schema_name, kind, started_at, outcome)
  VALUES (schema, 'sync', clock_timestamp(), 'running') RETURNING run_id INTO run;
  BEGIN
    SELECT r.inserted, r.updated, r.mapped, r.unattributed INTO ins, upd, mapped, unattrib
      FROM @extschema@.sync_run(schema, sync.full, sync.force, sync.allow_fallback) r;
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
         worklog_rows = ins + upd,
         worklog_source = CASE WHEN failed THEN NULL WHEN mapped IS NOT NULL THEN 'jira' ELSE 'tempo' END,
         mapped_rows = CASE WHEN failed THEN NULL ELSE coalesce(mapped, 0) END,
         unattributed_rows = CASE WHEN failed THEN NULL ELSE coalesce(unattrib, 0) END,
         requests = @extschema@.requests_made() - requests0,
         error = err_msg
   WHERE run_id = run;
  COMMIT;
  PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
  IF failed THEN
    err_hint := format('%s%sThe store and its watermark are unchanged; the next run picks up from there.',
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

-- Create (or replace) the time accounts of a schema (see above); the
-- snapshot refuses fallback rows; an earlier since reloads the store.
CREATE OR REPLACE FUNCTION create_time_accounts(
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
  s    text := quote_ident(schema);
  upto text := CASE WHEN until IS NULL THEN 'current_date' ELSE quote_literal(until) || '::date' END;
  col  text := CASE logged WHEN 'billable' THEN 'coalesce(billable_seconds, 0)' ELSE 'time_spent_seconds' END;
  me   regrole := (SELECT r.oid FROM pg_roles r WHERE r.rolname = current_user)::regrole;
  prev regrole;
  prev_since date;
  rel  text;
  obj  record;
  fallback boolean;
  twin text;
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

  -- replace what an earlier call made, and nothing else (no CASCADE: a
  -- user's view on ours makes this fail rather than vanish)
  FOR obj IN SELECT n.name FROM (VALUES (0, 'time_account_unattributed'::name), (1, 'time_account_balance'), (2, 'time_account_monthly'),
                                        (3, 'time_account_daily'), (4, 'schedule_snapshot'),
                                        (5, 'worklog_snapshot')) n(pos, name) ORDER BY n.pos LOOP
    rel := @extschema@.checked_relation(schema, obj.name, me, NULL, true);
    IF rel IS NOT NULL THEN
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
      CASE WHEN issue_ids IS NULL THEN '' ELSE format('AND w.issue_id = ANY (%L::bigint[])', issue_ids) END, schema, twin);
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
      CASE WHEN issue_ids IS NULL THEN '' ELSE format('AND issue_id = ANY (%L::bigint[])', issue_ids) END);
  END IF;
  EXECUTE format($q$
    CREATE MATERIALIZED VIEW %1$s.schedule_snapshot AS
    SELECT us.account_id, us.date, us.required_seconds, us.day_type, us.holiday_name, us.holiday_seconds
      FROM (SELECT account_id FROM %1$s.worklog_snapshot WHERE account_id IS NOT NULL
            UNION SELECT account_id FROM @extschema@.time_account_contracts) people
      JOIN %1$s.user_schedules us ON us.account_id = people.account_id
     WHERE us.date >= %2$L::date AND us.date <= %3$s
    WITH NO DATA$q$, s, since, upto);
  EXECUTE format('CREATE UNIQUE INDEX ON %s.schedule_snapshot (account_id, date)', s);

  EXECUTE format($q$
    CREATE VIEW %1$s.time_account_daily AS
    WITH people AS (
      SELECT account_id FROM %1$s.worklog_snapshot WHERE account_id IS NOT NULL
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
    COMMENT ON COLUMN %1$s.time_account_balance.balance_seconds IS 'The same, exact in seconds';
    COMMENT ON COLUMN %1$s.worklog_snapshot.jira_worklog_id IS 'Id of the worklog''s twin in Jira';
    COMMENT ON COLUMN %1$s.worklog_snapshot.attribution IS 'tempo: from Tempo; jira_mapped: from the Jira fallback, worker and billable time from the last good Tempo data; unattributed: from the Jira fallback with no known worker (account_id NULL)';
    COMMENT ON VIEW %1$s.time_account_unattributed IS 'Time from the Jira fallback that no worker is known for (made while Tempo could not be read): counted in no account until the next refresh from Tempo';
    COMMENT ON COLUMN %1$s.time_account_unattributed.date IS 'Day of the work (Jira''s started, in its offset)';
    COMMENT ON COLUMN %1$s.time_account_unattributed.issue_id IS 'Jira issue id';
    COMMENT ON COLUMN %1$s.time_account_unattributed.seconds IS 'Logged time in seconds'
  $c$, s, CASE logged WHEN 'billable' THEN 'billable seconds' ELSE 'time spent' END,
     CASE mode WHEN 'sync' THEN 'VIEW' ELSE 'MATERIALIZED VIEW' END);

  INSERT INTO @extschema@.time_account_objects (schema_name, object_name, kind)
  VALUES (schema, 'worklog_snapshot', CASE mode WHEN 'sync' THEN 'view' ELSE 'materialized view' END),
         (schema, 'schedule_snapshot', 'materialized view'), (schema, 'time_account_daily', 'view'),
         (schema, 'time_account_monthly', 'view'), (schema, 'time_account_balance', 'view'),
         (schema, 'time_account_unattributed', 'view');
  INSERT INTO @extschema@.time_accounts AS t (schema_name, since, until, logged, issue_ids, mode, deletions, reconcile_days, owner)
  VALUES (schema, since, until, logged, issue_ids, mode, deletions, reconcile_days, me)
  ON CONFLICT (schema_name) DO UPDATE
    SET since = excluded.since, until = excluded.until, logged = excluded.logged,
        issue_ids = excluded.issue_ids, mode = excluded.mode, deletions = excluded.deletions,
        reconcile_days = excluded.reconcile_days, owner = excluded.owner, created_at = now();

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
    PERFORM @extschema@.keep_twins(schema, me);
    EXECUTE format('REFRESH MATERIALIZED VIEW %s.schedule_snapshot', s);
  END IF;
  RETURN format('time accounts in schema %s from %s to %s', s, since, coalesce(until::text, 'today'));
END $fn$;

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

  INSERT INTO @extschema@.refresh_log (schema_name, started_at, outcome)
  VALUES (schema, clock_timestamp(), 'running') RETURNING run_id INTO run;

  BEGIN
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
    IF fallback THEN
      -- Tempo cannot serve: its schedules stay as the last good run left them
      note := format('worklogs from the Jira fallback (allowed): %s attributed from the last good Tempo data, '
                     '%s unattributed (see time_account_unattributed); schedules kept from the last run',
                     coalesce(mapped, 0), coalesce(unattrib, wrows));
    ELSE
      IF cfg.mode = 'snapshot' THEN
        PERFORM @extschema@.keep_twins(schema, cfg.owner);
      END IF;
      SELECT c.relispopulated INTO populated FROM pg_class c WHERE c.oid = to_regclass(ssnap);
      EXECUTE format('REFRESH MATERIALIZED VIEW %s %s', CASE WHEN populated THEN 'CONCURRENTLY' ELSE '' END, ssnap);
    END IF;
    EXECUTE format('SELECT count(*) FROM %s', ssnap) INTO srows;
  EXCEPTION WHEN OTHERS THEN
    -- the refreshes above are undone: the previous data stays
    GET STACKED DIAGNOSTICS err_state = RETURNED_SQLSTATE, err_msg = MESSAGE_TEXT,
                            err_detail = PG_EXCEPTION_DETAIL, err_hint = PG_EXCEPTION_HINT;
    failed := true;
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
            ORDER BY array_position(ARRAY['time_account_unattributed', 'time_account_balance', 'time_account_monthly',
                                          'time_account_daily', 'schedule_snapshot', 'worklog_snapshot',
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
