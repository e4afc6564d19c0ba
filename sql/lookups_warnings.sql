-- The names and teams a run reads (src/sql/1.1/lookups.sql): which
-- problems a refresh says with a WARNING (Jira down, credentials rejected,
-- a relation planted by another role) and which it only records in
-- time_account_status (a token without the permission, no foreign table),
-- as the client sees them.  test/pgtap/hr_names.sql checks the figures.
\getenv sim TEMPO_SIM_URL
\! curl -s "$TEMPO_SIM_URL/_reset?tag=lkw" >/dev/null
SET client_min_messages = warning;
SET timezone = 'UTC';
\set t :sim '/@tag=lkw/4'
\set j :sim '/@tag=lkw'
CREATE SERVER lkw_srv FOREIGN DATA WRAPPER tempo_fdw
  OPTIONS (tempo_url :'t', jira_url :'j', max_requests_per_second '0', max_retries '0');
CREATE USER MAPPING FOR PUBLIC SERVER lkw_srv
  OPTIONS (token 'tempo-test-token', jira_email 'bot@example.com', jira_token 'jira-test-token');
CREATE SCHEMA lkw;
IMPORT FOREIGN SCHEMA tempo LIMIT TO (worklogs, user_schedules, jira_users, tempo_team_memberships)
  FROM SERVER lkw_srv INTO lkw;
-- one person, and the worklogs of one issue of theirs: few account ids
SELECT author_account_id AS p, issue_id AS i FROM lkw.worklogs
 WHERE start_date BETWEEN '2024-12-02' AND '2024-12-03' ORDER BY author_account_id, issue_id LIMIT 1 \gset
INSERT INTO tempo_fdw.time_account_people (schema_name, account_id, first_day) VALUES ('lkw', :'p', '2024-12-02');
SELECT tempo_fdw.create_time_accounts('lkw', '2024-12-02', '2024-12-03', issue_ids => ARRAY[:i]::bigint[],
                                      schedules => 'local', people => 'listed') IS NOT NULL AS made;
SELECT count(*) > 0 AS named, count(*) = count(display_name) AS all_named FROM lkw.person_name_snapshot;
CREATE TEMP TABLE named AS SELECT * FROM lkw.person_name_snapshot;
-- Jira down: a WARNING, the names kept
\set j5 :sim '/@tag=lkw,fault=500,fault_on=user'
ALTER SERVER lkw_srv OPTIONS (SET jira_url :'j5');
\set VERBOSITY default
CALL tempo_fdw.refresh('lkw');
SELECT (SELECT count(*) FROM (TABLE named EXCEPT TABLE lkw.person_name_snapshot) x) AS names_lost;
-- Jira rejects the credentials (401): a WARNING, the names kept
\set j1 :sim '/@tag=lkw,fault=401,fault_on=user'
ALTER SERVER lkw_srv OPTIONS (SET jira_url :'j1');
CALL tempo_fdw.refresh('lkw');
SELECT (SELECT count(*) FROM (TABLE named EXCEPT TABLE lkw.person_name_snapshot) x) AS names_lost;
-- the account may not browse users (403): no WARNING, no names
\set j3 :sim '/@tag=lkw,fault=403,fault_on=user'
ALTER SERVER lkw_srv OPTIONS (SET jira_url :'j3');
CALL tempo_fdw.refresh('lkw');
SELECT count(*) AS names FROM lkw.person_name_snapshot;
SELECT left(names_problem, 60) AS names_problem, teams_problem FROM lkw.time_account_status;
-- no foreign table tempo_team_memberships: no WARNING either
ALTER SERVER lkw_srv OPTIONS (SET jira_url :'j');
DROP FOREIGN TABLE lkw.tempo_team_memberships;
CALL tempo_fdw.refresh('lkw');
SELECT names_problem, teams_problem FROM lkw.time_account_status;
SELECT outcome, error FROM tempo_fdw.refresh_log WHERE schema_name = 'lkw' ORDER BY run_id;
-- a tempo_team_memberships that is not tempo_fdw's: never read, a WARNING
CREATE TABLE lkw.tempo_team_memberships (membership_id bigint, team_id bigint, team_name text, account_id text,
                                         role_name text, commitment_percent integer, from_date date, to_date date);
CALL tempo_fdw.refresh('lkw');
SELECT count(*) AS drop_objects FROM tempo_fdw.drop_time_accounts('lkw');
DROP SCHEMA lkw CASCADE;
DROP SERVER lkw_srv CASCADE;
