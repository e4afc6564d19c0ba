/*-------------------------------------------------------------------------
 *
 * estimate.c
 *		  Row estimates for the planner: what the last whole scans of a
 *		  table returned, and ANALYZE.
 *
 * Learned estimates.  When a scan of worklogs or jira_worklogs reads to its
 * end with no condition pushed but dates (so that the rows it received
 * are all the API holds for those days), it records, per table, the rows
 * per day (a date range) or the rows of the whole table (no range).  The
 * planner then estimates a date range as days times rows per day, a whole
 * table as its rows, instead of constants.  Scans cut short (LIMIT, an
 * error, a cursor closed early), parameterised or by key, and fallback
 * scans teach nothing.  When tempo_fdw is in shared_preload_libraries the
 * records are shared by the cluster's backends (until a restart);
 * otherwise each backend learns alone.
 *
 * ANALYZE.  Reads the whole table (every page, as a full scan would) and
 * keeps a random sample of the rows for PostgreSQL's statistics; then
 * pg_class.reltuples holds the table's rows, and the planner uses the
 * columns' statistics for every condition, as it does for local tables.
 * Only worklogs and jira_worklogs can be analysed: the other resources
 * cannot be read without conditions.
 *
 * Copyright (c) 2026, tempo_fdw developers
 *
 * IDENTIFICATION
 *		  src/estimate.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "commands/vacuum.h"
#include "foreign/fdwapi.h"
#include "foreign/foreign.h"
#include "miscadmin.h"
#include "nodes/nodeFuncs.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "utils/date.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/sampling.h"

#include "tempo_fdw.h"

/* Tables remembered at once; the least recently learned is reused */
#define ESTIMATE_RECORDS 256

typedef struct EstimateRecord
{
	Oid			dbid;			/* InvalidOid = free */
	Oid			relid;
	double		per_day;		/* rows per day of a date range, or -1 */
	double		total;			/* rows of the whole table, or -1 */
	uint64		stamp;			/* when learned, for reuse */
} EstimateRecord;

typedef struct EstimateShared
{
	slock_t		mutex;			/* protects everything below */
	uint64		clock;
	EstimateRecord records[ESTIMATE_RECORDS];
} EstimateShared;

static EstimateShared *shared = NULL;	/* in shared memory, when preloaded */
static EstimateShared local;	/* otherwise, this backend's */

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

static void
estimate_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(MAXALIGN(sizeof(EstimateShared)));
}

static void
estimate_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	shared = ShmemInitStruct("tempo_fdw row estimates", sizeof(EstimateShared), &found);
	if (!found)
	{
		memset(shared, 0, sizeof(EstimateShared));
		SpinLockInit(&shared->mutex);
	}
	LWLockRelease(AddinShmemInitLock);
}

/* The records in use: shared, else this backend's. */
static EstimateShared *
records(void)
{
	return shared != NULL ? shared : &local;
}

/*
 * tempo_estimate_init
 *		From _PG_init: shared memory when preloaded.
 */
void
tempo_estimate_init(void)
{
	SpinLockInit(&local.mutex);
	if (!process_shared_preload_libraries_in_progress)
		return;
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = estimate_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = estimate_shmem_startup;
}

/*
 * tempo_estimate_learn
 *		A whole scan of relid returned rows over days (-1: no date range).
 */
void
tempo_estimate_learn(Oid relid, double days, double rows)
{
	EstimateShared *s = records();
	EstimateRecord *r = NULL;
	int			i;

	SpinLockAcquire(&s->mutex);
	for (i = 0; i < ESTIMATE_RECORDS; i++)
	{
		EstimateRecord *c = &s->records[i];

		if (c->dbid == MyDatabaseId && c->relid == relid)
		{
			r = c;
			break;
		}
		if (r == NULL || c->stamp < r->stamp)
			r = c;				/* free or least recent, so far */
	}
	if (r->dbid != MyDatabaseId || r->relid != relid)
	{
		r->dbid = MyDatabaseId;
		r->relid = relid;
		r->per_day = -1;
		r->total = -1;
	}
	if (days > 0)
		r->per_day = rows / days;
	else if (days < 0)
		r->total = rows;
	r->stamp = ++s->clock;
	SpinLockRelease(&s->mutex);
}

/*
 * tempo_estimate_rows
 *		Rows a scan of relid over days (-1: no date range) may return, from
 *		what earlier scans returned; -1 when nothing was learned.
 */
double
tempo_estimate_rows(Oid relid, double days)
{
	EstimateShared *s = records();
	double		per_day = -1;
	double		total = -1;
	int			i;

	SpinLockAcquire(&s->mutex);
	for (i = 0; i < ESTIMATE_RECORDS; i++)
	{
		EstimateRecord *c = &s->records[i];

		if (c->dbid == MyDatabaseId && c->relid == relid)
		{
			per_day = c->per_day;
			total = c->total;
			break;
		}
	}
	SpinLockRelease(&s->mutex);

	if (days >= 0 && per_day >= 0)
		return days * per_day;
	if (days >= 0 && total >= 0)
		return total;			/* at most the whole table */
	if (days < 0 && total >= 0)
		return total;
	return -1;
}

/*
 * tempo_estimate_scan_days
 *		The days of a scan's evaluated filters when they are dates only
 *		(0 and up), -1 for no filter at all, -2 when the scan must not
 *		teach (a filter on something else, an array, no finite range).
 */
double
tempo_estimate_scan_days(List *filters)
{
	DateADT		from = DATEVAL_NOBEGIN;
	DateADT		to = DATEVAL_NOEND;
	ListCell   *lc;

	if (filters == NIL)
		return -1;
	foreach(lc, filters)
	{
		TempoFilter *f = (TempoFilter *) lfirst(lc);
		DateADT		d;

		if ((f->kind != TEMPO_FILTER_DATE_LOWER && f->kind != TEMPO_FILTER_DATE_UPPER &&
			 f->kind != TEMPO_FILTER_DATE_EQ) ||
			f->array || !f->known || f->isnull || exprType((Node *) f->value) != DATEOID)
			return -2;
		d = DatumGetDateADT(f->datum);
		if (DATE_NOT_FINITE(d))
			return -2;
		if (f->kind != TEMPO_FILTER_DATE_UPPER)
			from = Max(from, f->strict ? d + 1 : d);
		if (f->kind != TEMPO_FILTER_DATE_LOWER)
			to = Min(to, f->strict ? d - 1 : d);
	}
	if (DATE_NOT_FINITE(from) || DATE_NOT_FINITE(to) || to < from)
		return -2;
	return to - from + 1;
}

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
