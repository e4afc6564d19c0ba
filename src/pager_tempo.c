/*-------------------------------------------------------------------------
 *
 * pager_tempo.c
 *		  Tempo's pages one after another: follow metadata.next, or post a
 *		  search again with its metadata.nextPageToken.
 *
 *	- TEMPO_PAGING_NEXT_LINK: metadata.next is followed verbatim, but only
 *	  to the same origin as the configured URL (the token must never go
 *	  elsewhere) and never to a link already followed in this stream (a
 *	  server repeating a link would loop us forever); metadata.count must
 *	  match the page.  A user the API does not know is a stream without
 *	  rows.  After the first page, pager_ahead.c may take over.  A stream
 *	  with a body (a search: team memberships, accounts) posts it to each
 *	  link instead, one page after another.
 *	- TEMPO_PAGING_TOKEN (the audit's papertrail search): the same POST
 *	  again, its query carrying the nextPageToken, under the same checks of
 *	  the link.
 *
 * Copyright (c) 2026, tempo_fdw developers
 *
 * IDENTIFICATION
 *		  src/pager_tempo.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "pager_int.h"

/* ERROR when metadata.count does not match the page. */
void
tempo_pager_check_count(TempoPager *p, TempoPage *page, const char *what)
{
	double		n;

	if (tempo_page_has_number(page, "metadata.count", &n) && n != tempo_page_nrows(page))
		tempo_pager_bad_paging(p, what,
							   psprintf("metadata.count is %.0f but the page holds %d results.",
										n, tempo_page_nrows(page)));
}

/* ERROR when a paging link leads away from the configured URL. */
void
tempo_pager_check_origin(TempoPager *p, const char *link, const char *what)
{
	const char *base = p->cur->jira ? p->opts->jira_url : p->opts->tempo_url;

	if (!tempo_same_origin(base, link))
		ereport(ERROR,
				(errcode(ERRCODE_FDW_ERROR),
				 errmsg("the next page link after %s leads to another host", what),
				 errdetail("Links to other hosts are not followed, so that credentials never leave the configured URL.")));
}

/*
 * follow_link
 *		Check and remember a paging link (in the pass context); a NULL link
 *		ends the stream.
 */
static void
follow_link(TempoPager *p, const char *link, const char *what)
{
	MemoryContext oldcxt = MemoryContextSwitchTo(p->cxt);
	ListCell   *lc;

	p->seen_urls = lappend(p->seen_urls, p->next_url);
	p->next_url = NULL;
	if (link != NULL)
	{
		tempo_pager_check_origin(p, link, what);
		foreach(lc, p->seen_urls)
			if (strcmp((char *) lfirst(lc), link) == 0)
			ereport(ERROR,
					(errcode(ERRCODE_FDW_ERROR),
					 errmsg("the next page link after %s repeats a page already read", what),
					 errdetail("Paging stopped to avoid an endless loop; the result would be incomplete.")));
		p->next_url = pstrdup(link);
	}
	MemoryContextSwitchTo(oldcxt);
}

/*
 * tempo_pager_link_page
 *		The next page of a TEMPO_PAGING_NEXT_LINK stream, parsed into
 *		page_cxt.  NULL when the stream's key does not exist (the stream is
 *		done, without rows), or when the failure asked for is in *failure
 *		(*failed).
 */
TempoPage *
tempo_pager_link_page(TempoPager *p, MemoryContext page_cxt,
					  TempoHttpResponse *failure, bool *failed)
{
	MemoryContext oldcxt = MemoryContextSwitchTo(page_cxt);
	TempoHttpResponse resp;
	TempoPage  *page = NULL;
	char	   *what;

	if (tempo_pager_request(p, p->cur->body ? "POST" : "GET", p->next_url, p->cur->body,
							&resp, &what, failure))
	{
		page = tempo_parse_page(p->parser, resp.body, resp.len,
								p->cur->array_key ? p->cur->array_key : "results",
								"Tempo", what, page_cxt);
		tempo_pager_recycle_body(p, &resp);
		tempo_pager_check_count(p, page, what);
		follow_link(p, tempo_page_string(page, "metadata.next"), what);
	}
	else if (p->key_missing)
		p->cur_done = true;		/* no such key: no rows */
	else
		*failed = true;
	MemoryContextSwitchTo(oldcxt);
	return page;
}

/*
 * tempo_pager_token_page
 *		The next page of a TEMPO_PAGING_TOKEN stream, parsed into page_cxt;
 *		the next request is the same search with the page's token.
 */
TempoPage *
tempo_pager_token_page(TempoPager *p, MemoryContext page_cxt)
{
	MemoryContext oldcxt = MemoryContextSwitchTo(page_cxt);
	TempoHttpResponse resp;
	TempoPage  *page;
	const char *token;
	char	   *what;

	(void) tempo_pager_request(p, "POST", p->next_url, p->cur->body, &resp, &what, NULL);
	page = tempo_parse_page(p->parser, resp.body, resp.len, "results", "Tempo", what, page_cxt);
	pfree(resp.body);
	token = tempo_page_string(page, "metadata.nextPageToken");
	follow_link(p, token ? psprintf("%s%s&nextPageToken=%s",
									p->cur->jira ? p->opts->jira_url : p->opts->tempo_url,
									p->cur->path, tempo_url_encode(token, false)) : NULL,
				what);
	MemoryContextSwitchTo(oldcxt);
	return page;
}
