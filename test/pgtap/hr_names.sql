-- pgTAP: names and teams in the time accounts (issue #17).
--   1. create_time_accounts (populate) and refresh read the Jira users of
--      the accounts' people into person_name_snapshot (one GET user/bulk
--      for the four of them) and their Tempo team memberships into
--      team_membership_snapshot (one search); the balance, monthly,
--      weekly and unaccounted views show HR's name where
--      time_account_people has one, else Jira's;
--      time_account_team_monthly sums each member's days while a member,
--      against figures computed here from the simulator's raw worklogs
--      and memberships (and a membership that starts mid-month, put into
--      the cache by hand);
--   2. a lookup never fails the run nor hides the accounts: Jira's users
--      refused (403): names NULL, names_problem says so, no WARNING;
--      Jira down (500): the names of the last good read stay, the run's
--      log row and a WARNING say so; memberships refused: no teams; no
--      foreign table jira_users: names NULL; the balances never change;
--      sync reads them too, with people => 'authors' for the holders of
--      contracts as well; overlapping memberships of one team count a day
--      once;
--   3. security: a jira_users foreign table planted by another role (its
--      server would log requests under its own tag) and a view planted as
--      tempo_team_memberships (its function would leave a trace) are
--      never read, and the run's log row says so.
-- sql/lookups_warnings.sql shows which problems come with a WARNING.
-- Not one transaction: refresh commits.
\ir include/setup.sql
DROP SCHEMA IF EXISTS hn, hn_s CASCADE;
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'hn_mallory') THEN
    DROP OWNED BY hn_mallory CASCADE;
    DROP ROLE hn_mallory;
  END IF;
END $$;
CREATE EXTENSION tempo_fdw;
SELECT plan(32);
SELECT set_config('hn.sim', :'sim', false) IS NOT NULL AS sim_set \gset

-- a document of the simulator (its raw data, its request log)
CREATE TEMP TABLE sim_doc (doc jsonb);
CREATE FUNCTION pg_temp.sim(path text) RETURNS jsonb LANGUAGE plpgsql AS $$
BEGIN
  TRUNCATE sim_doc;
  EXECUTE format('COPY sim_doc FROM PROGRAM %L WITH (FORMAT csv, QUOTE E''\x01'', DELIMITER E''\x02'')',
                 format('curl -s "%s%s"', current_setting('hn.sim'), path));
  RETURN (SELECT doc FROM sim_doc);
END $$;
-- the requests of a tag: method and path
CREATE FUNCTION pg_temp.requests(tag text) RETURNS TABLE (method text, path text, query text) LANGUAGE sql AS $$
  SELECT e ->> 'method', e ->> 'path', e ->> 'query' FROM jsonb_array_elements(pg_temp.sim('/_log?tag=' || tag)) e
$$;
CREATE FUNCTION pg_temp.refresh_outcome() RETURNS text LANGUAGE sql AS $$
  SELECT concat_ws(' | ', outcome, error) FROM tempo_fdw.refresh_log WHERE schema_name = 'hn' ORDER BY run_id DESC LIMIT 1
$$;

-- the simulator's people (index order), Jira users, memberships, worklogs
CREATE TEMP TABLE sim_people AS
  SELECT (o - 1)::int AS idx, u ->> 'accountId' AS account
    FROM jsonb_array_elements(pg_temp.sim('/_data?kind=users')) WITH ORDINALITY x(u, o);
CREATE TEMP TABLE sim_jira_users AS
  SELECT u ->> 'account_id' AS account, u ->> 'display_name' AS name FROM jsonb_array_elements(pg_temp.sim('/_jira?what=users')) u;
CREATE TEMP TABLE sim_members AS
  SELECT (m -> 'team' ->> 'id')::bigint AS team_id, m -> 'team' ->> 'name' AS team_name, m -> 'member' ->> 'accountId' AS account,
         (m ->> 'from')::date AS from_date, (m ->> 'inclusiveTo')::date AS to_date
    FROM jsonb_array_elements(pg_temp.sim('/_dims?kind=memberships')) m;
