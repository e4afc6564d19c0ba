-- Shared start of the pg_regress tests (sql/include is not a test itself):
-- the simulator's URL in :sim, its request log and state reset.
\getenv sim TEMPO_SIM_URL
\! curl -s "$TEMPO_SIM_URL/_reset" >/dev/null
