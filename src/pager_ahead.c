/*-------------------------------------------------------------------------
 *
 * pager_ahead.c
 *		  Read a Tempo stream's pages ahead by offset, several at once, and
 *		  hand them back in order, checked.
 *
 * With max_concurrency above 1, a Tempo stream whose first page has a next
 * link at the next offset fetches the following pages ahead (Tempo pages
 * are offset-based, so their URLs are known in advance); every page is
 * still checked against the API's own links (the next link must continue
 * at the next offset) and returned in order, a page whose early request
 * failed is asked again with retries, and the pages requested beyond the
 * end are dropped.  Memory stays bounded by max_concurrency pages: each
 * page's transfer has a context of its own, deleted once it is parsed, and
 * its body is received into a buffer recycled from page to page.
 *
 * Copyright (c) 2026, tempo_fdw developers
 *
 * IDENTIFICATION
 *		  src/pager_ahead.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/memutils.h"

#include "pager_int.h"
#include "failure.h"

/* A Tempo page requested ahead of need */
typedef struct Ahead
{
	int64		offset;			/* its offset */
	char	   *url;			/* its URL */
	TempoTransfer *transfer;	/* the running request, or NULL: not sent */
	MemoryContext cxt;			/* holds its transfer until it is parsed */
} Ahead;

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

/* Request the next page ahead (in the pass context). */
static void
launch(TempoPager *p)
{
	MemoryContext oldcxt = MemoryContextSwitchTo(p->cxt);
	Ahead	   *a = palloc(sizeof(Ahead));
	TempoHttpRequest req;

	a->offset = p->ahead.launch_offset;
	p->ahead.launch_offset += p->ahead.limit;
	a->url = psprintf("%s&offset=" INT64_FORMAT, p->ahead.stream_url, a->offset);
	a->cxt = AllocSetContextCreate(p->cxt, "tempo_fdw page ahead", ALLOCSET_DEFAULT_SIZES);
	memset(&req, 0, sizeof(req));
	req.size_hint = p->bodies.hint;
	tempo_pager_lend_body(p, &req);
	req.method = "GET";
	req.url = a->url;
	req.body = NULL;
	req.auth_header = p->tempo_auth;
	req.what = tempo_pager_link_path(p, a->url);
	req.service = "Tempo";
	req.tempo_cause = p->tempo_cause;
	tempo_activity_request(req.method, req.what);
	MemoryContextSwitchTo(a->cxt);
	a->transfer = tempo_http_start(p->conn, p->opts, &req, p->stats);
	MemoryContextSwitchTo(p->cxt);
	if (a->transfer == NULL)
	{
		/* no transfer slot free: the page is asked for when it is read */
		p->bodies.spare = req.buffer;
		p->bodies.spare_size = req.buffer_size;
	}
	p->ahead.inflight = lappend(p->ahead.inflight, a);
	MemoryContextSwitchTo(oldcxt);
}

/* Keep the window of requests full, and let them run. */
static void
top_up(TempoPager *p)
{
	while (list_length(p->ahead.inflight) < p->ahead.window)
		launch(p);
	tempo_http_pump(p->conn);
}

/*
 * tempo_pager_ahead_begin
 *		After a stream's first page: read the rest ahead when the pass may
 *		have several pages in flight and the next link continues at the next
 *		offset.
 */
void
tempo_pager_ahead_begin(TempoPager *p)
{
	if (p->ahead.window <= 1 || p->next_url == NULL || p->cur->body != NULL ||
		list_length(p->seen_urls) != 1 ||
		url_offset(p->next_url) != p->ahead.limit)
		return;
	p->ahead.on = true;
	p->ahead.stream_url = MemoryContextStrdup(p->cxt, llast(p->seen_urls));
	p->ahead.launch_offset = p->ahead.limit;
	top_up(p);
}

/*
 * receive
 *		The answer to a page requested ahead, in *resp: the transfer's, or,
 *		when it was not sent or failed in a way worth a retry, that of the
 *		request sent again with the rest of its tries.  A failure is raised.
 *		In the current context (*what; the body is in the bodies' context).
 */
