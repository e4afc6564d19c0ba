-- Ctrl-C and statement_timeout stop a scan promptly with PostgreSQL's own
-- error: while waiting for an answer, while a body trickles in, and while
-- waiting to retry.
\getenv sim TEMPO_SIM_URL
\! curl -s "$TEMPO_SIM_URL/_reset" >/dev/null
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

-- the backend is fine afterwards: the same connection serves the next scan
\set u :sim '/@tag=cancel,ds=tiny/4'
ALTER SERVER cancel_srv OPTIONS (SET tempo_url :'u');
SELECT count(*) FROM cancel.worklogs;

DROP SCHEMA cancel CASCADE;
DROP SERVER cancel_srv CASCADE;
