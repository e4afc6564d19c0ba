/*-------------------------------------------------------------------------
 *
 * scan.c
 *		  The executor callbacks of tempo_fdw: begin, iterate, rescan, end,
 *		  explain; and the fallback from Tempo to Jira.
 *
 * Nothing is fetched until the first row is asked for.  Then the values of
 * the pushed conditions are evaluated (parameters and join keys are known
 * by now), pushdown.c turns them into request streams, and pager.c turns
 * the streams into pages, each parsed into a page memory context that is
 * reset before the next: memory stays bounded by one page whatever the size
 * of the result.
 *
 * The fallback: when the first Tempo request of a worklogs scan fails for a
 * reason Jira may not share (no token, 401, 403, a connection failure or
 * timeout, a 5xx after retries) and the server's "fallback" is jira, the
 * scan emits one WARNING naming the cause and what it means, and reads
 * Jira's worklogs instead, with source = 'jira'; fallback.c records it as
 * the server's last fallback.  With the GUC tempo_fdw.fallback off (refresh
 * and sync set it), the failure is the ERROR it is with fallback 'off'.
 * Requests that are wrong (400, 404, bad JSON) never fall back: they are
 * errors.  A failure after rows were returned is an error too: mixing
 * sources would be wrong.
 *
 * When the query uses jira_worklog_id, each Tempo page's Jira twins are
 * asked for before its rows are converted (twins.c).
 *
 * Copyright (c) 2026, tempo_fdw developers
 *
 * IDENTIFICATION
 *		  src/scan.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "commands/explain.h"
#include "executor/executor.h"
#include "foreign/fdwapi.h"
#include "foreign/foreign.h"
#include "miscadmin.h"
#include "access/htup_details.h"
#include "nodes/nodeFuncs.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "tempo_fdw.h"
#include "failure.h"

/* Executor state, in node->fdw_state */
typedef struct TempoFdwScanState
{
	TempoFdwOptions *opts;		/* merged options */
	TempoRowPlan *rowplan;		/* column conversion plan in use */
	Bitmapset  *attrs_used;		/* columns the query uses */
	List	   *filter_codes;	/* from fdw_private */
	List	   *filter_states;	/* ExprStates of the filter values */
	int			limit;			/* "limit" of each page */
	TempoOrder	order;			/* the order the plan relies on */
	TempoPager *pager;			/* pages of the request streams */
	bool		started;		/* the pass's streams are built */
	bool		done;			/* no more pages in this pass */
	bool		fell_back;		/* reading Jira instead of Tempo */
	Oid			serverid;		/* the table's server */
	int64		fallback_key;	/* its record in fallback.c */
	int64		jira_rows;		/* rows returned from Jira */
	char	   *fallback_cause; /* why, for EXPLAIN ANALYZE */
	char	   *first_request;	/* method and path, for EXPLAIN ANALYZE */
	bool		first_is_jira;	/* ... and which API it went to */
	int			nstreams;		/* request streams of the pass */
	uint32		rows;			/* rows returned, to pump pages ahead */
	List	   *filters;		/* the pass's evaluated filters */
	double		pass_rows;		/* rows the pass returned */
	int64		total_rows;		/* rows returned by every pass */
	TempoResource resource;		/* for stats.c, when the scan's memory goes */
	bool		ended;			/* EndForeignScan ran: no error */
	MemoryContextCallback stats_cb; /* adds the counters to stats.c */
	MemoryContext scan_cxt;		/* lives as long as the scan */
	MemoryContext pass_cxt;		/* reset at each (re)start */
	MemoryContext page_cxt;		/* reset before each page */
	TempoPage  *page;			/* the current page, or NULL */
	TempoParser *twin_parser;	/* parses the pages of Jira twins */
	TempoScanStats stats;		/* for EXPLAIN ANALYZE */
	TempoKeySource keysrc;		/* worklogs: the page's keys (keybatch.c) */
	TempoKeyCache *keycache;	/* a join key read in batches, or NULL */
	int			key_filter;		/* ... its filter's position */
	AttrNumber	key_attno;		/* ... the column of a row's key */
	List	   *cached_rows;	/* ... the rows of the key still to return */
	int64		key_batches;	/* ... batches read */
	char	   *batch_request;	/* ... the last batch's first request */
} TempoFdwScanState;

