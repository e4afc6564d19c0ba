/*-------------------------------------------------------------------------
 *
 * pager.c
 *		  Turn request streams into pages of rows, one HTTP request (or two)
 *		  at a time, for each of the APIs' ways of paging.
 *
 *	- Tempo (TEMPO_PAGING_NEXT_LINK): follow metadata.next verbatim, but
 *	  only to the same origin as the configured URL (the token must never go
 *	  elsewhere) and never to a link already followed in this stream (a
 *	  server repeating a link would loop us forever); metadata.count must
 *	  match the page.
 *	- Jira issue worklogs (TEMPO_PAGING_START_AT): startAt advances by the
 *	  rows received until it reaches total; a page that makes no progress
 *	  is an error, not an endless loop.
 *	- Jira without an issue filter (TEMPO_PAGING_JIRA_UPDATED): walk
 *	  worklog/updated (ids, nextPage until lastPage) and fetch the worklogs
 *	  with POST worklog/list in batches of at most 1000 ids.
 * With max_concurrency above 1, a Tempo stream whose first page has a next
 * link fetches the following pages ahead, several at once, by offset (Tempo
 * pages are offset-based, so their URLs are known in advance); every page is
 * still checked against the API's own links (the next link must continue at
 * the next offset) and returned in order, a page whose early request failed
 * is asked again with retries, and the pages requested beyond the end are
 * dropped.  Memory stays bounded by max_concurrency pages.
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

#include "tempo_fdw.h"
#include "failure.h"

/* Jira's cap on ids per POST worklog/list */
#define JIRA_LIST_BATCH 1000

/* A Tempo page requested ahead of need */
typedef struct Ahead
{
	int64		offset;			/* its offset */
	char	   *url;			/* its URL */
	TempoTransfer *transfer;	/* the running request */
	MemoryContext cxt;			/* holds its body until it is parsed */
} Ahead;

static bool request(TempoPager *p, const char *method, const char *url,
					const char *body, TempoHttpResponse *resp, char **what,
					TempoHttpResponse *failure);
TEMPO_NORETURN static void bad_paging(TempoPager *p, const char *what,
									  const char *detail);

struct TempoPager
{
	TempoFdwOptions *opts;
	TempoConn  *conn;
	TempoScanStats *stats;
	TempoParser *parser;		/* parses the pages, one at a time */
	MemoryContext cxt;			/* the pass: streams, links, ids */
	char	   *tempo_auth;		/* "Authorization: Bearer ..." or NULL */
	char	   *jira_auth;		/* "Authorization: Basic ..." or NULL */
	const char *tempo_cause;	/* why Tempo failed, if this pass reads
								 * Jira instead; or NULL */
	List	   *streams;		/* streams not yet started */
	TempoStream *cur;			/* the stream being read, or NULL */
	char	   *next_url;		/* its next request, or NULL when done */
	List	   *seen_urls;		/* links followed in this stream */
	int64		start_at;		/* START_AT: rows received so far */
	List	   *pending_ids;	/* JIRA_UPDATED: ids still to fetch */
	bool		ids_done;		/* JIRA_UPDATED: lastPage seen */
	bool		cur_done;		/* the current stream has no more pages */
	bool		any_request;	/* a request was made in this pass */
	const char *page_key;		/* key of the stream of the last page */
	int			window;			/* Tempo pages in flight at once */
	int			limit;			/* page size ("limit") of the streams */
	bool		ahead;			/* the stream fetches pages ahead by offset */
	char	   *stream_url;		/* its first page's URL */
	int64		launch_offset;	/* offset of the next page to start */
	List	   *inflight;		/* Ahead pages started, in offset order */
	size_t		body_hint;		/* the last page's size and a little more */
	MemoryContext body_cxt;		/* bodies of pages read by offset */
	char	   *spare_body;		/* a parsed page's buffer, for the next one */
	size_t		spare_size;
	TempoHttpRequest last_req;	/* the last request, for tempo_pager_raise */
	int64		jira_until;		/* JIRA_UPDATED: "until" of the last id page */
	int64	   *jira_seen;		/* ... the ids read at or after it, sorted */
	int			jira_nseen;
	bool		key_missing;	/* the last request found no such key */
	int			sent_before;	/* times the next request was sent already */
};

