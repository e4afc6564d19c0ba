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
 * Since every role with USAGE on the wrapper shares a budget with the
 * others using the same token, no role may make the others wait without
 * bound:
 *	- a request that never went out (cancelled, timed out, terminated while
 *	  it waited) gives its slot back: the budget's schedule moves back by
 *	  one slot;
 *	- each budget counts the requests of each role that are waiting; a
 *	  role may have tempo_fdw.max_backlog_per_role milliseconds' worth of
 *	  them (at the budget's rate, at least one), and its next request that
 *	  would have to wait is an ERROR instead.  Another role's wait is so at
 *	  most the backlog of the roles that share the budget.
 * The view tempo_fdw.rate_budgets shows the budgets (not their keys).
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
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "utils/acl.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "shared.h"

/* Budgets kept at once; the least recently used one is reused */
#define RATE_BUDGETS 64

/* Roles with waiting requests counted per budget (more are not capped) */
#define RATE_ROLES 16

/* Slots further apart than this are not kept (max_requests_per_second >= 0.001) */
#define MAX_INTERVAL_USECS ((int64) 1000 * USECS_PER_SEC)

/* The requests of one role waiting for their slot */
typedef struct RoleBacklog
{
	Oid			role;			/* InvalidOid = free */
	int32		waiting;
} RoleBacklog;

typedef struct RateBudget
{
	uint64		key;			/* hash of host and credential, 0 = free */
	TimestampTz next_slot;		/* when the next request may start */
	TimestampTz blocked_until;	/* no request before this (Retry-After) */
	TimestampTz last_used;		/* for reuse of the entry */
	double		rate;			/* requests per second of its last request */
	RoleBacklog roles[RATE_ROLES];
} RateBudget;

/* The reservation this backend waits for, to give back on cancel or exit */
typedef struct Reservation
{
	bool		active;
	uint64		key;
	Oid			role;			/* counted in the budget's roles, or
								 * InvalidOid */
	TimestampTz start;			/* the slot */
	int64		interval;		/* what the slot added to next_slot */
} Reservation;

/* tempo_fdw.max_backlog_per_role, in milliseconds (tempo_fdw.c defines it) */
int			tempo_max_backlog_per_role = 10000;

typedef struct RateShared
{
	LWLock	   *lock;			/* protects budgets */
	RateBudget	budgets[RATE_BUDGETS];
} RateShared;

static RateShared *shared = NULL;	/* in shared memory, when preloaded */
static RateBudget local_budgets[RATE_BUDGETS];	/* otherwise, per backend */

static Reservation reservation; /* this backend's, while it waits */
static bool exit_callback_set = false;

static Size
rate_size(void)
{
	return sizeof(RateShared);
}

static void
rate_attach(void *area, bool created)
{
	shared = (RateShared *) area;
	if (created)
		shared->lock = &(GetNamedLWLockTranche(TEMPO_LWLOCK_TRANCHE))->lock;
}

static const TempoShmemArea rate_area = {
	"tempo_fdw rate budgets", rate_size, rate_attach
};

/*
 * tempo_rate_init
 *		From _PG_init: ask for shared memory when preloaded.
 */
void
tempo_rate_init(void)
{
	tempo_shmem_register(&rate_area, 1);
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

/* Lock the budgets (when shared); return the array. */
static RateBudget *
lock_budgets(void)
{
	if (shared)
	{
		LWLockAcquire(shared->lock, LW_EXCLUSIVE);
		return shared->budgets;
	}
	return local_budgets;
}

static void
unlock_budgets(void)
{
	if (shared)
		LWLockRelease(shared->lock);
}

/* The backlog entry of role in b, made if need be; NULL when all are taken. */
static RoleBacklog *
find_role(RateBudget *b, Oid role)
{
	RoleBacklog *free_entry = NULL;

	for (int i = 0; i < RATE_ROLES; i++)
	{
		if (b->roles[i].role == role)
			return &b->roles[i];
		if (free_entry == NULL && (b->roles[i].role == InvalidOid || b->roles[i].waiting <= 0))
			free_entry = &b->roles[i];
	}
	if (free_entry)
	{
		free_entry->role = role;
		free_entry->waiting = 0;
	}
	return free_entry;
}

/* Microseconds between two slots at rate (> 0), within MAX_INTERVAL_USECS. */
static int64
slot_interval(double rate)
{
	double		usecs = (double) USECS_PER_SEC / rate;

	return usecs >= (double) MAX_INTERVAL_USECS ? MAX_INTERVAL_USECS : (int64) usecs;
}

/*
 * reserve
 *		Take the next slot of a budget for role into reservation: not before
 *		the previous slot plus 1/rate (rate 0: no limit), nor before a pause
 *		a 429 asked for.  ERROR, taking nothing, when the slot would wait
 *		and role already has its share of waiting requests.
 */
static void
reserve(uint64 key, double rate, Oid role)
{
	TimestampTz now = GetCurrentTimestamp();
	int64		interval = rate > 0 ? slot_interval(rate) : 0;
	RateBudget *b = find_budget(lock_budgets(), key, now);
	TimestampTz start = Max(now, b->blocked_until);
	RoleBacklog *rb = NULL;

	if (rate > 0)
		start = Max(start, b->next_slot);
	if (start > now && rate > 0 && (rb = find_role(b, role)) != NULL)
	{
		double		cap = (double) tempo_max_backlog_per_role * rate / 1000.0;
		int32		waiting = rb->waiting;

		if (waiting >= 1 && (double) waiting >= cap)
		{
			unlock_budgets();
			ereport(ERROR,
					(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
					 errmsg("too many requests of role \"%s\" are waiting for the request budget",
							GetUserNameFromId(role, false)),
					 errdetail("%d requests of this role already wait for their turn at %g requests per second; a role may queue at most tempo_fdw.max_backlog_per_role (%d ms) of requests, so that other roles sharing the token are not held up.",
							   waiting, rate, tempo_max_backlog_per_role),
					 errhint("Run fewer queries against this server at once, or ask a superuser to raise tempo_fdw.max_backlog_per_role.")));
		}
		rb->waiting++;
	}
	if (rate > 0)
		b->next_slot = start + interval;
	b->last_used = now;
	b->rate = rate;
	reservation.key = key;
	reservation.role = rb ? role : InvalidOid;
	reservation.start = start;
	reservation.interval = interval;
	reservation.active = true;
	unlock_budgets();
}

/*
 * release
 *		End this backend's reservation: no longer waiting; when the request
 *		never went out (unused), its slot goes back to the budget.
 */
static void
release(bool unused)
{
	RateBudget *budgets;

	if (!reservation.active)
		return;
	reservation.active = false;
	budgets = lock_budgets();
	for (int i = 0; i < RATE_BUDGETS; i++)
	{
		RateBudget *b = &budgets[i];

		if (b->key != reservation.key)
			continue;
		if (unused && reservation.interval > 0 &&
			b->next_slot >= reservation.start + reservation.interval)
			b->next_slot -= reservation.interval;
		for (int j = 0; j < RATE_ROLES && reservation.role != InvalidOid; j++)
			if (b->roles[j].role == reservation.role && b->roles[j].waiting > 0)
			{
				b->roles[j].waiting--;
				break;
			}
		break;
	}
	unlock_budgets();
}

/* At backend exit (a terminate while waiting): give the slot back. */
static void
rate_exit_callback(int code, Datum arg)
{
	release(true);
}

/* Sleep on the latch until start; a cancel raises its ERROR here. */
static void
wait_until(TimestampTz start)
{
	for (;;)
	{
		long		left;

		CHECK_FOR_INTERRUPTS();
		left = TimestampDifferenceMilliseconds(GetCurrentTimestamp(), start);
		if (left <= 0)
			break;
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 left, tempo_wait_event(TEMPO_WAIT_RATE));
		ResetLatch(MyLatch);
	}
}

/*
 * tempo_rate_acquire
 *		Wait for the next request slot of a budget (see reserve); returns the
 *		microseconds waited.  A cancel during the wait gives the slot back
 *		and raises PostgreSQL's error.
 */
int64
tempo_rate_acquire(uint64 key, double rate)
{
	TimestampTz t0;
	TimestampTz t1;

	if (!exit_callback_set)
	{
		before_shmem_exit(rate_exit_callback, (Datum) 0);
		exit_callback_set = true;
	}
	release(true);				/* none is left; if one were, it went unused */
	reserve(key, rate, GetUserId());
	t0 = GetCurrentTimestamp();
	t1 = t0;
	PG_TRY();
	{
		if (reservation.start > t0)
		{
			tempo_activity_state(TEMPO_ACT_BUDGET);
			wait_until(reservation.start);
			tempo_activity_state(TEMPO_ACT_REQUESTING);
			t1 = GetCurrentTimestamp();
		}
	}
	PG_CATCH();
	{
		release(true);
		PG_RE_THROW();
	}
	PG_END_TRY();
	release(false);
	return (int64) (t1 - t0);
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

PG_FUNCTION_INFO_V1(tempo_fdw_rate_budgets);

/*
 * tempo_fdw_rate_budgets
 *		SETOF (budget, rate, slots_ahead, next_slot_at, paused_until,
 *		waiting, roles_waiting, last_used, shared): the budgets in use,
 *		without their keys (a hash of host and credential).
 */
Datum
tempo_fdw_rate_budgets(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	RateBudget *copy = palloc(sizeof(RateBudget) * RATE_BUDGETS);
	TimestampTz now = GetCurrentTimestamp();
	int			n = 0;

	InitMaterializedSRF(fcinfo, 0);
	memcpy(copy, lock_budgets(), sizeof(RateBudget) * RATE_BUDGETS);
	unlock_budgets();
	for (int i = 0; i < RATE_BUDGETS; i++)
	{
		RateBudget *b = &copy[i];
		Datum		values[9];
		bool		nulls[9] = {false};
		int64		waiting = 0;
		int32		roles = 0;
		int64		ahead = 0;

		if (b->key == 0)
			continue;
		for (int j = 0; j < RATE_ROLES; j++)
			if (b->roles[j].role != InvalidOid && b->roles[j].waiting > 0)
			{
				waiting += b->roles[j].waiting;
				roles++;
			}
		if (b->rate > 0 && b->next_slot > now)
			ahead = (b->next_slot - now + slot_interval(b->rate) - 1) / slot_interval(b->rate);
		values[0] = Int32GetDatum(++n);
		values[1] = Float8GetDatum(b->rate);
		values[2] = Int64GetDatum(ahead);
		values[3] = TimestampTzGetDatum(Max(b->next_slot, now));
		nulls[3] = b->rate <= 0;
		values[4] = TimestampTzGetDatum(b->blocked_until);
		nulls[4] = b->blocked_until <= now;
		values[5] = Int64GetDatum(waiting);
		values[6] = Int32GetDatum(roles);
		values[7] = TimestampTzGetDatum(b->last_used);
		values[8] = BoolGetDatum(shared != NULL);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	pfree(copy);
	return (Datum) 0;
}
