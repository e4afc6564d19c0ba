-- src/sql/1.1/contracts.sql: contracts per schema, and no two contracts of a
-- person covering the same day.
-- Part of tempo_fdw--1.0--1.1.sql, which make builds (see the Makefile).

-- ======================================================================
-- 1.1: operations of the time accounts (issue #14, item 6).
--
-- - contracts belong to one time-account schema (schema_name); a contract
--   without one (1.0's, or a new one with NULL) applies in every schema
--   whose accounts can see it, and a contract of the schema itself takes
--   precedence over it on the days both cover;
-- - no two contracts of one person in one schema (or two without a
--   schema) cover the same day, under every isolation level: the trigger
--   first writes the row of (schema, person) in
--   time_account_contract_locks, which makes a concurrent writer of the
--   same key wait, and under REPEATABLE READ or SERIALIZABLE fail with
--   40001 when the other committed after its snapshot; only then does it
--   look for an overlap, which therefore sees every committed contract of
--   that key (23P01);
-- - valid_to before valid_from is the CHECK's error (23514), not a range
--   error from the trigger.
-- (prune_refresh_log, of the same issue, is in run.sql.)
-- ======================================================================

ALTER TABLE time_account_contracts ADD COLUMN schema_name name;
COMMENT ON COLUMN time_account_contracts.schema_name IS
  'The schema of the time accounts it belongs to; NULL: every schema (a contract of the schema itself takes precedence)';
ALTER TABLE time_account_contracts RENAME CONSTRAINT time_account_contracts_check TO contract_ends_before_it_starts;
CREATE INDEX time_account_contracts_person ON time_account_contracts (account_id, valid_from);

-- One row per (schema, person) that ever had a contract: what the
-- overlap check locks ('' stands for the contracts of no schema).
CREATE TABLE time_account_contract_locks (
  schema_key text NOT NULL,
  account_id text NOT NULL,
  changes    bigint NOT NULL DEFAULT 1,
  PRIMARY KEY (schema_key, account_id)
);
COMMENT ON TABLE time_account_contract_locks IS
  'Written by every change of a contract, per schema and person, so that two transactions cannot both add overlapping contracts';

-- Writes the row of (schema, person) of time_account_contract_locks: waits
-- for a concurrent writer of this key; 40001 under REPEATABLE READ or
-- SERIALIZABLE when one committed after this transaction's snapshot.
-- (As the table's owner: the roles that change contracts may not write it.)
CREATE FUNCTION time_account_contract_lock(schema name, account text)
RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
  INSERT INTO @extschema@.time_account_contract_locks AS l (schema_key, account_id)
  VALUES (coalesce(schema::text, ''), account)
  ON CONFLICT (schema_key, account_id) DO UPDATE SET changes = l.changes OPERATOR(pg_catalog.+) 1
$$;
REVOKE ALL ON FUNCTION time_account_contract_lock(name, text) FROM PUBLIC;
COMMENT ON FUNCTION time_account_contract_lock(name, text) IS
  'Locks the contracts of a person in a schema for the overlap check (the trigger time_account_contracts_no_overlap)';

-- No two contracts of one person in one schema may cover the same day.
-- It runs as the role changing the contract: row-level security shows it
-- the contracts of schemas it keeps only, and refuses the row afterwards
-- when it is not one of them.
CREATE OR REPLACE FUNCTION time_account_contracts_check() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
  IF NEW.valid_to < NEW.valid_from THEN
    RETURN NEW;   -- the CHECK constraint refuses it, with its own message
  END IF;
  PERFORM @extschema@.time_account_contract_lock(NEW.schema_name, NEW.account_id);
  IF EXISTS (SELECT 1 FROM @extschema@.time_account_contracts c
              WHERE c.account_id = NEW.account_id AND c.schema_name IS NOT DISTINCT FROM NEW.schema_name
                AND c.contract_id <> NEW.contract_id
                AND daterange(c.valid_from, c.valid_to, '[]') && daterange(NEW.valid_from, NEW.valid_to, '[]')) THEN
    RAISE EXCEPTION 'contract of "%" from % overlaps another contract of that person%', NEW.account_id, NEW.valid_from,
                    CASE WHEN NEW.schema_name IS NULL THEN '' ELSE format(' in "%s"', NEW.schema_name) END
      USING ERRCODE = 'exclusion_violation',
            HINT = 'End the earlier contract (valid_to) the day before the next one starts.';
  END IF;
  RETURN NEW;
END $fn$;
