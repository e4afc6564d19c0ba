-- Bad data in a worklog never crashes or corrupts: text PostgreSQL cannot
-- hold is cleaned, everything else that is not what Tempo documents is an
-- ERROR naming the column and the worklog.
\ir sql/include/setup.sql
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';
\set turl :sim '/@tag=bad,ds=fixture:badcases/4'
CREATE SERVER bad_srv FOREIGN DATA WRAPPER tempo_fdw
  OPTIONS (tempo_url :'turl', max_requests_per_second '0', max_retries '0');
CREATE USER MAPPING FOR PUBLIC SERVER bad_srv OPTIONS (token 'tempo-test-token');
CREATE SCHEMA bad;
IMPORT FOREIGN SCHEMA tempo LIMIT TO (worklogs) FROM SERVER bad_srv INTO bad;

-- \u0000 and lone surrogates become U+FFFD, pairs become the character,
-- 100 KB descriptions arrive whole, ids above 2^31 and up to 2^53 - 1 are exact,
-- timestamps with and without milliseconds or with an offset, missing fields are NULL
SELECT worklog_id, length(description) AS len,
       CASE WHEN length(description) > 60 THEN md5(description) ELSE description END AS description,
       start_date, start_time, billable_seconds, created_at, updated_at, attributes, author_account_id
  FROM bad.worklogs ORDER BY worklog_id;
SELECT description = E'nul\uFFFDinside' AS nul_replaced FROM bad.worklogs WHERE worklog_id = 1;
SELECT description = E'pair \U0001F600 ok' AS pair_kept FROM bad.worklogs WHERE worklog_id = 2;
SELECT description = E'lone \uFFFD high and \uFFFD low' AS lone_replaced FROM bad.worklogs WHERE worklog_id = 3;
SELECT description = repeat('x', 100000) AS big_whole FROM bad.worklogs WHERE worklog_id = 4;
SELECT raw -> 'description' AS raw_description FROM bad.worklogs WHERE worklog_id = 1;

-- bad.use(ds): bad_srv reads data set ds of the simulator
SELECT set_config('bad.sim', :'sim', false) IS NOT NULL AS sim_set;
CREATE PROCEDURE bad.use(ds text) LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('ALTER SERVER bad_srv OPTIONS (SET tempo_url %L)',
                 current_setting('bad.sim') || '/@tag=bad,ds=' || ds || '/4');
END $$;

-- each of these fixtures holds one good and one bad worklog
\set VERBOSITY default
CALL bad.use('fixture:bad_desc_number');
SELECT worklog_id, description FROM bad.worklogs;  -- ERROR
-- a column the query does not use is not converted at all
SELECT worklog_id FROM bad.worklogs ORDER BY 1;
CALL bad.use('fixture:bad_attributes');
SELECT count(*) FROM bad.worklogs;
SELECT worklog_id, attributes FROM bad.worklogs;  -- ERROR
CALL bad.use('fixture:bad_id_string');
SELECT worklog_id FROM bad.worklogs;  -- ERROR
CALL bad.use('fixture:bad_id_2_64');
SELECT worklog_id FROM bad.worklogs;  -- ERROR
CALL bad.use('fixture:bad_huge_number');
SELECT time_spent_seconds FROM bad.worklogs;  -- ERROR
CALL bad.use('fixture:bad_fraction');
SELECT time_spent_seconds FROM bad.worklogs;  -- ERROR
CALL bad.use('fixture:bad_missing_date');
SELECT start_date FROM bad.worklogs;  -- ERROR
CALL bad.use('fixture:bad_date');
SELECT start_date FROM bad.worklogs;  -- ERROR
CALL bad.use('fixture:bad_time');
SELECT start_time FROM bad.worklogs;  -- ERROR
CALL bad.use('fixture:bad_timestamp');
SELECT created_at FROM bad.worklogs;  -- ERROR
-- invalid UTF-8 in a string
CALL bad.use('raw:raw_bad_utf8');
SELECT description FROM bad.worklogs;  -- ERROR
-- results that are not objects
CALL bad.use('raw:raw_not_objects');
SELECT count(*) FROM bad.worklogs;  -- ERROR

DROP PROCEDURE bad.use(text);
DROP SCHEMA bad CASCADE;
DROP SERVER bad_srv CASCADE;
