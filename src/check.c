/*-------------------------------------------------------------------------
 *
 * check.c
 *		  tempo_fdw.check_connection(server): can this role reach Tempo and
 *		  Jira, and if not, exactly why.
 *
 * One small request per capability, with the current role's credentials
 * and no retries: Tempo worklogs (GET /worklogs?limit=1, the "View
 * worklogs" scope, which also covers work attributes), Tempo schedules
 * (GET /user-schedule for today, the "View schemes" scope), Jira (GET
 * /rest/api/3/myself); then the scopes of the Tempo dimension tables:
 * teams and memberships (GET /teams?limit=1, "View teams"), accounts (GET
 * /accounts?limit=1, "View accounts"), periods (GET /periods for today,
 * "View periods") and approvals (GET /timesheet-approvals/waiting, "View
 * approvals"); these four are not sent when the first could not reach
 * Tempo's host at all (its outcome stands for them).  Last the Jira
 * permissions of the Jira dimension tables: users (GET users/search,
 * "Browse users and groups"), projects (GET project/search, "Browse
 * projects") and issues (GET search/jql with a bounded JQL, "Browse
 * projects"), each with maxResults=1, not sent when myself could not reach
 * Jira's host.  Jira answers those two searches with an empty list, not
 * 403, when the account may browse nothing: an empty list fails the row
 * too.  Each gives one row: ok, the HTTP status, the problem in a few
 * words and a hint.  This is the alert a DBA can schedule; the old tool
 * had none.  Also the small functions refresh and sync ask about their
 * run: requests_made and in_transaction_block.
 *
 * Copyright (c) 2026, tempo_fdw developers
 *
 * IDENTIFICATION
 *		  src/check.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "foreign/foreign.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/timestamp.h"

#include "failure.h"
#include "rows.h"

/* One check: what it asks and how to explain a refusal */
typedef struct CheckDef
{
	const char *name;			/* the "source" column */
	bool		jira;			/* a Jira request */
	const char *needs;			/* the Tempo scope or Jira permission it needs
								 * (a 403 names it), or NULL */
	bool		lists;			/* a Jira dimension probe: its answer lists
								 * what the account may see */
	const char *list_key;		/* ... in this member (NULL: the answer) */
	const char *empty;			/* the problem when that list is empty */
	const char *empty_hint;		/* ... and its hint */
} CheckDef;

/* Did a request fail to reach its host at all (connect, timeout, TLS)? */
static bool
host_unreachable(const TempoHttpResponse *resp)
{
	return resp->outcome == TEMPO_HTTP_CONNECT || resp->outcome == TEMPO_HTTP_TIMEOUT ||
		resp->outcome == TEMPO_HTTP_TLS;
}

/*
 * judge_answer
 *		The problem and hint of an answer that was received: a failure, a
 *		body that is not the service's JSON, or (for a Jira dimension probe)
 *		an empty list: Jira answers 200 with nothing in it when the account
 *		may see nothing.  Both NULL when all is well.
 */
static void
judge_answer(const TempoFdwOptions *opts, const CheckDef *check,
			 const TempoHttpResponse *resp, const char *what,
			 const char **problem, const char **hint)
{
	const char *bad_url = check->jira
		? "Check \"jira_url\": it should be the site, e.g. https://acme.atlassian.net."
		: "Check \"tempo_url\": it should end in /4, e.g. https://api.tempo.io/4.";
	int			n;

	*problem = NULL;
	*hint = NULL;
	if (resp->outcome != TEMPO_HTTP_OK)
		tempo_failure_describe(resp, check->jira, check->needs, problem, hint);
	else if (!check->lists)
	{
		if (resp->len == 0 || resp->body[0] != '{')
		{
			*problem = "unexpected answer (not JSON)";
			*hint = bad_url;
		}
	}
	else if ((n = tempo_body_list_size(opts, resp->body, resp->len, check->list_key,
									   "Jira", what)) < 0)
	{
		*problem = "unexpected answer (not Jira's JSON list)";
		*hint = bad_url;
	}
	else if (n == 0)
	{
		*problem = check->empty;
		*hint = check->empty_hint;
	}
}

/*
 * run_check
 *		Send one request and describe its outcome in a result row.  With
 *		same_host, the first request to the same host (Tempo's or Jira's)
 *		could not reach it: its outcome stands for this check too, which is
 *		not sent (each probe would wait as long again); with record, this
 *		is that first request, whose outcome is kept there.
 */
