/*-------------------------------------------------------------------------
 *
 * option.c
 *		  The options tempo_fdw accepts, their validator, and the merge of
 *		  server, user mapping and table options into one struct.
 *
 * Everything that can be checked without a network call is checked at
 * CREATE/ALTER time, so a typo fails where it was typed rather than in the
 * middle of somebody's nightly refresh.
 *
 * Copyright (c) 2026, tempo_fdw developers
 *
 * IDENTIFICATION
 *		  src/option.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>
#include <limits.h>
#include <math.h>

#include "access/reloptions.h"
#include "catalog/pg_foreign_server.h"
#include "catalog/pg_foreign_table.h"
#include "catalog/pg_user_mapping.h"
#include "commands/defrem.h"
#include "foreign/foreign.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/syscache.h"

#include "options.h"

/* One valid option: its name and the catalog of objects that take it */
typedef struct TempoFdwOption
{
	const char *name;
	Oid			context;		/* ForeignServerRelationId, ... */
} TempoFdwOption;

static const TempoFdwOption valid_options[] = {
	/* where the APIs are, and whether to fall back to Jira */
	{"tempo_url", ForeignServerRelationId},
	{"jira_url", ForeignServerRelationId},
	{"fallback", ForeignServerRelationId},
	/* HTTP behaviour */
	{"timeout_ms", ForeignServerRelationId},
	{"connect_timeout_ms", ForeignServerRelationId},
	{"max_retries", ForeignServerRelationId},
	{"page_size", ForeignServerRelationId},
	{"max_concurrency", ForeignServerRelationId},
	{"max_requests_per_second", ForeignServerRelationId},
	{"max_response_bytes", ForeignServerRelationId},
	{"ssl_verify", ForeignServerRelationId},
	{"proxy", ForeignServerRelationId},
	/* credentials (a server token is accepted, with a warning) */
	{"token", ForeignServerRelationId},
	{"token_file", ForeignServerRelationId},
	{"token", UserMappingRelationId},
	{"jira_email", UserMappingRelationId},
	{"jira_token", UserMappingRelationId},
	/* what a foreign table reads */
	{"resource", ForeignTableRelationId},
	{NULL, InvalidOid}
};

static void check_url(DefElem *def);
static int	int_option(DefElem *def, int min, int max);
static void check_secret(DefElem *def);
static void check_superuser_option(DefElem *def, const char *hint);

/*
 * tempo_fdw_validator_impl
 *		Check the options of a CREATE/ALTER on an object of our wrapper.
 */