/* What a table's scan reads, before any fallback. */
static TempoTarget
scan_target(TempoResource resource, bool fell_back)
{
	TempoTarget target;

	if (tempo_dims_target(resource, &target))
		return target;
	if (resource == TEMPO_RES_USER_SCHEDULES)
		return TEMPO_TARGET_SCHEDULES;
	if (resource == TEMPO_RES_WORKLOG_DELETIONS)
		return TEMPO_TARGET_DELETIONS;
	if (resource == TEMPO_RES_JIRA_USERS)
		return TEMPO_TARGET_JIRA_USERS;
	if (resource == TEMPO_RES_JIRA_PROJECTS)
		return TEMPO_TARGET_JIRA_PROJECTS;
	if (resource == TEMPO_RES_JIRA_ISSUES)
		return TEMPO_TARGET_JIRA_ISSUES;
	if (resource == TEMPO_RES_JIRA_WORKLOGS || fell_back)
		return TEMPO_TARGET_JIRA_WORKLOGS;
	return TEMPO_TARGET_TEMPO_WORKLOGS;
}

/* Decode the filters of a plan; values from consts (or evaluated later). */
static List *
plan_filters(List *codes, List *exprs)
{
	List	   *filters = NIL;
	ListCell   *lc1,
			   *lc2;

	forboth(lc1, codes, lc2, exprs)
	{
		TempoFilter *f = palloc0(sizeof(TempoFilter));
		Expr	   *v = (Expr *) lfirst(lc2);

		TEMPO_FILTER_DECODE(f, lfirst_int(lc1));
		f->value = v;
		if (IsA(v, Const))
		{
			f->known = true;
			f->datum = ((Const *) v)->constvalue;
			f->isnull = ((Const *) v)->constisnull;
		}
		filters = lappend(filters, f);
	}
	return filters;
}

/*
 * add_stats
 *		The scan's memory is going, at its end or at an abort: add its
 *		counters to stats.c (an error, unless EndForeignScan ran).
 */
static void
add_stats(void *arg)
{
	TempoFdwScanState *st = arg;

	tempo_stats_add(st->serverid, st->resource, &st->stats, st->total_rows,
					st->fell_back, !st->ended,
					st->ended ? TEMPO_ERR_OTHER : tempo_failure_take_class());
	tempo_activity_end();
}

/* The JSON path of a column of a resource, or NULL. */
static const char *
column_path(const TempoResourceDef *def, const char *name)
{
	for (int i = 0; i < def->ncolumns; i++)
		if (strcmp(def->columns[i].name, name) == 0)
			return def->columns[i].path;
	return NULL;
}

/*
 * setup_key_batches
 *		A worklogs scan offers its pages' issue and author ids to the scans
 *		of its query; a scan of jira_issues or jira_users whose only
 *		non-constant filter is a join key (id or account_id = outer column)
 *		reads that key in batches (keybatch.c).
 */
