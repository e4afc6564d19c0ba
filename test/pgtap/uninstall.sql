-- pgTAP: a clean uninstall.  tempo_fdw.drop_time_accounts removes what
-- create_time_accounts made, and the pg_cron jobs that run those accounts,
-- and nothing else:
--   1. run by a superuser, on a hostile search_path, in a schema another
--      role owns, which has swapped one of our views for one of hers and
--      dropped another; pg_cron jobs for the schema, for others, in another
--      database, of another role, and one that does more than run the
--      accounts.  Her view survives, the call says so, and no code of hers
--      runs (a witness table and sequence stay untouched);
--   2. a role that is not the accounts' owner is refused;
--   3. a user's view on ours stops it, and nothing is removed;
--   4. a non-superuser owner: its store on request, its own jobs only;
--   5. then DROP EXTENSION, and the catalog holds nothing of tempo_fdw,
--      its schema included;
--   6. DROP EXTENSION tempo_fdw CASCADE, and what it leaves; DROP SCHEMA
--      tempo_fdw is refused, the schema being the extension's.
-- Not one transaction: sync commits.
\ir include/setup.sql
\ir include/helpers.sql
DROP SCHEMA IF EXISTS un_a, un_b, un_c, un_evil CASCADE;
CALL pg_temp.drop_roles('un_mallory', 'un_alice', 'un_bob');
CREATE EXTENSION tempo_fdw;
CREATE EXTENSION IF NOT EXISTS pg_cron;
DELETE FROM cron.job WHERE command LIKE '%un\_%';
SELECT plan(28);

CREATE ROLE un_mallory LOGIN;   -- owns un_evil, a schema on the superuser's path
CREATE ROLE un_alice LOGIN;     -- owns the schema un_a
CREATE ROLE un_bob LOGIN;       -- makes accounts of his own in un_b
CREATE SCHEMA un_evil AUTHORIZATION un_mallory;

-- Mallory's functions and operators: each writes the witness if it runs
SET ROLE un_mallory;
CREATE TABLE un_evil.witness (what text);
CREATE SEQUENCE un_evil.witness_seq;
GRANT USAGE ON SCHEMA un_evil TO PUBLIC;
GRANT INSERT ON un_evil.witness TO PUBLIC;
GRANT USAGE ON SEQUENCE un_evil.witness_seq TO PUBLIC;
CREATE FUNCTION un_evil.note(what text) RETURNS boolean LANGUAGE sql AS $$
  SELECT pg_catalog.nextval('un_evil.witness_seq');
  INSERT INTO un_evil.witness VALUES (what) RETURNING true;
$$;
CREATE FUNCTION un_evil.h_eq_name(name, name) RETURNS boolean LANGUAGE sql
  AS $$ SELECT un_evil.note('=(name,name)'); SELECT $1 OPERATOR(pg_catalog.=) $2 $$;
CREATE OPERATOR un_evil.= (LEFTARG = name, RIGHTARG = name, FUNCTION = un_evil.h_eq_name);
CREATE FUNCTION un_evil.h_ne_oid(oid, oid) RETURNS boolean LANGUAGE sql
  AS $$ SELECT un_evil.note('<>(oid,oid)'); SELECT $1 OPERATOR(pg_catalog.<>) $2 $$;
CREATE OPERATOR un_evil.<> (LEFTARG = oid, RIGHTARG = oid, FUNCTION = un_evil.h_ne_oid);
CREATE FUNCTION un_evil.h_cat(text, text) RETURNS text LANGUAGE sql
  AS $$ SELECT un_evil.note('||(text,text)'); SELECT $1 OPERATOR(pg_catalog.||) $2 $$;
CREATE OPERATOR un_evil.|| (LEFTARG = text, RIGHTARG = text, FUNCTION = un_evil.h_cat);
CREATE FUNCTION un_evil.format(text, name, name) RETURNS text LANGUAGE sql
  AS $$ SELECT un_evil.note('format(text,name,name)'); SELECT pg_catalog.format($1, $2, $3) $$;
