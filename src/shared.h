/*-------------------------------------------------------------------------
 *
 * shared.h
 *		  Layer 2, shared-memory features: the counters of a scan, and what
 *		  backends share about scans (in shared memory when tempo_fdw is
 *		  preloaded, else per backend): rate budgets, statistics, activity,
 *		  row estimates, fallback records.
 *
 * Files: shmem.c, activity.c, ratelimit.c, stats.c, fallback.c, estimate.c.
 * Included by the transport (http.c), the scan, the planner and the
 * module entry; it includes only options.h and PostgreSQL's headers.
 *
 * Copyright (c) 2026, tempo_fdw developers
 *
 * IDENTIFICATION
 *		  src/shared.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef TEMPO_SHARED_H
#define TEMPO_SHARED_H

#include "utils/timestamp.h"

#include "options.h"

/* Counters shown by EXPLAIN ANALYZE */
typedef struct TempoScanStats
{
	int64		pages;			/* pages turned into rows */
	int64		requests;		/* HTTP requests sent, retries included */
	int64		retries;		/* requests repeated after a transient fault */
	int64		bytes;			/* response bytes received (decoded) */
	int64		throttled;		/* 429 responses (Too Many Requests) */
	int64		http_us;		/* time in transfers (summed when concurrent) */
	int64		budget_wait_us; /* waited for a slot of the request budget */
	int64		retry_wait_us;	/* waited before retries (Retry-After,
								 * backoff) */
} TempoScanStats;

/*
 * in shmem.c: an area of shared memory.  attach gets its address in every
 * backend; created is true the first time, when the area is all zeroes and
 * is to be set up (spinlocks, LWLocks).
 */
#define TEMPO_LWLOCK_TRANCHE "tempo_fdw"
typedef struct TempoShmemArea
{
	const char *name;			/* ShmemInitStruct's key */
	Size		(*size) (void);
	void		(*attach) (void *area, bool created);
} TempoShmemArea;
extern void tempo_shmem_register(const TempoShmemArea *area, int lwlocks);

/* in ratelimit.c */
extern void tempo_rate_init(void);
extern uint64 tempo_rate_key(const char *url, const char *auth_header);
extern int	tempo_max_backlog_per_role;
extern int64 tempo_rate_acquire(uint64 key, double rate);
extern void tempo_rate_block(uint64 key, TimestampTz until);

/* in fallback.c */
#define ERRCODE_TEMPO_FALLBACK MAKE_SQLSTATE('0','1','T','0','1')
extern bool tempo_fallback_enabled;
extern void tempo_fallback_init(void);
extern int64 tempo_fallback_record(Oid serverid, Oid relid, const char *cause);
extern void tempo_fallback_count(Oid serverid, int64 key, int64 rows);

/* in estimate.c */
extern void tempo_estimate_init(void);
extern void tempo_estimate_learn(Oid relid, double days, double rows);
extern double tempo_estimate_rows(Oid relid, double days);

/* in activity.c */
typedef enum TempoActivityState
{
	TEMPO_ACT_STARTING,
	TEMPO_ACT_REQUESTING,
	TEMPO_ACT_BUDGET,
	TEMPO_ACT_RETRY_WAIT,
	TEMPO_ACT_CONVERTING
} TempoActivityState;
extern void tempo_activity_init(void);
extern void tempo_activity_begin(Oid serverid, Oid relid);
extern void tempo_activity_end(void);
extern void tempo_activity_request(const char *method, const char *path);
extern void tempo_activity_state(TempoActivityState state);
extern void tempo_activity_counters(const TempoScanStats *stats);
extern void tempo_activity_progress(const TempoScanStats *stats, int64 rows);

/* in stats.c; the classes of errors come from the failure policy (failure.c) */
typedef enum TempoErrorClass
{
	TEMPO_ERR_AUTH,				/* no credentials, 401, 403 */
	TEMPO_ERR_NETWORK,			/* connect, timeout, TLS, broken transfer */
	TEMPO_ERR_HTTP,				/* any other HTTP status */
	TEMPO_ERR_OTHER				/* bad data, limits, a cancel, ... */
} TempoErrorClass;
extern void tempo_stats_init(void);
extern void tempo_stats_add(Oid serverid, int resource, const TempoScanStats *scan,
							int64 rows, bool fell_back, bool failed,
							TempoErrorClass error_class);

#endif							/* TEMPO_SHARED_H */
