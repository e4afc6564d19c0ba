-- Shared start of the pgTAP files that are one transaction (rolled back at
-- the end): the simulator's URL in :sim, quiet, and the extension.
\getenv sim TEMPO_SIM_URL
\set QUIET on
BEGIN;
CREATE EXTENSION IF NOT EXISTS tempo_fdw;
