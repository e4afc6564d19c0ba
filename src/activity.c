/*-------------------------------------------------------------------------
 *
 * activity.c
 *		  Live progress of the scans: one row per backend that is scanning,
 *		  readable in SQL (the view tempo_fdw.activity) by other sessions.
 *
 * A backend takes a slot of shared memory when its first scan begins and
 * gives it back at exit.  The scan writes what it is doing (starting,
 * requesting, waiting on the request budget, converting a page), the
 * current request's method and path (never the host, a token or a body),
 * and its counters; another session reads them.  When scans nest (a join
 * of two foreign tables), the row shows the last one begun, and it is
 * cleared when the last one ends.  Each slot has its own spinlock: a
 * writer holds it for a few stores only.  Without shared_preload_libraries
 * a backend has only its own slot, and the view shows only its session.
 *
 * Copyright (c) 2026, tempo_fdw developers
 *
 * IDENTIFICATION
 *		  src/activity.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_authid.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "tempo_fdw.h"

#define ACTIVITY_REQUEST_LEN 256

typedef struct ActivitySlot
{
	slock_t		mutex;			/* protects the fields below */
	int			pid;			/* 0: free */
	Oid			dbid;
	Oid			userid;			/* the role scanning */
	Oid			serverid;		/* InvalidOid: no scan running */
	Oid			relid;
	int			state;			/* a TempoActivityState */
	char		request[ACTIVITY_REQUEST_LEN];	/* method and path */
	TempoScanStats stats;		/* of the scan shown */
	int64		rows;
	int64		budget_wait_ms; /* waited on the request budget */
	TimestampTz started_at;
	TimestampTz state_since;
} ActivitySlot;

typedef struct ActivityShared
{
	slock_t		mutex;			/* protects taking and giving back slots */
	int			nslots;
	ActivitySlot slots[FLEXIBLE_ARRAY_MEMBER];
} ActivityShared;

static const char *const state_names[] = {
	[TEMPO_ACT_STARTING] = "starting",
	[TEMPO_ACT_REQUESTING] = "requesting",
	[TEMPO_ACT_BUDGET] = "waiting on the request budget",
	[TEMPO_ACT_CONVERTING] = "converting",
};

static ActivityShared *shared = NULL;	/* in shared memory, when preloaded */
static ActivitySlot local_slot;			/* otherwise, this backend's */
static ActivitySlot *my_slot = NULL;	/* taken at the first scan */
static int	depth = 0;			/* scans running in this backend */

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

static Size
activity_size(void)
{
	return add_size(offsetof(ActivityShared, slots),
					mul_size(MaxBackends, sizeof(ActivitySlot)));
}

static void
activity_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(MAXALIGN(activity_size()));
}

static void
activity_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	shared = ShmemInitStruct("tempo_fdw activity", activity_size(), &found);
	if (!found)
	{
		memset(shared, 0, activity_size());
		SpinLockInit(&shared->mutex);
		shared->nslots = MaxBackends;
		for (int i = 0; i < shared->nslots; i++)
			SpinLockInit(&shared->slots[i].mutex);
	}
	LWLockRelease(AddinShmemInitLock);
}

/*
 * tempo_activity_init
 *		From _PG_init: shared memory when preloaded.
 */
void
tempo_activity_init(void)
{
	SpinLockInit(&local_slot.mutex);
	if (!process_shared_preload_libraries_in_progress)
		return;
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = activity_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = activity_shmem_startup;
}

/* At backend exit: give the slot back. */
static void
give_back(int code, Datum arg)
{
	SpinLockAcquire(&my_slot->mutex);
	my_slot->pid = 0;
	my_slot->serverid = InvalidOid;
	SpinLockRelease(&my_slot->mutex);
	my_slot = NULL;
}

/* This backend's slot, taken on first use; NULL when all are taken. */
static ActivitySlot *
slot(void)
{
	if (my_slot != NULL)
		return my_slot;
	if (shared == NULL)
		return my_slot = &local_slot;
	SpinLockAcquire(&shared->mutex);
	for (int i = 0; i < shared->nslots && my_slot == NULL; i++)
		if (shared->slots[i].pid == 0)
		{
			my_slot = &shared->slots[i];
			my_slot->pid = MyProcPid;	/* taken, under shared->mutex */
		}
	SpinLockRelease(&shared->mutex);
	if (my_slot != NULL)
		before_shmem_exit(give_back, (Datum) 0);
	return my_slot;
}

/*
 * tempo_activity_begin
 *		A scan of relid on serverid begins.
 */
