-- pgTAP: the attributed fallback.  While Tempo answers, every worklog's
-- Jira twin is kept (the column jira_worklog_id, asked from POST
-- /4/worklogs/tempo-to-jira only when a query uses it); when Tempo fails
-- and a run may use the fallback, a Jira row whose twin is known goes to its
-- worker with the billable time of the last good Tempo data, one with no
-- known twin is unattributed (no author, counted for nobody, shown in
-- time_account_unattributed); the next run that reads Tempo replaces them.
-- Every figure is computed from the simulator's own data (/_data), not from
-- the foreign tables.  Not one transaction: the procedures commit.
\ir include/setup.sql
DROP SCHEMA IF EXISTS fbc, fb, fy, fo CASCADE;
CREATE EXTENSION tempo_fdw;
SELECT plan(39);
SELECT set_config('fb.sim', :'sim', false) IS NOT NULL AS ok \gset

CREATE FUNCTION pg_temp.server(name text, tag text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('CREATE SERVER %I FOREIGN DATA WRAPPER tempo_fdw OPTIONS (tempo_url %L, jira_url %L, '
                 'max_requests_per_second %L, max_retries %L)',
                 name, current_setting('fb.sim') || '/@tag=' || tag || '/4', current_setting('fb.sim'), '0', '0');
  EXECUTE format('CREATE USER MAPPING FOR PUBLIC SERVER %I OPTIONS (token %L, jira_email %L, jira_token %L)',
                 name, 'tempo-test-token', 'bot@example.com', 'jira-test-token');
END $$;
CREATE FUNCTION pg_temp.tag(srv text, tag text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('ALTER SERVER %I OPTIONS (SET tempo_url %L)', srv, current_setting('fb.sim') || '/@' || tag || '/4');
END $$;
-- the simulator's requests of a tag
CREATE TEMP TABLE sim_log (tag text, e jsonb);
CREATE FUNCTION pg_temp.log(t text) RETURNS SETOF jsonb LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM sim_log WHERE tag = t;
  EXECUTE format('COPY sim_log (e) FROM PROGRAM %L WITH (FORMAT csv, QUOTE E''\x01'', DELIMITER E''\x02'')',
                 'curl -s "' || current_setting('fb.sim') || '/_log?tag=' || t || '"');
  UPDATE sim_log SET tag = t WHERE tag IS NULL;
  RETURN QUERY SELECT x FROM sim_log, jsonb_array_elements(e) x WHERE tag = t;
END $$;
-- the simulator's data: Tempo worklogs, Jira worklogs, schedules
CREATE TEMP TABLE sim_doc (kind text, doc jsonb);
CREATE FUNCTION pg_temp.load(k text, q text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM sim_doc WHERE kind = k;
  EXECUTE format('COPY sim_doc (doc) FROM PROGRAM %L WITH (FORMAT csv, QUOTE E''\x01'', DELIMITER E''\x02'')',
                 'curl -s "' || current_setting('fb.sim') || '/_data?ds=company&' || q || '"');
  UPDATE sim_doc SET kind = k WHERE kind IS NULL;
END $$;
CREATE FUNCTION pg_temp.tempo(k text) RETURNS TABLE (id bigint, author text, day date, spent int, billable int, issue bigint)
LANGUAGE sql AS $$
  SELECT (w ->> 'tempoWorklogId')::bigint, w -> 'author' ->> 'accountId', (w ->> 'startDate')::date,
         (w ->> 'timeSpentSeconds')::int, (w ->> 'billableSeconds')::int, (w -> 'issue' ->> 'id')::bigint
    FROM sim_doc, jsonb_array_elements(doc) w WHERE kind = k
$$;

-- 1. the column: asked for only when used, paged as the API pages
SELECT pg_temp.server('fbc_srv', 'fbcol,map_limit=7');
CREATE SCHEMA fbc;
IMPORT FOREIGN SCHEMA tempo LIMIT TO (worklogs) FROM SERVER fbc_srv INTO fbc;
SELECT col_type_is('fbc', 'worklogs', 'jira_worklog_id', 'bigint', 'IMPORT FOREIGN SCHEMA makes jira_worklog_id bigint');
SELECT pg_temp.load('tempo0', 'kind=tempo');
CREATE TEMP TABLE t0 AS SELECT * FROM pg_temp.tempo('tempo0');
SELECT count(*) AS week FROM t0 WHERE day BETWEEN '2024-03-04' AND '2024-03-08' \gset
SELECT results_eq($$SELECT count(*), count(worklog_id) FROM fbc.worklogs WHERE start_date BETWEEN '2024-03-04' AND '2024-03-08'$$,
                  format('VALUES (%s::bigint, %s::bigint)', :week, :week), 'a week of worklogs without the column');
SELECT is((SELECT count(*) FROM pg_temp.log('fbcol') x WHERE x ->> 'path' = '/4/worklogs/tempo-to-jira'), 0::bigint,
          'no mapping request when the query does not use jira_worklog_id');
SELECT results_eq($$SELECT count(*), count(*) FILTER (WHERE jira_worklog_id = worklog_id + 500000) FROM fbc.worklogs
                     WHERE start_date BETWEEN '2024-03-04' AND '2024-03-08'$$,
                  format('VALUES (%s::bigint, %s::bigint)', :week, :week), 'with it: every worklog''s Jira twin');
SELECT results_eq($$SELECT count(*), count(DISTINCT x ->> 'query'), min(x ->> 'method') FROM pg_temp.log('fbcol') x
                     WHERE x ->> 'path' = '/4/worklogs/tempo-to-jira'$$,
                  format('VALUES (%s::bigint, %s::bigint, ''POST'')', ceil(:week / 7.0), ceil(:week / 7.0)),
                  'pages of 7 pairs, each at its own offset, as metadata.next leads');
SELECT set_eq($$SELECT i::bigint FROM pg_temp.log('fbcol') x, jsonb_array_elements_text((x ->> 'body')::jsonb -> 'tempoWorklogIds') i
                 WHERE x ->> 'path' = '/4/worklogs/tempo-to-jira'$$,
              $$SELECT id FROM t0 WHERE day BETWEEN '2024-03-04' AND '2024-03-08'$$,
              'the ids asked for are the week''s worklogs');
SELECT is((SELECT count(*) FROM fbc.worklogs WHERE start_date = '2024-03-04' AND jira_worklog_id IS NULL), 0::bigint,
          'no worklog without a twin');

-- 2. accounts made while Tempo answers keep the twins
SELECT pg_temp.server('fb_srv', 'fb');
SELECT pg_temp.server('fy_srv', 'fy');
CREATE SCHEMA fb;
IMPORT FOREIGN SCHEMA tempo LIMIT TO (worklogs, user_schedules) FROM SERVER fb_srv INTO fb;
CREATE SCHEMA fy;
IMPORT FOREIGN SCHEMA tempo LIMIT TO (worklogs, user_schedules) FROM SERVER fy_srv INTO fy;
SELECT lives_ok($$SELECT tempo_fdw.create_time_accounts('fb', '2024-03-01', '2024-03-31')$$, 'snapshot accounts for March');
SELECT lives_ok($$SELECT tempo_fdw.create_time_accounts('fy', '2024-03-01', '2024-03-31', mode => 'sync')$$,
                'synchronised accounts from March');
SELECT results_eq($$SELECT count(*), count(*) FILTER (WHERE jira_worklog_id = worklog_id + 500000 AND attribution = 'tempo')
                      FROM fb.worklog_snapshot$$,
                  $$SELECT count(*), count(*) FROM t0 WHERE day BETWEEN '2024-03-01' AND '2024-03-31'$$,
                  'the snapshot holds every worklog of March with its twin');
SELECT results_eq($$SELECT count(*) FROM fb.worklog_twins$$, $$SELECT count(*) FROM t0 WHERE day BETWEEN '2024-03-01' AND '2024-03-31'$$,
                  'and keeps the twins of the good run');
SELECT results_eq($$SELECT count(*), count(*) FILTER (WHERE jira_worklog_id = worklog_id + 500000 AND attribution = 'tempo')
                      FROM fy.worklog_store$$,
                  $$SELECT count(*), count(*) FROM t0 WHERE day >= '2024-03-01'$$,
                  'the store holds every worklog since March with its twin');
SELECT results_eq($$SELECT count(*), count(DISTINCT i) FROM pg_temp.log('fb') x,
                            jsonb_array_elements_text((x ->> 'body')::jsonb -> 'tempoWorklogIds') i
                     WHERE x ->> 'path' = '/4/worklogs/tempo-to-jira'$$,
                  $$SELECT count(*), count(*) FROM t0 WHERE day BETWEEN '2024-03-01' AND '2024-03-31'$$,
                  'the snapshot''s refresh asked for each twin once');
SELECT watermark AS wm FROM tempo_fdw.sync_status WHERE schema_name = 'fy' \gset

-- 3. while Tempo is down: a worklog changed (its Jira twin follows) and
-- one made; Jira also holds worklogs that were never in Tempo
SELECT id AS w1, author AS w1_author FROM t0 WHERE day = '2024-03-05' ORDER BY id LIMIT 1 \gset
COPY (SELECT format('{"upsert":[{"tempoWorklogId":%s,"timeSpentSeconds":4321},{"tempoWorklogId":990001,'
                    '"issue":{"id":10000},"timeSpentSeconds":5400,"startDate":"2024-03-12","author":{"accountId":"%s"}}]}',
                    :w1, :'w1_author')) TO PROGRAM 'cat > /tmp/tempo_fdw_fb_change.json';
\set out `curl -s -X POST --data-binary @/tmp/tempo_fdw_fb_change.json "$TEMPO_SIM_URL/_mutate?ds=company"`
SELECT is((:'out'::jsonb -> 'upserted')::text, format('[%s, 990001]', :w1), 'the simulator took the changes');
SELECT pg_temp.load('jira1', 'kind=jira');
CREATE TEMP TABLE j1 AS
  SELECT (w ->> 'id')::bigint AS id, (w ->> 'issueId')::bigint AS issue, left(w ->> 'started', 10)::date AS day,
         (w ->> 'timeSpentSeconds')::int AS spent, (w ->> 'updated')::timestamptz AS updated
    FROM sim_doc, jsonb_array_elements(doc) w WHERE kind = 'jira1';
SELECT pg_temp.tag('fb_srv', 'tag=fb401,fault=401,src=tempo');
SELECT pg_temp.tag('fy_srv', 'tag=fy401,fault=401,src=tempo');

-- 4. refresh from the fallback: March's Jira worklogs, attributed
CREATE TEMP TABLE want_fb AS
  SELECT coalesce(t.id, j.id) AS worklog_id, t.author AS account_id, j.spent, t.billable, j.id AS jira_id,
         CASE WHEN t.id IS NULL THEN 'unattributed' ELSE 'jira_mapped' END AS attribution, j.day, j.issue
    FROM j1 j LEFT JOIN t0 t ON t.id = j.id - 500000 AND t.day BETWEEN '2024-03-01' AND '2024-03-31'
   WHERE j.day BETWEEN '2024-03-01' AND '2024-03-31';
CALL tempo_fdw.refresh('fb', allow_fallback => true);
SELECT set_eq($$SELECT worklog_id, account_id, time_spent_seconds, billable_seconds, jira_worklog_id, attribution FROM fb.worklog_snapshot$$,
              $$SELECT worklog_id, account_id, spent, billable, jira_id, attribution FROM want_fb$$,
              'each Jira row: its worker and billable time from the last good data, Jira''s time; or unattributed');
SELECT results_eq($$SELECT attribution, count(*) FROM fb.worklog_snapshot GROUP BY 1 ORDER BY 1$$,
                  format($$VALUES ('jira_mapped'::text, %s::bigint), ('unattributed', 3)$$,
                         (SELECT count(*) FROM t0 WHERE day BETWEEN '2024-03-01' AND '2024-03-31')),
                  'every March worklog mapped; the new one and two Jira-only ones unattributed');
SELECT is((SELECT time_spent_seconds FROM fb.worklog_snapshot WHERE worklog_id = :w1 AND attribution = 'jira_mapped'), 4321,
          'the changed worklog has Jira''s new time');
SELECT results_eq($$SELECT outcome, worklog_source, mapped_rows, unattributed_rows FROM tempo_fdw.refresh_log ORDER BY run_id DESC LIMIT 1$$,
                  $$SELECT 'ok'::text, 'jira'::text, count(*) FILTER (WHERE attribution = 'jira_mapped'),
                           count(*) FILTER (WHERE attribution = 'unattributed') FROM want_fb$$,
                  'the run is logged as from Jira, with its counts');
SELECT set_eq($$SELECT date, issue_id, seconds FROM fb.time_account_unattributed$$,
              $$SELECT day, issue, sum(spent)::bigint FROM want_fb WHERE attribution = 'unattributed' GROUP BY 1, 2$$,
              'unattributed time shows in time_account_unattributed');
SELECT set_eq($$SELECT account_id, sum(logged_seconds) FROM fb.time_account_daily GROUP BY 1 HAVING sum(logged_seconds) > 0$$,
              $$SELECT account_id, sum(spent) FROM want_fb WHERE attribution = 'jira_mapped' GROUP BY 1$$,
              'each worker''s logged time is that of the mapped rows');
SELECT is((SELECT count(*) FROM fb.time_account_balance WHERE account_id IS NULL OR account_id = '557058:tempo-app-user'),
          0::bigint, 'no account of nobody nor of the Tempo app user');
SELECT is((SELECT count(*) FROM pg_temp.log('fb401') x WHERE x ->> 'path' LIKE '/4/%'), 1::bigint,
          'one Tempo request (the 401), no mapping request while Tempo is down');

-- 5. sync from the fallback: the Jira rows changed since the watermark
CREATE TEMP TABLE want_fy AS
  SELECT coalesce(t.id, -j.id) AS worklog_id, t.author, j.spent, t.billable, j.id AS jira_id,
         CASE WHEN t.id IS NULL THEN 'unattributed' ELSE 'jira_mapped' END AS attribution, j.day, j.issue
    FROM j1 j LEFT JOIN t0 t ON t.id = j.id - 500000 AND t.day >= '2024-03-01'
   WHERE j.updated >= :'wm'::timestamptz - interval '5 minutes';
CALL tempo_fdw.sync('fy', allow_fallback => true);
SELECT set_eq($$SELECT worklog_id, author_account_id, time_spent_seconds, billable_seconds, jira_worklog_id, attribution
                  FROM fy.worklog_store WHERE attribution <> 'tempo'$$,
              $$SELECT worklog_id, author, spent, billable, jira_id, attribution FROM want_fy$$,
              'sync: the changed Jira rows attributed to the stored worklogs, the others unattributed');
SELECT ok((SELECT count(*) FROM want_fy WHERE attribution = 'jira_mapped') >= 1
          AND (SELECT count(*) FROM want_fy WHERE attribution = 'unattributed') >= 1, 'both kinds are there');
SELECT results_eq($$SELECT kind, outcome, worklog_source, mapped_rows, unattributed_rows, worklog_rows
                      FROM tempo_fdw.refresh_log ORDER BY run_id DESC LIMIT 1$$,
                  $$SELECT 'sync'::text, 'ok'::text, 'jira'::text, count(*) FILTER (WHERE attribution = 'jira_mapped'),
                           count(*) FILTER (WHERE attribution = 'unattributed'), count(*) FROM want_fy$$,
                  'the sync is logged as from Jira, with its counts');
SELECT results_eq($$SELECT watermark FROM tempo_fdw.sync_status WHERE schema_name = 'fy'$$,
                  format('VALUES (%L::timestamptz)', :'wm'), 'the watermark stays');
SELECT set_eq($$SELECT date, issue_id, seconds FROM fy.time_account_unattributed$$,
              $$SELECT day, issue, sum(spent)::bigint FROM want_fy
                 WHERE attribution = 'unattributed' AND day BETWEEN '2024-03-01' AND '2024-03-31' GROUP BY 1, 2$$,
              'its unattributed time of March shows in time_account_unattributed');
SELECT is((SELECT count(*) FROM fy.time_account_balance WHERE account_id IS NULL OR account_id = '557058:tempo-app-user'),
          0::bigint, 'no account of nobody nor of the Tempo app user');

-- 6. Tempo answers again: every fallback row replaced
SELECT pg_temp.tag('fb_srv', 'tag=fb');
SELECT pg_temp.tag('fy_srv', 'tag=fy');
SELECT pg_temp.load('tempo1', 'kind=tempo');
CREATE TEMP TABLE t1 AS SELECT * FROM pg_temp.tempo('tempo1');
SELECT pg_temp.load('schedule', 'kind=schedule&from=2024-03-01&to=2024-03-31');
CREATE TEMP TABLE sched AS
  SELECT p.key AS account, (d ->> 'date')::date AS day, (d ->> 'requiredSeconds')::bigint AS required
    FROM sim_doc, jsonb_each(doc) p, jsonb_array_elements(p.value) d WHERE kind = 'schedule';
CREATE TEMP TABLE want_balance AS
  SELECT a.author AS account_id,
         coalesce((SELECT sum(spent) FROM t1 WHERE t1.author = a.author AND day BETWEEN '2024-03-01' AND '2024-03-31'), 0)
         - coalesce((SELECT sum(required) FROM sched s WHERE s.account = a.author), 0) AS balance
    FROM (SELECT DISTINCT author FROM t1 WHERE day BETWEEN '2024-03-01' AND '2024-03-31') a;
CALL tempo_fdw.refresh('fb');
SELECT results_eq($$SELECT count(*), sum(time_spent_seconds), count(*) FILTER (WHERE attribution = 'tempo'),
                           count(*) FILTER (WHERE jira_worklog_id = worklog_id + 500000) FROM fb.worklog_snapshot$$,
                  $$SELECT count(*), sum(spent), count(*), count(*) FROM t1 WHERE day BETWEEN '2024-03-01' AND '2024-03-31'$$,
                  'refresh: the snapshot is Tempo''s again, every row with its twin');
SELECT set_eq($$SELECT account_id, balance_seconds FROM fb.time_account_balance$$,
              $$SELECT account_id, balance FROM want_balance$$, 'and the balances are Tempo''s');
SELECT results_eq($$SELECT worklog_source, mapped_rows, unattributed_rows FROM tempo_fdw.refresh_log ORDER BY run_id DESC LIMIT 1$$,
                  $$VALUES ('tempo'::text, 0::bigint, 0::bigint)$$, 'logged as from Tempo');
SELECT is((SELECT count(*) FROM fb.time_account_unattributed), 0::bigint, 'nothing unattributed');
CALL tempo_fdw.sync('fy');
SELECT results_eq($$SELECT count(*), sum(time_spent_seconds), count(*) FILTER (WHERE attribution = 'tempo'),
                           count(*) FILTER (WHERE jira_worklog_id = worklog_id + 500000) FROM fy.worklog_store$$,
                  $$SELECT count(*), sum(spent), count(*), count(*) FROM t1 WHERE day >= '2024-03-01'$$,
                  'sync: the store is Tempo''s again');
SELECT results_eq($$SELECT deletion_source, deleted FROM tempo_fdw.sync_status WHERE schema_name = 'fy'$$,
                  $$SELECT 'full'::text, count(*) FROM want_fy WHERE attribution = 'unattributed'$$,
                  'by a whole reading, which removed the unattributed rows');
SELECT set_eq($$SELECT account_id, balance_seconds FROM fy.time_account_balance$$,
              $$SELECT account_id, balance FROM want_balance$$, 'and the sync''s balances are Tempo''s');

-- 7. a worklogs table without the column keeps working; its fallback rows
-- are all unattributed
SELECT pg_temp.server('fo_srv', 'fo');
CREATE SCHEMA fo;
CREATE FOREIGN TABLE fo.worklogs (worklog_id bigint, source text, issue_id bigint, author_account_id text,
  start_date date, time_spent_seconds integer, billable_seconds integer, updated_at timestamptz)
  SERVER fo_srv OPTIONS (resource 'worklogs');
IMPORT FOREIGN SCHEMA tempo LIMIT TO (user_schedules) FROM SERVER fo_srv INTO fo;
SELECT lives_ok($$SELECT tempo_fdw.create_time_accounts('fo', '2024-03-01', '2024-03-31')$$,
                'accounts over a worklogs table without jira_worklog_id');
SELECT results_eq($$SELECT count(*), count(jira_worklog_id) FROM fo.worklog_snapshot$$,
                  $$SELECT count(*), 0::bigint FROM t1 WHERE day BETWEEN '2024-03-01' AND '2024-03-31'$$,
                  'its snapshot has no twins');
SELECT is((SELECT count(*) FROM pg_temp.log('fo') x WHERE x ->> 'path' = '/4/worklogs/tempo-to-jira'), 0::bigint,
          'and asked for none');
SELECT pg_temp.tag('fo_srv', 'tag=fo401,fault=401,src=tempo');
CALL tempo_fdw.refresh('fo', allow_fallback => true);
SELECT results_eq($$SELECT attribution, count(*), count(account_id) FROM fo.worklog_snapshot GROUP BY 1$$,
                  $$SELECT 'unattributed'::text, count(*), 0::bigint FROM j1 WHERE day BETWEEN '2024-03-01' AND '2024-03-31'$$,
                  'from the fallback every row is unattributed: none counts for the Tempo app user');

SELECT * FROM finish();
DROP EXTENSION tempo_fdw CASCADE;
DROP SCHEMA IF EXISTS fbc, fb, fy, fo CASCADE;
\! curl -s "$TEMPO_SIM_URL/_reset" >/dev/null
