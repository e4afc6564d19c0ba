/*-------------------------------------------------------------------------
 *
 * transport.h
 *		  Layer 3, transport: cached connections and the HTTP requests sent
 *		  on them, one at a time or several at once, with their retries.
 *
 * Files: connection.c (the cache of libcurl handles per server and user),
 * http.c (requests; it uses connection.c, never the other way round).
 * libcurl stays behind the opaque TempoConn: only those two files include
 * curl_conn.h.  failure.h (the failure policy) builds on this header;
 * the pager, twins.c, check.c and the scan include it.
 *
 * Copyright (c) 2026, tempo_fdw developers
 *
 * IDENTIFICATION
 *		  src/transport.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef TEMPO_TRANSPORT_H
#define TEMPO_TRANSPORT_H

#include "options.h"
#include "shared.h"

/* An HTTP connection: opaque outside connection.c and http.c */
typedef struct TempoConn TempoConn;

/* in connection.c */
extern TempoConn *tempo_get_connection(Oid serverid, Oid userid);

/* in http.c */
typedef struct TempoHttpRequest
{
	const char *method;			/* "GET" or "POST" */
	const char *url;			/* absolute URL */
	const char *body;			/* POST body (JSON) or NULL */
	const char *auth_header;	/* full "Authorization: ..." line */
	const char *what;			/* what is asked, for messages (no host) */
	const char *service;		/* "Tempo" or "Jira" */
	const char *tempo_cause;	/* a Jira request in place of a failed Tempo
								 * one: why Tempo failed; or NULL */

	/*
	 * where the body goes; all optional (zeroed: a new buffer in
	 * CurrentMemoryContext)
	 */
	MemoryContext body_cxt;		/* the body's context, if not the current one */
	char	   *buffer;			/* a buffer of body_cxt to receive into, or
								 * NULL */
	size_t		buffer_size;	/* its size */
	size_t		size_hint;		/* else: the body's likely size (0: unknown) */
	int			sent_before;	/* times it went out already (a transfer
								 * started ahead): counts against max_retries */
} TempoHttpRequest;

typedef enum TempoHttpOutcome
{
	TEMPO_HTTP_OK,				/* 2xx with a body */
	TEMPO_HTTP_STATUS,			/* a non-2xx status */
	TEMPO_HTTP_CONNECT,			/* could not connect / resolve */
	TEMPO_HTTP_TIMEOUT,			/* timeout_ms or connect_timeout_ms hit */
	TEMPO_HTTP_TRANSFER,		/* reset, truncated, or other transfer error */
	TEMPO_HTTP_TOO_BIG,			/* body over max_response_bytes */
	TEMPO_HTTP_TLS,				/* TLS handshake or peer verification failed */
	TEMPO_HTTP_NO_CREDENTIALS,	/* not sent: no token for this service */
	TEMPO_HTTP_ENCODING			/* a Content-Encoding other than gzip */
} TempoHttpOutcome;

typedef struct TempoHttpResponse
{
	TempoHttpOutcome outcome;
	long		status;			/* HTTP status, 0 if none */
	char	   *body;			/* NUL-terminated body (palloc'd) */
	size_t		len;			/* body length */
	size_t		cap;			/* bytes allocated for body */
	char		error[256];		/* libcurl's error text, if any */
	int			sent;			/* times the request went out */
} TempoHttpResponse;

extern void tempo_http_perform(TempoConn *conn, const TempoFdwOptions *opts,
							   const TempoHttpRequest *req,
							   TempoHttpResponse *resp,
							   TempoScanStats *stats);
typedef struct TempoTransfer TempoTransfer;
extern TempoTransfer *tempo_http_start(TempoConn *conn, const TempoFdwOptions *opts,
									   const TempoHttpRequest *req,
									   TempoScanStats *stats);
extern void tempo_http_finish(TempoTransfer *t, TempoHttpResponse *resp,
							  TempoScanStats *stats);
extern void tempo_http_abandon(TempoTransfer *t);
extern void tempo_http_pump(TempoConn *conn);
extern int64 tempo_http_requests_made(void);

#endif							/* TEMPO_TRANSPORT_H */
