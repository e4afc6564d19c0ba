-- src/sql/1.1/schedules.sql: Tempo's schedules kept incrementally per schema
-- (refresh_schedules), and the error of an unknown account.
-- Part of tempo_fdw--1.0--1.1.sql, which make builds (see the Makefile).

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
-- whole: every day since "since" again.  A request Tempo answers with 404
-- (a person it does not know) is an ERROR that names the account.
-- Accounts made by 1.0 (a
-- materialized view) are refreshed whole.  fetched_rows: the schedule days
-- received; schedule_rows: the days kept.  The schema's relations are
-- checked (checked_relation) before a statement names them (with %I);
-- values go in as parameters.
CREATE FUNCTION refresh_schedules(schema name, acct_owner regrole, whole boolean DEFAULT false,
  OUT fetched_rows bigint, OUT schedule_rows bigint)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET client_min_messages = warning
AS $fn$
DECLARE
  cfg     record;
  kind    text;
  ssnap   text := @extschema@.checked_relation(schema, 'schedule_snapshot', acct_owner);
  today   date;
  upto    date;
  grp     record;
  populated boolean;
  -- SQL fragment: with people => authors, the worklog authors and contract
  -- holders besides the listed people
  authors_sql text := '';
  msg     text;
  detail  text;
  hint    text;
