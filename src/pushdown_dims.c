/*-------------------------------------------------------------------------
 *
 * pushdown_dims.c
 *		  The Tempo dimension tables: which of their conditions become API
 *		  filters, and the requests that result.
 *
 * pushdown.c's walker finds  column OP value  conditions; this file says
 * which columns of the dimension tables the API can filter on and turns
 * the combined values (pushdown.c intersects id lists and narrows date
 * ranges) into request streams:
 *	- tempo_teams: team_id = / IN -> GET /teams?teamIds=...  (exact);
 *	- tempo_team_memberships: team_id and account_id = / IN -> POST
 *	  /team-memberships/search {"teamIds":[...],"accountIds":[...]} (exact);
 *	- tempo_accounts: account_id and key = / IN -> POST /accounts/search
 *	  {"ids":[...],"keys":[...]}, always with the three statuses, since
 *	  GET /accounts leaves the archived accounts out (exact);
 *	- tempo_work_attributes: nothing (GET /work-attributes filters nothing);
 *	- tempo_timesheet_approvals: GET /timesheet-approvals/team/{teamId}
 *	  ?from=&to=, one stream per team; the API needs a team and a period,
 *	  so the scan needs team_id (=, IN or a join) and both bounds of
 *	  period_from, else an ERROR with a hint, as user_schedules;
 *	- tempo_periods: GET /periods?from=&to=, which needs both bounds of
 *	  period_from too.
 * Tempo answers the approvals and periods that overlap from..to: a bound
 * of period_from keeps every row it should (a period starting on or after
 * from overlaps it), and the local filter drops the others, so these date
 * filters are not exact.
 *
 * Copyright (c) 2026, tempo_fdw developers
 *
 * IDENTIFICATION
 *		  src/pushdown_dims.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type_d.h"
#include "lib/stringinfo.h"
#include "utils/json.h"

#include "tempo_fdw.h"

/* Team ids per GET /teams request: keeps URLs well below common limits */
#define IDS_PER_REQUEST 100

/*
 * tempo_dims_filter_kind
 *		The kind of filter a comparison on a column of a Tempo dimension
 *		table makes, or -1.  eq: the comparison is = (or = ANY); date_kind:
 *		what a comparison on a date column would be.
 */
int
tempo_dims_filter_kind(TempoResource resource, const char *column, Oid coltype,
					   bool eq, int date_kind, bool *exact)
{
	bool		id = eq && coltype == INT8OID;
	bool		key = eq && coltype == TEXTOID;

	*exact = true;
	switch (resource)
	{
		case TEMPO_RES_TEMPO_TEAMS:
			return id && strcmp(column, "team_id") == 0 ? TEMPO_FILTER_ISSUE : -1;
		case TEMPO_RES_TEMPO_TEAM_MEMBERSHIPS:
			if (id && strcmp(column, "team_id") == 0)
				return TEMPO_FILTER_ISSUE;
			return key && strcmp(column, "account_id") == 0 ? TEMPO_FILTER_AUTHOR : -1;
		case TEMPO_RES_TEMPO_ACCOUNTS:
			if (id && strcmp(column, "account_id") == 0)
				return TEMPO_FILTER_ISSUE;
			return key && strcmp(column, "key") == 0 ? TEMPO_FILTER_AUTHOR : -1;
		case TEMPO_RES_TEMPO_TIMESHEET_APPROVALS:
			if (id && strcmp(column, "team_id") == 0)
				return TEMPO_FILTER_ISSUE;
			/* FALLTHROUGH */
		case TEMPO_RES_TEMPO_PERIODS:
			*exact = false;		/* Tempo answers what overlaps from..to */
			return coltype == DATEOID && strcmp(column, "period_from") == 0 ? date_kind : -1;
		default:
			return -1;
	}
}

/*
 * tempo_dims_target
 *		The target of a Tempo dimension table's scans; false for the other
 *		resources.
 */
bool
tempo_dims_target(TempoResource resource, TempoTarget *target)
{
	switch (resource)
	{
		case TEMPO_RES_TEMPO_TEAMS:
			*target = TEMPO_TARGET_TEAMS;
			return true;
		case TEMPO_RES_TEMPO_TEAM_MEMBERSHIPS:
			*target = TEMPO_TARGET_TEAM_MEMBERSHIPS;
			return true;
		case TEMPO_RES_TEMPO_ACCOUNTS:
			*target = TEMPO_TARGET_ACCOUNTS;
			return true;
		case TEMPO_RES_TEMPO_WORK_ATTRIBUTES:
			*target = TEMPO_TARGET_WORK_ATTRIBUTES;
			return true;
		case TEMPO_RES_TEMPO_TIMESHEET_APPROVALS:
			*target = TEMPO_TARGET_APPROVALS;
			return true;
		case TEMPO_RES_TEMPO_PERIODS:
			*target = TEMPO_TARGET_PERIODS;
			return true;
		default:
			return false;
	}
}

/* Does a scan of the resource need pushed conditions (checked when planning)? */
bool
tempo_dims_needs_conditions(TempoResource resource)
{
	return resource == TEMPO_RES_TEMPO_TIMESHEET_APPROVALS ||
		resource == TEMPO_RES_TEMPO_PERIODS;
}

/* A Tempo stream: its path, and for a search its body. */
static TempoStream *
dims_stream(char *path, char *body)
{
	TempoStream *s = palloc0(sizeof(TempoStream));

	s->paging = TEMPO_PAGING_NEXT_LINK;
	s->jira = false;
	s->path = path;
	s->body = body;
	return s;
}

