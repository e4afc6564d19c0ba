-- Server-side request forgery: a role that is not a superuser cannot aim a
-- server at plain http (loopback included), at a host outside
-- tempo_fdw.allowed_hosts, or at an IP address written so that only the
-- resolver would know what it means; a server handed to such a role is
-- checked again at each use; error bodies from hosts that are not Tempo's
-- or Atlassian's are not shown to it.  Superusers (the rest of the suite)
-- keep http to loopback.
\ir sql/include/setup.sql
\getenv simtls TEMPO_SIM_TLS_URL
SHOW tempo_fdw.allowed_hosts;
CREATE ROLE regress_tempo_ssrf;
GRANT USAGE ON FOREIGN DATA WRAPPER tempo_fdw TO regress_tempo_ssrf;

SET ROLE regress_tempo_ssrf;
CREATE SERVER h_bad FOREIGN DATA WRAPPER tempo_fdw OPTIONS (tempo_url :'sim');  -- ERROR: http
CREATE SERVER h_bad FOREIGN DATA WRAPPER tempo_fdw OPTIONS (tempo_url 'http://localhost:8080/4');  -- ERROR
CREATE SERVER h_bad FOREIGN DATA WRAPPER tempo_fdw OPTIONS (tempo_url 'https://127.0.0.1:22/4');  -- ERROR: not allowed
CREATE SERVER h_bad FOREIGN DATA WRAPPER tempo_fdw OPTIONS (tempo_url 'https://[::1]/4');  -- ERROR
CREATE SERVER h_bad FOREIGN DATA WRAPPER tempo_fdw OPTIONS (tempo_url 'https://metadata.google.internal/4');  -- ERROR
CREATE SERVER h_bad FOREIGN DATA WRAPPER tempo_fdw OPTIONS (tempo_url 'https://api.tempo.io.evil.com/4');  -- ERROR
CREATE SERVER h_bad FOREIGN DATA WRAPPER tempo_fdw OPTIONS (jira_url 'https://atlassian.net.evil.com');  -- ERROR
CREATE SERVER h_bad FOREIGN DATA WRAPPER tempo_fdw OPTIONS (jira_url 'https://evilatlassian.net');  -- ERROR
CREATE SERVER h_ok FOREIGN DATA WRAPPER tempo_fdw
  OPTIONS (tempo_url 'https://api.eu.tempo.io/4', jira_url 'https://ACME.atlassian.net');
ALTER SERVER h_ok OPTIONS (SET tempo_url 'https://169.254.169.254/4');  -- ERROR
SET tempo_fdw.allowed_hosts = '*';  -- ERROR: superusers only
RESET ROLE;

-- IP addresses are parsed (inet_pton), never resolved: for superusers too
CREATE SERVER h_bad FOREIGN DATA WRAPPER tempo_fdw OPTIONS (tempo_url 'http://127.999.999.999/4');  -- ERROR
CREATE SERVER h_bad FOREIGN DATA WRAPPER tempo_fdw OPTIONS (tempo_url 'http://2130706433/4');  -- ERROR
CREATE SERVER h_bad FOREIGN DATA WRAPPER tempo_fdw OPTIONS (tempo_url 'http://0x7f.1/4');  -- ERROR
CREATE SERVER h_bad FOREIGN DATA WRAPPER tempo_fdw OPTIONS (tempo_url 'http://127.1/4');  -- ERROR
CREATE SERVER h_bad FOREIGN DATA WRAPPER tempo_fdw OPTIONS (tempo_url 'https://[fe80::1%25eth0]/4');  -- ERROR
CREATE SERVER h_bad FOREIGN DATA WRAPPER tempo_fdw OPTIONS (tempo_url 'http://[::ffff:10.0.0.1]/4');  -- ERROR: not loopback
CREATE SERVER h_lo FOREIGN DATA WRAPPER tempo_fdw OPTIONS (tempo_url 'http://127.10.20.30:8080/4', jira_url 'http://[::1]:8080');
SET tempo_fdw.allowed_hosts = 'api.tempo.io, *.atlassian.net, *';
SET tempo_fdw.allowed_hosts = '*.tempo.io; rm -rf';  -- ERROR
SET tempo_fdw.allowed_hosts = 'a*.tempo.io';  -- ERROR
RESET tempo_fdw.allowed_hosts;

-- a server handed over to the role is checked at each use, also by check_connection
\set t :sim '/@tag=h,fault=echoauth/4'
CREATE SERVER h_handed FOREIGN DATA WRAPPER tempo_fdw
  OPTIONS (tempo_url :'t', max_retries '0', max_requests_per_second '0', fallback 'off');
CREATE USER MAPPING FOR regress_tempo_ssrf SERVER h_handed OPTIONS (token 'tempo-test-token');
CREATE FOREIGN TABLE h_worklogs (worklog_id bigint) SERVER h_handed OPTIONS (resource 'worklogs');
GRANT SELECT ON h_worklogs TO regress_tempo_ssrf;
ALTER SERVER h_handed OWNER TO regress_tempo_ssrf;
SET ROLE regress_tempo_ssrf;
SELECT count(*) FROM h_worklogs;  -- ERROR: plain http
SELECT * FROM tempo_fdw.check_connection('h_handed');  -- ERROR
RESET ROLE;
\set log `curl -s "$TEMPO_SIM_URL/_log?tag=h"`
SELECT jsonb_array_length(:'log'::jsonb) AS requests_sent;

-- over https, on a host the superuser allowed: the request goes out, but a
-- body from a host that is not Tempo's or Atlassian's is not shown
ALTER SERVER h_handed OWNER TO postgres;
\set t :simtls '/@tag=h,fault=echoauth/4'
ALTER SERVER h_handed OPTIONS (SET tempo_url :'t', ADD ssl_verify 'false');
ALTER SERVER h_handed OWNER TO regress_tempo_ssrf;
SET tempo_fdw.allowed_hosts = '127.0.0.1';
SET ROLE regress_tempo_ssrf;
SELECT count(*) FROM h_worklogs;  -- ERROR, no body
RESET ROLE;
RESET tempo_fdw.allowed_hosts;
-- the same server owned by a superuser shows the body (credentials blotted out)
ALTER SERVER h_handed OWNER TO postgres;
CREATE USER MAPPING FOR CURRENT_USER SERVER h_handed OPTIONS (token 'tempo-test-token');
SELECT count(*) FROM h_worklogs;  -- ERROR, with the body
\set log `curl -s "$TEMPO_SIM_URL/_log?tag=h"`
SELECT jsonb_array_length(:'log'::jsonb) AS requests_sent;

DROP SERVER h_handed, h_lo CASCADE;
DROP OWNED BY regress_tempo_ssrf;
DROP ROLE regress_tempo_ssrf;