/*
 * link_path
 *		The path of a request's URL for messages: server text when it came
 *		from a paging link, so made safe (src/redact.c).
 */
static char *
link_path(TempoPager *p, const char *url)
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
	p->body_cxt = AllocSetContextCreate(cxt, "tempo_fdw page bodies", ALLOCSET_SMALL_SIZES);
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
	p->window = Max(window, 1);
	p->limit = limit;
	MemoryContextSwitchTo(oldcxt);
}

/*
 * tempo_pager_end
 *		Drop the pages requested ahead that nobody will read.
 */
void
tempo_pager_end(TempoPager *p)
{
	ListCell   *lc;

	foreach(lc, p->inflight)
	{
		Ahead	   *a = lfirst(lc);

		tempo_http_abandon(a->transfer);
		MemoryContextDelete(a->cxt);
	}
	p->inflight = NIL;
	p->ahead = false;
}

/*
 * tempo_pager_pump
 *		Keep the pages ahead flowing while the current page's rows are
 *		converted (cheap when there is nothing to do).
 */
void
tempo_pager_pump(TempoPager *p)
{
	if (p->inflight != NIL)
		tempo_http_pump(p->conn);
}

/* The value of the offset parameter of a URL, or -1. */
static int64
url_offset(const char *url)
{
	const char *q = strchr(url, '?');

	while (q != NULL)
	{
		q++;
		if (strncmp(q, "offset=", 7) == 0)
		{
			char	   *end;
			long long	v = strtoll(q + 7, &end, 10);

			return (end > q + 7 && (*end == '&' || *end == '\0') && v >= 0) ? v : -1;
		}
		q = strchr(q, '&');
	}
	return -1;
}

/*
 * note_size
 *		Remember a page's size: the next pages are about as big, and their
 *		bodies are received into a buffer that size, without regrowing.
 */
static void
note_size(TempoPager *p, const TempoHttpResponse *resp)
{
	p->body_hint = resp->len + resp->len / 8;
}

/*
 * The pages of a stream read by offset (its first and those ahead) are
 * received in body_cxt, and each buffer, once its page is parsed, receives
 * a later page: no fresh memory to fault in, no copying as a body grows.
 */
static void
use_spare_body(TempoPager *p, TempoHttpRequest *req)
{
	req->body_cxt = p->body_cxt;
	req->buffer = p->spare_body;
	req->buffer_size = p->spare_size;
	p->spare_body = NULL;
	p->spare_size = 0;
}

/* A body of body_cxt done with: kept for the next page (the larger of two). */
static void
recycle_body(TempoPager *p, TempoHttpResponse *resp)
{
	if (resp->body == NULL)
		return;
	if (p->spare_body != NULL && p->spare_size >= resp->cap)
		pfree(resp->body);
	else
	{
		if (p->spare_body != NULL)
			pfree(p->spare_body);
		p->spare_body = resp->body;
		p->spare_size = resp->cap;
	}
	resp->body = NULL;
}

/* Request the next page ahead. */
static void
launch_ahead(TempoPager *p)
{
	Ahead	   *a = palloc(sizeof(Ahead));
	TempoHttpRequest req;
	MemoryContext oldcxt;

	a->offset = p->launch_offset;
	p->launch_offset += p->limit;
	a->url = psprintf("%s&offset=" INT64_FORMAT, p->stream_url, a->offset);
	a->cxt = AllocSetContextCreate(p->cxt, "tempo_fdw page ahead", ALLOCSET_DEFAULT_SIZES);
	memset(&req, 0, sizeof(req));
	req.size_hint = p->body_hint;
	use_spare_body(p, &req);
	req.method = "GET";
	req.url = a->url;
	req.body = NULL;
	req.auth_header = p->tempo_auth;
	req.what = link_path(p, a->url);
	req.service = "Tempo";
	req.tempo_cause = p->tempo_cause;
	tempo_activity_request(req.method, req.what);
	oldcxt = MemoryContextSwitchTo(a->cxt);
	a->transfer = tempo_http_start(p->conn, p->opts, &req, p->stats);
	MemoryContextSwitchTo(oldcxt);
	if (a->transfer == NULL)
	{
		/* no transfer slot free: the page is asked for when it is read */
		p->spare_body = req.buffer;
		p->spare_size = req.buffer_size;
	}
	p->inflight = lappend(p->inflight, a);
}

