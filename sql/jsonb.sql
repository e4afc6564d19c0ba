-- raw and attributes are written straight into jsonb's binary format
-- (src/jsonb.c).  Each value must be exactly what jsonb_in makes of the
-- same text: equal, the same size, and every member found again by lookup
-- (binary search over the sorted keys, offsets of array elements).
\ir sql/include/setup.sql
\set turl :sim '/@tag=jsonb,ds=raw:raw_jsonb_shapes/4'
CREATE SERVER jsonb_srv FOREIGN DATA WRAPPER tempo_fdw
  OPTIONS (tempo_url :'turl', max_requests_per_second '0', max_retries '0');
CREATE USER MAPPING FOR PUBLIC SERVER jsonb_srv OPTIONS (token 'tempo-test-token');
CREATE SCHEMA jb;
IMPORT FOREIGN SCHEMA tempo LIMIT TO (worklogs) FROM SERVER jsonb_srv INTO jb;
CREATE TABLE jb.got AS SELECT worklog_id, raw, attributes FROM jb.worklogs;

-- the same value and the same bytes as through jsonb_in (sizes from the
-- foreign table: a stored value may be compressed)
SELECT worklog_id,
       raw = raw::text::jsonb AS raw_equal,
       pg_column_size(raw) = pg_column_size(raw::text::jsonb) AS raw_same_size,
       attributes IS NOT DISTINCT FROM attributes::text::jsonb AS attr_equal,
       pg_column_size(attributes) IS NOT DISTINCT FROM pg_column_size(attributes::text::jsonb) AS attr_same_size
  FROM jb.worklogs ORDER BY 1;

-- byte for byte (stored uncompressed and read back with pageinspect;
-- worklog 5 is too big to store in a page)
CREATE EXTENSION pageinspect;
CREATE TABLE jb.bytes (id bigint, made jsonb, parsed jsonb);
ALTER TABLE jb.bytes ALTER made SET STORAGE PLAIN, ALTER parsed SET STORAGE PLAIN;
INSERT INTO jb.bytes SELECT worklog_id, raw, raw::text::jsonb FROM jb.worklogs WHERE worklog_id < 5;
INSERT INTO jb.bytes SELECT -worklog_id, attributes, attributes::text::jsonb FROM jb.worklogs WHERE worklog_id = 1;
SELECT b.id, length(d[2]) AS bytes, d[2] = d[3] AS same_bytes
  FROM generate_series(0, pg_relation_size('jb.bytes') / 8192 - 1) AS blk,
       heap_page_items(get_raw_page('jb.bytes', blk::int)) AS i
       JOIN jb.bytes b ON b.ctid = i.t_ctid,
       tuple_data_split('jb.bytes'::regclass, i.t_data, i.t_infomask, i.t_infomask2, i.t_bits) AS d
 ORDER BY b.id;

-- every node, reached by iterating, is found again by its path
WITH RECURSIVE walk(id, root, path, v) AS (
  SELECT worklog_id, raw, ARRAY[]::text[], raw FROM jb.got
  UNION ALL
  SELECT w.id, w.root, w.path || c.k, c.v
    FROM walk w CROSS JOIN LATERAL (
      SELECT key AS k, value AS v
        FROM jsonb_each(CASE WHEN jsonb_typeof(w.v) = 'object' THEN w.v END)
      UNION ALL
      SELECT (n - 1)::text, value
        FROM jsonb_array_elements(CASE WHEN jsonb_typeof(w.v) = 'array' THEN w.v END)
             WITH ORDINALITY AS a(value, n)) c
)
SELECT id, count(*) AS nodes,
       count(*) FILTER (WHERE root #> path IS DISTINCT FROM v) AS not_found
  FROM walk GROUP BY id ORDER BY id;

-- a key given twice keeps its last value, as jsonb_in does; keys sort by
-- length, then bytes
SELECT raw -> 'dup' AS dup, raw -> 'nested' AS nested, attributes
  FROM jb.got WHERE worklog_id = 1;
SELECT string_agg(format('%s=%s', key, value), ' ' ORDER BY ord) AS key_order
  FROM jb.got, jsonb_each(raw - ARRAY['self','issue','author','createdAt','updatedAt',
                                       'startDate','tempoWorklogId','timeSpentSeconds'])
       WITH ORDINALITY AS e(key, value, ord)
 WHERE worklog_id = 2;
SELECT jsonb_object_keys(raw) AS wide_keys FROM jb.got WHERE worklog_id = 3 LIMIT 5;
SELECT raw -> 'key00' AS k00, raw -> 'key31' AS k31, raw -> 'key32' AS k32,
       raw -> 'key69' AS k69, raw ->> 'key05' AS k05
  FROM jb.got WHERE worklog_id = 3;
SELECT raw -> 'arr' -> 0 AS a0, raw -> 'arr' -> 31 AS a31, raw -> 'arr' -> 32 AS a32,
       raw -> 'arr' -> 33 AS a33, raw -> 'arr' -> 99 AS a99, jsonb_array_length(raw -> 'arr') AS len,
       raw -> 'empty' AS empty, raw -> 'none' AS none
  FROM jb.got WHERE worklog_id = 4;
SELECT raw -> 'ints' AS ints FROM jb.got WHERE worklog_id = 4;
SELECT raw -> 'arr' -> 2 AS minus_zero, raw -> 'arr' -> 4 AS big, raw -> 'arr' -> 5 AS tiny,
       raw -> 'arr' -> 6 AS two_53, raw -> 'arr' -> 3 AS fraction
  FROM jb.got WHERE worklog_id = 4;
SELECT raw ->> 'esc' = E'\u00e9 \U0001F600 "q" back\\slash\nline\ttab' AS escapes,
       raw -> repeat('a', 70000) AS a70000, raw -> repeat('a', 70001) AS a70001,
       raw -> repeat('b', 70000) AS b70000, raw -> 'c' AS c,
       (SELECT array_agg(length(k)) FROM jsonb_object_keys(raw) AS k WHERE length(k) > 60000) AS long_keys
  FROM jb.got WHERE worklog_id = 5;

-- a number beyond the range of double (cJSON makes it infinite) is an
-- ERROR naming the column and the worklog, not a jsonb holding Infinity
\set turl :sim '/@tag=jsonb,ds=raw:raw_huge_number/4'
ALTER SERVER jsonb_srv OPTIONS (SET tempo_url :'turl');
SELECT worklog_id, time_spent_seconds FROM jb.worklogs;
SELECT raw FROM jb.worklogs;  -- ERROR
SELECT attributes FROM jb.worklogs;  -- ERROR

DROP SCHEMA jb CASCADE;
DROP EXTENSION pageinspect;
DROP SERVER jsonb_srv CASCADE;
