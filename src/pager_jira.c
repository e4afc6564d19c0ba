/*-------------------------------------------------------------------------
 *
 * pager_jira.c
 *		  Jira's pages: an issue's worklogs by startAt, and all worklogs by
 *		  worklog/updated ids then POST worklog/list.
 *
 *	- TEMPO_PAGING_START_AT (an issue's worklogs): startAt advances by the
 *	  rows received until it reaches total; a page that makes no progress
 *	  is an error, not an endless loop.  An issue that does not exist (or
 *	  may not be seen) is a stream without rows.
 *	- TEMPO_PAGING_JIRA_UPDATED (no issue filter): walk worklog/updated
 *	  (ids, until lastPage) and fetch the worklogs with POST worklog/list
 *	  in batches of at most 1000 ids.
 *
 * Copyright (c) 2026, tempo_fdw developers
 *
 * IDENTIFICATION
 *		  src/pager_jira.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/memutils.h"

#include "pager_int.h"

/* Jira's cap on ids per POST worklog/list */
#define JIRA_LIST_BATCH 1000

/*
 * tempo_pager_start_at_page
 *		The next page of a TEMPO_PAGING_START_AT stream, parsed into
 *		page_cxt; NULL when the issue does not exist (the stream is done,
 *		without rows).
 */
TempoPage *
tempo_pager_start_at_page(TempoPager *p, MemoryContext page_cxt)
{
	MemoryContext oldcxt = MemoryContextSwitchTo(page_cxt);
	char	   *url = psprintf("%s&startAt=" INT64_FORMAT, p->next_url, p->jira.start_at);
	TempoHttpResponse resp;
	TempoPage  *page;
	char	   *what;
	double		total;

	if (!tempo_pager_request(p, "GET", url, NULL, &resp, &what, NULL))
	{
		MemoryContextReset(page_cxt);
		MemoryContextSwitchTo(oldcxt);
		p->cur_done = true;		/* no such issue: no rows */
		return NULL;
	}
	page = tempo_parse_page(p->parser, resp.body, resp.len, "worklogs", "Jira", what, page_cxt);
	pfree(resp.body);
	if (!tempo_page_has_number(page, "total", &total))
		tempo_pager_bad_paging(p, what, "The response has no \"total\".");
	p->jira.start_at += tempo_page_nrows(page);
	if (p->jira.start_at < total && tempo_page_nrows(page) == 0)
		tempo_pager_bad_paging(p, what,
							   psprintf("An empty page came before the total of %.0f worklogs.",
										total));
	if (p->jira.start_at >= total)
		p->next_url = NULL;
	MemoryContextSwitchTo(oldcxt);
	return page;
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
 * take_ids
 *		Take one page of Jira's worklog/updated: its ids not read before join
 *		the pending ids, and the next page is asked from one millisecond
 *		before this page's "until".  Jira pages by time alone, and a bulk
 *		import gives thousands of worklogs one millisecond: asking from
 *		"until" itself would skip those of the boundary millisecond not on
 *		this page when the server reads "since" as "after which", so the
 *		pages overlap by a millisecond and the ids seen there are skipped,
 *		whichever way the server reads it.  nextPage is not followed.  In
 *		the pass context.
 */
static void
take_ids(TempoPager *p, TempoPage *idpage, List *ids, bool last, const char *what)
{
	MemoryContext oldcxt = MemoryContextSwitchTo(p->cxt);
	PagerJira  *j = &p->jira;
	int			n = list_length(ids);
	int64	   *page = palloc(sizeof(int64) * Max(n, 1));
	int			fresh = 0;
	double		until;
	ListCell   *lc;

	foreach(lc, ids)
	{
		int64		id = strtoll(lfirst(lc), NULL, 10);

		page[foreach_current_index(lc)] = id;
		if (j->nseen > 0 &&
			bsearch(&id, j->seen, j->nseen, sizeof(int64), cmp_int64) != NULL)
			continue;
		j->pending_ids = lappend(j->pending_ids, pstrdup(lfirst(lc)));
		fresh++;
	}
	p->seen_urls = lappend(p->seen_urls, p->next_url);
	if (last)
	{
		j->ids_done = true;
		MemoryContextSwitchTo(oldcxt);
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
		tempo_pager_bad_paging(p, what, "lastPage is false but \"until\" is missing.");

	/* the ids the next page may repeat: this page's, and the run before it */
	if ((int64) until == j->until)
	{
		page = repalloc(page, sizeof(int64) * (n + j->nseen));
		memcpy(page + n, j->seen, sizeof(int64) * j->nseen);
		n += j->nseen;
	}
	qsort(page, n, sizeof(int64), cmp_int64);
	if (j->seen)
		pfree(j->seen);
	j->seen = page;
	j->nseen = n;
	j->until = (int64) until;
	p->next_url = psprintf("%s/rest/api/3/worklog/updated?since=" INT64_FORMAT,
						   p->opts->jira_url, (int64) until - 1);
	MemoryContextSwitchTo(oldcxt);
}

/* Read a page of worklog/updated ids (nothing of it kept in page_cxt). */
static void
read_id_page(TempoPager *p, MemoryContext page_cxt)
{
	MemoryContext oldcxt = MemoryContextSwitchTo(page_cxt);
	TempoHttpResponse resp;
	TempoPage  *idpage;
	char	   *what;

	(void) tempo_pager_request(p, "GET", p->next_url, NULL, &resp, &what, NULL);
	idpage = tempo_parse_page(p->parser, resp.body, resp.len, "values", "Jira", what, page_cxt);
	take_ids(p, idpage, tempo_page_ids(idpage, "worklogId"),
			 tempo_page_bool(idpage, "lastPage", true), what);
	MemoryContextReset(page_cxt);
	MemoryContextSwitchTo(oldcxt);
}

/* The body of POST worklog/list for the next batch of pending ids. */
static char *
next_id_batch(TempoPager *p)
{
	StringInfoData buf;
	int			n = 0;

	initStringInfo(&buf);
	appendStringInfoString(&buf, "{\"ids\":[");
	while (p->jira.pending_ids != NIL && n < JIRA_LIST_BATCH)
	{
		appendStringInfo(&buf, "%s%s", n++ ? "," : "", (char *) linitial(p->jira.pending_ids));
		p->jira.pending_ids = list_delete_first(p->jira.pending_ids);
	}
	appendStringInfoString(&buf, "]}");
	return buf.data;
}

/*
 * tempo_pager_updated_page
 *		The next step of a TEMPO_PAGING_JIRA_UPDATED stream: a page of
 *		worklogs of the pending ids, parsed into page_cxt; else NULL, after
 *		reading the next page of ids (or ending the stream after the last).
 */
TempoPage *
tempo_pager_updated_page(TempoPager *p, MemoryContext page_cxt)
{
	MemoryContext oldcxt;
	TempoHttpResponse resp;
	TempoPage  *page;
	char	   *url;
	char	   *body;
	char	   *what;

	if (p->jira.pending_ids == NIL)
	{
		if (p->jira.ids_done)
			p->cur_done = true;
		else
			read_id_page(p, page_cxt);
		return NULL;
	}
	oldcxt = MemoryContextSwitchTo(page_cxt);
	url = psprintf("%s/rest/api/3/worklog/list", p->opts->jira_url);
	body = next_id_batch(p);
	(void) tempo_pager_request(p, "POST", url, body, &resp, &what, NULL);
	page = tempo_parse_page(p->parser, resp.body, resp.len, NULL, "Jira", what, page_cxt);
	pfree(resp.body);
	MemoryContextSwitchTo(oldcxt);
	return page;
}
