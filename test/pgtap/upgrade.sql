-- pgTAP: the upgrade path.  Installs 1.0, makes time accounts (a snapshot
-- and a synchronised store), contracts and runs against the simulator, runs
-- ALTER EXTENSION tempo_fdw UPDATE, and checks that the data survived, that
-- the accounts 1.0 made keep working, and that the extension's objects equal
-- those of a fresh install (functions with bodies and settings, tables,
-- columns, constraints, indexes, triggers, views, comments, owners,
-- privileges, configuration tables).  One difference is expected: a fresh
-- install makes the schema tempo_fdw itself, a member, and lives in
-- pg_catalog; 1.0 lived in the schema PostgreSQL made for it, which stays
-- where it is.  Not one transaction: the procedures commit.
\ir include/setup.sql
DROP SCHEMA IF EXISTS up_snap, up_sync CASCADE;
CREATE EXTENSION tempo_fdw VERSION '1.0';
SELECT plan(22);

-- the extension's objects, one line each, by name (no OIDs)
CREATE FUNCTION pg_temp.ext_catalog() RETURNS SETOF text LANGUAGE sql AS $$
WITH ext AS (
  SELECT e.oid, e.extowner, e.extnamespace, e.extconfig, e.extcondition FROM pg_extension e WHERE e.extname = 'tempo_fdw'
), members AS (
  SELECT d.classid, d.objid FROM pg_depend d, ext
   WHERE d.refclassid = 'pg_extension'::regclass AND d.refobjid = ext.oid AND d.deptype = 'e'
), rels AS (
  SELECT c.* FROM pg_class c JOIN members m ON m.classid = 'pg_class'::regclass AND m.objid = c.oid
)
SELECT 'member ' || pg_describe_object(m.classid, m.objid, 0) FROM members m
UNION ALL
SELECT format('function %s(%s) returns %s language %s volatility %s security definer %s strict %s settings %s owner %s acl %s comment %s body %s',
              p.proname, pg_get_function_arguments(p.oid), pg_get_function_result(p.oid), l.lanname, p.provolatile,
              p.prosecdef, p.proisstrict, p.proconfig, p.proowner::regrole, p.proacl, obj_description(p.oid, 'pg_proc'), p.prosrc)
  FROM pg_proc p JOIN members m ON m.classid = 'pg_proc'::regclass AND m.objid = p.oid
  JOIN pg_language l ON l.oid = p.prolang
UNION ALL
SELECT format('relation %s kind %s owner %s acl %s options %s comment %s', c.oid::regclass, c.relkind, c.relowner::regrole,
              c.relacl, c.reloptions, obj_description(c.oid, 'pg_class'))
  FROM rels c
UNION ALL
SELECT format('column %s.%s #%s %s not null %s default %s acl %s comment %s', c.oid::regclass, a.attname, a.attnum,
              format_type(a.atttypid, a.atttypmod), a.attnotnull, pg_get_expr(ad.adbin, ad.adrelid), a.attacl,
              col_description(c.oid, a.attnum))
  FROM rels c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
  LEFT JOIN pg_attrdef ad ON ad.adrelid = c.oid AND ad.adnum = a.attnum
UNION ALL
SELECT format('constraint %s on %s: %s', co.conname, co.conrelid::regclass, pg_get_constraintdef(co.oid))
  FROM pg_constraint co JOIN rels c ON c.oid = co.conrelid
UNION ALL
SELECT 'index ' || pg_get_indexdef(i.indexrelid) FROM pg_index i JOIN rels c ON c.oid = i.indrelid
UNION ALL
SELECT 'trigger ' || pg_get_triggerdef(t.oid) FROM pg_trigger t JOIN rels c ON c.oid = t.tgrelid WHERE NOT t.tgisinternal
UNION ALL
SELECT format('view %s: %s', c.oid::regclass, pg_get_viewdef(c.oid)) FROM rels c WHERE c.relkind IN ('v', 'm')
UNION ALL
SELECT format('sequence %s owned by %s', s.seqrelid::regclass, pg_get_serial_sequence(d.refobjid::regclass::text, a.attname))
  FROM pg_sequence s JOIN rels c ON c.oid = s.seqrelid
  JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = s.seqrelid AND d.deptype = 'a'
  JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
