/*-------------------------------------------------------------------------
 *
 * tempo_fdw.h
 *		  The one internal header of tempo_fdw: option, planner and scan
 *		  state, and every cross-file function grouped by the file that
 *		  owns it.
 *
 * libcurl and cJSON headers stay out of this file: http.c and json.c hide
 * their library objects behind opaque types.
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
#include "foreign/foreign.h"
#include "lib/stringinfo.h"
#include "commands/explain.h"
#include "nodes/execnodes.h"
#include "nodes/pathnodes.h"
#include "utils/rel.h"
#include "utils/palloc.h"
#include "utils/guc.h"
#include "utils/timestamp.h"

#include "compat.h"

#ifndef TEMPO_FDW_VERSION
#define TEMPO_FDW_VERSION "unknown"
#endif

/* Defaults and limits of the options (documented in README.md) */
#define TEMPO_DEFAULT_URL				"https://api.tempo.io/4"
#define TEMPO_DEFAULT_TIMEOUT_MS		30000
#define TEMPO_DEFAULT_CONNECT_TIMEOUT_MS 10000
#define TEMPO_DEFAULT_MAX_RETRIES		3
#define TEMPO_DEFAULT_PAGE_SIZE			5000
#define TEMPO_MAX_PAGE_SIZE				5000
#define TEMPO_DEFAULT_MAX_CONCURRENCY	4
#define TEMPO_DEFAULT_RPS				5.0
#define TEMPO_DEFAULT_MAX_RESPONSE_BYTES (256 * 1024 * 1024)
#define TEMPO_MAX_RETRY_WAIT_MS			60000

/* What a foreign table reads (its "resource" option) */
typedef enum TempoResource
{
	TEMPO_RES_WORKLOGS,			/* Tempo /worklogs */
	TEMPO_RES_JIRA_WORKLOGS,	/* Jira /rest/api/3/worklog... */
	TEMPO_RES_USER_SCHEDULES,	/* Tempo /user-schedule/{accountId} */
	TEMPO_RES_WORKLOG_DELETIONS /* Tempo POST /papertrail/search, Deleted */
} TempoResource;

/* The "fallback" server option */
typedef enum TempoFallback
{
	TEMPO_FALLBACK_AUTO,		/* not set: jira when Jira credentials exist */
	TEMPO_FALLBACK_JIRA,
	TEMPO_FALLBACK_OFF
} TempoFallback;

/* All options of one scan, merged server -> user mapping -> table */
typedef struct TempoFdwOptions
{
	char	   *tempo_url;		/* Tempo API base, no trailing slash */
	char	   *jira_url;		/* Jira site, no trailing slash, or NULL */
	TempoFallback fallback;		/* fallback to Jira worklogs */
	int			timeout_ms;		/* total time of one HTTP request */
	int			connect_timeout_ms; /* time to connect */
	int			max_retries;	/* retries of 429/502/503/504/resets */
	int			page_size;		/* "limit" of a Tempo page */
	int			max_concurrency;	/* pages in flight at once */
	double		max_requests_per_second;	/* rate budget, 0 = none */
	int64		max_response_bytes; /* cap of one response body */
	bool		ssl_verify;		/* verify TLS peers (superuser may unset) */
	char	   *token;			/* Tempo Bearer token, or NULL */
	bool		token_from_server;	/* token came from the server options */
	char	   *jira_email;		/* Jira Basic auth user, or NULL */
	char	   *jira_token;		/* Jira API token, or NULL */
	TempoResource resource;		/* what the table reads */
	bool		trusted_owner;	/* the server's owner is a superuser */
	char	   *token_file;		/* where the server's token is, or NULL */
	const char *servername;		/* for messages */
	char	   *proxy;			/* proxy URL, or NULL: no proxy at all */
} TempoFdwOptions;

/* Longest token read from a token_file */
#define TEMPO_MAX_TOKEN_BYTES 8192

