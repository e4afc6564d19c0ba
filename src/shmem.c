/*-------------------------------------------------------------------------
 *
 * shmem.c
 *		  The shared-memory areas of tempo_fdw, asked for and attached in
 *		  one place.
 *
 * Each feature that backends share (rate budgets, statistics, activity,
 * row estimates, fallback records) registers its area from _PG_init when
 * tempo_fdw is preloaded: a name, a size, where the address goes and how
 * its area is attached (and set up when new).  This file installs one shmem_request_hook and one
 * shmem_startup_hook for all of them, asks for their space and the
 * extension's LWLocks, and attaches each area (made zeroed the first
 * time).  Without preloading nothing is
 * registered and each feature keeps a backend-local copy.
 *
 * Copyright (c) 2026, tempo_fdw developers
 *
 * IDENTIFICATION
 *		  src/shmem.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"

#include "shared.h"

#define TEMPO_SHMEM_AREAS 8

static TempoShmemArea areas[TEMPO_SHMEM_AREAS];
static int	nareas = 0;
static int	nlwlocks = 0;

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

/* Space for every area, and the extension's named LWLocks. */
static void
tempo_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	for (int i = 0; i < nareas; i++)
		RequestAddinShmemSpace(MAXALIGN(areas[i].size()));
	if (nlwlocks > 0)
		RequestNamedLWLockTranche(TEMPO_LWLOCK_TRANCHE, nlwlocks);
}

/* Attach every area; the first backend to see one sets it up. */
static void
tempo_shmem_startup(void)
{
	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	for (int i = 0; i < nareas; i++)
	{
		Size		size = areas[i].size();
		bool		found;
		void	   *area = ShmemInitStruct(areas[i].name, size, &found);

		if (!found)
			memset(area, 0, size);
		areas[i].attach(area, !found);
	}
	LWLockRelease(AddinShmemInitLock);
}

/*
 * tempo_shmem_register
 *		From _PG_init while preloading: keep area in shared memory; lwlocks
 *		of the tranche TEMPO_LWLOCK_TRANCHE are asked for with it.  Outside
 *		preloading it does nothing: the caller keeps its local copy.
 */
void
tempo_shmem_register(const TempoShmemArea *area, int lwlocks)
{
	if (!process_shared_preload_libraries_in_progress)
		return;
	if (nareas == TEMPO_SHMEM_AREAS)
		elog(ERROR, "too many tempo_fdw shared memory areas");
	if (nareas == 0)
	{
		prev_shmem_request_hook = shmem_request_hook;
		shmem_request_hook = tempo_shmem_request;
		prev_shmem_startup_hook = shmem_startup_hook;
		shmem_startup_hook = tempo_shmem_startup;
	}
	areas[nareas++] = *area;
	nlwlocks += lwlocks;
}