UNION ALL
SELECT format('wrapper %s handler %s validator %s owner %s options %s acl %s comment %s', w.fdwname, w.fdwhandler::regproc,
              w.fdwvalidator::regproc, w.fdwowner::regrole, w.fdwoptions, w.fdwacl, obj_description(w.oid, 'pg_foreign_data_wrapper'))
  FROM pg_foreign_data_wrapper w JOIN members m ON m.classid = 'pg_foreign_data_wrapper'::regclass AND m.objid = w.oid
UNION ALL
SELECT format('schema %s owner %s acl %s', n.nspname, n.nspowner::regrole, n.nspacl) FROM pg_namespace n JOIN ext ON n.oid = ext.extnamespace
UNION ALL
SELECT format('configuration %s condition %L', u.cfg::regclass, u.cond) FROM ext, unnest(ext.extconfig, ext.extcondition) u(cfg, cond)
UNION ALL
SELECT format('extension owner %s', ext.extowner::regrole) FROM ext
$$;

-- what the accounts hold, and the extension's own data (the accounts are
-- made below)
SET check_function_bodies = off;
CREATE FUNCTION pg_temp.data_lines() RETURNS SETOF text LANGUAGE sql AS $$
SELECT format('contract %s %s %s %s %s %s', contract_id, account_id, valid_from, valid_to, monday_hours, note)
  FROM tempo_fdw.time_account_contracts
UNION ALL
SELECT format('accounts %s %s %s %s %s %s %s %s %s', schema_name, since, until, logged, issue_ids, mode, deletions, reconcile_days, created_at)
  FROM tempo_fdw.time_accounts
UNION ALL
SELECT format('run %s %s %s %s %s %s %s %s %s %s', run_id, schema_name, kind, started_at, finished_at, outcome, worklog_rows,
              worklog_source, schedule_rows, error)
  FROM tempo_fdw.refresh_log
UNION ALL
SELECT format('sync %s %s %s %s %s %s', schema_name, watermark, last_outcome, received, inserted, deletion_source)
  FROM tempo_fdw.sync_state
UNION ALL
SELECT format('store %s %s %s %s', worklog_id, author_account_id, start_date, time_spent_seconds) FROM up_sync.worklog_store
UNION ALL
SELECT format('snapshot %s %s', worklog_id, time_spent_seconds) FROM up_snap.worklog_snapshot
UNION ALL
SELECT format('schedule %s %s %s', account_id, date, required_seconds) FROM up_snap.schedule_snapshot
UNION ALL
SELECT format('balance snap %s %s', account_id, balance_seconds) FROM up_snap.time_account_balance
UNION ALL
SELECT format('balance sync %s %s', account_id, balance_seconds) FROM up_sync.time_account_balance
$$;
RESET check_function_bodies;

-- 1.0 at work: contracts, a snapshot and a synchronised store, runs
\set t :sim '/@tag=up/4'
CREATE SERVER up_srv FOREIGN DATA WRAPPER tempo_fdw
  OPTIONS (tempo_url :'t', max_requests_per_second '0', max_retries '0');
CREATE USER MAPPING FOR PUBLIC SERVER up_srv OPTIONS (token 'tempo-test-token');
CREATE SCHEMA up_snap;
CREATE SCHEMA up_sync;
IMPORT FOREIGN SCHEMA tempo FROM SERVER up_srv INTO up_snap;
IMPORT FOREIGN SCHEMA tempo FROM SERVER up_srv INTO up_sync;
SELECT min(author_account_id) AS person FROM up_snap.worklogs WHERE start_date BETWEEN '2024-12-01' AND '2024-12-31' \gset
INSERT INTO tempo_fdw.time_account_contracts (account_id, valid_from, valid_to, monday_hours, tuesday_hours, note)
VALUES (:'person', '2024-06-01', '2024-11-30', 8, 8, 'until November'),
       (:'person', '2024-12-01', NULL, 4, 4, 'from December');
SELECT tempo_fdw.create_time_accounts('up_snap', '2024-12-01', '2024-12-31') IS NOT NULL AS made \gset
SELECT tempo_fdw.create_time_accounts('up_sync', '2024-11-01', '2024-12-31', mode => 'sync', reconcile_days => 1200) IS NOT NULL AS made \gset
CALL tempo_fdw.refresh('up_snap');
CALL tempo_fdw.sync('up_sync');
SELECT is((SELECT extversion FROM pg_extension WHERE extname = 'tempo_fdw'), '1.0', '1.0 is installed');
SELECT ok((SELECT count(*) FROM up_sync.worklog_store) > 0 AND (SELECT count(*) FROM up_snap.worklog_snapshot) > 0
          AND (SELECT count(*) FROM tempo_fdw.refresh_log WHERE outcome = 'ok') = 2,
          'the 1.0 accounts hold data');
