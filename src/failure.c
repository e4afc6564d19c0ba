/*-------------------------------------------------------------------------
 *
 * failure.c
 *		  The failure policy: for each way a request to Tempo or Jira can
 *		  fail, whether it is sent again, whether a scan of Tempo may read
 *		  Jira instead, and the SQLSTATE, message, detail and hint of its
 *		  ERROR, or the problem and hint check_connection shows.
 *
 * A failed request (a TempoHttpResponse of http.c) is first sorted into a
 * FailureKind.  The decisions are one table, policy[] below, one row per
 * kind; they are the same for both sources, except that only a failure of
 * Tempo can fall back (to Jira; nothing stands in for Jira).  The texts
 * depend on kind and source (Tempo or Jira) and are written in switches,
 * each errmsg, errdetail and errhint a literal format string, so that grep
 * and translation tools find them:
 *	- tempo_failure_report: the ERROR of a scan, the pager and twins.c;
 *	  a Jira request that stands in for a failed Tempo one says so first
 *	  ("Tempo failed (HTTP 503), and Jira ...");
 *	- tempo_failure_describe: the problem and hint of a check_connection
 *	  row (shorter, and written for whoever set the server up).
 * No text holds a host or a token: a request is named by method and path
 * (req->what), an answer's body goes through tempo_server_text (redact.c),
 * and only for the hosts of tempo_host_shows_bodies.
 *
 * Copyright (c) 2026, tempo_fdw developers
 *
 * IDENTIFICATION
 *		  src/failure.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "failure.h"

/* The ways a request can fail */
typedef enum FailureKind
{
	FAIL_NO_CREDENTIALS,		/* not sent: no credentials for the service */
	FAIL_CONNECT,				/* could not resolve or connect */
	FAIL_TIMEOUT,				/* timeout_ms or connect_timeout_ms */
	FAIL_TLS,					/* handshake or certificate */
	FAIL_TRANSFER,				/* reset, cut short, other libcurl error */
	FAIL_TOO_BIG,				/* over max_response_bytes */
	FAIL_ENCODING,				/* a Content-Encoding other than gzip */
	FAIL_REDIRECT,				/* HTTP 3xx: never followed */
	FAIL_401,					/* credentials rejected */
	FAIL_403,					/* a permission or scope missing */
	FAIL_404,					/* wrong URL, or not visible */
	FAIL_429,					/* rate limited */
	FAIL_5XX_PASSING,			/* 500, 502, 503, 504: often a passing fault */
	FAIL_5XX,					/* any other 5xx */
	FAIL_OTHER_STATUS			/* any other status (400, 409, 1xx, ...) */
} FailureKind;

/* What is done about a kind of failure */
typedef struct FailurePolicy
{
	const char *cause;			/* a few words, for the fallback's WARNING and
								 * statistics; NULL: "HTTP <status>" */
	bool		retried;		/* sent again, up to max_retries times */
	bool		fallback;		/* a Tempo scan of worklogs may read Jira */
	int			sqlstate;		/* of the ERROR */
	TempoErrorClass class;		/* counted in tempo_fdw.stats */
} FailurePolicy;

/*
 * The policy.  Retried: faults that pass, a reset or cut-off answer, 429,
 * and 500, 502, 503, 504 (500 too: as often a passing fault of one node as
 * 502 and 503 are).  Fallback: Tempo cannot serve this role now (no token,
 * 401, 403, no connection, no answer in time, a broken transfer, 5xx after
 * the retries); never for what Jira would answer alike or what is a
 * mistake to see (400, 404, 429, a redirect, an answer too large or in
 * another encoding, and TLS: an untrusted certificate is not worked
 * around).
 */
