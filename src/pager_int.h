/*-------------------------------------------------------------------------
 *
 * pager_int.h
 *		  The pager's state, shared by pager.c, the files of its paging
 *		  mechanisms (pager_tempo.c, pager_jira.c, pager_jira_list.c,
 *		  pager_jql.c, pager_ahead.c) and what they share
 *		  (pager_request.c); no other file includes it.
 *
 * Calls go one way: pager.c calls the mechanisms, pager_ahead.c also
 * pager_tempo.c's checks, and all of them pager_request.c.
 *
 * Every function of these files leaves CurrentMemoryContext as it found
 * it: what lives for the pass is allocated in the pager's cxt by switching
 * there and back, what lives for the page in the caller's page_cxt.
 *
 * Copyright (c) 2026, tempo_fdw developers
 *
 * IDENTIFICATION
 *		  src/pager_int.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef TEMPO_PAGER_INT_H
#define TEMPO_PAGER_INT_H

#include "pager.h"

/* The buffers page bodies are received into (pager_request.c) */
typedef struct PagerBodies
{
	MemoryContext cxt;			/* bodies of pages read by offset */
	char	   *spare;			/* a parsed page's buffer, for the next one */
	size_t		spare_size;
	size_t		hint;			/* the last page's size and a little more */
} PagerBodies;

/* Tempo pages read ahead by offset (pager_ahead.c) */
typedef struct PagerAhead
{
	bool		on;				/* the stream fetches pages ahead by offset */
	int			window;			/* Tempo pages in flight at once */
	int			limit;			/* page size ("limit") of the streams */
	char	   *stream_url;		/* its first page's URL */
	int64		launch_offset;	/* offset of the next page to start */
	List	   *inflight;		/* pages started, in offset order */
} PagerAhead;

/* Jira's paging of the current stream (pager_jira.c) */
typedef struct PagerJira
{
	int64		start_at;		/* START_AT: rows received so far */
	List	   *pending_ids;	/* JIRA_UPDATED: ids still to fetch */
	bool		ids_done;		/* JIRA_UPDATED: lastPage seen */
	int64		until;			/* JIRA_UPDATED: "until" of the last id page */
	int64	   *seen;			/* ... the ids read at or after it, sorted */
	int			nseen;
	char	   *token;			/* JQL: nextPageToken of the next page */
	List	   *tokens;			/* JQL: the tokens followed */
} PagerJira;

struct TempoPager
{
	/* the scan's */
	TempoFdwOptions *opts;
	TempoConn  *conn;
	TempoScanStats *stats;
	TempoParser *parser;		/* parses the pages, one at a time */
	char	   *tempo_auth;		/* "Authorization: Bearer ..." or NULL */
	char	   *jira_auth;		/* "Authorization: Basic ..." or NULL */
	PagerBodies bodies;
	/* the pass's */
	MemoryContext cxt;			/* the pass: streams, links, ids */
	const char *tempo_cause;	/* why Tempo failed, if this pass reads Jira
								 * instead; or NULL */
	List	   *streams;		/* streams not yet started */
	bool		any_request;	/* a request was made in this pass */
	const char *page_key;		/* key of the stream of the last page */
	TempoHttpRequest last_req;	/* the last request, for tempo_pager_raise */
	bool		key_missing;	/* the last request found no such key */
	int			sent_before;	/* times the next request was sent already */
	PagerAhead	ahead;
	/* the current stream's */
	TempoStream *cur;			/* the stream being read, or NULL */
	char	   *next_url;		/* its next request, or NULL when done */
	List	   *seen_urls;		/* links followed in this stream */
	bool		cur_done;		/* the current stream has no more pages */
	PagerJira	jira;
};

/* in pager_request.c: one request of the current stream, and what all share */
extern bool tempo_pager_request(TempoPager *p, const char *method, const char *url,
								const char *body, TempoHttpResponse *resp,
								char **what, TempoHttpResponse *failure);
extern char *tempo_pager_link_path(TempoPager *p, const char *url);
TEMPO_NORETURN extern void tempo_pager_bad_paging(TempoPager *p, const char *what,
												  const char *detail);
extern void tempo_pager_lend_body(TempoPager *p, TempoHttpRequest *req);
extern void tempo_pager_recycle_body(TempoPager *p, TempoHttpResponse *resp);
extern void tempo_pager_note_size(TempoPager *p, const TempoHttpResponse *resp);

/* in pager_tempo.c: Tempo's sequential paging */
extern TempoPage *tempo_pager_link_page(TempoPager *p, MemoryContext page_cxt,
										TempoHttpResponse *failure, bool *failed);
extern TempoPage *tempo_pager_token_page(TempoPager *p, MemoryContext page_cxt);
extern void tempo_pager_check_count(TempoPager *p, TempoPage *page, const char *what);
extern void tempo_pager_check_origin(TempoPager *p, const char *link, const char *what);

/* in pager_jira.c: Jira's paging */
extern TempoPage *tempo_pager_start_at_page(TempoPager *p, MemoryContext page_cxt);
extern TempoPage *tempo_pager_updated_page(TempoPager *p, MemoryContext page_cxt);

/* in pager_jira_list.c and pager_jql.c: the Jira dimension tables' paging */
extern TempoPage *tempo_pager_jira_list_page(TempoPager *p, MemoryContext page_cxt);
extern TempoPage *tempo_pager_jql_page(TempoPager *p, MemoryContext page_cxt);

/* in pager_ahead.c: Tempo pages read ahead by offset */
extern void tempo_pager_ahead_begin(TempoPager *p);
extern TempoPage *tempo_pager_ahead_page(TempoPager *p, MemoryContext page_cxt);
extern void tempo_pager_ahead_stop(TempoPager *p);

#endif							/* TEMPO_PAGER_INT_H */
