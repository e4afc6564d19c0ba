/*-------------------------------------------------------------------------
 *
 * check.c
 *		  tempo_fdw.check_connection(server): can this role reach Tempo and
 *		  Jira, and if not, exactly why.
 *
 * One small request per capability, with the current role's credentials
 * and no retries: Tempo worklogs (GET /worklogs?limit=1, the "View
 * worklogs" scope), Tempo schedules (GET /user-schedule for today, the
 * "View schemes" scope), and Jira (GET /rest/api/3/myself).  Each gives one
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
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/timestamp.h"

#include "tempo_fdw.h"

/* One check: what it asks and how to explain a refusal */
typedef struct CheckDef
{
	const char *name;			/* the "source" column */
	bool		jira;			/* a Jira request */
	const char *scope;			/* the Tempo scope it needs, or NULL */
} CheckDef;

/* Send one request and describe its outcome in a result row. */
static void
run_check(Tuplestorestate *store, TupleDesc desc, TempoConn *conn,
		  TempoFdwOptions *opts, const CheckDef *check, const char *path)
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
		auth = tempo_secret_cat("Authorization: Bearer ", opts->token, "");
	tempo_forget_on_reset(CurrentMemoryContext, auth);

	if (base == NULL)
	{
		problem = "not configured";
		hint = "Set the server option \"jira_url\" (e.g. 'https://acme.atlassian.net') to read Jira worklogs and to allow the fallback.";
	}
	else if (auth == NULL)
	{
		problem = check->jira ? "no Jira credentials" : "no Tempo token";
		hint = check->jira
			? "Set \"jira_email\" and \"jira_token\" in the user mapping."
			: "CREATE USER MAPPING FOR PUBLIC SERVER ... OPTIONS (token '...');";
	}
	else
	{
		req.method = "GET";
		req.url = psprintf("%s%s", base, path);
		req.body = NULL;
		req.auth_header = auth;
		req.what = tempo_url_path(req.url);
		req.service = check->jira ? "Jira" : "Tempo";
		req.prefix = NULL;
		tempo_http_perform(conn, opts, &req, &resp, &stats);

		switch (resp.outcome)
		{
			case TEMPO_HTTP_OK:
				if (resp.len == 0 || resp.body[0] != '{')
				{
					problem = "unexpected answer (not JSON)";
					hint = check->jira ? "Check \"jira_url\": it should be the site, e.g. https://acme.atlassian.net."
						: "Check \"tempo_url\": it should end in /4, e.g. https://api.tempo.io/4.";
				}
				break;
			case TEMPO_HTTP_CONNECT:
				problem = psprintf("unreachable host: %s", resp.error);
				hint = psprintf("Check \"%s\", DNS and the network path from the database server.",
								check->jira ? "jira_url" : "tempo_url");
				break;
			case TEMPO_HTTP_TLS:
				problem = psprintf("TLS failed: %s", resp.error);
				hint = "The server's certificate is not trusted, or the TLS handshake failed: check the system's certificate authorities and proxies that intercept TLS.";
				break;
			case TEMPO_HTTP_TIMEOUT:
				problem = "timed out";
				hint = "The host did not answer in time; check the network, or raise \"timeout_ms\".";
				break;
			case TEMPO_HTTP_ENCODING:
				problem = "answer in a content encoding other than gzip";
				hint = "Only gzip-compressed and uncompressed answers are accepted; check proxies on the way.";
				break;
			case TEMPO_HTTP_TOO_BIG:
			case TEMPO_HTTP_TRANSFER:
				problem = psprintf("transfer failed: %s", resp.error);
				hint = "The connection broke; check proxies and TLS interception on the way.";
				break;
			case TEMPO_HTTP_NO_CREDENTIALS:
				problem = "no credentials";
				break;
			case TEMPO_HTTP_STATUS:
				if (resp.status == 401)
				{
					problem = check->jira ? "bad credentials (HTTP 401)"
						: "bad token (HTTP 401): wrong, expired or revoked, or not valid for this region";
					hint = check->jira
						? "Create a new API token at id.atlassian.com and set \"jira_token\"; \"jira_email\" must be the token owner's address."
						: "Create a new token in Tempo > Settings > API integration; if the tenant's data lives in one region, use https://api.tempo.io/4 or that region's host.";
				}
				else if (resp.status == 403)
				{
					problem = check->scope
						? psprintf("missing scope (HTTP 403): the token lacks \"%s\"", check->scope)
						: pstrdup("no permission (HTTP 403)");
					hint = check->scope
						? "Token scopes cannot be edited: create a token with the scope, and put it in the user mapping."
						: "Grant the Jira account Browse projects and View all worklogs.";
				}
				else if (resp.status == 404)
				{
					problem = "not found (HTTP 404): wrong URL, region, or missing permission";
					hint = check->jira ? "Check \"jira_url\"."
						: "Check \"tempo_url\" (https://api.tempo.io/4, api.eu.tempo.io/4 or api.us.tempo.io/4).";
				}
				else if (resp.status == 429)
				{
					problem = "rate limited (HTTP 429)";
					hint = "Too many requests with this token right now; lower \"max_requests_per_second\".";
				}
				else if (resp.status >= 300 && resp.status < 400)
				{
					problem = psprintf("redirected (HTTP %ld)", resp.status);
					hint = "Redirects are not followed; use the final URL in the server options.";
				}
				else
				{
					problem = psprintf("%s fails (HTTP %ld)", req.service, resp.status);
					hint = resp.status >= 500 ? "The service has trouble; try again later."
						: "Check the server options.";
				}
				break;
		}
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
	};
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ForeignServer *server = GetForeignServerByName(NameStr(*PG_GETARG_NAME(0)), false);
	TempoFdwOptions *opts;
	TempoConn  *conn;
	AclResult	aclresult;
	char	   *today;

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

	run_check(rsinfo->setResult, rsinfo->setDesc, conn, opts, &checks[0],
			  "/worklogs?limit=1");
	run_check(rsinfo->setResult, rsinfo->setDesc, conn, opts, &checks[1],
			  psprintf("/user-schedule?from=%s&to=%s", today, today));
	run_check(rsinfo->setResult, rsinfo->setDesc, conn, opts, &checks[2],
			  "/rest/api/3/myself");
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
