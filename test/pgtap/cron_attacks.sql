-- pgTAP: the procedures a superuser's pg_cron job runs (refresh, sync, and
-- create_time_accounts) against hostile roles.  Each attack leaves a trace
-- if its code ever runs: a row in tfa_evil.witness and a call of the
-- sequence tfa_evil.witness_seq (which a rollback does not undo).
--   1. functions, operators and types planted by a role that may create
--      in a schema of the caller's search_path (||, =, format, quote_ident,
--      array_agg, now, domains, ...), through every path of refresh, sync
--      and create_time_accounts: success, Tempo failure, skipped run, stale
--      lock.  The schema tfa_evil stands for a writable public (the default
--      before PostgreSQL 15), and comes even before pg_catalog; a schema of
--      its own keeps the other test files clean if this one stops midway;
--   2. the target schema's objects: (a) its owner swaps the foreign table
--      worklogs for a view, (a') or our worklog_snapshot for a view of hers,
--      (b) the same before create_time_accounts in snapshot mode, (c) a role
--      with CREATE on the schema plants worklog_store with a trigger;
--   5. a role with only CONNECT tries to block refresh through the run lock.
-- Not one transaction: the procedures commit.
\ir include/setup.sql
\ir include/helpers.sql
DROP SCHEMA IF EXISTS hj, hjs, ev_a, ev_b, ev_c, tfa_evil CASCADE;
CALL pg_temp.drop_roles('tfa_mallory', 'tfa_alice', 'tfa_connect');
CREATE EXTENSION tempo_fdw;
CREATE EXTENSION IF NOT EXISTS dblink;
SELECT plan(29);

CREATE ROLE tfa_mallory LOGIN;   -- owns tfa_evil; CREATE on schema ev_c
CREATE ROLE tfa_alice LOGIN;     -- owns the schemas ev_a and ev_b
CREATE ROLE tfa_connect LOGIN;   -- nothing but CONNECT (PUBLIC's)
CREATE SCHEMA tfa_evil AUTHORIZATION tfa_mallory;

-- errors of functions are read with pg_temp.error_hint_of (include/helpers.sql);
-- a procedure that commits cannot run inside one: psql's LAST_ERROR_* are
-- read instead

-- ---------------------------------------------------------------------
-- 1. Mallory's hijacks; every one writes the witness
-- ---------------------------------------------------------------------
SET ROLE tfa_mallory;
CREATE TABLE tfa_evil.witness (what text, by_role name, superuser boolean);
CREATE SEQUENCE tfa_evil.witness_seq;
GRANT USAGE ON SCHEMA tfa_evil TO PUBLIC;
GRANT INSERT ON tfa_evil.witness TO PUBLIC;
GRANT USAGE ON SEQUENCE tfa_evil.witness_seq TO PUBLIC;
CREATE FUNCTION tfa_evil.witness_note(what text) RETURNS boolean LANGUAGE sql AS $$
  SELECT pg_catalog.nextval('tfa_evil.witness_seq');
  INSERT INTO tfa_evil.witness SELECT what, r.rolname, r.rolsuper FROM pg_catalog.pg_roles r
   WHERE r.rolname OPERATOR(pg_catalog.=) CURRENT_USER RETURNING true;
$$;
CREATE FUNCTION tfa_evil.h_cat(text, bigint) RETURNS text LANGUAGE sql
  AS $$ SELECT tfa_evil.witness_note('||(text,bigint)'); SELECT $1 OPERATOR(pg_catalog.||) $2::text $$;
CREATE OPERATOR tfa_evil.|| (LEFTARG = text, RIGHTARG = bigint, FUNCTION = tfa_evil.h_cat);
CREATE FUNCTION tfa_evil.h_cat_name(text, name) RETURNS text LANGUAGE sql
  AS $$ SELECT tfa_evil.witness_note('||(text,name)'); SELECT $1 OPERATOR(pg_catalog.||) $2::text $$;
CREATE OPERATOR tfa_evil.|| (LEFTARG = text, RIGHTARG = name, FUNCTION = tfa_evil.h_cat_name);
CREATE FUNCTION tfa_evil.h_eq_name_text(name, text) RETURNS boolean LANGUAGE sql
  AS $$ SELECT tfa_evil.witness_note('=(name,text)'); SELECT $1::text OPERATOR(pg_catalog.=) $2 $$;
CREATE OPERATOR tfa_evil.= (LEFTARG = name, RIGHTARG = text, FUNCTION = tfa_evil.h_eq_name_text);
CREATE FUNCTION tfa_evil.h_eq_regrole(regrole, regrole) RETURNS boolean LANGUAGE sql
  AS $$ SELECT tfa_evil.witness_note('=(regrole,regrole)'); SELECT $1::oid OPERATOR(pg_catalog.=) $2::oid $$;
CREATE OPERATOR tfa_evil.= (LEFTARG = regrole, RIGHTARG = regrole, FUNCTION = tfa_evil.h_eq_regrole);
CREATE FUNCTION tfa_evil.h_gt_interval(interval, interval) RETURNS boolean LANGUAGE sql
  AS $$ SELECT tfa_evil.witness_note('>(interval,interval)'); SELECT $1 OPERATOR(pg_catalog.>) $2 $$;
CREATE OPERATOR tfa_evil.> (LEFTARG = interval, RIGHTARG = interval, FUNCTION = tfa_evil.h_gt_interval);
CREATE FUNCTION tfa_evil.format(text, name) RETURNS text LANGUAGE sql
  AS $$ SELECT tfa_evil.witness_note('format(text,name)'); SELECT pg_catalog.format($1, $2) $$;
CREATE FUNCTION tfa_evil.format(text, name, name) RETURNS text LANGUAGE sql
  AS $$ SELECT tfa_evil.witness_note('format(text,name,name)'); SELECT pg_catalog.format($1, $2, $3) $$;
CREATE FUNCTION tfa_evil.format(text, text, bigint) RETURNS text LANGUAGE sql
  AS $$ SELECT tfa_evil.witness_note('format(text,text,bigint)'); SELECT pg_catalog.format($1, $2, $3) $$;
CREATE FUNCTION tfa_evil.quote_ident(name) RETURNS text LANGUAGE sql
  AS $$ SELECT tfa_evil.witness_note('quote_ident(name)'); SELECT pg_catalog.quote_ident($1::text) $$;
CREATE FUNCTION tfa_evil.quote_literal(date) RETURNS text LANGUAGE sql
  AS $$ SELECT tfa_evil.witness_note('quote_literal(date)'); SELECT pg_catalog.quote_literal($1::text) $$;
CREATE FUNCTION tfa_evil.to_regclass(name) RETURNS regclass LANGUAGE sql
  AS $$ SELECT tfa_evil.witness_note('to_regclass(name)'); SELECT pg_catalog.to_regclass($1::text) $$;
CREATE FUNCTION tfa_evil.now() RETURNS timestamptz LANGUAGE sql
  AS $$ SELECT tfa_evil.witness_note('now()'); SELECT pg_catalog.now() $$;
CREATE FUNCTION tfa_evil.clock_timestamp() RETURNS timestamptz LANGUAGE sql
  AS $$ SELECT tfa_evil.witness_note('clock_timestamp()'); SELECT pg_catalog.clock_timestamp() $$;
CREATE FUNCTION tfa_evil.hashtext(name) RETURNS integer LANGUAGE sql
  AS $$ SELECT tfa_evil.witness_note('hashtext(name)'); SELECT pg_catalog.hashtext($1::text) $$;
CREATE FUNCTION tfa_evil.h_agg(bigint[], bigint) RETURNS bigint[] LANGUAGE sql
  AS $$ SELECT tfa_evil.witness_note('array_agg(bigint)'); SELECT pg_catalog.array_append($1, $2) $$;
CREATE AGGREGATE tfa_evil.array_agg(bigint) (SFUNC = tfa_evil.h_agg, STYPE = bigint[]);
CREATE FUNCTION tfa_evil.h_domain(text) RETURNS boolean LANGUAGE sql
  AS $$ SELECT tfa_evil.witness_note($1) $$;
CREATE DOMAIN tfa_evil.regrole AS oid CHECK (tfa_evil.h_domain('domain regrole'));
CREATE DOMAIN tfa_evil.name AS text CHECK (tfa_evil.h_domain('domain name'));
RESET ROLE;
-- (casts between built-in types need ownership of one of them: only a
-- superuser can make them)

\set t :sim '/@tag=hj/4'
CREATE SERVER hj_srv FOREIGN DATA WRAPPER tempo_fdw
  OPTIONS (tempo_url :'t', max_requests_per_second '0', max_retries '0');
CREATE USER MAPPING FOR PUBLIC SERVER hj_srv OPTIONS (token 'tempo-test-token');
CREATE SCHEMA hj;
CREATE SCHEMA hjs;
IMPORT FOREIGN SCHEMA tempo FROM SERVER hj_srv INTO hj;
IMPORT FOREIGN SCHEMA tempo FROM SERVER hj_srv INTO hjs;
-- the hostile path is set only around our calls (pgTAP itself would trip
-- over the planted operators): \set evil, :evil, then RESET search_path
\set evil 'SET search_path = tfa_evil, pg_catalog, public'
:evil;
SELECT 'probe ' || 1::bigint AS probe \gset
RESET search_path;
SELECT is((SELECT string_agg(what, ', ') FROM tfa_evil.witness), '||(text,bigint)',
          'the planted operator is live on that path (this test is not vacuous)');
TRUNCATE tfa_evil.witness;
ALTER SEQUENCE tfa_evil.witness_seq RESTART;

:evil;
SELECT tempo_fdw.create_time_accounts('hj', '2024-12-01', '2024-12-31') IS NOT NULL AS made \gset
SELECT tempo_fdw.create_time_accounts('hjs', '2024-11-01', '2024-12-31', mode => 'sync') IS NOT NULL AS made \gset
CALL tempo_fdw.refresh('hj');
CALL tempo_fdw.sync('hjs');
CALL tempo_fdw.refresh('hjs');
RESET search_path;
SELECT results_eq($$SELECT schema_name::text COLLATE "default", kind, outcome FROM tempo_fdw.refresh_log ORDER BY run_id$$,
                  $$VALUES ('hj', 'refresh', 'ok'), ('hjs', 'sync', 'ok'), ('hjs', 'refresh', 'ok')$$,
                  'create_time_accounts, refresh and sync succeed on that path');
-- the failure paths: Tempo down
\set t :sim '/@tag=hj,fault=503/4'
ALTER SERVER hj_srv OPTIONS (SET tempo_url :'t');
\set ON_ERROR_STOP off
:evil;
CALL tempo_fdw.refresh('hj');
\set e1 :SQLSTATE
CALL tempo_fdw.sync('hjs');
\set e2 :SQLSTATE
CALL tempo_fdw.refresh('hjs');
\set e3 :SQLSTATE
SELECT tempo_fdw.create_time_accounts('hj', '2024-12-01', '2024-12-31') IS NOT NULL AS made \gset
\set e4 :SQLSTATE
RESET search_path;
\set ON_ERROR_STOP on
SELECT is(:'e1' || ' ' || :'e2' || ' ' || :'e3' || ' ' || :'e4', 'HV000 HV000 HV000 HV000',
          'during an outage refresh, sync, refresh of a store and create_time_accounts fail (their error paths ran)');
\set t :sim '/@tag=hj/4'
ALTER SERVER hj_srv OPTIONS (SET tempo_url :'t');
-- the skipped paths: another run holds the lock (briefly, then for too long)
SELECT dblink_connect('holder', format('dbname=%s port=%s host=%s user=%s', current_database(),
                      current_setting('port'), current_setting('unix_socket_directories'), current_user)) AS connected \gset
SELECT dblink_exec('holder', 'BEGIN') AS began \gset
SELECT n AS held FROM dblink('holder', $$SELECT count(*) FROM (SELECT FROM tempo_fdw.time_accounts FOR UPDATE) l$$) AS t(n bigint) \gset
:evil;
CALL tempo_fdw.refresh('hj');
CALL tempo_fdw.sync('hjs');
RESET search_path;
SELECT results_eq($$SELECT outcome, error FROM tempo_fdw.refresh_log ORDER BY run_id DESC LIMIT 2$$,
                  $$VALUES ('skipped', 'another refresh or sync of this schema was running'),
                           ('skipped', 'another refresh of this schema was running')$$,
                  'while another run holds the lock, refresh and sync are skipped');
SELECT dblink_exec('holder', 'ROLLBACK') AS rolled_back \gset
UPDATE tempo_fdw.time_accounts SET max_run_time = '1 second' WHERE schema_name IN ('hj', 'hjs');
SELECT dblink_exec('holder', 'BEGIN') AS began \gset
SELECT n AS held FROM dblink('holder', $$SELECT count(*) FROM (SELECT FROM tempo_fdw.time_accounts FOR UPDATE) l$$) AS t(n bigint) \gset
SELECT pg_sleep(1.2) AS slept \gset
\set ON_ERROR_STOP off
:evil;
CALL tempo_fdw.refresh('hj');
\set e1 :SQLSTATE
\set m1 :LAST_ERROR_MESSAGE
CALL tempo_fdw.sync('hjs');
\set e2 :SQLSTATE
\set m2 :LAST_ERROR_MESSAGE
RESET search_path;
\set ON_ERROR_STOP on
SELECT ok(:'e1' || ' ' || :'m1' ~ '^55P03 refresh of the time accounts in "hj" skipped: another run has held the lock for ',
          'a lock held longer than max_run_time makes refresh fail (55P03), so that pg_cron records it');
SELECT ok(:'e2' || ' ' || :'m2' ~ '^55P03 sync of the worklogs in "hjs" skipped: another run has held the lock for ',
          'and sync');
SELECT ok((SELECT bool_and(outcome = 'skipped' AND error ~ '^another run of this schema has held its lock for .* \(backend [0-9]+\), longer than max_run_time$')
             FROM (SELECT * FROM tempo_fdw.refresh_log ORDER BY run_id DESC LIMIT 2) l),
          'both are logged as skipped, with the holder and how long it held the lock');
SELECT dblink_exec('holder', 'ROLLBACK') AS rolled_back \gset
SELECT dblink_disconnect('holder') AS disconnected \gset
UPDATE tempo_fdw.time_accounts SET max_run_time = DEFAULT WHERE schema_name IN ('hj', 'hjs');
:evil;
SELECT tempo_fdw.create_time_accounts('hj', '2024-12-01', '2024-12-31', logged => 'billable', issue_ids => '{10000}') IS NOT NULL AS made \gset
SELECT tempo_fdw.create_time_accounts('hjs', '2024-11-01', '2024-12-31', mode => 'sync', deletions => 'mark') IS NOT NULL AS made \gset
CALL tempo_fdw.refresh('hjs');
RESET search_path;
SELECT results_eq($$SELECT what, by_role, superuser FROM tfa_evil.witness$$, $$SELECT NULL::text, NULL::name, NULL::boolean WHERE false$$,
                  'none of the planted operators, functions or types ran, on any path');
SELECT is((SELECT is_called FROM tfa_evil.witness_seq), false, 'not even in a transaction that was rolled back');

-- ---------------------------------------------------------------------
-- 2(a) the owner of the schema swaps the foreign table worklogs for a view
-- ---------------------------------------------------------------------
CREATE SCHEMA ev_a AUTHORIZATION tfa_alice;
IMPORT FOREIGN SCHEMA tempo FROM SERVER hj_srv INTO ev_a;
SELECT lives_ok($$SELECT tempo_fdw.create_time_accounts('ev_a', '2024-11-01', '2024-12-31', mode => 'sync')$$,
                'the superuser makes synchronised accounts in a schema of alice');
SET ROLE tfa_alice;
DROP FOREIGN TABLE ev_a.worklogs;
CREATE FUNCTION ev_a.steal() RETURNS bigint LANGUAGE sql AS $$ SELECT 1 WHERE tfa_evil.witness_note('view ev_a.worklogs') $$;
CREATE VIEW ev_a.worklogs AS
  SELECT ev_a.steal() AS worklog_id, 'tempo'::text AS source, 10000::bigint AS issue_id, 'x'::text AS author_account_id,
         '2024-12-02'::date AS start_date, NULL::time AS start_time, NULL::timestamptz AS started_at,
         60 AS time_spent_seconds, NULL::integer AS billable_seconds, NULL::text AS description,
         '2030-01-01'::timestamptz AS created_at, '2030-01-01'::timestamptz AS updated_at, NULL::jsonb AS attributes;
RESET ROLE;
\set ON_ERROR_STOP off
CALL tempo_fdw.sync('ev_a');
\set ON_ERROR_STOP on
SELECT is(:'LAST_ERROR_SQLSTATE' || ' ' || :'LAST_ERROR_MESSAGE',
          '42809 sync of the worklogs in "ev_a" failed: ev_a.worklogs is not a foreign table of tempo_fdw with resource ''worklogs''',
          '(a) sync refuses the view in place of the foreign table, naming it');
SELECT is(pg_temp.error_hint_of($$SELECT tempo_fdw.sync_run('ev_a')$$),
          '42809 | ev_a.worklogs is not a foreign table of tempo_fdw with resource ''worklogs'' | '
          'Drop it and import it again: IMPORT FOREIGN SCHEMA tempo LIMIT TO (worklogs) FROM SERVER <server> INTO ev_a;',
          '(a) with a hint');
SELECT results_eq($$SELECT outcome, error FROM tempo_fdw.refresh_log WHERE schema_name = 'ev_a' ORDER BY run_id DESC LIMIT 1$$,
                  $$VALUES ('failed', 'ev_a.worklogs is not a foreign table of tempo_fdw with resource ''worklogs''')$$,
                  '(a) the run is logged as failed');
SELECT is((SELECT count(*) FROM tfa_evil.witness), 0::bigint, '(a) alice''s function did not run');

-- (a') with worklogs back, alice swaps our worklog_snapshot for a view of hers
DROP VIEW ev_a.worklogs;
IMPORT FOREIGN SCHEMA tempo LIMIT TO (worklogs) FROM SERVER hj_srv INTO ev_a;
SET ROLE tfa_alice;
DROP VIEW ev_a.worklog_snapshot CASCADE;
CREATE VIEW ev_a.worklog_snapshot AS
  SELECT ev_a.steal() AS worklog_id, 'tempo'::text AS source, 'x'::text AS account_id;
RESET ROLE;
\set ON_ERROR_STOP off
CALL tempo_fdw.refresh('ev_a');
\set ON_ERROR_STOP on
SELECT is(:'LAST_ERROR_SQLSTATE' || ' ' || :'LAST_ERROR_MESSAGE',
          '42501 refresh of the time accounts in "ev_a" failed: ev_a.worklog_snapshot is owned by tfa_alice, not by postgres, the owner of the time accounts',
          '(a'') refresh refuses a worklog_snapshot of another owner, naming it');
SELECT is((SELECT count(*) FROM tfa_evil.witness), 0::bigint, '(a'') alice''s function did not run');
-- and alice may not run the accounts herself, even when she may read them
GRANT SELECT ON tempo_fdw.time_accounts TO tfa_alice;
SET ROLE tfa_alice;
\set ON_ERROR_STOP off
CALL tempo_fdw.refresh('ev_a');
\set ON_ERROR_STOP on
RESET ROLE;
REVOKE SELECT ON tempo_fdw.time_accounts FROM tfa_alice;
SELECT is(:'LAST_ERROR_SQLSTATE' || ' ' || :'LAST_ERROR_MESSAGE',
          '42501 the time accounts in "ev_a" belong to postgres, not to tfa_alice',
          'only the owner of the accounts runs them');

-- ---------------------------------------------------------------------
-- 2(b) snapshot mode: worklogs swapped before create_time_accounts
-- ---------------------------------------------------------------------
CREATE SCHEMA ev_b AUTHORIZATION tfa_alice;
IMPORT FOREIGN SCHEMA tempo FROM SERVER hj_srv INTO ev_b;
SELECT lives_ok($$SELECT tempo_fdw.create_time_accounts('ev_b', '2024-12-01', '2024-12-31')$$,
                'the superuser makes snapshot accounts in a schema of alice');
SELECT min(account_id) AS real_account FROM ev_b.worklog_snapshot \gset
SET ROLE tfa_alice;
DROP FOREIGN TABLE ev_b.worklogs CASCADE;
CREATE FUNCTION ev_b.steal() RETURNS bigint LANGUAGE sql AS $$ SELECT 1 WHERE tfa_evil.witness_note('view ev_b.worklogs') $$;
CREATE VIEW ev_b.worklogs AS
  SELECT ev_b.steal() AS worklog_id, 'tempo'::text AS source, 10000::bigint AS issue_id, :'real_account'::text AS author_account_id,
         '2024-12-02'::date AS start_date, 60 AS time_spent_seconds, NULL::integer AS billable_seconds,
         '2030-01-01'::timestamptz AS updated_at;
RESET ROLE;
SELECT is(pg_temp.error_hint_of($$SELECT tempo_fdw.create_time_accounts('ev_b', '2024-12-01', '2024-12-31')$$),
          '42809 | ev_b.worklogs is not a foreign table of tempo_fdw with resource ''worklogs'' | '
          'Drop it and import it again: IMPORT FOREIGN SCHEMA tempo LIMIT TO (worklogs) FROM SERVER <server> INTO ev_b;',
          '(b) create_time_accounts refuses to build (and refresh) a materialized view over the view');
SELECT is((SELECT count(*) FROM tfa_evil.witness), 0::bigint, '(b) alice''s function did not run');
SELECT is((SELECT is_called FROM tfa_evil.witness_seq), false, '(b) not even in the rolled-back transaction');

-- ---------------------------------------------------------------------
-- 2(c) a role with CREATE on the schema plants worklog_store with a trigger
-- ---------------------------------------------------------------------
CREATE SCHEMA ev_c;
IMPORT FOREIGN SCHEMA tempo FROM SERVER hj_srv INTO ev_c;
GRANT USAGE, CREATE ON SCHEMA ev_c TO tfa_mallory;
SET ROLE tfa_mallory;
CREATE TABLE ev_c.worklog_store (
  worklog_id bigint PRIMARY KEY, source text NOT NULL, issue_id bigint NOT NULL,
  author_account_id text NOT NULL, start_date date NOT NULL, start_time time,
  started_at timestamptz, time_spent_seconds integer NOT NULL, billable_seconds integer,
  description text, created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL,
  attributes jsonb, last_seen_at timestamptz NOT NULL, deleted_at timestamptz);
GRANT ALL ON ev_c.worklog_store TO PUBLIC;
CREATE FUNCTION ev_c.steal() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN PERFORM tfa_evil.witness_note('trigger on ev_c.worklog_store'); RETURN NEW; END $$;
CREATE TRIGGER steal BEFORE INSERT ON ev_c.worklog_store FOR EACH ROW EXECUTE FUNCTION ev_c.steal();
RESET ROLE;
SELECT is(pg_temp.error_hint_of($$SELECT tempo_fdw.create_time_accounts('ev_c', '2024-11-01', '2024-12-31', mode => 'sync')$$),
          '42P07 | ev_c.worklog_store was not made by tempo_fdw.create_time_accounts | '
          'Drop or rename it (after looking at what it does), then run tempo_fdw.create_time_accounts again.',
          '(c) create_time_accounts does not adopt the planted store, and names it');
SELECT is((SELECT count(*) FROM tfa_evil.witness), 0::bigint, '(c) the planted trigger did not run');
SELECT is((SELECT is_called FROM tfa_evil.witness_seq), false, '(c) not even in the rolled-back transaction');
SELECT is((SELECT count(*) FROM tempo_fdw.time_account_objects WHERE schema_name = 'ev_c'), 0::bigint,
          '(c) nothing of ev_c is recorded as made by tempo_fdw');

-- ---------------------------------------------------------------------
-- 5. a role with only CONNECT tries to stop the runs
-- ---------------------------------------------------------------------
SELECT dblink_connect('intruder', format('dbname=%s port=%s host=%s user=tfa_connect', current_database(),
                      current_setting('port'), current_setting('unix_socket_directories'))) AS connected \gset
SELECT x AS advisory FROM dblink('intruder', $$SELECT pg_advisory_lock(hashtext('tempo_fdw.refresh'), hashtext('hj'))::text$$) AS t(x text) \gset
SELECT max(run_id) AS last_run FROM tempo_fdw.refresh_log \gset
CALL tempo_fdw.refresh('hj');
SELECT results_eq(format($$SELECT outcome FROM tempo_fdw.refresh_log WHERE run_id > %s$$, :'last_run'),
                  $$VALUES ('ok')$$, 'the advisory key of 1.0, held by the intruder, stops nothing');
SELECT throws_ok($$SELECT * FROM dblink('intruder', 'SELECT 1 FROM tempo_fdw.time_accounts FOR UPDATE') AS t(x int)$$,
                 '42501', NULL, 'the intruder cannot lock the rows the runs serialise on');
SELECT throws_ok($$SELECT * FROM dblink('intruder', 'BEGIN; LOCK TABLE tempo_fdw.time_accounts IN ACCESS SHARE MODE; SELECT 1') AS t(x int)$$,
                 '42501', NULL, 'nor the table');
SELECT dblink_disconnect('intruder') AS disconnected \gset
SELECT is((SELECT count(*) FROM tfa_evil.witness), 0::bigint, 'the witness stays empty to the end');

SELECT * FROM finish();
DROP EXTENSION tempo_fdw CASCADE;
DROP SCHEMA hj, hjs, ev_a, ev_b, ev_c CASCADE;
DROP OWNED BY tfa_mallory, tfa_alice, tfa_connect CASCADE;
DROP ROLE tfa_mallory, tfa_alice, tfa_connect;
\! curl -s "$TEMPO_SIM_URL/_reset" >/dev/null
