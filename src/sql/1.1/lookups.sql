-- src/sql/1.1/lookups.sql: the names and teams of the people with time
-- accounts, read from Jira (jira_users) and Tempo (tempo_team_memberships)
-- with each run and kept in the schema (issue #17).
-- Part of tempo_fdw--1.0--1.1.sql, which make builds (see the Makefile).

-- ======================================================================
-- Two caches per schema, made by create_time_accounts, filled by every
-- refresh and sync (after the figures) and by create_time_accounts when it
-- populates:
-- - person_name_snapshot: the Jira user of each account id the accounts
--   count (people listed and authors), read from the schema's foreign table
--   jira_users by account id (GET user/bulk, 50 ids a request); the views
--   show display_name from it where time_account_people has none;
-- - team_membership_snapshot: the Tempo team memberships of the same
--   account ids, read from tempo_team_memberships (POST
--   team-memberships/search with accountIds); time_account_team_monthly
--   sums the days of each membership.
-- A lookup never fails the run nor hides the accounts:
-- - no such foreign table in the schema, no Jira site or credentials, or
--   a token refused (401, 403): the cache is emptied (names NULL, no
--   teams), and time_account_status says why (names_problem,
--   teams_problem);
-- - any other failure (Jira or Tempo down, a bad answer): the cache keeps
--   what the last good read left, the status says why, and the run's
--   refresh_log row and a WARNING say so.
-- A foreign table of the wrong kind or another owner is never read (as
-- for every relation a run uses: checked_relation); that is a problem
-- of the lookup too.
-- ======================================================================

-- Which SQLSTATEs mean "this token may not read it, or it is not set up":
-- the cache is emptied rather than kept.  42501: a 403, or a relation of
-- an untrusted owner; 28000: a 401, or no credentials; 42P01, 42809: no
-- such foreign table; HV00J: no jira_url on the server.  Anything else
-- (a host that cannot be reached, a 5xx, a bad answer) passes.
CREATE FUNCTION lookup_refused(state text)
RETURNS boolean
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp
AS $$
  SELECT state = ANY (ARRAY['42501', '28000', '42P01', '42809', 'HV00J'])
$$;
COMMENT ON FUNCTION lookup_refused(text) IS
  'Whether a failed lookup of names or teams means the token may not read them or they are not set up (the cache is emptied) rather than a passing failure (the cache is kept)';

-- One lookup: the cache <schema>.<cache> replaced by what <schema>.<source>
-- (a foreign table of resource <source>) has for the account ids, by the
-- query insert (%1$I the schema; %2$L the ids, a text[] literal).
-- Returns NULL, or the problem (SQLSTATE and message); on a problem the
-- cache is emptied when lookup_refused, else left as it was.  Accounts
-- made before the caches (by 1.0, or an earlier 1.1) have none: that is a
-- problem of the refused kind (no WARNING at every run), until
-- create_time_accounts makes them.
CREATE FUNCTION read_lookup(schema name, acct_owner regrole, source name, cache name, ids text[], insert text)
RETURNS text
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
  state text;
  msg   text;
BEGIN
  IF @extschema@.checked_relation(schema, cache, acct_owner, NULL, true) IS NULL THEN
    -- accounts made before the caches: nothing to keep, nothing read
    RETURN format('42P01: relation %I.%I does not exist: make the time accounts again (create_time_accounts)',
                  schema, cache);
  END IF;
  BEGIN
    IF @extschema@.checked_relation(schema, source, acct_owner, source, true) IS NULL THEN
      RAISE EXCEPTION 'relation %.% does not exist', quote_ident(schema), quote_ident(source)
        USING ERRCODE = 'undefined_table';
    END IF;
    EXECUTE format('DELETE FROM %I.%I', schema, cache);
    IF cardinality(ids) > 0 THEN
      EXECUTE format(insert, schema, ids);
    END IF;
    RETURN NULL;
  EXCEPTION WHEN query_canceled THEN
    RAISE;
  WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
  END;
  IF @extschema@.lookup_refused(state) THEN
    EXECUTE format('DELETE FROM %I.%I', schema, cache);
  END IF;
  RETURN format('%s: %s', state, msg);
END $fn$;
COMMENT ON FUNCTION read_lookup(name, regrole, name, name, text[], text) IS
  'Used by read_lookups: one cache of names or teams replaced from its foreign table, or the problem that kept it from it';

-- The lookups of a schema's accounts (see above): both caches read, the
-- outcome recorded in time_account_freshness.  Returns a note when a
-- cache was kept from an earlier read (for the run's log and WARNING),
-- else NULL.
CREATE FUNCTION read_lookups(schema name, acct_owner regrole)
RETURNS text
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
  ids     text[];
  names   text;
  teams   text;
BEGIN
  PERFORM @extschema@.activity_phase(NULL, NULL, NULL, 'names and teams');
  PERFORM @extschema@.checked_relation(schema, 'worklog_snapshot', acct_owner);
  EXECUTE format($q$SELECT coalesce(array_agg(a.account_id ORDER BY a.account_id), '{}')
                      FROM (SELECT w.account_id FROM %1$I.worklog_snapshot w WHERE w.account_id IS NOT NULL
                            UNION SELECT p.account_id FROM @extschema@.time_account_people p
                                   WHERE p.schema_name OPERATOR(pg_catalog.=) %2$L) a$q$, schema, schema)
    INTO ids;
  names := @extschema@.read_lookup(schema, acct_owner, 'jira_users', 'person_name_snapshot', ids,
    $q$INSERT INTO %1$I.person_name_snapshot (account_id, display_name, email, active, account_type)
       SELECT u.account_id, u.display_name, u.email, u.active, u.account_type
         FROM %1$I.jira_users u WHERE u.account_id OPERATOR(pg_catalog.=) ANY (%2$L::text[])$q$);
  teams := @extschema@.read_lookup(schema, acct_owner, 'tempo_team_memberships', 'team_membership_snapshot', ids,
    $q$INSERT INTO %1$I.team_membership_snapshot (membership_id, team_id, team_name, account_id, role_name,
                                                 commitment_percent, from_date, to_date)
       SELECT m.membership_id, m.team_id, m.team_name, m.account_id, m.role_name, m.commitment_percent,
              m.from_date, m.to_date
         FROM %1$I.tempo_team_memberships m WHERE m.account_id OPERATOR(pg_catalog.=) ANY (%2$L::text[])$q$);
  UPDATE @extschema@.time_account_freshness f
     SET names_at = CASE WHEN names IS NULL THEN clock_timestamp() ELSE f.names_at END, names_problem = names,
         teams_at = CASE WHEN teams IS NULL THEN clock_timestamp() ELSE f.teams_at END, teams_problem = teams
   WHERE f.schema_name OPERATOR(pg_catalog.=) schema;
  RETURN nullif(concat_ws('; ',
    CASE WHEN NOT @extschema@.lookup_refused(left(names, 5)) THEN 'names kept from the last good read: ' || names END,
    CASE WHEN NOT @extschema@.lookup_refused(left(teams, 5)) THEN 'teams kept from the last good read: ' || teams END), '');
END $fn$;
COMMENT ON FUNCTION read_lookups(name, regrole) IS
  'The names (jira_users) and team memberships (tempo_team_memberships) of a schema''s account ids read into its caches; returns a note when a cache was kept from an earlier read';

-- The caches of a schema (called by create_time_accounts, after it dropped
-- the earlier ones).
CREATE FUNCTION lookup_caches(schema name)
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
  EXECUTE format($q$
    CREATE TABLE %1$I.person_name_snapshot (
      account_id text PRIMARY KEY, display_name text, email text, active boolean, account_type text);
    CREATE TABLE %1$I.team_membership_snapshot (
      membership_id bigint PRIMARY KEY, team_id bigint NOT NULL, team_name text, account_id text NOT NULL,
      role_name text, commitment_percent integer, from_date date, to_date date);
    CREATE INDEX ON %1$I.team_membership_snapshot (account_id);
    COMMENT ON TABLE %1$I.person_name_snapshot IS 'Jira''s user of each account id the time accounts count, as of the last refresh or sync (from jira_users; see time_account_status.names_problem)';
    COMMENT ON TABLE %1$I.team_membership_snapshot IS 'Tempo''s team memberships of the account ids the time accounts count, as of the last refresh or sync (from tempo_team_memberships; see time_account_status.teams_problem)'$q$,
    schema);
END $fn$;
COMMENT ON FUNCTION lookup_caches(name) IS
  'Creates the caches of names and team memberships of a schema''s time accounts (called by create_time_accounts)';

-- The view time_account_team_monthly of a schema (called by
-- create_time_accounts, after the daily view): per team and month, the
-- days of each member while a member (a person in two teams counts in
-- both; a team's past members count for their days in it).
CREATE FUNCTION time_account_team_view(schema name)
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
  EXECUTE format($q$
    CREATE VIEW %1$I.time_account_team_monthly AS
    SELECT t.team_id, t.team_name, t.month, t.members,
           round(t.req / 3600.0, 2) AS required_hours,
           round(t.log / 3600.0, 2) AS logged_hours,
           round((t.log - t.req) / 3600.0, 2) AS balance_hours,
           t.req::bigint AS required_seconds,
           t.log::bigint AS logged_seconds,
           (t.log - t.req)::bigint AS balance_seconds,
           round(t.adj / 3600.0, 2) AS adjustment_hours,
           t.adj::bigint AS adjustment_seconds
      FROM (SELECT m.team_id, max(m.team_name) AS team_name, date_trunc('month', d.date)::date AS month,
                   count(DISTINCT d.account_id) AS members,
                   sum(d.required_seconds) AS req, sum(d.logged_seconds) AS log, sum(d.adjustment_seconds) AS adj
              FROM %1$I.time_account_daily d
              JOIN %1$I.team_membership_snapshot m
                ON m.account_id = d.account_id
               AND (m.from_date IS NULL OR d.date >= m.from_date)
               AND (m.to_date IS NULL OR d.date <= m.to_date)
             GROUP BY m.team_id, date_trunc('month', d.date)::date) t;
    COMMENT ON VIEW %1$I.time_account_team_monthly IS 'Per Tempo team and month: the required, logged and balance hours of its members on the days they were members (team_membership_snapshot)';
    COMMENT ON COLUMN %1$I.time_account_team_monthly.team_id IS 'Tempo team id';
    COMMENT ON COLUMN %1$I.time_account_team_monthly.team_name IS 'Team name (as of the last refresh or sync)';
    COMMENT ON COLUMN %1$I.time_account_team_monthly.month IS 'First day of the month';
    COMMENT ON COLUMN %1$I.time_account_team_monthly.members IS 'People counted in the month (a member on at least one day of their account)';
    COMMENT ON COLUMN %1$I.time_account_team_monthly.required_hours IS 'Required hours of the members in the month, while members (2 decimals)';
    COMMENT ON COLUMN %1$I.time_account_team_monthly.logged_hours IS 'Logged hours of the members in the month, while members';
    COMMENT ON COLUMN %1$I.time_account_team_monthly.balance_hours IS 'Logged minus required hours';
    COMMENT ON COLUMN %1$I.time_account_team_monthly.required_seconds IS 'Required time, exact';
    COMMENT ON COLUMN %1$I.time_account_team_monthly.logged_seconds IS 'Logged time, exact';
    COMMENT ON COLUMN %1$I.time_account_team_monthly.balance_seconds IS 'Logged minus required time, exact';
    COMMENT ON COLUMN %1$I.time_account_team_monthly.adjustment_hours IS 'Adjustments of the members in the month, while members';
    COMMENT ON COLUMN %1$I.time_account_team_monthly.adjustment_seconds IS 'The same, exact in seconds'$q$,
    schema);
END $fn$;
COMMENT ON FUNCTION time_account_team_view(name) IS
  'Creates the view time_account_team_monthly of a schema''s time accounts (called by create_time_accounts)';
