/*-------------------------------------------------------------------------
 *
 * stats.c
 *		  Cumulative statistics of the scans, per database, server and
 *		  resource: the view tempo_fdw.stats and tempo_fdw.stats_reset().
 *
 * Every scan adds its counters when it ends, also when it ends by an error
 * or a cancel (then it counts as an error): scan.c calls tempo_stats_add
 * from a reset callback of the scan's memory context, which runs in both
 * cases.  When tempo_fdw is in shared_preload_libraries the counters live
 * in shared memory, for every backend of the cluster until a restart or
 * stats_reset(); otherwise each backend keeps its own.  When every entry is
 * taken, further servers are added up in one entry with no server.
 *
 * Copyright (c) 2026, tempo_fdw developers
 *
 * IDENTIFICATION
 *		  src/stats.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/spin.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "shared.h"

/* (database, server, resource) entries kept at once */
#define STATS_ENTRIES 256

typedef struct StatsEntry
{
	Oid			dbid;			/* InvalidOid = free */
	Oid			serverid;		/* InvalidOid = servers past the last entry */
	int			resource;		/* a TempoResource */
	int64		scans;
	int64		errors;			/* scans ended by an error or a cancel */
	int64		errors_by_class[TEMPO_ERR_OTHER + 1];	/* the same, by class */
	int64		fallbacks;		/* scans that read Jira instead of Tempo */
	int64		rows;
	int64		pages;
	int64		requests;
	int64		retries;
	int64		bytes;
	int64		throttled;		/* 429 responses */
	int64		http_us;
	int64		budget_wait_us;
	int64		retry_wait_us;
} StatsEntry;

typedef struct StatsShared
{
	slock_t		mutex;			/* protects everything below */
	TimestampTz reset_at;		/* counting since */
	StatsEntry	entries[STATS_ENTRIES];
} StatsShared;

static StatsShared *shared = NULL;	/* in shared memory, when preloaded */
static StatsShared local;		/* otherwise, this backend's */

static Size
stats_size(void)
{
	return sizeof(StatsShared);
}

static void
stats_attach(void *area, bool created)
{
	shared = (StatsShared *) area;
	if (created)
	{
		SpinLockInit(&shared->mutex);
		shared->reset_at = GetCurrentTimestamp();
	}
}

static const TempoShmemArea stats_area = {
	"tempo_fdw statistics", stats_size, stats_attach
};

/* The counters in use: shared, else this backend's. */
static StatsShared *
counters(void)
{
	return shared != NULL ? shared : &local;
}

/*
 * tempo_stats_init
 *		From _PG_init: shared memory when preloaded.
 */
void
tempo_stats_init(void)
{
	SpinLockInit(&local.mutex);
	local.reset_at = GetCurrentTimestamp();
	tempo_shmem_register(&stats_area, 0);
}

/* The entry of (this database, server, resource); mutex held. */
static StatsEntry *
entry_for(StatsShared *s, Oid serverid, int resource)
{
	StatsEntry *free_entry = NULL;
	int			i;

	for (i = 0; i < STATS_ENTRIES; i++)
	{
		StatsEntry *e = &s->entries[i];

		if (e->dbid == MyDatabaseId && e->serverid == serverid && e->resource == resource)
			return e;
		if (e->dbid == InvalidOid && free_entry == NULL)
			free_entry = e;
	}
	if (free_entry == NULL)
	{
		if (serverid == InvalidOid)
			return NULL;		/* no room even for the overflow entry */
		return entry_for(s, InvalidOid, resource);
	}
	free_entry->dbid = MyDatabaseId;
	free_entry->serverid = serverid;
	free_entry->resource = resource;
	return free_entry;
}

/*
 * tempo_stats_add
 *		A scan of the server's resource ended.  Called from a memory
 *		context reset callback, also during abort: no allocation, no error.
 */
