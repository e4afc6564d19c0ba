/*-------------------------------------------------------------------------
 *
 * activity.c
 *		  Live progress of the scans: one row per backend that is scanning,
 *		  readable in SQL (the view tempo_fdw.activity) by other sessions.
 *
 * A backend takes a slot of shared memory when its first scan (or run of
 * refresh or sync) begins and gives it back at exit.  The scan writes what
 * it is doing (starting, requesting, waiting on the request budget or to
 * retry, converting a page), the current request's method and path (never
 * the host, a token or a body), and its counters; another session reads
 * them.  When scans nest (a join of two foreign tables), the row shows the
 * last one begun, and it is cleared when the last one ends.  refresh and
 * sync set their run (kind, schema, refresh_log row) and phase with
 * tempo_fdw.activity_phase(); an abort of the transaction clears them, so
 * a failed run is never shown as running.  Each slot has its own
 * spinlock: a writer holds it for a few stores only.  Without
 * shared_preload_libraries a backend has only its own slot, and the view
 * shows only its session.
 *
 * Copyright (c) 2026, tempo_fdw developers
 *
 * IDENTIFICATION
 *		  src/activity.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_authid.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/spin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "shared.h"

#define ACTIVITY_REQUEST_LEN 256
#define ACTIVITY_PHASE_LEN 32

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
	TimestampTz started_at;
	TimestampTz state_since;
	char		run_kind[8];	/* "refresh", "sync" or "": no run */
	NameData	run_schema;
	int64		run_id;			/* its refresh_log row */
	char		phase[ACTIVITY_PHASE_LEN];
	TimestampTz phase_since;
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
	[TEMPO_ACT_RETRY_WAIT] = "waiting to retry",
	[TEMPO_ACT_CONVERTING] = "converting",
};

static ActivityShared *shared = NULL;	/* in shared memory, when preloaded */
static ActivitySlot local_slot; /* otherwise, this backend's */
static ActivitySlot *my_slot = NULL;	/* taken at the first scan */
static int	depth = 0;			/* scans running in this backend */

static Size
activity_size(void)
{
	return add_size(offsetof(ActivityShared, slots),
					mul_size(MaxBackends, sizeof(ActivitySlot)));
}

static void
activity_attach(void *area, bool created)
{
	shared = (ActivityShared *) area;
	if (created)
	{
		SpinLockInit(&shared->mutex);
		shared->nslots = MaxBackends;
		for (int i = 0; i < shared->nslots; i++)
			SpinLockInit(&shared->slots[i].mutex);
	}
}

static const TempoShmemArea activity_area = {
	"tempo_fdw activity", activity_size, activity_attach
};

/*
 * tempo_activity_init
 *		From _PG_init: shared memory when preloaded.
 */
void
tempo_activity_init(void)
{
	SpinLockInit(&local_slot.mutex);
	tempo_shmem_register(&activity_area, 0);
}

