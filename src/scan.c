/*-------------------------------------------------------------------------
 *
 * scan.c
 *		  The planner and executor callbacks of a tempo_fdw foreign scan.
 *
 * Planning decides which columns the query uses and what the first request
 * will be; no HTTP happens until the first row is asked for.  Execution
 * fetches one page at a time into a page memory context that is reset
 * before the next page, so memory stays bounded by one page whatever the
 * size of the result.  Paging follows the API's own "next" links verbatim,
 * but only to the same origin as the configured URL (the token must never
 * go elsewhere) and never to a link already followed (a server that repeats
 * a link would otherwise loop us forever).
 *
 * Copyright (c) 2026, tempo_fdw developers
 *
 * IDENTIFICATION
 *		  src/scan.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/table.h"
#include "commands/explain.h"
#include "executor/executor.h"
#include "foreign/fdwapi.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "optimizer/optimizer.h"
#include "optimizer/pathnode.h"
#include "optimizer/planmain.h"
#include "optimizer/restrictinfo.h"
#include "utils/memutils.h"

#include "tempo_fdw.h"

/* Planner state, in baserel->fdw_private */
typedef struct TempoFdwPlanState
{
	TempoFdwOptions *opts;		/* merged options */
	Bitmapset  *attrs_used;		/* columns the query needs */
} TempoFdwPlanState;

/* Positions in ForeignScan.fdw_private */
enum TempoFdwScanPrivateIndex
{
	TempoScanPrivateAttrs,		/* Integer list of attribute numbers used */
	TempoScanPrivateRequest		/* String: path and query of the request */
};

/* Executor state, in node->fdw_state */
typedef struct TempoFdwScanState
{
	TempoFdwOptions *opts;		/* merged options */
	TempoConn  *conn;			/* cached libcurl handle */
	TempoRowPlan *rowplan;		/* column conversion plan */
	char	   *auth_header;	/* "Authorization: Bearer ..." */
	char	   *first_url;		/* the first page's URL */
	char	   *next_url;		/* the next page's URL, or NULL */
	List	   *seen_urls;		/* URLs already fetched in this pass */
	bool		done;			/* no more pages */
	MemoryContext scan_cxt;		/* lives as long as the scan */
	MemoryContext page_cxt;		/* reset before each page */
	TempoPage  *page;			/* the current page, or NULL */
	TempoScanStats stats;		/* for EXPLAIN ANALYZE */
} TempoFdwScanState;

/* Rows a Tempo scan is assumed to return before pushdown narrows it */
#define DEFAULT_ROWS 10000.0
/* Cost of one HTTP round trip, in sequential page fetch units */
#define REQUEST_COST 100.0

/*
 * request_path
 *		The path and query (after the base URL) of the first request.
 */
static char *
request_path(TempoFdwOptions *opts)
{
	switch (opts->resource)
	{
		case TEMPO_RES_WORKLOGS:
			return psprintf("/worklogs?limit=%d", opts->page_size);
		default:
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("resource \"%s\" is not supported yet",
							tempo_resource_name(opts->resource))));
	}
	return NULL;				/* keep compiler quiet */
}

/*
 * tempoGetForeignRelSize
 *		Read the options, find the columns used, and estimate the rows.
 */
void
tempoGetForeignRelSize(PlannerInfo *root, RelOptInfo *baserel,
					   Oid foreigntableid)
{
	TempoFdwPlanState *ps = palloc0(sizeof(TempoFdwPlanState));
	Oid			userid = OidIsValid(baserel->userid) ? baserel->userid : GetUserId();
	ListCell   *lc;

	ps->opts = tempo_get_options(foreigntableid,
								 GetForeignTable(foreigntableid)->serverid,
								 userid);
	pull_varattnos((Node *) baserel->reltarget->exprs, baserel->relid,
				   &ps->attrs_used);
	foreach(lc, baserel->baserestrictinfo)
	{
		RestrictInfo *ri = lfirst_node(RestrictInfo, lc);

		pull_varattnos((Node *) ri->clause, baserel->relid, &ps->attrs_used);
	}

	baserel->rows = clamp_row_est(DEFAULT_ROWS *
								  clauselist_selectivity(root,
														 baserel->baserestrictinfo,
														 0, JOIN_INNER, NULL));
	baserel->fdw_private = ps;
}

/*
 * tempoGetForeignPaths
 *		One path: the whole result, paged.
 */
