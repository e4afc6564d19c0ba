-- TLS peers are always verified: the simulator's HTTPS listener, with a
-- throwaway self-signed certificate for 127.0.0.1 (made by test/lib.sh), is
-- refused before any request is sent, by the sequential and the read-ahead
-- (max_concurrency) paths, on Tempo and on Jira; only a superuser's
-- ssl_verify 'false' lets the scan through, and setting it back to 'true'
-- refuses the peer again (no unverified connection is reused).
\ir sql/include/setup.sql
\getenv tls TEMPO_SIM_TLS_URL
SET timezone = 'UTC';
-- the listener speaks TLS on a port of its own; the URL is the plain one with https
SELECT :'tls' ~ '^https://127\.0\.0\.1:[0-9]+$' AS tls_url, :'sim' ~ '^http://' AS plain_url;
\set turl :tls '/@tag=tls,ds=tiny/4'
\set jurl :tls '/@tag=tls_jira,ds=tiny'
CREATE SERVER tls_srv FOREIGN DATA WRAPPER tempo_fdw
  OPTIONS (tempo_url :'turl', jira_url :'jurl', fallback 'off',
           max_requests_per_second '0', max_concurrency '1', max_retries '0');
CREATE USER MAPPING FOR PUBLIC SERVER tls_srv
  OPTIONS (token 'tempo-test-token', jira_email 'bot@example.com', jira_token 'jira-test-token');
CREATE SCHEMA tls;
IMPORT FOREIGN SCHEMA tempo LIMIT TO (worklogs, jira_worklogs) FROM SERVER tls_srv INTO tls;
-- libcurl 8.10 and later word a failed verification "SSL certificate OpenSSL
-- verify result: self-signed certificate (18)": shown as earlier versions word it
CREATE FUNCTION tls.curl_words(t text) RETURNS text LANGUAGE sql AS
$$ SELECT regexp_replace(t, 'SSL certificate OpenSSL verify result: (.*) \(\d+\)$', 'SSL certificate problem: \1') $$;
-- SQLSTATE, message and detail of a statement: the port appears in none of them
CREATE FUNCTION tls.outcome(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  st text; msg text; det text;
BEGIN
  EXECUTE q;
  RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL;
  RETURN st || ': ' || msg || ' / ' || tls.curl_words(det);
END $$;

-- verification on (the default): refused, one page at a time and with read-ahead
SELECT tls.outcome('SELECT count(*) FROM tls.worklogs') AS worklogs;
ALTER SERVER tls_srv OPTIONS (SET max_concurrency '4');
SELECT tls.outcome('SELECT count(*) FROM tls.worklogs') AS worklogs_read_ahead;
SELECT tls.outcome('SELECT count(*) FROM tls.jira_worklogs') AS jira_worklogs;
SELECT source, ok, tls.curl_words(problem) AS problem FROM tempo_fdw.check_connection('tls_srv');
-- no HTTP request reached the simulator: the handshake failed first, no token was sent
\set log `curl -s "$TEMPO_SIM_URL/_log?tag=tls"`
\set jlog `curl -s "$TEMPO_SIM_URL/_log?tag=tls_jira"`
SELECT jsonb_array_length(:'log'::jsonb) AS tempo_requests, jsonb_array_length(:'jlog'::jsonb) AS jira_requests;

-- a superuser turns verification off for this server: the same scans work
SELECT rolsuper FROM pg_roles WHERE rolname = current_user;
ALTER SERVER tls_srv OPTIONS (ADD ssl_verify 'false');
SELECT count(*) FROM tls.worklogs;
SELECT count(*) FROM tls.jira_worklogs;
SELECT source, ok, http_status, problem FROM tempo_fdw.check_connection('tls_srv');
\set log `curl -s "$TEMPO_SIM_URL/_log?tag=tls"`
SELECT e ->> 'method' AS method, e ->> 'path' AS path, e ->> 'status' AS status
  FROM jsonb_array_elements(:'log'::jsonb) e;
-- several pages over TLS, read ahead: metadata.next links are https ones of
-- the same origin (requests past the end, dropped unread, may or may not
-- reach the server: not shown)
\set turl :tls '/@tag=tls_pages,ds=gen,n=2500/4'
ALTER SERVER tls_srv OPTIONS (SET tempo_url :'turl', ADD page_size '1000');
SELECT count(*), count(DISTINCT worklog_id) FROM tls.worklogs;
\set log `curl -s "$TEMPO_SIM_URL/_log?tag=tls_pages"`
SELECT e ->> 'query' AS query, e ->> 'status' AS status FROM jsonb_array_elements(:'log'::jsonb) e
 WHERE coalesce(substring(e ->> 'query' FROM 'offset=(\d+)')::int, 0) < 2500
 ORDER BY coalesce(substring(e ->> 'query' FROM 'offset=(\d+)')::int, 0);

-- verification back on: refused again, although the cached handle has just
-- talked to this very peer
ALTER SERVER tls_srv OPTIONS (SET ssl_verify 'true');
\! curl -s "$TEMPO_SIM_URL/_reset?tag=tls_pages" >/dev/null
SELECT tls.outcome('SELECT count(*) FROM tls.worklogs') AS worklogs;
SELECT tls.outcome('SELECT count(*) FROM tls.jira_worklogs') AS jira_worklogs;
\set log `curl -s "$TEMPO_SIM_URL/_log?tag=tls_pages"`
SELECT jsonb_array_length(:'log'::jsonb) AS tempo_requests;

DROP SCHEMA tls CASCADE;
DROP SERVER tls_srv CASCADE;
