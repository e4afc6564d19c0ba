/* tempo_fdw--1.0.sql */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION tempo_fdw" to load this file. \quit

CREATE FUNCTION tempo_fdw_handler()
RETURNS fdw_handler
AS 'MODULE_PATHNAME'
LANGUAGE C STRICT;

CREATE FUNCTION tempo_fdw_validator(text[], oid)
RETURNS void
AS 'MODULE_PATHNAME'
LANGUAGE C STRICT;

CREATE FOREIGN DATA WRAPPER tempo_fdw
  HANDLER tempo_fdw_handler
  VALIDATOR tempo_fdw_validator;

-- the schema holds functions and views every role may call or be granted
GRANT USAGE ON SCHEMA @extschema@ TO PUBLIC;

COMMENT ON FOREIGN DATA WRAPPER tempo_fdw IS
  'Tempo Cloud (REST v4) and Jira Cloud worklogs as foreign tables';

CREATE FUNCTION check_connection(server name)
RETURNS TABLE (source text, ok boolean, http_status integer, problem text, hint text)
AS 'MODULE_PATHNAME', 'tempo_fdw_check_connection'
LANGUAGE C STRICT VOLATILE;

COMMENT ON FUNCTION check_connection(name) IS
  'Reaches Tempo (worklogs, schedules) and Jira with the current role''s credentials and reports, per source, OK or the problem with a hint';