Datum
tempo_fdw_validator_impl(PG_FUNCTION_ARGS)
{
	List	   *options = untransformRelOptions(PG_GETARG_DATUM(0));
	Oid			catalog = PG_GETARG_OID(1);
	bool		has_resource = false;
	bool		has_token = false;
	bool		has_token_file = false;
	ListCell   *lc;

	foreach(lc, options)
	{
		DefElem    *def = (DefElem *) lfirst(lc);
		bool		valid = false;

		for (const TempoFdwOption *opt = valid_options; opt->name; opt++)
			if (opt->context == catalog && strcmp(opt->name, def->defname) == 0)
				valid = true;

		if (!valid)
		{
			StringInfoData buf;

			initStringInfo(&buf);
			for (const TempoFdwOption *opt = valid_options; opt->name; opt++)
				if (opt->context == catalog)
					appendStringInfo(&buf, "%s%s", buf.len > 0 ? ", " : "",
									 opt->name);
			ereport(ERROR,
					(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
					 errmsg("invalid option \"%s\"", def->defname),
					 buf.len > 0
					 ? errhint("Valid options in this context are: %s.", buf.data)
					 : errhint("There are no valid options in this context.")));
		}

		if (strcmp(def->defname, "tempo_url") == 0 ||
			strcmp(def->defname, "jira_url") == 0)
			check_url(def);
		else if (strcmp(def->defname, "fallback") == 0)
		{
			char	   *v = defGetString(def);

			if (strcmp(v, "jira") != 0 && strcmp(v, "off") != 0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("invalid value for option \"fallback\": \"%s\"", v),
						 errhint("Valid values are \"jira\" and \"off\".")));
		}
		else if (strcmp(def->defname, "timeout_ms") == 0 ||
				 strcmp(def->defname, "connect_timeout_ms") == 0)
			(void) int_option(def, 1, INT_MAX);
		else if (strcmp(def->defname, "max_retries") == 0)
			(void) int_option(def, 0, 100);
		else if (strcmp(def->defname, "page_size") == 0)
			(void) int_option(def, 1, TEMPO_MAX_PAGE_SIZE);
		else if (strcmp(def->defname, "max_concurrency") == 0)
			(void) int_option(def, 1, 64);
		else if (strcmp(def->defname, "max_requests_per_second") == 0)
		{
			double		v;

			/*
			 * at least 0.001: 1/rate must fit the slot arithmetic
			 * (src/ratelimit.c)
			 */
			if (!parse_real(defGetString(def), &v, 0, NULL) || isnan(v) ||
				v < 0 || v > 1000000 || (v > 0 && v < 0.001))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("invalid value for option \"%s\": \"%s\"",
								def->defname, defGetString(def)),
						 errhint("Give 0 (no limit) or a number of requests per second from 0.001 to 1000000.")));
		}
		else if (strcmp(def->defname, "max_response_bytes") == 0)
			(void) int_option(def, 1024, INT_MAX);
		else if (strcmp(def->defname, "ssl_verify") == 0)
		{
			if (!defGetBoolean(def) && !superuser())
				ereport(ERROR,
						(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
						 errmsg("only a superuser can turn off TLS verification"),
						 errhint("Ask a superuser to set \"ssl_verify\", or install the server's certificate authority in the system store.")));
		}
		else if (strcmp(def->defname, "proxy") == 0)
			check_superuser_option(def, "Ask a superuser to set \"proxy\"; without it, proxies of the server's environment are not used.");
		else if (strcmp(def->defname, "token_file") == 0)
		{
			check_superuser_option(def, "Ask a superuser to set \"token_file\", or put the token in a user mapping.");
			if (defGetString(def)[0] != '/')
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("invalid value for option \"token_file\""),
						 errdetail("Give an absolute path of a file the PostgreSQL server can read.")));
			has_token_file = true;
		}
		else if (strcmp(def->defname, "token") == 0)
		{
			check_secret(def);
			has_token = catalog == ForeignServerRelationId;
			if (catalog == ForeignServerRelationId)
				ereport(WARNING,
						(errmsg("the Tempo token of a server is readable by every role"),
						 errdetail("Server options are visible to all roles in pg_foreign_server."),
						 errhint("Put the token in a user mapping instead (CREATE USER MAPPING FOR PUBLIC SERVER ... OPTIONS (token '...')), or, as a superuser, in a file named by the server option \"token_file\".")));
		}
		else if (strcmp(def->defname, "jira_token") == 0)
			check_secret(def);
		else if (strcmp(def->defname, "jira_email") == 0)
		{
			check_secret(def);
			if (strchr(defGetString(def), ':') != NULL)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("invalid value for option \"jira_email\""),
						 errdetail("A Jira e-mail address cannot contain \":\".")));
		}
		else if (strcmp(def->defname, "resource") == 0)
		{
			if (tempo_resource_by_name(defGetString(def)) == NULL)
			{
				StringInfoData buf;

				initStringInfo(&buf);
				for (int i = 0; i < tempo_resource_count(); i++)
					appendStringInfo(&buf, "%s%s", i > 0 ? ", " : "",
									 tempo_resource_at(i)->name);
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("invalid value for option \"resource\": \"%s\"",
								defGetString(def)),
						 errhint("Valid resources are: %s.", buf.data)));
			}
			has_resource = true;
		}
	}

	if (has_token && has_token_file)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a server takes \"token\" or \"token_file\", not both"),
				 errhint("Keep \"token_file\": the token then never enters the catalogs.")));

	if (catalog == ForeignTableRelationId && !has_resource)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_OPTION_NAME_NOT_FOUND),
				 errmsg("a tempo_fdw foreign table needs the option \"resource\""),
				 errhint("Add OPTIONS (resource 'worklogs'), or create the tables with IMPORT FOREIGN SCHEMA tempo FROM SERVER ... INTO ...")));

	PG_RETURN_VOID();
}

/*
 * check_url
 *		A Tempo or Jira base URL: http(s), a host, no credentials, an IP
 *		address only as inet_pton reads it, and plain http only to a
 *		loopback host (tests, local proxies).  A role that is not a
 *		superuser gets https to the hosts of tempo_fdw.allowed_hosts only
 *		(src/hosts.c).
 */
