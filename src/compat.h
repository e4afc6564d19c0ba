/*-------------------------------------------------------------------------
 *
 * compat.h
 *		  Every PostgreSQL- and libcurl-version-dependent line of tempo_fdw.
 *
 * The project is built and tested on PostgreSQL 15 and libcurl 7.88; code
 * that differs between versions lives here and nowhere else.
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

/* libcurl: only where curl.h was included first */
#ifdef CURLINC_CURL_H
#if LIBCURL_VERSION_NUM >= 0x075500		/* 7.85.0 */
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
#if LIBCURL_VERSION_NUM < 0x074200		/* 7.66.0: CURLINFO_RETRY_AFTER */
#error "tempo_fdw needs libcurl 7.66 or later"
#endif
#endif							/* CURLINC_CURL_H */

#endif							/* TEMPO_COMPAT_H */
