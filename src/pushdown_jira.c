/*-------------------------------------------------------------------------
 *
 * pushdown_jira.c
 *		  The requests of the Jira dimension tables (jira_users,
 *		  jira_projects, jira_issues) for the conditions pushdown.c found.
 *
 *	- jira_users: account_id = / IN / a join key: GET user/bulk with up to
 *	  50 accountId parameters per request stream; otherwise every user,
 *	  GET users/search.
 *	- jira_projects: id (or else key) = / IN: GET project/search with up
 *	  to 50 id (keys) parameters per stream; otherwise every project.
 *	- jira_issues: ids alone or keys alone (= / IN / a join key): POST
 *	  issue/bulkfetch, 100 a request, which leaves out issues that do not
 *	  exist or may not be seen (a JQL naming one is refused as a whole);
 *	  otherwise POST search/jql with a JQL of the pushed conditions,
 *	  AND-ed: id in (...) (100 ids per stream), key in (...), project in
 *	  (...), updated >= "date" (the UTC date a day before the bound: JQL
 *	  compares in the Jira user's time zone, to the minute, so the bound is
 *	  widened and PostgreSQL's filter, which always stays, decides).  Jira
 *	  refuses unbounded searches, and a site's issues are many: a scan
 *	  without any of these conditions is an ERROR with a hint.
 * Several conditions on one column keep the values all of them allow; a
 * comparison with NULL, an empty IN list or an empty intersection make no
 * request at all.  Values not known yet (EXPLAIN of a parameterized scan)
 * are shown as $param.
 *
 * Copyright (c) 2026, tempo_fdw developers
 *
 * IDENTIFICATION
 *		  src/pushdown_jira.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type_d.h"
#include "datatype/timestamp.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/json.h"
#include "utils/timestamp.h"

#include "tempo_fdw.h"

/* Keys per request stream: the documented 50 of user/bulk and project/search */
#define KEYS_PER_LIST_REQUEST 50
/* Issue ids or keys per search: one page of 100 issues each */
#define KEYS_PER_SEARCH 100
/* The most rows per page: users/search 1000, project/search and search/jql 100 */
#define USERS_PAGE_MAX 1000
#define LIST_PAGE_MAX 100

/* The fields of an issue the columns read */
#define ISSUE_FIELDS "[\"summary\",\"project\",\"issuetype\",\"status\",\"parent\"," \
	"\"created\",\"updated\",\"resolutiondate\",\"labels\"]"

/* The values one kind of filter allows */
typedef struct KeySet
{
	bool		have;			/* some filter of the kind */
	bool		unknown;		/* ... whose value is not known yet */
	List	   *values;			/* allowed values as text (when known) */
} KeySet;

/* What the filters of a scan allow */
typedef struct DimFilters
{
	KeySet		ids;			/* TEMPO_FILTER_ID */
	KeySet		keys;			/* TEMPO_FILTER_KEY */
	KeySet		projects;		/* TEMPO_FILTER_PROJECT */
	KeySet		accounts;		/* TEMPO_FILTER_AUTHOR */
	bool		have_updated;
	bool		updated_unknown;
	TimestampTz updated;		/* the latest lower bound of updated_at */
} DimFilters;

/* The values of both lists (s in a, kept in a's order). */
static List *
intersect(List *a, List *b)
{
	List	   *out = NIL;
	ListCell   *lc,
			   *lc2;

	foreach(lc, a)
	{
		foreach(lc2, b)
		{
			if (strcmp(lfirst(lc), lfirst(lc2)) == 0)
			{
				out = lappend(out, lfirst(lc));
				break;
			}
		}
	}
	return out;
}

/*
 * add_values
 *		Narrow a key set by a filter's values; false when nothing can match
 *		(every value impossible, or an empty intersection).
 */
static bool
add_values(KeySet *ks, TempoFilter *f, bool integer)
{
	Oid			type;
	List	   *vals = tempo_filter_values(f, &type);
	List	   *texts = NIL;
	ListCell   *lc,
			   *lc2;

	foreach(lc, vals)
	{
		Datum		v = (Datum) lfirst(lc);
		char	   *s;
		bool		dup = false;

		if (integer)
		{
			int64		n = type == INT2OID ? DatumGetInt16(v) :
				type == INT4OID ? DatumGetInt32(v) : DatumGetInt64(v);

			if (n <= 0)
				continue;		/* no Jira id is */
			s = psprintf(INT64_FORMAT, n);
		}
		else if (VARSIZE_ANY_EXHDR(DatumGetPointer(v)) == 0)
			continue;			/* no key or account is empty */
		else
			s = TextDatumGetCString(v);
		foreach(lc2, texts)
			dup = dup || strcmp(lfirst(lc2), s) == 0;
		if (!dup)
			texts = lappend(texts, s);
	}
	ks->values = ks->have && !ks->unknown ? intersect(ks->values, texts) : texts;
	ks->have = true;
	return ks->values != NIL;
}

