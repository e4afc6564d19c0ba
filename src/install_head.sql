-- The head of the install script the Makefile builds (see the Makefile,
-- tempo_fdw--$(EXTVERSION).sql): the extension makes its schema itself, so
-- that the schema is a member and DROP EXTENSION removes it.  A schema of
-- that name that is already there is not adopted: it may be another role's.

\echo Use "CREATE EXTENSION tempo_fdw" to load this file. \quit

DO $$
BEGIN
  IF pg_catalog.to_regnamespace('tempo_fdw') IS NOT NULL THEN
    RAISE EXCEPTION 'schema "tempo_fdw" already exists'
      USING ERRCODE = 'duplicate_schema',
            DETAIL = 'CREATE EXTENSION tempo_fdw makes the schema tempo_fdw itself and does not adopt one it did not make.',
            HINT = 'An installation updated from tempo_fdw 1.0 leaves its empty schema behind after DROP EXTENSION: drop it (DROP SCHEMA tempo_fdw), or rename a schema of yours.';
  END IF;
END
$$;

CREATE SCHEMA tempo_fdw;
SET LOCAL search_path = tempo_fdw, pg_temp;
