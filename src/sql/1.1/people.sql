-- src/sql/1.1/people.sql: the tables of the time accounts: people, absences,
-- holiday calendars, adjustments (and closing a year).
-- Part of tempo_fdw--1.0--1.1.sql, which make builds (see the Makefile).

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
  PERFORM @extschema@.checked_relation(schema, 'time_account_daily', cfg.owner);
  PERFORM @extschema@.checked_relation(schema, 'time_account_balance', cfg.owner);
  EXECUTE format('SELECT max(as_of) FROM %I.time_account_balance', schema) INTO asof;
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
  -- $1 the schema, $2 the last day of the year, $3 the cap, $4 the year,
  -- $5 what happens to the hours above it
  RETURN QUERY EXECUTE format($q$
    INSERT INTO @extschema@.time_account_adjustments AS j (schema_name, account_id, date, hours, kind, reason)
    SELECT p.schema_name, p.account_id, $2, $3 - b.hours, 'carry_over',
           format('%%s: above the cap of %%s h, %%s', $4, $3, $5)
      FROM @extschema@.time_account_people p
     CROSS JOIN LATERAL (
       SELECT (p.opening_balance_hours * 3600 + sum(d.balance_seconds + d.adjustment_seconds)) / 3600 AS hours
         FROM %I.time_account_daily d WHERE d.account_id = p.account_id AND d.date <= $2) b
     WHERE p.schema_name = $1 AND p.first_day <= $2 AND (p.last_day IS NULL OR p.last_day >= $2)
       AND b.hours > $3
    RETURNING j.account_id, round($3 - j.hours, 2), round(j.hours, 2)$q$, schema)
    USING schema, ye, cap_hours, year, CASE WHEN payout THEN 'paid out' ELSE 'forfeited' END;
END $fn$;
COMMENT ON FUNCTION close_time_account_year(name, integer, numeric, boolean) IS
  'Closes a year of a schema''s time accounts: balances above the cap are forfeited or paid out by a carry_over adjustment on 31 December';
