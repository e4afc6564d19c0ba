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
#include "optimizer/paths.h"
#include "optimizer/planmain.h"
#include "optimizer/restrictinfo.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "tempo_fdw.h"

/* Planner state, in baserel->fdw_private */
typedef struct TempoFdwPlanState
{
	TempoFdwOptions *opts;		/* merged options */
	Bitmapset  *attrs_used;		/* columns the query needs */
	List	   *filters;		/* TempoFilters of the pushed base conditions */
	bool		all_exact;		/* every base condition is pushed exactly */
} TempoFdwPlanState;

/* Positions in ForeignScan.fdw_private */
enum TempoFdwScanPrivateIndex
{
	TempoScanPrivateAttrs,		/* Integer list of attribute numbers used */
	TempoScanPrivateFilters,	/* Integer list: kind | strict << 4 | array << 5 */
	TempoScanPrivateLimit,		/* Integer: the "limit" of each page */
	TempoScanPrivateFilterText	/* String: the pushed conditions, for EXPLAIN */
};

#define FILTER_CODE(f) ((f)->kind | ((f)->strict ? 16 : 0) | ((f)->array ? 32 : 0))

/* Executor state, in node->fdw_state */
typedef struct TempoFdwScanState
{
	TempoFdwOptions *opts;		/* merged options */
	TempoConn  *conn;			/* cached libcurl handle */
	TempoRowPlan *rowplan;		/* column conversion plan */
	char	   *auth_header;	/* "Authorization: Bearer ..." */
	List	   *filter_codes;	/* from fdw_private */
	List	   *filter_states;	/* ExprStates of the filter values */
	int			limit;			/* "limit" of each page */
	List	   *streams;		/* request paths still to start */
	char	   *first_url;		/* the first request, for EXPLAIN ANALYZE */
	int			nstreams;		/* request streams of this pass */
	char	   *next_url;		/* the next page's URL, or NULL */
	List	   *seen_urls;		/* URLs already fetched in this stream */
	bool		started;		/* streams built for this pass */
	bool		done;			/* no more pages */
	MemoryContext scan_cxt;		/* lives as long as the scan */
	MemoryContext pass_cxt;		/* reset at each rescan */
	MemoryContext page_cxt;		/* reset before each page */
	TempoPage  *page;			/* the current page, or NULL */
	TempoScanStats stats;		/* for EXPLAIN ANALYZE */
} TempoFdwScanState;

/* Worklogs a Tempo table is assumed to hold (a company-year) */
#define DEFAULT_ROWS 100000.0
/* ... spread over this many days */
#define DEFAULT_DAYS 365.0
/* Cost of one HTTP round trip, in sequential page fetch units */
#define REQUEST_COST 100.0
/* Rows one parameterized request is assumed to return */
#define ROWS_PER_KEY 200.0

/* Fail early for resources this version cannot scan. */
static void
check_resource(TempoFdwOptions *opts)
{
	if (opts->resource != TEMPO_RES_WORKLOGS)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("resource \"%s\" is not supported yet",
						tempo_resource_name(opts->resource))));
}

/* Cost of a scan returning rows in pages of page_size over nstreams. */
static void
scan_cost(double rows, int page_size, int nstreams, Cost *startup, Cost *total)
{
	double		pages = Max(ceil(rows / page_size), 1.0) + (nstreams - 1);

	*startup = REQUEST_COST;
	*total = pages * REQUEST_COST + rows * cpu_tuple_cost * 10;
}

/*
 * tempoGetForeignRelSize
 *		Read the options, find the columns used and the conditions the API
 *		can apply, and estimate the rows from the pushed date range.
 */