/* How a column's value is derived from a JSON object */
typedef enum TempoColumnKind
{
	TEMPO_COL_PATH,				/* the value at a dotted JSON path */
	TEMPO_COL_SOURCE,			/* the constant source name */
	TEMPO_COL_ATTR_MAP,			/* [{key,value}] at path as {key: value} */
	TEMPO_COL_RAW,				/* the whole object */
	TEMPO_COL_LOCAL_DATE,		/* date part of an offset timestamp at path */
	TEMPO_COL_ADF_TEXT,			/* Atlassian Document Format as text */
	TEMPO_COL_IS_APP,			/* accountType at path = 'app' */
	TEMPO_COL_REQUEST_KEY,		/* the key the request asked for (account id) */
	TEMPO_COL_LOCAL_TIME,		/* time part of an offset timestamp at path */
	TEMPO_COL_NULL,				/* always NULL (not in this source) */
	TEMPO_COL_JIRA_TWIN			/* the Jira twin of the Tempo id at path */
} TempoColumnKind;

/* One column a resource offers */
typedef struct TempoColumnDef
{
	const char *name;			/* column name */
	Oid			type;			/* natural type */
	const char *sqltype;		/* its name in generated DDL */
	TempoColumnKind kind;		/* how to derive it */
	const char *path;			/* dotted JSON path, or NULL */
	const char *comment;		/* COMMENT ON COLUMN text */
	bool		required;		/* missing in the JSON is an error */
} TempoColumnDef;

/* One resource: a table IMPORT FOREIGN SCHEMA can create */
typedef struct TempoResourceDef
{
	TempoResource resource;
	const char *name;			/* table name and "resource" value */
	const char *id_path;		/* JSON path of the row id, for messages */
	const char *comment;		/* COMMENT ON FOREIGN TABLE text */
	int			ncolumns;
	const TempoColumnDef *columns;
} TempoResourceDef;

/* Counters shown by EXPLAIN ANALYZE */
typedef struct TempoScanStats
{
	int64		pages;			/* pages turned into rows */
	int64		requests;		/* HTTP requests sent, retries included */
	int64		retries;		/* requests repeated after a transient fault */
	int64		bytes;			/* response bytes received (decoded) */
	int64		throttled;		/* 429 responses (Too Many Requests) */
	int64		http_us;		/* time in transfers (summed when concurrent) */
	int64		budget_wait_us; /* waited for a slot of the request budget */
	int64		retry_wait_us;	/* waited before retries (Retry-After, backoff) */
} TempoScanStats;

