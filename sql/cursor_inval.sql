-- A cursor reading ahead keeps going when another role creates and drops
-- its own user mapping meanwhile (the invalidation reaches this backend,
-- and another scan of the same server starts): the connection's handles
-- are not dropped under running transfers.  Before, the cursor spun at
-- full CPU until cancelled.
\ir sql/include/setup.sql
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS dblink;
RESET client_min_messages;
\set t :sim '/@tag=ci,ds=gen,n=1000,delay_ms=300/4'
CREATE SERVER ci_srv FOREIGN DATA WRAPPER tempo_fdw
  OPTIONS (tempo_url :'t', max_requests_per_second '0', page_size '100', max_concurrency '4');
CREATE USER MAPPING FOR PUBLIC SERVER ci_srv OPTIONS (token 'tempo-test-token');
CREATE FOREIGN TABLE ci_w1 (worklog_id bigint) SERVER ci_srv OPTIONS (resource 'worklogs');
CREATE FOREIGN TABLE ci_w2 (worklog_id bigint) SERVER ci_srv OPTIONS (resource 'worklogs');
CREATE ROLE regress_tempo_other LOGIN;
GRANT USAGE ON FOREIGN SERVER ci_srv TO regress_tempo_other;
SELECT dblink_connect('other', format('dbname=%s port=%s host=%s user=regress_tempo_other',
       current_database(), current_setting('port'), current_setting('unix_socket_directories'))) AS connected;

-- the rows a cursor still had to give
CREATE FUNCTION ci_rest(c refcursor) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  n bigint := 0;
  r record;
BEGIN
  LOOP
    FETCH c INTO r;
    EXIT WHEN NOT FOUND;
    n := n + 1;
  END LOOP;
  RETURN n;
END $$;

BEGIN;
SET LOCAL statement_timeout = '20s';
DECLARE c1 CURSOR FOR SELECT worklog_id FROM ci_w1;
FETCH 2 FROM c1;  -- the first page, and 4 more in flight
SELECT dblink_exec('other', 'CREATE USER MAPPING FOR CURRENT_USER SERVER ci_srv OPTIONS (token ''x'')') AS created,
       dblink_exec('other', 'DROP USER MAPPING FOR CURRENT_USER SERVER ci_srv') AS dropped;
DECLARE c2 CURSOR FOR SELECT worklog_id FROM ci_w2;  -- sees the invalidation
SELECT ci_rest('c1') AS rest_of_c1;
SELECT ci_rest('c2') AS rest_of_c2;
COMMIT;
SELECT count(*) FROM ci_w1;  -- the connection, renewed, works

SELECT dblink_disconnect('other') AS disconnected;
DROP SERVER ci_srv CASCADE;
DROP ROLE regress_tempo_other;
DROP FUNCTION ci_rest(refcursor);