static void
setup_key_batches(ForeignScanState *node, TempoFdwScanState *st, List *exprs)
{
	TempoResource res = st->opts->resource;
	int			kind = res == TEMPO_RES_JIRA_ISSUES ? TEMPO_FILTER_ID : TEMPO_FILTER_AUTHOR;
	ListCell   *lc1,
			   *lc2;

	st->key_filter = -1;
	if (res == TEMPO_RES_WORKLOGS || res == TEMPO_RES_JIRA_WORKLOGS)
	{
		st->keysrc.estate = node->ss.ps.state;
		st->keysrc.issue_path = column_path(tempo_resource_def(res), "issue_id");
		st->keysrc.account_path = column_path(tempo_resource_def(res), "author_account_id");
		tempo_keys_register(&st->keysrc, st->scan_cxt);
		return;
	}
	if (res != TEMPO_RES_JIRA_ISSUES && res != TEMPO_RES_JIRA_USERS)
		return;
	forboth(lc1, st->filter_codes, lc2, exprs)
	{
		TempoFilter f;
		Expr	   *e = lfirst(lc2);

		TEMPO_FILTER_DECODE(&f, lfirst_int(lc1));
		if (IsA(e, Const))
			continue;
		if (f.kind != kind || f.array || st->key_filter >= 0 || !IsA(e, Param) ||
			((Param *) e)->paramkind != PARAM_EXEC)
			return;				/* not a join key alone */
		st->key_filter = foreach_current_index(lc1);
	}
	if (st->key_filter < 0)
		return;
	st->key_attno = get_attnum(RelationGetRelid(node->ss.ss_currentRelation),
							   res == TEMPO_RES_JIRA_ISSUES ? "id" : "account_id");
	if (st->key_attno == InvalidAttrNumber)
	{
		st->key_filter = -1;
		return;
	}
	st->keycache = tempo_key_cache_create(st->scan_cxt);
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
	ListCell   *lc;
	MemoryContext oldcxt;

	if (eflags & EXEC_FLAG_EXPLAIN_ONLY)
		return;

	st = palloc0(sizeof(TempoFdwScanState));
	node->fdw_state = st;
	st->scan_cxt = AllocSetContextCreate(node->ss.ps.state->es_query_cxt,
										 "tempo_fdw scan", ALLOCSET_DEFAULT_SIZES);
	st->pass_cxt = AllocSetContextCreate(st->scan_cxt,
										 "tempo_fdw filters", ALLOCSET_SMALL_SIZES);
	st->page_cxt = AllocSetContextCreate(st->scan_cxt,
										 "tempo_fdw page", ALLOCSET_DEFAULT_SIZES);
	oldcxt = MemoryContextSwitchTo(st->scan_cxt);

	st->serverid = table->serverid;
	st->opts = tempo_get_options(RelationGetRelid(rel), table->serverid, userid);
	st->resource = st->opts->resource;
	st->stats_cb.func = add_stats;
	st->stats_cb.arg = st;
	MemoryContextRegisterResetCallback(st->scan_cxt, &st->stats_cb);
	tempo_activity_begin(st->serverid, RelationGetRelid(rel));
	(void) tempo_failure_take_class();	/* a class from an earlier scan is not
										 * this one's */
	foreach(lc, (List *) list_nth(fsplan->fdw_private, TempoScanPrivateAttrs))
		st->attrs_used = bms_add_member(st->attrs_used,
										lfirst_int(lc) - FirstLowInvalidHeapAttributeNumber);
	st->rowplan = tempo_make_row_plan(rel, tempo_resource_def(st->opts->resource),
									  st->attrs_used);
	st->filter_codes = (List *) list_nth(fsplan->fdw_private, TempoScanPrivateFilters);
	st->filter_states = ExecInitExprList(fsplan->fdw_exprs, (PlanState *) node);
	st->limit = intVal(list_nth(fsplan->fdw_private, TempoScanPrivateLimit));
	st->order = (TempoOrder) intVal(list_nth(fsplan->fdw_private, TempoScanPrivateOrder));
	st->pager = tempo_pager_create(st->opts,
								   tempo_get_connection(table->serverid, userid),
								   &st->stats, tempo_row_plan_uses_text(st->rowplan),
								   st->scan_cxt);
	setup_key_batches(node, st, fsplan->fdw_exprs);
	MemoryContextSwitchTo(oldcxt);
}

static void start_streams(TempoFdwScanState *st, List *streams);
static void learn_rows(ForeignScanState *node, TempoFdwScanState *st);

/* A join key's value as text (an id or an account id). */
static char *
key_text(Datum d, Oid type)
{
	if (type == TEXTOID)
		return TextDatumGetCString(d);
	return psprintf(INT64_FORMAT, type == INT4OID ? (int64) DatumGetInt32(d) :
					type == INT2OID ? (int64) DatumGetInt16(d) : DatumGetInt64(d));
}

