/*-------------------------------------------------------------------------
 *
 * fallback.c
 *		  Whether a worklogs scan may fall back to Jira (the GUC
 *		  tempo_fdw.fallback), and the record of the last fallback of each
 *		  server, readable in SQL (tempo_fdw.last_fallback).
 *
 * The GUC can only make the fallback stricter than the server option: off,
 * a failure that would fall back is the ERROR it is with fallback 'off'.
 * refresh and sync set it off for their runs unless allowed; BI roles get
 * it with ALTER ROLE ... SET.  tempo_fdw.fallback_snapshots is only read in
 * SQL, by the guard in a time-accounts snapshot's definition.
 *
 * The record: per database and server, the table, the time, the cause and
 * the rows the scan returned from Jira.  When tempo_fdw is in
 * shared_preload_libraries it lives in shared memory (every backend of the
 * cluster writes and reads it, until a restart); otherwise each backend
 * keeps its own, so a session sees only its own fallbacks.
 *
 * Copyright (c) 2026, tempo_fdw developers
 *
 * IDENTIFICATION
 *		  src/fallback.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/spin.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/timestamp.h"

#include "shared.h"

/* Servers remembered at once; the oldest record is reused */
#define FALLBACK_RECORDS 64
#define FALLBACK_CAUSE_LEN 160

typedef struct FallbackRecord
{
	Oid			dbid;			/* InvalidOid = free */
	Oid			serverid;
	Oid			relid;			/* the foreign table scanned */
	TimestampTz at;				/* when the scan fell back */
	int64		rows;			/* rows it returned from Jira */
	int64		scan;			/* which scan wrote it (pid << 32 | count) */
	char		cause[FALLBACK_CAUSE_LEN];
} FallbackRecord;

typedef struct FallbackShared
{
	slock_t		mutex;			/* protects records */
	FallbackRecord records[FALLBACK_RECORDS];
} FallbackShared;

/* tempo_fdw.fallback: may a worklogs scan fall back to Jira at all? */
bool		tempo_fallback_enabled = true;

/* tempo_fdw.fallback_snapshots: read by snapshot_fallback_guard (SQL) */
static bool fallback_snapshots = false;

static FallbackShared *shared = NULL;	/* in shared memory, when preloaded */
static FallbackShared local;	/* otherwise, this backend's */
static int64 scans = 0;			/* fallbacks recorded by this backend */

static Size
fallback_size(void)
{
	return sizeof(FallbackShared);
}

static void
fallback_attach(void *area, bool created)
{
	shared = (FallbackShared *) area;
	if (created)
		SpinLockInit(&shared->mutex);
}

static const TempoShmemArea fallback_area = {
	"tempo_fdw fallbacks", fallback_size, fallback_attach
};

/* The records in use: shared, else this backend's. */
static FallbackShared *
records(void)
{
	return shared != NULL ? shared : &local;
}

/*
 * tempo_fallback_init
 *		From _PG_init: the GUC, and shared memory when preloaded.
 */
void
tempo_fallback_init(void)
{
	DefineCustomBoolVariable("tempo_fdw.fallback",
							 "Lets a worklogs scan read Jira when Tempo cannot serve it.",
							 "When off, a Tempo failure that would fall back to Jira is an ERROR, "
							 "as with the server option fallback 'off'.",
							 &tempo_fallback_enabled,
							 true,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);
	DefineCustomBoolVariable("tempo_fdw.fallback_snapshots",
							 "Lets the worklog snapshot of time accounts take rows from the Jira fallback.",
							 "When off (the default), refreshing a snapshot that would take a fallback row "
							 "is an ERROR; tempo_fdw.refresh sets it on for its run with allow_fallback => true.",
							 &fallback_snapshots,
							 false,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);
	SpinLockInit(&local.mutex);
	tempo_shmem_register(&fallback_area, 0);
}

/*
 * tempo_fallback_record
 *		A scan of relid on serverid fell back for cause: it becomes that
 *		server's last fallback.  Returns the scan's key for
 *		tempo_fallback_count.
 */
int64
tempo_fallback_record(Oid serverid, Oid relid, const char *cause)
{
	FallbackShared *fs = records();
	FallbackRecord *slot = NULL;
	int64		key = ((int64) MyProcPid << 32) | (uint32) ++scans;
	int			i;

	SpinLockAcquire(&fs->mutex);
	for (i = 0; i < FALLBACK_RECORDS; i++)
	{
		FallbackRecord *r = &fs->records[i];

		if (r->dbid == MyDatabaseId && r->serverid == serverid)
		{
			slot = r;
			break;
		}
		if (slot == NULL || r->dbid == InvalidOid ||
			(slot->dbid != InvalidOid && r->at < slot->at))
			slot = r;
	}
	slot->dbid = MyDatabaseId;
	slot->serverid = serverid;
	slot->relid = relid;
	slot->at = GetCurrentTimestamp();
	slot->rows = 0;
	slot->scan = key;
	strlcpy(slot->cause, cause, FALLBACK_CAUSE_LEN);
	SpinLockRelease(&fs->mutex);
	return key;
}

/*
 * tempo_fallback_count
 *		The scan with this key has returned rows rows from Jira so far; kept
 *		only while its record is still the server's last.
 */
void
tempo_fallback_count(Oid serverid, int64 key, int64 rows)
{
	FallbackShared *fs = records();
	int			i;

	SpinLockAcquire(&fs->mutex);
	for (i = 0; i < FALLBACK_RECORDS; i++)
	{
		FallbackRecord *r = &fs->records[i];

		if (r->dbid == MyDatabaseId && r->serverid == serverid && r->scan == key)
			r->rows = rows;
	}
	SpinLockRelease(&fs->mutex);
}

PG_FUNCTION_INFO_V1(tempo_fdw_last_fallbacks);

/*
 * tempo_fdw_last_fallbacks
 *		SETOF (server oid, table oid, at, cause, rows, shared) of this
 *		database; the view tempo_fdw.last_fallback names them.
 */
Datum
tempo_fdw_last_fallbacks(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	FallbackShared *fs = records();
	FallbackRecord copy[FALLBACK_RECORDS];
	int			i;

	InitMaterializedSRF(fcinfo, 0);
	SpinLockAcquire(&fs->mutex);
	memcpy(copy, fs->records, sizeof(copy));
	SpinLockRelease(&fs->mutex);
	for (i = 0; i < FALLBACK_RECORDS; i++)
	{
		Datum		values[6];
		bool		nulls[6] = {false};

		if (copy[i].dbid != MyDatabaseId)
			continue;
		values[0] = ObjectIdGetDatum(copy[i].serverid);
		values[1] = ObjectIdGetDatum(copy[i].relid);
		values[2] = TimestampTzGetDatum(copy[i].at);
		values[3] = CStringGetTextDatum(copy[i].cause);
		values[4] = Int64GetDatum(copy[i].rows);
		values[5] = BoolGetDatum(shared != NULL);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
