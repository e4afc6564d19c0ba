/*-------------------------------------------------------------------------
 *
 * keybatch.c
 *		  Join keys in batches: a parameterized scan of jira_issues (id) or
 *		  jira_users (account_id) asks for the keys of a whole page of the
 *		  worklogs scan that feeds it, not for one key per row.
 *
 * In  worklogs w JOIN jira_issues i ON i.id = w.issue_id  the planner
 * can only run jira_issues as the inner side of a nested loop,
 * parameterized by w.issue_id: a rescan per outer row.  To make that one
 * request per page of keys, a worklogs scan registers itself here (its
 * current page, and the JSON paths of its issue and author ids), and the
 * parameterized scan, given a key it has not fetched, looks in the scans
 * of the same query for a current page that holds that key: it asks the
 * API for all of that page's keys at once (in chunks, as an = ANY list
 * would be), keeps the rows by key (TempoKeyCache, one batch at a time),
 * and serves this and the following rescans from them.  A key no worklogs
 * page holds (another outer table) is fetched alone.  Rows are only ever
 * served for the key asked, and PostgreSQL's filter stays: batching
 * changes the requests, never the answer.
 *
 * Copyright (c) 2026, tempo_fdw developers
 *
 * IDENTIFICATION
 *		  src/keybatch.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/memutils.h"

#include "tempo_fdw.h"

/* The most keys of one batch: ten searches of 100 issues */
#define MAX_BATCH_KEYS 1000

/* The worklogs scans running now, in any query of this backend */
static List *sources = NIL;

/* Unregister a source when its scan's memory goes (also at an abort). */
static void
forget_source(void *arg)
{
	MemoryContext oldcxt = MemoryContextSwitchTo(TopMemoryContext);

	sources = list_delete_ptr(sources, arg);
	MemoryContextSwitchTo(oldcxt);
}

/*
 * tempo_keys_register
 *		Make a worklogs scan's pages (src->page, kept current by the scan) a
 *		source of keys for the scans of its query, until cxt goes.
 */
void
tempo_keys_register(TempoKeySource *src, MemoryContext cxt)
{
	MemoryContext oldcxt = MemoryContextSwitchTo(TopMemoryContext);
	MemoryContextCallback *cb = MemoryContextAllocZero(cxt, sizeof(MemoryContextCallback));

	sources = lappend(sources, src);
	MemoryContextSwitchTo(oldcxt);
	cb->func = forget_source;
	cb->arg = src;
	MemoryContextRegisterResetCallback(cxt, cb);
}

/* Is s in the list of strings? */
static bool
has_str(List *list, const char *s)
{
	ListCell   *lc;

	foreach(lc, list)
		if (strcmp(lfirst(lc), s) == 0)
		return true;
	return false;
}

/*
 * tempo_keys_batch
 *		The keys to ask for with key: the distinct ids (issue ids, or
 *		account ids) of the current page of a worklogs scan of the same
 *		query that holds key, key first; or key alone.  In the current
 *		context.
 */
List *
tempo_keys_batch(EState *estate, bool accounts, const char *key)
{
	ListCell   *lc;

	foreach(lc, sources)
	{
		TempoKeySource *src = lfirst(lc);
		const char *path = accounts ? src->account_path : src->issue_path;
		List	   *keys;
		List	   *batch;
		ListCell   *lc2;

		if (src->estate != estate || src->page == NULL || path == NULL)
			continue;
		keys = tempo_page_values(src->page, path);
		if (!has_str(keys, key))
			continue;
		batch = list_make1(pstrdup(key));
		foreach(lc2, keys)
		{
			if (list_length(batch) >= MAX_BATCH_KEYS)
				break;
			if (!has_str(batch, lfirst(lc2)))
				batch = lappend(batch, lfirst(lc2));
		}
		return batch;
	}
	return list_make1(pstrdup(key));
}

/* A cached row: its key and the tuple */
typedef struct KeyRow
{
	char	   *key;
	HeapTuple	tuple;
} KeyRow;

struct TempoKeyCache
{
	MemoryContext cxt;			/* the batch: reset by the next */
	List	   *keys;			/* the keys asked for */
	List	   *rows;			/* KeyRows, in the API's order */
};

/* A cache of batches of rows by key, in a context of its own under parent. */
TempoKeyCache *
tempo_key_cache_create(MemoryContext parent)
{
	TempoKeyCache *c = MemoryContextAllocZero(parent, sizeof(TempoKeyCache));

	c->cxt = AllocSetContextCreate(parent, "tempo_fdw key batch", ALLOCSET_DEFAULT_SIZES);
	return c;
}

/* Start a new batch for these keys (copied); the rows of the last go. */
void
tempo_key_cache_start(TempoKeyCache *c, List *keys)
{
	MemoryContext oldcxt;
	ListCell   *lc;

	MemoryContextReset(c->cxt);
	c->keys = NIL;
	c->rows = NIL;
	oldcxt = MemoryContextSwitchTo(c->cxt);
	foreach(lc, keys)
		c->keys = lappend(c->keys, pstrdup(lfirst(lc)));
	MemoryContextSwitchTo(oldcxt);
}

/* Was key asked for in the current batch? */
bool
tempo_key_cache_has(TempoKeyCache *c, const char *key)
{
	return has_str(c->keys, key);
}

/* Keep a row (a copy of values/nulls) under its key. */
void
tempo_key_cache_add(TempoKeyCache *c, const char *key, TupleDesc desc,
					Datum *values, bool *nulls)
{
	MemoryContext oldcxt = MemoryContextSwitchTo(c->cxt);
	KeyRow	   *r = palloc(sizeof(KeyRow));

	r->key = pstrdup(key);
	r->tuple = heap_form_tuple(desc, values, nulls);
	c->rows = lappend(c->rows, r);
	MemoryContextSwitchTo(oldcxt);
}

/*
 * tempo_key_cache_rows
 *		The tuples of the current batch under key, in the API's order (in
 *		the current context; the tuples stay the cache's).
 */
List *
tempo_key_cache_rows(TempoKeyCache *c, const char *key)
{
	List	   *out = NIL;
	ListCell   *lc;

	foreach(lc, c->rows)
	{
		KeyRow	   *r = lfirst(lc);

		if (strcmp(r->key, key) == 0)
			out = lappend(out, r->tuple);
	}
	return out;
}
