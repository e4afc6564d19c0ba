/*-------------------------------------------------------------------------
 *
 * pager.c
 *		  The pager: passes over request streams, each turned into pages of
 *		  rows one step at a time, by the paging of its API; and the one
 *		  request a step sends.
 *
 * A pass (tempo_pager_start) reads its streams in order; tempo_pager_next
 * takes the next step of the current stream, by its paging:
 *	- Tempo's pages, one after another (pager_tempo.c): metadata.next links
 *	  (TEMPO_PAGING_NEXT_LINK) or a search posted again with its
 *	  nextPageToken (TEMPO_PAGING_TOKEN);
 *	- with max_concurrency above 1, the following pages of a Tempo stream
 *	  fetched ahead by offset (pager_ahead.c);
 *	- Jira's pages (pager_jira.c): startAt/total (TEMPO_PAGING_START_AT),
 *	  and worklog/updated ids then POST worklog/list
 *	  (TEMPO_PAGING_JIRA_UPDATED).
 * A page is never silently short: every failure is an ERROR, except that
 * the scan may ask (allow_failure) to get the first Tempo failure back so
 * it can fall back to Jira.
 *
 * Copyright (c) 2026, tempo_fdw developers
 *
 * IDENTIFICATION
 *		  src/pager.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/base64.h"
#include "miscadmin.h"
#include "utils/memutils.h"

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
 * tempo_basic_auth
 *		"Authorization: Basic base64(email:token)", for Jira.
 */
char *
tempo_basic_auth(const char *email, const char *token)
{
	char	   *plain = tempo_secret_cat(email, ":", token);
	int			len = strlen(plain);
	int			enclen = pg_b64_enc_len(len);
	char	   *enc = palloc(enclen + 1);
	int			n = TEMPO_B64_ENCODE(plain, len, enc, enclen);
	char	   *header;

	explicit_bzero(plain, len);
	pfree(plain);
	if (n < 0)
		elog(ERROR, "could not encode Jira credentials");
	enc[n] = '\0';
	header = tempo_secret_cat("Authorization: Basic ", enc, "");
	explicit_bzero(enc, enclen + 1);
	pfree(enc);
	return header;
}

/*
 * tempo_pager_create
 *		A pager for one scan; cxt must outlive it (the scan's context).
 *		check_text: the rows' strings are converted (see tempo_parser_create).
 */
TempoPager *
tempo_pager_create(TempoFdwOptions *opts, TempoConn *conn, TempoScanStats *stats,
				   bool check_text, MemoryContext cxt)
{
	TempoPager *p = MemoryContextAllocZero(cxt, sizeof(TempoPager));
	MemoryContext oldcxt = MemoryContextSwitchTo(cxt);

	p->opts = opts;
	p->conn = conn;
	p->stats = stats;
	p->cxt = AllocSetContextCreate(cxt, "tempo_fdw pass", ALLOCSET_SMALL_SIZES);
	p->parser = tempo_parser_create(cxt, check_text, opts);
	p->bodies.cxt = AllocSetContextCreate(cxt, "tempo_fdw page bodies", ALLOCSET_SMALL_SIZES);
	tempo_read_token_file(opts);
	if (opts->token)
		p->tempo_auth = tempo_secret_cat("Authorization: Bearer ", opts->token, "");
	if (opts->jira_email && opts->jira_token)
		p->jira_auth = tempo_basic_auth(opts->jira_email, opts->jira_token);
	tempo_forget_on_reset(cxt, p->tempo_auth);
	tempo_forget_on_reset(cxt, p->jira_auth);
	MemoryContextSwitchTo(oldcxt);
	return p;
}

/*
 * tempo_pager_start
 *		Start a pass over streams (copied into the pager's pass context).
 *		tempo_cause, if not NULL, is why Tempo failed: this pass reads
 *		Jira in its place, and its errors say so first.
 */
