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

COMMENT ON FOREIGN DATA WRAPPER tempo_fdw IS
  'Tempo Cloud (REST v4) and Jira Cloud worklogs as foreign tables';