BEGIN
  SELECT * INTO cfg FROM @extschema@.time_accounts t WHERE t.schema_name = schema;
  SELECT o.kind INTO kind FROM @extschema@.time_account_objects o
   WHERE o.schema_name = schema AND o.object_name = 'schedule_snapshot';
  IF kind = 'materialized view' THEN
    SELECT c.relispopulated INTO populated FROM pg_class c WHERE c.oid = to_regclass(ssnap);
    IF populated THEN
      EXECUTE format('REFRESH MATERIALIZED VIEW CONCURRENTLY %I.schedule_snapshot', schema);
    ELSE
      EXECUTE format('REFRESH MATERIALIZED VIEW %I.schedule_snapshot', schema);
    END IF;
    EXECUTE format('SELECT count(*) FROM %I.schedule_snapshot', schema) INTO schedule_rows;
    fetched_rows := schedule_rows;
    RETURN;
  END IF;
  fetched_rows := 0;
  IF cfg.schedules = 'local' THEN
    schedule_rows := 0;
    RETURN;
  END IF;
  PERFORM @extschema@.checked_relation(schema, 'schedule_fetched', acct_owner);
  PERFORM @extschema@.checked_relation(schema, 'user_schedules', acct_owner, 'user_schedules');
  PERFORM @extschema@.checked_relation(schema, 'worklog_snapshot', acct_owner);
  today := (now() AT TIME ZONE coalesce(cfg.time_zone, current_setting('TimeZone')))::date;
  upto := least(cfg.until, today);

  -- whose: the listed people, and with people => authors everyone who
  -- logged time or holds a contract
  IF cfg.people = 'authors' THEN
    authors_sql := format($q$UNION SELECT w.account_id FROM %I.worklog_snapshot w WHERE w.account_id IS NOT NULL
                             UNION SELECT c.account_id FROM @extschema@.time_account_contracts c
                              WHERE c.schema_name OPERATOR(pg_catalog.=) $1 OR c.schema_name IS NULL$q$, schema);
  END IF;
  DROP TABLE IF EXISTS pg_temp.tempo_sched_want;
  EXECUTE format($q$
    CREATE TEMP TABLE tempo_sched_want ON COMMIT DROP AS
    SELECT p.account_id,
           CASE WHEN $2 OR f.account_id IS NULL OR f.first_day > $3 THEN $3
                ELSE greatest($3, least(f.last_day + 1, $4 - $5)) END AS from_day,
           $6 AS to_day
      FROM (SELECT x.account_id FROM @extschema@.time_account_people x WHERE x.schema_name = $1
            %2$s) p
      LEFT JOIN %1$I.schedule_fetched f ON f.account_id OPERATOR(pg_catalog.=) p.account_id$q$,
    schema, authors_sql)
    USING schema, whole, cfg.since, today, cfg.schedule_recheck_days, upto;

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
                          FROM %I.user_schedules us
                         WHERE us.account_id = ANY ($1) AND us.date >= $2 AND us.date <= $3$q$,
                     schema)
        USING grp.ids, grp.from_day, grp.to_day;
    END LOOP;
  EXCEPTION WHEN insufficient_privilege THEN
    RAISE EXCEPTION 'the Tempo token of schema "%" cannot read user schedules', schema
      USING ERRCODE = 'insufficient_privilege',
            DETAIL = 'Tempo answered 403: the token lacks "View schemes" (a token with "View worklogs" only is common).',
            HINT = format('Take required time from contracts and a local holiday calendar: SELECT tempo_fdw.create_time_accounts(%L, schedules => ''local'', calendar => ...) '
                          '(or schedules => ''tempo_or_local'', which does so when the token cannot read schedules); or create a token with "View schemes".', schema);
  WHEN fdw_table_not_found THEN
    -- a person Tempo does not know: named, and where it comes from
    GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT;
    IF msg !~ '/user-schedule/[^?/]+' THEN
      RAISE;
    END IF;
    SELECT u.detail, u.hint INTO detail, hint FROM @extschema@.unknown_schedule_account(schema, msg) u;
    RAISE EXCEPTION USING ERRCODE = 'fdw_table_not_found', MESSAGE = msg, DETAIL = detail, HINT = hint;
  END;
  SELECT count(*) INTO fetched_rows FROM pg_temp.tempo_sched_incoming;

  -- the days asked for are replaced; people who no longer have accounts go
  EXECUTE format($q$DELETE FROM %I.schedule_snapshot s USING pg_temp.tempo_sched_want w
                     WHERE s.account_id OPERATOR(pg_catalog.=) w.account_id AND w.from_day <= w.to_day
                       AND s.date >= w.from_day$q$, schema);
  EXECUTE format('INSERT INTO %I.schedule_snapshot SELECT * FROM pg_temp.tempo_sched_incoming', schema);
  EXECUTE format($q$DELETE FROM %I.schedule_snapshot s WHERE NOT EXISTS (SELECT 1 FROM pg_temp.tempo_sched_want w
                                                              WHERE w.account_id OPERATOR(pg_catalog.=) s.account_id)$q$, schema);
  EXECUTE format($q$DELETE FROM %I.schedule_fetched f WHERE NOT EXISTS (SELECT 1 FROM pg_temp.tempo_sched_want w
                                                             WHERE w.account_id OPERATOR(pg_catalog.=) f.account_id)$q$, schema);
  EXECUTE format($q$INSERT INTO %I.schedule_fetched AS f (account_id, first_day, last_day, fetched_at)
                     SELECT w.account_id, w.from_day, w.to_day, pg_catalog.now() FROM pg_temp.tempo_sched_want w
                      WHERE w.from_day <= w.to_day
                     ON CONFLICT (account_id) DO UPDATE
                       SET first_day = least(f.first_day, excluded.first_day), last_day = excluded.last_day,
                           fetched_at = excluded.fetched_at$q$, schema);
  EXECUTE format('SELECT count(*) FROM %I.schedule_snapshot', schema) INTO schedule_rows;
END $fn$;
COMMENT ON FUNCTION refresh_schedules(name, regrole, boolean) IS
  'Brings the Tempo schedules of a schema''s people up to date: new days, the last schedule_recheck_days again, everything for a new person (whole: everything)';

-- The detail and hint of a run whose schedule request Tempo answered with
-- 404 (refresh_schedules, for refresh, sync and create_time_accounts):
-- which account it was, and where these accounts take it from.
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
