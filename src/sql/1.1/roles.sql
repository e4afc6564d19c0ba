-- src/sql/1.1/roles.sql: time accounts of roles that are not superusers:
-- row-level security, grant_time_accounts.
-- Part of tempo_fdw--1.0--1.1.sql, which make builds (see the Makefile).

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
                          'time_account_status', 'time_account_team_monthly']::name[])
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
  r name := (SELECT a.rolname FROM pg_roles a WHERE a.oid = role);
BEGIN
  IF NOT pg_has_role(current_user, (SELECT e.extowner FROM pg_extension e WHERE e.extname = 'tempo_fdw'), 'MEMBER') THEN
    RAISE EXCEPTION 'only the owner of tempo_fdw (or a superuser) grants the use of time accounts'
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON @extschema@.time_accounts, @extschema@.time_account_objects, '
                 '@extschema@.sync_state, @extschema@.refresh_log, @extschema@.time_account_people, @extschema@.time_account_freshness, '
                 '@extschema@.time_account_contracts, @extschema@.time_account_absences, '
                 '@extschema@.time_account_adjustments TO %I', r);
  EXECUTE format('GRANT SELECT ON @extschema@.holiday_calendars, @extschema@.holidays, '
                 '@extschema@.time_account_absence_kinds TO %I', r);
  EXECUTE format('GRANT EXECUTE ON FUNCTION @extschema@.time_account_contract_lock(name, text), '
                 '@extschema@.activity_phase(text, name, bigint, text) TO %I', r);
  EXECUTE format('GRANT USAGE ON SEQUENCE @extschema@.refresh_log_run_id_seq, @extschema@.time_account_contracts_contract_id_seq, '
                 '@extschema@.time_account_absences_absence_id_seq, @extschema@.time_account_adjustments_adjustment_id_seq TO %I', r);
END $fn$;
COMMENT ON FUNCTION grant_time_accounts(regrole) IS
  'Lets a role keep time accounts of its own: privileges on the shared tables, whose rows row-level security confines to the schemas it owns';
