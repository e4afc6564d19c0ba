/*-------------------------------------------------------------------------
 *
 * ratelimit.c
 *		  The request budget: at most max_requests_per_second per API host
 *		  and credential, and a common pause after a 429 with Retry-After.
 *
 * Tempo allows about 5 requests per second per token.  A budget is a
 * schedule of request slots 1/rate apart, keyed by a hash of the host and
 * the credential (the token itself is never stored).  When tempo_fdw is in
 * shared_preload_libraries the budgets live in shared memory, so every
 * backend of the cluster shares them; otherwise each backend keeps its own
 * (documented in README.md).  A request reserves the next free slot under a
 * short lock and then waits for it outside the lock, on its latch, so a
 * cancel ends the wait.
 *
 * Copyright (c) 2026, tempo_fdw developers
 *
 * IDENTIFICATION
 *		  src/ratelimit.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/hashfn.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/timestamp.h"

#include "tempo_fdw.h"

/* Budgets kept at once; the least recently used one is reused */
#define RATE_BUDGETS 64

typedef struct RateBudget
{
	uint64		key;			/* hash of host and credential, 0 = free */
	TimestampTz next_slot;		/* when the next request may start */
	TimestampTz blocked_until;	/* no request before this (Retry-After) */
	TimestampTz last_used;		/* for reuse of the entry */
} RateBudget;

typedef struct RateShared
{
	LWLock	   *lock;			/* protects budgets */
	RateBudget	budgets[RATE_BUDGETS];
} RateShared;

static RateShared *shared = NULL;	/* in shared memory, when preloaded */
static RateBudget local_budgets[RATE_BUDGETS];	/* otherwise, per backend */

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

static void
rate_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(MAXALIGN(sizeof(RateShared)));
	RequestNamedLWLockTranche("tempo_fdw", 1);
}

static void
rate_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	shared = ShmemInitStruct("tempo_fdw rate budgets", sizeof(RateShared), &found);
	if (!found)
	{
		memset(shared->budgets, 0, sizeof(shared->budgets));
		shared->lock = &(GetNamedLWLockTranche("tempo_fdw"))->lock;
	}
	LWLockRelease(AddinShmemInitLock);
}

/*
 * tempo_rate_init
 *		From _PG_init: ask for shared memory when preloaded.
 */
void
tempo_rate_init(void)
{
	if (!process_shared_preload_libraries_in_progress)
		return;
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = rate_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = rate_shmem_startup;
}

/*
 * tempo_rate_shared
 *		Are the budgets shared by all backends?
 */
bool
tempo_rate_shared(void)
{
	return shared != NULL;
}

/*
 * tempo_rate_key
 *		The budget key of a URL's host and a credential header.
 */
uint64
tempo_rate_key(const char *url, const char *auth_header)
{
	const char *p = strstr(url, "://");
	size_t		origin = p ? (p - url) + 3 + strcspn(p + 3, "/?#") : strlen(url);
	uint64		h = hash_bytes_extended((const unsigned char *) url, (int) origin, 0);

	if (auth_header)
		h = hash_bytes_extended((const unsigned char *) auth_header,
								(int) strlen(auth_header), h);
	return h ? h : 1;
}

/* The budget of key (the caller holds the lock), made if need be. */
static RateBudget *
find_budget(RateBudget *budgets, uint64 key, TimestampTz now)
{
	RateBudget *oldest = &budgets[0];

	for (int i = 0; i < RATE_BUDGETS; i++)
	{
		if (budgets[i].key == key)
			return &budgets[i];
		if (budgets[i].last_used < oldest->last_used)
			oldest = &budgets[i];
	}
	memset(oldest, 0, sizeof(*oldest));
	oldest->key = key;
	oldest->last_used = now;
	return oldest;
}

/*
 * tempo_rate_reserve
 *		Take the next request slot of a budget and return when it starts:
 *		not before the previous slot plus 1/rate (rate 0: no limit), nor
 *		before a pause a 429 asked for.
 */
TimestampTz
tempo_rate_reserve(uint64 key, double rate)
{
	TimestampTz now = GetCurrentTimestamp();
	TimestampTz start;
	RateBudget *b;

	if (shared)
		LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	b = find_budget(shared ? shared->budgets : local_budgets, key, now);
	start = Max(now, b->blocked_until);
	if (rate > 0)
	{
		start = Max(start, b->next_slot);
		b->next_slot = start + (TimestampTz) (USECS_PER_SEC / rate);
	}
	b->last_used = now;
	if (shared)
		LWLockRelease(shared->lock);
	return start;
}

/*
 * tempo_rate_block
 *		No request of this budget before until (a 429's Retry-After).
 */
void
tempo_rate_block(uint64 key, TimestampTz until)
{
	RateBudget *b;

	if (shared)
		LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	b = find_budget(shared ? shared->budgets : local_budgets, key, GetCurrentTimestamp());
	b->blocked_until = Max(b->blocked_until, until);
	if (shared)
		LWLockRelease(shared->lock);
}