static void
receive(TempoPager *p, Ahead *a, TempoHttpResponse *resp, char **what)
{
	memset(resp, 0, sizeof(*resp));
	if (a->transfer != NULL)
	{
		MemoryContext oldcxt = MemoryContextSwitchTo(a->cxt);

		tempo_http_finish(a->transfer, resp, p->stats);
		MemoryContextSwitchTo(oldcxt);
	}
	*what = psprintf("GET %s", tempo_pager_link_path(p, a->url));
	if (a->transfer != NULL && resp->outcome != TEMPO_HTTP_OK && !tempo_failure_retried(resp))
	{
		/* not worth a retry: the error it would have been one at a time */
		memset(&p->last_req, 0, sizeof(p->last_req));
		p->last_req.method = "GET";
		p->last_req.url = a->url;
		p->last_req.what = tempo_pager_link_path(p, a->url);
		p->last_req.service = "Tempo";
		p->last_req.auth_header = p->tempo_auth;
		p->last_req.tempo_cause = p->tempo_cause;
		tempo_pager_raise(p, resp);
	}
	if (a->transfer == NULL || resp->outcome != TEMPO_HTTP_OK)
	{
		/* not sent (no slot free), or worth a retry: the rest of its tries */
		tempo_pager_recycle_body(p, resp);
		p->sent_before = resp->sent;
		(void) tempo_pager_request(p, "GET", a->url, NULL, resp, what, NULL);	/* retries, or raises */
	}
	else
		tempo_pager_note_size(p, resp);
}

/*
 * check_page
 *		ERROR unless a page read ahead is the one at offset, and its next
 *		link, if any, continues at the next offset; the link, or NULL.
 */
static const char *
check_page(TempoPager *p, TempoPage *page, int64 offset, const char *what)
{
	const char *next;
	double		n;

	tempo_pager_check_count(p, page, what);
	if (tempo_page_has_number(page, "metadata.offset", &n) && n != (double) offset)
		tempo_pager_bad_paging(p, what, psprintf("metadata.offset is %.0f, not " INT64_FORMAT ".",
												 n, offset));
	next = tempo_page_string(page, "metadata.next");
	if (next == NULL)
		return NULL;
	tempo_pager_check_origin(p, next, what);
	if (url_offset(next) != offset + p->ahead.limit)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_ERROR),
				 errmsg("the next page link after %s does not continue at offset " INT64_FORMAT,
						what, offset + p->ahead.limit),
				 errdetail("Paging stopped: the result would be incomplete or repeat pages.")));
	return next;
}

/*
 * tempo_pager_ahead_page
 *		The next page of a stream read ahead, in order, checked, parsed into
 *		page_cxt; the window of requests topped up while there are more
 *		pages.
 */
TempoPage *
tempo_pager_ahead_page(TempoPager *p, MemoryContext page_cxt)
{
	MemoryContext oldcxt = MemoryContextSwitchTo(page_cxt);
	Ahead	   *a = linitial(p->ahead.inflight);
	TempoHttpResponse resp;
	TempoPage  *page;
	char	   *what;

	p->ahead.inflight = list_delete_first(p->ahead.inflight);
	receive(p, a, &resp, &what);
	page = tempo_parse_page(p->parser, resp.body, resp.len, "results", "Tempo", what, page_cxt);
	tempo_pager_recycle_body(p, &resp);
	MemoryContextDelete(a->cxt);
	if (check_page(p, page, a->offset, what) == NULL)
	{
		tempo_pager_ahead_stop(p);	/* the pages beyond the end */
		p->next_url = NULL;
	}
	else
		top_up(p);
	MemoryContextSwitchTo(oldcxt);
	return page;
}

/*
 * tempo_pager_ahead_stop
 *		Drop the pages requested ahead that nobody will read.
 */
void
tempo_pager_ahead_stop(TempoPager *p)
{
	ListCell   *lc;

	foreach(lc, p->ahead.inflight)
	{
		Ahead	   *a = lfirst(lc);

		tempo_http_abandon(a->transfer);
		MemoryContextDelete(a->cxt);
	}
	p->ahead.inflight = NIL;
	p->ahead.on = false;
}
