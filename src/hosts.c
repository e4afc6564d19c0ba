/*-------------------------------------------------------------------------
 *
 * hosts.c
 *		  Which hosts a server may reach: the policy against server-side
 *		  request forgery.
 *
 * A role with USAGE on the wrapper can create a server and aim it at any
 * URL; the backend then connects as the database server, from inside its
 * network.  So:
 *	- plain http:// is for superusers only, and only to loopback hosts
 *	  (the tests' simulator, local proxies), like ssl_verify 'false';
 *	- a server whose owner is not a superuser reaches only the https hosts
 *	  that match tempo_fdw.allowed_hosts (superuser-set; by default Tempo's
 *	  and Atlassian's API hosts).  This is checked when the options are set
 *	  by such a role, and again each time the server is used (a superuser
 *	  may have handed the server over, or narrowed the list since);
 *	- a host that reads as an IP address (its last label starts with a
 *	  digit) must be one in inet_pton's strict form, and an IPv6 literal in
 *	  brackets must parse: "127.999.999.999", "2130706433" or "0x7f.1"
 *	  never go to the resolver, where they could mean anything;
 *	- error bodies are shown only for Tempo's and Atlassian's hosts and for
 *	  servers of superusers (tempo_host_shows_bodies), so that a server
 *	  aimed elsewhere cannot be used to read other services' answers.
 *
 * Copyright (c) 2026, tempo_fdw developers
 *
 * IDENTIFICATION
 *		  src/hosts.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <arpa/inet.h>
#include <ctype.h>

#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/guc.h"

#include "options.h"

/* Hosts whose error bodies are shown to everyone: the real APIs */
#define API_HOSTS "*.tempo.io, *.atlassian.net"

/* tempo_fdw.allowed_hosts (tempo_fdw.c defines it) */
char	   *tempo_allowed_hosts = NULL;

/*
 * url_host
 *		The host of a URL, lower-cased, without brackets (into *bracketed),
 *		or NULL when there is none.
 */
static char *
url_host(const char *url, bool *bracketed)
{
	const char *p = strstr(url, "://");
	size_t		len;
	char	   *host;

	*bracketed = false;
	if (p == NULL)
		return NULL;
	p += 3;
	if (*p == '[')
	{
		const char *end = strchr(p, ']');

		if (end == NULL)
			return NULL;
		*bracketed = true;
		host = pnstrdup(p + 1, end - p - 1);
	}
	else
	{
		len = strcspn(p, ":/?#");
		host = pnstrdup(p, len);
	}
	for (char *c = host; *c; c++)
		*c = pg_tolower((unsigned char) *c);
	return host[0] ? host : NULL;
}

/* Does the host read as an IPv4 address (its last label starts with a digit)? */
static bool
looks_numeric(const char *host)
{
	const char *last = strrchr(host, '.');

	last = last ? last + 1 : host;
	if (*last == '\0' && last > host)
	{
		/* a trailing dot: look at the label before it */
		const char *q = last - 1;

		while (q > host && q[-1] != '.')
			q--;
		last = q;
	}
	return isdigit((unsigned char) *last);
}

/*
 * tempo_host_check_literal
 *		ERROR when the URL's host is an IP address that inet_pton does not
 *		take as it is written (it would go to the resolver instead).
 */
void
tempo_host_check_literal(const char *option, const char *url)
{
	bool		bracketed;
	char	   *host = url_host(url, &bracketed);
	unsigned char addr[16];

	if (host == NULL)
		return;					/* check_url refuses it */
	if (bracketed ? inet_pton(AF_INET6, host, addr) == 1
		: (!looks_numeric(host) || inet_pton(AF_INET, host, addr) == 1))
		return;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid value for option \"%s\": the host is not a valid IP address", option),
			 errdetail("An IPv4 address must have four decimal parts from 0 to 255, an IPv6 address must be in brackets; it is never looked up by name.")));
}

/*
 * tempo_url_is_loopback
 *		Does the URL's host name this machine: 127.0.0.0/8 or ::1 (parsed
 *		with inet_pton), or localhost?
 */
bool
tempo_url_is_loopback(const char *url)
{
	bool		bracketed;
	char	   *host = url_host(url, &bracketed);
	unsigned char addr[16];
	static const unsigned char v6_loopback[16] = {0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 1};

	if (host == NULL)
		return false;
	if (bracketed)
		return inet_pton(AF_INET6, host, addr) == 1 &&
			memcmp(addr, v6_loopback, 16) == 0;
	if (strcmp(host, "localhost") == 0)
		return true;
	return inet_pton(AF_INET, host, addr) == 1 && addr[0] == 127;
}

/*
 * host_matches
 *		Does host match one of the patterns of a list ("*", "name",
 *		"*.domain": any name below domain), separated by commas or spaces?
 */
static bool
host_matches(const char *host, const char *list)
{
	const char *p = list;
	size_t		hlen = strlen(host);

	while (*p)
	{
		size_t		n;

		p += strspn(p, ", \t");
		n = strcspn(p, ", \t");
		if (n == 1 && p[0] == '*')
			return true;
		if (n > 2 && p[0] == '*' && p[1] == '.')
		{
			/* "*.domain": host ends in ".domain", with a name before */
			if (hlen > n - 1 && pg_strncasecmp(host + hlen - (n - 1), p + 1, n - 1) == 0)
				return true;
		}
		else if (n > 0 && n == hlen && pg_strncasecmp(host, p, n) == 0)
			return true;
		p += n;
	}
	return false;
}

