/*-------------------------------------------------------------------------
 *
 * pushdown.c
 *		  Which query conditions become API filters, and the requests that
 *		  result.
 *
 * The walker is deliberately small.  A condition is pushed only when it has
 * the form  column OP value  (either way round) or  column = ANY (array),
 * where
 *	- the column is one the resource's API can filter on, declared with its
 *	  natural type (start_date date, updated_at timestamptz, issue_id
 *	  bigint, author_account_id text, ...);
 *	- OP is a built-in operator listed below, by its function OID;
 *	- the value holds no Var of this table and nothing volatile: a Const, a
 *	  Param (prepared statements, generic plans, nested-loop join keys), or
 *	  a stable expression such as current_date - 30.  Values are evaluated
 *	  when the scan starts, so they are known exactly then.
 * Every condition, pushed or not, stays in the local filter as well: an API
 * filter only narrows what is fetched (dates are whole days, updatedFrom
 * whole seconds), PostgreSQL still decides what is returned, so pushdown
 * never changes an answer.
 *
 * Tempo's filters are combined as follows: the tightest lower and upper
 * date bounds become from/to (both inclusive, so a strict bound moves by a
 * day); the latest updated_at lower bound becomes updatedFrom (floored to
 * the second, in UTC); issue ids become repeated issueId parameters (in
 * chunks, one request stream per chunk); an author id takes the
 * /worklogs/user/{accountId} path, one request stream per author of an IN
 * list (the user path takes no issueId, so issue conditions then stay
 * local).  Contradictory conditions (from after to, an empty or all-NULL IN
 * list, a NULL comparison value) make no request at all.
 *
 * Copyright (c) 2026, tempo_fdw developers
 *
 * IDENTIFICATION
 *		  src/pushdown.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_collation_d.h"
#include "catalog/pg_type_d.h"
#include "datatype/timestamp.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/clauses.h"
#include "optimizer/optimizer.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"

#include "tempo_fdw.h"

/* Issue ids per request stream: keeps URLs well below common limits */
#define ISSUES_PER_REQUEST 100

/* Comparison operators we understand, by the function behind them */
typedef enum CmpOp
{
	CMP_NONE,
	CMP_EQ,
	CMP_LT,
	CMP_LE,
	CMP_GT,
	CMP_GE
} CmpOp;

/* The comparison an operator function performs, and on which type. */
static CmpOp
cmp_of(Oid funcid, Oid *type)
{
	switch (funcid)
	{
		case F_DATE_EQ:
			*type = DATEOID;
			return CMP_EQ;
		case F_DATE_LT:
			*type = DATEOID;
			return CMP_LT;
		case F_DATE_LE:
			*type = DATEOID;
			return CMP_LE;
		case F_DATE_GT:
			*type = DATEOID;
			return CMP_GT;
		case F_DATE_GE:
			*type = DATEOID;
			return CMP_GE;
		case F_TIMESTAMPTZ_EQ:
			*type = TIMESTAMPTZOID;
			return CMP_EQ;
		case F_TIMESTAMPTZ_GT:
			*type = TIMESTAMPTZOID;
			return CMP_GT;
		case F_TIMESTAMPTZ_GE:
			*type = TIMESTAMPTZOID;
			return CMP_GE;
		case F_INT8EQ:
		case F_INT84EQ:
		case F_INT82EQ:
			*type = INT8OID;
			return CMP_EQ;
		case F_TEXTEQ:
			*type = TEXTOID;
			return CMP_EQ;
		default:
			return CMP_NONE;
	}
}

/* The comparison seen from the other side: a < b is b > a. */
static CmpOp
commute(CmpOp op)
{
	switch (op)
	{
		case CMP_LT:
			return CMP_GT;
		case CMP_LE:
			return CMP_GE;
		case CMP_GT:
			return CMP_LT;
		case CMP_GE:
			return CMP_LE;
		default:
			return op;
	}
}

/*
 * jira_dim_filter_kind
 *		The filters of the Jira dimension tables: account_id of users; id
 *		and key of projects and issues; project_key and updated_at (a lower
 *		bound, sent as a date a day earlier: JQL compares in the Jira user's
 *		time zone, to the minute) of issues.
 */
