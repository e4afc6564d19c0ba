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
 * Tempo's host at all (its outcome stands for them).  Each gives one
 * row: ok, the HTTP status, the problem in a few words and a hint.  This is
 * the alert a DBA can schedule; the old tool had none.  Also the small
 * functions refresh and sync ask about their run: requests_made and
 * in_transaction_block.
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

/* One check: what it asks and how to explain a refusal */
typedef struct CheckDef
{
	const char *name;			/* the "source" column */
	bool		jira;			/* a Jira request */
	const char *scope;			/* the Tempo scope it needs, or NULL */
} CheckDef;

/* Did a request fail to reach its host at all (connect, timeout, TLS)? */
static bool
host_unreachable(const TempoHttpResponse *resp)
{
	return resp->outcome == TEMPO_HTTP_CONNECT || resp->outcome == TEMPO_HTTP_TIMEOUT ||
		resp->outcome == TEMPO_HTTP_TLS;
}

/*
 * run_check
 *		Send one request and describe its outcome in a result row.  With
 *		same_host, a Tempo request whose host could not be reached: its
 *		outcome stands for this check too, which is not sent (the scopes'
 *		probes would each wait as long again); with record, the Tempo
 *		outcome is kept there.
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
		hint = "Set the server option \"jira_url\" (e.g. 'https://acme.atlassian.net') to read Jira worklogs and to allow the fallback.";
	}
	else if (auth == NULL)
	{
		resp.outcome = TEMPO_HTTP_NO_CREDENTIALS;
		tempo_failure_describe(&resp, check->jira, check->scope, &problem, &hint);
	}
	else if (same_host != NULL && !record && host_unreachable(same_host))
	{
		resp = *same_host;
		tempo_failure_describe(&resp, check->jira, check->scope, &problem, &hint);
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
		if (resp.outcome == TEMPO_HTTP_OK && (resp.len == 0 || resp.body[0] != '{'))
		{
			problem = "unexpected answer (not JSON)";
			hint = check->jira ? "Check \"jira_url\": it should be the site, e.g. https://acme.atlassian.net."
				: "Check \"tempo_url\": it should end in /4, e.g. https://api.tempo.io/4.";
		}
		else
			tempo_failure_describe(&resp, check->jira, check->scope, &problem, &hint);
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
		{"tempo worklogs", false, "View worklogs"},
		{"tempo schedules", false, "View schemes"},
		{"jira", true, NULL},
		{"tempo teams", false, "View teams"},
		{"tempo accounts", false, "View accounts"},
		{"tempo periods", false, "View periods"},
		{"tempo approvals", false, "View approvals"},
	};
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ForeignServer *server = GetForeignServerByName(NameStr(*PG_GETARG_NAME(0)), false);
	TempoFdwOptions *opts;
	TempoConn  *conn;
	AclResult	aclresult;
	char	   *today;
	TempoHttpResponse tempo_first;	/* the worklogs probe's outcome */

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
	run_check(rsinfo->setResult, rsinfo->setDesc, conn, opts, &checks[0],
			  "/worklogs?limit=1", &tempo_first, true);
	run_check(rsinfo->setResult, rsinfo->setDesc, conn, opts, &checks[1],
			  psprintf("/user-schedule?from=%s&to=%s", today, today), NULL, false);
	run_check(rsinfo->setResult, rsinfo->setDesc, conn, opts, &checks[2],
			  "/rest/api/3/myself", NULL, false);
	/* the scopes of the Tempo dimension tables, after the first three */
	run_check(rsinfo->setResult, rsinfo->setDesc, conn, opts, &checks[3],
			  "/teams?limit=1", &tempo_first, false);
	run_check(rsinfo->setResult, rsinfo->setDesc, conn, opts, &checks[4],
			  "/accounts?limit=1", &tempo_first, false);
	run_check(rsinfo->setResult, rsinfo->setDesc, conn, opts, &checks[5],
			  psprintf("/periods?from=%s&to=%s", today, today), &tempo_first, false);
	run_check(rsinfo->setResult, rsinfo->setDesc, conn, opts, &checks[6],
			  "/timesheet-approvals/waiting", &tempo_first, false);
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