CREATE FUNCTION un_evil.format(text, text, name, name) RETURNS text LANGUAGE sql
  AS $$ SELECT un_evil.note('format(text,text,name,name)'); SELECT pg_catalog.format($1, $2, $3, $4) $$;
CREATE FUNCTION un_evil.upper(text) RETURNS text LANGUAGE sql
  AS $$ SELECT un_evil.note('upper(text)'); SELECT pg_catalog.upper($1) $$;
CREATE FUNCTION un_evil.strpos(text, name) RETURNS integer LANGUAGE sql
  AS $$ SELECT un_evil.note('strpos(text,name)'); SELECT pg_catalog.strpos($1, $2::text) $$;
CREATE FUNCTION un_evil.regexp_match(text, text, text) RETURNS text[] LANGUAGE sql
  AS $$ SELECT un_evil.note('regexp_match'); SELECT pg_catalog.regexp_match($1, $2, $3) $$;
CREATE FUNCTION un_evil.replace(text, text, text) RETURNS text LANGUAGE sql
  AS $$ SELECT un_evil.note('replace'); SELECT pg_catalog.replace($1, $2, $3) $$;
CREATE FUNCTION un_evil.array_position(name[], name) RETURNS integer LANGUAGE sql
  AS $$ SELECT un_evil.note('array_position'); SELECT pg_catalog.array_position($1, $2) $$;
CREATE FUNCTION un_evil.current_database() RETURNS name LANGUAGE sql
  AS $$ SELECT un_evil.note('current_database()'); SELECT pg_catalog.current_database() $$;
CREATE FUNCTION un_evil.has_schema_privilege(name, text) RETURNS boolean LANGUAGE sql
  AS $$ SELECT un_evil.note('has_schema_privilege'); SELECT pg_catalog.has_schema_privilege($1, $2) $$;
CREATE FUNCTION un_evil.to_regclass(text) RETURNS regclass LANGUAGE sql
  AS $$ SELECT un_evil.note('to_regclass(text)'); SELECT pg_catalog.to_regclass($1) $$;
RESET ROLE;
-- only around our calls (pgTAP would trip over the operators)
\set evil 'SET search_path = un_evil, pg_catalog, public'
:evil;
SELECT 'probe' || 'x'::text AS probe \gset
RESET search_path;
SELECT is((SELECT string_agg(what, ', ') FROM un_evil.witness), '||(text,text)',
          'a planted operator is live on that path (this test is not vacuous)');
TRUNCATE un_evil.witness;
ALTER SEQUENCE un_evil.witness_seq RESTART;

\set t :sim '/@tag=un/4'
CREATE SERVER un_srv FOREIGN DATA WRAPPER tempo_fdw
  OPTIONS (tempo_url :'t', max_requests_per_second '0', max_retries '0');
CREATE USER MAPPING FOR PUBLIC SERVER un_srv OPTIONS (token 'tempo-test-token');

-- ---------------------------------------------------------------------
-- 1. the superuser's synchronised accounts in alice's schema
-- ---------------------------------------------------------------------
CREATE SCHEMA un_a AUTHORIZATION un_alice;
IMPORT FOREIGN SCHEMA tempo LIMIT TO (jira_worklogs, user_schedules, worklog_deletions, worklogs)
  FROM SERVER un_srv INTO un_a;