/*
 * ahead_page
 *		The next page of a stream read ahead, in order, checked; the window
 *		of requests topped up while there are more pages.
 */
static TempoPage *
ahead_page(TempoPager *p, MemoryContext page_cxt, char **what)
{
	Ahead	   *a = linitial(p->inflight);
	TempoHttpResponse resp;
	TempoPage  *page;
	const char *next;
	double		n;

	p->inflight = list_delete_first(p->inflight);
	MemoryContextSwitchTo(a->cxt);
	memset(&resp, 0, sizeof(resp));
	if (a->transfer != NULL)
		tempo_http_finish(a->transfer, &resp, p->stats);
	MemoryContextSwitchTo(page_cxt);
	*what = psprintf("GET %s", link_path(p, a->url));
	if (a->transfer != NULL && resp.outcome != TEMPO_HTTP_OK && !tempo_failure_retried(&resp))
	{
		/* not worth a retry: the error it would have been one at a time */
		memset(&p->last_req, 0, sizeof(p->last_req));
		p->last_req.method = "GET";
		p->last_req.url = a->url;
		p->last_req.what = link_path(p, a->url);
		p->last_req.service = "Tempo";
		p->last_req.auth_header = p->tempo_auth;
		p->last_req.tempo_cause = p->tempo_cause;
		tempo_pager_raise(p, &resp);
	}
	if (a->transfer == NULL || resp.outcome != TEMPO_HTTP_OK)
	{
		/* not sent (no slot free), or worth a retry: the rest of its tries */
		recycle_body(p, &resp);
		p->sent_before = resp.sent;
		(void) request(p, "GET", a->url, NULL, &resp, what, NULL);	/* retries, or raises */
	}
	else
		note_size(p, &resp);
	page = tempo_parse_page(p->parser, resp.body, resp.len, "results", "Tempo", *what, page_cxt);
	recycle_body(p, &resp);
	MemoryContextDelete(a->cxt);

	if (tempo_page_has_number(page, "metadata.count", &n) && n != tempo_page_nrows(page))
		bad_paging(p, *what, psprintf("metadata.count is %.0f but the page holds %d results.",
									  n, tempo_page_nrows(page)));
	if (tempo_page_has_number(page, "metadata.offset", &n) && n != (double) a->offset)
		bad_paging(p, *what, psprintf("metadata.offset is %.0f, not " INT64_FORMAT ".", n, a->offset));
	next = tempo_page_string(page, "metadata.next");
	MemoryContextSwitchTo(p->cxt);
	if (next == NULL)
	{
		tempo_pager_end(p);		/* the pages beyond the end */
		p->next_url = NULL;
		return page;
	}
	if (!tempo_same_origin(p->opts->tempo_url, next))
		ereport(ERROR,
				(errcode(ERRCODE_FDW_ERROR),
				 errmsg("the next page link after %s leads to another host", *what),
				 errdetail("Links to other hosts are not followed, so that credentials never leave the configured URL.")));
	if (url_offset(next) != a->offset + p->limit)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_ERROR),
				 errmsg("the next page link after %s does not continue at offset " INT64_FORMAT,
						*what, a->offset + p->limit),
				 errdetail("Paging stopped: the result would be incomplete or repeat pages.")));
	while (list_length(p->inflight) < p->window)
		launch_ahead(p);
	tempo_http_pump(p->conn);
	return page;
}
/* The key (account id) of the stream the last page came from. */
const char *
tempo_pager_key(TempoPager *p)
{
	return p->page_key;
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

	if (!p->cur->missing_is_empty || p->seen_urls != NIL || p->start_at != 0 ||
		resp->outcome != TEMPO_HTTP_STATUS || resp->status != 404 || b == NULL)
		return false;
	while (*b == ' ' || *b == '\t' || *b == '\r' || *b == '\n')
		b++;
	return *b == '{';
}