static int
jira_dim_filter_kind(TempoResource resource, const char *column, Oid coltype,
					 CmpOp op, bool *exact)
{
	if (resource == TEMPO_RES_JIRA_USERS)
		return strcmp(column, "account_id") == 0 && coltype == TEXTOID && op == CMP_EQ
			? TEMPO_FILTER_AUTHOR : -1;
	if (strcmp(column, "id") == 0 && coltype == INT8OID && op == CMP_EQ)
		return TEMPO_FILTER_ID;
	if (strcmp(column, "key") == 0 && coltype == TEXTOID && op == CMP_EQ)
		return TEMPO_FILTER_KEY;
	if (resource != TEMPO_RES_JIRA_ISSUES)
		return -1;
	if (strcmp(column, "project_key") == 0 && coltype == TEXTOID && op == CMP_EQ)
		return TEMPO_FILTER_PROJECT;
	if (strcmp(column, "updated_at") == 0 && coltype == TIMESTAMPTZOID &&
		op != CMP_LT && op != CMP_LE)
	{
		*exact = false;
		return TEMPO_FILTER_UPDATED_LOWER;
	}
	return -1;
}

/*
 * filter_kind
 *		The kind of filter a comparison on a column makes, or -1; *exact
 *		tells whether the API applies it exactly as SQL would.
 */
static int
filter_kind(TempoResource resource, const char *column, Oid coltype, CmpOp op,
			bool *exact)
{
	bool		is_date = (coltype == DATEOID);
	int			date_kind = op == CMP_EQ ? TEMPO_FILTER_DATE_EQ :
		(op == CMP_GT || op == CMP_GE) ? TEMPO_FILTER_DATE_LOWER : TEMPO_FILTER_DATE_UPPER;

	*exact = true;
	switch (resource)
	{
		case TEMPO_RES_WORKLOGS:
		case TEMPO_RES_JIRA_WORKLOGS:
			if (strcmp(column, "start_date") == 0 && is_date)
			{
				/* Jira filters instants: a day wider on each side */
				*exact = (resource == TEMPO_RES_WORKLOGS);
				return date_kind;
			}
			if (strcmp(column, "updated_at") == 0 && coltype == TIMESTAMPTZOID &&
				op != CMP_LT && op != CMP_LE)
			{
				*exact = false; /* whole seconds (Tempo), milliseconds (Jira) */
				return TEMPO_FILTER_UPDATED_LOWER;
			}
			if (strcmp(column, "issue_id") == 0 && coltype == INT8OID && op == CMP_EQ)
				return TEMPO_FILTER_ISSUE;
			if (resource == TEMPO_RES_WORKLOGS &&
				strcmp(column, "author_account_id") == 0 && coltype == TEXTOID &&
				op == CMP_EQ)
				return TEMPO_FILTER_AUTHOR;
			return -1;
		case TEMPO_RES_WORKLOG_DELETIONS:
			if (strcmp(column, "deleted_at") == 0 && coltype == TIMESTAMPTZOID &&
				op != CMP_LT && op != CMP_LE)
			{
				*exact = false; /* whole seconds */
				return TEMPO_FILTER_UPDATED_LOWER;
			}
			return -1;
		case TEMPO_RES_USER_SCHEDULES:
			if (strcmp(column, "date") == 0 && is_date)
				return date_kind;
			if (strcmp(column, "account_id") == 0 && coltype == TEXTOID && op == CMP_EQ)
				return TEMPO_FILTER_AUTHOR;
			return -1;
			/* Jira dimension tables */
		case TEMPO_RES_JIRA_USERS:
		case TEMPO_RES_JIRA_PROJECTS:
		case TEMPO_RES_JIRA_ISSUES:
			return jira_dim_filter_kind(resource, column, coltype, op, exact);
			/* Tempo dimension tables */
		default:
			return tempo_dims_filter_kind(resource, column, coltype, op == CMP_EQ,
										  is_date ? date_kind : -1, exact);
	}
	return -1;
}

/*
 * filter_text
 *		"column op value" for EXPLAIN: constants shown, parameters as $n, join
 *		keys and other expressions by what they are.
 */
static char *
filter_text(const char *column, CmpOp op, bool array, Expr *value)
{
	static const char *const ops[] = {"?", "=", "<", "<=", ">", ">="};
	char	   *v = "(expression)";

	if (IsA(value, Param) && ((Param *) value)->paramkind == PARAM_EXTERN)
		v = psprintf("$%d", ((Param *) value)->paramid);
	else if (IsA(value, Var) || IsA(value, PlaceHolderVar))
		v = "(join key)";
	else if (IsA(value, Const) && ((Const *) value)->constisnull)
		v = "NULL";
	else if (IsA(value, Const))
	{
		Oid			out;
		bool		varlena;

		getTypeOutputInfo(((Const *) value)->consttype, &out, &varlena);
		v = quote_literal_cstr(OidOutputFunctionCall(out, ((Const *) value)->constvalue));
	}
	return array ? psprintf("%s = ANY (%s)", column, v)
		: psprintf("%s %s %s", column, ops[op], v);
}

