/*-------------------------------------------------------------------------
 *
 * compat.h
 *		  Every PostgreSQL- and libcurl-version-dependent line of tempo_fdw.
 *
 * The project is built and tested on PostgreSQL 15, 17 and 18 and libcurl
 * 7.88 and 8.x; code that differs between versions lives here and nowhere
 * else (no PG_VERSION_NUM or LIBCURL_VERSION_NUM test in any other file).
 * Included by options.h, and so by every file but jsonpage.c.
 *
 * Copyright (c) 2026, tempo_fdw developers
 *
 * IDENTIFICATION
 *		  src/compat.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef TEMPO_COMPAT_H
#define TEMPO_COMPAT_H

#if PG_VERSION_NUM < 150000
#error "tempo_fdw needs PostgreSQL 15 or later"
#endif

#include "catalog/pg_foreign_server.h"
#include "utils/acl.h"
#include "utils/wait_event.h"

/*
 * The role whose user mapping a scan uses: on 15 the range table entry
 * carries checkAsUser; 16 moved it to RTEPermissionInfo.
 */
#if PG_VERSION_NUM >= 160000
#define TEMPO_SCAN_USER(node) \
	(((ForeignScan *) (node)->ss.ps.plan)->checkAsUser ? \
	 ((ForeignScan *) (node)->ss.ps.plan)->checkAsUser : GetUserId())
#else
#define TEMPO_SCAN_USER(node) \
	(exec_rt_fetch(((ForeignScan *) (node)->ss.ps.plan)->scan.scanrelid, \
				   (node)->ss.ps.state)->checkAsUser ? \
	 exec_rt_fetch(((ForeignScan *) (node)->ss.ps.plan)->scan.scanrelid, \
				   (node)->ss.ps.state)->checkAsUser : GetUserId())
#endif

/*
 * Function attributes: 18 replaced pg_attribute_noreturn(), written after a
 * declaration, by pg_noreturn, written before it.  TEMPO_NORETURN goes
 * before the declaration (where __attribute__((noreturn)) works too).
 */
#if PG_VERSION_NUM >= 180000
#define TEMPO_NORETURN pg_noreturn
#else
#define TEMPO_NORETURN pg_attribute_noreturn()
#endif

/* 18 moved ExplainState and the ExplainProperty* functions out of explain.h */
#if PG_VERSION_NUM >= 180000
#include "commands/explain_format.h"
#include "commands/explain_state.h"
#endif

/* 16 replaced the per-kind ACL checks by object_aclcheck */
#if PG_VERSION_NUM >= 160000
#define TEMPO_SERVER_ACLCHECK(serverid, roleid, mode) \
	object_aclcheck(ForeignServerRelationId, (serverid), (roleid), (mode))
#else
#define TEMPO_SERVER_ACLCHECK(serverid, roleid, mode) \
	pg_foreign_server_aclcheck((serverid), (roleid), (mode))
#endif

/*
 * create_foreignscan_path gained fdw_restrictinfo in 17 and disabled_nodes
 * in 18: TEMPO_FOREIGNSCAN_PATH takes 15's arguments and passes none of the
 * new ones (no restriction is moved into the path, nothing disabled).
 */
#if PG_VERSION_NUM >= 180000
#define TEMPO_FOREIGNSCAN_PATH(root, rel, target, rows, startup, total, pathkeys, \
							   outer, outerpath, priv) \
	create_foreignscan_path((root), (rel), (target), (rows), 0, (startup), (total), \
							(pathkeys), (outer), (outerpath), NIL, (priv))
#elif PG_VERSION_NUM >= 170000
#define TEMPO_FOREIGNSCAN_PATH(root, rel, target, rows, startup, total, pathkeys, \
							   outer, outerpath, priv) \
	create_foreignscan_path((root), (rel), (target), (rows), (startup), (total), \
							(pathkeys), (outer), (outerpath), NIL, (priv))
#else
#define TEMPO_FOREIGNSCAN_PATH(root, rel, target, rows, startup, total, pathkeys, \
							   outer, outerpath, priv) \
	create_foreignscan_path((root), (rel), (target), (rows), (startup), (total), \
							(pathkeys), (outer), (outerpath), (priv))
#endif