static const FailurePolicy policy[] = {
	/* kind: cause, retried, fallback, SQLSTATE, class */
	[FAIL_NO_CREDENTIALS] = {"no token", false, true, ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION, TEMPO_ERR_AUTH},
	[FAIL_CONNECT] = {"could not connect", false, true, ERRCODE_FDW_UNABLE_TO_ESTABLISH_CONNECTION, TEMPO_ERR_NETWORK},
	[FAIL_TIMEOUT] = {"timed out", false, true, ERRCODE_FDW_ERROR, TEMPO_ERR_NETWORK},
	[FAIL_TLS] = {"TLS failed", false, false, ERRCODE_FDW_UNABLE_TO_ESTABLISH_CONNECTION, TEMPO_ERR_NETWORK},
	[FAIL_TRANSFER] = {"transfer failed", true, true, ERRCODE_FDW_ERROR, TEMPO_ERR_NETWORK},
	[FAIL_TOO_BIG] = {"response too large", false, false, ERRCODE_PROGRAM_LIMIT_EXCEEDED, TEMPO_ERR_OTHER},
	[FAIL_ENCODING] = {"refused content encoding", false, false, ERRCODE_FDW_ERROR, TEMPO_ERR_OTHER},
	[FAIL_REDIRECT] = {NULL, false, false, ERRCODE_FDW_ERROR, TEMPO_ERR_HTTP},
	[FAIL_401] = {NULL, false, true, ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION, TEMPO_ERR_AUTH},
	[FAIL_403] = {NULL, false, true, ERRCODE_INSUFFICIENT_PRIVILEGE, TEMPO_ERR_AUTH},
	[FAIL_404] = {NULL, false, false, ERRCODE_FDW_TABLE_NOT_FOUND, TEMPO_ERR_HTTP},
	[FAIL_429] = {NULL, true, false, ERRCODE_FDW_ERROR, TEMPO_ERR_HTTP},
	[FAIL_5XX_PASSING] = {NULL, true, true, ERRCODE_FDW_ERROR, TEMPO_ERR_HTTP},
	[FAIL_5XX] = {NULL, false, true, ERRCODE_FDW_ERROR, TEMPO_ERR_HTTP},
	[FAIL_OTHER_STATUS] = {NULL, false, false, ERRCODE_FDW_ERROR, TEMPO_ERR_HTTP},
};

StaticAssertDecl(lengthof(policy) == FAIL_OTHER_STATUS + 1,
				 "policy[] needs a row for every FailureKind");

/* The class of the last failure reported (tempo_failure_take_class) */
static TempoErrorClass last_class = TEMPO_ERR_OTHER;

/*
 * tempo_failure_take_class
 *		The class of the failure tempo_failure_report raised last, for the
 *		statistics of a scan that ended by an error; TEMPO_ERR_OTHER when none
 *		was (bad data, a cancel, ...).  Forgets it.
 */
TempoErrorClass
tempo_failure_take_class(void)
{
	TempoErrorClass c = last_class;

	last_class = TEMPO_ERR_OTHER;
	return c;
}

/*
 * failure_kind
 *		The kind of a failed request; false for a success.
 */
static bool
failure_kind(const TempoHttpResponse *resp, FailureKind *kind)
{
	long		s = resp->status;

	switch (resp->outcome)
	{
		case TEMPO_HTTP_OK:
			return false;
		case TEMPO_HTTP_NO_CREDENTIALS:
			*kind = FAIL_NO_CREDENTIALS;
			return true;
		case TEMPO_HTTP_CONNECT:
			*kind = FAIL_CONNECT;
			return true;
		case TEMPO_HTTP_TIMEOUT:
			*kind = FAIL_TIMEOUT;
			return true;
		case TEMPO_HTTP_TLS:
			*kind = FAIL_TLS;
			return true;
		case TEMPO_HTTP_TRANSFER:
			*kind = FAIL_TRANSFER;
			return true;
		case TEMPO_HTTP_TOO_BIG:
			*kind = FAIL_TOO_BIG;
			return true;
		case TEMPO_HTTP_ENCODING:
			*kind = FAIL_ENCODING;
			return true;
		case TEMPO_HTTP_STATUS:
			break;
	}
	if (s >= 300 && s < 400)
		*kind = FAIL_REDIRECT;
	else if (s == 401)
		*kind = FAIL_401;
	else if (s == 403)
		*kind = FAIL_403;
	else if (s == 404)
		*kind = FAIL_404;
	else if (s == 429)
		*kind = FAIL_429;
	else if (s == 500 || s == 502 || s == 503 || s == 504)
		*kind = FAIL_5XX_PASSING;
	else if (s >= 500)
		*kind = FAIL_5XX;
	else
		*kind = FAIL_OTHER_STATUS;
	return true;
}

