/*-------------------------------------------------------------------------
 *
 * tempo_fdw.h
 *		  Layer 6, planner and executor: the FDW's callbacks, the conditions
 *		  pushed to the API and the plan's private list.
 *
 * Files: tempo_fdw.c (module entry), pushdown.c, pushdown_jira.c,
 * keybatch.c, plan.c, scan.c, import.c, analyze.c. check.c
 * (check_connection) sits beside it and needs none of it. The layers below,
 * each including only those under it: options.h (options and catalog),
 * shared.h (shared-memory features), transport.h (connections, HTTP;
 * failure.h), rows.h (pages and rows), pager.h (streams and paging). No
 * file below this layer includes this header.
 *
 * Copyright (c) 2026, tempo_fdw developers
 *
 * IDENTIFICATION
 *		  src/tempo_fdw.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef TEMPO_FDW_H
#define TEMPO_FDW_H

#include "foreign/fdwapi.h"
#include "nodes/pathnodes.h"

#include "pager.h"

/* Kinds of API filter a condition can become (pushdown.c) */
typedef enum TempoFilterKind
{
	TEMPO_FILTER_DATE_LOWER,	/* start_date > / >= value */
	TEMPO_FILTER_DATE_UPPER,	/* start_date < / <= value */
	TEMPO_FILTER_DATE_EQ,		/* start_date = value */
	TEMPO_FILTER_UPDATED_LOWER, /* updated_at > / >= / = value */
	TEMPO_FILTER_ISSUE,			/* issue_id = value or = ANY (array) */
	TEMPO_FILTER_AUTHOR,		/* author_account_id = value or = ANY */
	/* Jira dimension tables */
	TEMPO_FILTER_ID,			/* id = value or = ANY (issues, projects) */
	TEMPO_FILTER_KEY,			/* key = value or = ANY (issues, projects) */
	TEMPO_FILTER_PROJECT		/* project_key = value or = ANY (issues) */
} TempoFilterKind;

/* One pushed condition */
typedef struct TempoFilter
{
	int			kind;			/* a TempoFilterKind */
	bool		strict;			/* < or > rather than <= or >= */
	bool		array;			/* = ANY (array) */
	bool		exact;			/* the API applies it exactly */
	Expr	   *value;			/* the value expression (planning) */
	char	   *column;			/* column name (planning) */
	char	   *text;			/* "column op value", for EXPLAIN */
	bool		known;			/* datum/isnull are set */
	Datum		datum;			/* evaluated value */
	bool		isnull;
} TempoFilter;

/* What a set of request streams reads */
typedef enum TempoTarget
{
	TEMPO_TARGET_TEMPO_WORKLOGS,	/* Tempo /worklogs */
	TEMPO_TARGET_JIRA_WORKLOGS, /* Jira worklogs (table or fallback) */
	TEMPO_TARGET_SCHEDULES,		/* Tempo /user-schedule */
	TEMPO_TARGET_DELETIONS,		/* Tempo /papertrail/search */
	/* Jira dimension tables */
	TEMPO_TARGET_JIRA_USERS,	/* Jira users/search, user/bulk */
	TEMPO_TARGET_JIRA_PROJECTS, /* Jira project/search */
	TEMPO_TARGET_JIRA_ISSUES,	/* Jira search/jql */
	/* Tempo dimension tables */
	TEMPO_TARGET_TEAMS,			/* Tempo /teams */
	TEMPO_TARGET_TEAM_MEMBERSHIPS,	/* Tempo /team-memberships/search */
	TEMPO_TARGET_ACCOUNTS,		/* Tempo /accounts/search */
	TEMPO_TARGET_WORK_ATTRIBUTES,	/* Tempo /work-attributes */
	TEMPO_TARGET_APPROVALS,		/* Tempo /timesheet-approvals/team/{id} */
	TEMPO_TARGET_PERIODS		/* Tempo /periods */
} TempoTarget;

/*
 * The pushed values of a Tempo dimension table's scan, as pushdown.c
 * combined them (pushdown_dims.c makes the requests)
 */
typedef struct TempoDimsQuery
{
	char	   *from;			/* YYYY-MM-DD, "$param", or NULL: no bound */
	char	   *to;				/* the same */
	List	   *ids;			/* integer ids as strings (TEMPO_FILTER_ISSUE) */
	bool		have_ids;		/* ... there is such a condition */
	List	   *keys;			/* text keys (TEMPO_FILTER_AUTHOR) */
	bool		have_keys;		/* ... there is such a condition */
	int			limit;			/* page size */
} TempoDimsQuery;

