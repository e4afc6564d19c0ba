-- src/sql/1.1/trust.sql: security and trust helpers: what refresh, sync and
-- create_time_accounts check before they use a relation, and the run lock.
-- Part of tempo_fdw--1.0--1.1.sql, which make builds (see the Makefile).

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
    EXECUTE format('PREPARE tempo_fdw_lock AS SELECT FROM %I.%I', schema, relname);
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
