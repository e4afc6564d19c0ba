/*-------------------------------------------------------------------------
 *
 * twins.c
 *		  The Jira twin of each Tempo worklog of a page: the column
 *		  jira_worklog_id of worklogs.
 *
 * Tempo v4 worklogs carry no Jira worklog id; POST /4/worklogs/tempo-to-jira
 * with {"tempoWorklogIds": [...]} answers the pairs (ids without a twin are
 * left out), paged by offset and limit through metadata.next.  A scan asks
 * for the twins of each page it converts, and only when the query uses the
 * column.  Time accounts keep these ids, so that when Tempo fails later a
 * Jira row can be given back to its worker (see tempo_fdw--1.0--1.1.sql).
 *
 * Copyright (c) 2026, tempo_fdw developers
 *
 * IDENTIFICATION
 *		  src/twins.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "lib/stringinfo.h"

#include "pager.h"
#include "failure.h"

/* Ids sent in one request, and the "limit" of its pages */
#define TWIN_BATCH TEMPO_MAX_PAGE_SIZE

/* qsort comparator of (Tempo id, Jira id) pairs, by Tempo id */
static int
pair_cmp(const void *a, const void *b)
{
	int64		x = *(const int64 *) a;
	int64		y = *(const int64 *) b;

	return (x > y) - (x < y);
}

/*
 * fetch_batch
 *		The pairs of nids ids into pairs (room for 2 * nids); returns how
 *		many.  Follows metadata.next on Tempo's own host; more pages than
 *		ids, or a link that does not move on, is an ERROR.
 */
static int
fetch_batch(TempoFdwOptions *opts, TempoConn *conn, TempoScanStats *stats,
			TempoParser *parser, const char *auth, const int64 *ids, int nids,
			int64 *pairs)
{
	StringInfoData body;
	char	   *url;
	int			n = 0;
	int			pages = 0;

	initStringInfo(&body);
	appendStringInfoString(&body, "{\"tempoWorklogIds\":[");
	for (int i = 0; i < nids; i++)
		appendStringInfo(&body, "%s" INT64_FORMAT, i ? "," : "", ids[i]);
	appendStringInfoString(&body, "]}");
	url = psprintf("%s/worklogs/tempo-to-jira?offset=0&limit=%d", opts->tempo_url, TWIN_BATCH);

	while (url != NULL)
	{
		TempoHttpRequest req;
		TempoHttpResponse resp;
		TempoPage  *page;
		char	   *path = tempo_url_path(url);
		const char *next;
		int			got;

		memset(&req, 0, sizeof(req));
		req.method = "POST";
		req.url = url;
		req.body = body.data;
		req.auth_header = auth;
		req.service = "Tempo";
		req.what = tempo_server_text(opts, NULL, path, strlen(path));
		tempo_http_perform(conn, opts, &req, &resp, stats);
		if (resp.outcome != TEMPO_HTTP_OK)
			tempo_failure_report(opts, &req, &resp);
		page = tempo_parse_page(parser, resp.body, resp.len, "results", "Tempo",
								psprintf("POST %s", req.what), CurrentMemoryContext);
		stats->pages++;
		got = tempo_page_nrows(page);
		if (got > nids - n)
			ereport(ERROR,
					(errcode(ERRCODE_FDW_INVALID_DATA_TYPE),
					 errmsg("unexpected JSON in the Tempo response to POST %s", req.what),
					 errdetail("It maps more worklogs than were asked for (%d).", nids)));
		n += tempo_page_id_pairs(page, "tempoWorklogId", "jiraWorklogId", pairs + 2 * n);
		next = tempo_page_string(page, "metadata.next");
		pfree(resp.body);
		if (next != NULL && !tempo_same_origin(opts->tempo_url, next))
			ereport(ERROR,
					(errcode(ERRCODE_FDW_ERROR),
					 errmsg("the next page link after POST %s leads to another host", req.what),
					 errdetail("Links to other hosts are not followed, so that credentials never leave the configured URL.")));
		if (next != NULL && (strcmp(next, url) == 0 || ++pages > nids))
			ereport(ERROR,
					(errcode(ERRCODE_FDW_ERROR),
					 errmsg("the next page link after POST %s repeats a page already read", req.what),
					 errdetail("Paging stopped to avoid an endless loop; the Jira worklog ids would be incomplete.")));
		url = next ? pstrdup(next) : NULL;
	}
	pfree(body.data);
	return n;
}

/*
 * tempo_fetch_twins
 *		The Jira twins of nids Tempo worklog ids, as pairs (Tempo id, Jira
 *		id) sorted by Tempo id, in CurrentMemoryContext; *npairs of them.
 *		parser must be one of its own: a page's tree lives until the
 *		parser's next page, and the worklogs' page is still in use.
 */
int64 *
tempo_fetch_twins(TempoFdwOptions *opts, TempoConn *conn, TempoScanStats *stats,
				  TempoParser *parser, const int64 *ids, int nids, int *npairs)
{
	int64	   *pairs = palloc(sizeof(int64) * 2 * Max(nids, 1));
	char	   *auth;
	int			n = 0;

	*npairs = 0;
	if (nids == 0)
		return pairs;
	if (opts->token == NULL)
	{
		TempoHttpRequest req;
		TempoHttpResponse none;

		memset(&req, 0, sizeof(req));
		req.service = "Tempo";
		memset(&none, 0, sizeof(none));
		none.outcome = TEMPO_HTTP_NO_CREDENTIALS;
		tempo_failure_report(opts, &req, &none);
	}
	auth = tempo_bearer_auth(opts->token);
	tempo_forget_on_reset(CurrentMemoryContext, auth);
	for (int i = 0; i < nids; i += TWIN_BATCH)
		n += fetch_batch(opts, conn, stats, parser, auth, ids + i,
						 Min(TWIN_BATCH, nids - i), pairs + 2 * n);
	qsort(pairs, n, sizeof(int64) * 2, pair_cmp);
	*npairs = n;
	return pairs;
}
