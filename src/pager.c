/*-------------------------------------------------------------------------
 *
 * pager.c
 *		  The pager: passes over request streams, each turned into pages of
 *		  rows one step at a time, by the paging of its API (the one request
 *		  a step sends: pager_request.c).
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

#include "miscadmin.h"
#include "utils/memutils.h"

#include "pager_int.h"

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
		p->tempo_auth = tempo_bearer_auth(opts->token);
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
		case TEMPO_PAGING_JIRA_LIST:
			return tempo_pager_jira_list_page(p, page_cxt);
		case TEMPO_PAGING_JQL:
			return tempo_pager_jql_page(p, page_cxt);
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