SELECT tempo_fdw.create_time_accounts('un_a', '2024-11-01', '2024-12-31', mode => 'sync', populate => false) IS NOT NULL AS made \gset
CALL tempo_fdw.sync('un_a');
SELECT count(*) AS stored FROM un_a.worklog_store \gset
SELECT cron.schedule('un-a-refresh', '0 3 1 1 *', $$CALL tempo_fdw.refresh('un_a')$$) AS j1 \gset
SELECT cron.schedule('un-a-sync', '0 3 1 1 *', $$ call TEMPO_FDW . "sync" ( schema => 'un_a'::name ) ; $$) AS j2 \gset
SELECT cron.schedule('un-a2', '0 3 1 1 *', $$CALL tempo_fdw.refresh('un_a2')$$) AS j3 \gset
SELECT cron.schedule('un-a-more', '0 3 1 1 *', $$CALL tempo_fdw.refresh('un_a'); VACUUM$$) AS j4 \gset
SELECT cron.schedule('un-a-quoted', '0 3 1 1 *', $$CALL "TEMPO_FDW".refresh('un_a')$$) AS j5 \gset
SELECT cron.schedule_in_database('un-a-other-db', '0 3 1 1 *', $$CALL tempo_fdw.refresh('un_a')$$, 'postgres') AS j6 \gset
SELECT cron.schedule_in_database('un-a-alice', '0 3 1 1 *', $$CALL tempo_fdw.sync('un_a', true)$$, current_database(), 'un_alice') AS j7 \gset
-- alice swaps our balance view for one of hers, and drops the monthly one
SET ROLE un_alice;
DROP VIEW un_a.time_account_balance, un_a.time_account_monthly;
CREATE VIEW un_a.time_account_balance AS SELECT un_evil.note('alice''s view') AS account_id;
RESET ROLE;

SET client_min_messages = error;
:evil;
CREATE TEMP TABLE res_a AS SELECT * FROM tempo_fdw.drop_time_accounts('un_a');
RESET search_path;
SET client_min_messages = warning;
SELECT results_eq($$SELECT object, outcome FROM res_a WHERE object NOT LIKE 'pg_cron%'$$,
  $$VALUES ('view un_a.time_account_status', 'dropped'), ('view un_a.time_account_weekly', 'dropped'), ('view un_a.time_account_team_monthly', 'dropped'),
           ('view un_a.time_account_unaccounted', 'dropped'),
           ('view un_a.time_account_unattributed', 'dropped'),
           ('view un_a.time_account_balance', 'left in place: un_a.time_account_balance is owned by un_alice, not by postgres, the owner of the time accounts'),
           ('view un_a.time_account_monthly', 'already gone'),
           ('view un_a.time_account_daily', 'dropped'),
           ('table un_a.schedule_snapshot', 'dropped'),
           ('table un_a.schedule_fetched', 'dropped'),
           ('view un_a.worklog_snapshot', 'dropped'),
           ('table un_a.worklog_store', 'kept (drop_store => false): an ordinary table now, no longer used by tempo_fdw'),
           ('table un_a.time_account_figures', 'dropped'),
           ('table un_a.person_name_snapshot', 'dropped'), ('table un_a.team_membership_snapshot', 'dropped'),
           ('function un_a.time_account_live(text[])', 'dropped')$$,
  '(1) our views are dropped, alice''s view of the same name is left and the call says so, the store is kept');
SELECT results_eq($$SELECT object, outcome FROM res_a WHERE object LIKE 'pg_cron%'$$,
  format($$VALUES ('pg_cron job %s "un-a-refresh" of postgres: CALL tempo_fdw.refresh(''un_a'')', 'unscheduled'),
                  ('pg_cron job %s "un-a-sync" of postgres:  call TEMPO_FDW . "sync" ( schema => ''un_a''::name ) ; ', 'unscheduled'),
                  ('pg_cron job %s "un-a-more" of postgres: CALL tempo_fdw.refresh(''un_a''); VACUUM',
                   'left in place: it names the schema but is not one call of tempo_fdw.refresh or tempo_fdw.sync for it'),
                  ('pg_cron job %s "un-a-quoted" of postgres: CALL "TEMPO_FDW".refresh(''un_a'')',
                   'left in place: it names the schema but is not one call of tempo_fdw.refresh or tempo_fdw.sync for it'),
                  ('pg_cron job %s "un-a-alice" of un_alice: CALL tempo_fdw.sync(''un_a'', true)', 'unscheduled')$$,
         :j1, :j2, :j4, :j5, :j7),
  '(1) the jobs that run these accounts are unscheduled (alice''s too); the others are named and left');