/* A pathkey's direction: pk_strategy until 17, pk_cmptype since 18 */
#if PG_VERSION_NUM >= 180000
#include "access/cmptype.h"
#define TEMPO_PATHKEY_DESC(pk) ((pk)->pk_cmptype == COMPARE_GT)
#else
#include "access/stratnum.h"
#define TEMPO_PATHKEY_DESC(pk) ((pk)->pk_strategy == BTGreaterStrategyNumber)
#endif

/* pg_b64_encode reads uint8 * since 18, char * before */
#if PG_VERSION_NUM >= 180000
#define TEMPO_B64_ENCODE(src, len, dst, dstlen) \
	pg_b64_encode((const uint8 *) (src), (len), (dst), (dstlen))
#else
#define TEMPO_B64_ENCODE(src, len, dst, dstlen) \
	pg_b64_encode((const char *) (src), (len), (dst), (dstlen))
#endif

/*
 * Wait events: what pg_stat_activity shows while a backend waits in
 * tempo_fdw.  17 lets an extension name its own (WaitEventExtensionNew,
 * registered on first use in each backend); before, all are "Extension".
 */
typedef enum TempoWaitEvent
{
	TEMPO_WAIT_HTTP,			/* "TempoHttp": a request in flight */
	TEMPO_WAIT_RATE,			/* "TempoRateBudget": the request budget's
								 * slot */
	TEMPO_WAIT_RETRY,			/* "TempoRetryWait": backing off before a
								 * retry */
} TempoWaitEvent;

#if PG_VERSION_NUM >= 170000
static inline uint32
tempo_wait_event(TempoWaitEvent which)
{
	static uint32 ids[3];
	static const char *const names[3] = {"TempoHttp", "TempoRateBudget", "TempoRetryWait"};

	if (ids[which] == 0)
		ids[which] = WaitEventExtensionNew(names[which]);
	return ids[which];
}
#else
static inline uint32
tempo_wait_event(TempoWaitEvent which)
{
	return PG_WAIT_EXTENSION;
}
#endif

/*
 * A WaitEventSet: 17 ties it to a resource owner (released on abort); before,
 * it lived in a memory context.  Either way FreeWaitEventSet frees it.
 */
#include "storage/latch.h"
#if PG_VERSION_NUM >= 170000
#include "utils/resowner.h"
#define TEMPO_CREATE_WAIT_EVENT_SET(nevents) \
	CreateWaitEventSet(CurrentResourceOwner, (nevents))
#else
#define TEMPO_CREATE_WAIT_EVENT_SET(nevents) \
	CreateWaitEventSet(CurrentMemoryContext, (nevents))
#endif

/* libcurl: only where curl.h was included first */
#ifdef CURLINC_CURL_H
#if LIBCURL_VERSION_NUM >= 0x075500 /* 7.85.0 */
#define TEMPO_CURL_SET_PROTOCOLS(h) \
	(curl_easy_setopt((h), CURLOPT_PROTOCOLS_STR, "http,https"), \
	 curl_easy_setopt((h), CURLOPT_REDIR_PROTOCOLS_STR, "http,https"))
#else
#define TEMPO_CURL_SET_PROTOCOLS(h) \
	(curl_easy_setopt((h), CURLOPT_PROTOCOLS, \
					  (long) (CURLPROTO_HTTP | CURLPROTO_HTTPS)), \
	 curl_easy_setopt((h), CURLOPT_REDIR_PROTOCOLS, \
					  (long) (CURLPROTO_HTTP | CURLPROTO_HTTPS)))
#endif
#if LIBCURL_VERSION_NUM < 0x074200	/* 7.66.0: CURLINFO_RETRY_AFTER */
#error "tempo_fdw needs libcurl 7.66 or later"
#endif
#endif							/* CURLINC_CURL_H */

/*
 * ANALYZE's cost-based delay point (commands/vacuum.h): 18 asks whether
 * the caller is ANALYZE.
 */
#if PG_VERSION_NUM >= 180000
#define TEMPO_ANALYZE_DELAY_POINT() vacuum_delay_point(true)
#else
#define TEMPO_ANALYZE_DELAY_POINT() vacuum_delay_point()
#endif

#endif							/* TEMPO_COMPAT_H */