CREATE TEMP TABLE data_before AS SELECT * FROM pg_temp.data_lines() AS line;

ALTER EXTENSION tempo_fdw UPDATE;
SELECT is((SELECT extversion FROM pg_extension WHERE extname = 'tempo_fdw'),
          (SELECT default_version FROM pg_available_extensions WHERE name = 'tempo_fdw'), 'updated to the default version');
CREATE TEMP TABLE catalog_updated AS SELECT * FROM pg_temp.ext_catalog() AS line;

-- the data survived, and the accounts of 1.0 are owned and recorded
SELECT set_eq($$SELECT * FROM pg_temp.data_lines()$$, $$TABLE data_before$$,
              'contracts, accounts, run log, sync state, store, snapshots and balances survived the update');
SELECT results_eq($$SELECT schema_name::text COLLATE "default", owner::text COLLATE "default" FROM tempo_fdw.time_accounts ORDER BY 1$$,
                  $$VALUES ('up_snap', 'postgres'), ('up_sync', 'postgres')$$,
                  'the accounts belong to the role that made them');
SELECT results_eq($$SELECT schema_name::text COLLATE "default", object_name::text COLLATE "default", kind FROM tempo_fdw.time_account_objects ORDER BY 1, 2$$,
                  $$VALUES ('up_snap', 'schedule_snapshot', 'materialized view'), ('up_snap', 'time_account_balance', 'view'),
                           ('up_snap', 'time_account_daily', 'view'), ('up_snap', 'time_account_monthly', 'view'),
                           ('up_snap', 'worklog_snapshot', 'materialized view'),
                           ('up_sync', 'schedule_snapshot', 'materialized view'), ('up_sync', 'time_account_balance', 'view'),
                           ('up_sync', 'time_account_daily', 'view'), ('up_sync', 'time_account_monthly', 'view'),
                           ('up_sync', 'worklog_snapshot', 'view'), ('up_sync', 'worklog_store', 'table')$$,
                  'what 1.0 made is recorded as made by create_time_accounts');

-- the accounts 1.0 made keep working
SELECT max(run_id) AS last_run FROM tempo_fdw.refresh_log \gset
CALL tempo_fdw.refresh('up_snap');
CALL tempo_fdw.sync('up_sync');
CALL tempo_fdw.refresh('up_sync');
SELECT results_eq(format($$SELECT schema_name::text COLLATE "default", kind, outcome FROM tempo_fdw.refresh_log WHERE run_id > %s ORDER BY run_id$$, :'last_run'),
                  $$VALUES ('up_snap', 'refresh', 'ok'), ('up_sync', 'sync', 'ok'), ('up_sync', 'refresh', 'ok')$$,
                  'refresh and sync of the 1.0 accounts succeed after the update');
SELECT set_eq($$SELECT line FROM pg_temp.data_lines() AS line WHERE line LIKE 'balance %' OR line LIKE 'store %' OR line LIKE 'snapshot %'$$,
              $$SELECT line FROM data_before WHERE line LIKE 'balance %' OR line LIKE 'store %' OR line LIKE 'snapshot %'$$,
              'and give the same figures (Tempo''s data did not change)');
SELECT is((SELECT count(*) FROM tempo_fdw.sync_state WHERE schema_name = 'up_sync' AND last_outcome = 'ok' AND inserted = 0),
          1::bigint, 'the store''s watermark carried over: nothing was loaded twice');
-- during a Tempo outage they take no fallback row: they could not attribute it
ALTER SERVER up_srv OPTIONS (ADD jira_url :'sim');
ALTER USER MAPPING FOR PUBLIC SERVER up_srv OPTIONS (ADD jira_email 'bot@example.com', ADD jira_token 'jira-test-token');
\set t :sim '/@tag=up401,fault=401,src=tempo/4'
ALTER SERVER up_srv OPTIONS (SET tempo_url :'t');
\set ON_ERROR_STOP off
CALL tempo_fdw.refresh('up_snap', allow_fallback => true);
\set ON_ERROR_STOP on
SELECT is(:'LAST_ERROR_SQLSTATE' || ' ' || :'LAST_ERROR_MESSAGE',
          'HV000 refresh of the time accounts in "up_snap" failed: the time accounts in "up_snap" cannot attribute rows from the Jira fallback',
          'the 1.0 snapshot refuses fallback rows it cannot attribute');
