/*-------------------------------------------------------------------------
 *
 * plan.c
 *		  The planner callbacks of tempo_fdw: size, paths and plan.
 *
 * Planning finds the columns the query uses and the conditions the API can
 * apply (pushdown.c), estimates rows (ANALYZE's statistics, else what
 * earlier scans returned, estimate.c, else the pushed date range), offers
 * paths parameterized by join keys (issue_id, author_account_id,
 * account_id, team_id) so that a nested loop from a small table asks the API per key,
 * and shrinks the page size under a LIMIT when nothing local can drop rows.
 * No HTTP request is made while planning.
 *
 * Copyright (c) 2026, tempo_fdw developers
 *
 * IDENTIFICATION
 *		  src/plan.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "foreign/fdwapi.h"
#include "foreign/foreign.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "optimizer/clauses.h"
#include "optimizer/cost.h"
#include "optimizer/optimizer.h"
#include "optimizer/pathnode.h"
#include "optimizer/paths.h"
#include "optimizer/planmain.h"
#include "optimizer/restrictinfo.h"
#include "catalog/pg_am_d.h"
#include "catalog/pg_type_d.h"
#include "commands/defrem.h"
#include "utils/lsyscache.h"

#include "tempo_fdw.h"

/*
 * tempo_fdw.enable_pushdown: API filters off, for DBAs and tests (the GUC
 * is defined by tempo_fdw.c's _PG_init)
 */
bool		tempo_enable_pushdown = true;

/* Planner state, in baserel->fdw_private */
typedef struct TempoFdwPlanState
{
	TempoFdwOptions *opts;		/* merged options */
	Bitmapset  *attrs_used;		/* columns the query needs */
	List	   *filters;		/* TempoFilters of the pushed base conditions */
	bool		all_exact;		/* every base condition is pushed exactly */
} TempoFdwPlanState;

/* Worklogs a Tempo table is assumed to hold (a company-year) */
#define DEFAULT_ROWS 100000.0
/* ... spread over this many days */
#define DEFAULT_DAYS 365.0
/* Cost of one HTTP round trip, in sequential page fetch units */
#define REQUEST_COST 100.0
/* Rows one parameterized request is assumed to return */
#define ROWS_PER_KEY 200.0
/* Rows a Tempo dimension table (teams, accounts, ...) is assumed to hold */
#define DIMENSION_ROWS 100.0

/* Does the resource read Jira (jira_url, the Jira credentials)? */
static bool
is_jira_resource(TempoResource resource)
{
	return resource == TEMPO_RES_JIRA_WORKLOGS || resource == TEMPO_RES_JIRA_USERS ||
		resource == TEMPO_RES_JIRA_PROJECTS || resource == TEMPO_RES_JIRA_ISSUES;
}

/* Fail early when the server lacks what the resource needs. */
static void
check_resource(TempoFdwOptions *opts)
{
	if (is_jira_resource(opts->resource) && opts->jira_url == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_OPTION_NAME_NOT_FOUND),
				 errmsg("resource \"%s\" needs the server option \"jira_url\"",
						tempo_resource_def(opts->resource)->name),
				 errhint("Use ALTER SERVER ... OPTIONS (ADD jira_url 'https://<site>.atlassian.net').")));
}

/* Cost of a scan returning rows in pages of page_size over nstreams. */
static void
scan_cost(double rows, int page_size, int nstreams, Cost *startup, Cost *total)
{
	double		pages = Max(ceil(rows / page_size), 1.0) + (nstreams - 1);

	*startup = REQUEST_COST;
	*total = pages * REQUEST_COST + rows * cpu_tuple_cost * 10;
}

/*
 * estimate_rows
 *		After ANALYZE (reltuples known), the table's rows times the
 *		selectivity of every condition, from the columns' statistics.
 *		Otherwise the rows of the pushed date range (or of the whole table)
 *		that earlier scans returned (estimate.c), else a company-year of
 *		worklogs spread evenly, times the selectivity of the other
 *		conditions; a Tempo dimension table, a hundred rows.
 */