/* Is expr a Var of this relation?  Sets its column name and type. */
static bool
is_our_column(Expr *expr, RelOptInfo *baserel, Oid relid, char **name, Oid *type)
{
	Var		   *var;

	while (IsA(expr, RelabelType))
		expr = ((RelabelType *) expr)->arg;
	if (!IsA(expr, Var))
		return false;
	var = (Var *) expr;
	if ((Index) var->varno != baserel->relid || var->varlevelsup != 0 || var->varattno <= 0)
		return false;
	*name = get_attname(relid, var->varattno, false);
	*type = var->vartype;
	return true;
}

/* May this expression be evaluated at scan start? */
static bool
is_value(Expr *expr, RelOptInfo *baserel)
{
	Relids		varnos = pull_varnos(NULL, (Node *) expr);

	return !bms_is_member(baserel->relid, varnos) &&
		!contain_volatile_functions((Node *) expr) &&
		!contain_subplans((Node *) expr);
}

/*
 * tempo_classify
 *		Is this clause a filter the API can apply?  If so, fill *f (kind,
 *		strictness, array, the value expression, and whether the API applies
 *		it exactly, which LIMIT pushdown needs).
 */
bool
tempo_classify(RelOptInfo *baserel, Oid relid, TempoResource resource,
			   Expr *clause, TempoFilter *f)
{
	char	   *column;
	Oid			coltype;
	Oid			cmptype = InvalidOid;
	CmpOp		op;
	Expr	   *value;
	Oid			collid = InvalidOid;

	memset(f, 0, sizeof(*f));
	if (IsA(clause, OpExpr))
	{
		OpExpr	   *opexpr = (OpExpr *) clause;
		Expr	   *l,
				   *r;

		if (list_length(opexpr->args) != 2)
			return false;
		l = linitial(opexpr->args);
		r = lsecond(opexpr->args);
		op = cmp_of(opexpr->opfuncid, &cmptype);
		collid = opexpr->inputcollid;
		if (op == CMP_NONE)
			return false;
		if (is_our_column(l, baserel, relid, &column, &coltype) && is_value(r, baserel))
			value = r;
		else if (is_our_column(r, baserel, relid, &column, &coltype) && is_value(l, baserel))
		{
			value = l;
			op = commute(op);
		}
		else
			return false;
	}
	else if (IsA(clause, ScalarArrayOpExpr))
	{
		ScalarArrayOpExpr *saop = (ScalarArrayOpExpr *) clause;

		if (!saop->useOr || list_length(saop->args) != 2)
			return false;
		op = cmp_of(saop->opfuncid, &cmptype);
		collid = saop->inputcollid;
		if (op != CMP_EQ ||
			!is_our_column(linitial(saop->args), baserel, relid, &column, &coltype) ||
			!is_value(lsecond(saop->args), baserel))
			return false;
		value = lsecond(saop->args);
		f->array = true;
	}
	else
		return false;

	/* text equality is pushed only under a deterministic collation */
	if (cmptype == TEXTOID && OidIsValid(collid) &&
		collid != DEFAULT_COLLATION_OID && collid != C_COLLATION_OID)
		return false;

	f->kind = filter_kind(resource, column, coltype, op, &f->exact);
	if (f->kind < 0)
		return false;

	/*
	 * = ANY of dates or instants fetches the range from the least to the
	 * greatest value: more than the list, checked locally
	 */
	if (f->array && f->kind != TEMPO_FILTER_ISSUE && f->kind != TEMPO_FILTER_AUTHOR &&
		f->kind != TEMPO_FILTER_ID && f->kind != TEMPO_FILTER_KEY &&
		f->kind != TEMPO_FILTER_PROJECT)
		f->exact = false;
	f->text = filter_text(column, op, f->array, value);
	f->strict = (op == CMP_LT || op == CMP_GT);
	f->value = value;
	f->column = column;
	return true;
}

/* A date as Tempo's YYYY-MM-DD. */
static char *
format_date(DateADT d)
{
	int			y,
				m,
				day;

	j2date(d + POSTGRES_EPOCH_JDATE, &y, &m, &day);
	return psprintf("%04d-%02d-%02d", y, m, day);
}