\set ON_ERROR_STOP off
CALL tempo_fdw.sync('up_sync', allow_fallback => true);
\set ON_ERROR_STOP on
SELECT is(:'LAST_ERROR_SQLSTATE' || ' ' || :'LAST_ERROR_MESSAGE',
          'HV000 sync of the worklogs in "up_sync" failed: the time accounts in "up_sync" cannot attribute rows from the Jira fallback',
          'and so does the 1.0 store');
\set t :sim '/@tag=up/4'
ALTER SERVER up_srv OPTIONS (SET tempo_url :'t');
SELECT lives_ok($$SELECT tempo_fdw.create_time_accounts('up_sync', '2024-11-01', '2024-12-31', mode => 'sync', reconcile_days => 1200, populate => false)$$,
                'create_time_accounts replaces what 1.0 made');
SELECT is((SELECT count(*) FROM up_sync.worklog_store), (SELECT count(*) FROM data_before WHERE line LIKE 'store %'),
          'and keeps the store');
-- the version the C code reports (User-Agent) is the control file's
\set log `curl -s "$TEMPO_SIM_URL/_log?tag=up"`
SELECT results_eq(format($$SELECT DISTINCT e ->> 'user_agent' FROM jsonb_array_elements(%L::jsonb) e$$, :'log'),
                  $$SELECT 'tempo_fdw/' || default_version FROM pg_available_extensions WHERE name = 'tempo_fdw'$$,
                  'the library sends the default version as its User-Agent');

-- a fresh install of the default version has the very same objects
DROP EXTENSION tempo_fdw CASCADE;
SELECT ok(to_regclass('up_sync.worklog_store') IS NOT NULL, 'dropping the extension leaves the store');
SELECT throws_ok($$CREATE EXTENSION tempo_fdw$$, '42P06', 'schema "tempo_fdw" already exists',
                 'dropping an updated 1.0 leaves its schema, which a fresh install does not adopt');
SELECT is((SELECT count(*) FROM pg_class WHERE relnamespace = 'tempo_fdw'::regnamespace)
          + (SELECT count(*) FROM pg_proc WHERE pronamespace = 'tempo_fdw'::regnamespace), 0::bigint,
          'the schema left is empty');
DROP SCHEMA tempo_fdw;
CREATE EXTENSION tempo_fdw;
CREATE TEMP TABLE catalog_fresh AS SELECT * FROM pg_temp.ext_catalog() AS line;
SELECT cmp_ok((SELECT count(*) FROM catalog_fresh), '>', 100::bigint, 'the catalog comparison sees the objects');
SELECT set_eq($$SELECT * FROM catalog_updated WHERE line NOT LIKE 'schema %' AND line <> 'member schema tempo_fdw'$$,
              $$SELECT * FROM catalog_fresh WHERE line NOT LIKE 'schema %' AND line <> 'member schema tempo_fdw'$$,
              'the updated extension''s objects equal a fresh install''s: functions, bodies, settings, tables, columns, views, comments, owners');
SELECT results_eq($$SELECT line FROM catalog_fresh WHERE line LIKE 'schema %' OR line = 'member schema tempo_fdw' ORDER BY 1$$,
                  $$VALUES ('member schema tempo_fdw'), ('schema pg_catalog owner postgres acl {postgres=UC/postgres,=U/postgres}')$$,
                  'a fresh install lives in pg_catalog and its schema tempo_fdw is a member');
SELECT results_eq($$SELECT line FROM catalog_updated WHERE line LIKE 'schema %' OR line LIKE 'member schema %' ORDER BY 1$$,
                  $$VALUES ('schema tempo_fdw owner postgres acl {postgres=UC/postgres,=U/postgres}')$$,
                  'an updated 1.0 keeps the schema PostgreSQL made for it, not a member');
SELECT is((SELECT nspacl::text FROM pg_namespace WHERE nspname = 'tempo_fdw'), '{postgres=UC/postgres,=U/postgres}',
          'the fresh install''s schema tempo_fdw grants USAGE to PUBLIC, as 1.0''s did');

SELECT * FROM finish();
DROP EXTENSION tempo_fdw CASCADE;
DROP SCHEMA up_snap, up_sync CASCADE;
\! curl -s "$TEMPO_SIM_URL/_reset" >/dev/null
