-- same(q): the query with pushdown off and on: 'same N rows', or how many
-- rows are in one answer only ('N rows differ'); made in the schema named
-- by :helpers.
CREATE FUNCTION :"helpers".same(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  diff bigint; n bigint;
BEGIN
  SET LOCAL tempo_fdw.enable_pushdown = off;
  EXECUTE 'CREATE TEMP TABLE push_off ON COMMIT DROP AS ' || q;
  SET LOCAL tempo_fdw.enable_pushdown = on;
  EXECUTE 'CREATE TEMP TABLE push_on ON COMMIT DROP AS ' || q;
  SELECT count(*) INTO diff FROM ((TABLE push_off EXCEPT ALL TABLE push_on)
                                  UNION ALL (TABLE push_on EXCEPT ALL TABLE push_off)) d;
  SELECT count(*) INTO n FROM push_on;
  DROP TABLE push_off, push_on;
  RETURN CASE WHEN diff = 0 THEN 'same ' || n || ' rows' ELSE diff || ' rows differ' END;
END $$;