static double
estimate_rows(PlannerInfo *root, RelOptInfo *baserel, Oid relid, List *filters,
			  List *other, TempoResource resource)
{
	double		days = tempo_date_range_days(filters);
	double		rows;
	TempoTarget target;

	if (baserel->tuples >= 0)
		return clamp_row_est(baserel->tuples *
							 clauselist_selectivity(root, baserel->baserestrictinfo, 0,
													JOIN_INNER, NULL));
	rows = tempo_estimate_rows(relid, days);
	if (rows < 0 && tempo_dims_target(resource, &target))
		rows = DIMENSION_ROWS;
	else if (rows < 0)
		rows = days >= 0 ? days * DEFAULT_ROWS / DEFAULT_DAYS : DEFAULT_ROWS;
	return clamp_row_est(rows * clauselist_selectivity(root, other, 0, JOIN_INNER, NULL));
}

/*
 * tempoGetForeignRelSize
 *		Read the options, find the columns used and the conditions the API
 *		can apply, and estimate the rows from the pushed date range.
 */
void
tempoGetForeignRelSize(PlannerInfo *root, RelOptInfo *baserel,
					   Oid foreigntableid)
{
	TempoFdwPlanState *ps = palloc0(sizeof(TempoFdwPlanState));
	Oid			userid = OidIsValid(baserel->userid) ? baserel->userid : GetUserId();
	List	   *other = NIL;
	ListCell   *lc;

	ps->opts = tempo_get_options(foreigntableid,
								 GetForeignTable(foreigntableid)->serverid,
								 userid);
	check_resource(ps->opts);
	pull_varattnos((Node *) baserel->reltarget->exprs, baserel->relid,
				   &ps->attrs_used);
	ps->all_exact = true;
	foreach(lc, baserel->baserestrictinfo)
	{
		RestrictInfo *ri = lfirst_node(RestrictInfo, lc);
		TempoFilter f;

		pull_varattnos((Node *) ri->clause, baserel->relid, &ps->attrs_used);
		if (tempo_enable_pushdown &&
			tempo_classify(baserel, foreigntableid, ps->opts->resource, ri->clause, &f))
		{
			ps->filters = lappend(ps->filters, palloc_object(TempoFilter));
			*(TempoFilter *) llast(ps->filters) = f;
			ps->all_exact = ps->all_exact && f.exact;
			if (f.kind == TEMPO_FILTER_DATE_LOWER || f.kind == TEMPO_FILTER_DATE_UPPER ||
				f.kind == TEMPO_FILTER_DATE_EQ)
				continue;
		}
		else
			ps->all_exact = false;
		other = lappend(other, ri);
	}

	baserel->rows = estimate_rows(root, baserel, foreigntableid, ps->filters, other,
								  ps->opts->resource);
	baserel->fdw_private = ps;
}

/* Is there a filter of that kind among the pushed base conditions? */
static bool
has_filter(List *filters, int kind)
{
	ListCell   *lc;

	foreach(lc, filters)
		if (((TempoFilter *) lfirst(lc))->kind == kind)
		return true;
	return false;
}

/*
 * needs_key
 *		Can the API not list the whole table with these filters?  Schedules
 *		need an account, approvals a team, Jira issues a condition of a
 *		bounded JQL.
 */
static bool
needs_key(TempoResource resource, List *filters)
{
	if (resource == TEMPO_RES_USER_SCHEDULES)
		return !has_filter(filters, TEMPO_FILTER_AUTHOR);
	if (resource == TEMPO_RES_TEMPO_TIMESHEET_APPROVALS)
		return !has_filter(filters, TEMPO_FILTER_ISSUE);
	return resource == TEMPO_RES_JIRA_ISSUES && filters == NIL;
}

/* generate_implied_equalities_for_column callback: is em our column? */
static bool
is_key_column(PlannerInfo *root, RelOptInfo *rel, EquivalenceClass *ec,
			  EquivalenceMember *em, void *arg)
{
	Var		   *var = (Var *) em->em_expr;

	return IsA(var, Var) && (Index) var->varno == rel->relid &&
		var->varattno == *(AttrNumber *) arg && var->varlevelsup == 0;
}