void
tempoGetForeignRelSize(PlannerInfo *root, RelOptInfo *baserel,
					   Oid foreigntableid)
{
	TempoFdwPlanState *ps = palloc0(sizeof(TempoFdwPlanState));
	Oid			userid = OidIsValid(baserel->userid) ? baserel->userid : GetUserId();
	List	   *other = NIL;
	double		days;
	ListCell   *lc;

	ps->opts = tempo_get_options(foreigntableid,
								 GetForeignTable(foreigntableid)->serverid,
								 userid);
	check_resource(ps->opts);
	pull_varattnos((Node *) baserel->reltarget->exprs, baserel->relid,
				   &ps->attrs_used);
	ps->all_exact = true;
	foreach(lc, baserel->baserestrictinfo)
	{
		RestrictInfo *ri = lfirst_node(RestrictInfo, lc);
		TempoFilter f;

		pull_varattnos((Node *) ri->clause, baserel->relid, &ps->attrs_used);
		if (tempo_enable_pushdown &&
			tempo_classify(baserel, foreigntableid, ps->opts->resource, ri->clause, &f))
		{
			ps->filters = lappend(ps->filters, palloc_object(TempoFilter));
			*(TempoFilter *) llast(ps->filters) = f;
			ps->all_exact &= f.exact;
			if (f.kind == TEMPO_FILTER_DATE_LOWER || f.kind == TEMPO_FILTER_DATE_UPPER ||
				f.kind == TEMPO_FILTER_DATE_EQ)
				continue;
		}
		else
			ps->all_exact = false;
		other = lappend(other, ri);
	}

	days = tempo_date_range_days(ps->filters);
	baserel->rows = clamp_row_est((days >= 0 ? days * DEFAULT_ROWS / DEFAULT_DAYS : DEFAULT_ROWS) *
								  clauselist_selectivity(root, other, 0, JOIN_INNER, NULL));
	baserel->fdw_private = ps;
}

/* generate_implied_equalities_for_column callback: is em our column? */
static bool
is_key_column(PlannerInfo *root, RelOptInfo *rel, EquivalenceClass *ec,
			  EquivalenceMember *em, void *arg)
{
	Var		   *var = (Var *) em->em_expr;

	return IsA(var, Var) && (Index) var->varno == rel->relid &&
		var->varattno == *(AttrNumber *) arg && var->varlevelsup == 0;
}

/* Add a path parameterized by the outer rels of one join clause. */
static void
add_param_path(PlannerInfo *root, RelOptInfo *baserel, Oid relid,
			   TempoFdwPlanState *ps, RestrictInfo *ri, List **done)
{
	TempoFilter f;
	Relids		required_outer;
	ParamPathInfo *ppi;
	Cost		startup,
				total;
	double		rows;

	if (!join_clause_is_movable_to(ri, baserel) ||
		!tempo_classify(baserel, relid, ps->opts->resource, ri->clause, &f) ||
		(f.kind != TEMPO_FILTER_ISSUE && f.kind != TEMPO_FILTER_AUTHOR))
		return;
	required_outer = bms_difference(ri->clause_relids, baserel->relids);
	if (bms_is_empty(required_outer) || list_member(*done, required_outer))
		return;
	*done = lappend(*done, required_outer);

	ppi = get_baserel_parampathinfo(root, baserel, required_outer);
	rows = Min(ppi->ppi_rows, ROWS_PER_KEY);
	scan_cost(rows, ps->opts->page_size, 1, &startup, &total);
	add_path(baserel, (Path *)
			 create_foreignscan_path(root, baserel, NULL, rows, startup, total,
									 NIL, required_outer, NULL, NIL));
}

/*
 * tempoGetForeignPaths
 *		The plain path, and paths parameterized by a join key on issue_id or
 *		author_account_id, so that a nested loop from a small outer table
 *		asks the API for each key instead of reading everything.
 */
void
tempoGetForeignPaths(PlannerInfo *root, RelOptInfo *baserel,
					 Oid foreigntableid)
{
	TempoFdwPlanState *ps = baserel->fdw_private;
	Cost		startup,
				total;
	List	   *done = NIL;
	ListCell   *lc;

	scan_cost(baserel->rows, ps->opts->page_size, 1, &startup, &total);
	add_path(baserel, (Path *)
			 create_foreignscan_path(root, baserel, NULL, baserel->rows,
									 startup, total, NIL, NULL, NULL, NIL));

	if (!tempo_enable_pushdown)
		return;

	/* join clauses that are equivalences: a.id = w.issue_id */
	for (int i = 0; i < tempo_resource_def(ps->opts->resource)->ncolumns; i++)
	{
		const char *name = tempo_resource_def(ps->opts->resource)->columns[i].name;
		AttrNumber	attno;
		List	   *clauses;

		if (strcmp(name, "issue_id") != 0 && strcmp(name, "author_account_id") != 0)
			continue;
		attno = get_attnum(foreigntableid, name);
		if (attno == InvalidAttrNumber)
			continue;
		clauses = generate_implied_equalities_for_column(root, baserel, is_key_column,
														 &attno, baserel->lateral_referencers);
		foreach(lc, clauses)
			add_param_path(root, baserel, foreigntableid, ps, lfirst(lc), &done);
	}
	/* other join clauses, e.g. w.issue_id = ANY (a.ids) */
	foreach(lc, baserel->joininfo)
		add_param_path(root, baserel, foreigntableid, ps, lfirst(lc), &done);
}

