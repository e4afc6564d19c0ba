-- src/sql/1.1/begin.sql: the start of the 1.0 -> 1.1 update script: not run
-- by psql.

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION tempo_fdw UPDATE TO '1.1'" to load this file. \quit