/* Add a path parameterized by the outer rels of one join clause. */
static void
add_param_path(PlannerInfo *root, RelOptInfo *baserel, Oid relid,
			   TempoFdwPlanState *ps, RestrictInfo *ri, List **done)
{
	TempoFilter f;
	Relids		required_outer;
	ParamPathInfo *ppi;
	Cost		startup,
				total;
	double		rows;

	if (!join_clause_is_movable_to(ri, baserel) ||
		!tempo_classify(baserel, relid, ps->opts->resource, ri->clause, &f) ||
		(f.kind != TEMPO_FILTER_ISSUE && f.kind != TEMPO_FILTER_AUTHOR &&
		 f.kind != TEMPO_FILTER_ID))
		return;
	required_outer = bms_difference(ri->clause_relids, baserel->relids);
	if (bms_is_empty(required_outer) || list_member(*done, required_outer))
		return;
	*done = lappend(*done, required_outer);

	ppi = get_baserel_parampathinfo(root, baserel, required_outer);
	rows = Min(ppi->ppi_rows, ROWS_PER_KEY);
	scan_cost(rows, ps->opts->page_size, 1, &startup, &total);
	add_path(baserel, (Path *)
			 TEMPO_FOREIGNSCAN_PATH(root, baserel, NULL, rows, startup, total,
									NIL, required_outer, NULL, NIL));
}

/*
 * query_order
 *		The order of Tempo's GET /worklogs that gives the query's ORDER BY,
 *		or NONE.  Only a single sort key, on a column Tempo never leaves
 *		empty, with its type's default ordering: start_date ascending (Tempo's
 *		default order, START_DATE_TIME then ID) or descending (orderBy=
 *		START_DATE_TIME), updated_at descending (UPDATED), worklog_id
 *		descending (ID).  Rows tied on the key may come in any order, as
 *		PostgreSQL allows.
 */
static TempoOrder
query_order(PlannerInfo *root, RelOptInfo *baserel, Oid relid)
{
	PathKey    *pk;
	ListCell   *lc;

	if (list_length(root->query_pathkeys) != 1)
		return TEMPO_ORDER_NONE;
	pk = linitial(root->query_pathkeys);
	foreach(lc, pk->pk_eclass->ec_members)
	{
		EquivalenceMember *em = lfirst(lc);
		Var		   *v = (Var *) em->em_expr;
		Oid			opclass;
		char	   *name;
		bool		desc = TEMPO_PATHKEY_DESC(pk);

		if (!IsA(v, Var) || (Index) v->varno != baserel->relid ||
			v->varlevelsup != 0 || v->varattno <= 0)
			continue;
		opclass = GetDefaultOpClass(v->vartype, BTREE_AM_OID);
		if (!OidIsValid(opclass) || get_opclass_family(opclass) != pk->pk_opfamily)
			return TEMPO_ORDER_NONE;
		name = get_attname(relid, v->varattno, false);
		if (strcmp(name, "start_date") == 0 && v->vartype == DATEOID)
			return desc ? TEMPO_ORDER_START_DESC : TEMPO_ORDER_START_ASC;
		if (desc && strcmp(name, "updated_at") == 0 && v->vartype == TIMESTAMPTZOID)
			return TEMPO_ORDER_UPDATED_DESC;
		if (desc && strcmp(name, "worklog_id") == 0 && v->vartype == INT8OID)
			return TEMPO_ORDER_ID_DESC;
		return TEMPO_ORDER_NONE;
	}
	return TEMPO_ORDER_NONE;
}

/*
 * add_ordered_path
 *		A path whose rows come in the query's ORDER BY, sorted by Tempo: only
 *		for one GET /worklogs stream (no issue or author filter, which take
 *		several streams or a path without orderBy) and without the fallback
 *		(Jira's rows would come in another order).
 */
