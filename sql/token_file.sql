-- A server-level token kept out of the catalogs: token_file (superuser
-- only) names a file the server reads when a scan starts.  And proxies:
-- only the superuser-only server option "proxy"; the proxy variables of
-- the server's environment are ignored (test/lib.sh starts the cluster
-- with https_proxy pointing at a closed port, so every https test of the
-- suite, like the one below, proves that).
\ir sql/include/setup.sql
\getenv simtls TEMPO_SIM_TLS_URL
SELECT current_setting('data_directory') || '/tempo_token_test' AS token_path \gset
COPY (SELECT 'tempo-test-token') TO :'token_path';
\set t :sim '/@tag=tf,ds=tiny/4'
CREATE SERVER tf_srv FOREIGN DATA WRAPPER tempo_fdw
  OPTIONS (tempo_url :'t', token_file :'token_path', max_requests_per_second '0', max_retries '0',
           fallback 'off');
CREATE FOREIGN TABLE tf_w (worklog_id bigint) SERVER tf_srv OPTIONS (resource 'worklogs');
SELECT count(*) FROM tf_w;  -- no user mapping: the file's token
SELECT array_to_string(srvoptions, ',') ~ 'tempo-test-token' AS token_in_catalog
  FROM pg_foreign_server WHERE srvname = 'tf_srv';
\set log `curl -s "$TEMPO_SIM_URL/_log?tag=tf"`
SELECT e ->> 'status' AS status, split_part(e ->> 'auth', ' ', 1) AS auth
  FROM jsonb_array_elements(:'log'::jsonb) e;
-- the file is read at each scan: a new token is used at once
COPY (SELECT 'revoked-token') TO :'token_path';
SELECT count(*) FROM tf_w;  -- ERROR: 401
COPY (SELECT 'tempo-test-token   ') TO :'token_path';
SELECT count(*) FROM tf_w;  -- trailing blanks and the line break are not part of it
-- a user mapping's token wins
CREATE USER MAPPING FOR CURRENT_USER SERVER tf_srv OPTIONS (token 'tempo-test-token');
COPY (SELECT '') TO :'token_path';
SELECT count(*) FROM tf_w;
DROP USER MAPPING FOR CURRENT_USER SERVER tf_srv;
SELECT count(*) FROM tf_w;  -- ERROR: an empty file
\set bad :token_path '.missing'
ALTER SERVER tf_srv OPTIONS (SET token_file :'bad');
SELECT count(*) FROM tf_w;  -- ERROR: no such file
SELECT * FROM tempo_fdw.check_connection('tf_srv');  -- ERROR too
COPY (SELECT 'tempo-test-token') TO :'token_path';
ALTER SERVER tf_srv OPTIONS (SET token_file :'token_path');

-- checked when set: superusers only, an absolute path, not with "token"
ALTER SERVER tf_srv OPTIONS (SET token_file 'token.txt');  -- ERROR
ALTER SERVER tf_srv OPTIONS (ADD token 'x');  -- ERROR
CREATE ROLE regress_tempo_tf;
GRANT USAGE ON FOREIGN DATA WRAPPER tempo_fdw TO regress_tempo_tf;
SET ROLE regress_tempo_tf;
CREATE SERVER tf_mine FOREIGN DATA WRAPPER tempo_fdw OPTIONS (token_file '/etc/passwd');  -- ERROR
CREATE SERVER tf_mine FOREIGN DATA WRAPPER tempo_fdw OPTIONS (proxy 'http://127.0.0.1:3128');  -- ERROR
RESET ROLE;

-- a server handed to a role that is not a superuser does not read the file
-- (its owner could aim it at a host of its own)
\set t :simtls '/@tag=tf/4'
ALTER SERVER tf_srv OPTIONS (SET tempo_url :'t', ADD ssl_verify 'false');
SELECT count(*) FROM tf_w;  -- over TLS, as the superuser's
ALTER SERVER tf_srv OWNER TO regress_tempo_tf;
GRANT SELECT ON tf_w TO regress_tempo_tf;
SET tempo_fdw.allowed_hosts = '127.0.0.1';
SET ROLE regress_tempo_tf;
SELECT count(*) FROM tf_w;  -- ERROR
RESET ROLE;
RESET tempo_fdw.allowed_hosts;
ALTER SERVER tf_srv OWNER TO CURRENT_USER;

-- the option "proxy" is used (here a closed port: the connection fails)
ALTER SERVER tf_srv OPTIONS (ADD proxy 'http://127.0.0.1:9');
\set VERBOSITY terse
SELECT count(*) FROM tf_w;  -- ERROR
\set VERBOSITY default
ALTER SERVER tf_srv OPTIONS (DROP proxy);
SELECT count(*) FROM tf_w;

COPY (SELECT '') TO :'token_path';
DROP SERVER tf_srv CASCADE;
DROP OWNED BY regress_tempo_tf;
DROP ROLE regress_tempo_tf;
