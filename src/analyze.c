/*-------------------------------------------------------------------------
 *
 * analyze.c
 *		  ANALYZE of a foreign table.
 *
 * Reads the whole table (every page, as a full scan would) and keeps a
 * random sample of the rows for PostgreSQL's statistics; then
 * pg_class.reltuples holds the table's rows, and the planner uses the
 * columns' statistics for every condition, as it does for local tables.
 * Only worklogs and jira_worklogs can be analysed: the other resources
 * cannot be read without conditions.
 *
 * Copyright (c) 2026, tempo_fdw developers
 *
 * IDENTIFICATION
 *		  src/analyze.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "commands/vacuum.h"
#include "foreign/fdwapi.h"
#include "foreign/foreign.h"
#include "miscadmin.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/sampling.h"

#include "tempo_fdw.h"

/*
 * sample_rows
 *		AcquireSampleRowsFunc: read the whole table, keep a reservoir sample
 *		of targrows rows (Vitter's algorithm, as PostgreSQL's own ANALYZE).
 */
static int
sample_rows(Relation rel, int elevel, HeapTuple *rows, int targrows,
			double *totalrows, double *totaldeadrows)
{
	ForeignTable *table = GetForeignTable(RelationGetRelid(rel));
	TupleDesc	desc = RelationGetDescr(rel);
	TempoFdwOptions *opts = tempo_get_options(RelationGetRelid(rel), table->serverid, GetUserId());
	MemoryContext scan_cxt = AllocSetContextCreate(CurrentMemoryContext, "tempo_fdw analyze",
												   ALLOCSET_DEFAULT_SIZES);
	MemoryContext page_cxt = AllocSetContextCreate(scan_cxt, "tempo_fdw analyze page",
												   ALLOCSET_DEFAULT_SIZES);
	MemoryContext oldcxt = MemoryContextSwitchTo(scan_cxt);
	Datum	   *values = palloc(desc->natts * sizeof(Datum));
	bool	   *nulls = palloc(desc->natts * sizeof(bool));
	Bitmapset  *attrs = NULL;
	TempoScanStats stats = {0};
	TempoRowPlan *rowplan;
	TempoPager *pager;
	ReservoirStateData rstate;
	double		seen = 0;
	double		skip = -1;
	int			kept = 0;
	int			i;

	for (i = 1; i <= desc->natts; i++)
		attrs = bms_add_member(attrs, i - FirstLowInvalidHeapAttributeNumber);
	rowplan = tempo_make_row_plan(rel, tempo_resource_def(opts->resource), attrs);
	pager = tempo_pager_create(opts, tempo_get_connection(table->serverid, GetUserId()),
							   &stats, tempo_row_plan_uses_text(rowplan), scan_cxt);
	tempo_pager_start(pager,
					  tempo_build_requests(opts->resource == TEMPO_RES_WORKLOGS ?
										   TEMPO_TARGET_TEMPO_WORKLOGS : TEMPO_TARGET_JIRA_WORKLOGS,
										   NIL, opts->page_size, TEMPO_ORDER_NONE),
					  NULL, opts->max_concurrency, opts->page_size);
	reservoir_init_selection_state(&rstate, targrows);
	for (;;)
	{
		bool		failed;
		TempoPage  *page;

		MemoryContextReset(page_cxt);
		page = tempo_pager_next(pager, page_cxt, NULL, &failed);
		if (page == NULL)
			break;
		tempo_row_plan_set(rowplan, "tempo", tempo_pager_key(pager));
		while (tempo_page_next_row(page, rowplan, values, nulls))
		{
			int			slot = -1;

			TEMPO_ANALYZE_DELAY_POINT();
			if (kept < targrows)
				slot = kept++;
			else
			{
				/* Vitter's t is the rows seen before this one */
				if (skip < 0)
					skip = reservoir_get_next_S(&rstate, seen, targrows);
				if (skip <= 0)
				{
					slot = (int) (targrows * sampler_random_fract(&rstate.randstate));
					heap_freetuple(rows[slot]);
				}
				skip -= 1;
			}
			if (slot >= 0)
			{
				MemoryContextSwitchTo(oldcxt);
				rows[slot] = heap_form_tuple(desc, values, nulls);
				MemoryContextSwitchTo(scan_cxt);
			}
			seen += 1;
		}
	}
	tempo_pager_end(pager);
	MemoryContextSwitchTo(oldcxt);
	MemoryContextDelete(scan_cxt);

	*totalrows = seen;
	*totaldeadrows = 0;
	ereport(elevel,
			(errmsg("\"%s\": read %.0f rows in %lld requests, kept a sample of %d",
					RelationGetRelationName(rel), seen, (long long) stats.requests, kept)));
	return kept;
}

/*
 * tempoAnalyzeForeignTable
 *		worklogs and jira_worklogs can be analysed; the others cannot.
 */
bool
tempoAnalyzeForeignTable(Relation relation, AcquireSampleRowsFunc *func,
						 BlockNumber *totalpages)
{
	ForeignTable *table = GetForeignTable(RelationGetRelid(relation));
	TempoFdwOptions *opts = tempo_get_options(RelationGetRelid(relation), table->serverid,
											  GetUserId());

	if (opts->resource != TEMPO_RES_WORKLOGS && opts->resource != TEMPO_RES_JIRA_WORKLOGS)
		return false;
	*func = sample_rows;
	*totalpages = 1;
	return true;
}