/* "name":[...] of ids (numbers) or keys (JSON strings), after a comma if needed. */
static void
json_list(StringInfo buf, const char *name, List *values, bool strings)
{
	ListCell   *lc;

	appendStringInfo(buf, "%s\"%s\":[", buf->len > 1 ? "," : "", name);
	foreach(lc, values)
	{
		if (lc != list_head(values))
			appendStringInfoChar(buf, ',');
		if (strings)
			escape_json(buf, lfirst(lc));
		else
			appendStringInfoString(buf, lfirst(lc));
	}
	appendStringInfoChar(buf, ']');
}

/* GET /teams, the ids in chunks. */
static List *
team_streams(const TempoDimsQuery *q)
{
	List	   *streams = NIL;
	StringInfoData ids;
	int			n = 0;
	ListCell   *lc;

	if (!q->have_ids)
		return list_make1(dims_stream(psprintf("/teams?limit=%d", q->limit), NULL));
	initStringInfo(&ids);
	foreach(lc, q->ids)
	{
		appendStringInfo(&ids, "teamIds=%s&", (char *) lfirst(lc));
		if (++n % IDS_PER_REQUEST == 0 || lnext(q->ids, lc) == NULL)
		{
			streams = lappend(streams, dims_stream(psprintf("/teams?%slimit=%d", ids.data,
															q->limit), NULL));
			resetStringInfo(&ids);
		}
	}
	return streams;
}

/* POST /team-memberships/search or /accounts/search with the lists. */
static List *
search_stream(const TempoDimsQuery *q, bool accounts)
{
	StringInfoData body;

	initStringInfo(&body);
	appendStringInfoChar(&body, '{');
	if (accounts)
		appendStringInfoString(&body, "\"statuses\":[\"OPEN\",\"CLOSED\",\"ARCHIVED\"]");
	if (q->have_ids)
		json_list(&body, accounts ? "ids" : "teamIds", q->ids, false);
	if (q->have_keys)
		json_list(&body, accounts ? "keys" : "accountIds", q->keys, true);
	appendStringInfoChar(&body, '}');
	return list_make1(dims_stream(psprintf("%s/search?limit=%d",
										   accounts ? "/accounts" : "/team-memberships",
										   q->limit),
								  body.data));
}

/* ERROR: the API needs what the conditions do not give. */
TEMPO_NORETURN static void
			needs_conditions(const char *table, const char *what, const char *call,
							 const char *example);

static void
needs_conditions(const char *table, const char *what, const char *call,
				 const char *example)
{
	ereport(ERROR,
			(errcode(ERRCODE_FDW_DYNAMIC_PARAMETER_VALUE_NEEDED),
			 errmsg("a scan of %s needs %s", table, what),
			 errdetail("Tempo serves them per %s.", call),
			 errhint("%s", example)));
}

/* GET /timesheet-approvals/team/{teamId}?from&to, one stream per team. */
static List *
approval_streams(const TempoDimsQuery *q)
{
	List	   *streams = NIL;
	ListCell   *lc;

	if (!q->have_ids || q->from == NULL || q->to == NULL)
		needs_conditions("tempo_timesheet_approvals", "a team and a range of period_from",
						 "team and period: GET /4/timesheet-approvals/team/{teamId}?from=...&to=...",
						 "Filter on team_id (=, IN, or a join) and on period_from, for example: SELECT * FROM tempo_timesheet_approvals WHERE team_id = 1 AND period_from BETWEEN '2024-01-01' AND '2024-12-31'");
	foreach(lc, q->ids)
	{
		char	   *id = lfirst(lc);
		TempoStream *s = dims_stream(psprintf("/timesheet-approvals/team/%s?from=%s&to=%s",
											  id, q->from, q->to), NULL);

		s->key = id;
		s->missing_is_empty = true; /* "Team cannot be found in the system" */
		streams = lappend(streams, s);
	}
	return streams;
}

/*
 * tempo_dims_streams
 *		The request streams of a Tempo dimension table's scan.
 */
List *
tempo_dims_streams(TempoTarget target, const TempoDimsQuery *q)
{
	TempoStream *s;

	switch (target)
	{
		case TEMPO_TARGET_TEAMS:
			return team_streams(q);
		case TEMPO_TARGET_TEAM_MEMBERSHIPS:
			return search_stream(q, false);
		case TEMPO_TARGET_ACCOUNTS:
			return search_stream(q, true);
		case TEMPO_TARGET_WORK_ATTRIBUTES:
			return list_make1(dims_stream(psprintf("/work-attributes?limit=%d", q->limit),
										  NULL));
		case TEMPO_TARGET_APPROVALS:
			return approval_streams(q);
		case TEMPO_TARGET_PERIODS:
			if (q->from == NULL || q->to == NULL)
				needs_conditions("tempo_periods", "a range of period_from",
								 "date range: GET /4/periods?from=...&to=...",
								 "Filter on period_from, for example: SELECT * FROM tempo_periods WHERE period_from BETWEEN '2024-01-01' AND '2024-12-31'");
			s = dims_stream(psprintf("/periods?from=%s&to=%s", q->from, q->to), NULL);
			s->array_key = "periods";	/* not the usual envelope */
			return list_make1(s);
		default:
			elog(ERROR, "unexpected target %d", (int) target);
	}
	return NIL;					/* keep compiler quiet */
}
