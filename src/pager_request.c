/*-------------------------------------------------------------------------
 *
 * pager_request.c
 *		  The one request a step of the pager sends, the buffers page bodies
 *		  are received into, and the ERRORs of paging.
 *
 * Shared by the paging mechanisms (pager_tempo.c, pager_jira.c,
 * pager_ahead.c) through pager_int.h; it calls none of them, nor pager.c,
 * which drives them.
 *
 * Copyright (c) 2026, tempo_fdw developers
 *
 * IDENTIFICATION
 *		  src/pager_request.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "pager_int.h"
#include "failure.h"

/*
 * tempo_pager_link_path
 *		The path of a request's URL for messages: server text when it came
 *		from a paging link, so made safe (src/redact.c).
 */
char *
tempo_pager_link_path(TempoPager *p, const char *url)
{
	char	   *path = tempo_url_path(url);

	return tempo_server_text(p->opts, NULL, path, strlen(path));
}

/*
 * tempo_pager_note_size
 *		Remember a page's size: the next pages are about as big, and their
 *		bodies are received into a buffer that size, without regrowing.
 */
void
tempo_pager_note_size(TempoPager *p, const TempoHttpResponse *resp)
{
	p->bodies.hint = resp->len + resp->len / 8;
}

/*
 * The pages of a stream read by offset (its first and those ahead) are
 * received in bodies.cxt, and each buffer, once its page is parsed,
 * receives a later page: no fresh memory to fault in, no copying as a body
 * grows.
 */
void
tempo_pager_lend_body(TempoPager *p, TempoHttpRequest *req)
{
	req->body_cxt = p->bodies.cxt;
	req->buffer = p->bodies.spare;
	req->buffer_size = p->bodies.spare_size;
	p->bodies.spare = NULL;
	p->bodies.spare_size = 0;
}

/* A body of bodies.cxt done with: kept for the next page (the larger of two). */
void
tempo_pager_recycle_body(TempoPager *p, TempoHttpResponse *resp)
{
	if (resp->body == NULL)
		return;
	if (p->bodies.spare != NULL && p->bodies.spare_size >= resp->cap)
		pfree(resp->body);
	else
	{
		if (p->bodies.spare != NULL)
			pfree(p->bodies.spare);
		p->bodies.spare = resp->body;
		p->bodies.spare_size = resp->cap;
	}
	resp->body = NULL;
}

/*
 * key_is_missing
 *		Is a failed answer the API's documented "no such key" for the current
 *		stream (Tempo: a user that cannot be found; Jira: an issue that does
 *		not exist or may not be seen)?  Only a 404 with a JSON error body to
 *		the stream's first request counts: an HTML 404 (a wrong base URL, a
 *		proxy) stays an error.
 */
static bool
key_is_missing(TempoPager *p, const TempoHttpResponse *resp)
{
	const char *b = resp->body;

	if (!p->cur->missing_is_empty || p->seen_urls != NIL || p->jira.start_at != 0 ||
		resp->outcome != TEMPO_HTTP_STATUS || resp->status != 404 || b == NULL)
		return false;
	while (*b == ' ' || *b == '\t' || *b == '\r' || *b == '\n')
		b++;
	return *b == '{';
}

/*
 * tempo_pager_request
 *		Send one request of the current stream.  On failure: raise, or, if
 *		failure is not NULL, return false with the response in *failure.
 *		False also when the answer is the stream's "no such key"
 *		(p->key_missing).  *what and the body are allocated in the current
 *		context, except that the pages of Tempo's next links are received
 *		into a lent buffer (the caller recycles it).
 */
bool
tempo_pager_request(TempoPager *p, const char *method, const char *url, const char *body,
					TempoHttpResponse *resp, char **what, TempoHttpResponse *failure)
{
	TempoHttpRequest req;
	bool		jira = p->cur->jira;

	memset(&req, 0, sizeof(req));
	req.size_hint = p->bodies.hint;
	req.sent_before = p->sent_before;
	p->sent_before = 0;
	if (p->cur->paging == TEMPO_PAGING_NEXT_LINK)
		tempo_pager_lend_body(p, &req); /* the caller recycles the body */
	req.method = method;
	req.url = url;
	req.body = body;
	req.service = jira ? "Jira" : "Tempo";
	req.what = tempo_pager_link_path(p, url);
	req.tempo_cause = p->tempo_cause;
	req.auth_header = jira ? p->jira_auth : p->tempo_auth;
	*what = psprintf("%s %s", method, req.what);
	p->last_req = req;

	if (req.auth_header == NULL)
	{
		TempoHttpResponse none;

		memset(&none, 0, sizeof(none));
		none.outcome = TEMPO_HTTP_NO_CREDENTIALS;
		if (failure && !jira)
		{
			p->any_request = true;
			*failure = none;
			return false;
		}
		tempo_failure_report(p->opts, &req, &none);
	}

	p->any_request = true;
	p->key_missing = false;
	tempo_activity_request(req.method, req.what);
	tempo_http_perform(p->conn, p->opts, &req, resp, p->stats);
	if (resp->outcome == TEMPO_HTTP_OK)
	{
		tempo_pager_note_size(p, resp);
		return true;
	}
	if (key_is_missing(p, resp))
	{
		p->key_missing = true;
		if (p->cur->paging == TEMPO_PAGING_NEXT_LINK)
			tempo_pager_recycle_body(p, resp);
		else
			pfree(resp->body);
		resp->body = NULL;
		return false;
	}
	if (failure)
	{
		*failure = *resp;
		return false;
	}
	tempo_failure_report(p->opts, &req, resp);
	return false;				/* keep compiler quiet */
}

/*
 * tempo_pager_raise
 *		Raise the ERROR of a failure tempo_pager_next returned.
 */
void
tempo_pager_raise(TempoPager *p, const TempoHttpResponse *failure)
{
	tempo_failure_report(p->opts, &p->last_req, failure);
}

/* ERROR for a malformed paging envelope. */
void
tempo_pager_bad_paging(TempoPager *p, const char *what, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_FDW_INVALID_DATA_TYPE),
			 p->tempo_cause
			 ? errmsg("Tempo failed (%s), and unexpected JSON in the %s response to %s",
					  p->tempo_cause, p->cur->jira ? "Jira" : "Tempo", what)
			 : errmsg("unexpected JSON in the %s response to %s",
					  p->cur->jira ? "Jira" : "Tempo", what),
			 errdetail("%s", detail)));
}