/* An instant as Tempo's yyyy-MM-ddTHH:mm:ssZ (UTC, floored to the second). */
static char *
format_instant(TimestampTz ts)
{
	struct pg_tm tm;
	fsec_t		fsec;

	if (timestamp2tm(ts, NULL, &tm, &fsec, NULL, NULL) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("timestamp out of range")));
	return psprintf("%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year, tm.tm_mon,
					tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* The values of a filter: one Datum, or an array's non-null elements. */
List *
tempo_filter_values(TempoFilter *f, Oid *elemtype)
{
	List	   *result = NIL;

	*elemtype = exprType((Node *) f->value);
	if (!f->array)
		return list_make1((void *) f->datum);
	else
	{
		ArrayType  *arr = DatumGetArrayTypeP(f->datum);
		Datum	   *elems;
		bool	   *nulls;
		int			n;
		int16		typlen;
		bool		typbyval;
		char		typalign;

		*elemtype = ARR_ELEMTYPE(arr);
		get_typlenbyvalalign(*elemtype, &typlen, &typbyval, &typalign);
		deconstruct_array(arr, *elemtype, typlen, typbyval, typalign,
						  &elems, &nulls, &n);
		for (int i = 0; i < n; i++)
			if (!nulls[i])
				result = lappend(result, (void *) elems[i]);
	}
	return result;
}

/* Append s to a list of strings unless it is there already. */
static List *
append_unique_str(List *list, char *s)
{
	ListCell   *lc;

	foreach(lc, list)
		if (strcmp(lfirst(lc), s) == 0)
		return list;
	return lappend(list, s);
}

/* The strings of a that are also in b. */
static List *
intersect_str(List *a, List *b)
{
	List	   *result = NIL;
	ListCell   *lc;

	foreach(lc, a)
	{
		ListCell   *lc2;

		foreach(lc2, b)
			if (strcmp(lfirst(lc), lfirst(lc2)) == 0)
		{
			result = lappend(result, lfirst(lc));
			break;
		}
	}
	return result;
}

/* An integer Datum of type int2/int4/int8 as int64. */
static int64
int_datum(Datum d, Oid type)
{
	if (type == INT2OID)
		return DatumGetInt16(d);
	if (type == INT4OID)
		return DatumGetInt32(d);
	return DatumGetInt64(d);
}

/*
 * The dates and instants the APIs can express: years 1 to 9999.  A bound
 * outside them is dropped (it excludes nothing the API serves) or makes the
 * scan empty (it excludes everything), so that the answer stays the one
 * without pushdown.
 */
#define FIRST_DATE		(-POSTGRES_EPOCH_JDATE + 1721426)	/* 0001-01-01 */
#define LAST_DATE		(-POSTGRES_EPOCH_JDATE + 5373484)	/* 9999-12-31 */
#define FIRST_INSTANT	((TimestampTz) FIRST_DATE * USECS_PER_DAY)
#define LAST_INSTANT	((TimestampTz) (LAST_DATE + 1) * USECS_PER_DAY - 1)

/* The day after d (infinity stays as it is). */
static DateADT
date_after(DateADT d)
{
	return DATE_NOT_FINITE(d) ? d : d + 1;
}

/* The day before d (infinity stays as it is). */
static DateADT
date_before(DateADT d)
{
	return DATE_NOT_FINITE(d) ? d : d - 1;
}

/* Raise *from to d; false when no servable date is that late. */
static bool
narrow_from(DateADT *from, DateADT d)
{
	if (DATE_IS_NOEND(d) || d > LAST_DATE)
		return false;
	if (d > FIRST_DATE)
		*from = Max(*from, d);
	return true;
}

/* Lower *to to d; false when no servable date is that early. */
static bool
narrow_to(DateADT *to, DateADT d)
{
	if (DATE_IS_NOBEGIN(d) || d < FIRST_DATE)
		return false;
	if (d < LAST_DATE)
		*to = Min(*to, d);
	return true;
}

/* Bits of the "unknown" mask: values not known before execution */
#define UNKNOWN_FROM	1
#define UNKNOWN_TO		2
#define UNKNOWN_UPDATED 4
#define UNKNOWN_ISSUES	8
#define UNKNOWN_AUTHORS 16

static List *tempo_worklog_streams(DateADT from, DateADT to, TimestampTz updated,
								   List *issues, List *authors, bool have_issues,
								   bool have_authors, int unknown, int limit,
								   TempoOrder order);
static List *schedule_streams(DateADT from, DateADT to, List *accounts,
							  bool have_accounts, int unknown);
static List *jira_streams(DateADT from, DateADT to, TimestampTz updated,
						  List *issues, bool have_issues, int unknown, int limit);
static List *deletion_streams(TimestampTz since, int unknown);
static TempoDimsQuery *dims_query(DateADT from, DateADT to, List *ids, List *keys,
								  bool have_ids, bool have_keys, int unknown, int limit);

/*
 * tempo_build_requests
 *		The request streams (TempoStreams: path and query after the base
 *		URL) of a target for filters whose values are known (f->known).
 *		Returns NIL when the filters cannot match any row.  Filters with
 *		unknown values (EXPLAIN without ANALYZE of a parameterized query)
 *		are shown as "$param".
 */
List *
tempo_build_requests(TempoTarget target, List *filters, int limit, TempoOrder order)
{
	DateADT		from = DATEVAL_NOBEGIN;
	DateADT		to = DATEVAL_NOEND;
	int			unknown = 0;
	TimestampTz updated = DT_NOBEGIN;
	List	   *issues = NIL;
	bool		have_issues = false;
	List	   *authors = NIL;
	bool		have_authors = false;
	ListCell   *lc;

	if (target == TEMPO_TARGET_JIRA_USERS || target == TEMPO_TARGET_JIRA_PROJECTS ||
		target == TEMPO_TARGET_JIRA_ISSUES)
		return tempo_jira_dim_requests(target, filters, limit);

	foreach(lc, filters)
	{
		TempoFilter *f = (TempoFilter *) lfirst(lc);
		List	   *vals;
		Oid			type;
		ListCell   *lc2;

		if (!f->known)
		{
			switch (f->kind)
			{
				case TEMPO_FILTER_DATE_LOWER:
					unknown |= UNKNOWN_FROM;
					break;
				case TEMPO_FILTER_DATE_UPPER:
					unknown |= UNKNOWN_TO;
					break;
				case TEMPO_FILTER_DATE_EQ:
					unknown |= UNKNOWN_FROM | UNKNOWN_TO;
					break;
				case TEMPO_FILTER_UPDATED_LOWER:
					unknown |= UNKNOWN_UPDATED;
					break;
				case TEMPO_FILTER_ISSUE:
					if (!have_issues)
						unknown |= UNKNOWN_ISSUES;
					have_issues = true;
					break;
				case TEMPO_FILTER_AUTHOR:
					if (!have_authors)
						unknown |= UNKNOWN_AUTHORS;
					have_authors = true;
					break;
			}
			continue;
		}
		if (f->isnull)
			return NIL;			/* a comparison with NULL is never true */

		vals = tempo_filter_values(f, &type);
		if (f->array && vals == NIL)
			return NIL;			/* = ANY of an empty or all-NULL array */

		switch (f->kind)
		{
			case TEMPO_FILTER_DATE_LOWER:
			case TEMPO_FILTER_DATE_UPPER:
			case TEMPO_FILTER_DATE_EQ:
				{
					/*
					 * several values (= ANY) are OR-ed: their least and
					 * greatest
					 */
					DateADT		lo = DATEVAL_NOEND;
					DateADT		hi = DATEVAL_NOBEGIN;

					foreach(lc2, vals)
					{
						DateADT		d = DatumGetDateADT((Datum) lfirst(lc2));

						lo = Min(lo, d);
						hi = Max(hi, d);
					}
					if (f->kind != TEMPO_FILTER_DATE_UPPER &&
						!narrow_from(&from, f->strict ? date_after(lo) : lo))
						return NIL;
					if (f->kind != TEMPO_FILTER_DATE_LOWER &&
						!narrow_to(&to, f->strict ? date_before(hi) : hi))
						return NIL;
					break;
				}
			case TEMPO_FILTER_UPDATED_LOWER:
				{
					/* several values (= ANY): the least is the bound */
					TimestampTz lo = DT_NOEND;

					foreach(lc2, vals)
						lo = Min(lo, DatumGetTimestampTz((Datum) lfirst(lc2)));
					if (lo > LAST_INSTANT)
						return NIL; /* no instant the API serves is later */
					if (lo >= FIRST_INSTANT)
						updated = Max(updated, lo);
					break;
				}
			case TEMPO_FILTER_ISSUE:
			case TEMPO_FILTER_AUTHOR:
				{
					bool		issue = (f->kind == TEMPO_FILTER_ISSUE);
					List	   *ids = NIL;

					/*
					 * ids no issue or person can have (<= 0, empty) match
					 * nothing
					 */
					foreach(lc2, vals)
					{
						Datum		v = (Datum) lfirst(lc2);

						if (issue && int_datum(v, type) > 0)
							ids = append_unique_str(ids, psprintf(INT64_FORMAT, int_datum(v, type)));
						else if (!issue && VARSIZE_ANY_EXHDR(DatumGetPointer(v)) > 0)
							ids = append_unique_str(ids, TextDatumGetCString(v));
					}
					/* several conditions: keep the ids all of them allow */
					if (issue)
					{
						issues = have_issues ? intersect_str(issues, ids) : ids;
						have_issues = true;
						if (issues == NIL && !(unknown & UNKNOWN_ISSUES))
							return NIL;
					}
					else
					{
						authors = have_authors ? intersect_str(authors, ids) : ids;
						have_authors = true;
						if (authors == NIL && !(unknown & UNKNOWN_AUTHORS))
							return NIL;
					}
					break;
				}
		}
	}

	if (from != DATEVAL_NOBEGIN && to != DATEVAL_NOEND && from > to)
		return NIL;

	switch (target)
	{
		case TEMPO_TARGET_TEMPO_WORKLOGS:
			return tempo_worklog_streams(from, to, updated, issues, authors,
										 have_issues, have_authors, unknown, limit, order);
		case TEMPO_TARGET_SCHEDULES:
			return schedule_streams(from, to, authors, have_authors, unknown);
		case TEMPO_TARGET_JIRA_WORKLOGS:
			return jira_streams(from, to, updated, issues, have_issues, unknown, limit);
		case TEMPO_TARGET_DELETIONS:
			return deletion_streams(updated, unknown);
		default:
			return tempo_dims_streams(target, dims_query(from, to, issues, authors,
														 have_issues, have_authors,
														 unknown, limit));
	}
	return NIL;					/* keep compiler quiet */
}

/* A new request stream. */
static TempoStream *
make_stream(TempoPaging paging, bool jira, char *path, char *key)
{
	TempoStream *s = palloc0(sizeof(TempoStream));

	s->paging = paging;
	s->jira = jira;
	s->path = path;
	s->key = key;
	s->body = NULL;
	return s;
}

/* An account id in a URL path: encoded, or the "$param" placeholder as is. */
static char *
path_id(char *id)
{
	return strcmp(id, "$param") == 0 ? id : tempo_url_encode(id, true);
}

/* Tempo's query parameters for a date range and an update bound. */
static void
tempo_date_params(StringInfo q, DateADT from, DateADT to, TimestampTz updated,
				  int unknown)
{
	if (unknown & UNKNOWN_FROM)
		appendStringInfoString(q, "from=$param&");
	else if (from != DATEVAL_NOBEGIN)
		appendStringInfo(q, "from=%s&", format_date(from));
	if (unknown & UNKNOWN_TO)
		appendStringInfoString(q, "to=$param&");
	else if (to != DATEVAL_NOEND)
		appendStringInfo(q, "to=%s&", format_date(to));
	if (unknown & UNKNOWN_UPDATED)
		appendStringInfoString(q, "updatedFrom=$param&");
	else if (updated != DT_NOBEGIN)
		appendStringInfo(q, "updatedFrom=%s&", format_instant(updated));
}

/*
 * tempo_worklog_streams
 *		GET /worklogs (issue ids in chunks) or /worklogs/user/{id} per author;
 *		an order (plan.c offers one only for a single GET /worklogs stream)
 *		becomes orderBy.
 */
static List *
tempo_worklog_streams(DateADT from, DateADT to, TimestampTz updated,
					  List *issues, List *authors, bool have_issues,
					  bool have_authors, int unknown, int limit, TempoOrder order)
{
	StringInfoData q;
	List	   *streams = NIL;
	ListCell   *lc;

	initStringInfo(&q);
	tempo_date_params(&q, from, to, updated, unknown);
	if (order == TEMPO_ORDER_START_DESC)
		appendStringInfoString(&q, "orderBy=START_DATE_TIME&");
	else if (order == TEMPO_ORDER_UPDATED_DESC)
		appendStringInfoString(&q, "orderBy=UPDATED&");
	else if (order == TEMPO_ORDER_ID_DESC)
		appendStringInfoString(&q, "orderBy=ID&");

	if (have_authors)
	{
		if (unknown & UNKNOWN_AUTHORS)
			authors = list_make1("$param");
		foreach(lc, authors)
		{
			char	   *id = lfirst(lc);

			TempoStream *s = make_stream(TEMPO_PAGING_NEXT_LINK, false,
										 psprintf("/worklogs/user/%s?%slimit=%d",
												  path_id(id), q.data, limit),
										 NULL);

			s->missing_is_empty = true; /* "User cannot be found in the
										 * system" */
			streams = lappend(streams, s);
		}
		return streams;
	}
	if (have_issues)
	{
		StringInfoData ids;
		int			n = 0;

		if (unknown & UNKNOWN_ISSUES)
			issues = list_make1("$param");
		initStringInfo(&ids);
		foreach(lc, issues)
		{
			appendStringInfo(&ids, "issueId=%s&", (char *) lfirst(lc));
			if (++n % ISSUES_PER_REQUEST == 0 || lnext(issues, lc) == NULL)
			{
				streams = lappend(streams,
								  make_stream(TEMPO_PAGING_NEXT_LINK, false,
											  psprintf("/worklogs?%s%slimit=%d",
													   q.data, ids.data, limit),
											  NULL));
				resetStringInfo(&ids);
			}
		}
		return streams;
	}
	return list_make1(make_stream(TEMPO_PAGING_NEXT_LINK, false,
								  psprintf("/worklogs?%slimit=%d", q.data, limit),
								  NULL));
}

/*
 * schedule_streams
 *		GET /user-schedule/{accountId}?from&to, one stream per account; the
 *		API needs both the account and the range.
 */
static List *
schedule_streams(DateADT from, DateADT to, List *accounts, bool have_accounts,
				 int unknown)
{
	List	   *streams = NIL;
	char	   *range;
	ListCell   *lc;

	if (!have_accounts ||
		(from == DATEVAL_NOBEGIN && !(unknown & UNKNOWN_FROM)) ||
		(to == DATEVAL_NOEND && !(unknown & UNKNOWN_TO)))
		ereport(ERROR,
				(errcode(ERRCODE_FDW_DYNAMIC_PARAMETER_VALUE_NEEDED),
				 errmsg("a scan of user_schedules needs an account and a date range"),
				 errdetail("Tempo serves schedules per person and period: GET /4/user-schedule/{accountId}?from=...&to=..."),
				 errhint("Filter on account_id (=, IN, or a join) and on date, for example: SELECT * FROM user_schedules WHERE account_id = '<accountId>' AND date BETWEEN '2024-01-01' AND '2024-12-31'")));

	range = psprintf("from=%s&to=%s",
					 (unknown & UNKNOWN_FROM) ? "$param" : format_date(from),
					 (unknown & UNKNOWN_TO) ? "$param" : format_date(to));
	if (unknown & UNKNOWN_AUTHORS)
		accounts = list_make1("$param");
	foreach(lc, accounts)
	{
		char	   *id = lfirst(lc);

		streams = lappend(streams,
						  make_stream(TEMPO_PAGING_NEXT_LINK, false,
									  psprintf("/user-schedule/%s?%s",
											   path_id(id), range),
									  id));
	}
	return streams;
}

/* The pushed values of a Tempo dimension table's scan, formatted. */
static TempoDimsQuery *
dims_query(DateADT from, DateADT to, List *ids, List *keys, bool have_ids,
		   bool have_keys, int unknown, int limit)
{
	TempoDimsQuery *q = palloc0(sizeof(TempoDimsQuery));

	q->from = (unknown & UNKNOWN_FROM) ? "$param" :
		from != DATEVAL_NOBEGIN ? format_date(from) : NULL;
	q->to = (unknown & UNKNOWN_TO) ? "$param" :
		to != DATEVAL_NOEND ? format_date(to) : NULL;
	q->ids = (unknown & UNKNOWN_ISSUES) ? list_make1("$param") : ids;
	q->have_ids = have_ids;
	q->keys = (unknown & UNKNOWN_AUTHORS) ? list_make1("$param") : keys;
	q->have_keys = have_keys;
	q->limit = limit;
	return q;
}

/* How far back Tempo's audit log may be asked (it keeps 180 days) */
#define AUDIT_DAYS 179

/*
 * deletion_streams
 *		POST /papertrail/search for deleted worklogs since the deleted_at
 *		bound, or, without one, as far back as Tempo allows.
 */
static List *
deletion_streams(TimestampTz since, int unknown)
{
	TempoStream *s;
	char	   *from;

	if (unknown & UNKNOWN_UPDATED)
		from = "$param";
	else
	{
		TimestampTz oldest = GetCurrentTimestamp() - (TimestampTz) AUDIT_DAYS * USECS_PER_DAY;

		/* the audit log holds nothing older, and refuses to be asked for it */
		from = format_instant(since == DT_NOBEGIN ? oldest : Max(since, oldest));
	}
	s = make_stream(TEMPO_PAGING_TOKEN, false, pstrdup("/papertrail/search?limit=1000"), NULL);
	s->body = psprintf("{\"from\":\"%s\",\"entityType\":[\"worklog\"],\"action\":[\"Deleted\"]}", from);
	return list_make1(s);
}

/* Epoch milliseconds of a date's midnight (UTC). */
static int64
date_ms(DateADT d)
{
	return ((int64) d + (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE)) * SECS_PER_DAY * 1000;
}

/*
 * jira_streams
 *		Jira: per issue, GET /issue/{id}/worklog with startedAfter and
 *		startedBefore widened by a day on each side (Jira compares instants,
 *		start_date is a local date); without issues, the worklog/updated id
 *		walk since the updated_at bound, then worklog/list for the ids.
 */
static List *
jira_streams(DateADT from, DateADT to, TimestampTz updated, List *issues,
			 bool have_issues, int unknown, int limit)
{
	List	   *streams = NIL;
	ListCell   *lc;

	if (have_issues)
	{
		StringInfoData q;

		initStringInfo(&q);
		if (unknown & UNKNOWN_FROM)
			appendStringInfoString(&q, "&startedAfter=$param");
		else if (from != DATEVAL_NOBEGIN)
			appendStringInfo(&q, "&startedAfter=" INT64_FORMAT, date_ms(from - 1));
		if (unknown & UNKNOWN_TO)
			appendStringInfoString(&q, "&startedBefore=$param");
		else if (to != DATEVAL_NOEND)
			appendStringInfo(&q, "&startedBefore=" INT64_FORMAT, date_ms(to + 2));
		if (unknown & UNKNOWN_ISSUES)
			issues = list_make1("$param");
		foreach(lc, issues)
		{
			TempoStream *s = make_stream(TEMPO_PAGING_START_AT, true,
										 psprintf("/rest/api/3/issue/%s/worklog?maxResults=%d%s",
												  (char *) lfirst(lc), limit, q.data),
										 NULL);

			/* "the issue is not found or the user does not have permission" */
			s->missing_is_empty = true;
			streams = lappend(streams, s);
		}
		return streams;
	}
	if (unknown & UNKNOWN_UPDATED)
		return list_make1(make_stream(TEMPO_PAGING_JIRA_UPDATED, true,
									  pstrdup("/rest/api/3/worklog/updated?since=$param"), NULL));
	return list_make1(make_stream(TEMPO_PAGING_JIRA_UPDATED, true,
								  psprintf("/rest/api/3/worklog/updated?since=" INT64_FORMAT,
										   updated == DT_NOBEGIN ? 0 :
										   Max((updated - SetEpochTimestamp()) / 1000 - 1, 0)),
								  NULL));
}

/*
 * tempo_date_range_days
 *		For row estimates: the number of days the Const date filters allow,
 *		or -1 when they set no finite range.
 */
double
tempo_date_range_days(List *filters)
{
	DateADT		from = DATEVAL_NOBEGIN;
	DateADT		to = DATEVAL_NOEND;
	ListCell   *lc;

	foreach(lc, filters)
	{
		TempoFilter *f = (TempoFilter *) lfirst(lc);
		Expr	   *v = f->value;
		DateADT		d;

		if (f->array || !IsA(v, Const) || ((Const *) v)->constisnull ||
			(f->kind != TEMPO_FILTER_DATE_LOWER && f->kind != TEMPO_FILTER_DATE_UPPER &&
			 f->kind != TEMPO_FILTER_DATE_EQ))
			continue;
		d = DatumGetDateADT(((Const *) v)->constvalue);
		if (DATE_NOT_FINITE(d))
			continue;
		if (f->kind != TEMPO_FILTER_DATE_UPPER)
			from = Max(from, d);
		if (f->kind != TEMPO_FILTER_DATE_LOWER)
			to = Min(to, d);
	}
	if (DATE_NOT_FINITE(from) || DATE_NOT_FINITE(to))
		return -1;
	return Max(to - from + 1, 0);
}

/*
 * tempo_filter_scan_days
 *		For learned estimates (estimate.c): the days of a scan's evaluated
 *		filters when they are dates only
 *		(0 and up), -1 for no filter at all, -2 when the scan must not
 *		teach (a filter on something else, an array, no finite range).
 */
double
tempo_filter_scan_days(List *filters)
{
	DateADT		from = DATEVAL_NOBEGIN;
	DateADT		to = DATEVAL_NOEND;
	ListCell   *lc;

	if (filters == NIL)
		return -1;
	foreach(lc, filters)
	{
		TempoFilter *f = (TempoFilter *) lfirst(lc);
		DateADT		d;

		if ((f->kind != TEMPO_FILTER_DATE_LOWER && f->kind != TEMPO_FILTER_DATE_UPPER &&
			 f->kind != TEMPO_FILTER_DATE_EQ) ||
			f->array || !f->known || f->isnull || exprType((Node *) f->value) != DATEOID)
			return -2;
		d = DatumGetDateADT(f->datum);
		if (DATE_NOT_FINITE(d))
			return -2;
		if (f->kind != TEMPO_FILTER_DATE_UPPER)
			from = Max(from, f->strict ? d + 1 : d);
		if (f->kind != TEMPO_FILTER_DATE_LOWER)
			to = Min(to, f->strict ? d - 1 : d);
	}
	if (DATE_NOT_FINITE(from) || DATE_NOT_FINITE(to) || to < from)
		return -2;
	return to - from + 1;
}
