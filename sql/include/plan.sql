-- plan(stmt): EXPLAIN ANALYZE as every version prints it (18 writes row
-- counts with two decimals, and shows buffers, turned off by the statements
-- that use it); made in the schema named by :helpers.
CREATE FUNCTION :"helpers".plan(stmt text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE line text;
BEGIN
  FOR line IN EXECUTE stmt LOOP
    RETURN NEXT regexp_replace(line, 'rows=(\d+)\.00 ', 'rows=\1 ', 'g');
  END LOOP;
END $$;
