-- IMPORT FOREIGN SCHEMA tempo: the documented tables, LIMIT TO / EXCEPT,
-- clear errors, and DDL that never carries a secret.
CREATE SERVER imp_srv FOREIGN DATA WRAPPER tempo_fdw
  OPTIONS (tempo_url 'https://api.tempo.io/4', jira_url 'https://acme.atlassian.net');
CREATE USER MAPPING FOR PUBLIC SERVER imp_srv
  OPTIONS (token 'imp-secret-token', jira_email 'bot@example.com', jira_token 'imp-jira-secret');
CREATE SCHEMA imp_all;
CREATE SCHEMA imp_limit;
CREATE SCHEMA imp_except;

IMPORT FOREIGN SCHEMA tempo FROM SERVER imp_srv INTO imp_all;
IMPORT FOREIGN SCHEMA tempo LIMIT TO (worklogs, user_schedules, no_such_table) FROM SERVER imp_srv INTO imp_limit;
IMPORT FOREIGN SCHEMA tempo EXCEPT (worklogs) FROM SERVER imp_srv INTO imp_except;
SELECT foreign_table_schema, foreign_table_name FROM information_schema.foreign_tables
  WHERE foreign_server_name = 'imp_srv' ORDER BY 1, 2;
SELECT c.relname, ft.ftoptions FROM pg_foreign_table ft JOIN pg_class c ON c.oid = ft.ftrelid
  WHERE c.relnamespace = 'imp_all'::regnamespace ORDER BY 1;
\d imp_all.jira_worklogs
\d imp_all.user_schedules
-- nothing generated holds the tokens
SELECT count(*) AS tables_holding_a_secret FROM pg_foreign_table
  WHERE array_to_string(ftoptions, ',') ~ 'secret';

-- errors
IMPORT FOREIGN SCHEMA jira FROM SERVER imp_srv INTO imp_all;  -- ERROR
IMPORT FOREIGN SCHEMA tempo FROM SERVER imp_srv INTO imp_all OPTIONS (import_default 'true');  -- ERROR
IMPORT FOREIGN SCHEMA tempo FROM SERVER imp_srv INTO imp_all;  -- ERROR: exists already
IMPORT FOREIGN SCHEMA tempo FROM SERVER imp_srv INTO no_such_schema;  -- ERROR

DROP SCHEMA imp_all, imp_limit, imp_except CASCADE;
DROP SERVER imp_srv CASCADE;