void
tempo_pager_start(TempoPager *p, List *streams, const char *tempo_cause,
				  int window, int limit)
{
	MemoryContext oldcxt;
	ListCell   *lc;

	tempo_pager_end(p);
	MemoryContextReset(p->cxt);
	oldcxt = MemoryContextSwitchTo(p->cxt);
	p->streams = NIL;
	foreach(lc, streams)
	{
		TempoStream *s = palloc(sizeof(TempoStream));

		*s = *(TempoStream *) lfirst(lc);
		s->path = pstrdup(s->path);
		s->key = s->key ? pstrdup(s->key) : NULL;
		s->body = s->body ? pstrdup(s->body) : NULL;
		p->streams = lappend(p->streams, s);
	}
	p->tempo_cause = tempo_cause ? pstrdup(tempo_cause) : NULL;
	p->cur = NULL;
	p->cur_done = false;
	p->any_request = false;
	p->page_key = NULL;
	p->ahead.window = Max(window, 1);
	p->ahead.limit = limit;
	MemoryContextSwitchTo(oldcxt);
}

/*
 * tempo_pager_end
 *		Drop the pages requested ahead that nobody will read.
 */
void
tempo_pager_end(TempoPager *p)
{
	tempo_pager_ahead_stop(p);
}

/*
 * tempo_pager_pump
 *		Keep the pages ahead flowing while the current page's rows are
 *		converted (cheap when there is nothing to do).
 */
void
tempo_pager_pump(TempoPager *p)
{
	if (p->ahead.inflight != NIL)
		tempo_http_pump(p->conn);
}

/* The key (account id) of the stream the last page came from. */
const char *
tempo_pager_key(TempoPager *p)
{
	return p->page_key;
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

/*
 * next_stream
 *		Make the next stream current when the current one is done (its
 *		state in the pass context); false when no stream is left.
 */
static bool
next_stream(TempoPager *p)
{
	MemoryContext oldcxt;

	if (p->cur_done)
	{
		p->cur = NULL;
		p->cur_done = false;
	}
	if (p->cur != NULL)
		return true;
	if (p->streams == NIL)
		return false;
	oldcxt = MemoryContextSwitchTo(p->cxt);
	p->cur = linitial(p->streams);
	p->streams = list_delete_first(p->streams);
	p->next_url = psprintf("%s%s", p->cur->jira ? p->opts->jira_url : p->opts->tempo_url,
						   p->cur->path);
	p->seen_urls = NIL;
	memset(&p->jira, 0, sizeof(p->jira));
	p->jira.until = -1;
	MemoryContextSwitchTo(oldcxt);
	return true;
}

/*
 * step
 *		One step of the current stream, the way it pages: a page, or NULL
 *		when this step gave none (*failed tells whether the failure asked
 *		for is in *failure).
 */
static TempoPage *
step(TempoPager *p, MemoryContext page_cxt, TempoHttpResponse *failure, bool *failed)
{
	TempoPage  *page;

	switch (p->cur->paging)
	{
		case TEMPO_PAGING_NEXT_LINK:
			if (p->ahead.on)
				return tempo_pager_ahead_page(p, page_cxt);
			page = tempo_pager_link_page(p, page_cxt, failure, failed);
			if (page != NULL)
				tempo_pager_ahead_begin(p);
			return page;
		case TEMPO_PAGING_TOKEN:
			return tempo_pager_token_page(p, page_cxt);
		case TEMPO_PAGING_START_AT:
			return tempo_pager_start_at_page(p, page_cxt);
		case TEMPO_PAGING_JIRA_UPDATED:
			return tempo_pager_updated_page(p, page_cxt);
		default:
			elog(ERROR, "unknown paging %d", (int) p->cur->paging);
	}
	return NULL;				/* keep compiler quiet */
}

/*
 * tempo_pager_next
 *		The next page of rows, parsed into page_cxt (reset by the caller), or
 *		NULL when every stream is done.  With failure not NULL, a failure of
 *		the pass's first Tempo request is returned there (with NULL) instead
 *		of raised; *failed tells which happened.
 */
TempoPage *
tempo_pager_next(TempoPager *p, MemoryContext page_cxt,
				 TempoHttpResponse *failure, bool *failed)
{
	for (;;)
	{
		TempoPage  *page;
		bool		first = !p->any_request;

		CHECK_FOR_INTERRUPTS();
		*failed = false;
		if (!next_stream(p))
			return NULL;
		page = step(p, page_cxt, first ? failure : NULL, failed);
		if (*failed)
			return NULL;
		if (page == NULL)
			continue;
		p->stats->pages++;
		p->page_key = p->cur->key;
		if (p->cur->paging == TEMPO_PAGING_JIRA_UPDATED)
			p->cur_done = (p->jira.pending_ids == NIL && p->jira.ids_done);
		else
			p->cur_done = (p->next_url == NULL);
		return page;
	}
}