static void
add_ordered_path(PlannerInfo *root, RelOptInfo *baserel, Oid relid,
				 TempoFdwPlanState *ps, Cost startup, Cost total)
{
	TempoOrder	order;
	ListCell   *lc;

	if (ps->opts->resource != TEMPO_RES_WORKLOGS ||
		ps->opts->fallback == TEMPO_FALLBACK_JIRA)
		return;
	foreach(lc, ps->filters)
	{
		int			kind = ((TempoFilter *) lfirst(lc))->kind;

		if (kind == TEMPO_FILTER_ISSUE || kind == TEMPO_FILTER_AUTHOR)
			return;
	}
	order = query_order(root, baserel, relid);
	if (order == TEMPO_ORDER_NONE)
		return;
	add_path(baserel, (Path *)
			 TEMPO_FOREIGNSCAN_PATH(root, baserel, NULL, baserel->rows,
									startup, total, root->query_pathkeys, NULL, NULL,
									list_make1(makeInteger(order))));
}

/*
 * tempoGetForeignPaths
 *		The plain path, and paths parameterized by a join key on issue_id or
 *		author_account_id, so that a nested loop from a small outer table
 *		asks the API for each key instead of reading everything.
 */
void
tempoGetForeignPaths(PlannerInfo *root, RelOptInfo *baserel,
					 Oid foreigntableid)
{
	TempoFdwPlanState *ps = baserel->fdw_private;
	Cost		startup,
				total;
	List	   *done = NIL;
	ListCell   *lc;

	scan_cost(baserel->rows, ps->opts->page_size, 1, &startup, &total);
	if (needs_key(ps->opts->resource, ps->filters))
	{
		/* the API cannot list everything: prefer a path with a join key */
		startup += disable_cost;
		total += disable_cost;
	}
	add_path(baserel, (Path *)
			 TEMPO_FOREIGNSCAN_PATH(root, baserel, NULL, baserel->rows,
									startup, total, NIL, NULL, NULL, NIL));

	if (!tempo_enable_pushdown)
		return;

	add_ordered_path(root, baserel, foreigntableid, ps, startup, total);

	/* join clauses that are equivalences: a.id = w.issue_id */
	for (int i = 0; i < tempo_resource_def(ps->opts->resource)->ncolumns; i++)
	{
		const char *name = tempo_resource_def(ps->opts->resource)->columns[i].name;
		AttrNumber	attno;
		List	   *clauses;

		if (strcmp(name, "issue_id") != 0 && strcmp(name, "author_account_id") != 0 &&
			strcmp(name, "account_id") != 0 && strcmp(name, "team_id") != 0 &&
			!(strcmp(name, "id") == 0 && ps->opts->resource == TEMPO_RES_JIRA_ISSUES))
			continue;
		attno = get_attnum(foreigntableid, name);
		if (attno == InvalidAttrNumber)
			continue;
		clauses = generate_implied_equalities_for_column(root, baserel, is_key_column,
														 &attno, baserel->lateral_referencers);
		foreach(lc, clauses)
			add_param_path(root, baserel, foreigntableid, ps, lfirst(lc), &done);
	}
	/* other join clauses, e.g. w.issue_id = ANY (a.ids) */
	foreach(lc, baserel->joininfo)
		add_param_path(root, baserel, foreigntableid, ps, lfirst(lc), &done);
}

/* Is the query one foreign table, filtered only by exact API filters,
 * with nothing between the scan and the LIMIT that could drop rows (an
 * ORDER BY only when Tempo sorts: the path has its pathkeys)? */
static bool
limit_is_safe(PlannerInfo *root, TempoFdwPlanState *ps, ForeignPath *path)
{
	Query	   *parse = root->parse;

	return tempo_enable_pushdown && root->limit_tuples > 0 &&
		path->path.param_info == NULL && ps->all_exact &&
		bms_membership(root->all_baserels) == BMS_SINGLETON &&
		list_length(parse->rtable) == 1 &&
		(parse->sortClause == NIL || path->path.pathkeys != NIL) &&
		parse->groupClause == NIL && parse->distinctClause == NIL &&
		!parse->hasAggs && !parse->hasWindowFuncs && !parse->hasTargetSRFs &&
		parse->havingQual == NULL && parse->setOperations == NULL &&
		parse->groupingSets == NIL;
}

/*
 * ours_first
 *		The local filter with each join key written "ours = other", as 16 and
 *		later plan it (15 writes the other side first), so that EXPLAIN reads
 *		the same on every version.  Commuted clauses are copies.
 */
