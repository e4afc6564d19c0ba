/*-------------------------------------------------------------------------
 *
 * pager.h
 *		  Layer 5, pager: request streams read page by page, each the way
 *		  its API pages, and the Jira twins of Tempo worklogs.
 *
 * Files: pager.c with pager_tempo.c, pager_jira.c, pager_jira_list.c,
 * pager_jql.c, pager_ahead.c and
 * pager_request.c (their shared state: pager_int.h, for them only),
 * twins.c.  Included by the
 * scan, pushdown.c (which makes the streams) and estimate.c's ANALYZE;
 * it includes transport.h and rows.h.
 *
 * Copyright (c) 2026, tempo_fdw developers
 *
 * IDENTIFICATION
 *		  src/pager.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef TEMPO_PAGER_H
#define TEMPO_PAGER_H

#include "transport.h"
#include "rows.h"

/* How a request stream pages */
typedef enum TempoPaging
{
	TEMPO_PAGING_NEXT_LINK,		/* Tempo: follow metadata.next */
	TEMPO_PAGING_START_AT,		/* Jira issue worklogs: startAt / total */
	TEMPO_PAGING_JIRA_UPDATED,	/* Jira: worklog/updated ids, worklog/list */
	TEMPO_PAGING_TOKEN,			/* Tempo audit: POST again with nextPageToken */
	/* Jira dimension tables */
	TEMPO_PAGING_JIRA_LIST,		/* Jira lists by startAt: isLast, else empty */
	TEMPO_PAGING_JQL			/* Jira search/jql: POST again with
								 * nextPageToken */
} TempoPaging;

/* One request stream: a first request and the pages that follow it */
typedef struct TempoStream
{
	TempoPaging paging;
	bool		jira;			/* Jira API (jira_url, Basic auth) */
	char	   *path;			/* path and query after the base URL */
	char	   *key;			/* account id of a user-schedule stream */
	char	   *body;			/* JSON body of a POST stream, or NULL; a
								 * NEXT_LINK stream posts it to each link */
	const char *array_key;		/* the page's array of rows (a static
								 * string); NULL: "results" (NEXT_LINK), a
								 * bare array (JIRA_LIST, JQL) */
	bool		missing_is_empty;	/* a 404 of its first page: the key (user,
									 * issue) does not exist, so no rows */
} TempoStream;

/* in pager.c */
typedef struct TempoPager TempoPager;
extern TempoPager *tempo_pager_create(TempoFdwOptions *opts, TempoConn *conn,
									  TempoScanStats *stats, bool check_text,
									  MemoryContext cxt);
extern void tempo_pager_start(TempoPager *p, List *streams, const char *tempo_cause,
							  int window, int limit);
extern void tempo_pager_end(TempoPager *p);
extern void tempo_pager_pump(TempoPager *p);
extern TempoPage *tempo_pager_next(TempoPager *p, MemoryContext page_cxt,
								   TempoHttpResponse *failure, bool *failed);
extern const char *tempo_pager_key(TempoPager *p);

/* in pager_request.c */
TEMPO_NORETURN extern void tempo_pager_raise(TempoPager *p,
											 const TempoHttpResponse *failure);

/* in twins.c */
extern int64 *tempo_fetch_twins(TempoFdwOptions *opts, TempoConn *conn,
								TempoScanStats *stats, TempoParser *parser,
								const int64 *ids, int nids, int *npairs);

#endif							/* TEMPO_PAGER_H */