SELECT results_eq($$SELECT jobname::text COLLATE "default" FROM cron.job WHERE command LIKE '%un\_a%' ORDER BY jobid$$,
                  $$VALUES ('un-a2'), ('un-a-more'), ('un-a-quoted'), ('un-a-other-db')$$,
                  '(1) pg_cron keeps the jobs of another schema, of more than one call, and of another database');
SELECT results_eq($$SELECT c.relname::text COLLATE "default", c.relkind::text, c.relowner::regrole::text FROM pg_class c
                     WHERE c.relnamespace = 'un_a'::regnamespace AND c.relkind <> 'i' ORDER BY 1$$,
                  $$VALUES ('jira_worklogs', 'f', 'postgres'), ('time_account_balance', 'v', 'un_alice'),
                           ('user_schedules', 'f', 'postgres'), ('worklog_deletions', 'f', 'postgres'),
                           ('worklog_store', 'r', 'postgres'), ('worklogs', 'f', 'postgres')$$,
                  '(1) what remains in un_a: the imported foreign tables, alice''s view and the kept store');
SELECT is((SELECT count(*) FROM un_a.worklog_store), :'stored'::bigint, '(1) the kept store holds its rows');
SELECT is((SELECT count(*) FROM tempo_fdw.time_accounts WHERE schema_name = 'un_a')
          + (SELECT count(*) FROM tempo_fdw.time_account_objects WHERE schema_name = 'un_a')
          + (SELECT count(*) FROM tempo_fdw.sync_state WHERE schema_name = 'un_a'), 0::bigint,
          '(1) tempo_fdw keeps no row for un_a: accounts, recorded objects and sync state are gone');
SELECT results_eq($$SELECT what FROM un_evil.witness$$, $$SELECT NULL::text WHERE false$$,
                  '(1) none of mallory''s functions or operators ran, nor alice''s view');
SELECT is((SELECT is_called FROM un_evil.witness_seq), false, '(1) not even in a rolled-back subtransaction');
SELECT throws_ok($$SELECT * FROM tempo_fdw.drop_time_accounts('un_a')$$, '42704',
                 'schema "un_a" has no time accounts', '(1) a second call: the accounts are gone');

