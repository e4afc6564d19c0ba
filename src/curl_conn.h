/*-------------------------------------------------------------------------
 *
 * curl_conn.h
 *		  The libcurl side of a cached connection, shared by connection.c
 *		  (which caches and frees it) and http.c (which sends requests on it).
 *
 * Part of the transport layer (transport.h).  Only these two files include
 * it, and so libcurl; every other file sees TempoConn as an opaque type.
 *
 * Copyright (c) 2026, tempo_fdw developers
 *
 * IDENTIFICATION
 *		  src/curl_conn.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef TEMPO_CURL_CONN_H
#define TEMPO_CURL_CONN_H

#include <curl/curl.h>

#include "transport.h"

/* Concurrent transfers a connection can run (max_concurrency's maximum) */
#define TEMPO_MAX_SLOTS 64

/* One easy handle of the multi handle, and the transfer on it */
typedef struct TempoSlot
{
	CURL	   *easy;			/* created on first use */
	struct curl_slist *headers; /* of the transfer on it (malloc'd) */
	bool		busy;			/* added to the multi handle */
	bool		done;			/* the transfer finished */
	CURLcode	result;			/* its result, once done */
	void	   *owner;			/* the TempoTransfer using it */
} TempoSlot;

struct TempoConn
{
	Oid			serverid;		/* hash key: server ... */
	Oid			userid;			/* ... and user; must be first */
	CURL	   *curl;			/* easy handle for one request at a time */
	CURLM	   *single;			/* multi handle that runs curl, or NULL */
	CURLM	   *multi;			/* multi handle for concurrent ones, or NULL */
	TempoSlot	slots[TEMPO_MAX_SLOTS];
	bool		invalidated;	/* server or mapping changed since */
	uint32		server_hash;	/* syscache hash value of the server ... */
	uint32		mapping_hash;	/* ... and of the user mapping used (0: none) */
};

/* in connection.c: free a slot, and a header list (zeroed: the credential) */
extern void tempo_release_slot(TempoConn *conn, TempoSlot *slot);
extern void tempo_free_headers(struct curl_slist *headers);

#endif							/* TEMPO_CURL_CONN_H */