CREATE TEMP TABLE sim_worklogs AS
  SELECT w -> 'author' ->> 'accountId' AS account, (w ->> 'startDate')::date AS day, (w ->> 'timeSpentSeconds')::bigint AS secs
    FROM jsonb_array_elements(pg_temp.sim('/_data?kind=tempo')) w;
-- four people: the lead of team 1 (also in team 5), the one who moved from
-- team 1 to team 2 on 1 July 2024, one of team 2 with a name in HR's
-- table, one of team 4
CREATE TEMP TABLE four AS SELECT idx, account FROM sim_people WHERE idx IN (0, 5, 12, 39);
-- the account ids whose names and teams are read: the people listed and
-- the authors of the period
CREATE TEMP TABLE looked_up AS
  SELECT account FROM four UNION SELECT account FROM sim_worklogs WHERE day BETWEEN '2024-06-01' AND '2024-07-31';

\set t :sim '/@tag=hn/4'
\set j :sim '/@tag=hn'
CREATE SERVER hn_srv FOREIGN DATA WRAPPER tempo_fdw
  OPTIONS (tempo_url :'t', jira_url :'j', max_requests_per_second '0', max_retries '0');
CREATE USER MAPPING FOR PUBLIC SERVER hn_srv
  OPTIONS (token 'tempo-test-token', jira_email 'bot@example.com', jira_token 'jira-test-token');
CREATE SCHEMA hn;
IMPORT FOREIGN SCHEMA tempo FROM SERVER hn_srv INTO hn;
INSERT INTO tempo_fdw.time_account_people (schema_name, account_id, display_name, first_day)
SELECT 'hn', account, CASE WHEN idx = 12 THEN 'Twelve (HR)' END, '2024-06-01' FROM four;
INSERT INTO tempo_fdw.time_account_contracts (schema_name, account_id, valid_from, monday_hours, tuesday_hours,
                                              wednesday_hours, thursday_hours, friday_hours)
SELECT 'hn', account, '2024-01-01', 8, 8, 8, 8, 8 FROM four;
\! curl -s "$TEMPO_SIM_URL/_reset?tag=hn" >/dev/null
SELECT tempo_fdw.create_time_accounts('hn', '2024-06-01', '2024-07-31', schedules => 'local', people => 'listed',
                                      time_zone => 'UTC') AS made \gset

-- ---------------------------------------------------------------------
-- 1. names and teams read with the accounts
SELECT results_eq($$SELECT method, path, cardinality(regexp_split_to_array(query, 'accountId=')) - 1
                      FROM pg_temp.requests('hn') WHERE path ~ '^/rest/api/3/user' OR path ~ '^/4/team' ORDER BY 2$$,
                  $$VALUES ('POST', '/4/team-memberships/search', 0), ('GET', '/rest/api/3/user/bulk', (SELECT count(*)::int FROM looked_up))$$,
                  'create_time_accounts: one user/bulk request for the account ids (fewer than 50), one membership search');
SELECT ok((SELECT count(*) FROM looked_up) BETWEEN 5 AND 50, 'more account ids than the four listed (the authors), fewer than 50');
SELECT results_eq($$SELECT names_problem, teams_problem, names_at IS NOT NULL, teams_at IS NOT NULL FROM hn.time_account_status$$,
                  $$VALUES (NULL::text, NULL::text, true, true)$$, 'time_account_status: both read, no problem');
SELECT results_eq($$SELECT account_id, display_name FROM hn.person_name_snapshot ORDER BY 1$$,
                  $$SELECT u.account, u.name FROM sim_jira_users u JOIN looked_up USING (account) ORDER BY 1$$,
                  'person_name_snapshot: the Jira users of the people and authors, as the simulator has them');