/* Positions in ForeignScan.fdw_private (plan.c writes, scan.c reads) */
enum TempoFdwScanPrivateIndex
{
	TempoScanPrivateAttrs,		/* Integer list of attribute numbers used */
	TempoScanPrivateFilters,	/* Integer list of TEMPO_FILTER_CODEs */
	TempoScanPrivateLimit,		/* Integer: the "limit" of each page */
	TempoScanPrivateFilterText, /* String: the pushed conditions, for EXPLAIN */
	TempoScanPrivateOrder		/* Integer: the TempoOrder the rows come in */
};

/* Orders of Tempo's GET /worklogs that ORDER BY can rely on (plan.c) */
typedef enum TempoOrder
{
	TEMPO_ORDER_NONE,			/* no order promised */
	TEMPO_ORDER_START_ASC,		/* the default: START_DATE_TIME, ID ascending */
	TEMPO_ORDER_START_DESC,		/* orderBy=START_DATE_TIME (descending) */
	TEMPO_ORDER_UPDATED_DESC,	/* orderBy=UPDATED (descending) */
	TEMPO_ORDER_ID_DESC			/* orderBy=ID (descending) */
} TempoOrder;

/* A filter's kind, strictness and array flag as one integer, and back */
#define TEMPO_FILTER_CODE(f) ((f)->kind | ((f)->strict ? 16 : 0) | ((f)->array ? 32 : 0))
#define TEMPO_FILTER_DECODE(f, code) \
	((f)->kind = (code) & 15, (f)->strict = ((code) & 16) != 0, \
	 (f)->array = ((code) & 32) != 0)

/* in pushdown.c */
extern bool tempo_classify(RelOptInfo *baserel, Oid relid,
						   TempoResource resource, Expr *clause,
						   TempoFilter *f);
extern List *tempo_build_requests(TempoTarget target, List *filters, int limit,
								  TempoOrder order);
extern double tempo_date_range_days(List *filters);
extern List *tempo_filter_values(TempoFilter *f, Oid *elemtype);

/* in pushdown_jira.c: the Jira dimension tables' requests */
extern List *tempo_jira_dim_requests(TempoTarget target, List *filters, int limit);
extern char *tempo_jql_quote(const char *s);
extern double tempo_filter_scan_days(List *filters);

/* in keybatch.c: join keys in batches */
typedef struct TempoKeySource
{
	struct EState *estate;		/* the query of the worklogs scan */
	TempoPage  *page;			/* its current page, or NULL */
	const char *issue_path;		/* JSON path of a row's issue id */
	const char *account_path;	/* ... of its author's account id */
} TempoKeySource;
typedef struct TempoKeyCache TempoKeyCache;
extern void tempo_keys_register(TempoKeySource *src, MemoryContext cxt);
extern List *tempo_keys_batch(struct EState *estate, bool accounts, const char *key);
extern TempoKeyCache *tempo_key_cache_create(MemoryContext parent);
extern void tempo_key_cache_start(TempoKeyCache *c, List *keys);
extern bool tempo_key_cache_has(TempoKeyCache *c, const char *key);
extern void tempo_key_cache_add(TempoKeyCache *c, const char *key, TupleDesc desc,
								Datum *values, bool *nulls);
extern List *tempo_key_cache_rows(TempoKeyCache *c, const char *key);
/* in pushdown_dims.c */
extern int	tempo_dims_filter_kind(TempoResource resource, const char *column,
								   Oid coltype, bool eq, int date_kind, bool *exact);
extern bool tempo_dims_target(TempoResource resource, TempoTarget *target);
extern bool tempo_dims_needs_conditions(TempoResource resource);
extern List *tempo_dims_streams(TempoTarget target, const TempoDimsQuery *q);

/* in plan.c (the GUC tempo_fdw.enable_pushdown) */
extern bool tempo_enable_pushdown;
extern void tempoGetForeignRelSize(PlannerInfo *root, RelOptInfo *baserel,
								   Oid foreigntableid);
extern void tempoGetForeignPaths(PlannerInfo *root, RelOptInfo *baserel,
								 Oid foreigntableid);
extern ForeignScan *tempoGetForeignPlan(PlannerInfo *root,
										RelOptInfo *baserel,
										Oid foreigntableid,
										ForeignPath *best_path,
										List *tlist, List *scan_clauses,
										Plan *outer_plan);

/* in scan.c */
extern void tempoBeginForeignScan(ForeignScanState *node, int eflags);
extern TupleTableSlot *tempoIterateForeignScan(ForeignScanState *node);
extern void tempoReScanForeignScan(ForeignScanState *node);
extern void tempoEndForeignScan(ForeignScanState *node);
extern void tempoExplainForeignScan(ForeignScanState *node,
									struct ExplainState *es);

/* in analyze.c */
extern bool tempoAnalyzeForeignTable(Relation relation,
									 AcquireSampleRowsFunc *func,
									 BlockNumber *totalpages);

/* in import.c */
extern List *tempoImportForeignSchema(ImportForeignSchemaStmt *stmt,
									  Oid serverOid);

#endif							/* TEMPO_FDW_H */