/* Collect the filters; false when they exclude every row. */
static bool
collect(List *filters, DimFilters *d)
{
	ListCell   *lc;

	memset(d, 0, sizeof(*d));
	d->updated = DT_NOBEGIN;
	foreach(lc, filters)
	{
		TempoFilter *f = lfirst(lc);
		KeySet	   *ks = f->kind == TEMPO_FILTER_ID ? &d->ids :
			f->kind == TEMPO_FILTER_KEY ? &d->keys :
			f->kind == TEMPO_FILTER_PROJECT ? &d->projects :
			f->kind == TEMPO_FILTER_AUTHOR ? &d->accounts : NULL;

		if (!f->known)
		{
			if (ks)
				ks->have = ks->unknown = true;
			else
				d->have_updated = d->updated_unknown = true;
			continue;
		}
		if (f->isnull)
			return false;		/* a comparison with NULL is never true */
		if (ks == NULL)
		{
			Oid			type;
			ListCell   *lc2;
			TimestampTz lo = DT_NOEND;

			foreach(lc2, tempo_filter_values(f, &type))
				lo = Min(lo, DatumGetTimestampTz((Datum) lfirst(lc2)));
			if (lo == DT_NOEND)
				return false;	/* = ANY of an empty array, or later than all */
			if (lo != DT_NOBEGIN)
			{
				d->updated = Max(d->updated, lo);
				d->have_updated = true;
			}
			continue;
		}
		if (!add_values(ks, f, f->kind == TEMPO_FILTER_ID) && !ks->unknown)
			return false;
	}
	return true;
}

/* The values of a key set from the n-th, at most max of them, or "$param". */
static List *
chunk(KeySet *ks, int n, int max)
{
	if (ks->unknown)
		return n == 0 ? list_make1("$param") : NIL;
	return list_copy_head(list_copy_tail(ks->values, Min(n, list_length(ks->values))), max);
}

/* A new stream of a Jira dimension table. */
static TempoStream *
dim_stream(TempoPaging paging, char *path, const char *array_key)
{
	TempoStream *s = palloc0(sizeof(TempoStream));

	s->paging = paging;
	s->jira = true;
	s->path = path;
	s->array_key = array_key;
	return s;
}

/* GET path with "&name=value" for each value of a chunk, one stream per chunk. */
static List *
list_streams(const char *path, const char *name, KeySet *ks, int per_request)
{
	List	   *streams = NIL;

	for (int n = 0;; n += per_request)
	{
		List	   *vals = chunk(ks, n, per_request);
		StringInfoData buf;
		ListCell   *lc;

		if (vals == NIL)
			break;
		initStringInfo(&buf);
		appendStringInfoString(&buf, path);
		foreach(lc, vals)
			appendStringInfo(&buf, "&%s=%s", name,
							 strcmp(lfirst(lc), "$param") == 0 ? (char *) lfirst(lc) :
							 tempo_url_encode(lfirst(lc), false));
		streams = lappend(streams, dim_stream(TEMPO_PAGING_JIRA_LIST, buf.data, "values"));
	}
	return streams;
}

/*
 * tempo_jql_quote
 *		A JQL string literal: in double quotes, with backslash before each
 *		double quote and backslash.
 */
char *
tempo_jql_quote(const char *s)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '"');
	for (; *s; s++)
	{
		if (*s == '"' || *s == '\\')
			appendStringInfoChar(&buf, '\\');
		appendStringInfoChar(&buf, *s);
	}
	appendStringInfoChar(&buf, '"');
	return buf.data;
}

/* " AND field in (v1, v2...)" of values quoted (or ids as they are). */
static void
jql_in(StringInfo jql, const char *field, List *vals, bool quote)
{
	ListCell   *lc;

	appendStringInfo(jql, "%s%s in (", jql->len ? " AND " : "", field);
	foreach(lc, vals)
	{
		char	   *v = lfirst(lc);

		appendStringInfo(jql, "%s%s", foreach_current_index(lc) ? ", " : "",
						 quote && strcmp(v, "$param") != 0 ? tempo_jql_quote(v) : v);
	}
	appendStringInfoChar(jql, ')');
}

/* The search/jql stream of one JQL, its body a search of maxResults. */
static TempoStream *
jql_stream(StringInfo jql, int max_results)
{
	TempoStream *s = dim_stream(TEMPO_PAGING_JQL, pstrdup("/rest/api/3/search/jql"), "issues");
	StringInfoData body;

	appendStringInfoString(jql, " ORDER BY id");
	initStringInfo(&body);
	appendStringInfoString(&body, "{\"jql\":");
	escape_json(&body, jql->data);
	appendStringInfo(&body, ",\"fields\":%s,\"maxResults\":%d}", ISSUE_FIELDS, max_results);
	s->body = body.data;
	return s;
}

/* The UTC date of a day before an instant, as JQL's "yyyy-MM-dd". */
static char *
jql_day_before(TimestampTz ts)
{
	struct pg_tm tm;
	fsec_t		fsec;

	if (timestamp2tm(ts - USECS_PER_DAY, NULL, &tm, &fsec, NULL, NULL) != 0)
		return pstrdup("\"1970-01-01\"");
	return psprintf("\"%04d-%02d-%02d\"", tm.tm_year, tm.tm_mon, tm.tm_mday);
}

