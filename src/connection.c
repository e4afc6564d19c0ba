/*-------------------------------------------------------------------------
 *
 * connection.c
 *		  One libcurl handle per (server, user), kept for the life of the
 *		  backend so that HTTP keep-alive and TLS sessions are reused.
 *
 * The cache is a hash table in CacheMemoryContext, like postgres_fdw's.
 * curl_global_init runs on first use in a backend, never in _PG_init (a
 * library in shared_preload_libraries would otherwise initialise curl in the
 * postmaster).  A change of a server or user mapping (any role's, even one
 * created and dropped at once) invalidates the entries it concerns, as
 * postgres_fdw does: each entry keeps the syscache hash values of its
 * server and of the user mapping it was made with, and only the entries
 * whose values match the invalidation drop their connections, at their
 * next use when no transfer of a running scan is on them; the handles are
 * cleaned up at backend exit.  The handles are malloc'd by libcurl and
 * owned here: one easy handle for requests one at a time (run on a multi
 * handle of its own, so that waits are latch waits), and a multi handle
 * with easy handles for concurrent ones (src/curl_conn.h).
 *
 * libcurl copies the Authorization header into buffers of its own (the
 * request it writes, growing buffers it reallocs): it is initialised with an
 * allocator that zeroes every block before freeing it, so that no copy of a
 * credential outlives its request in freed memory.  (When another library
 * of the backend initialised libcurl first, libcurl keeps that one's.)
 *
 * Copyright (c) 2026, tempo_fdw developers
 *
 * IDENTIFICATION
 *		  src/connection.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <malloc.h>

#include "access/xact.h"
#include "storage/ipc.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/memutils.h"
#include "utils/syscache.h"
#include "catalog/pg_user_mapping.h"

#include "transport.h"
#include "curl_conn.h"

typedef struct TempoConnKey
{
	Oid			serverid;
	Oid			userid;
} TempoConnKey;

static HTAB *ConnectionHash = NULL;

static void tempo_inval_callback(Datum arg, int cacheid, uint32 hashvalue);
static void release_handles(TempoConn *entry);
static void tempo_xact_callback(XactEvent event, void *arg);
static void tempo_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
								   SubTransactionId parentSubid, void *arg);
static void tempo_conn_cleanup(int code, Datum arg);

/*
 * libcurl's allocator: the C library's, but every block is zeroed before it
 * is freed, and realloc never leaves the old block behind unzeroed.
 */
static void
zeroing_free(void *p)
{
	if (p != NULL)
	{
		explicit_bzero(p, malloc_usable_size(p));
		free(p);
	}
}

static void *
zeroing_realloc(void *p, size_t size)
{
	void	   *q;
	size_t		old;

	if (p == NULL)
		return malloc(size);
	old = malloc_usable_size(p);
	if (size <= old && size > 0)
		return p;
	q = malloc(size > 0 ? size : 1);
	if (q == NULL)
		return NULL;
	memcpy(q, p, Min(old, size));
	zeroing_free(p);
	return q;
}

static char *
zeroing_strdup(const char *s)
{
	size_t		n = strlen(s) + 1;
	char	   *d = malloc(n);

	if (d != NULL)
		memcpy(d, s, n);
	return d;
}

/* Does a scan have transfers on this connection (started, not finished)? */
static bool
transfers_running(TempoConn *entry)
{
	for (int i = 0; i < TEMPO_MAX_SLOTS; i++)
		if (entry->slots[i].busy || entry->slots[i].owner != NULL)
			return true;
	return false;
}

/*
 * mapping_hash
 *		The syscache hash value of the user mapping (server, user) uses: the
 *		user's own, else PUBLIC's; 0 when there is none (a server-level
 *		token).
 */
static uint32
mapping_hash(Oid serverid, Oid userid)
{
	HeapTuple	tup;
	uint32		hash = 0;

	tup = SearchSysCache2(USERMAPPINGUSERSERVER, ObjectIdGetDatum(userid),
						  ObjectIdGetDatum(serverid));
	if (!HeapTupleIsValid(tup))
		tup = SearchSysCache2(USERMAPPINGUSERSERVER, ObjectIdGetDatum(InvalidOid),
							  ObjectIdGetDatum(serverid));
	if (HeapTupleIsValid(tup))
	{
		hash = GetSysCacheHashValue1(USERMAPPINGOID,
									 ObjectIdGetDatum(((Form_pg_user_mapping) GETSTRUCT(tup))->oid));
		ReleaseSysCache(tup);
	}
	return hash;
}

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

		if (curl_global_init_mem(CURL_GLOBAL_DEFAULT, malloc, zeroing_free,
								 zeroing_realloc, zeroing_strdup,
								 calloc) != CURLE_OK)
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
		RegisterXactCallback(tempo_xact_callback, NULL);
		RegisterSubXactCallback(tempo_subxact_callback, NULL);
		on_proc_exit(tempo_conn_cleanup, (Datum) 0);
	}

	key.serverid = serverid;
	key.userid = userid;
	entry = hash_search(ConnectionHash, &key, HASH_ENTER, &found);
	if (!found)
	{
		entry->curl = NULL;
		entry->multi = NULL;
		entry->single = NULL;
		memset(entry->slots, 0, sizeof(entry->slots));
		entry->invalidated = false;
	}
	if (!found || entry->curl == NULL)
	{
		entry->server_hash = GetSysCacheHashValue1(FOREIGNSERVEROID,
												   ObjectIdGetDatum(serverid));
		entry->mapping_hash = mapping_hash(serverid, userid);
	}

	/*
	 * Drop the handles of a changed server or mapping, but never under a scan
	 * whose transfers are running (a cursor reading ahead): its slots would
	 * lose their handles and it would wait for them forever.  The handles go
	 * at a later call, when no transfer runs.
	 */
	if (entry->invalidated && !transfers_running(entry))
	{
		release_handles(entry);
		entry->invalidated = false;
	}

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
 * tempo_inval_callback
 *		A server or user mapping changed: drop the connections made with it
 *		at their next use (hashvalue 0: every one, after a cache reset).
 *		A user mapping created for a (server, user) whose connection was
 *		made with PUBLIC's or none changes no connection: the credentials
 *		are read anew for every scan.
 */