/*
 * request
 *		Send one request of the current stream.  On failure: raise, or, if
 *		failure is not NULL, return false with the response in *failure.
 */
static bool
request(TempoPager *p, const char *method, const char *url, const char *body,
		TempoHttpResponse *resp, char **what, TempoHttpResponse *failure)
{
	TempoHttpRequest req;
	bool		jira = p->cur->jira;

	memset(&req, 0, sizeof(req));
	req.size_hint = p->body_hint;
	req.sent_before = p->sent_before;
	p->sent_before = 0;
	if (p->cur->paging == TEMPO_PAGING_NEXT_LINK)
		use_spare_body(p, &req);	/* the caller recycles the body */
	req.method = method;
	req.url = url;
	req.body = body;
	req.service = jira ? "Jira" : "Tempo";
	req.what = link_path(p, url);
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
		note_size(p, resp);
		return true;
	}
	if (key_is_missing(p, resp))
	{
		p->key_missing = true;
		if (p->cur->paging == TEMPO_PAGING_NEXT_LINK)
			recycle_body(p, resp);
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
TEMPO_NORETURN static void
bad_paging(TempoPager *p, const char *what, const char *detail);

static void
bad_paging(TempoPager *p, const char *what, const char *detail)
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

/* Check and remember a paging link; NULL link ends the stream. */
static void
follow_link(TempoPager *p, const char *link, const char *what)
{
	const char *base = p->cur->jira ? p->opts->jira_url : p->opts->tempo_url;
	ListCell   *lc;

	p->seen_urls = lappend(p->seen_urls, p->next_url);
	p->next_url = NULL;
	if (link == NULL)
		return;
	if (!tempo_same_origin(base, link))
		ereport(ERROR,
				(errcode(ERRCODE_FDW_ERROR),
				 errmsg("the next page link after %s leads to another host", what),
				 errdetail("Links to other hosts are not followed, so that credentials never leave the configured URL.")));
	foreach(lc, p->seen_urls)
		if (strcmp((char *) lfirst(lc), link) == 0)
			ereport(ERROR,
					(errcode(ERRCODE_FDW_ERROR),
					 errmsg("the next page link after %s repeats a page already read", what),
					 errdetail("Paging stopped to avoid an endless loop; the result would be incomplete.")));
	p->next_url = pstrdup(link);
}

/* qsort and bsearch comparator of int64s. */
static int
cmp_int64(const void *a, const void *b)
{
	int64		x = *(const int64 *) a;
	int64		y = *(const int64 *) b;

	return x < y ? -1 : x > y;
}

/*
 * jira_take_ids
 *		Take one page of Jira's worklog/updated: its ids not read before join
 *		the pending ids, and the next page is asked from one millisecond
 *		before this page's "until".  Jira pages by time alone, and a bulk
 *		import gives thousands of worklogs one millisecond: asking from
 *		"until" itself would skip those of the boundary millisecond not on
 *		this page when the server reads "since" as "after which", so the
 *		pages overlap by a millisecond and the ids seen there are skipped,
 *		whichever way the server reads it.  nextPage is not followed.  In
 *		p->cxt.
 */
static void
jira_take_ids(TempoPager *p, TempoPage *idpage, List *ids, bool last, const char *what)
{
	int			n = list_length(ids);
	int64	   *page = palloc(sizeof(int64) * Max(n, 1));
	int			fresh = 0;
	double		until;
	ListCell   *lc;

	foreach(lc, ids)
	{
		int64		id = strtoll(lfirst(lc), NULL, 10);

		page[foreach_current_index(lc)] = id;
		if (p->jira_nseen > 0 &&
			bsearch(&id, p->jira_seen, p->jira_nseen, sizeof(int64), cmp_int64) != NULL)
			continue;
		p->pending_ids = lappend(p->pending_ids, pstrdup(lfirst(lc)));
		fresh++;
	}
	if (last)
	{
		p->ids_done = true;
		p->seen_urls = lappend(p->seen_urls, p->next_url);
		return;
	}
	if (fresh == 0)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_ERROR),
				 errmsg("Jira's worklog/updated returned no new worklog on a page that is not the last, after %s",
						what),
				 errdetail("More worklogs share one update millisecond than fit a page, or the server's paging loops: the result would be incomplete."),
				 errhint("Read these worklogs per issue: WHERE issue_id IN (...).")));
	if (!tempo_page_has_number(idpage, "until", &until) || until < 1)
		bad_paging(p, what, "lastPage is false but \"until\" is missing.");

	/* the ids the next page may repeat: this page's, and the run before it */
	if ((int64) until == p->jira_until)
	{
		page = repalloc(page, sizeof(int64) * (n + p->jira_nseen));
		memcpy(page + n, p->jira_seen, sizeof(int64) * p->jira_nseen);
		n += p->jira_nseen;
	}
	qsort(page, n, sizeof(int64), cmp_int64);
	if (p->jira_seen)
		pfree(p->jira_seen);
	p->jira_seen = page;
	p->jira_nseen = n;
	p->jira_until = (int64) until;
	p->seen_urls = lappend(p->seen_urls, p->next_url);
	p->next_url = psprintf("%s/rest/api/3/worklog/updated?since=" INT64_FORMAT,
						   p->opts->jira_url, (int64) until - 1);
}

