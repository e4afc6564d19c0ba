/*-------------------------------------------------------------------------
 *
 * redact.c
 *		  Text that came from a server, made safe for a message.
 *
 * Error bodies, values of rows that are not what the API documents, row
 * ids and paging links are the server's text: they may echo a credential,
 * be 100 MB long, or hold line breaks that would forge lines in the server
 * log.  Every piece of such text goes through tempo_server_text before it
 * reaches errmsg, errdetail or errcontext:
 *	- the credentials (token, Jira token, "email:token" and its base64, the
 *	  credential of the Authorization header as sent) are blotted out
 *	  first, over the whole window that is kept plus the longest secret,
 *	  so a secret cut by the excerpt's end cannot leak its prefix;
 *	- then the text is cut at TEMPO_SERVER_TEXT_MAX bytes (on a character
 *	  boundary, "..." after it);
 *	- control characters become escapes (\n, \r, \t, \xNN), and so do bytes
 *	  that are not valid UTF-8 in a UTF-8 database (all non-ASCII bytes in
 *	  other encodings), so the result is valid in the database encoding.
 * The temporary copies of the secrets are zeroed before they are freed.
 * The other half of keeping secrets, buffers zeroed when their memory
 * goes, is in credentials.c.
 *
 * Copyright (c) 2026, tempo_fdw developers
 *
 * IDENTIFICATION
 *		  src/redact.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "mb/pg_wchar.h"
#include "utils/memutils.h"

#include "options.h"

/* The secrets of a request: at most this many */
#define MAX_SECRETS 5

/* Free a secret's copy, zeroed first. */
static void
free_secret(char *s)
{
	if (s != NULL)
	{
		explicit_bzero(s, strlen(s));
		pfree(s);
	}
}

/*
 * collect_secrets
 *		Copies of the credentials of opts and of the Authorization header
 *		auth (may be NULL); returns how many.  free_secret each.
 */
static int
collect_secrets(const TempoFdwOptions *opts, const char *auth, char **secrets)
{
	int			n = 0;
	const char *cred;

	if (opts && opts->token && opts->token[0])
		secrets[n++] = pstrdup(opts->token);
	if (opts && opts->jira_token && opts->jira_token[0])
		secrets[n++] = pstrdup(opts->jira_token);
	if (opts && opts->jira_email && opts->jira_token)
	{
		char	   *basic = tempo_basic_auth(opts->jira_email, opts->jira_token);

		secrets[n++] = tempo_secret_cat(opts->jira_email, ":", opts->jira_token);
		secrets[n++] = pstrdup(strrchr(basic, ' ') + 1);
		free_secret(basic);
	}
	/* "Authorization: Bearer x" or "Authorization: Basic y": x or y */
	if (auth && (cred = strrchr(auth, ' ')) != NULL && cred[1])
		secrets[n++] = pstrdup(cred + 1);
	return n;
}

/* Blot out every occurrence of secret in buf[0..len). */
static void
blot(char *buf, size_t len, const char *secret)
{
	size_t		n = strlen(secret);

	if (n == 0 || n > len)
		return;
	for (size_t i = 0; i + n <= len; i++)
		if (buf[i] == secret[0] && memcmp(buf + i, secret, n) == 0)
		{
			memset(buf + i, '*', n);
			i += n - 1;
		}
}

/* Bytes of a valid UTF-8 character at s (at most left), or 0. */
static int
utf8_char(const unsigned char *s, size_t left)
{
	int			n = pg_utf_mblen(s);

	if (n < 2 || (size_t) n > left || !pg_utf8_islegal(s, n))
		return 0;
	return n;
}

/*
 * tempo_server_text
 *		len bytes of a server's text s as a palloc'd string fit for a
 *		message: credentials of opts and auth (may be NULL) blotted out,
 *		cut at TEMPO_SERVER_TEXT_MAX bytes, control characters and invalid
 *		bytes escaped.
 */
char *
tempo_server_text(const TempoFdwOptions *opts, const char *auth,
				  const char *s, size_t len)
{
	char	   *secrets[MAX_SECRETS];
	int			nsecrets = collect_secrets(opts, auth, secrets);
	size_t		longest = 0;
	size_t		window;
	size_t		keep;
	char	   *buf;
	bool		utf8 = GetDatabaseEncoding() == PG_UTF8;
	StringInfoData out;

	for (int i = 0; i < nsecrets; i++)
		longest = Max(longest, strlen(secrets[i]));
	if (s == NULL)
		len = 0;
	window = Min(len, TEMPO_SERVER_TEXT_MAX + longest);
	buf = palloc(window + 1);
	if (window > 0)
		memcpy(buf, s, window);
	buf[window] = '\0';
	for (int i = 0; i < nsecrets; i++)
	{
		blot(buf, window, secrets[i]);
		free_secret(secrets[i]);
	}

	keep = Min(window, TEMPO_SERVER_TEXT_MAX);
	initStringInfo(&out);
	for (size_t i = 0; i < keep;)
	{
		unsigned char c = (unsigned char) buf[i];
		int			n = c >= 0x80 && utf8 ? utf8_char((unsigned char *) buf + i, keep - i) : 1;

		if (c == '\n')
			appendStringInfoString(&out, "\\n");
		else if (c == '\r')
			appendStringInfoString(&out, "\\r");
		else if (c == '\t')
			appendStringInfoString(&out, "\\t");
		else if (c < 0x20 || c == 0x7f || (c >= 0x80 && n == 0) || (c >= 0x80 && !utf8))
			appendStringInfo(&out, "\\x%02X", c);
		else
		{
			appendBinaryStringInfo(&out, buf + i, n);
			i += n;
			continue;
		}
		i++;
	}
	if (len > keep)
		appendStringInfoString(&out, "...");
	explicit_bzero(buf, window);
	pfree(buf);
	return out.data;
}
