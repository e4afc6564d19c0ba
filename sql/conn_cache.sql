-- The connection cache drops only what a change concerns, as postgres_fdw
-- does: a server's connection survives ALTER SERVER of another server, a
-- user mapping change of another server, and another role's mapping made
-- and dropped; the changed one reconnects.  The simulator logs the client
-- port of each request: the same port is the same kept-alive connection.
\ir sql/include/setup.sql
\set ua :sim '/@tag=cca,ds=gen,n=5/4'
\set ub :sim '/@tag=ccb,ds=gen,n=5/4'
CREATE SERVER cc_a FOREIGN DATA WRAPPER tempo_fdw
  OPTIONS (tempo_url :'ua', max_requests_per_second '0', max_concurrency '1');
CREATE SERVER cc_b FOREIGN DATA WRAPPER tempo_fdw
  OPTIONS (tempo_url :'ub', max_requests_per_second '0', max_concurrency '1');
CREATE USER MAPPING FOR PUBLIC SERVER cc_a OPTIONS (token 'tempo-test-token');
CREATE USER MAPPING FOR PUBLIC SERVER cc_b OPTIONS (token 'tempo-test-token');
CREATE FOREIGN TABLE cc_wa (worklog_id bigint) SERVER cc_a OPTIONS (resource 'worklogs');
CREATE FOREIGN TABLE cc_wb (worklog_id bigint) SERVER cc_b OPTIONS (resource 'worklogs');
CREATE ROLE regress_cc_other;
GRANT USAGE ON FOREIGN SERVER cc_a TO regress_cc_other;
-- the client port of the last request of a tag
CREATE FUNCTION cc_port(tag text) RETURNS int LANGUAGE plpgsql AS $$
DECLARE
  log text;
BEGIN
  CREATE TEMP TABLE cc_log (line text);
  EXECUTE format($c$COPY cc_log FROM PROGRAM 'curl -s "%s/_log?tag=%s"' WITH (FORMAT csv, QUOTE E'\x01', DELIMITER E'\x02')$c$,
                 current_setting('cc.sim'), tag);
  SELECT string_agg(line, E'\n') INTO log FROM cc_log;
  DROP TABLE cc_log;
  RETURN (SELECT (e ->> 'peer_port')::int FROM jsonb_array_elements(log::jsonb) e
           ORDER BY (e ->> 'seq')::int DESC LIMIT 1);
END $$;
SELECT set_config('cc.sim', :'sim', false) IS NOT NULL AS sim_set;

-- both connected; a second scan reuses each connection
SELECT count(*) AS a FROM cc_wa;
SELECT count(*) AS b FROM cc_wb;
SELECT cc_port('cca') AS a1, cc_port('ccb') AS b1 \gset
SELECT count(*) AS a FROM cc_wa;
SELECT count(*) AS b FROM cc_wb;
SELECT cc_port('cca') = :a1 AS a_reused, cc_port('ccb') = :b1 AS b_reused;

-- ALTER SERVER cc_b: b reconnects, a keeps its connection
ALTER SERVER cc_b OPTIONS (ADD max_retries '1');
SELECT count(*) AS a FROM cc_wa;
SELECT count(*) AS b FROM cc_wb;
SELECT cc_port('cca') = :a1 AS a_kept, cc_port('ccb') <> :b1 AS b_reconnected;
SELECT cc_port('ccb') AS b2 \gset

-- a change of cc_a's user mapping: a reconnects, b keeps its connection
ALTER USER MAPPING FOR PUBLIC SERVER cc_a OPTIONS (SET token 'tempo-test-token');
SELECT count(*) AS a FROM cc_wa;
SELECT count(*) AS b FROM cc_wb;
SELECT cc_port('cca') <> :a1 AS a_reconnected, cc_port('ccb') = :b2 AS b_kept;
SELECT cc_port('cca') AS a2 \gset

-- another role's mapping of cc_a, made and dropped: nothing reconnects
CREATE USER MAPPING FOR regress_cc_other SERVER cc_a OPTIONS (token 'other-token');
DROP USER MAPPING FOR regress_cc_other SERVER cc_a;
SELECT count(*) AS a FROM cc_wa;
SELECT count(*) AS b FROM cc_wb;
SELECT cc_port('cca') = :a2 AS a_kept, cc_port('ccb') = :b2 AS b_kept;

-- the session's own mapping of cc_a, made: nothing reconnects (the
-- credentials are read for every scan); a scan with it in use is made with
-- it, so dropping it reconnects a (with PUBLIC's), and from then on a change
-- of PUBLIC's does too
CREATE USER MAPPING FOR CURRENT_USER SERVER cc_a OPTIONS (token 'tempo-test-token');
SELECT count(*) AS a FROM cc_wa;
SELECT cc_port('cca') = :a2 AS a_kept;
ALTER SERVER cc_a OPTIONS (ADD max_retries '1');
SELECT count(*) AS a FROM cc_wa;
SELECT cc_port('cca') <> :a2 AS a_reconnected;
SELECT cc_port('cca') AS a3 \gset
DROP USER MAPPING FOR CURRENT_USER SERVER cc_a;
SELECT count(*) AS a FROM cc_wa;
SELECT cc_port('cca') <> :a3 AS a_reconnected_public;
SELECT cc_port('cca') AS a4 \gset
SELECT count(*) AS a FROM cc_wa;
SELECT cc_port('cca') = :a4 AS a_kept;
ALTER USER MAPPING FOR PUBLIC SERVER cc_a OPTIONS (SET token 'tempo-test-token');
SELECT count(*) AS a FROM cc_wa;
SELECT cc_port('cca') <> :a4 AS a_reconnected_public_changed;

DROP FUNCTION cc_port(text);
DROP SERVER cc_a, cc_b CASCADE;
DROP ROLE regress_cc_other;