/*
 * tempo_failure_retried
 *		Is this outcome worth another try (one policy for every request)?
 */
bool
tempo_failure_retried(const TempoHttpResponse *resp)
{
	FailureKind kind;

	return failure_kind(resp, &kind) && policy[kind].retried;
}

/*
 * tempo_failure_falls_back
 *		May a scan of Tempo worklogs that failed so read them from Jira?
 */
bool
tempo_failure_falls_back(const TempoHttpResponse *resp)
{
	FailureKind kind;

	return failure_kind(resp, &kind) && policy[kind].fallback;
}

/*
 * tempo_failure_cause
 *		A short, token-free description of a failure, for the fallback's
 *		WARNING, its statistics and messages that report two failures.
 */
char *
tempo_failure_cause(const TempoHttpResponse *resp)
{
	FailureKind kind;

	if (!failure_kind(resp, &kind))
		return pstrdup("no failure");
	if (policy[kind].cause == NULL)
		return psprintf("HTTP %ld", resp->status);
	return pstrdup(policy[kind].cause);
}

/*
 * report_message
 *		errmsg of a failure.  req->tempo_cause, if set, is why Tempo failed
 *		before this request (to Jira) was sent in its place.
 */
static int
report_message(const TempoFdwOptions *opts, const TempoHttpRequest *req,
			   const TempoHttpResponse *resp, FailureKind kind)
{
	const char *c = req->tempo_cause;
	const char *svc = req->service;
	const char *m = req->method;
	const char *w = req->what;
	long		s = resp->status;
	long long	max = (long long) opts->max_response_bytes;
	int			retries = Max(resp->sent - 1, 0);

	switch (kind)
	{
		case FAIL_NO_CREDENTIALS:
			return c ? errmsg("Tempo failed (%s), and no %s credentials for this server", c, svc)
				: errmsg("no %s credentials for this server", svc);
		case FAIL_CONNECT:
			return c ? errmsg("Tempo failed (%s), and could not connect to %s for %s %s", c, svc, m, w)
				: errmsg("could not connect to %s for %s %s", svc, m, w);
		case FAIL_TIMEOUT:
			return c ? errmsg("Tempo failed (%s), and %s request %s %s timed out", c, svc, m, w)
				: errmsg("%s request %s %s timed out", svc, m, w);
		case FAIL_TLS:
			return c ? errmsg("Tempo failed (%s), and TLS with %s failed for %s %s", c, svc, m, w)
				: errmsg("TLS with %s failed for %s %s", svc, m, w);
		case FAIL_TRANSFER:
			return c ? errmsg("Tempo failed (%s), and %s request %s %s failed after %d retries", c, svc, m, w, retries)
				: errmsg("%s request %s %s failed after %d retries", svc, m, w, retries);
		case FAIL_TOO_BIG:
			return c ? errmsg("Tempo failed (%s), and %s response to %s %s is larger than %lld bytes", c, svc, m, w, max)
				: errmsg("%s response to %s %s is larger than %lld bytes", svc, m, w, max);
		case FAIL_ENCODING:
			return c ? errmsg("Tempo failed (%s), and %s answered %s %s in a content encoding other than gzip", c, svc, m, w)
				: errmsg("%s answered %s %s in a content encoding other than gzip", svc, m, w);
		case FAIL_REDIRECT:
			return c ? errmsg("Tempo failed (%s), and %s answered a redirect (HTTP %ld) for %s %s", c, svc, s, m, w)
				: errmsg("%s answered a redirect (HTTP %ld) for %s %s", svc, s, m, w);
		case FAIL_401:
			return c ? errmsg("Tempo failed (%s), and %s rejected the credentials (HTTP 401) for %s %s", c, svc, m, w)
				: errmsg("%s rejected the credentials (HTTP 401) for %s %s", svc, m, w);
		case FAIL_403:
			return c ? errmsg("Tempo failed (%s), and %s denied access (HTTP 403) to %s %s", c, svc, m, w)
				: errmsg("%s denied access (HTTP 403) to %s %s", svc, m, w);
		case FAIL_404:
			return c ? errmsg("Tempo failed (%s), and %s answered 404 Not Found for %s %s", c, svc, m, w)
				: errmsg("%s answered 404 Not Found for %s %s", svc, m, w);
		case FAIL_429:
		case FAIL_5XX_PASSING:
		case FAIL_5XX:
		case FAIL_OTHER_STATUS:
			break;
	}
	return c ? errmsg("Tempo failed (%s), and %s answered HTTP %ld for %s %s", c, svc, s, m, w)
		: errmsg("%s answered HTTP %ld for %s %s", svc, s, m, w);
}

