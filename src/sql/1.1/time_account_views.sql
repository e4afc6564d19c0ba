-- src/sql/1.1/time_account_views.sql: time_account_views: the daily,
-- monthly, balance and unaccounted views of a schema.
-- Part of tempo_fdw--1.0--1.1.sql, which make builds (see the Makefile).

-- The views of a schema's time accounts (called by create_time_accounts,
-- after it dropped the earlier ones): time_account_daily, _monthly,
-- _balance and _unaccounted.  asof is the SQL of the last day counted.
-- query_only: make nothing, return the daily view's query (what
-- materialise_accounts computes the figures with, asof a later day).
CREATE FUNCTION time_account_views(schema name, since date, asof text, col text,
                                   schedules text, people text, calendar text, absence_issue_ids bigint[],
                                   query_only boolean DEFAULT false)
RETURNS text
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
  daily text;
  days text;
BEGIN
  daily := format($q$
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
        FROM %1$I.worklog_snapshot
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
      LEFT JOIN adjusted adj ON adj.account_id = p.account_id AND adj.date = d.date$q$, schema, since, asof, col, schema, calendar,
    CASE WHEN people = 'authors' THEN format($p$
      UNION ALL
      SELECT a.account_id, %2$L::date, b.as_of, %3$L
        FROM (SELECT account_id FROM %1$I.worklog_snapshot WHERE account_id IS NOT NULL
              UNION SELECT account_id FROM @extschema@.time_account_contracts
                     WHERE schema_name = %4$L OR schema_name IS NULL) a, bounds b
       WHERE NOT EXISTS (SELECT 1 FROM listed x WHERE x.account_id = a.account_id)$p$, schema, since, calendar, schema)
      ELSE '' END,
    -- local: the person's calendar and no Tempo schedule; tempo: the reverse
    CASE WHEN schedules = 'local'
         THEN 'LEFT JOIN @extschema@.holidays h ON h.calendar = p.calendar AND h.date = d.date
      LEFT JOIN (SELECT NULL::text AS account_id, NULL::date AS date, NULL::integer AS required_seconds, NULL::text AS day_type,
                        NULL::text AS holiday_name, NULL::integer AS holiday_seconds) sch ON false'
         ELSE format('LEFT JOIN %I.schedule_snapshot sch ON sch.account_id = p.account_id AND sch.date = d.date
      LEFT JOIN (SELECT NULL::date AS date, NULL::text AS name, NULL::numeric AS fraction, NULL::numeric AS hours) h ON false', schema) END,
    schedules, absence_issue_ids);
  IF query_only THEN
    RETURN daily;
  END IF;
  EXECUTE format('CREATE VIEW %I.time_account_daily AS %s', schema, daily);
  PERFORM @extschema@.time_account_live_function(schema);
  days := @extschema@.time_account_figures_query(schema, since, asof);

  EXECUTE format($q$
    CREATE VIEW %1$I.time_account_monthly AS
    %3$s
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
           m.adj::bigint AS adjustment_seconds,
           coalesce(p.display_name, n.display_name) AS display_name
      FROM (SELECT account_id, month, sum(req) AS req, sum(log) AS log, sum(log) - sum(req) AS bal, sum(adj) AS adj,
                   sum(sum(log) - sum(req) + sum(adj)) OVER (PARTITION BY account_id ORDER BY month) AS cum
              FROM days
             GROUP BY 1, 2) m
      LEFT JOIN @extschema@.time_account_people p ON p.schema_name = %2$L AND p.account_id = m.account_id
      LEFT JOIN %1$I.person_name_snapshot n ON n.account_id = m.account_id
     CROSS JOIN LATERAL (SELECT coalesce(round(3600 * p.opening_balance_hours), 0) AS opening) o$q$, schema, schema, days);

  -- ISO weeks (Monday to Sunday; the week of 1 January may belong to the
  -- year before)
  EXECUTE format($q$
    CREATE VIEW %1$I.time_account_weekly AS
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
           w.adj::bigint AS adjustment_seconds,
           coalesce(p.display_name, n.display_name) AS display_name
      FROM (SELECT account_id, date_trunc('week', date)::date AS week, sum(required_seconds) AS req,
                   sum(logged_seconds) AS log, sum(balance_seconds) AS bal, sum(adjustment_seconds) AS adj,
                   sum(sum(balance_seconds + adjustment_seconds))
                     OVER (PARTITION BY account_id ORDER BY date_trunc('week', date)::date) AS cum
              FROM %1$I.time_account_daily
             GROUP BY 1, 2) w
      LEFT JOIN @extschema@.time_account_people p ON p.schema_name = %2$L AND p.account_id = w.account_id
      LEFT JOIN %1$I.person_name_snapshot n ON n.account_id = w.account_id
     CROSS JOIN LATERAL (SELECT coalesce(round(3600 * p.opening_balance_hours), 0) AS opening) o$q$, schema, schema);

  EXECUTE format($q$
    CREATE VIEW %1$I.time_account_balance AS
    %4$s
    SELECT d.account_id, %3$s AS as_of,
           round((sum(d.log - d.req + d.adj) + coalesce(round(3600 * p.opening_balance_hours), 0)) / 3600.0, 2) AS balance_hours,
           (sum(d.log - d.req + d.adj) + coalesce(round(3600 * p.opening_balance_hours), 0))::bigint AS balance_seconds,
           coalesce(p.display_name, n.display_name) AS display_name, p.team
      FROM days d
      LEFT JOIN @extschema@.time_account_people p ON p.schema_name = %2$L AND p.account_id = d.account_id
      LEFT JOIN %1$I.person_name_snapshot n ON n.account_id = d.account_id
     GROUP BY d.account_id, p.opening_balance_hours, p.display_name, n.display_name, p.team$q$, schema, schema, asof, days);

  EXECUTE format($q$
    CREATE VIEW %1$I.time_account_unaccounted AS
    SELECT w.account_id,
           CASE WHEN p.account_id IS NOT NULL AND w.start_date < p.first_day THEN 'before first_day'
                WHEN p.account_id IS NOT NULL THEN 'after last_day'
                ELSE 'not in time_account_people' END AS reason,
           p.account_id IS NULL AND %4$L = 'authors' AS counted,
           min(w.start_date) AS first_date, max(w.start_date) AS last_date,
           count(*) AS worklogs, sum(%5$s)::bigint AS logged_seconds,
           coalesce(p.display_name, n.display_name) AS display_name
      FROM %1$I.worklog_snapshot w
      LEFT JOIN @extschema@.time_account_people p ON p.schema_name = %2$L AND p.account_id = w.account_id
      LEFT JOIN %1$I.person_name_snapshot n ON n.account_id = w.account_id
     WHERE w.start_date <= %3$s AND w.account_id IS NOT NULL
       AND (p.account_id IS NULL OR w.start_date < p.first_day OR w.start_date > p.last_day)
     GROUP BY 1, 2, 3, p.display_name, n.display_name$q$, schema, schema, asof, people, col);

  EXECUTE format($c$
    COMMENT ON VIEW %1$I.time_account_daily IS 'Per person and day of the account: required time, logged time and their difference, in seconds';
    COMMENT ON COLUMN %1$I.time_account_daily.account_id IS 'Atlassian account id of the person';
    COMMENT ON COLUMN %1$I.time_account_daily.date IS 'The day (from the person''s first day to the last day counted)';
    COMMENT ON COLUMN %1$I.time_account_daily.required_seconds IS 'Required working time: contract (less holidays) or Tempo schedule, less absences, never below 0';
    COMMENT ON COLUMN %1$I.time_account_daily.billable_seconds IS 'Billable time of worklogs on the day';
    COMMENT ON COLUMN %1$I.time_account_daily.balance_seconds IS 'logged_seconds minus required_seconds';
    COMMENT ON COLUMN %1$I.time_account_daily.day_type IS 'WORKING_DAY, NON_WORKING_DAY, HOLIDAY or HOLIDAY_AND_NON_WORKING_DAY';
    COMMENT ON COLUMN %1$I.time_account_daily.holiday_name IS 'Name of the holiday, if any';
    COMMENT ON COLUMN %1$I.time_account_daily.required_source IS 'Where the required time comes from: contract, tempo or none';
    COMMENT ON COLUMN %1$I.time_account_daily.absence_seconds IS 'Required time the day''s absences took off';
    COMMENT ON COLUMN %1$I.time_account_daily.absence_kind IS 'Kinds of the day''s absences, if any (absence issue: worklogs on absence_issue_ids)';
    COMMENT ON COLUMN %1$I.time_account_daily.adjustment_seconds IS 'Adjustments of the day (time_account_adjustments), not in balance_seconds';
    COMMENT ON VIEW %1$I.time_account_monthly IS 'Per person and month: required, logged and balance hours, and the running balance';
    COMMENT ON COLUMN %1$I.time_account_monthly.account_id IS 'Atlassian account id of the person';
    COMMENT ON COLUMN %1$I.time_account_monthly.month IS 'First day of the month';
    COMMENT ON COLUMN %1$I.time_account_monthly.required_hours IS 'Required hours in the month (2 decimals)';
    COMMENT ON COLUMN %1$I.time_account_monthly.logged_hours IS 'Logged hours in the month (2 decimals)';
    COMMENT ON COLUMN %1$I.time_account_monthly.balance_hours IS 'Logged minus required hours in the month';
    COMMENT ON COLUMN %1$I.time_account_monthly.cumulative_balance_hours IS 'The overtime account at the end of the month (with the opening balance and adjustments)';
    COMMENT ON COLUMN %1$I.time_account_monthly.adjustment_hours IS 'Adjustments in the month (corrections, payouts, carry-over)';
    COMMENT ON COLUMN %1$I.time_account_monthly.adjustment_seconds IS 'The same, exact in seconds';
    COMMENT ON COLUMN %1$I.time_account_monthly.required_seconds IS 'Required time in the month, exact';
    COMMENT ON COLUMN %1$I.time_account_monthly.logged_seconds IS 'Logged time in the month, exact';
    COMMENT ON COLUMN %1$I.time_account_monthly.balance_seconds IS 'Logged minus required time in the month, exact';
    COMMENT ON COLUMN %1$I.time_account_monthly.cumulative_balance_seconds IS 'The overtime account at the end of the month, exact';
    COMMENT ON VIEW %1$I.time_account_weekly IS 'Per person and ISO week (Monday to Sunday): required, logged and balance hours, and the running balance';
    COMMENT ON COLUMN %1$I.time_account_weekly.account_id IS 'Atlassian account id of the person';
    COMMENT ON COLUMN %1$I.time_account_weekly.week IS 'Monday of the week (the account''s days in it only, at its start and end)';
    COMMENT ON COLUMN %1$I.time_account_weekly.iso_year IS 'ISO year of the week (1 January may fall in week 52 or 53 of the year before)';
    COMMENT ON COLUMN %1$I.time_account_weekly.iso_week IS 'ISO week number (1 to 53)';
    COMMENT ON COLUMN %1$I.time_account_weekly.required_hours IS 'Required hours in the week (2 decimals)';
    COMMENT ON COLUMN %1$I.time_account_weekly.logged_hours IS 'Logged hours in the week (2 decimals)';
    COMMENT ON COLUMN %1$I.time_account_weekly.balance_hours IS 'Logged minus required hours in the week';
    COMMENT ON COLUMN %1$I.time_account_weekly.cumulative_balance_hours IS 'The overtime account at the end of the week (with the opening balance and adjustments)';
    COMMENT ON COLUMN %1$I.time_account_weekly.required_seconds IS 'Required time in the week, exact';
    COMMENT ON COLUMN %1$I.time_account_weekly.logged_seconds IS 'Logged time in the week, exact';
    COMMENT ON COLUMN %1$I.time_account_weekly.balance_seconds IS 'Logged minus required time in the week, exact';
    COMMENT ON COLUMN %1$I.time_account_weekly.cumulative_balance_seconds IS 'The overtime account at the end of the week, exact';
    COMMENT ON COLUMN %1$I.time_account_weekly.adjustment_hours IS 'Adjustments in the week (corrections, payouts, carry-over)';
    COMMENT ON COLUMN %1$I.time_account_weekly.adjustment_seconds IS 'The same, exact in seconds';
    COMMENT ON VIEW %1$I.time_account_balance IS 'Per person: the overtime account as of the last day counted';
    COMMENT ON COLUMN %1$I.time_account_balance.account_id IS 'Atlassian account id of the person';
    COMMENT ON COLUMN %1$I.time_account_balance.balance_hours IS 'Opening balance plus adjustments plus logged minus required hours';
    COMMENT ON COLUMN %1$I.time_account_balance.balance_seconds IS 'The same, exact in seconds';
    COMMENT ON COLUMN %1$I.time_account_balance.display_name IS 'Name of the person: time_account_people''s, else Jira''s (person_name_snapshot); NULL when neither is known';
    COMMENT ON COLUMN %1$I.time_account_monthly.display_name IS 'Name of the person: time_account_people''s, else Jira''s (person_name_snapshot)';
    COMMENT ON COLUMN %1$I.time_account_weekly.display_name IS 'Name of the person: time_account_people''s, else Jira''s (person_name_snapshot)';
    COMMENT ON COLUMN %1$I.time_account_unaccounted.display_name IS 'Name of the author: time_account_people''s, else Jira''s (person_name_snapshot)';
    COMMENT ON COLUMN %1$I.time_account_balance.team IS 'Team of the person (time_account_people)';
    COMMENT ON VIEW %1$I.time_account_unaccounted IS 'Worklogs no listed account counts: authors not in time_account_people, days outside a person''s account';
    COMMENT ON COLUMN %1$I.time_account_unaccounted.account_id IS 'Atlassian account id of the author';
    COMMENT ON COLUMN %1$I.time_account_unaccounted.reason IS 'not in time_account_people, before first_day or after last_day';
    COMMENT ON COLUMN %1$I.time_account_unaccounted.counted IS 'Whether an account counts them anyway (people => authors: an unlisted author''s account over the whole period)';
    COMMENT ON COLUMN %1$I.time_account_unaccounted.first_date IS 'First day of these worklogs';
    COMMENT ON COLUMN %1$I.time_account_unaccounted.last_date IS 'Last day of these worklogs';
    COMMENT ON COLUMN %1$I.time_account_unaccounted.worklogs IS 'Number of worklogs';
    COMMENT ON COLUMN %1$I.time_account_unaccounted.logged_seconds IS 'Their logged time'
  $c$, schema);
  RETURN NULL;
END $fn$;
COMMENT ON FUNCTION time_account_views(name, date, text, text, text, text, text, bigint[], boolean) IS
  'Creates the views of a schema''s time accounts (called by create_time_accounts)';
