-- src/sql/1.1/status.sql: time_account_status_view: the status view of a
-- schema's time accounts.
-- Part of tempo_fdw--1.0--1.1.sql, which make builds (see the Makefile).

-- The view time_account_status of a schema's accounts (called by
-- create_time_accounts): one row, from refresh_log, for the readers of
-- the other views.  asof is the SQL of the last day counted.
CREATE FUNCTION time_account_status_view(schema name, asof text, mode text, schedules text)
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
  EXECUTE format($q$
    CREATE VIEW %1$I.time_account_status AS
    SELECT %2$L::name AS schema_name, %3$L::text AS mode, %4$L::text AS schedules,
           ok.finished_at AS last_good_refresh, ok.started_at AS data_as_of, ok.worklog_source AS source,
           %5$s AS counted_through,
           last.started_at AS last_run_at, last.kind AS last_run_kind, last.outcome AS last_outcome,
           bad.finished_at AS last_error_at, bad.error AS last_error,
           fr.figures_at, fr.stale_since AS hr_changed_since,
           CASE WHEN fr.figures_at IS NULL OR fr.stale_all OR NOT %5$s BETWEEN fr.figures_through AND fr.figures_horizon
                THEN 'everyone'
                ELSE nullif(array_to_string(fr.stale_accounts, ', '), '') END AS computed_live,
           fr.names_at, fr.names_problem, fr.teams_at, fr.teams_problem
      FROM (SELECT) one
      LEFT JOIN @extschema@.time_account_freshness fr ON fr.schema_name = %2$L
      LEFT JOIN LATERAL (SELECT l.finished_at, l.started_at, l.worklog_source FROM @extschema@.refresh_log l
                          WHERE l.schema_name = %2$L AND l.outcome = 'ok' ORDER BY l.run_id DESC LIMIT 1) ok ON true
      LEFT JOIN LATERAL (SELECT l.started_at, l.kind, l.outcome FROM @extschema@.refresh_log l
                          WHERE l.schema_name = %2$L ORDER BY l.run_id DESC LIMIT 1) last ON true
      LEFT JOIN LATERAL (SELECT l.finished_at, l.error FROM @extschema@.refresh_log l
                          WHERE l.schema_name = %2$L AND l.outcome = 'failed' ORDER BY l.run_id DESC LIMIT 1) bad ON true$q$,
    schema, schema, mode, schedules, asof);
  EXECUTE format($c$
    COMMENT ON VIEW %1$I.time_account_status IS 'How fresh the time accounts are: the last good refresh or sync, what it read, the last error';
    COMMENT ON COLUMN %1$I.time_account_status.mode IS 'snapshot (refresh reads every worklog) or sync (a store kept in step)';
    COMMENT ON COLUMN %1$I.time_account_status.schedules IS 'Where required time comes from: tempo (user schedules) or local (contracts and holiday calendars)';
    COMMENT ON COLUMN %1$I.time_account_status.last_good_refresh IS 'When the last refresh or sync that succeeded ended (NULL: none yet)';
    COMMENT ON COLUMN %1$I.time_account_status.data_as_of IS 'When that run began reading: the worklogs are Tempo''s of that moment';
    COMMENT ON COLUMN %1$I.time_account_status.source IS 'Where that run read the worklogs: tempo, or jira (the fallback, allowed)';
    COMMENT ON COLUMN %1$I.time_account_status.counted_through IS 'The last day the accounts count (as_of of time_account_balance)';
    COMMENT ON COLUMN %1$I.time_account_status.last_run_at IS 'When the last run (of any outcome) began';
    COMMENT ON COLUMN %1$I.time_account_status.last_run_kind IS 'refresh or sync';
    COMMENT ON COLUMN %1$I.time_account_status.last_outcome IS 'ok, failed, skipped or running';
    COMMENT ON COLUMN %1$I.time_account_status.last_error_at IS 'When the last run that failed ended';
    COMMENT ON COLUMN %1$I.time_account_status.last_error IS 'Its error message';
    COMMENT ON COLUMN %1$I.time_account_status.figures_at IS 'When the figures the monthly and balance views read were computed (the last good run; NULL: none)';
    COMMENT ON COLUMN %1$I.time_account_status.hr_changed_since IS 'When HR data (people, absences, contracts, holidays) first changed after that';
    COMMENT ON COLUMN %1$I.time_account_status.names_at IS 'When the names of the people were last read from jira_users (person_name_snapshot)';
    COMMENT ON COLUMN %1$I.time_account_status.names_problem IS 'Why the last read of the names failed (SQLSTATE: message): refused or not set up, the names are NULL; else the last good read''s stay';
    COMMENT ON COLUMN %1$I.time_account_status.teams_at IS 'When the team memberships were last read from tempo_team_memberships (team_membership_snapshot)';
    COMMENT ON COLUMN %1$I.time_account_status.teams_problem IS 'Why the last read of the team memberships failed, as for names_problem';
    COMMENT ON COLUMN %1$I.time_account_status.computed_live IS 'Whose figures the views compute live (slower, exact) until the next run: NULL nobody, everyone, or the account ids'
  $c$, schema);
END $fn$;
COMMENT ON FUNCTION time_account_status_view(name, text, text, text) IS
  'Creates the view time_account_status of a schema''s time accounts (called by create_time_accounts)';