static void
run_check(Tuplestorestate *store, TupleDesc desc, TempoConn *conn,
		  TempoFdwOptions *opts, const CheckDef *check, const char *path,
		  TempoHttpResponse *same_host, bool record)
{
	Datum		values[5];
	bool		nulls[5] = {false, false, false, false, false};
	const char *base = check->jira ? opts->jira_url : opts->tempo_url;
	const char *problem = NULL;
	const char *hint = NULL;
	TempoHttpResponse resp;
	TempoScanStats stats;
	TempoHttpRequest req;
	char	   *auth = NULL;

	memset(&resp, 0, sizeof(resp));
	memset(&stats, 0, sizeof(stats));
	memset(&req, 0, sizeof(req));
	if (check->jira && opts->jira_email && opts->jira_token)
		auth = tempo_basic_auth(opts->jira_email, opts->jira_token);
	else if (!check->jira && opts->token)
		auth = tempo_bearer_auth(opts->token);
	tempo_forget_on_reset(CurrentMemoryContext, auth);

	if (base == NULL)
	{
		problem = "not configured";
		hint = check->lists
			? "Set the server option \"jira_url\" (e.g. 'https://acme.atlassian.net') to read jira_users, jira_projects and jira_issues."
			: "Set the server option \"jira_url\" (e.g. 'https://acme.atlassian.net') to read Jira worklogs and to allow the fallback.";
	}
	else if (auth == NULL)
	{
		resp.outcome = TEMPO_HTTP_NO_CREDENTIALS;
		tempo_failure_describe(&resp, check->jira, check->needs, &problem, &hint);
	}
	else if (same_host != NULL && !record && host_unreachable(same_host))
	{
		resp = *same_host;
		tempo_failure_describe(&resp, check->jira, check->needs, &problem, &hint);
	}
	else
	{
		req.method = "GET";
		req.url = psprintf("%s%s", base, path);
		req.body = NULL;
		req.auth_header = auth;
		req.what = tempo_url_path(req.url);
		req.service = check->jira ? "Jira" : "Tempo";
		tempo_http_perform(conn, opts, &req, &resp, &stats);
		judge_answer(opts, check, &resp, req.what, &problem, &hint);
		if (record)
			*same_host = resp;
	}

	values[0] = CStringGetTextDatum(check->name);
	if (base == NULL || auth == NULL)
		nulls[1] = true;
	else
		values[1] = BoolGetDatum(problem == NULL);
	if (resp.status > 0)
		values[2] = Int32GetDatum((int32) resp.status);
	else
		nulls[2] = true;
	if (problem)
		values[3] = CStringGetTextDatum(problem);
	else
		nulls[3] = true;
	if (hint)
		values[4] = CStringGetTextDatum(hint);
	else
		nulls[4] = true;
	tuplestore_putvalues(store, desc, values, nulls);
}

PG_FUNCTION_INFO_V1(tempo_fdw_check_connection);

/*
 * tempo_fdw_check_connection
 *		SETOF (source, ok, http_status, problem, hint) for a server.
 */