/* The body of POST worklog/list for the next batch of pending ids. */
static char *
next_id_batch(TempoPager *p)
{
	StringInfoData buf;
	int			n = 0;

	initStringInfo(&buf);
	appendStringInfoString(&buf, "{\"ids\":[");
	while (p->pending_ids != NIL && n < JIRA_LIST_BATCH)
	{
		appendStringInfo(&buf, "%s%s", n++ ? "," : "", (char *) linitial(p->pending_ids));
		p->pending_ids = list_delete_first(p->pending_ids);
	}
	appendStringInfoString(&buf, "]}");
	return buf.data;
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
		TempoHttpResponse resp;
		TempoPage  *page;
		MemoryContext oldcxt;
		char	   *what;
		double		n;
		bool		first = !p->any_request;

		CHECK_FOR_INTERRUPTS();
		*failed = false;
		oldcxt = MemoryContextSwitchTo(p->cxt);
		if (p->cur_done)
		{
			p->cur = NULL;
			p->cur_done = false;
		}
		if (p->cur == NULL)
		{
			if (p->streams == NIL)
			{
				MemoryContextSwitchTo(oldcxt);
				return NULL;
			}
			p->cur = linitial(p->streams);
			p->streams = list_delete_first(p->streams);
			p->next_url = psprintf("%s%s", p->cur->jira ? p->opts->jira_url : p->opts->tempo_url,
								   p->cur->path);
			p->seen_urls = NIL;
			p->start_at = 0;
			p->pending_ids = NIL;
			p->ids_done = false;
			p->jira_until = -1;
			p->jira_seen = NULL;
			p->jira_nseen = 0;
		}
		MemoryContextSwitchTo(page_cxt);

		switch (p->cur->paging)
		{
			case TEMPO_PAGING_NEXT_LINK:
				if (p->ahead)
				{
					page = ahead_page(p, page_cxt, &what);
					break;
				}
				if (!request(p, "GET", p->next_url, NULL, &resp, &what,
							 first ? failure : NULL))
				{
					MemoryContextSwitchTo(oldcxt);
					if (p->key_missing)
					{
						p->cur_done = true; /* no such key: no rows */
						continue;
					}
					*failed = true;
					return NULL;
				}
				page = tempo_parse_page(p->parser, resp.body, resp.len, "results",
										"Tempo", what, page_cxt);
				recycle_body(p, &resp);
				if (tempo_page_has_number(page, "metadata.count", &n) &&
					n != tempo_page_nrows(page))
					bad_paging(p, what, psprintf("metadata.count is %.0f but the page holds %d results.",
												 n, tempo_page_nrows(page)));
				MemoryContextSwitchTo(p->cxt);
				follow_link(p, tempo_page_string(page, "metadata.next"), what);
				/* a first page with a next link: read the rest ahead */
				if (p->window > 1 && p->next_url != NULL && list_length(p->seen_urls) == 1 &&
					url_offset(p->next_url) == p->limit)
				{
					p->ahead = true;
					p->stream_url = pstrdup(llast(p->seen_urls));
					p->launch_offset = p->limit;
					while (list_length(p->inflight) < p->window)
						launch_ahead(p);
					tempo_http_pump(p->conn);
				}
				break;

			case TEMPO_PAGING_START_AT:
				{
					char	   *url = psprintf("%s&startAt=" INT64_FORMAT, p->next_url, p->start_at);
					double		total;

					if (!request(p, "GET", url, NULL, &resp, &what, NULL))
					{
						MemoryContextReset(page_cxt);
						MemoryContextSwitchTo(oldcxt);
						p->cur_done = true; /* no such issue: no rows */
						continue;
					}
					page = tempo_parse_page(p->parser, resp.body, resp.len, "worklogs",
											"Jira", what, page_cxt);
					pfree(resp.body);
					if (!tempo_page_has_number(page, "total", &total))
						bad_paging(p, what, "The response has no \"total\".");
					p->start_at += tempo_page_nrows(page);
					if (p->start_at < total && tempo_page_nrows(page) == 0)
						bad_paging(p, what, psprintf("An empty page came before the total of %.0f worklogs.",
													 total));
					MemoryContextSwitchTo(p->cxt);
					if (p->start_at >= total)
						p->next_url = NULL;
					break;
				}

			case TEMPO_PAGING_JIRA_UPDATED:
				if (p->pending_ids == NIL)
				{
					List	   *ids;
					bool		last;
					TempoPage  *idpage;

					if (p->ids_done)
					{
						p->cur = NULL;
						MemoryContextSwitchTo(oldcxt);
						continue;
					}
					(void) request(p, "GET", p->next_url, NULL, &resp, &what, NULL);
					idpage = tempo_parse_page(p->parser, resp.body, resp.len, "values",
											  "Jira", what, page_cxt);
					ids = tempo_page_ids(idpage, "worklogId");
					last = tempo_page_bool(idpage, "lastPage", true);
					MemoryContextSwitchTo(p->cxt);
					jira_take_ids(p, idpage, ids, last, what);
					MemoryContextReset(page_cxt);
					MemoryContextSwitchTo(oldcxt);
					continue;
				}
				else
				{
					char	   *body;
					char	   *url = psprintf("%s/rest/api/3/worklog/list", p->opts->jira_url);

					MemoryContextSwitchTo(p->cxt);
					body = next_id_batch(p);
					MemoryContextSwitchTo(page_cxt);
					(void) request(p, "POST", url, body, &resp, &what, NULL);
					page = tempo_parse_page(p->parser, resp.body, resp.len, NULL, "Jira", what, page_cxt);
					pfree(resp.body);
					MemoryContextSwitchTo(p->cxt);
				}
				break;

			case TEMPO_PAGING_TOKEN:
				{
					const char *token;

					(void) request(p, "POST", p->next_url, p->cur->body, &resp, &what, NULL);
					page = tempo_parse_page(p->parser, resp.body, resp.len, "results", "Tempo", what, page_cxt);
					pfree(resp.body);
					token = tempo_page_string(page, "metadata.nextPageToken");
					MemoryContextSwitchTo(p->cxt);
					/* the next page: the same search with the token */
					follow_link(p, token ? psprintf("%s%s&nextPageToken=%s",
													p->cur->jira ? p->opts->jira_url : p->opts->tempo_url,
													p->cur->path, tempo_url_encode(token, false)) : NULL,
								what);
					break;
				}

			default:
				elog(ERROR, "unknown paging %d", (int) p->cur->paging);
		}

		p->stats->pages++;
		p->page_key = p->cur->key;
		if (p->cur->paging == TEMPO_PAGING_JIRA_UPDATED)
			p->cur_done = (p->pending_ids == NIL && p->ids_done);
		else
			p->cur_done = (p->next_url == NULL);
		MemoryContextSwitchTo(oldcxt);
		return page;
	}
}