static void
check_url(DefElem *def)
{
	const char *url = defGetString(def);
	const char *p;
	const char *host;
	size_t		hostlen;
	bool		https = pg_strncasecmp(url, "https://", 8) == 0;
	bool		http = pg_strncasecmp(url, "http://", 7) == 0;

	if (!https && !http)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid value for option \"%s\": \"%s\"",
						def->defname, url),
				 errhint("Give an https:// URL, for example %s.",
						 strcmp(def->defname, "tempo_url") == 0
						 ? "'https://api.tempo.io/4'"
						 : "'https://acme.atlassian.net'")));

	host = url + (https ? 8 : 7);
	hostlen = strcspn(host, "/?#");
	for (p = url; *p; p++)
		if (isspace((unsigned char) *p) || iscntrl((unsigned char) *p))
			break;
	if (hostlen == 0 || *p != '\0' ||
		memchr(host, '@', hostlen) != NULL || strpbrk(url, "?#") != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid value for option \"%s\": \"%s\"",
						def->defname, url),
				 errdetail("The URL must name a host, and hold no credentials, spaces, query or fragment.")));

	tempo_host_check_literal(def->defname, url);
	if (!superuser())
		tempo_host_check_owner(def->defname, url, NULL);
	if (http && !tempo_url_is_loopback(url))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("option \"%s\" must use https", def->defname),
				 errdetail("Plain http:// is accepted only for loopback hosts (127.0.0.1, ::1, localhost)."),
				 errhint("Use %s.", strcmp(def->defname, "tempo_url") == 0
						 ? "'https://api.tempo.io/4'"
						 : "'https://<site>.atlassian.net'")));
}

/* An integer option within [min, max]. */
static int
int_option(DefElem *def, int min, int max)
{
	int			v;

	if (!parse_int(defGetString(def), &v, 0, NULL) || v < min || v > max)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid value for option \"%s\": \"%s\"",
						def->defname, defGetString(def)),
				 errhint("Give a whole number from %d to %d.", min, max)));
	return v;
}

/*
 * check_secret
 *		A credential goes into an HTTP header: refuse empty values and line
 *		breaks (header injection).  The value itself is never printed.
 */
static void
check_secret(DefElem *def)
{
	const char *v = defGetString(def);

	if (*v == '\0' || strpbrk(v, "\r\n") != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid value for option \"%s\"", def->defname),
				 errdetail("The value must be non-empty and on one line.")));
}

/*
 * check_superuser_option
 *		An option only a superuser may set (it reads a file, or steers where
 *		requests go), on one line.
 */
static void
check_superuser_option(DefElem *def, const char *hint)
{
	if (!superuser())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("only a superuser can set option \"%s\"", def->defname),
				 errhint("%s", hint)));
	check_secret(def);
}

/* Options of the user mapping for (user, server), or of PUBLIC's, or NIL. */
static List *
user_mapping_options(Oid userid, Oid serverid)
{
	HeapTuple	tp;
	List	   *result = NIL;

	tp = SearchSysCache2(USERMAPPINGUSERSERVER, ObjectIdGetDatum(userid),
						 ObjectIdGetDatum(serverid));
	if (!HeapTupleIsValid(tp))
		tp = SearchSysCache2(USERMAPPINGUSERSERVER, ObjectIdGetDatum(InvalidOid),
							 ObjectIdGetDatum(serverid));
	if (HeapTupleIsValid(tp))
	{
		bool		isnull;
		Datum		d = SysCacheGetAttr(USERMAPPINGUSERSERVER, tp,
										Anum_pg_user_mapping_umoptions,
										&isnull);

		if (!isnull)
			result = untransformRelOptions(d);
		ReleaseSysCache(tp);
	}
	return result;
}

/* A copy of a URL option without trailing slashes. */
static char *
trimmed_url(DefElem *def)
{
	char	   *s = pstrdup(defGetString(def));
	size_t		n = strlen(s);

	while (n > 0 && s[n - 1] == '/')
		s[--n] = '\0';
	return s;
}

/*
 * tempo_get_options
 *		All options of a scan: defaults, then the server's, then the user
 *		mapping's (the user's own, else PUBLIC's), then the table's.  A
 *		user-mapping token wins over a server token.  The URLs of a server
 *		whose owner is not a superuser must pass src/hosts.c's policy.  foreigntableid may be
 *		InvalidOid for server-level work (IMPORT, connection checks).
 */
