-- Shared helpers of the pgTAP files (test/pgtap/include is not a test
-- itself), made in pg_temp so that they go with the session.  Each is
-- called qualified (pg_temp.x) and qualifies what it calls, as some files
-- put a hostile schema ahead of pg_catalog on the search_path.
--   CALL pg_temp.drop_roles(VARIADIC roles): the roles an earlier run
--     left, and what they own;
--   pg_temp.error_of(q): 'no error', or "SQLSTATE | message";
--   pg_temp.error_hint_of(q): 'no error', or "SQLSTATE | message | hint";
--   pg_temp.hint_of(q): 'no error', or the hint of the error;
--   pg_temp.rows_of(q): "N rows" (the rows the statement changed), or
--     "SQLSTATE | message".

CREATE PROCEDURE pg_temp.drop_roles(VARIADIC roles text[]) LANGUAGE plpgsql AS $$
DECLARE
  r text;
BEGIN
  FOREACH r IN ARRAY roles LOOP
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) r) THEN
      EXECUTE pg_catalog.format('DROP OWNED BY %I CASCADE', r);
      EXECUTE pg_catalog.format('DROP ROLE %I', r);
    END IF;
  END LOOP;
END $$;

CREATE FUNCTION pg_temp.error_of(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  st text; msg text;
BEGIN
  EXECUTE q;
  RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
  RETURN pg_catalog.concat_ws(' | ', st, msg);
END $$;

CREATE FUNCTION pg_temp.error_hint_of(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  st text; msg text; hint text;
BEGIN
  EXECUTE q;
  RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, hint = PG_EXCEPTION_HINT;
  RETURN pg_catalog.concat_ws(' | ', st, msg, hint);
END $$;

CREATE FUNCTION pg_temp.hint_of(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  h text;
BEGIN
  EXECUTE q;
  RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS h = PG_EXCEPTION_HINT;
  RETURN h;
END $$;

CREATE FUNCTION pg_temp.rows_of(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  n bigint; st text; msg text;
BEGIN
  EXECUTE q;
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN pg_catalog.concat(n, ' rows');
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
  RETURN pg_catalog.concat_ws(' | ', st, msg);
END $$;