void
tempo_stats_add(Oid serverid, int resource, const TempoScanStats *scan,
				int64 rows, bool fell_back, bool failed, TempoErrorClass error_class)
{
	StatsShared *s = counters();
	StatsEntry *e;

	SpinLockAcquire(&s->mutex);
	e = entry_for(s, serverid, resource);
	if (e != NULL)
	{
		e->scans++;
		e->errors += failed ? 1 : 0;
		e->errors_by_class[error_class] += failed ? 1 : 0;
		e->fallbacks += fell_back ? 1 : 0;
		e->rows += rows;
		e->pages += scan->pages;
		e->requests += scan->requests;
		e->retries += scan->retries;
		e->bytes += scan->bytes;
		e->throttled += scan->throttled;
		e->http_us += scan->http_us;
		e->budget_wait_us += scan->budget_wait_us;
		e->retry_wait_us += scan->retry_wait_us;
	}
	SpinLockRelease(&s->mutex);
}

PG_FUNCTION_INFO_V1(tempo_fdw_stats);

/*
 * tempo_fdw_stats
 *		SETOF (server oid, resource, scans, errors, fallbacks, rows, pages,
 *		requests, retries, throttled, bytes, http_ms, budget_wait_ms,
 *		retry_wait_ms, since, shared, errors_auth, errors_network,
 *		errors_http, errors_other) of this database; the view
 *		tempo_fdw.stats names the servers.
 */
Datum
tempo_fdw_stats(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	StatsShared *s = counters();
	StatsShared *copy = palloc(sizeof(StatsShared));
	int			i;

	InitMaterializedSRF(fcinfo, 0);
	SpinLockAcquire(&s->mutex);
	memcpy(copy, s, sizeof(StatsShared));
	SpinLockRelease(&s->mutex);
	for (i = 0; i < STATS_ENTRIES; i++)
	{
		StatsEntry *e = &copy->entries[i];
		Datum		values[20];
		bool		nulls[20] = {false};

		if (e->dbid != MyDatabaseId)
			continue;
		values[0] = ObjectIdGetDatum(e->serverid);
		nulls[0] = e->serverid == InvalidOid;
		values[1] = CStringGetTextDatum(tempo_resource_def(e->resource)->name);
		values[2] = Int64GetDatum(e->scans);
		values[3] = Int64GetDatum(e->errors);
		values[4] = Int64GetDatum(e->fallbacks);
		values[5] = Int64GetDatum(e->rows);
		values[6] = Int64GetDatum(e->pages);
		values[7] = Int64GetDatum(e->requests);
		values[8] = Int64GetDatum(e->retries);
		values[9] = Int64GetDatum(e->throttled);
		values[10] = Int64GetDatum(e->bytes);
		values[11] = Int64GetDatum(e->http_us / 1000);
		values[12] = Int64GetDatum(e->budget_wait_us / 1000);
		values[13] = Int64GetDatum(e->retry_wait_us / 1000);
		values[14] = TimestampTzGetDatum(copy->reset_at);
		values[15] = BoolGetDatum(shared != NULL);
		values[16] = Int64GetDatum(e->errors_by_class[TEMPO_ERR_AUTH]);
		values[17] = Int64GetDatum(e->errors_by_class[TEMPO_ERR_NETWORK]);
		values[18] = Int64GetDatum(e->errors_by_class[TEMPO_ERR_HTTP]);
		values[19] = Int64GetDatum(e->errors_by_class[TEMPO_ERR_OTHER]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	pfree(copy);
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(tempo_fdw_stats_reset);

/*
 * tempo_fdw_stats_reset
 *		Forget every database's counters (EXECUTE is revoked from PUBLIC).
 */
Datum
tempo_fdw_stats_reset(PG_FUNCTION_ARGS)
{
	StatsShared *s = counters();
	TimestampTz now = GetCurrentTimestamp();

	SpinLockAcquire(&s->mutex);
	memset(s->entries, 0, sizeof(s->entries));
	s->reset_at = now;
	SpinLockRelease(&s->mutex);
	PG_RETURN_VOID();
}