SELECT results_eq($$SELECT account_id, display_name FROM hn.time_account_balance ORDER BY 1$$,
                  $$SELECT f.account, CASE WHEN f.idx = 12 THEN 'Twelve (HR)' ELSE u.name END
                      FROM four f JOIN sim_jira_users u USING (account) ORDER BY 1$$,
                  'time_account_balance: HR''s name where time_account_people has one, else Jira''s');
SELECT results_eq($$SELECT DISTINCT account_id, display_name FROM hn.time_account_monthly ORDER BY 1$$,
                  $$SELECT account_id, display_name FROM hn.time_account_balance ORDER BY 1$$,
                  'time_account_monthly: the same names');
SELECT results_eq($$SELECT DISTINCT account_id, display_name FROM hn.time_account_weekly ORDER BY 1$$,
                  $$SELECT account_id, display_name FROM hn.time_account_balance ORDER BY 1$$,
                  'time_account_weekly: the same names');
SELECT results_eq($$SELECT team_id, team_name, account_id, from_date, to_date FROM hn.team_membership_snapshot ORDER BY 1, 3, 4$$,
                  $$SELECT m.team_id, m.team_name, m.account, m.from_date, m.to_date FROM sim_members m JOIN looked_up USING (account) ORDER BY 1, 3, 4$$,
                  'team_membership_snapshot: the memberships of the people and authors');
-- the team rollup, computed here: each member's weekdays (8 h) and
-- worklogs on the days of a membership in June and July 2024
CREATE TEMP TABLE expected_teams AS
  SELECT m.team_id, m.team_name, date_trunc('month', d)::date AS month, count(DISTINCT m.account) AS members,
         sum(CASE WHEN extract(isodow FROM d) < 6 THEN 28800 ELSE 0 END) AS req,
         sum((SELECT coalesce(sum(w.secs), 0) FROM sim_worklogs w WHERE w.account = m.account AND w.day = d)) AS log
    FROM sim_members m JOIN four USING (account)
   CROSS JOIN LATERAL generate_series('2024-06-01'::date, '2024-07-31', '1 day') g(d0)
   CROSS JOIN LATERAL (SELECT g.d0::date AS d) x
   WHERE d >= coalesce(m.from_date, '-infinity') AND d <= coalesce(m.to_date, 'infinity')
   GROUP BY 1, 2, 3;
SELECT results_eq($$SELECT team_id, team_name, month, members, required_seconds, logged_seconds, balance_seconds
                      FROM hn.time_account_team_monthly ORDER BY 1, 3$$,
                  $$SELECT team_id, team_name, month, members, req::bigint, log::bigint, (log - req)::bigint
                      FROM expected_teams ORDER BY 1, 3$$,
                  'time_account_team_monthly: each member''s days while a member, against the raw worklogs');
SELECT ok((SELECT count(*) FROM expected_teams WHERE team_id IN (1, 2) AND log > 0) >= 3
          AND (SELECT members FROM expected_teams WHERE team_id = 1 AND month = '2024-07-01') = 1,
          'the figures above cover the move from team 1 to team 2 on 1 July (team 1 has one member left in July)');
-- a membership that starts mid-month (put in by hand: the views read the cache)
INSERT INTO hn.team_membership_snapshot (membership_id, team_id, team_name, account_id, from_date, to_date)
SELECT 999999, 77, 'Mid-month', account, '2024-06-17', '2024-07-09' FROM four WHERE idx = 39;
SELECT results_eq($$SELECT month, members, required_seconds, logged_seconds FROM hn.time_account_team_monthly
                     WHERE team_id = 77 ORDER BY 1$$,
                  $$SELECT date_trunc('month', d)::date, 1::bigint,
                           sum(CASE WHEN extract(isodow FROM d) < 6 THEN 28800 ELSE 0 END)::bigint,
                           sum((SELECT coalesce(sum(w.secs), 0) FROM sim_worklogs w JOIN four f USING (account)
                                 WHERE f.idx = 39 AND w.day = d))::bigint
                      FROM (SELECT g::date AS d FROM generate_series('2024-06-17'::date, '2024-07-09', '1 day') g) x
                     GROUP BY 1 ORDER BY 1$$,
                  'time_account_team_monthly: a membership from 17 June to 9 July counts those days only');