/*
 * report_detail
 *		errdetail of a failure: libcurl's words, or the answer's body
 *		(redacted and cut, from Tempo's and Atlassian's hosts only).
 */
static int
report_detail(const TempoFdwOptions *opts, const TempoHttpRequest *req,
			  const TempoHttpResponse *resp, FailureKind kind)
{
	switch (kind)
	{
		case FAIL_CONNECT:
		case FAIL_TIMEOUT:
		case FAIL_TLS:
		case FAIL_TRANSFER:
			return resp->error[0] ? errdetail_internal("%s", resp->error) : 0;
		case FAIL_NO_CREDENTIALS:
		case FAIL_TOO_BIG:
		case FAIL_ENCODING:
			return 0;
		case FAIL_REDIRECT:
		case FAIL_401:
		case FAIL_403:
		case FAIL_404:
		case FAIL_429:
		case FAIL_5XX_PASSING:
		case FAIL_5XX:
		case FAIL_OTHER_STATUS:
			break;
	}
	if (tempo_host_shows_bodies(req->url, opts->trusted_owner))
	{
		char	   *text = tempo_server_text(opts, req->auth_header, resp->body, resp->len);

		return text[0] ? errdetail_internal("%s", text) : 0;
	}
	return errdetail("The answer's body is not shown: the host is not one of Tempo's or Atlassian's.");
}

/*
 * report_hint
 *		errhint of a failure: what to change, for Tempo or for Jira.
 */
