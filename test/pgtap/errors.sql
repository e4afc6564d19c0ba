-- pgTAP: SQLSTATEs of failures, and totals of multi-page scans.
\ir include/begin.sql
SELECT plan(22);

SELECT set_config('tap.sim', :'sim', true) IS NOT NULL AS sim_set \gset
CREATE SERVER tap_srv FOREIGN DATA WRAPPER tempo_fdw
  OPTIONS (max_requests_per_second '0', max_retries '0', page_size '1000');
CREATE USER MAPPING FOR PUBLIC SERVER tap_srv OPTIONS (token 'tempo-test-token');
CREATE SCHEMA tap;
IMPORT FOREIGN SCHEMA tempo LIMIT TO (worklogs, user_schedules) FROM SERVER tap_srv INTO tap;
CREATE FUNCTION tap.use(scenario text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('ALTER SERVER tap_srv OPTIONS (SET tempo_url %L)',
                 current_setting('tap.sim') || '/@' || scenario || '/4');
END $$;
ALTER SERVER tap_srv OPTIONS (ADD tempo_url 'http://127.0.0.1:1/4');

SELECT has_foreign_table('tap', 'worklogs', 'IMPORT FOREIGN SCHEMA creates tap.worklogs');
SELECT col_type_is('tap', 'worklogs', 'worklog_id', 'bigint', 'worklog_id is bigint');
SELECT col_type_is('tap', 'worklogs', 'started_at', 'timestamp with time zone', 'started_at is timestamptz');
SELECT col_type_is('tap', 'worklogs', 'attributes', 'jsonb', 'attributes is jsonb');

-- options
SELECT throws_ok($$CREATE SERVER tap_bad FOREIGN DATA WRAPPER tempo_fdw OPTIONS (tempo_uri 'x')$$,
                 'HV00D', NULL, 'unknown option: HV00D');
SELECT throws_ok($$CREATE SERVER tap_bad FOREIGN DATA WRAPPER tempo_fdw OPTIONS (page_size '5001')$$,
                 '22023', NULL, 'page_size over 5000: 22023');
SELECT throws_ok($$CREATE SERVER tap_bad FOREIGN DATA WRAPPER tempo_fdw OPTIONS (tempo_url 'http://api.tempo.io/4')$$,
                 '22023', NULL, 'http:// to a non-loopback host: 22023');
SELECT throws_ok($$CREATE FOREIGN TABLE tap.nores (worklog_id bigint) SERVER tap_srv$$,
                 'HV00J', NULL, 'a foreign table without resource: HV00J');

-- HTTP failures
SELECT tap.use('fault=401');
SELECT throws_ok('SELECT count(*) FROM tap.worklogs', '28000', NULL, '401: 28000');
SELECT tap.use('fault=403');
SELECT throws_ok('SELECT count(*) FROM tap.worklogs', '42501', NULL, '403: 42501');
SELECT tap.use('fault=404');
SELECT throws_ok('SELECT count(*) FROM tap.worklogs', 'HV00R', NULL, '404: HV00R');
SELECT tap.use('fault=503');
SELECT throws_ok('SELECT count(*) FROM tap.worklogs', 'HV000', NULL, '503 after retries: HV000');
SELECT tap.use('fault=badjson');
SELECT throws_ok('SELECT count(*) FROM tap.worklogs', 'HV00A', NULL, 'bad JSON: HV00A');
SELECT tap.use('fault=wrongshape');
SELECT throws_ok('SELECT count(*) FROM tap.worklogs', 'HV004', NULL, 'wrong shape: HV004');
SELECT tap.use('ds=fixture:bad_desc_number');
SELECT throws_ok('SELECT description FROM tap.worklogs', 'HV004', NULL, 'a number where a string belongs: HV004');
ALTER SERVER tap_srv OPTIONS (SET tempo_url 'http://127.0.0.1:1/4');
SELECT throws_ok('SELECT count(*) FROM tap.worklogs', 'HV00N', NULL, 'nothing listens: HV00N');
SELECT tap.use('fault=huge');
ALTER SERVER tap_srv OPTIONS (ADD max_response_bytes '1048576');
SELECT throws_ok('SELECT count(*) FROM tap.worklogs', '54000', NULL, 'response over max_response_bytes: 54000');
ALTER SERVER tap_srv OPTIONS (DROP max_response_bytes);
SELECT tap.use('fault=hang,slow_ms=3000');
ALTER SERVER tap_srv OPTIONS (ADD timeout_ms '300');
SELECT throws_ok('SELECT count(*) FROM tap.worklogs', 'HV000', NULL, 'timeout_ms passed: HV000');
ALTER SERVER tap_srv OPTIONS (DROP timeout_ms);
SELECT throws_ok($$SELECT * FROM tap.user_schedules$$, 'HV002', NULL,
                 'user_schedules without account and dates: HV002');

-- totals of a multi-page scan equal the simulator's own
\set stats `curl -s "$TEMPO_SIM_URL/_stats?ds=gen&n=7777"`
SELECT tap.use('ds=gen,n=7777');
SELECT results_eq('SELECT count(*), sum(time_spent_seconds)::bigint FROM tap.worklogs',
                  format('VALUES (%s::bigint, %s::bigint)', (:'stats'::jsonb ->> 'count'),
                         (:'stats'::jsonb ->> 'sum_time_spent')),
                  '7777 worklogs over 8 pages: count and sum');
SELECT results_eq('SELECT count(DISTINCT worklog_id) FROM tap.worklogs', 'VALUES (7777::bigint)',
                  'no worklog twice');
SELECT lives_ok('SELECT * FROM tap.worklogs LIMIT 1', 'a LIMIT stops early without error');

SELECT * FROM finish();
ROLLBACK;