CREATE TEMP TABLE balances AS SELECT account_id, balance_seconds FROM hn.time_account_balance;
SELECT is((SELECT count(*) FROM balances), 4::bigint, 'four balances');

-- ---------------------------------------------------------------------
-- 2. a lookup never fails the run nor hides the accounts
-- Jira down: the names of the last good read stay, and it says so
\set j5 :sim '/@tag=hn5,fault=500,fault_on=user'
ALTER SERVER hn_srv OPTIONS (SET jira_url :'j5');
SET client_min_messages = error;
CALL tempo_fdw.refresh('hn');
SET client_min_messages = warning;
SELECT matches(pg_temp.refresh_outcome(), '^ok \| names kept from the last good read: HV000: ',
               'Jira down: the run is ok, its log row says the names were kept');
SELECT results_eq($$SELECT account_id, display_name FROM hn.person_name_snapshot ORDER BY 1$$,
                  $$SELECT u.account, u.name FROM sim_jira_users u JOIN looked_up USING (account) ORDER BY 1$$,
                  'Jira down: the names of the last good read stay');
SELECT matches((SELECT names_problem FROM hn.time_account_status), '^HV000: .*500', 'Jira down: names_problem says why');
SELECT is((SELECT teams_problem FROM hn.time_account_status), NULL, 'Jira down: the teams were read');
-- Jira refuses the users (the account may not browse users): no names
\set j3 :sim '/@tag=hn3,fault=403,fault_on=user'
ALTER SERVER hn_srv OPTIONS (SET jira_url :'j3');
CALL tempo_fdw.refresh('hn');
SELECT is(pg_temp.refresh_outcome(), 'ok', 'Jira refuses: the run is ok, with nothing to say in its log row');
SELECT results_eq($$SELECT account_id, display_name FROM hn.time_account_balance ORDER BY 1$$,
                  $$SELECT account, CASE WHEN idx = 12 THEN 'Twelve (HR)' END FROM four ORDER BY 1$$,
                  'Jira refuses: the names are NULL (HR''s stay)');
SELECT matches((SELECT names_problem FROM hn.time_account_status), '^42501: ', 'Jira refuses: names_problem says so');
-- no Jira site on the server: no names either, without a request
ALTER SERVER hn_srv OPTIONS (DROP jira_url);
\! curl -s "$TEMPO_SIM_URL/_reset?tag=hn" >/dev/null
CALL tempo_fdw.refresh('hn');
SELECT results_eq($$SELECT pg_temp.refresh_outcome(), (SELECT names_problem FROM hn.time_account_status),
                           (SELECT count(*) FROM pg_temp.requests('hn') WHERE path ~ '^/rest/')$$,
                  $$VALUES ('ok', 'HV00J: resource "jira_users" needs the server option "jira_url"', 0::bigint)$$,
                  'no jira_url: the run is ok, no names, no Jira request, and the status says why');
ALTER SERVER hn_srv OPTIONS (ADD jira_url :'j');
-- Tempo refuses the memberships (no "View teams"): no teams
\set t3 :sim '/@tag=hn3t,fault=403,fault_on=team-memberships/4'
ALTER SERVER hn_srv OPTIONS (SET jira_url :'j', SET tempo_url :'t3');
CALL tempo_fdw.refresh('hn');
SELECT is(pg_temp.refresh_outcome(), 'ok', 'Tempo refuses the memberships: the run is ok');
SELECT is((SELECT count(*) FROM hn.time_account_team_monthly), 0::bigint, 'Tempo refuses the memberships: no teams');
SELECT results_eq($$SELECT names_problem IS NULL, teams_problem ~ '^42501: ' FROM hn.time_account_status$$,
                  $$VALUES (true, true)$$, 'Tempo refuses the memberships: teams_problem says so; the names are back');
