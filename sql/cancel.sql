-- Ctrl-C and statement_timeout stop a scan promptly with PostgreSQL's own
-- error: while waiting for an answer, while a body trickles in, and while
-- waiting to retry; within tens of milliseconds.
\ir sql/include/setup.sql
CREATE SERVER cancel_srv FOREIGN DATA WRAPPER tempo_fdw
  OPTIONS (max_requests_per_second '0', timeout_ms '60000');
CREATE USER MAPPING FOR PUBLIC SERVER cancel_srv OPTIONS (token 'tempo-test-token');
CREATE SCHEMA cancel;
IMPORT FOREIGN SCHEMA tempo LIMIT TO (worklogs) FROM SERVER cancel_srv INTO cancel;

-- a server that accepts and never answers (for 30 s)
\set u :sim '/@tag=cancel,fault=hang,slow_ms=30000/4'
ALTER SERVER cancel_srv OPTIONS (ADD tempo_url :'u');
SELECT clock_timestamp() AS t0 \gset
SET statement_timeout = '500ms';
SELECT count(*) FROM cancel.worklogs;
RESET statement_timeout;
SELECT clock_timestamp() - :'t0'::timestamptz < interval '2 seconds' AS stopped_within_2s;

-- a body that trickles in one byte every 200 ms
\set u :sim '/@tag=cancel,fault=slow,slow_ms=30000/4'
ALTER SERVER cancel_srv OPTIONS (SET tempo_url :'u');
SELECT clock_timestamp() AS t0 \gset
SET statement_timeout = '700ms';
SELECT count(*) FROM cancel.worklogs;
RESET statement_timeout;
SELECT clock_timestamp() - :'t0'::timestamptz < interval '2 seconds' AS stopped_within_2s;

-- a 503 asking to retry after 30 s
\set u :sim '/@tag=cancel,fault=503,retry_after=30/4'
ALTER SERVER cancel_srv OPTIONS (SET tempo_url :'u', ADD max_retries '3');
SELECT clock_timestamp() AS t0 \gset
SET statement_timeout = '600ms';
SELECT count(*) FROM cancel.worklogs;
RESET statement_timeout;
SELECT clock_timestamp() - :'t0'::timestamptz < interval '2 seconds' AS stopped_within_2s;

-- statement_timeout 200 ms: every transfer, one request too, waits on the
-- latch as well as libcurl's sockets, so each wait ends at once: waiting for
-- an answer, over TLS, with requests running concurrently, and waiting to
-- retry (test/pm_death.sh: postmaster death too)
\set u :sim '/@tag=cancel,fault=hang,slow_ms=30000/4'
ALTER SERVER cancel_srv OPTIONS (SET tempo_url :'u', SET max_retries '0');
SELECT clock_timestamp() AS t0 \gset
SET statement_timeout = '200ms';
SELECT count(*) FROM cancel.worklogs;
RESET statement_timeout;
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate,
       clock_timestamp() - :'t0'::timestamptz < interval '600 ms' AS stopped_within_600ms;
\getenv simtls TEMPO_SIM_TLS_URL
\set u :simtls '/@tag=cancel,fault=hang,slow_ms=30000/4'
ALTER SERVER cancel_srv OPTIONS (SET tempo_url :'u', ADD ssl_verify 'false');
SELECT clock_timestamp() AS t0 \gset
SET statement_timeout = '200ms';
SELECT count(*) FROM cancel.worklogs;
RESET statement_timeout;
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate,
       clock_timestamp() - :'t0'::timestamptz < interval '600 ms' AS stopped_within_600ms;
\set u :sim '/@tag=cancel,fault=hang,fault_at=2,slow_ms=30000/4'
ALTER SERVER cancel_srv OPTIONS (SET tempo_url :'u', DROP ssl_verify, ADD page_size '50',
                                 ADD max_concurrency '4');
SELECT clock_timestamp() AS t0 \gset
SET statement_timeout = '200ms';
SELECT count(*) FROM cancel.worklogs;
RESET statement_timeout;
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate,
       clock_timestamp() - :'t0'::timestamptz < interval '600 ms' AS stopped_within_600ms;
\set u :sim '/@tag=cancel,fault=503,retry_after=30/4'
ALTER SERVER cancel_srv OPTIONS (SET tempo_url :'u', SET max_retries '3');
SELECT clock_timestamp() AS t0 \gset
SET statement_timeout = '200ms';
SELECT count(*) FROM cancel.worklogs;
RESET statement_timeout;
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate,
       clock_timestamp() - :'t0'::timestamptz < interval '600 ms' AS stopped_within_600ms;

-- the backend is fine afterwards: the same connection serves the next scan
\set u :sim '/@tag=cancel,ds=tiny/4'
ALTER SERVER cancel_srv OPTIONS (SET tempo_url :'u');
SELECT count(*) FROM cancel.worklogs;

DROP SCHEMA cancel CASCADE;
DROP SERVER cancel_srv CASCADE;
