/*-------------------------------------------------------------------------
 *
 * connection.c
 *		  One libcurl handle per (server, user), kept for the life of the
 *		  backend so that HTTP keep-alive and TLS sessions are reused.
 *
 * The cache is a hash table in CacheMemoryContext, like postgres_fdw's.
 * curl_global_init runs on first use in a backend, never in _PG_init (a
 * library in shared_preload_libraries would otherwise initialise curl in the
 * postmaster).  ALTER SERVER / ALTER USER MAPPING invalidate the entries,
 * which drops their connections; the handles are cleaned up at backend
 * exit.  The handles are malloc'd by libcurl and owned here.
 *
 * Copyright (c) 2026, tempo_fdw developers
 *
 * IDENTIFICATION
 *		  src/connection.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <curl/curl.h>

#include "storage/ipc.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/memutils.h"
#include "utils/syscache.h"

#include "tempo_fdw.h"

typedef struct TempoConnKey
{
	Oid			serverid;
	Oid			userid;
} TempoConnKey;

struct TempoConn
{
	TempoConnKey key;			/* hash key: must be first */
	CURL	   *curl;			/* libcurl easy handle, or NULL */
	bool		invalidated;	/* server or mapping changed since */
};

static HTAB *ConnectionHash = NULL;

static void tempo_inval_callback(Datum arg, int cacheid, uint32 hashvalue);
static void tempo_conn_cleanup(int code, Datum arg);

/*
 * tempo_get_connection
 *		The cached connection of (server, user), created on first use.
 */
TempoConn *
tempo_get_connection(Oid serverid, Oid userid)
{
	TempoConnKey key;
	TempoConn  *entry;
	bool		found;

	if (ConnectionHash == NULL)
	{
		HASHCTL		ctl;

		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			ereport(ERROR,
					(errcode(ERRCODE_FDW_ERROR),
					 errmsg("could not initialize libcurl")));

		ctl.keysize = sizeof(TempoConnKey);
		ctl.entrysize = sizeof(TempoConn);
		ConnectionHash = hash_create("tempo_fdw connections", 8, &ctl,
									 HASH_ELEM | HASH_BLOBS);
		CacheRegisterSyscacheCallback(FOREIGNSERVEROID,
									  tempo_inval_callback, (Datum) 0);
		CacheRegisterSyscacheCallback(USERMAPPINGOID,
									  tempo_inval_callback, (Datum) 0);
		on_proc_exit(tempo_conn_cleanup, (Datum) 0);
	}

	key.serverid = serverid;
	key.userid = userid;
	entry = hash_search(ConnectionHash, &key, HASH_ENTER, &found);
	if (!found)
	{
		entry->curl = NULL;
		entry->invalidated = false;
	}

	if (entry->curl != NULL && entry->invalidated)
	{
		curl_easy_cleanup(entry->curl);
		entry->curl = NULL;
	}
	entry->invalidated = false;

	if (entry->curl == NULL)
	{
		entry->curl = curl_easy_init();
		if (entry->curl == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_FDW_OUT_OF_MEMORY),
					 errmsg("could not create a libcurl handle")));
	}
	return entry;
}

/*
 * tempo_conn_handle
 *		The libcurl handle of a connection (a CURL *, opaque to callers).
 */
void *
tempo_conn_handle(TempoConn *conn)
{
	return conn->curl;
}

/*
 * tempo_inval_callback
 *		A server or user mapping changed: drop every connection at its next
 *		use.  (Syscache hash values do not tell which entry; connections are
 *		cheap to make again.)
 */
static void
tempo_inval_callback(Datum arg, int cacheid, uint32 hashvalue)
{
	HASH_SEQ_STATUS scan;
	TempoConn  *entry;

	hash_seq_init(&scan, ConnectionHash);
	while ((entry = hash_seq_search(&scan)) != NULL)
		entry->invalidated = true;
}

/*
 * tempo_conn_cleanup
 *		Free every libcurl handle at backend exit.
 */
static void
tempo_conn_cleanup(int code, Datum arg)
{
	HASH_SEQ_STATUS scan;
	TempoConn  *entry;

	hash_seq_init(&scan, ConnectionHash);
	while ((entry = hash_seq_search(&scan)) != NULL)
	{
		if (entry->curl)
			curl_easy_cleanup(entry->curl);
		entry->curl = NULL;
	}
}