/* At backend exit: give the slot back. */
static void
give_back(int code, Datum arg)
{
	SpinLockAcquire(&my_slot->mutex);
	my_slot->pid = 0;
	my_slot->serverid = InvalidOid;
	my_slot->run_kind[0] = '\0';
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

/* Waiting on the request budget or to retry, or requesting again. */
void
tempo_activity_state(TempoActivityState state)
{
	set_state(state, NULL, NULL);
}

/* The scan's counters after a response or a wait. */
void
tempo_activity_counters(const TempoScanStats *stats)
{
	if (depth == 0 || my_slot == NULL)
		return;
	SpinLockAcquire(&my_slot->mutex);
	my_slot->stats = *stats;
	SpinLockRelease(&my_slot->mutex);
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

/* A run's row ends with its transaction's abort (a failed run is not running). */
static void
clear_run_at_abort(XactEvent event, void *arg)
{
	if (event != XACT_EVENT_ABORT || my_slot == NULL)
		return;
	SpinLockAcquire(&my_slot->mutex);
	my_slot->run_kind[0] = '\0';
	SpinLockRelease(&my_slot->mutex);
}

PG_FUNCTION_INFO_V1(tempo_fdw_activity_phase);

/*
 * tempo_fdw_activity_phase
 *		(kind, schema, run_id, phase): this backend's refresh or sync is in
 *		a phase (worklogs, deletions, schedules, ...); kind NULL: the run
 *		already shown goes on to phase; phase NULL: the run ended.
 */
Datum
tempo_fdw_activity_phase(PG_FUNCTION_ARGS)
{
	static bool callback_set = false;
	ActivitySlot *s;
	TimestampTz now = GetCurrentTimestamp();
	bool		ended = PG_ARGISNULL(3);
	bool		begun = !PG_ARGISNULL(0) && !PG_ARGISNULL(1) && !PG_ARGISNULL(2);
	char		kind[sizeof(s->run_kind)] = "";
	char		phase[ACTIVITY_PHASE_LEN] = "";

	if ((s = slot()) == NULL)
		PG_RETURN_VOID();
	if (!callback_set)
	{
		RegisterXactCallback(clear_run_at_abort, NULL);
		callback_set = true;
	}
	/* no detoasting under the spinlock */
	if (begun)
		text_to_cstring_buffer(PG_GETARG_TEXT_PP(0), kind, sizeof(kind));
	if (!ended)
		text_to_cstring_buffer(PG_GETARG_TEXT_PP(3), phase, sizeof(phase));
	SpinLockAcquire(&s->mutex);
	if (ended)
		s->run_kind[0] = '\0';
	else if (begun)
	{
		s->pid = MyProcPid;
		s->dbid = MyDatabaseId;
		s->userid = GetUserId();
		memcpy(s->run_kind, kind, sizeof(kind));
		s->run_schema = *PG_GETARG_NAME(1);
		s->run_id = PG_GETARG_INT64(2);
	}
	if (!ended && s->run_kind[0] != '\0')
	{
		memcpy(s->phase, phase, sizeof(phase));
		s->phase_since = now;
	}
	SpinLockRelease(&s->mutex);
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(tempo_fdw_activity);

/* One row of tempo_fdw_activity: the scan's columns NULL when none runs. */
static void
put_row(ReturnSetInfo *rsinfo, ActivitySlot *s)
{
	Datum		values[21];
	bool		nulls[21] = {false};
	bool		scanning = s->serverid != InvalidOid;
	bool		running = s->run_kind[0] != '\0';

	values[0] = Int32GetDatum(s->pid);
	values[1] = ObjectIdGetDatum(s->userid);
	values[2] = ObjectIdGetDatum(s->serverid);
	values[3] = ObjectIdGetDatum(s->relid);
	values[4] = CStringGetTextDatum(state_names[s->state]);
	s->request[ACTIVITY_REQUEST_LEN - 1] = '\0';
	values[5] = CStringGetTextDatum(s->request);
	nulls[5] = s->request[0] == '\0' ||
		!(has_privs_of_role(GetUserId(), s->userid) ||
		  has_privs_of_role(GetUserId(), ROLE_PG_READ_ALL_STATS));
	values[6] = Int64GetDatum(s->stats.pages);
	values[7] = Int64GetDatum(s->rows);
	values[8] = Int64GetDatum(s->stats.bytes);
	values[9] = Int64GetDatum(s->stats.requests);
	values[10] = Int64GetDatum(s->stats.retries);
	values[11] = Int64GetDatum(s->stats.throttled);
	values[12] = Int64GetDatum(s->stats.budget_wait_us / 1000);
	values[13] = Int64GetDatum(s->stats.retry_wait_us / 1000);
	values[14] = Int64GetDatum(s->stats.http_us / 1000);
	values[15] = TimestampTzGetDatum(s->started_at);
	values[16] = TimestampTzGetDatum(s->state_since);
	for (int i = 2; i <= 16; i++)
		nulls[i] = nulls[i] || !scanning;
	s->run_kind[sizeof(s->run_kind) - 1] = '\0';
	s->phase[ACTIVITY_PHASE_LEN - 1] = '\0';
	values[17] = CStringGetTextDatum(s->run_kind);
	values[18] = NameGetDatum(&s->run_schema);
	values[19] = Int64GetDatum(s->run_id);
	values[20] = CStringGetTextDatum(s->phase);
	for (int i = 17; i <= 20; i++)
		nulls[i] = !running;
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

/*
 * tempo_fdw_activity
 *		SETOF (pid, role, server oid, table oid, state, request, pages, rows,
 *		bytes, requests, retries, throttled, budget_wait_ms, retry_wait_ms,
 *		http_ms, started_at, state_since, run, run_schema, run_id, phase) of
 *		the scans and runs in this database.  The request is shown only to a
 *		member of the scanning role or of pg_read_all_stats.
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

		SpinLockAcquire(&slots[i].mutex);
		memcpy(&s, &slots[i], sizeof(s));
		SpinLockRelease(&slots[i].mutex);
		if (s.pid == 0 || s.dbid != MyDatabaseId ||
			(s.serverid == InvalidOid && s.run_kind[0] == '\0'))
			continue;
		put_row(rsinfo, &s);
	}
	return (Datum) 0;
}
