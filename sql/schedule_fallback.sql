-- schedules => 'tempo_or_local' with a token that may not read Tempo's
-- schedules (403 on every user-schedule request): the accounts take local
-- schedules and a NOTICE says so, whatever client_min_messages says.
\getenv sim TEMPO_SIM_URL
\! curl -s "$TEMPO_SIM_URL/_reset?tag=sfb" >/dev/null
\set t :sim '/@tag=sfb,fault=403,fault_on=user-schedule/4'
CREATE SERVER sfb_srv FOREIGN DATA WRAPPER tempo_fdw
  OPTIONS (tempo_url :'t', max_requests_per_second '0', max_retries '0');
CREATE USER MAPPING FOR PUBLIC SERVER sfb_srv OPTIONS (token 'tempo-test-token');
CREATE SCHEMA sfb;
IMPORT FOREIGN SCHEMA tempo FROM SERVER sfb_srv INTO sfb;
SET client_min_messages = warning;
SELECT tempo_fdw.create_time_accounts('sfb', '2024-12-01', '2024-12-31', schedules => 'tempo_or_local', populate => false);
SELECT schedules FROM tempo_fdw.time_accounts WHERE schema_name = 'sfb';
-- one request, the token's own schedule of today, refused
\set log `curl -s "$TEMPO_SIM_URL/_log?tag=sfb"`
SELECT e ->> 'method' AS method, e ->> 'path' AS path, e ->> 'status' AS status
  FROM jsonb_array_elements(:'log'::jsonb) e;
SELECT count(*) AS objects FROM tempo_fdw.drop_time_accounts('sfb');
DROP SCHEMA sfb CASCADE;
DROP SERVER sfb_srv CASCADE;
