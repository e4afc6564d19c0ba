-- What one answer may cost: a gzip bomb (130 KB on the wire, 128 MB
-- inflated, under max_response_bytes, whose parse tree would be 32 times
-- that) ends in 54000 with the backend's peak memory under 512 MB; a cancel
-- in the middle of a long parse ends it within about a second; an answer in
-- a content encoding other than gzip is refused.
\ir sql/include/setup.sql
\set t :sim '/@tag=pl,fault=bomb/4'
CREATE SERVER pl_srv FOREIGN DATA WRAPPER tempo_fdw
  OPTIONS (tempo_url :'t', max_requests_per_second '0', max_retries '0', fallback 'off');
CREATE USER MAPPING FOR PUBLIC SERVER pl_srv OPTIONS (token 'tempo-test-token');
CREATE FOREIGN TABLE pl_worklogs (worklog_id bigint) SERVER pl_srv OPTIONS (resource 'worklogs');

-- the bomb: stopped when its tree passes max_response_bytes (256 MB by default)
SELECT count(*) FROM pl_worklogs;
SELECT (regexp_match(pg_read_file('/proc/self/status'), 'VmHWM:\s+(\d+) kB'))[1]::bigint / 1024 AS peak_mb \gset
SELECT :peak_mb < 512 AS peak_under_512_mb;

-- a cancel (here statement_timeout) during the parse of a 40 MB page whose
-- tree would take 1.3 GB: the parse stops within about a second
\set t :sim '/@tag=pl,fault=bomb,bomb_mb=40/4'
\! curl -s -o /dev/null "$TEMPO_SIM_URL/@tag=pl_warm,fault=bomb,bomb_mb=40/4/worklogs"
ALTER SERVER pl_srv OPTIONS (SET tempo_url :'t', ADD max_response_bytes '2000000000');
SELECT clock_timestamp() AS t0 \gset
SET statement_timeout = '1500ms';
SELECT count(*) FROM pl_worklogs;
RESET statement_timeout;
SELECT clock_timestamp() - :'t0'::timestamptz < interval '2.5 s' AS ended_within_a_second_of_the_cancel;
\set log `curl -s "$TEMPO_SIM_URL/_log?tag=pl"`
SELECT string_agg(e ->> 'status', ',') AS statuses FROM jsonb_array_elements(:'log'::jsonb) e;

-- deflate (or br, zstd) was not asked for: refused, not inflated
\set t :sim '/@tag=pl,fault=deflate/4'
ALTER SERVER pl_srv OPTIONS (SET tempo_url :'t', DROP max_response_bytes);
SELECT count(*) FROM pl_worklogs;
SELECT ok, problem FROM tempo_fdw.check_connection('pl_srv') WHERE source = 'tempo worklogs';

DROP SERVER pl_srv CASCADE;
