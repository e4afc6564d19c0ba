/*-------------------------------------------------------------------------
 *
 * url.c
 *		  URL helpers: the path of a URL (what messages and EXPLAIN show),
 *		  whether two URLs share an origin, percent-encoding.
 *
 * Used by pushdown.c (the paths of the streams), the pager and twins.c
 * (links), http.c, check.c and the scan; uses nothing of the extension.
 *
 * Copyright (c) 2026, tempo_fdw developers
 *
 * IDENTIFICATION
 *		  src/url.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>

#include "lib/stringinfo.h"

#include "options.h"

/* Length of "scheme://authority" at the start of url, or 0. */
static size_t
origin_length(const char *url)
{
	const char *p = strstr(url, "://");

	if (p == NULL)
		return 0;
	p += 3;
	return (p - url) + strcspn(p, "/?#");
}

/*
 * tempo_url_path
 *		The path and query of a URL, without scheme, host or port: what
 *		messages and EXPLAIN show.
 */
char *
tempo_url_path(const char *url)
{
	const char *rest = url + origin_length(url);

	return pstrdup(*rest ? rest : "/");
}

/*
 * tempo_same_origin
 *		Do two URLs share scheme, host and port?  A paging link that does not
 *		is never followed: it would send the token elsewhere.
 */
bool
tempo_same_origin(const char *base, const char *url)
{
	size_t		n = origin_length(base);

	return n > 0 && n == origin_length(url) && pg_strncasecmp(base, url, n) == 0;
}

/*
 * tempo_url_encode
 *		Percent-encode everything but RFC 3986's unreserved characters (and,
 *		in a path segment, ':' and '@', which a segment may hold as they are:
 *		account ids such as 712020:8cd7... then reach servers that do not
 *		decode %3A).
 */
char *
tempo_url_encode(const char *s, bool segment)
{
	StringInfoData buf;

	initStringInfo(&buf);
	for (const unsigned char *p = (const unsigned char *) s; *p; p++)
	{
		if (isalnum(*p) || *p == '-' || *p == '.' || *p == '_' || *p == '~' ||
			(segment && (*p == ':' || *p == '@')))
			appendStringInfoChar(&buf, (char) *p);
		else
			appendStringInfo(&buf, "%%%02X", *p);
	}
	return buf.data;
}
