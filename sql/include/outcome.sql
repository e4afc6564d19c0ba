-- outcome(q): SQLSTATE and message of a statement, for a compact table of
-- outcomes; made in the schema named by :helpers.
CREATE FUNCTION :"helpers".outcome(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  st text; msg text;
BEGIN
  EXECUTE q;
  RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
  RETURN st || ': ' || msg;
END $$;