/* The batch's keys as the array of an = ANY filter in place of f's value. */
static void
batch_filter(TempoFilter *f, List *keys, bool ids)
{
	Datum	   *elems = palloc(sizeof(Datum) * list_length(keys));
	ListCell   *lc;

	foreach(lc, keys)
	{
		if (ids)
			elems[foreach_current_index(lc)] = Int64GetDatum(strtoll(lfirst(lc), NULL, 10));
		else
			elems[foreach_current_index(lc)] = CStringGetTextDatum(lfirst(lc));
	}
	f->datum = PointerGetDatum(ids ?
							   construct_array(elems, list_length(keys), INT8OID, 8,
											   FLOAT8PASSBYVAL, TYPALIGN_DOUBLE) :
							   construct_array(elems, list_length(keys), TEXTOID, -1,
											   false, TYPALIGN_INT));
	f->array = true;
}

/* Read every page of the streams into the key cache, by each row's key. */
static void
fill_key_cache(ForeignScanState *node, TempoFdwScanState *st)
{
	TupleDesc	desc = RelationGetDescr(node->ss.ss_currentRelation);
	Datum	   *values = palloc(sizeof(Datum) * desc->natts);
	bool	   *nulls = palloc(sizeof(bool) * desc->natts);
	Oid			keytype = TupleDescAttr(desc, st->key_attno - 1)->atttypid;
	bool		failed;

	for (;;)
	{
		MemoryContext oldcxt;

		MemoryContextReset(st->page_cxt);
		st->page = tempo_pager_next(st->pager, st->page_cxt, NULL, &failed);
		if (st->page == NULL)
			break;
		oldcxt = MemoryContextSwitchTo(st->page_cxt);
		while (tempo_page_next_row(st->page, st->rowplan, values, nulls))
		{
			if (nulls[st->key_attno - 1])
				continue;		/* no key: joins nothing */
			tempo_key_cache_add(st->keycache, key_text(values[st->key_attno - 1], keytype),
								desc, values, nulls);
			st->pass_rows += 1;
		}
		MemoryContextSwitchTo(oldcxt);
	}
	MemoryContextReset(st->page_cxt);
	st->page = NULL;
}

/*
 * read_key_batch
 *		A rescan with a join key: its rows from the batch read last, or a
 *		new batch of the keys of the outer worklogs page that holds it
 *		(keybatch.c).  In the pass context.
 */
static void
read_key_batch(ForeignScanState *node, TempoFdwScanState *st, List *filters,
			   TempoTarget target)
{
	TempoFilter *f = list_nth(filters, st->key_filter);
	bool		ids = (target == TEMPO_TARGET_JIRA_ISSUES);
	char	   *key;
	List	   *keys;

	st->filters = filters;
	st->started = true;
	st->done = true;
	st->cached_rows = NIL;
	if (f->isnull)
		return;					/* a NULL key joins nothing */
	key = key_text(f->datum, exprType((Node *) f->value));
	if (!tempo_key_cache_has(st->keycache, key))
	{
		keys = tempo_keys_batch(node->ss.ps.state, !ids, key);
		tempo_key_cache_start(st->keycache, keys);
		batch_filter(f, keys, ids);
		start_streams(st, tempo_build_requests(target, filters, st->limit, st->order));
		fill_key_cache(node, st);
		st->key_batches++;
		/* EXPLAIN shows the last batch's request: keep it beyond this pass */
		st->batch_request = st->first_request ?
			MemoryContextStrdup(st->scan_cxt, st->first_request) : NULL;
	}
	st->first_request = st->batch_request;
	st->cached_rows = tempo_key_cache_rows(st->keycache, key);
}

/*
 * start_pass
 *		Evaluate the filter values and start the request streams of a pass.
 */
static void
start_pass(ForeignScanState *node, TempoFdwScanState *st)
{
	ExprContext *econtext = node->ss.ps.ps_ExprContext;
	TempoTarget target = scan_target(st->opts->resource, st->fell_back);
	List	   *filters;
	List	   *streams;
	ListCell   *lc1,
			   *lc2;
	MemoryContext oldcxt;

	MemoryContextReset(st->pass_cxt);
	oldcxt = MemoryContextSwitchTo(st->pass_cxt);
	filters = NIL;
	forboth(lc1, st->filter_codes, lc2, st->filter_states)
	{
		TempoFilter *f = palloc0(sizeof(TempoFilter));

		TEMPO_FILTER_DECODE(f, lfirst_int(lc1));
		f->value = ((ExprState *) lfirst(lc2))->expr;
		f->datum = ExecEvalExpr((ExprState *) lfirst(lc2), econtext, &f->isnull);
		f->known = true;
		filters = lappend(filters, f);
	}
	if (st->keycache != NULL)
	{
		read_key_batch(node, st, filters, target);
		MemoryContextSwitchTo(oldcxt);
		return;
	}
	streams = tempo_build_requests(target, filters, st->limit, st->order);
	st->filters = filters;
	start_streams(st, streams);
	MemoryContextSwitchTo(oldcxt);
}