/*
 * bulkfetch_streams
 *		POST issue/bulkfetch for ids (or keys) alone, 100 a request: issues
 *		that do not exist or may not be seen are left out of its answer,
 *		where a JQL naming them would be refused (400) as a whole.
 */
static List *
bulkfetch_streams(KeySet *ks)
{
	List	   *streams = NIL;

	for (int n = 0;; n += KEYS_PER_SEARCH)
	{
		List	   *vals = chunk(ks, n, KEYS_PER_SEARCH);
		StringInfoData body;
		TempoStream *s;
		ListCell   *lc;

		if (vals == NIL)
			break;
		initStringInfo(&body);
		appendStringInfoString(&body, "{\"issueIdsOrKeys\":[");
		foreach(lc, vals)
		{
			if (foreach_current_index(lc) > 0)
				appendStringInfoChar(&body, ',');
			escape_json(&body, lfirst(lc));
		}
		appendStringInfo(&body, "],\"fields\":%s}", ISSUE_FIELDS);
		s = dim_stream(TEMPO_PAGING_JQL, pstrdup("/rest/api/3/issue/bulkfetch"), "issues");
		s->body = body.data;
		streams = lappend(streams, s);
	}
	return streams;
}

/* The search/jql streams of jira_issues (see the file's comment). */
static List *
issue_streams(DimFilters *d, int limit)
{
	List	   *streams = NIL;
	KeySet	   *by = d->ids.have ? &d->ids : &d->keys;

	if (!d->ids.have && !d->keys.have && !d->projects.have && !d->have_updated)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_DYNAMIC_PARAMETER_VALUE_NEEDED),
				 errmsg("a scan of jira_issues needs a condition on id, key, project_key or updated_at"),
				 errdetail("Jira searches issues with a bounded JQL only: POST /rest/api/3/search/jql."),
				 errhint("Filter on id or key (=, IN, or a join such as worklogs.issue_id = jira_issues.id), project_key (=, IN) or updated_at (>=), for example: SELECT * FROM jira_issues WHERE project_key = 'ACME'")));
	if (d->ids.have != d->keys.have && !d->projects.have && !d->have_updated)
		return bulkfetch_streams(by);

	for (int n = 0;; n += KEYS_PER_SEARCH)
	{
		StringInfoData jql;
		List	   *vals = by->have ? chunk(by, n, KEYS_PER_SEARCH) : NIL;

		if (by->have && vals == NIL)
			break;
		initStringInfo(&jql);
		if (d->ids.have)
			jql_in(&jql, "id", vals, false);
		if (d->keys.have)
			jql_in(&jql, "key", by == &d->keys ? vals : chunk(&d->keys, 0, INT_MAX), true);
		if (d->projects.have)
			jql_in(&jql, "project", chunk(&d->projects, 0, INT_MAX), true);
		if (d->updated_unknown)
			appendStringInfo(&jql, "%supdated >= $param", jql.len ? " AND " : "");
		else if (d->have_updated)
			appendStringInfo(&jql, "%supdated >= %s", jql.len ? " AND " : "",
							 jql_day_before(d->updated));
		streams = lappend(streams, jql_stream(&jql, Min(limit, LIST_PAGE_MAX)));
		if (!by->have)
			break;
	}
	return streams;
}

/*
 * tempo_jira_dim_requests
 *		The request streams of a Jira dimension table for its filters, or
 *		NIL when they exclude every row.
 */
List *
tempo_jira_dim_requests(TempoTarget target, List *filters, int limit)
{
	DimFilters	d;

	if (!collect(filters, &d))
		return NIL;
	switch (target)
	{
		case TEMPO_TARGET_JIRA_USERS:
			if (d.accounts.have)
				return list_streams(psprintf("/rest/api/3/user/bulk?maxResults=%d",
											 Min(limit, LIST_PAGE_MAX)),
									"accountId", &d.accounts, KEYS_PER_LIST_REQUEST);
			return list_make1(dim_stream(TEMPO_PAGING_JIRA_LIST,
										 psprintf("/rest/api/3/users/search?maxResults=%d",
												  Min(limit, USERS_PAGE_MAX)),
										 NULL));
		case TEMPO_TARGET_JIRA_PROJECTS:
			{
				char	   *path = psprintf("/rest/api/3/project/search?expand=lead&maxResults=%d",
											Min(limit, LIST_PAGE_MAX));

				if (d.ids.have)
					return list_streams(path, "id", &d.ids, KEYS_PER_LIST_REQUEST);
				if (d.keys.have)
					return list_streams(path, "keys", &d.keys, KEYS_PER_LIST_REQUEST);
				return list_make1(dim_stream(TEMPO_PAGING_JIRA_LIST, path, "values"));
			}
		case TEMPO_TARGET_JIRA_ISSUES:
			return issue_streams(&d, limit);
		default:
			elog(ERROR, "unexpected target %d", (int) target);
	}
	return NIL;					/* keep compiler quiet */
}