/* Kinds of API filter a condition can become (pushdown.c) */
typedef enum TempoFilterKind
{
	TEMPO_FILTER_DATE_LOWER,	/* start_date > / >= value */
	TEMPO_FILTER_DATE_UPPER,	/* start_date < / <= value */
	TEMPO_FILTER_DATE_EQ,		/* start_date = value */
	TEMPO_FILTER_UPDATED_LOWER, /* updated_at > / >= / = value */
	TEMPO_FILTER_ISSUE,			/* issue_id = value or = ANY (array) */
	TEMPO_FILTER_AUTHOR			/* author_account_id = value or = ANY */
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

/* How a request stream pages */
typedef enum TempoPaging
{
	TEMPO_PAGING_NEXT_LINK,		/* Tempo: follow metadata.next */
	TEMPO_PAGING_START_AT,		/* Jira issue worklogs: startAt / total */
	TEMPO_PAGING_JIRA_UPDATED,	/* Jira: worklog/updated ids, worklog/list */
	TEMPO_PAGING_TOKEN			/* Tempo audit: POST again with nextPageToken */
} TempoPaging;

/* One request stream: a first request and the pages that follow it */
typedef struct TempoStream
{
	TempoPaging paging;
	bool		jira;			/* Jira API (jira_url, Basic auth) */
	char	   *path;			/* path and query after the base URL */
	char	   *key;			/* account id of a user-schedule stream */
	char	   *body;			/* JSON body of a POST stream, or NULL */
	bool		missing_is_empty;	/* a 404 of its first page: the key (user,
									 * issue) does not exist, so no rows */
} TempoStream;

/* What a set of request streams reads */
typedef enum TempoTarget
{
	TEMPO_TARGET_TEMPO_WORKLOGS,	/* Tempo /worklogs */
	TEMPO_TARGET_JIRA_WORKLOGS, /* Jira worklogs (table or fallback) */
	TEMPO_TARGET_SCHEDULES,		/* Tempo /user-schedule */
	TEMPO_TARGET_DELETIONS		/* Tempo /papertrail/search */
} TempoTarget;

/* An HTTP connection: opaque outside connection.c and http.c */
typedef struct TempoConn TempoConn;

/* A parsed page, and what parses pages: opaque outside json.c */
typedef struct TempoPage TempoPage;
typedef struct TempoParser TempoParser;

/* Per-column conversion plan built once per scan (json.c) */
typedef struct TempoRowPlan TempoRowPlan;

/* in tempo_fdw.c */
extern bool tempo_enable_pushdown;

/* in option.c */
extern TempoFdwOptions *tempo_get_options(Oid foreigntableid, Oid serverid,
										  Oid userid);
extern const char *tempo_resource_name(TempoResource resource);
extern void tempo_read_token_file(TempoFdwOptions *o);
extern Datum tempo_fdw_validator_impl(PG_FUNCTION_ARGS);

/* in redact.c: server text in messages is cut at this many bytes */
#define TEMPO_SERVER_TEXT_MAX 1024
extern char *tempo_server_text(const TempoFdwOptions *opts, const char *auth,
							   const char *s, size_t len);
extern void tempo_forget_on_reset(MemoryContext cxt, char *s);
extern char *tempo_secret_cat(const char *a, const char *b, const char *c);

/* in hosts.c */
extern char *tempo_allowed_hosts;
extern bool tempo_url_is_loopback(const char *url);
extern void tempo_host_check_literal(const char *option, const char *url);
extern void tempo_host_check_owner(const char *option, const char *url,
								   const char *server);
extern bool tempo_host_shows_bodies(const char *url, bool trusted_owner);
extern bool tempo_allowed_hosts_check(char **newval, void **extra, GucSource source);

/* in catalog.c */
extern const TempoResourceDef *tempo_resource_def(TempoResource resource);
extern const TempoResourceDef *tempo_resource_by_name(const char *name);
extern const TempoResourceDef *tempo_fallback_def(void);
extern int	tempo_resource_count(void);
extern const TempoResourceDef *tempo_resource_at(int i);

/* in ratelimit.c */
extern void tempo_rate_init(void);
extern bool tempo_rate_shared(void);
extern uint64 tempo_rate_key(const char *url, const char *auth_header);
extern int	tempo_max_backlog_per_role;
extern int64 tempo_rate_acquire(uint64 key, double rate);
extern void tempo_rate_block(uint64 key, TimestampTz until);

/* in fallback.c */
#define ERRCODE_TEMPO_FALLBACK MAKE_SQLSTATE('0','1','T','0','1')
extern bool tempo_fallback_enabled;
extern void tempo_fallback_init(void);
extern int64 tempo_fallback_record(Oid serverid, Oid relid, const char *cause);
extern void tempo_fallback_count(Oid serverid, int64 key, int64 rows);

/* in estimate.c */
extern void tempo_estimate_init(void);
extern void tempo_estimate_learn(Oid relid, double days, double rows);
extern double tempo_estimate_rows(Oid relid, double days);
extern double tempo_estimate_scan_days(List *filters);
extern bool tempoAnalyzeForeignTable(Relation relation,
									 AcquireSampleRowsFunc *func,
									 BlockNumber *totalpages);

/* in activity.c */
typedef enum TempoActivityState
{
	TEMPO_ACT_STARTING,
	TEMPO_ACT_REQUESTING,
	TEMPO_ACT_BUDGET,
	TEMPO_ACT_RETRY_WAIT,
	TEMPO_ACT_CONVERTING
} TempoActivityState;
extern void tempo_activity_init(void);
extern void tempo_activity_begin(Oid serverid, Oid relid);
extern void tempo_activity_end(void);
extern void tempo_activity_request(const char *method, const char *path);
extern void tempo_activity_state(TempoActivityState state);
extern void tempo_activity_counters(const TempoScanStats *stats);
extern void tempo_activity_progress(const TempoScanStats *stats, int64 rows);

/* in stats.c; the classes of errors come from the failure policy (failure.c) */
typedef enum TempoErrorClass
{
	TEMPO_ERR_AUTH,				/* no credentials, 401, 403 */
	TEMPO_ERR_NETWORK,			/* connect, timeout, TLS, broken transfer */
	TEMPO_ERR_HTTP,				/* any other HTTP status */
	TEMPO_ERR_OTHER				/* bad data, limits, a cancel, ... */
} TempoErrorClass;
extern void tempo_stats_init(void);
extern void tempo_stats_add(Oid serverid, int resource, const TempoScanStats *scan,
							int64 rows, bool fell_back, bool failed,
							TempoErrorClass error_class);

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
	/* where the body goes; all optional (zeroed: a new buffer in CurrentMemoryContext) */
	MemoryContext body_cxt;		/* the body's context, if not the current one */
	char	   *buffer;			/* a buffer of body_cxt to receive into, or NULL */
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
extern char *tempo_url_path(const char *url);
extern char *tempo_url_encode(const char *s, bool segment);
extern bool tempo_same_origin(const char *base, const char *url);

/* in pager.c */
typedef struct TempoPager TempoPager;
extern TempoPager *tempo_pager_create(TempoFdwOptions *opts, TempoConn *conn,
									  TempoScanStats *stats, bool check_text,
									  MemoryContext cxt);
extern void tempo_pager_start(TempoPager *p, List *streams, const char *tempo_cause,
							  int window, int limit);
extern void tempo_pager_end(TempoPager *p);
extern void tempo_pager_pump(TempoPager *p);
extern TempoPage *tempo_pager_next(TempoPager *p, MemoryContext page_cxt,
								   TempoHttpResponse *failure, bool *failed);
extern const char *tempo_pager_key(TempoPager *p);
extern char *tempo_basic_auth(const char *email, const char *token);
TEMPO_NORETURN extern void tempo_pager_raise(TempoPager *p,
											 const TempoHttpResponse *failure);

/* in json.c */
extern void tempo_sanitize_json(char *body, size_t len);
extern TempoParser *tempo_parser_create(MemoryContext cxt, bool check_text,
										const TempoFdwOptions *opts);
extern TempoPage *tempo_parse_page(TempoParser *parser, char *body, size_t len,
								   const char *array_key,
								   const char *service, const char *what,
								   MemoryContext cxt);
extern int	tempo_page_nrows(TempoPage *page);
extern const char *tempo_page_string(TempoPage *page, const char *path);
extern bool tempo_page_has_number(TempoPage *page, const char *path,
								  double *value);
extern bool tempo_page_bool(TempoPage *page, const char *path, bool dflt);
extern TempoRowPlan *tempo_make_row_plan(Relation rel,
										 const TempoResourceDef *resource,
										 Bitmapset *attrs_used);
extern bool tempo_row_plan_uses_text(TempoRowPlan *plan);
extern List *tempo_page_ids(TempoPage *page, const char *key);
extern void tempo_row_plan_set(TempoRowPlan *plan, const char *source,
							   const char *request_key);
extern bool tempo_row_plan_uses_twins(TempoRowPlan *plan);
extern void tempo_row_plan_set_twins(TempoRowPlan *plan, const int64 *pairs,
									 int npairs);
extern int	tempo_page_ints(TempoPage *page, const char *key, int64 *out);
extern int	tempo_page_id_pairs(TempoPage *page, const char *key1,
								const char *key2, int64 *pairs);
extern bool tempo_page_next_row(TempoPage *page, TempoRowPlan *plan,
								Datum *values, bool *nulls);

/* Positions in ForeignScan.fdw_private (plan.c writes, scan.c reads) */
enum TempoFdwScanPrivateIndex
{
	TempoScanPrivateAttrs,		/* Integer list of attribute numbers used */
	TempoScanPrivateFilters,	/* Integer list of TEMPO_FILTER_CODEs */
	TempoScanPrivateLimit,		/* Integer: the "limit" of each page */
	TempoScanPrivateFilterText,	/* String: the pushed conditions, for EXPLAIN */
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

/* in plan.c */
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
/* in jsonb.c (cJSON trees, declared without cJSON's header) */
struct cJSON;
extern Datum tempo_cjson_to_jsonb(struct cJSON *item, bool verified);
extern Datum tempo_attr_map_to_jsonb(struct cJSON *values, bool verified,
									 bool *bad_key);

/* in scan.c */
extern void tempoBeginForeignScan(ForeignScanState *node, int eflags);
extern TupleTableSlot *tempoIterateForeignScan(ForeignScanState *node);
extern void tempoReScanForeignScan(ForeignScanState *node);
extern void tempoEndForeignScan(ForeignScanState *node);
extern void tempoExplainForeignScan(ForeignScanState *node,
									struct ExplainState *es);

/* in twins.c */
extern int64 *tempo_fetch_twins(TempoFdwOptions *opts, TempoConn *conn,
								TempoScanStats *stats, TempoParser *parser,
								const int64 *ids, int nids, int *npairs);

/* in import.c */
extern List *tempoImportForeignSchema(ImportForeignSchemaStmt *stmt,
									  Oid serverOid);

#endif							/* TEMPO_FDW_H */