/*
 * start_streams
 *		Start a pass of the pager over the streams.
 */
static void
start_streams(TempoFdwScanState *st, List *streams)
{
	TempoTarget dims_target;
	ListCell   *lc;

	st->pass_rows = 0;
	st->nstreams = list_length(streams);
	st->first_request = NULL;
	foreach(lc, streams)
	{
		TempoStream *s = lfirst(lc);

		st->first_request = psprintf("%s %s%s%s", s->body ? "POST" : "GET",
									 tempo_url_path(psprintf("%s%s",
															 s->jira ? st->opts->jira_url : st->opts->tempo_url,
															 s->path)),
									 s->body ? " " : "", s->body ? s->body : "");
		st->first_is_jira = s->jira;
		break;
	}

	/*
	 * pages ahead only for whole scans of worklogs: a LIMIT wants no requests
	 * to spare, nor does a small table (teams, accounts, ...)
	 */
	tempo_pager_start(st->pager, streams,
					  st->fell_back ? st->fallback_cause : NULL,
					  st->limit < st->opts->page_size ||
					  tempo_dims_target(st->opts->resource, &dims_target) ?
					  1 : st->opts->max_concurrency,
					  st->limit);
	st->started = true;
	st->done = false;
}

/*
 * fall_back
 *		Say, once, that and why the scan reads Jira, then restart it there.
 */
static void
fall_back(ForeignScanState *node, TempoFdwScanState *st,
		  const TempoHttpResponse *failure)
{
	Relation	rel = node->ss.ss_currentRelation;
	MemoryContext oldcxt = MemoryContextSwitchTo(st->scan_cxt);

	st->fallback_cause = tempo_failure_cause(failure);
	st->fallback_key = tempo_fallback_record(st->serverid, RelationGetRelid(rel),
											 st->fallback_cause);
	ereport(WARNING,
			(errcode(ERRCODE_TEMPO_FALLBACK),
			 errmsg("Tempo cannot serve foreign table \"%s\" (%s): reading the worklogs from Jira instead",
					RelationGetRelationName(rel), st->fallback_cause),
			 errdetail("In Jira, worklogs logged through Tempo belong to the Tempo app user, not the worker, and carry no billable time or work attributes; these rows have source = 'jira'."),
			 errhint("Check the connection with SELECT * FROM tempo_fdw.check_connection('%s'), or set the server option fallback 'off' to make this an error.",
					 GetForeignServer(st->serverid)->servername)));
	st->fell_back = true;
	st->keysrc.issue_path = column_path(tempo_fallback_def(), "issue_id");
	st->keysrc.account_path = column_path(tempo_fallback_def(), "author_account_id");
	st->rowplan = tempo_make_row_plan(rel, tempo_fallback_def(), st->attrs_used);
	tempo_row_plan_set(st->rowplan, "jira", NULL);
	MemoryContextSwitchTo(oldcxt);
	start_pass(node, st);
}

/*
 * learn_rows
 *		A pass read to its end: tell estimate.c what a whole scan of the
 *		table (or of a date range of worklogs) returned.  Not after a
 *		fallback, under a pushed LIMIT, or with conditions on other columns.
 */
static void
learn_rows(ForeignScanState *node, TempoFdwScanState *st)
{
	double		days = tempo_filter_scan_days(st->filters);
	TempoResource res = st->opts->resource;

	if (st->fell_back || st->limit < st->opts->page_size || days < -1 ||
		!(res == TEMPO_RES_WORKLOGS || (res == TEMPO_RES_JIRA_WORKLOGS && days == -1)))
		return;
	tempo_estimate_learn(RelationGetRelid(node->ss.ss_currentRelation), days, st->pass_rows);
}