-- which commands count as running a schema's accounts
SELECT results_eq($$SELECT tempo_fdw.cron_command_schema(c)::text COLLATE "default" FROM unnest(ARRAY[
    'CALL tempo_fdw.refresh(''s'')', 'call TEMPO_FDW.Sync(''s'');', 'CALL "tempo_fdw"."refresh"(''s'')',
    E'CALL\n  tempo_fdw . refresh ( schema => ''s''::pg_catalog.name , allow_fallback => true ) ;\n',
    'CALL tempo_fdw.refresh(''it''''s'', true)', 'CALL tempo_fdw.refresh(''S'')',
    'CALL "TEMPO_FDW".refresh(''s'')', 'CALL tempo_fdw."Refresh"(''s'')', 'CALL tempo_fdw.refresh("SCHEMA" => ''s'')',
    'CALL tempo_fdw.refresh(''s''); CALL x()', 'CALL tempo_fdw.refresh($s$s$s$)', 'CALL public.refresh(''s'')',
    'SELECT 1; CALL tempo_fdw.refresh(''s'')', 'CALL tempo_fdw.refresh(''s'') -- x']) WITH ORDINALITY u(c, n) ORDER BY n$$,
  $$VALUES ('s'), ('s'), ('s'), ('s'), ('it''s'), ('S'),
           (NULL), (NULL), (NULL), (NULL), (NULL), (NULL), (NULL), (NULL)$$,
  'a job runs the accounts of a schema when its command is one call of refresh or sync with it as a constant, and only then');

-- ---------------------------------------------------------------------
-- 2, 3. the superuser's snapshot accounts in un_c
-- ---------------------------------------------------------------------
CREATE SCHEMA un_c;
IMPORT FOREIGN SCHEMA tempo FROM SERVER un_srv INTO un_c;
SELECT tempo_fdw.create_time_accounts('un_c', '2024-12-01', '2024-12-31', populate => false) IS NOT NULL AS made \gset
GRANT SELECT, UPDATE, DELETE ON tempo_fdw.time_accounts, tempo_fdw.time_account_objects, tempo_fdw.sync_state TO un_alice;
SET ROLE un_alice;
SELECT throws_ok($$SELECT * FROM tempo_fdw.drop_time_accounts('un_c')$$, '42704',
                 'schema "un_c" has no time accounts',
                 '(2) a role that is not the owner is refused, even with the privileges on the tables (row-level security hides the accounts)');
RESET ROLE;
REVOKE ALL ON tempo_fdw.time_accounts, tempo_fdw.time_account_objects, tempo_fdw.sync_state FROM un_alice;
CREATE VIEW un_c.my_report AS SELECT * FROM un_c.time_account_daily;
SELECT throws_ok($$SELECT * FROM tempo_fdw.drop_time_accounts('un_c')$$, '2BP01',
                 'cannot drop view un_c.time_account_daily: other objects depend on it',
                 '(3) a user''s view on ours stops the call');
SELECT is((SELECT count(*) FROM tempo_fdw.time_account_objects o
            WHERE o.schema_name = 'un_c' AND to_regclass(format('un_c.%I', o.object_name)) IS NOT NULL), 15::bigint,
          '(3) and nothing was removed');
DROP VIEW un_c.my_report;

-- ---------------------------------------------------------------------
-- 4. bob, no superuser, drops his accounts and store
-- ---------------------------------------------------------------------
GRANT USAGE ON FOREIGN SERVER un_srv TO un_bob;
GRANT SELECT, INSERT, UPDATE, DELETE ON tempo_fdw.time_accounts, tempo_fdw.time_account_objects, tempo_fdw.sync_state,
                                       tempo_fdw.time_account_freshness TO un_bob;
GRANT SELECT ON tempo_fdw.time_account_contracts TO un_bob;
GRANT USAGE ON SCHEMA cron TO un_bob;
CREATE SCHEMA un_b AUTHORIZATION un_bob;
SET ROLE un_bob;
IMPORT FOREIGN SCHEMA tempo LIMIT TO (jira_worklogs, user_schedules, worklog_deletions, worklogs)
  FROM SERVER un_srv INTO un_b;
SELECT tempo_fdw.create_time_accounts('un_b', '2024-11-01', '2024-12-31', mode => 'sync', populate => false) IS NOT NULL AS made \gset
SELECT cron.schedule('un-b-bob', '0 3 1 1 *', $$CALL tempo_fdw.sync('un_b')$$) AS jb \gset
RESET ROLE;
SELECT cron.schedule('un-b-postgres', '0 3 1 1 *', $$CALL tempo_fdw.refresh('un_b')$$) AS jp \gset
SET ROLE un_bob;
CREATE TEMP TABLE res_b AS SELECT * FROM tempo_fdw.drop_time_accounts('un_b', drop_store => true);
RESET ROLE;
SELECT results_eq($$SELECT object, outcome FROM res_b$$,
  format($$VALUES ('view un_b.time_account_status', 'dropped'), ('view un_b.time_account_weekly', 'dropped'), ('view un_b.time_account_team_monthly', 'dropped'),
                  ('view un_b.time_account_unaccounted', 'dropped'), ('view un_b.time_account_unattributed', 'dropped'),
                  ('view un_b.time_account_balance', 'dropped'), ('view un_b.time_account_monthly', 'dropped'),
                  ('view un_b.time_account_daily', 'dropped'), ('table un_b.schedule_snapshot', 'dropped'),
                  ('table un_b.schedule_fetched', 'dropped'),
                  ('view un_b.worklog_snapshot', 'dropped'), ('table un_b.worklog_store', 'dropped'),
                  ('table un_b.time_account_figures', 'dropped'),
                  ('table un_b.person_name_snapshot', 'dropped'), ('table un_b.team_membership_snapshot', 'dropped'),
                  ('function un_b.time_account_live(text[])', 'dropped'),
                  ('pg_cron jobs', 'only this role''s jobs were looked at: pg_cron shows and unschedules no other role''s but to a superuser; jobs of other roles for this schema stay'),
                  ('pg_cron job %s "un-b-bob" of un_bob: CALL tempo_fdw.sync(''un_b'')', 'unscheduled')$$, :jb),
  '(4) the owner drops his accounts and, when asked, the store; and his own job');
SELECT results_eq($$SELECT c.relname::text COLLATE "default" FROM pg_class c WHERE c.relnamespace = 'un_b'::regnamespace ORDER BY 1$$,
                  $$VALUES ('jira_worklogs'), ('user_schedules'), ('worklog_deletions'), ('worklogs')$$,
                  '(4) only his imported foreign tables remain in un_b');
SELECT results_eq($$SELECT jobid FROM cron.job WHERE command LIKE '%un\_b%'$$, format('VALUES (%s::bigint)', :jp),
                  '(4) the superuser''s job for un_b stays: bob cannot see it');
SELECT cron.unschedule(:jp) AS unscheduled \gset

-- ---------------------------------------------------------------------
-- 5. uninstall: accounts, servers, the extension, its schema
-- ---------------------------------------------------------------------
SELECT oid AS ext, extnamespace AS extnsp, 'tempo_fdw'::regnamespace::oid AS nsp FROM pg_extension WHERE extname = 'tempo_fdw' \gset
SELECT throws_ok($$DROP EXTENSION tempo_fdw$$, '2BP01', NULL,
                 '(5) DROP EXTENSION refuses while time accounts and servers use it');
SELECT is((SELECT count(*) FROM pg_depend WHERE refclassid = 'pg_extension'::regclass AND refobjid = :ext
             AND classid = 'pg_namespace'::regclass AND objid = 'tempo_fdw'::regnamespace AND deptype = 'e'),
          1::bigint, '(5) the schema tempo_fdw is a member of the extension');
SELECT is(:'extnsp'::regnamespace::text, 'pg_catalog', '(5) which, as pg_cron, is installed in pg_catalog');
SELECT results_eq($$SELECT outcome FROM tempo_fdw.drop_time_accounts('un_c')$$,
                  $$VALUES ('dropped'), ('dropped'), ('dropped'), ('dropped'), ('dropped'), ('dropped'), ('dropped'), ('dropped'),
                           ('dropped'), ('dropped'), ('dropped'), ('dropped'), ('dropped'), ('dropped'), ('dropped'), ('dropped')$$,
                  '(5) drop_time_accounts removes the last accounts (no jobs to remove)');
DROP SERVER un_srv CASCADE;   -- with its user mappings and the foreign tables imported from it
SELECT lives_ok($$DROP EXTENSION tempo_fdw$$, '(5) then DROP EXTENSION, without CASCADE, succeeds');
-- every object of the schema tempo_fdw, and anything still bound to the
-- extension or its library
SELECT results_eq($$
  SELECT 'relation ' || relname::text FROM pg_class WHERE relnamespace = $$ || :nsp || $$
  UNION ALL SELECT 'function ' || proname FROM pg_proc WHERE pronamespace = $$ || :nsp || $$ OR probin LIKE '%tempo_fdw%'
  UNION ALL SELECT 'type ' || typname FROM pg_type WHERE typnamespace = $$ || :nsp || $$
  UNION ALL SELECT 'operator ' || oprname FROM pg_operator WHERE oprnamespace = $$ || :nsp || $$
  UNION ALL SELECT 'wrapper ' || fdwname FROM pg_foreign_data_wrapper WHERE fdwname = 'tempo_fdw'
  UNION ALL SELECT 'server ' || srvname FROM pg_foreign_server
  UNION ALL SELECT 'user mapping ' || umid FROM pg_user_mappings
  UNION ALL SELECT 'member ' || pg_describe_object(classid, objid, objsubid) FROM pg_depend
   WHERE refclassid = 'pg_extension'::regclass AND refobjid = $$ || :ext || $$
  UNION ALL SELECT 'relation un_c.' || relname FROM pg_class WHERE relnamespace = 'un_c'::regnamespace
  UNION ALL SELECT 'job ' || jobname FROM cron.job WHERE command LIKE '%tempo_fdw%' AND jobname NOT LIKE 'un-a%'$$,
  $$SELECT NULL::text WHERE false$$,
  '(5) nothing of tempo_fdw remains: no relation, function, type, operator, wrapper, server, user mapping, member, accounts or job');
SELECT is((SELECT count(*) FROM pg_namespace WHERE nspname = 'tempo_fdw'), 0::bigint,
          '(5) and no schema tempo_fdw remains');

-- ---------------------------------------------------------------------
-- 6. the short way: DROP EXTENSION tempo_fdw CASCADE, accounts and all
-- ---------------------------------------------------------------------
CREATE EXTENSION tempo_fdw;
CREATE SERVER un_srv FOREIGN DATA WRAPPER tempo_fdw OPTIONS (tempo_url :'t');
CREATE USER MAPPING FOR PUBLIC SERVER un_srv OPTIONS (token 'tempo-test-token');
IMPORT FOREIGN SCHEMA tempo FROM SERVER un_srv INTO un_c;
SELECT tempo_fdw.create_time_accounts('un_c', '2024-11-01', '2024-12-31', mode => 'sync', populate => false) IS NOT NULL AS made \gset
SELECT cron.schedule('un-c-sync', '0 3 1 1 *', $$CALL tempo_fdw.sync('un_c')$$) AS jc \gset
SELECT throws_ok($$DROP SCHEMA tempo_fdw CASCADE$$, '2BP01',
                 'cannot drop schema tempo_fdw because extension tempo_fdw requires it',
                 '(6) DROP SCHEMA tempo_fdw is refused: the schema is the extension''s');
DROP EXTENSION tempo_fdw CASCADE;
SELECT is((SELECT count(*) FROM pg_extension WHERE extname = 'tempo_fdw')
          + (SELECT count(*) FROM pg_namespace WHERE nspname = 'tempo_fdw')
          + (SELECT count(*) FROM pg_foreign_server) + (SELECT count(*) FROM pg_user_mappings), 0::bigint,
          '(6) DROP EXTENSION tempo_fdw CASCADE drops the extension, its schema, servers and user mappings');
SELECT results_eq($$SELECT c.relname::text COLLATE "default", c.relkind::text FROM pg_class c
                     WHERE c.relnamespace = 'un_c'::regnamespace AND c.relkind <> 'i' ORDER BY 1$$,
                  $$VALUES ('person_name_snapshot', 'r'), ('schedule_fetched', 'r'), ('schedule_snapshot', 'r'),
                           ('team_membership_snapshot', 'r'), ('time_account_figures', 'r'),
                           ('time_account_unattributed', 'v'),
                           ('worklog_snapshot', 'v'), ('worklog_store', 'r')$$,
                  '(6) what depends on nothing of tempo_fdw stays: the tables (store, schedules) and the views over them');
SELECT results_eq($$SELECT jobid FROM cron.job WHERE command LIKE '%un\_c%'$$, format('VALUES (%s::bigint)', :jc),
                  '(6) and the pg_cron job, which must be unscheduled by hand');

SELECT * FROM finish();
SELECT count(cron.unschedule(jobid)) AS unscheduled FROM cron.job WHERE command LIKE '%un\_%' \gset
DROP SCHEMA un_a, un_b, un_c, un_evil CASCADE;
DROP OWNED BY un_mallory, un_alice, un_bob CASCADE;
DROP ROLE un_mallory, un_alice, un_bob;
\! curl -s "$TEMPO_SIM_URL/_reset" >/dev/null
