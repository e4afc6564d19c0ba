-- Options and the validator: every mistake fails at CREATE/ALTER time.
\set VERBOSITY default
SET client_min_messages = notice;

-- the wrapper itself takes no options
ALTER FOREIGN DATA WRAPPER tempo_fdw OPTIONS (ADD tempo_url 'https://api.tempo.io/4');  -- ERROR

-- unknown option: the hint lists the valid ones
CREATE SERVER opt_bad FOREIGN DATA WRAPPER tempo_fdw OPTIONS (tempo_uri 'https://api.tempo.io/4');  -- ERROR
CREATE SERVER opt_srv FOREIGN DATA WRAPPER tempo_fdw;
CREATE USER MAPPING FOR PUBLIC SERVER opt_srv OPTIONS (tokn 'x');  -- ERROR
CREATE FOREIGN TABLE opt_t (worklog_id bigint) SERVER opt_srv OPTIONS (resource 'worklogs', page_size '10');  -- ERROR

-- duplicates (PostgreSQL itself refuses them)
CREATE SERVER opt_bad FOREIGN DATA WRAPPER tempo_fdw OPTIONS (page_size '10', page_size '20');  -- ERROR

-- URLs: https, a host, no credentials, http only to loopback
CREATE SERVER opt_bad FOREIGN DATA WRAPPER tempo_fdw OPTIONS (tempo_url 'api.tempo.io/4');  -- ERROR
CREATE SERVER opt_bad FOREIGN DATA WRAPPER tempo_fdw OPTIONS (tempo_url 'ftp://api.tempo.io/4');  -- ERROR
CREATE SERVER opt_bad FOREIGN DATA WRAPPER tempo_fdw OPTIONS (tempo_url 'http://api.tempo.io/4');  -- ERROR
CREATE SERVER opt_bad FOREIGN DATA WRAPPER tempo_fdw OPTIONS (jira_url 'http://acme.atlassian.net');  -- ERROR
CREATE SERVER opt_bad FOREIGN DATA WRAPPER tempo_fdw OPTIONS (tempo_url 'https://user:pw@api.tempo.io/4');  -- ERROR
CREATE SERVER opt_bad FOREIGN DATA WRAPPER tempo_fdw OPTIONS (tempo_url 'https:///4');  -- ERROR
CREATE SERVER opt_bad FOREIGN DATA WRAPPER tempo_fdw OPTIONS (tempo_url 'https://api.tempo.io/4?x=1');  -- ERROR
CREATE SERVER opt_bad FOREIGN DATA WRAPPER tempo_fdw OPTIONS (tempo_url 'https://api.tempo.io/4 ');  -- ERROR
CREATE SERVER opt_bad FOREIGN DATA WRAPPER tempo_fdw OPTIONS (tempo_url 'http://127.0.0.10:8080/4', jira_url 'http://localhost:8080');
DROP SERVER opt_bad;
CREATE SERVER opt_bad FOREIGN DATA WRAPPER tempo_fdw OPTIONS (tempo_url 'http://[::1]:8080/4');
DROP SERVER opt_bad;
CREATE SERVER opt_bad FOREIGN DATA WRAPPER tempo_fdw OPTIONS (tempo_url 'http://127.0.0.1.evil.com/4');  -- ERROR
CREATE SERVER opt_bad FOREIGN DATA WRAPPER tempo_fdw OPTIONS (tempo_url 'http://localhost.evil.com/4');  -- ERROR
ALTER SERVER opt_srv OPTIONS (ADD tempo_url 'https://api.eu.tempo.io/4/', jira_url 'https://acme.atlassian.net');