/*
 * set_twins
 *		The Jira twins of the current Tempo page's worklogs, for the column
 *		jira_worklog_id (twins.c), in the page's context.
 */
static void
set_twins(ForeignScanState *node, TempoFdwScanState *st)
{
	Oid			userid = TEMPO_SCAN_USER(node);
	MemoryContext oldcxt;
	int64	   *ids;
	int64	   *pairs;
	int			nids;
	int			npairs;

	if (st->twin_parser == NULL)
		st->twin_parser = tempo_parser_create(st->scan_cxt, false, st->opts);
	oldcxt = MemoryContextSwitchTo(st->page_cxt);
	ids = palloc(sizeof(int64) * Max(tempo_page_nrows(st->page), 1));
	nids = tempo_page_ints(st->page, "tempoWorklogId", ids);
	pairs = tempo_fetch_twins(st->opts, tempo_get_connection(st->serverid, userid),
							  &st->stats, st->twin_parser, ids, nids, &npairs);
	tempo_row_plan_set_twins(st->rowplan, pairs, npairs);
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
	if (st->cached_rows != NIL)
	{
		HeapTuple	tuple = linitial(st->cached_rows);

		st->cached_rows = list_delete_first(st->cached_rows);
		heap_deform_tuple(tuple, slot->tts_tupleDescriptor, slot->tts_values,
						  slot->tts_isnull);
		st->total_rows++;
		ExecStoreVirtualTuple(slot);
		return slot;
	}
	for (;;)
	{
		TempoHttpResponse failure;
		bool		failed;
		bool		may_fall_back;

		if (st->page != NULL &&
			tempo_page_next_row(st->page, st->rowplan, slot->tts_values,
								slot->tts_isnull))
		{
			/* now and then, let the pages ahead arrive meanwhile */
			if ((++st->rows & 255) == 0)
				tempo_pager_pump(st->pager);
			if (st->fell_back)
				st->jira_rows++;
			st->pass_rows += 1;
			st->total_rows++;
			ExecStoreVirtualTuple(slot);
			return slot;
		}
		if (st->done)
			return slot;

		st->keysrc.page = NULL;
		MemoryContextReset(st->page_cxt);
		st->page = NULL;
		if (st->fell_back)
			tempo_fallback_count(st->serverid, st->fallback_key, st->jira_rows);
		/* Jira's rows would not come in the order the plan relies on */
		may_fall_back = st->opts->resource == TEMPO_RES_WORKLOGS &&
			!st->fell_back && st->opts->fallback == TEMPO_FALLBACK_JIRA &&
			tempo_fallback_enabled && st->order == TEMPO_ORDER_NONE;
		st->page = tempo_pager_next(st->pager, st->page_cxt,
									may_fall_back ? &failure : NULL, &failed);
		if (failed)
		{
			if (!tempo_failure_falls_back(&failure))
				tempo_pager_raise(st->pager, &failure);
			fall_back(node, st, &failure);
			continue;
		}
		if (st->page == NULL)
		{
			st->done = true;
			learn_rows(node, st);
		}
		else
		{
			st->keysrc.page = st->page;
			tempo_activity_progress(&st->stats, st->total_rows);
			if (!st->fell_back)
			{
				tempo_row_plan_set(st->rowplan, "tempo", tempo_pager_key(st->pager));
				if (tempo_row_plan_uses_twins(st->rowplan))
					set_twins(node, st);
			}
		}
	}
}

/*
 * tempoReScanForeignScan
 *		Start again: the filter values (join keys) are evaluated anew.  A
 *		scan that fell back stays on Jira, without a second WARNING.
 */
void
tempoReScanForeignScan(ForeignScanState *node)
{
	TempoFdwScanState *st = node->fdw_state;

	st->keysrc.page = NULL;
	MemoryContextReset(st->page_cxt);
	st->page = NULL;
	st->started = false;
	st->done = false;
	st->cached_rows = NIL;
}

/*
 * tempoEndForeignScan
 *		Free the scan's memory; the page context's reset callback frees the
 *		cJSON tree, the connection stays cached for the next query.
 */