ALTER SERVER hn_srv OPTIONS (SET tempo_url :'t');
-- no foreign table jira_users: no names
DROP FOREIGN TABLE hn.jira_users;
CALL tempo_fdw.refresh('hn');
SELECT results_eq($$SELECT pg_temp.refresh_outcome(), (SELECT names_problem FROM hn.time_account_status),
                           (SELECT count(*) FROM hn.person_name_snapshot)$$,
                  $$VALUES ('ok', '42P01: relation hn.jira_users does not exist', 0::bigint)$$,
                  'no foreign table jira_users: the run is ok, no names, and the status says why');
SELECT results_eq($$SELECT b.account_id, b.balance_seconds FROM hn.time_account_balance b ORDER BY 1$$,
                  $$SELECT account_id, balance_seconds FROM balances ORDER BY 1$$,
                  'the balances never changed');

-- sync reads them too; with people => 'authors' the holders of contracts
-- are counted, and named, as well
CREATE SCHEMA hn_s;
IMPORT FOREIGN SCHEMA tempo LIMIT TO (worklogs, user_schedules, jira_users, tempo_team_memberships)
  FROM SERVER hn_srv INTO hn_s;
-- (everyone of the directory logs time: the holder is the one Jira user
-- who is not a person of it, the Tempo app user)
SELECT account AS holder FROM sim_jira_users WHERE account NOT IN (SELECT account FROM sim_people) \gset
INSERT INTO tempo_fdw.time_account_contracts (schema_name, account_id, valid_from, monday_hours)
VALUES ('hn_s', :'holder', '2024-01-01', 8);
SELECT tempo_fdw.create_time_accounts('hn_s', '2024-06-01', '2024-07-31', mode => 'sync', populate => false,
                                      schedules => 'local', time_zone => 'UTC') AS made_s \gset
CALL tempo_fdw.sync('hn_s');
SELECT results_eq($$SELECT account_id, display_name FROM hn_s.person_name_snapshot ORDER BY 1$$,
                  $$SELECT u.account, u.name FROM sim_jira_users u
                     WHERE u.account IN (SELECT account FROM sim_worklogs WHERE day BETWEEN '2024-06-01' AND '2024-07-31')
                        OR u.account = (SELECT account_id FROM tempo_fdw.time_account_contracts WHERE schema_name = 'hn_s')
                     ORDER BY 1$$,
                  'sync (people => authors): the authors and the holder of a contract are named');
SELECT results_eq($$SELECT DISTINCT account_id, team_id FROM hn_s.team_membership_snapshot ORDER BY 1, 2$$,
                  $$SELECT DISTINCT m.account, m.team_id FROM sim_members m
                     WHERE m.account IN (SELECT account_id FROM hn_s.person_name_snapshot) ORDER BY 1, 2$$,
                  'sync: their memberships are read');
SELECT ok((SELECT balance_seconds FROM hn_s.time_account_balance WHERE account_id = :'holder') < 0
          AND (SELECT display_name FROM hn_s.time_account_balance WHERE account_id = :'holder') IS NOT NULL,
          'the holder of a contract, who logged nothing, has an account and a name');
-- a membership of one team that overlaps another of the same team counts
-- its days once
INSERT INTO hn.team_membership_snapshot (membership_id, team_id, team_name, account_id, from_date, to_date)
SELECT 999998, 78, 'Overlap', account, '2024-06-03'::date, '2024-06-30'::date FROM four WHERE idx = 39
UNION ALL SELECT 999997, 78, 'Overlap', account, '2024-06-24', '2024-07-05' FROM four WHERE idx = 39;
SELECT results_eq($$SELECT month, members, required_seconds FROM hn.time_account_team_monthly WHERE team_id = 78 ORDER BY 1$$,
                  $$SELECT date_trunc('month', d)::date, 1::bigint, sum(CASE WHEN extract(isodow FROM d) < 6 THEN 28800 ELSE 0 END)::bigint
                      FROM (SELECT g::date AS d FROM generate_series('2024-06-03'::date, '2024-07-05', '1 day') g) x
                     GROUP BY 1 ORDER BY 1$$,
                  'two overlapping memberships of one team: each day once');

