/*-------------------------------------------------------------------------
 *
 * pager_jql.c
 *		  Jira's issue search (TEMPO_PAGING_JQL): POST search/jql, then the
 *		  same search again with each page's nextPageToken.
 *
 * The stream's body is the search ({"jql", "fields", "maxResults"}); the
 * next page's request is that body with "nextPageToken" added.  The last
 * page has no nextPageToken (or says isLast).  POST issue/bulkfetch pages
 * the same way (its one page has no token); the issues it lists in
 * "issueErrors" (a retriable error, a payload limit) would be missing from
 * the answer: an ERROR.  A token seen before, or an
 * empty page that is not the last, is an ERROR: the server's paging loops
 * and the answer would never end, or be short.
 *
 * Copyright (c) 2026, tempo_fdw developers
 *
 * IDENTIFICATION
 *		  src/pager_jql.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "lib/stringinfo.h"
#include "utils/memutils.h"

#include "pager_int.h"

/* The stream's search with the next page's token (the current context). */
static char *
body_with_token(const char *body, const char *token)
{
	StringInfoData buf;
	size_t		len = strlen(body);

	if (token == NULL)
		return pstrdup(body);
	Assert(len > 0 && body[len - 1] == '}');
	initStringInfo(&buf);
	appendBinaryStringInfo(&buf, body, len - 1);
	appendStringInfoString(&buf, ",\"nextPageToken\":\"");
	for (const char *c = token; *c; c++)
	{
		if (*c == '"' || *c == '\\')
			appendStringInfo(&buf, "\\%c", *c);
		else if ((unsigned char) *c < 0x20)
			appendStringInfo(&buf, "\\u%04x", (unsigned char) *c);
		else
			appendStringInfoChar(&buf, *c);
	}
	appendStringInfoString(&buf, "\"}");
	return buf.data;
}

/* Take the page's token for the next request (in the pass context). */
static void
take_token(TempoPager *p, TempoPage *page, const char *what)
{
	const char *token = tempo_page_string(page, "nextPageToken");
	MemoryContext oldcxt;
	ListCell   *lc;

	if (tempo_page_array_size(page, "issueErrors") > 0)
		tempo_pager_bad_paging(p, what,
							   "Jira could not return some of the issues asked for (\"issueErrors\" is not empty).");

	if (token == NULL || tempo_page_bool(page, "isLast", false))
	{
		p->next_url = NULL;
		return;
	}
	if (tempo_page_nrows(page) == 0)
		tempo_pager_bad_paging(p, what, "An empty page has a nextPageToken.");
	foreach(lc, p->jira.tokens)
		if (strcmp(lfirst(lc), token) == 0)
		tempo_pager_bad_paging(p, what, "A nextPageToken came back a second time.");
	oldcxt = MemoryContextSwitchTo(p->cxt);
	p->jira.token = pstrdup(token);
	p->jira.tokens = lappend(p->jira.tokens, p->jira.token);
	MemoryContextSwitchTo(oldcxt);
}

/*
 * tempo_pager_jql_page
 *		The next page of a TEMPO_PAGING_JQL stream, parsed into page_cxt.
 */
TempoPage *
tempo_pager_jql_page(TempoPager *p, MemoryContext page_cxt)
{
	MemoryContext oldcxt = MemoryContextSwitchTo(page_cxt);
	char	   *body = body_with_token(p->cur->body, p->jira.token);
	TempoHttpResponse resp;
	TempoPage  *page;
	char	   *what;

	(void) tempo_pager_request(p, "POST", p->next_url, body, &resp, &what, NULL);
	page = tempo_parse_page(p->parser, resp.body, resp.len, "issues", "Jira", what, page_cxt);
	pfree(resp.body);
	take_token(p, page, what);
	MemoryContextSwitchTo(oldcxt);
	return page;
}
