-- Shared start of the pgTAP files that are not one transaction (their
-- procedures commit; test/pgtap/include is not a test itself): the
-- simulator's URL in :sim and its state reset, quiet, stop at the first
-- error, UTC, and no extension left by an earlier file.  Each file then drops
-- its own schemas and makes the extension.
\getenv sim TEMPO_SIM_URL
\set QUIET on
\set ON_ERROR_STOP on
SET timezone = 'UTC';
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS tempo_fdw CASCADE;
\! curl -s "$TEMPO_SIM_URL/_reset" >/dev/null