static int
report_hint(const TempoFdwOptions *opts, const TempoHttpResponse *resp,
			FailureKind kind, bool jira)
{
	const char *url_option = jira ? "jira_url" : "tempo_url";
	int			sent = Max(resp->sent, 1);

	switch (kind)
	{
		case FAIL_NO_CREDENTIALS:
			return jira
				? errhint("Set \"jira_email\" and \"jira_token\" in the user mapping (and \"jira_url\" on the server).")
				: errhint("Set \"token\" in the user mapping: CREATE USER MAPPING FOR PUBLIC SERVER ... OPTIONS (token '...').");
		case FAIL_CONNECT:
			return errhint("Check \"%s\" and that this host can reach it.", url_option);
		case FAIL_TIMEOUT:
			return errhint("Raise the server option \"timeout_ms\" (now %d) or \"connect_timeout_ms\" (now %d).",
						   opts->timeout_ms, opts->connect_timeout_ms);
		case FAIL_TLS:
			return errhint("The server's certificate is not trusted, or the TLS handshake failed: check \"%s\", the system's certificate authorities (ca-certificates), and proxies that intercept TLS.",
						   url_option);
		case FAIL_TRANSFER:
			return errhint("The connection broke or the answer was cut short; raise \"max_retries\" or try again later.");
		case FAIL_TOO_BIG:
			return errhint("Lower \"page_size\" or raise the server option \"max_response_bytes\".");
		case FAIL_ENCODING:
			return errhint("Only gzip-compressed and uncompressed answers are accepted; a proxy on the way may have re-encoded the answer.");
		case FAIL_REDIRECT:
			return errhint("Redirects are not followed, so that credentials never go to another host; check \"%s\".",
						   url_option);
		case FAIL_401:
			return jira
				? errhint("Check \"jira_email\" and \"jira_token\" in the user mapping: the API token may be wrong, expired or revoked.")
				: errhint("Check \"token\" in the user mapping: it may be wrong, expired or revoked, and it needs the \"View worklogs\" scope (and \"View schemes\" for user schedules).");
		case FAIL_403:
			if (!jira && tempo_resource_scope(opts->resource) != NULL)
				return errhint("The token lacks the scope \"%s\" that resource \"%s\" needs. Scopes cannot be edited: create a new token.",
							   tempo_resource_scope(opts->resource),
							   tempo_resource_def(opts->resource)->name);
			return jira
				? errhint("The Jira account lacks a permission for this request (e.g. Browse projects, or View all worklogs).")
				: errhint("The token lacks the scope for this endpoint: worklogs need \"View worklogs\", user schedules \"View schemes\". Scopes cannot be edited: create a new token.");
		case FAIL_404:
			return jira
				? errhint("Check \"jira_url\"; Jira also answers 404 for issues the account may not see.")
				: errhint("Check \"tempo_url\" (for example https://api.tempo.io/4); Tempo also answers 404 when the token's owner lacks permission, and a regional host that is not the tenant's own refuses access.");
		case FAIL_429:
		case FAIL_5XX_PASSING:
		case FAIL_5XX:
			return errhint_plural("The request was sent %d time; raise \"max_retries\" or try again later.",
								  "The request was sent %d times; raise \"max_retries\" or try again later.",
								  sent, sent);
		case FAIL_OTHER_STATUS:
			break;
	}
	return 0;
}

/*
 * tempo_failure_report
 *		Raise the ERROR of a failed request: the SQLSTATE of the policy,
 *		the request, libcurl's words or the answer's body, and a hint.
 */
void
tempo_failure_report(const TempoFdwOptions *opts, const TempoHttpRequest *req,
					 const TempoHttpResponse *resp)
{
	FailureKind kind;
	bool		jira = strcmp(req->service, "Jira") == 0;

	if (!failure_kind(resp, &kind))
		elog(ERROR, "tempo_failure_report called for a successful request");
	last_class = policy[kind].class;
	ereport(ERROR,
			(errcode(policy[kind].sqlstate),
			 report_message(opts, req, resp, kind),
			 report_detail(opts, req, resp, kind),
			 report_hint(opts, resp, kind, jira)));
	pg_unreachable();
}

/*
 * describe_status
 *		tempo_failure_describe for an HTTP status.
 */
