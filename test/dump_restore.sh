#!/usr/bin/env bash
# test/dump_restore.sh: pg_dump of a database with contracts, people,
# absences and holiday calendars restores with them intact (they are
# extension configuration).  Needs PGHOST, PGPORT and PGUSER of a running
# cluster with tempo_fdw installed; prints "ok - ..." or "not ok - ..." and
# exits 0 or 1.
set -euo pipefail
work=$(mktemp -d)
trap 'rm -rf "$work"; dropdb --if-exists tempo_dump_src >/dev/null 2>&1; dropdb --if-exists tempo_dump_dst >/dev/null 2>&1' EXIT

createdb tempo_dump_src
psql -qX -v ON_ERROR_STOP=1 -d tempo_dump_src <<'SQL' >/dev/null
CREATE EXTENSION tempo_fdw;
INSERT INTO tempo_fdw.time_account_contracts (account_id, valid_from, valid_to, monday_hours, tuesday_hours, wednesday_hours, thursday_hours, friday_hours, note)
VALUES ('712020:a', '2024-01-01', '2024-06-30', 8, 8, 8, 8, 8, 'full time'),
       ('712020:a', '2024-07-01', NULL, 7.5, 7.5, 7.5, 7.5, 0, 'four days'),
       ('712020:b', '2024-03-15', NULL, 4, 4, 4, 4, 4, 'half time, "quoted" note');
-- the people, absences and calendars HR keeps (their foreign keys decide
-- the order in which the restore must load them)
SELECT tempo_fdw.fill_holiday_calendar('DE', 'DE', 2024, 2024);
INSERT INTO tempo_fdw.holidays (calendar, date, name, fraction) VALUES ('DE', '2024-12-24', 'Heiligabend', 0.5);
INSERT INTO tempo_fdw.time_account_people (schema_name, account_id, display_name, first_day, opening_balance_hours, calendar)
VALUES ('tempo', '712020:a', 'Anna', '2024-01-01', 5, 'DE');
INSERT INTO tempo_fdw.time_account_absence_kinds (kind, description) VALUES ('wedding', 'Special leave');
INSERT INTO tempo_fdw.time_account_absences (schema_name, account_id, first_day, last_day, kind, portion, hours)
VALUES ('tempo', '712020:a', '2024-05-06', '2024-05-08', 'vacation', 'full', NULL),
       ('tempo', '712020:a', '2024-06-03', NULL, 'wedding', 'hours', 2.5);
INSERT INTO tempo_fdw.time_account_adjustments (schema_name, account_id, date, hours, kind, reason)
VALUES ('tempo', '712020:a', '2024-04-30', -10, 'payout', 'overtime paid out');
SQL
query="SELECT string_agg(format('%s|%s|%s|%s|%s|%s|%s', contract_id, account_id, valid_from, valid_to, monday_hours, friday_hours, note), E'\n' ORDER BY contract_id) FROM tempo_fdw.time_account_contracts
  UNION ALL SELECT string_agg(format('%s|%s|%s|%s', calendar, date, name, fraction), E'\n' ORDER BY calendar, date) FROM tempo_fdw.holidays
  UNION ALL SELECT string_agg(format('%s|%s|%s|%s|%s', schema_name, account_id, first_day, opening_balance_hours, calendar), E'\n') FROM tempo_fdw.time_account_people
  UNION ALL SELECT string_agg(format('%s|%s', kind, builtin), E'\n' ORDER BY kind) FROM tempo_fdw.time_account_absence_kinds
  UNION ALL SELECT string_agg(format('%s|%s|%s|%s|%s|%s', absence_id, account_id, first_day, last_day, kind, hours), E'\n' ORDER BY absence_id) FROM tempo_fdw.time_account_absences
  UNION ALL SELECT string_agg(format('%s|%s|%s|%s|%s', adjustment_id, account_id, date, hours, reason), E'\n') FROM tempo_fdw.time_account_adjustments"
before=$(psql -qXAt -d tempo_dump_src -c "$query")
pg_dump -d tempo_dump_src -f "$work/dump.sql"
createdb tempo_dump_dst
psql -qX -v ON_ERROR_STOP=1 -d tempo_dump_dst -f "$work/dump.sql" >/dev/null
after=$(psql -qXAt -d tempo_dump_dst -c "$query")
# the sequence came along too: a new contract gets a fresh id
next=$(psql -qXAt -d tempo_dump_dst -c "INSERT INTO tempo_fdw.time_account_contracts (account_id, valid_from) VALUES ('712020:c', '2024-01-01') RETURNING contract_id")
if [ -n "$before" ] && [ "$before" = "$after" ] && [ "$next" = "4" ]; then
	echo "ok - pg_dump and restore keep the contracts, people, absences, kinds, adjustments and calendars ($(echo "$after" | wc -l) rows) and the sequence"
else
	echo "not ok - contracts after restore differ: before=[$before] after=[$after] next id=[$next]"
	exit 1
fi
