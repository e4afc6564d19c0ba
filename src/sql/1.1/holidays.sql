-- src/sql/1.1/holidays.sql: holiday generators: Easter, n-th weekdays,
-- public holidays per country, fill_holiday_calendar.
-- Part of tempo_fdw--1.0--1.1.sql, which make builds (see the Makefile).

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