static void
describe_status(const TempoHttpResponse *resp, FailureKind kind, bool jira,
				const char *needs, const char **problem, const char **hint)
{
	const char *h = NULL;

	switch (kind)
	{
		case FAIL_401:
			*problem = pstrdup(jira ? "bad credentials (HTTP 401)"
							   : "bad token (HTTP 401): wrong, expired or revoked, or not valid for this region");
			h = jira
				? "Create a new API token at id.atlassian.com and set \"jira_token\"; \"jira_email\" must be the token owner's address."
				: "Create a new token in Tempo > Settings > API integration; if the tenant's data lives in one region, use https://api.tempo.io/4 or that region's host.";
			break;
		case FAIL_403:
			if (needs == NULL)
			{
				*problem = pstrdup("no permission (HTTP 403)");
				h = "Grant the Jira account Browse projects and View all worklogs.";
			}
			else if (jira)
			{
				*problem = psprintf("missing permission (HTTP 403): the Jira account lacks \"%s\"", needs);
				h = "A Jira administrator grants it to the account of \"jira_email\" (or to a group of it): a global permission in Settings > System > Global permissions, a project permission in the projects' permission scheme.";
			}
			else
			{
				*problem = psprintf("missing scope (HTTP 403): the token lacks \"%s\"", needs);
				h = "Token scopes cannot be edited: create a token with the scope, and put it in the user mapping.";
			}
			break;
		case FAIL_404:
			*problem = pstrdup("not found (HTTP 404): wrong URL, region, or missing permission");
			h = jira ? "Check \"jira_url\"."
				: "Check \"tempo_url\" (https://api.tempo.io/4, api.eu.tempo.io/4 or api.us.tempo.io/4).";
			break;
		case FAIL_429:
			*problem = pstrdup("rate limited (HTTP 429)");
			h = "Too many requests with this token right now; lower \"max_requests_per_second\".";
			break;
		case FAIL_REDIRECT:
			*problem = psprintf("redirected (HTTP %ld)", resp->status);
			h = "Redirects are not followed; use the final URL in the server options.";
			break;
		default:
			*problem = psprintf("%s fails (HTTP %ld)", jira ? "Jira" : "Tempo", resp->status);
			h = resp->status >= 500 ? "The service has trouble; try again later."
				: "Check the server options.";
			break;
	}
	*hint = h;
}

/*
 * tempo_failure_describe
 *		The problem and hint of a check_connection row for a request to
 *		Tempo or Jira (needs: the token scope, or the Jira permission, the
 *		request needs, named by a 403; or NULL); both NULL for a success.
 */
void
tempo_failure_describe(const TempoHttpResponse *resp, bool jira,
					   const char *needs, const char **problem, const char **hint)
{
	FailureKind kind;
	const char *h = NULL;

	*problem = NULL;
	*hint = NULL;
	if (!failure_kind(resp, &kind))
		return;
	switch (kind)
	{
		case FAIL_NO_CREDENTIALS:
			*problem = pstrdup(jira ? "no Jira credentials" : "no Tempo token");
			h = jira
				? "Set \"jira_email\" and \"jira_token\" in the user mapping."
				: "Set \"token\" in the user mapping: CREATE USER MAPPING FOR PUBLIC SERVER ... OPTIONS (token '...').";
			break;
		case FAIL_CONNECT:
			*problem = psprintf("unreachable host: %s", resp->error);
			*hint = psprintf("Check \"%s\", DNS and the network path from the database server.",
							 jira ? "jira_url" : "tempo_url");
			return;
		case FAIL_TLS:
			*problem = psprintf("TLS failed: %s", resp->error);
			h = "The server's certificate is not trusted, or the TLS handshake failed: check the system's certificate authorities and proxies that intercept TLS.";
			break;
		case FAIL_TIMEOUT:
			*problem = pstrdup("timed out");
			h = "The host did not answer in time; check the network, or raise \"timeout_ms\".";
			break;
		case FAIL_ENCODING:
			*problem = pstrdup("answer in a content encoding other than gzip");
			h = "Only gzip-compressed and uncompressed answers are accepted; check proxies on the way.";
			break;
		case FAIL_TOO_BIG:
		case FAIL_TRANSFER:
			*problem = psprintf("transfer failed: %s", resp->error);
			h = "The connection broke; check proxies and TLS interception on the way.";
			break;
		default:
			describe_status(resp, kind, jira, needs, problem, hint);
			return;
	}
	*hint = h;
}