void
tempoGetForeignPaths(PlannerInfo *root, RelOptInfo *baserel,
					 Oid foreigntableid)
{
	TempoFdwPlanState *ps = baserel->fdw_private;
	double		pages = ceil(DEFAULT_ROWS / ps->opts->page_size);
	Cost		startup = REQUEST_COST;
	Cost		total = startup + pages * REQUEST_COST +
		DEFAULT_ROWS * cpu_tuple_cost * 10;

	add_path(baserel, (Path *)
			 create_foreignscan_path(root, baserel, NULL, baserel->rows,
									 startup, total, NIL, NULL, NULL, NIL));
}

/*
 * tempoGetForeignPlan
 *		Every condition is checked locally; the request and the columns
 *		used travel to the executor in fdw_private.
 */
ForeignScan *
tempoGetForeignPlan(PlannerInfo *root, RelOptInfo *baserel,
					Oid foreigntableid, ForeignPath *best_path,
					List *tlist, List *scan_clauses, Plan *outer_plan)
{
	TempoFdwPlanState *ps = baserel->fdw_private;
	List	   *attrs = NIL;
	int			attno = -1;

	while ((attno = bms_next_member(ps->attrs_used, attno)) >= 0)
		attrs = lappend_int(attrs, attno + FirstLowInvalidHeapAttributeNumber);

	scan_clauses = extract_actual_clauses(scan_clauses, false);
	return make_foreignscan(tlist, scan_clauses, baserel->relid, NIL,
							list_make2(attrs, makeString(request_path(ps->opts))),
							NIL, NIL, outer_plan);
}

/*
 * tempoBeginForeignScan
 *		Set up the scan state; no request yet.
 */
void
tempoBeginForeignScan(ForeignScanState *node, int eflags)
{
	ForeignScan *fsplan = (ForeignScan *) node->ss.ps.plan;
	Relation	rel = node->ss.ss_currentRelation;
	ForeignTable *table = GetForeignTable(RelationGetRelid(rel));
	Oid			userid = TEMPO_SCAN_USER(node);
	TempoFdwScanState *st;
	List	   *attrs = (List *) list_nth(fsplan->fdw_private, TempoScanPrivateAttrs);
	Bitmapset  *attrs_used = NULL;
	ListCell   *lc;
	MemoryContext oldcxt;

	if (eflags & EXEC_FLAG_EXPLAIN_ONLY)
		return;

	st = palloc0(sizeof(TempoFdwScanState));
	node->fdw_state = st;
	st->scan_cxt = AllocSetContextCreate(node->ss.ps.state->es_query_cxt,
										 "tempo_fdw scan", ALLOCSET_DEFAULT_SIZES);
	st->page_cxt = AllocSetContextCreate(st->scan_cxt,
										 "tempo_fdw page", ALLOCSET_DEFAULT_SIZES);
	oldcxt = MemoryContextSwitchTo(st->scan_cxt);

	st->opts = tempo_get_options(RelationGetRelid(rel), table->serverid, userid);
	foreach(lc, attrs)
		attrs_used = bms_add_member(attrs_used,
									lfirst_int(lc) - FirstLowInvalidHeapAttributeNumber);
	st->rowplan = tempo_make_row_plan(rel, st->opts->resource, attrs_used);
	st->first_url = psprintf("%s%s", st->opts->tempo_url,
							 strVal(list_nth(fsplan->fdw_private, TempoScanPrivateRequest)));
	st->next_url = st->first_url;

	if (st->opts->token == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION),
				 errmsg("no Tempo token for server \"%s\"",
						GetForeignServer(table->serverid)->servername),
				 errhint("CREATE USER MAPPING FOR PUBLIC SERVER %s OPTIONS (token '...');",
						 GetForeignServer(table->serverid)->servername)));
	st->auth_header = psprintf("Authorization: Bearer %s", st->opts->token);
	st->conn = tempo_get_connection(table->serverid, userid);

	MemoryContextSwitchTo(oldcxt);
}

/*
 * fetch_page
 *		Replace the current page with the next one and find the link after.
 */