static void
tempo_inval_callback(Datum arg, int cacheid, uint32 hashvalue)
{
	HASH_SEQ_STATUS scan;
	TempoConn  *entry;

	hash_seq_init(&scan, ConnectionHash);
	while ((entry = hash_seq_search(&scan)) != NULL)
		if (hashvalue == 0 ||
			(cacheid == FOREIGNSERVEROID && entry->server_hash == hashvalue) ||
			(cacheid == USERMAPPINGOID && entry->mapping_hash == hashvalue))
			entry->invalidated = true;
}

/*
 * tempo_free_headers
 *		Zero and free a header list: it holds the credential.
 */
void
tempo_free_headers(struct curl_slist *headers)
{
	for (struct curl_slist *h = headers; h != NULL; h = h->next)
		if (h->data)
			explicit_bzero(h->data, strlen(h->data));
	curl_slist_free_all(headers);
}

/*
 * tempo_release_slot
 *		Take a slot off the multi handle and free what libcurl kept for it.
 */
void
tempo_release_slot(TempoConn *conn, TempoSlot *slot)
{
	if (slot->busy)
		curl_multi_remove_handle(conn->multi, slot->easy);
	curl_easy_setopt(slot->easy, CURLOPT_ERRORBUFFER, NULL);
	curl_easy_setopt(slot->easy, CURLOPT_WRITEDATA, NULL);
	curl_easy_setopt(slot->easy, CURLOPT_HEADERDATA, NULL);
	curl_easy_setopt(slot->easy, CURLOPT_HTTPHEADER, NULL);
	/* the easy handle goes with its request (see tempo_http_perform) */
	curl_easy_cleanup(slot->easy);
	slot->easy = NULL;
	tempo_free_headers(slot->headers);
	slot->headers = NULL;
	slot->busy = false;
	slot->done = false;
	slot->owner = NULL;
}

/*
 * reset_slots
 *		Remove the transfers an ERROR left running on a connection; their
 *		bodies' memory is gone, so they must never run again.
 */
static void
reset_slots(TempoConn *conn)
{
	for (int i = 0; i < TEMPO_MAX_SLOTS; i++)
		if (conn->slots[i].owner != NULL || conn->slots[i].busy)
			tempo_release_slot(conn, &conn->slots[i]);
}

/* Drop the transfers of every connection (their bodies' memory is gone). */
static void
reset_all_slots(void)
{
	HASH_SEQ_STATUS scan;
	TempoConn  *entry;

	hash_seq_init(&scan, ConnectionHash);
	while ((entry = hash_seq_search(&scan)) != NULL)
		reset_slots(entry);
}

/*
 * tempo_xact_callback, tempo_subxact_callback
 *		An abort frees the memory of the scans that started transfers: the
 *		transfers must never run again.
 */
static void
tempo_xact_callback(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT)
		reset_all_slots();
}

static void
tempo_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
					   SubTransactionId parentSubid, void *arg)
{
	if (event == SUBXACT_EVENT_ABORT_SUB)
		reset_all_slots();
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
		reset_slots(entry);
		release_handles(entry);
	}
}

/*
 * release_handles
 *		Free the libcurl handles of a connection (and so its connections).
 */
static void
release_handles(TempoConn *entry)
{
	for (int i = 0; i < TEMPO_MAX_SLOTS; i++)
	{
		if (entry->slots[i].easy)
			curl_easy_cleanup(entry->slots[i].easy);
		entry->slots[i].easy = NULL;
	}
	if (entry->multi)
		curl_multi_cleanup(entry->multi);
	entry->multi = NULL;
	if (entry->single)
		curl_multi_cleanup(entry->single);
	entry->single = NULL;
	if (entry->curl)
		curl_easy_cleanup(entry->curl);
	entry->curl = NULL;
}