-- ---------------------------------------------------------------------
-- 3. relations planted by another role are never read
CREATE ROLE hn_mallory;
GRANT CREATE, USAGE ON SCHEMA hn TO hn_mallory;
-- (a server the superuser made, that logs under its own tag: would the
-- planted table be read, its requests would show there)
\set je :sim '/@tag=hn_evil'
CREATE SERVER hn_evil FOREIGN DATA WRAPPER tempo_fdw OPTIONS (tempo_url :'je', jira_url :'je', max_retries '0');
CREATE USER MAPPING FOR PUBLIC SERVER hn_evil OPTIONS (token 't', jira_email 'e@example.com', jira_token 't');
GRANT USAGE ON FOREIGN SERVER hn_evil TO hn_mallory;
SET ROLE hn_mallory;
IMPORT FOREIGN SCHEMA tempo LIMIT TO (jira_users) FROM SERVER hn_evil INTO hn;
CREATE SEQUENCE hn.trace;
GRANT USAGE ON SEQUENCE hn.trace TO PUBLIC;
CREATE FUNCTION hn.trace() RETURNS bigint LANGUAGE sql AS 'SELECT nextval(''hn.trace'')';
RESET ROLE;
ALTER FOREIGN TABLE hn.tempo_team_memberships RENAME TO tempo_team_memberships_real;
SET ROLE hn_mallory;
-- (OFFSET 0 and an account_id made from its value: the function runs
-- whatever the reader's WHERE)
CREATE VIEW hn.tempo_team_memberships AS
  SELECT x.t AS membership_id, 1::bigint AS team_id, 'x'::text AS team_name, 'x' || x.t AS account_id,
         'x'::text AS role_name, 100 AS commitment_percent, NULL::date AS from_date, NULL::date AS to_date
    FROM (SELECT hn.trace() AS t OFFSET 0) x;
RESET ROLE;
\! curl -s "$TEMPO_SIM_URL/_reset?tag=hn_evil" >/dev/null
SET client_min_messages = error;   -- (its WARNING: sql/lookups_warnings.sql)
CALL tempo_fdw.refresh('hn');
SET client_min_messages = warning;
SELECT results_eq($$SELECT pg_temp.refresh_outcome(), (SELECT names_problem FROM hn.time_account_status),
                           (SELECT teams_problem FROM hn.time_account_status)$$,
                  $$VALUES ('ok | names kept from the last good read: 42501: hn.jira_users is owned by hn_mallory, not by postgres, the owner of the time accounts; '
                            'teams kept from the last good read: 42809: hn.tempo_team_memberships is not a foreign table of tempo_fdw with resource ''tempo_team_memberships''',
                            '42501: hn.jira_users is owned by hn_mallory, not by postgres, the owner of the time accounts',
                            '42809: hn.tempo_team_memberships is not a foreign table of tempo_fdw with resource ''tempo_team_memberships''')$$,
                  'planted relations: refused, the run is ok, its log row (and a WARNING) and the status say why');
SELECT is((SELECT count(*) FROM pg_temp.requests('hn_evil')), 0::bigint, 'the planted foreign table''s server got no request');
SELECT is((SELECT (last_value, is_called)::text FROM hn.trace), '(1,f)',
          'the planted view''s function never ran (its sequence was never called)');

SELECT * FROM finish();
DROP SCHEMA hn, hn_s CASCADE;
DROP SERVER hn_evil CASCADE;
DROP OWNED BY hn_mallory CASCADE;
DROP ROLE hn_mallory;
DROP EXTENSION tempo_fdw CASCADE;
