/*-------------------------------------------------------------------------
 *
 * pager_jira_list.c
 *		  Jira's lists paged by startAt (TEMPO_PAGING_JIRA_LIST): users
 *		  (GET users/search, a bare array), users by id (GET user/bulk) and
 *		  projects (GET project/search), the last two pages of "values".
 *
 * startAt advances by the rows received.  A page that says isLast ends
 * the stream; if it also says total, the rows received must make that
 * total, or the answer would be short: an ERROR.  users/search says
 * neither (and may return fewer rows than maxResults when privacy hides
 * some), so it ends on the first empty page only, never on a short one.
 * A page that is not the last but holds no row is an ERROR, not an
 * endless loop.
 *
 * Copyright (c) 2026, tempo_fdw developers
 *
 * IDENTIFICATION
 *		  src/pager_jira_list.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/memutils.h"

#include "pager_int.h"

/* Is the page the last one of its stream (see the file's comment)? */
static bool
list_page_is_last(TempoPager *p, TempoPage *page, const char *what)
{
	int			nrows = tempo_page_nrows(page);
	double		total;

	if (p->cur->array_key == NULL)
		return nrows == 0;
	if (!tempo_page_bool(page, "isLast", nrows == 0))
	{
		if (nrows == 0)
			tempo_pager_bad_paging(p, what,
								   "An empty page says it is not the last (\"isLast\": false).");
		return false;
	}
	if (tempo_page_has_number(page, "total", &total) && (double) p->jira.start_at < total)
		tempo_pager_bad_paging(p, what,
							   psprintf("The last page came after " INT64_FORMAT " of the %.0f rows the response counts.",
										p->jira.start_at, total));
	return true;
}

/*
 * tempo_pager_jira_list_page
 *		The next page of a TEMPO_PAGING_JIRA_LIST stream, parsed into
 *		page_cxt; NULL when the key asked for does not exist (the stream is
 *		done, without rows).
 */
TempoPage *
tempo_pager_jira_list_page(TempoPager *p, MemoryContext page_cxt)
{
	MemoryContext oldcxt = MemoryContextSwitchTo(page_cxt);
	char	   *url = psprintf("%s&startAt=" INT64_FORMAT, p->next_url, p->jira.start_at);
	TempoHttpResponse resp;
	TempoPage  *page;
	char	   *what;

	if (!tempo_pager_request(p, "GET", url, NULL, &resp, &what, NULL))
	{
		MemoryContextReset(page_cxt);
		MemoryContextSwitchTo(oldcxt);
		p->cur_done = true;		/* no such key: no rows */
		return NULL;
	}
	page = tempo_parse_page(p->parser, resp.body, resp.len, p->cur->array_key, "Jira",
							what, page_cxt);
	pfree(resp.body);
	p->jira.start_at += tempo_page_nrows(page);
	if (list_page_is_last(p, page, what))
		p->next_url = NULL;
	MemoryContextSwitchTo(oldcxt);
	return page;
}