static List *
ours_first(PlannerInfo *root, List *clauses, Index relid)
{
	List	   *out = NIL;
	ListCell   *lc;

	foreach(lc, clauses)
	{
		Expr	   *clause = lfirst(lc);
		OpExpr	   *op = (OpExpr *) clause;
		Bitmapset  *other;

		if (!IsA(clause, OpExpr) || list_length(op->args) != 2 ||
			!IsA(lsecond(op->args), Var) ||
			((Var *) lsecond(op->args))->varno != (int) relid)
		{
			out = lappend(out, clause);
			continue;
		}
		other = pull_varnos(root, linitial(op->args));
		if (!bms_is_empty(other) && !bms_is_member(relid, other) &&
			OidIsValid(get_commutator(op->opno)))
		{
			op = copyObject(op);
			CommuteOpExpr(op);
			clause = (Expr *) op;
		}
		out = lappend(out, clause);
	}
	return out;
}

/*
 * tempoGetForeignPlan
 *		Every condition stays in the local filter; the pushable ones also
 *		travel, with their value expressions in fdw_exprs, to the executor.
 */
ForeignScan *
tempoGetForeignPlan(PlannerInfo *root, RelOptInfo *baserel,
					Oid foreigntableid, ForeignPath *best_path,
					List *tlist, List *scan_clauses, Plan *outer_plan)
{
	TempoFdwPlanState *ps = baserel->fdw_private;
	List	   *attrs = NIL;
	List	   *codes = NIL;
	List	   *exprs = NIL;
	List	   *filters = NIL;
	StringInfoData text;
	int			limit = ps->opts->page_size;
	TempoOrder	order = TEMPO_ORDER_NONE;
	int			attno = -1;
	ListCell   *lc;

	while ((attno = bms_next_member(ps->attrs_used, attno)) >= 0)
		attrs = lappend_int(attrs, attno + FirstLowInvalidHeapAttributeNumber);

	initStringInfo(&text);
	foreach(lc, scan_clauses)
	{
		RestrictInfo *ri = lfirst_node(RestrictInfo, lc);
		TempoFilter f;

		if (!tempo_enable_pushdown ||
			!tempo_classify(baserel, foreigntableid, ps->opts->resource, ri->clause, &f))
			continue;
		codes = lappend_int(codes, TEMPO_FILTER_CODE(&f));
		filters = lappend(filters, palloc_object(TempoFilter));
		*(TempoFilter *) llast(filters) = f;
		exprs = lappend(exprs, f.value);
		appendStringInfo(&text, "%s%s", text.len ? ", " : "", f.text);
	}

	/*
	 * user_schedules, jira_issues, approvals, periods: without what the API
	 * needs, say so now
	 */
	if (ps->opts->resource == TEMPO_RES_USER_SCHEDULES)
		(void) tempo_build_requests(TEMPO_TARGET_SCHEDULES, filters, limit, TEMPO_ORDER_NONE);
	else if (ps->opts->resource == TEMPO_RES_JIRA_ISSUES)
		(void) tempo_build_requests(TEMPO_TARGET_JIRA_ISSUES, filters, limit, TEMPO_ORDER_NONE);
	else if (tempo_dims_needs_conditions(ps->opts->resource))
	{
		TempoTarget target;

		(void) tempo_dims_target(ps->opts->resource, &target);
		(void) tempo_build_requests(target, filters, limit, TEMPO_ORDER_NONE);
	}

	if (best_path->fdw_private != NIL)
		order = (TempoOrder) intVal(linitial(best_path->fdw_private));
	if (limit_is_safe(root, ps, best_path))
		limit = (int) Max(Min((double) limit, root->limit_tuples), 1.0);

	scan_clauses = ours_first(root, extract_actual_clauses(scan_clauses, false),
							  baserel->relid);
	return make_foreignscan(tlist, scan_clauses, baserel->relid, exprs,
							list_make5(attrs, codes, makeInteger(limit),
									   makeString(text.data), makeInteger(order)),
							NIL, NIL, outer_plan);
}