/* Is the query one foreign table, filtered only by exact API filters,
 * with nothing between the scan and the LIMIT that could drop rows? */
static bool
limit_is_safe(PlannerInfo *root, TempoFdwPlanState *ps, ForeignPath *path)
{
	Query	   *parse = root->parse;

	return tempo_enable_pushdown && root->limit_tuples > 0 &&
		path->path.param_info == NULL && ps->all_exact &&
		bms_membership(root->all_baserels) == BMS_SINGLETON &&
		list_length(parse->rtable) == 1 && parse->sortClause == NIL &&
		parse->groupClause == NIL && parse->distinctClause == NIL &&
		!parse->hasAggs && !parse->hasWindowFuncs && !parse->hasTargetSRFs &&
		parse->havingQual == NULL && parse->setOperations == NULL &&
		parse->groupingSets == NIL;
}

/*
 * tempoGetForeignPlan
 *		Every condition stays in the local filter; the pushable ones also
 *		travel, with their value expressions in fdw_exprs, to the executor.
 */
ForeignScan *
tempoGetForeignPlan(PlannerInfo *root, RelOptInfo *baserel,
					Oid foreigntableid, ForeignPath *best_path,
					List *tlist, List *scan_clauses, Plan *outer_plan)
{
	TempoFdwPlanState *ps = baserel->fdw_private;
	List	   *attrs = NIL;
	List	   *codes = NIL;
	List	   *exprs = NIL;
	StringInfoData text;
	int			limit = ps->opts->page_size;
	int			attno = -1;
	ListCell   *lc;

	while ((attno = bms_next_member(ps->attrs_used, attno)) >= 0)
		attrs = lappend_int(attrs, attno + FirstLowInvalidHeapAttributeNumber);

	initStringInfo(&text);
	foreach(lc, scan_clauses)
	{
		RestrictInfo *ri = lfirst_node(RestrictInfo, lc);
		TempoFilter f;

		if (!tempo_enable_pushdown ||
			!tempo_classify(baserel, foreigntableid, ps->opts->resource, ri->clause, &f))
			continue;
		codes = lappend_int(codes, FILTER_CODE(&f));
		exprs = lappend(exprs, f.value);
		appendStringInfo(&text, "%s%s", text.len ? ", " : "", f.text);
	}

	if (limit_is_safe(root, ps, best_path))
		limit = (int) Max(Min((double) limit, root->limit_tuples), 1.0);

	scan_clauses = extract_actual_clauses(scan_clauses, false);
	return make_foreignscan(tlist, scan_clauses, baserel->relid, exprs,
							list_make4(attrs, codes, makeInteger(limit),
									   makeString(text.data)),
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
	st->pass_cxt = AllocSetContextCreate(st->scan_cxt,
										 "tempo_fdw pass", ALLOCSET_SMALL_SIZES);
	st->page_cxt = AllocSetContextCreate(st->scan_cxt,
										 "tempo_fdw page", ALLOCSET_DEFAULT_SIZES);
	oldcxt = MemoryContextSwitchTo(st->scan_cxt);

	st->opts = tempo_get_options(RelationGetRelid(rel), table->serverid, userid);
	foreach(lc, attrs)
		attrs_used = bms_add_member(attrs_used,
									lfirst_int(lc) - FirstLowInvalidHeapAttributeNumber);
	st->rowplan = tempo_make_row_plan(rel, st->opts->resource, attrs_used);
	st->filter_codes = (List *) list_nth(fsplan->fdw_private, TempoScanPrivateFilters);
	st->filter_states = ExecInitExprList(fsplan->fdw_exprs, (PlanState *) node);
	st->limit = intVal(list_nth(fsplan->fdw_private, TempoScanPrivateLimit));

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
 * start_pass
 *		Evaluate the filter values (parameters are known now) and build the
 *		request streams of this pass.
 */
static void
start_pass(ForeignScanState *node, TempoFdwScanState *st)
{
	ExprContext *econtext = node->ss.ps.ps_ExprContext;
	List	   *filters = NIL;
	ListCell   *lc1,
			   *lc2;
	MemoryContext oldcxt;

	MemoryContextReset(st->pass_cxt);
	oldcxt = MemoryContextSwitchTo(st->pass_cxt);
	forboth(lc1, st->filter_codes, lc2, st->filter_states)
	{
		int			code = lfirst_int(lc1);
		TempoFilter *f = palloc0(sizeof(TempoFilter));

		f->kind = code & 15;
		f->strict = (code & 16) != 0;
		f->array = (code & 32) != 0;
		f->value = ((ExprState *) lfirst(lc2))->expr;
		f->datum = ExecEvalExpr((ExprState *) lfirst(lc2), econtext, &f->isnull);
		f->known = true;
		filters = lappend(filters, f);
	}
	st->streams = tempo_build_requests(filters, st->limit);
	st->nstreams = list_length(st->streams);
	st->first_url = st->streams ? psprintf("%s%s", st->opts->tempo_url,
										   (char *) linitial(st->streams)) : NULL;
	st->next_url = NULL;
	st->seen_urls = NIL;
	st->started = true;
	st->done = (st->streams == NIL);
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
	if (st->next_url == NULL)
	{
		/* the next request stream: the first page of its path */
		st->next_url = MemoryContextStrdup(st->pass_cxt,
										   psprintf("%s%s", st->opts->tempo_url,
													(char *) linitial(st->streams)));
		st->streams = list_delete_first(st->streams);
		st->seen_urls = NIL;
	}
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
	MemoryContextSwitchTo(st->pass_cxt);
	st->seen_urls = lappend(st->seen_urls, st->next_url);
	st->next_url = NULL;
	if (next == NULL)
		st->done = (st->streams == NIL);
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
	if (!st->started)
		start_pass(node, st);
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
 *		Start again: the filter values (join keys) are evaluated anew.
 */
void
tempoReScanForeignScan(ForeignScanState *node)
{
	TempoFdwScanState *st = node->fdw_state;

	MemoryContextReset(st->page_cxt);
	st->page = NULL;
	st->started = false;
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
		List	   *filters = NIL;
		List	   *streams;
		ListCell   *lc1,
				   *lc2;
		char	   *filter_text = strVal(list_nth(fsplan->fdw_private,
												  TempoScanPrivateFilterText));

		opts = tempo_get_options(RelationGetRelid(rel),
								 GetForeignTable(RelationGetRelid(rel))->serverid,
								 GetUserId());
		if (st != NULL && st->first_url != NULL)
			streams = list_make1(tempo_url_path(st->first_url));
		else
		{
			/* before execution: constants are known, parameters are not */
			forboth(lc1, (List *) list_nth(fsplan->fdw_private, TempoScanPrivateFilters),
					lc2, fsplan->fdw_exprs)
			{
				int			code = lfirst_int(lc1);
				TempoFilter *f = palloc0(sizeof(TempoFilter));
				Expr	   *v = (Expr *) lfirst(lc2);

				f->kind = code & 15;
				f->strict = (code & 16) != 0;
				f->array = (code & 32) != 0;
				f->value = v;
				if (IsA(v, Const))
				{
					f->known = true;
					f->datum = ((Const *) v)->constvalue;
					f->isnull = ((Const *) v)->constisnull;
				}
				filters = lappend(filters, f);
			}
			streams = tempo_build_requests(filters,
										   intVal(list_nth(fsplan->fdw_private,
														   TempoScanPrivateLimit)));
			if (streams != NIL)
				streams = list_make1(psprintf("%s%s", tempo_url_path(opts->tempo_url),
											  (char *) linitial(streams)));
		}
		ExplainPropertyText("Tempo request",
							streams ? psprintf("GET %s", (char *) linitial(streams))
							: "none (the conditions exclude every row)",
							es);
		if (filter_text[0])
			ExplainPropertyText("Tempo filters", filter_text, es);
	}
	if (es->analyze && st != NULL)
	{
		ExplainPropertyInteger("Tempo request streams", NULL, st->nstreams, es);
		ExplainPropertyInteger("Tempo pages", NULL, st->stats.pages, es);
		ExplainPropertyInteger("Tempo requests", NULL, st->stats.requests, es);
		ExplainPropertyInteger("Tempo retries", NULL, st->stats.retries, es);
		ExplainPropertyInteger("Tempo bytes", NULL, st->stats.bytes, es);
	}
}