static void
fetch_page(TempoFdwScanState *st)
{
	TempoHttpRequest req;
	TempoHttpResponse resp;
	const char *next;
	double		count;
	MemoryContext oldcxt;

	CHECK_FOR_INTERRUPTS();
	MemoryContextReset(st->page_cxt);
	st->page = NULL;
	oldcxt = MemoryContextSwitchTo(st->page_cxt);

	req.method = "GET";
	req.url = st->next_url;
	req.body = NULL;
	req.auth_header = st->auth_header;
	req.what = tempo_url_path(st->next_url);
	req.service = "Tempo";

	tempo_http_perform(st->conn, st->opts, &req, &resp, &st->stats);
	if (resp.outcome != TEMPO_HTTP_OK)
		tempo_http_report(st->opts, &req, &resp);

	st->page = tempo_parse_page(resp.body, resp.len, "results", "Tempo",
								req.what, st->page_cxt);
	pfree(resp.body);
	st->stats.pages++;

	if (tempo_page_has_number(st->page, "metadata.count", &count) &&
		count != tempo_page_nrows(st->page))
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_DATA_TYPE),
				 errmsg("unexpected JSON in the Tempo response to GET %s", req.what),
				 errdetail("metadata.count is %.0f but the page holds %d results.",
						   count, tempo_page_nrows(st->page))));

	next = tempo_page_string(st->page, "metadata.next");
	MemoryContextSwitchTo(st->scan_cxt);
	st->seen_urls = lappend(st->seen_urls, st->next_url);
	st->next_url = NULL;
	if (next == NULL)
		st->done = true;
	else
	{
		ListCell   *lc;

		if (!tempo_same_origin(st->opts->tempo_url, next))
			ereport(ERROR,
					(errcode(ERRCODE_FDW_ERROR),
					 errmsg("Tempo's next page link after GET %s leads to another host",
							req.what),
					 errdetail("Links to other hosts are not followed, so that the token never leaves the configured tempo_url.")));
		foreach(lc, st->seen_urls)
			if (strcmp((char *) lfirst(lc), next) == 0)
				ereport(ERROR,
						(errcode(ERRCODE_FDW_ERROR),
						 errmsg("Tempo's next page link after GET %s repeats a page already read",
								req.what),
						 errdetail("Paging stopped to avoid an endless loop; the result would be incomplete.")));
		st->next_url = pstrdup(next);
	}
	MemoryContextSwitchTo(oldcxt);
}

/*
 * tempoIterateForeignScan
 *		The next row, fetching the next page when the current one is used up.
 */
TupleTableSlot *
tempoIterateForeignScan(ForeignScanState *node)
{
	TempoFdwScanState *st = node->fdw_state;
	TupleTableSlot *slot = node->ss.ss_ScanTupleSlot;

	ExecClearTuple(slot);
	for (;;)
	{
		if (st->page != NULL &&
			tempo_page_next_row(st->page, st->rowplan, slot->tts_values,
								slot->tts_isnull))
		{
			ExecStoreVirtualTuple(slot);
			return slot;
		}
		if (st->done)
			return slot;
		fetch_page(st);
	}
}

/*
 * tempoReScanForeignScan
 *		Start again from the first page.
 */
void
tempoReScanForeignScan(ForeignScanState *node)
{
	TempoFdwScanState *st = node->fdw_state;

	MemoryContextReset(st->page_cxt);
	st->page = NULL;
	st->next_url = st->first_url;
	st->seen_urls = NIL;
	st->done = false;
}

/*
 * tempoEndForeignScan
 *		Nothing to release by hand: the page context's reset callback frees
 *		the cJSON tree, the connection stays cached.
 */
void
tempoEndForeignScan(ForeignScanState *node)
{
	TempoFdwScanState *st = node->fdw_state;

	if (st == NULL)
		return;
	MemoryContextDelete(st->scan_cxt);
	node->fdw_state = NULL;
}

/*
 * tempoExplainForeignScan
 *		VERBOSE: the request (path and query only: no host, no token).
 *		ANALYZE: pages, requests, retries and bytes.
 */
void
tempoExplainForeignScan(ForeignScanState *node, ExplainState *es)
{
	ForeignScan *fsplan = (ForeignScan *) node->ss.ps.plan;
	TempoFdwScanState *st = node->fdw_state;

	if (es->verbose)
	{
		Relation	rel = node->ss.ss_currentRelation;
		TempoFdwOptions *opts;

		opts = tempo_get_options(RelationGetRelid(rel),
								 GetForeignTable(RelationGetRelid(rel))->serverid,
								 GetUserId());
		ExplainPropertyText("Tempo request",
							psprintf("GET %s%s", tempo_url_path(opts->tempo_url),
									 strVal(list_nth(fsplan->fdw_private,
													 TempoScanPrivateRequest))),
							es);
	}
	if (es->analyze && st != NULL)
	{
		ExplainPropertyInteger("Tempo pages", NULL, st->stats.pages, es);
		ExplainPropertyInteger("Tempo requests", NULL, st->stats.requests, es);
		ExplainPropertyInteger("Tempo retries", NULL, st->stats.retries, es);
		ExplainPropertyInteger("Tempo bytes", NULL, st->stats.bytes, es);
	}
}
