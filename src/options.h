/*-------------------------------------------------------------------------
 *
 * options.h
 *		  Layer 1, options and catalog: the options of a scan, the resources
 *		  and columns tempo_fdw offers, and what is made of the options
 *		  alone: URLs, credentials, allowed hosts, redaction of secrets.
 *
 * Files: option.c, catalog.c, url.c, credentials.c, hosts.c, redact.c.
 * Any file may include this header; it includes only PostgreSQL's and
 * compat.h, never libcurl or cJSON.
 *
 * Copyright (c) 2026, tempo_fdw developers
 *
 * IDENTIFICATION
 *		  src/options.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef TEMPO_OPTIONS_H
#define TEMPO_OPTIONS_H

#include "fmgr.h"
#include "utils/guc.h"
#include "utils/palloc.h"

#include "compat.h"

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
	TEMPO_RES_WORKLOG_DELETIONS,	/* Tempo POST /papertrail/search, Deleted */
	TEMPO_RES_JIRA_USERS,		/* Jira /rest/api/3/users/search, user/bulk */
	TEMPO_RES_JIRA_PROJECTS,	/* Jira /rest/api/3/project/search */
	TEMPO_RES_JIRA_ISSUES,		/* Jira POST /rest/api/3/search/jql */
	/* Tempo dimension tables */
	TEMPO_RES_TEMPO_TEAMS,		/* Tempo GET /teams */
	TEMPO_RES_TEMPO_TEAM_MEMBERSHIPS,	/* Tempo POST /team-memberships/search */
	TEMPO_RES_TEMPO_ACCOUNTS,	/* Tempo POST /accounts/search */
	TEMPO_RES_TEMPO_WORK_ATTRIBUTES,	/* Tempo GET /work-attributes */
	TEMPO_RES_TEMPO_TIMESHEET_APPROVALS,	/* Tempo GET
											 * /timesheet-approvals/team/{id} */
	TEMPO_RES_TEMPO_PERIODS		/* Tempo GET /periods */
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
	TEMPO_COL_JIRA_TWIN,		/* the Jira twin of the Tempo id at path */
	TEMPO_COL_EPIC_KEY			/* key of the issue at path if it is an epic */
} TempoColumnKind;

/* One column a resource offers */
typedef struct TempoColumnDef
{
	const char *name;			/* column name */
	Oid			type;			/* natural type */
	const char *sqltype;		/* its name in generated DDL */
	TempoColumnKind kind;		/* how to derive it */
	const char *path;			/* dotted JSON path, or NULL */
	bool		required;		/* missing in the JSON is an error */
} TempoColumnDef;

/* One resource: a table IMPORT FOREIGN SCHEMA can create */
typedef struct TempoResourceDef
{
	TempoResource resource;
	const char *name;			/* table name and "resource" value */
	const char *id_path;		/* JSON path of the row id, for messages */
	int			ncolumns;
	const TempoColumnDef *columns;
} TempoResourceDef;

/* in option.c */
extern TempoFdwOptions *tempo_get_options(Oid foreigntableid, Oid serverid,
										  Oid userid);
extern Datum tempo_fdw_validator_impl(PG_FUNCTION_ARGS);

/* in catalog.c */
extern const TempoResourceDef *tempo_resource_def(TempoResource resource);
extern const TempoResourceDef *tempo_resource_by_name(const char *name);
extern const TempoResourceDef *tempo_fallback_def(void);
extern int	tempo_resource_count(void);
extern const TempoResourceDef *tempo_resource_at(int i);
extern const char *tempo_resource_scope(TempoResource resource);

/* in url.c */
extern char *tempo_url_path(const char *url);
extern char *tempo_url_encode(const char *s, bool segment);
extern bool tempo_same_origin(const char *base, const char *url);

/* in credentials.c */
extern void tempo_read_token_file(TempoFdwOptions *o);
extern char *tempo_bearer_auth(const char *token);
extern char *tempo_basic_auth(const char *email, const char *token);

/* in hosts.c */
extern char *tempo_allowed_hosts;
extern bool tempo_url_is_loopback(const char *url);
extern void tempo_hide_hosts(char *buf, size_t size, const char *url, const char *proxy);
extern void tempo_host_check_literal(const char *option, const char *url);
extern void tempo_host_check_owner(const char *option, const char *url,
								   const char *server);
extern bool tempo_host_shows_bodies(const char *url, bool trusted_owner);
extern bool tempo_allowed_hosts_check(char **newval, void **extra, GucSource source);

/* in redact.c: server text in messages is cut at this many bytes */
#define TEMPO_SERVER_TEXT_MAX 1024
extern char *tempo_server_text(const TempoFdwOptions *opts, const char *auth,
							   const char *s, size_t len);
extern void tempo_forget_on_reset(MemoryContext cxt, char *s);
extern char *tempo_secret_cat(const char *a, const char *b, const char *c);

#endif							/* TEMPO_OPTIONS_H */
