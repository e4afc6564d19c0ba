-- Cumulative statistics: the view tempo_fdw.stats counts what each
-- server's scans did (compared here with the simulator's log), errors
-- and cancels included, and stats_reset() starts again.
\getenv sim TEMPO_SIM_URL
\! curl -s "$TEMPO_SIM_URL/_reset" >/dev/null
SET timezone = 'UTC';
\set u :sim '/@tag=sta,ds=gen,n=230/4'
CREATE SERVER sta_srv FOREIGN DATA WRAPPER tempo_fdw
  OPTIONS (tempo_url :'u', max_requests_per_second '0', max_concurrency '1', max_retries '2', page_size '50');
CREATE USER MAPPING FOR PUBLIC SERVER sta_srv OPTIONS (token 'tempo-test-token');
CREATE SCHEMA sta;
IMPORT FOREIGN SCHEMA tempo LIMIT TO (worklogs) FROM SERVER sta_srv INTO sta;
SELECT tempo_fdw.stats_reset();
SELECT count(*) AS stats_rows FROM tempo_fdw.stats WHERE server_name = 'sta_srv';

-- two whole scans: their rows, and the requests and pages the simulator saw
SELECT count(*) AS worklogs FROM sta.worklogs \gset
SELECT :worklogs AS worklogs;
SELECT count(*) = :worklogs AS same_count FROM sta.worklogs;
\set log `curl -s "$TEMPO_SIM_URL/_log?tag=sta"`
SELECT json_array_length(:'log'::json) AS requests_seen \gset
SELECT resource, scans, errors, fallbacks, rows = 2 * :worklogs AS rows_ok,
       requests = :requests_seen AS requests_ok, pages = :requests_seen AS pages_ok, retries,
       bytes > 0 AS has_bytes, shared
  FROM tempo_fdw.stats WHERE server_name = 'sta_srv';

-- a scan ended by an error counts as an error, with its retries: a 503
-- answered to every try (1 + max_retries 2)
\set u :sim '/@tag=sta2,ds=gen,n=230,fault=503,retry_after=0/4'
ALTER SERVER sta_srv OPTIONS (SET tempo_url :'u');
SELECT count(*) FROM sta.worklogs;
SELECT scans, errors, requests - :requests_seen AS new_requests, retries
  FROM tempo_fdw.stats WHERE server_name = 'sta_srv';

-- a scan cut short by a LIMIT is a scan, not an error
\set u :sim '/@tag=sta3,ds=gen,n=230/4'
ALTER SERVER sta_srv OPTIONS (SET tempo_url :'u');
SELECT count(*) FROM (SELECT * FROM sta.worklogs LIMIT 3) q;
SELECT scans, errors FROM tempo_fdw.stats WHERE server_name = 'sta_srv';

-- stats_reset() belongs to superusers (and roles granted EXECUTE)
CREATE ROLE sta_user;
SET ROLE sta_user;
SELECT count(*) >= 0 AS others_may_read FROM tempo_fdw.stats;
SELECT tempo_fdw.stats_reset();
RESET ROLE;
DROP ROLE sta_user;
SELECT tempo_fdw.stats_reset();
SELECT count(*) AS after_reset FROM tempo_fdw.stats WHERE server_name = 'sta_srv';

DROP SCHEMA sta CASCADE;
DROP SERVER sta_srv CASCADE;