-- numbers
ALTER SERVER opt_srv OPTIONS (ADD timeout_ms '-1');  -- ERROR
ALTER SERVER opt_srv OPTIONS (ADD timeout_ms 'soon');  -- ERROR
ALTER SERVER opt_srv OPTIONS (ADD connect_timeout_ms '0');  -- ERROR
ALTER SERVER opt_srv OPTIONS (ADD page_size '5001');  -- ERROR
ALTER SERVER opt_srv OPTIONS (ADD page_size '0');  -- ERROR
ALTER SERVER opt_srv OPTIONS (ADD max_retries '-3');  -- ERROR
ALTER SERVER opt_srv OPTIONS (ADD max_concurrency '0');  -- ERROR
ALTER SERVER opt_srv OPTIONS (ADD max_requests_per_second '-1');  -- ERROR
ALTER SERVER opt_srv OPTIONS (ADD max_requests_per_second 'NaN');  -- ERROR
-- 1/rate must fit the slot arithmetic: 0 or 0.001 .. 1000000
ALTER SERVER opt_srv OPTIONS (ADD max_requests_per_second '1e-300');  -- ERROR
ALTER SERVER opt_srv OPTIONS (ADD max_requests_per_second '0.0009');  -- ERROR
ALTER SERVER opt_srv OPTIONS (ADD max_requests_per_second '1000000.5');  -- ERROR
ALTER SERVER opt_srv OPTIONS (ADD max_requests_per_second 'Infinity');  -- ERROR
CREATE SERVER opt_rps FOREIGN DATA WRAPPER tempo_fdw OPTIONS (max_requests_per_second '0.001');
ALTER SERVER opt_rps OPTIONS (SET max_requests_per_second '1000000');
DROP SERVER opt_rps;
ALTER SERVER opt_srv OPTIONS (ADD max_response_bytes '10');  -- ERROR
ALTER SERVER opt_srv OPTIONS (ADD fallback 'yes');  -- ERROR
ALTER SERVER opt_srv OPTIONS (ADD timeout_ms '5000', connect_timeout_ms '1000', page_size '5000',
  max_retries '0', max_concurrency '4', max_requests_per_second '2.5', max_response_bytes '1048576',
  fallback 'off');

-- a server token works but warns: pg_foreign_server is readable by every role
ALTER SERVER opt_srv OPTIONS (ADD token 'server-level-secret');
ALTER SERVER opt_srv OPTIONS (DROP token);

-- credentials: one line, not empty; the e-mail cannot hold ':'
CREATE USER MAPPING FOR PUBLIC SERVER opt_srv OPTIONS (token '');  -- ERROR
CREATE USER MAPPING FOR PUBLIC SERVER opt_srv OPTIONS (token E'abc\r\nX-Injected: 1');  -- ERROR
CREATE USER MAPPING FOR PUBLIC SERVER opt_srv OPTIONS (jira_email 'a:b@example.com');  -- ERROR
CREATE USER MAPPING FOR PUBLIC SERVER opt_srv OPTIONS (token 'um-secret', jira_email 'bot@example.com', jira_token 'jira-secret');
-- the validator's messages never repeat a secret value
ALTER USER MAPPING FOR PUBLIC SERVER opt_srv OPTIONS (ADD tokenx 'um-secret');  -- ERROR

-- foreign tables need a valid resource
CREATE FOREIGN TABLE opt_t (worklog_id bigint) SERVER opt_srv;  -- ERROR
CREATE FOREIGN TABLE opt_t (worklog_id bigint) SERVER opt_srv OPTIONS (resource 'issues');  -- ERROR
CREATE FOREIGN TABLE opt_t (worklog_id bigint) SERVER opt_srv OPTIONS (resource 'worklogs');
ALTER FOREIGN TABLE opt_t OPTIONS (DROP resource);  -- ERROR
-- a column the resource does not have is reported when the table is read
CREATE FOREIGN TABLE opt_t2 (worklog_id bigint, hours numeric) SERVER opt_srv OPTIONS (resource 'worklogs');
SELECT * FROM opt_t2;  -- ERROR

-- TLS verification: only a superuser may turn it off
CREATE ROLE regress_tempo_user;
GRANT USAGE ON FOREIGN DATA WRAPPER tempo_fdw TO regress_tempo_user;
SET ROLE regress_tempo_user;
CREATE SERVER opt_user_srv FOREIGN DATA WRAPPER tempo_fdw OPTIONS (ssl_verify 'false');  -- ERROR
CREATE SERVER opt_user_srv FOREIGN DATA WRAPPER tempo_fdw OPTIONS (ssl_verify 'true');
RESET ROLE;
ALTER SERVER opt_srv OPTIONS (ADD ssl_verify 'false');

-- user-mapping options are hidden from other roles
GRANT USAGE ON FOREIGN SERVER opt_srv TO regress_tempo_user;
SET ROLE regress_tempo_user;
SELECT srvname, umoptions FROM pg_user_mappings WHERE srvname = 'opt_srv';
RESET ROLE;
SELECT srvname, umoptions FROM pg_user_mappings WHERE srvname = 'opt_srv';

-- the options as stored
SELECT srvname, srvoptions FROM pg_foreign_server WHERE srvname = 'opt_srv';

DROP SERVER opt_user_srv;
DROP SERVER opt_srv CASCADE;
DROP OWNED BY regress_tempo_user;
DROP ROLE regress_tempo_user;
