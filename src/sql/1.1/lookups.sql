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
-- A lookup never fails the run nor hides the accounts.  It runs after
-- the run's work is committed (run_time_accounts), in a transaction of its
-- own that holds no lock HR edits wait for, and each cache in a
-- subtransaction of its own:
-- - how the accounts are set up: no such foreign table in the schema, no
--   jira_url on the server, a token without the permission or scope
--   (403): the cache is emptied (names NULL, no teams), and
--   time_account_status says why (names_problem, teams_problem), without
--   a WARNING at every run;
-- - what someone must look at: a source or cache of the wrong kind or of
--   an owner the accounts' owner does not trust (never read nor written),
--   credentials Jira or Tempo rejects (401), or any other failure (a host
--   down, a 5xx, a bad answer): the status says why, the cache keeps the
--   last good read, and the run's refresh_log row and a WARNING say so;
-- - a failure of the database itself (deadlock, lock timeout, out of
--   memory or disk, shutdown, internal error; classes 40, 53, 55, 57, 58,
--   XX) is raised: the run's work is committed, the CALL fails.
-- Accounts made before the caches (by 1.0, or an earlier 1.1) have none:
-- no lookup (a problem of the first kind), until create_time_accounts
-- makes them again.
-- ======================================================================

-- One lookup: the cache <schema>.<cache> replaced by what <schema>.<source>
-- (a foreign table of resource <source>) has for the account ids, by the
-- query insert (%1$I the schema; %2$L the ids, a text[] literal).
-- problem: NULL, or why not (SQLSTATE: message); warn: whether it is one
-- to look at (see above).
CREATE FUNCTION read_lookup(schema name, acct_owner regrole, source name, cache name, ids text[], insert text,
                            OUT problem text, OUT warn boolean)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
  state text;
  msg   text;
  ours  boolean := false;
BEGIN
  BEGIN
    -- checked before anything reads or writes them
    IF @extschema@.checked_relation(schema, cache, acct_owner, NULL, true) IS NULL THEN
      problem := format('42P01: relation %I.%I does not exist: make the time accounts again (create_time_accounts)',
                        schema, cache);
      warn := false;
      RETURN;
    END IF;
    ours := true;
    IF @extschema@.checked_relation(schema, source, acct_owner, source, true) IS NULL THEN
      problem := format('42P01: relation %I.%I does not exist', schema, source);
    END IF;
  EXCEPTION WHEN wrong_object_type OR insufficient_privilege OR duplicate_table THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
    problem := format('%s: %s', state, msg);
    warn := true;
  END;
  IF problem IS NULL THEN
    BEGIN
      EXECUTE format('DELETE FROM %I.%I', schema, cache);
      IF cardinality(ids) > 0 THEN
        EXECUTE format(insert, schema, ids);
      END IF;
      RETURN;
    EXCEPTION WHEN OTHERS THEN
      GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
      IF left(state, 2) IN ('40', '53', '55', '57', '58', 'XX') THEN
        RAISE;
      END IF;
      problem := format('%s: %s', state, msg);
      -- a 403 or no jira_url: how the accounts are set up
      warn := state NOT IN ('42501', 'HV00J');
    END;
  END IF;
  IF NOT coalesce(warn, false) AND ours THEN
    EXECUTE format('DELETE FROM %I.%I', schema, cache);
  END IF;
  warn := coalesce(warn, false);
END $fn$;
COMMENT ON FUNCTION read_lookup(name, regrole, name, name, text[], text) IS
  'Used by read_lookups: one cache of names or teams replaced from its foreign table, or why not and whether that needs a WARNING';

-- The lookups of a schema's accounts (see above), for the account ids the
-- accounts count (the people listed; with people => 'authors' the holders
-- of contracts too) and the authors of the worklogs: both caches read, the
-- outcome recorded in time_account_freshness.  Returns a note for the
-- run's log and WARNING when a problem needs one, else NULL.
CREATE FUNCTION read_lookups(schema name, acct_owner regrole)
RETURNS text
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
  ids     text[];
  names   record;
  teams   record;
BEGIN
  PERFORM @extschema@.activity_phase(NULL, NULL, NULL, 'names and teams');
  PERFORM @extschema@.checked_relation(schema, 'worklog_snapshot', acct_owner);
  EXECUTE format($q$SELECT coalesce(array_agg(a.account_id ORDER BY a.account_id), '{}')
                      FROM (SELECT w.account_id FROM %1$I.worklog_snapshot w WHERE w.account_id IS NOT NULL
                            UNION SELECT p.account_id FROM @extschema@.time_account_people p
                                   WHERE p.schema_name OPERATOR(pg_catalog.=) %2$L
                            UNION SELECT c.account_id FROM @extschema@.time_account_contracts c
                                   WHERE (c.schema_name OPERATOR(pg_catalog.=) %2$L OR c.schema_name IS NULL)
                                     AND %3$L) a$q$,
                 schema, schema, (SELECT t.people = 'authors' FROM @extschema@.time_accounts t WHERE t.schema_name = schema))
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
     SET names_at = CASE WHEN names.problem IS NULL THEN clock_timestamp() ELSE f.names_at END, names_problem = names.problem,
         teams_at = CASE WHEN teams.problem IS NULL THEN clock_timestamp() ELSE f.teams_at END, teams_problem = teams.problem
   WHERE f.schema_name OPERATOR(pg_catalog.=) schema;
  RETURN nullif(concat_ws('; ',
    CASE WHEN names.warn THEN 'names kept from the last good read: ' || names.problem END,
    CASE WHEN teams.warn THEN 'teams kept from the last good read: ' || teams.problem END), '');
END $fn$;
COMMENT ON FUNCTION read_lookups(name, regrole) IS
  'The names (jira_users) and team memberships (tempo_team_memberships) of a schema''s account ids read into its caches; returns a note when a problem needs a WARNING';

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
      FROM (SELECT m.team_id, (SELECT max(x.team_name) FROM %1$I.team_membership_snapshot x WHERE x.team_id = m.team_id) AS team_name,
                   date_trunc('month', d.date)::date AS month, count(DISTINCT d.account_id) AS members,
                   sum(d.required_seconds) AS req, sum(d.logged_seconds) AS log, sum(d.adjustment_seconds) AS adj
              FROM %1$I.time_account_daily d
              -- each team the person was in that day, once (memberships
              -- of one team that overlap count the day once)
             CROSS JOIN LATERAL (SELECT DISTINCT s.team_id FROM %1$I.team_membership_snapshot s
                                  WHERE s.account_id = d.account_id
                                    AND (s.from_date IS NULL OR d.date >= s.from_date)
                                    AND (s.to_date IS NULL OR d.date <= s.to_date)) m
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