void
tempoEndForeignScan(ForeignScanState *node)
{
	TempoFdwScanState *st = node->fdw_state;

	if (st == NULL)
		return;
	if (st->fell_back)
		tempo_fallback_count(st->serverid, st->fallback_key, st->jira_rows);
	tempo_pager_end(st->pager);
	st->ended = true;
	MemoryContextDelete(st->scan_cxt);
	node->fdw_state = NULL;
}

/*
 * explain_waits
 *		EXPLAIN ANALYZE: 429s and the time waited, when there were any (in
 *		text format; always in the others), so that plans stay comparable.
 */
static void
explain_waits(const TempoScanStats *stats, ExplainState *es)
{
	bool		all = es->format != EXPLAIN_FORMAT_TEXT;

	if (all || stats->throttled > 0)
		ExplainPropertyInteger("Throttled (429)", NULL, stats->throttled, es);
	if (all || stats->budget_wait_us > 0)
		ExplainPropertyFloat("Budget wait", "ms", stats->budget_wait_us / 1000.0, 3, es);
	if (all || stats->retry_wait_us > 0)
		ExplainPropertyFloat("Retry wait", "ms", stats->retry_wait_us / 1000.0, 3, es);
}

/*
 * tempoExplainForeignScan
 *		VERBOSE: the first request (path and query only: no host, no token)
 *		and the pushed conditions.  ANALYZE: streams, pages, requests,
 *		retries, bytes, and the fallback if it was taken.
 */
void
tempoExplainForeignScan(ForeignScanState *node, ExplainState *es)
{
	ForeignScan *fsplan = (ForeignScan *) node->ss.ps.plan;
	TempoFdwScanState *st = node->fdw_state;

	if (es->verbose)
	{
		Relation	rel = node->ss.ss_currentRelation;
		char	   *filter_text = strVal(list_nth(fsplan->fdw_private,
												  TempoScanPrivateFilterText));
		char	   *request = NULL;
		bool		jira = false;

		if (st != NULL && st->started)
		{
			request = st->first_request;
			jira = st->first_is_jira;
		}
		else
		{
			/* before execution: constants are known, parameters are not */
			TempoFdwOptions *opts;
			List	   *streams;

			opts = tempo_get_options(RelationGetRelid(rel),
									 GetForeignTable(RelationGetRelid(rel))->serverid,
									 GetUserId());
			streams = tempo_build_requests(scan_target(opts->resource, false),
										   plan_filters((List *) list_nth(fsplan->fdw_private,
																		  TempoScanPrivateFilters),
														fsplan->fdw_exprs),
										   intVal(list_nth(fsplan->fdw_private,
														   TempoScanPrivateLimit)),
										   (TempoOrder) intVal(list_nth(fsplan->fdw_private,
																		TempoScanPrivateOrder)));
			if (streams != NIL)
			{
				TempoStream *s = linitial(streams);

				jira = s->jira;
				request = psprintf("%s %s%s%s", s->body ? "POST" : "GET",
								   tempo_url_path(psprintf("%s%s",
														   jira ? opts->jira_url : opts->tempo_url,
														   s->path)),
								   s->body ? " " : "", s->body ? s->body : "");
			}
		}
		ExplainPropertyText(jira ? "Jira request" : "Tempo request",
							request ? request : "none (the conditions exclude every row)",
							es);
		if (filter_text[0])
			ExplainPropertyText("Pushed conditions", filter_text, es);
	}
	if (es->analyze && st != NULL)
	{
		if (st->fell_back)
			ExplainPropertyText("Fallback", psprintf("jira (Tempo: %s)", st->fallback_cause), es);
		ExplainPropertyInteger("Request streams", NULL, st->nstreams, es);
		if (st->keycache != NULL)
			ExplainPropertyInteger("Key batches", NULL, st->key_batches, es);
		ExplainPropertyInteger("Pages", NULL, st->stats.pages, es);
		ExplainPropertyInteger("Requests", NULL, st->stats.requests, es);
		ExplainPropertyInteger("Retries", NULL, st->stats.retries, es);
		ExplainPropertyInteger("Bytes received", NULL, st->stats.bytes, es);
		explain_waits(&st->stats, es);
	}
}