void
tempo_activity_begin(Oid serverid, Oid relid)
{
	ActivitySlot *s = slot();
	TimestampTz now = GetCurrentTimestamp();

	depth++;
	if (s == NULL)
		return;
	SpinLockAcquire(&s->mutex);
	s->pid = MyProcPid;
	s->dbid = MyDatabaseId;
	s->userid = GetUserId();
	s->serverid = serverid;
	s->relid = relid;
	s->state = TEMPO_ACT_STARTING;
	s->request[0] = '\0';
	memset(&s->stats, 0, sizeof(s->stats));
	s->rows = 0;
	s->budget_wait_ms = 0;
	s->started_at = now;
	s->state_since = now;
	SpinLockRelease(&s->mutex);
}

/*
 * tempo_activity_end
 *		A scan ended (or its memory went at an abort).  No error, no
 *		allocation: called from a memory context reset callback.
 */
void
tempo_activity_end(void)
{
	if (depth > 0)
		depth--;
	if (depth > 0 || my_slot == NULL)
		return;
	SpinLockAcquire(&my_slot->mutex);
	my_slot->serverid = InvalidOid;
	SpinLockRelease(&my_slot->mutex);
}

/* Set the state (and the request, when given). */
static void
set_state(int state, const char *method, const char *path)
{
	TimestampTz now;

	if (depth == 0 || my_slot == NULL)
		return;
	now = GetCurrentTimestamp();
	SpinLockAcquire(&my_slot->mutex);
	my_slot->state = state;
	my_slot->state_since = now;
	if (path != NULL)
		snprintf(my_slot->request, ACTIVITY_REQUEST_LEN, "%s %s", method, path);
	SpinLockRelease(&my_slot->mutex);
}

/* A request is about to go: method and path (no host, no secret). */
void
tempo_activity_request(const char *method, const char *path)
{
	set_state(TEMPO_ACT_REQUESTING, method, path);
}

/* Waiting on the request budget; ms waited when it ends. */
void
tempo_activity_budget_wait(bool waiting, int64 ms)
{
	set_state(waiting ? TEMPO_ACT_BUDGET : TEMPO_ACT_REQUESTING, NULL, NULL);
	if (!waiting && depth > 0 && my_slot != NULL)
	{
		SpinLockAcquire(&my_slot->mutex);
		my_slot->budget_wait_ms += ms;
		SpinLockRelease(&my_slot->mutex);
	}
}

/* A page arrived: the scan's counters, and it converts the page now. */
void
tempo_activity_progress(const TempoScanStats *stats, int64 rows)
{
	set_state(TEMPO_ACT_CONVERTING, NULL, NULL);
	if (depth == 0 || my_slot == NULL)
		return;
	SpinLockAcquire(&my_slot->mutex);
	my_slot->stats = *stats;
	my_slot->rows = rows;
	SpinLockRelease(&my_slot->mutex);
}

PG_FUNCTION_INFO_V1(tempo_fdw_activity);

/*
 * tempo_fdw_activity
 *		SETOF (pid, role, server oid, table oid, state, request, pages, rows,
 *		bytes, requests, retries, budget_wait_ms, started_at, state_since)
 *		of the scans running in this database.  The request is shown only
 *		to a member of the scanning role or of pg_read_all_stats.
 */
Datum
tempo_fdw_activity(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ActivitySlot *slots = shared != NULL ? shared->slots : &local_slot;
	int			nslots = shared != NULL ? shared->nslots : 1;

	InitMaterializedSRF(fcinfo, 0);
	for (int i = 0; i < nslots; i++)
	{
		ActivitySlot s;
		Datum		values[14];
		bool		nulls[14] = {false};

		SpinLockAcquire(&slots[i].mutex);
		memcpy(&s, &slots[i], sizeof(s));
		SpinLockRelease(&slots[i].mutex);
		if (s.pid == 0 || s.dbid != MyDatabaseId || s.serverid == InvalidOid)
			continue;
		values[0] = Int32GetDatum(s.pid);
		values[1] = ObjectIdGetDatum(s.userid);
		values[2] = ObjectIdGetDatum(s.serverid);
		values[3] = ObjectIdGetDatum(s.relid);
		values[4] = CStringGetTextDatum(state_names[s.state]);
		s.request[ACTIVITY_REQUEST_LEN - 1] = '\0';
		values[5] = CStringGetTextDatum(s.request);
		nulls[5] = s.request[0] == '\0' ||
			!(has_privs_of_role(GetUserId(), s.userid) ||
			  has_privs_of_role(GetUserId(), ROLE_PG_READ_ALL_STATS));
		values[6] = Int64GetDatum(s.stats.pages);
		values[7] = Int64GetDatum(s.rows);
		values[8] = Int64GetDatum(s.stats.bytes);
		values[9] = Int64GetDatum(s.stats.requests);
		values[10] = Int64GetDatum(s.stats.retries);
		values[11] = Int64GetDatum(s.budget_wait_ms);
		values[12] = TimestampTzGetDatum(s.started_at);
		values[13] = TimestampTzGetDatum(s.state_since);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
