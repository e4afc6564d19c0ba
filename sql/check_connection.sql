-- tempo_fdw.check_connection(server): per source, OK or the exact problem
-- with a hint, using the current role's credentials.
\ir sql/include/setup.sql
\set t :sim '/@tag=chk/4'
\! curl -s "$TEMPO_SIM_URL/_reset?tag=chk" >/dev/null
\set j :sim '/@tag=chk'
CREATE SERVER chk_srv FOREIGN DATA WRAPPER tempo_fdw OPTIONS (tempo_url :'t', jira_url :'j');
CREATE USER MAPPING FOR PUBLIC SERVER chk_srv
  OPTIONS (token 'tempo-test-token', jira_email 'bot@example.com', jira_token 'jira-test-token');
\x on
-- all fine
SELECT * FROM tempo_fdw.check_connection('chk_srv');
-- a bad Tempo token, bad Jira credentials
ALTER USER MAPPING FOR PUBLIC SERVER chk_srv OPTIONS (SET token 'expired-token', SET jira_token 'wrong');
SELECT * FROM tempo_fdw.check_connection('chk_srv');
ALTER USER MAPPING FOR PUBLIC SERVER chk_srv OPTIONS (SET token 'tempo-test-token', SET jira_token 'jira-test-token');
-- a token without the scope
\set t :sim '/@tag=chk,fault=403,src=tempo/4'
ALTER SERVER chk_srv OPTIONS (SET tempo_url :'t');
SELECT * FROM tempo_fdw.check_connection('chk_srv');
-- a wrong URL or region
\set t :sim '/@tag=chk,fault=404,src=tempo/4'
ALTER SERVER chk_srv OPTIONS (SET tempo_url :'t');
SELECT source, ok, http_status, problem FROM tempo_fdw.check_connection('chk_srv');
-- Tempo down, Jira up
\set t :sim '/@tag=chk,fault=503,src=tempo/4'
ALTER SERVER chk_srv OPTIONS (SET tempo_url :'t');
SELECT source, ok, http_status, problem FROM tempo_fdw.check_connection('chk_srv');
-- unreachable host (the problem text is libcurl's, with the port: not shown)
ALTER SERVER chk_srv OPTIONS (SET tempo_url 'http://127.0.0.1:1/4');
SELECT source, ok, http_status, problem LIKE 'unreachable host:%' AS unreachable, hint
  FROM tempo_fdw.check_connection('chk_srv');
-- libcurl's text, with the host hidden
SELECT source, problem ~ '127\.0\.0\.1' AS names_host, problem LIKE '%<host>%' AS hides_host
  FROM tempo_fdw.check_connection('chk_srv');
-- not JSON: not a Tempo API
\set t :sim '/@tag=chk,fault=html,src=tempo/4'
ALTER SERVER chk_srv OPTIONS (SET tempo_url :'t');
SELECT source, ok, http_status, problem FROM tempo_fdw.check_connection('chk_srv');
-- the Jira permissions of jira_users, jira_projects and jira_issues, each
-- taken away alone (the simulator's jira_deny): users/search answers 403,
-- project/search and search/jql answer 200 with an empty list
\set t :sim '/@tag=chk/4'
\set j :sim '/@tag=chk,jira_deny=users'
ALTER SERVER chk_srv OPTIONS (SET tempo_url :'t', SET jira_url :'j');
SELECT * FROM tempo_fdw.check_connection('chk_srv') WHERE source LIKE 'jira%';
\set j :sim '/@tag=chk,jira_deny=projects'
ALTER SERVER chk_srv OPTIONS (SET jira_url :'j');
SELECT * FROM tempo_fdw.check_connection('chk_srv') WHERE source LIKE 'jira%';
\set j :sim '/@tag=chk,jira_deny=issues'
ALTER SERVER chk_srv OPTIONS (SET jira_url :'j');
SELECT * FROM tempo_fdw.check_connection('chk_srv') WHERE source LIKE 'jira%';
-- a 403 to the issue search names the permission too
\set j :sim '/@tag=chk,fault=403,src=jira,fault_on=search'
ALTER SERVER chk_srv OPTIONS (SET jira_url :'j');
SELECT * FROM tempo_fdw.check_connection('chk_srv') WHERE source LIKE 'jira%';
-- JSON without the list: not Jira's answer
\set j :sim '/@tag=chk,fault=wrongshape,src=jira,fault_on=project'
ALTER SERVER chk_srv OPTIONS (SET jira_url :'j');
SELECT * FROM tempo_fdw.check_connection('chk_srv') WHERE source LIKE 'jira%';
-- Jira's host does not answer: myself waits once, the three permission
-- probes are not sent and repeat its outcome (one request in the log)
\! curl -s "$TEMPO_SIM_URL/_reset?tag=chkj" >/dev/null
\set j :sim '/@tag=chkj,fault=hang,slow_ms=5000'
ALTER SERVER chk_srv OPTIONS (SET jira_url :'j', ADD timeout_ms '500');
SELECT * FROM tempo_fdw.check_connection('chk_srv') WHERE source LIKE 'jira%';
\set logj `curl -s "$TEMPO_SIM_URL/_log?tag=chkj"`
SELECT e ->> 'method' AS method, e ->> 'path' AS path FROM jsonb_array_elements(:'logj'::jsonb) e;
-- a Jira host that refuses the connection: the same, without waiting
ALTER SERVER chk_srv OPTIONS (SET jira_url 'http://127.0.0.1:1', DROP timeout_ms);
SELECT source, ok, http_status, problem LIKE 'unreachable host:%' AS unreachable, hint
  FROM tempo_fdw.check_connection('chk_srv') WHERE source LIKE 'jira%';
-- no Jira credentials
\set j :sim '/@tag=chk'
ALTER SERVER chk_srv OPTIONS (SET jira_url :'j');
ALTER USER MAPPING FOR PUBLIC SERVER chk_srv OPTIONS (DROP jira_email);
SELECT * FROM tempo_fdw.check_connection('chk_srv') WHERE source LIKE 'jira%';
-- nothing configured
ALTER SERVER chk_srv OPTIONS (DROP jira_url);
ALTER USER MAPPING FOR PUBLIC SERVER chk_srv OPTIONS (DROP token);
SELECT * FROM tempo_fdw.check_connection('chk_srv');
\x off
-- the checks that were sent, with which credentials
\set log `curl -s "$TEMPO_SIM_URL/_log?tag=chk"`
SELECT DISTINCT e ->> 'method' AS method, e ->> 'path' AS path,
       e ->> 'query' ~ '^from=\d{4}-\d\d-\d\d&to=\d{4}-\d\d-\d\d$' AS dated, split_part(e ->> 'auth', ' ', 1) AS auth
  FROM jsonb_array_elements(:'log'::jsonb) e ORDER BY 2;
-- the Jira permission probes ask for one item each
SELECT DISTINCT e ->> 'path' AS path, e ->> 'query' AS query
  FROM jsonb_array_elements(:'log'::jsonb) e
 WHERE e ->> 'path' LIKE '/rest/api/3/%search%' ORDER BY 1;
-- a role without USAGE on the server may not probe it
CREATE ROLE regress_tempo_nobody;
SET ROLE regress_tempo_nobody;
SELECT * FROM tempo_fdw.check_connection('chk_srv');
RESET ROLE;
DROP ROLE regress_tempo_nobody;
SELECT * FROM tempo_fdw.check_connection('no_such_server');
DROP SERVER chk_srv CASCADE;