/*
 * tempo_allowed_hosts_check
 *		GUC check hook: a list of "*", names and "*.domain" patterns.
 */
bool
tempo_allowed_hosts_check(char **newval, void **extra, GucSource source)
{
	const char *p = *newval ? *newval : "";

	while (*p)
	{
		size_t		n;

		p += strspn(p, ", \t");
		n = strcspn(p, ", \t");
		for (size_t i = 0; i < n; i++)
		{
			char		c = p[i];

			if (!(isalnum((unsigned char) c) || c == '-' || c == '.' || c == ':' ||
				  (c == '*' && i == 0 && (n == 1 || p[1] == '.'))))
			{
				GUC_check_errdetail("Give host names, \"*.domain\" patterns or \"*\", separated by commas.");
				return false;
			}
		}
		p += n;
	}
	return true;
}

/*
 * tempo_host_check_owner
 *		For a server whose owner is not a superuser (or a non-superuser
 *		setting its options): ERROR unless the URL is https to a host of
 *		tempo_fdw.allowed_hosts.  option names the option, server the
 *		server (NULL while its options are being set); the host itself is
 *		never printed at use time.
 */
void
tempo_host_check_owner(const char *option, const char *url, const char *server)
{
	bool		bracketed;
	char	   *host = url_host(url, &bracketed);

	if (pg_strncasecmp(url, "https://", 8) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 server
				 ? errmsg("the \"%s\" of server \"%s\" uses plain http, and its owner is not a superuser",
						  option, server)
				 : errmsg("only a superuser can use plain http:// in option \"%s\"", option),
				 errhint("Use https://, or ask a superuser to own the server.")));
	if (host == NULL || !host_matches(host, tempo_allowed_hosts ? tempo_allowed_hosts : ""))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 server
				 ? errmsg("the \"%s\" of server \"%s\" is not in tempo_fdw.allowed_hosts, and its owner is not a superuser",
						  option, server)
				 : errmsg("the host of option \"%s\" is not in tempo_fdw.allowed_hosts", option),
				 errdetail("Servers owned by roles that are not superusers reach only the hosts of tempo_fdw.allowed_hosts (now \"%s\").",
						   tempo_allowed_hosts ? tempo_allowed_hosts : ""),
				 errhint("Ask a superuser to add the host to tempo_fdw.allowed_hosts, or to own the server.")));
}

/*
 * tempo_host_shows_bodies
 *		May an error show the body an answer from this URL carried?  Only
 *		for Tempo's and Atlassian's hosts, or on a superuser's server.
 */
bool
tempo_host_shows_bodies(const char *url, bool trusted_owner)
{
	bool		bracketed;
	char	   *host;

	if (trusted_owner)
		return true;
	host = url_host(url, &bracketed);
	return host != NULL && !bracketed && pg_strncasecmp(url, "https://", 8) == 0 &&
		host_matches(host, API_HOSTS);
}

/* The host of a proxy setting: a URL, or host[:port] without a scheme. */
static char *
proxy_host(const char *proxy)
{
	bool		bracketed;
	size_t		len;

	if (strstr(proxy, "://") != NULL)
		return url_host(proxy, &bracketed);
	len = strcspn(proxy, ":/?#");
	return len > 0 ? pnstrdup(proxy, len) : NULL;
}

/* Can c be part of a host name (so a match next to it is not the host)? */
static bool
host_char(char c)
{
	return isalnum((unsigned char) c) || c == '.' || c == '-' || c == '_';
}

/*
 * Replace each occurrence of host in buf (case-insensitively, as a whole
 * name) by "<host>".
 */
static void
hide_host(char *buf, size_t size, const char *host)
{
	size_t		hlen = strlen(host);
	StringInfoData out;
	const char *p = buf;

	initStringInfo(&out);
	while (*p)
	{
		if (pg_strncasecmp(p, host, hlen) == 0 &&
			(p == buf || !host_char(p[-1])) && !host_char(p[hlen]))
		{
			appendStringInfoString(&out, "<host>");
			p += hlen;
		}
		else
			appendStringInfoChar(&out, *p++);
	}
	strlcpy(buf, out.data, size);
	pfree(out.data);
}

/*
 * tempo_hide_hosts
 *		In libcurl's error text buf (of size size), the host of url and of
 *		proxy (NULL: none) become "<host>": a message names a request by its
 *		method and path, never by its host ("Failed to connect to <host>
 *		port 443 after 3 ms").
 */
void
tempo_hide_hosts(char *buf, size_t size, const char *url, const char *proxy)
{
	bool		bracketed;
	char	   *host;

	if (buf[0] == '\0')
		return;
	if (url != NULL && (host = url_host(url, &bracketed)) != NULL)
	{
		hide_host(buf, size, host);
		pfree(host);
	}
	if (proxy != NULL && proxy[0] != '\0' && (host = proxy_host(proxy)) != NULL)
	{
		hide_host(buf, size, host);
		pfree(host);
	}
}