TempoFdwOptions *
tempo_get_options(Oid foreigntableid, Oid serverid, Oid userid)
{
	TempoFdwOptions *o = palloc0(sizeof(TempoFdwOptions));
	ForeignServer *server = GetForeignServer(serverid);
	ListCell   *lc;

	o->tempo_url = TEMPO_DEFAULT_URL;
	o->fallback = TEMPO_FALLBACK_AUTO;
	o->timeout_ms = TEMPO_DEFAULT_TIMEOUT_MS;
	o->connect_timeout_ms = TEMPO_DEFAULT_CONNECT_TIMEOUT_MS;
	o->max_retries = TEMPO_DEFAULT_MAX_RETRIES;
	o->page_size = TEMPO_DEFAULT_PAGE_SIZE;
	o->max_concurrency = TEMPO_DEFAULT_MAX_CONCURRENCY;
	o->max_requests_per_second = TEMPO_DEFAULT_RPS;
	o->max_response_bytes = TEMPO_DEFAULT_MAX_RESPONSE_BYTES;
	o->ssl_verify = true;
	o->resource = TEMPO_RES_WORKLOGS;
	o->trusted_owner = superuser_arg(server->owner);
	o->servername = server->servername;

	foreach(lc, server->options)
	{
		DefElem    *def = (DefElem *) lfirst(lc);

		if (strcmp(def->defname, "tempo_url") == 0)
			o->tempo_url = trimmed_url(def);
		else if (strcmp(def->defname, "jira_url") == 0)
			o->jira_url = trimmed_url(def);
		else if (strcmp(def->defname, "fallback") == 0)
			o->fallback = strcmp(defGetString(def), "off") == 0
				? TEMPO_FALLBACK_OFF : TEMPO_FALLBACK_JIRA;
		else if (strcmp(def->defname, "timeout_ms") == 0)
			o->timeout_ms = int_option(def, 1, INT_MAX);
		else if (strcmp(def->defname, "connect_timeout_ms") == 0)
			o->connect_timeout_ms = int_option(def, 1, INT_MAX);
		else if (strcmp(def->defname, "max_retries") == 0)
			o->max_retries = int_option(def, 0, 100);
		else if (strcmp(def->defname, "page_size") == 0)
			o->page_size = int_option(def, 1, TEMPO_MAX_PAGE_SIZE);
		else if (strcmp(def->defname, "max_concurrency") == 0)
			o->max_concurrency = int_option(def, 1, 64);
		else if (strcmp(def->defname, "max_requests_per_second") == 0)
			(void) parse_real(defGetString(def), &o->max_requests_per_second,
							  0, NULL);
		else if (strcmp(def->defname, "max_response_bytes") == 0)
			o->max_response_bytes = int_option(def, 1024, INT_MAX);
		else if (strcmp(def->defname, "ssl_verify") == 0)
			o->ssl_verify = defGetBoolean(def);
		else if (strcmp(def->defname, "token") == 0)
		{
			o->token = defGetString(def);
			o->token_from_server = true;
		}
		else if (strcmp(def->defname, "token_file") == 0)
			o->token_file = defGetString(def);
		else if (strcmp(def->defname, "proxy") == 0)
			o->proxy = defGetString(def);
	}

	foreach(lc, user_mapping_options(userid, serverid))
	{
		DefElem    *def = (DefElem *) lfirst(lc);

		if (strcmp(def->defname, "token") == 0)
		{
			o->token = defGetString(def);
			o->token_from_server = false;
		}
		else if (strcmp(def->defname, "jira_email") == 0)
			o->jira_email = defGetString(def);
		else if (strcmp(def->defname, "jira_token") == 0)
			o->jira_token = defGetString(def);
	}

	if (OidIsValid(foreigntableid))
	{
		ForeignTable *table = GetForeignTable(foreigntableid);

		foreach(lc, table->options)
		{
			DefElem    *def = (DefElem *) lfirst(lc);

			if (strcmp(def->defname, "resource") == 0)
			{
				const TempoResourceDef *r = tempo_resource_by_name(defGetString(def));

				if (r == NULL)
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("invalid value for option \"resource\": \"%s\"",
									defGetString(def))));
				o->resource = r->resource;
			}
		}
	}

	/* the credentials are zeroed when the memory of these options goes */
	tempo_forget_on_reset(CurrentMemoryContext, o->token);
	tempo_forget_on_reset(CurrentMemoryContext, o->jira_token);

	/* a server of a role that is not a superuser: checked at each use */
	if (!o->trusted_owner)
	{
		tempo_host_check_owner("tempo_url", o->tempo_url, server->servername);
		if (o->jira_url)
			tempo_host_check_owner("jira_url", o->jira_url, server->servername);
	}

	if (o->fallback == TEMPO_FALLBACK_AUTO)
		o->fallback = (o->jira_url && o->jira_email && o->jira_token)
			? TEMPO_FALLBACK_JIRA : TEMPO_FALLBACK_OFF;

	return o;
}