Datum
tempo_fdw_check_connection(PG_FUNCTION_ARGS)
{
	static const CheckDef checks[] = {
		{"tempo worklogs", false, "View worklogs", false, NULL, NULL, NULL},
		{"tempo schedules", false, "View schemes", false, NULL, NULL, NULL},
		{"jira", true, NULL, false, NULL, NULL, NULL},
		{"tempo teams", false, "View teams", false, NULL, NULL, NULL},
		{"tempo accounts", false, "View accounts", false, NULL, NULL, NULL},
		{"tempo periods", false, "View periods", false, NULL, NULL, NULL},
		{"tempo approvals", false, "View approvals", false, NULL, NULL, NULL},
		{"jira users", true, "Browse users and groups", true, NULL, "no user visible",
		"Grant the Jira account the global permission \"Browse users and groups\": jira_users lists the users it may see."},
		{"jira projects", true, "Browse projects", true, "values", "no project visible",
		"Grant the Jira account \"Browse projects\" in the permission scheme of the projects it should read: jira_projects and jira_issues show only those."},
		{"jira issues", true, "Browse projects", true, "issues", "no issue visible",
		"Grant the Jira account \"Browse projects\" of the projects whose issues it should read (and their issue security levels): jira_issues shows only the issues it may see."},
	};
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ForeignServer *server = GetForeignServerByName(NameStr(*PG_GETARG_NAME(0)), false);
	TempoFdwOptions *opts;
	TempoConn  *conn;
	AclResult	aclresult;
	char	   *today;
	TempoHttpResponse tempo_first;	/* the worklogs probe's outcome */
	TempoHttpResponse jira_first;	/* the myself probe's outcome */

	aclresult = TEMPO_SERVER_ACLCHECK(server->serverid, GetUserId(), ACL_USAGE);
	if (aclresult != ACLCHECK_OK)
		aclcheck_error(aclresult, OBJECT_FOREIGN_SERVER, server->servername);

	InitMaterializedSRF(fcinfo, 0);
	opts = tempo_get_options(InvalidOid, server->serverid, GetUserId());
	tempo_read_token_file(opts);
	opts->max_retries = 0;
	opts->max_requests_per_second = 0;
	opts->timeout_ms = Min(opts->timeout_ms, 15000);
	conn = tempo_get_connection(server->serverid, GetUserId());
	{
		int			y,
					m,
					d;

		j2date(DatumGetDateADT(DirectFunctionCall1(timestamptz_date,
												   TimestampTzGetDatum(GetCurrentTimestamp())))
			   + POSTGRES_EPOCH_JDATE, &y, &m, &d);
		today = psprintf("%04d-%02d-%02d", y, m, d);
	}

	memset(&tempo_first, 0, sizeof(tempo_first));
	memset(&jira_first, 0, sizeof(jira_first));
	run_check(rsinfo->setResult, rsinfo->setDesc, conn, opts, &checks[0],
			  "/worklogs?limit=1", &tempo_first, true);
	run_check(rsinfo->setResult, rsinfo->setDesc, conn, opts, &checks[1],
			  psprintf("/user-schedule?from=%s&to=%s", today, today), NULL, false);
	run_check(rsinfo->setResult, rsinfo->setDesc, conn, opts, &checks[2],
			  "/rest/api/3/myself", &jira_first, true);
	/* the scopes of the Tempo dimension tables, after the first three */
	run_check(rsinfo->setResult, rsinfo->setDesc, conn, opts, &checks[3],
			  "/teams?limit=1", &tempo_first, false);
	run_check(rsinfo->setResult, rsinfo->setDesc, conn, opts, &checks[4],
			  "/accounts?limit=1", &tempo_first, false);
	run_check(rsinfo->setResult, rsinfo->setDesc, conn, opts, &checks[5],
			  psprintf("/periods?from=%s&to=%s", today, today), &tempo_first, false);
	run_check(rsinfo->setResult, rsinfo->setDesc, conn, opts, &checks[6],
			  "/timesheet-approvals/waiting", &tempo_first, false);
	/* the permissions of the Jira dimension tables */
	run_check(rsinfo->setResult, rsinfo->setDesc, conn, opts, &checks[7],
			  "/rest/api/3/users/search?maxResults=1", &jira_first, false);
	run_check(rsinfo->setResult, rsinfo->setDesc, conn, opts, &checks[8],
			  "/rest/api/3/project/search?maxResults=1", &jira_first, false);
	run_check(rsinfo->setResult, rsinfo->setDesc, conn, opts, &checks[9],
			  "/rest/api/3/search/jql?jql=updated%20%3E%3D%20%221970-01-01%22&maxResults=1&fields=id",
			  &jira_first, false);
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(tempo_fdw_requests_made);

/*
 * tempo_fdw_requests_made
 *		HTTP requests this backend has sent, retries included: refresh()
 *		logs the difference around a run.
 */
Datum
tempo_fdw_requests_made(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT64(tempo_http_requests_made());
}

PG_FUNCTION_INFO_V1(tempo_fdw_in_transaction_block);

/*
 * tempo_fdw_in_transaction_block
 *		Is the caller inside a transaction block (BEGIN, or several
 *		statements sent as one)?  refresh and sync commit as they go, which
 *		they cannot there: they refuse at once instead of failing at their
 *		first COMMIT after the downloads.
 */
Datum
tempo_fdw_in_transaction_block(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(IsTransactionBlock());
}
