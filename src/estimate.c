/*-------------------------------------------------------------------------
 *
 * estimate.c
 *		  Row estimates for the planner: what the last whole scans of a
 *		  table returned.
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
 * otherwise each backend learns alone.  ANALYZE, the other source of
 * estimates, is in analyze.c.
 *
 * Copyright (c) 2026, tempo_fdw developers
 *
 * IDENTIFICATION
 *		  src/estimate.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "storage/spin.h"

#include "shared.h"

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

static Size
estimate_size(void)
{
	return sizeof(EstimateShared);
}

static void
estimate_attach(void *area, bool created)
{
	shared = (EstimateShared *) area;
	if (created)
		SpinLockInit(&shared->mutex);
}

static const TempoShmemArea estimate_area = {
	"tempo_fdw row estimates", estimate_size, estimate_attach
};

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
	tempo_shmem_register(&estimate_area, 0);
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
