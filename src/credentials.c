/*-------------------------------------------------------------------------
 *
 * credentials.c
 *		  Credentials: the Authorization headers made of the options, the
 *		  token read from a server's token_file, and buffers holding a
 *		  secret zeroed when their memory goes.
 *
 * tempo_forget_on_reset is the other half of keeping secrets (redact.c is
 * the first): a buffer that holds a token or a Basic credential (an
 * option's value, an Authorization header) is zeroed when its memory
 * context goes, also when an ERROR unwinds the query.
 *
 * Used by option.c, redact.c, the pager, twins.c and check.c; uses
 * nothing of the extension but options.h's types.
 *
 * Copyright (c) 2026, tempo_fdw developers
 *
 * IDENTIFICATION
 *		  src/credentials.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>

#include "common/base64.h"
#include "storage/fd.h"
#include "utils/memutils.h"

#include "options.h"

/*
 * tempo_bearer_auth
 *		"Authorization: Bearer token", for Tempo.
 */
char *
tempo_bearer_auth(const char *token)
{
	return tempo_secret_cat("Authorization: Bearer ", token, "");
}

/*
 * tempo_basic_auth
 *		"Authorization: Basic base64(email:token)", for Jira.
 */
char *
tempo_basic_auth(const char *email, const char *token)
{
	char	   *plain = tempo_secret_cat(email, ":", token);
	int			len = strlen(plain);
	int			enclen = pg_b64_enc_len(len);
	char	   *enc = palloc(enclen + 1);
	int			n = TEMPO_B64_ENCODE(plain, len, enc, enclen);
	char	   *header;

	explicit_bzero(plain, len);
	pfree(plain);
	if (n < 0)
		elog(ERROR, "could not encode Jira credentials");
	enc[n] = '\0';
	header = tempo_secret_cat("Authorization: Basic ", enc, "");
	explicit_bzero(enc, enclen + 1);
	pfree(enc);
	return header;
}

/*
 * tempo_read_token_file
 *		When no token came from a user mapping and the server names a
 *		token_file, read the token from it (now: when a connection is made,
 *		so a new token in the file is used by the next scan).  Only for a
 *		server owned by a superuser: another owner could aim it elsewhere.
 *		The buffers are zeroed when freed.
 */
void
tempo_read_token_file(TempoFdwOptions *o)
{
	char		buf[TEMPO_MAX_TOKEN_BYTES + 2];
	const char *servername = o->servername;
	FILE	   *f;
	size_t		n;

	if (o->token != NULL || o->token_file == NULL)
		return;
	if (!o->trusted_owner)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("the \"token_file\" of server \"%s\" is not used: its owner is not a superuser",
						servername),
				 errhint("Ask a superuser to own the server, or put the token in a user mapping.")));
	f = AllocateFile(o->token_file, "r");
	if (f == NULL)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not open the \"token_file\" of server \"%s\": %m", servername)));
	/* unbuffered: stdio would keep a copy in a buffer it frees unzeroed */
	setvbuf(f, NULL, _IONBF, 0);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	if (ferror(f))
	{
		explicit_bzero(buf, sizeof(buf));
		FreeFile(f);
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not read the \"token_file\" of server \"%s\": %m", servername)));
	}
	FreeFile(f);
	buf[n] = '\0';
	while (n > 0 && isspace((unsigned char) buf[n - 1]))
		buf[--n] = '\0';
	if (n == 0 || n > TEMPO_MAX_TOKEN_BYTES || strpbrk(buf, "\r\n") != NULL ||
		strlen(buf) != n)
	{
		explicit_bzero(buf, sizeof(buf));
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the \"token_file\" of server \"%s\" does not hold a token", servername),
				 errdetail("The file must hold the token on one line (at most %d bytes).",
						   TEMPO_MAX_TOKEN_BYTES)));
	}
	o->token = pstrdup(buf);
	o->token_from_server = true;
	explicit_bzero(buf, sizeof(buf));
	tempo_forget_on_reset(CurrentMemoryContext, o->token);
}

/*
 * tempo_secret_cat
 *		a, b and c joined, in one palloc of the exact size: unlike psprintf,
 *		which may format into a first buffer that is too short and pfree it
 *		unzeroed, no partial copy of a secret is left behind.
 */
char *
tempo_secret_cat(const char *a, const char *b, const char *c)
{
	size_t		la = strlen(a);
	size_t		lb = strlen(b);
	size_t		lc = strlen(c);
	char	   *s = palloc(la + lb + lc + 1);

	memcpy(s, a, la);
	memcpy(s + la, b, lb);
	memcpy(s + la + lb, c, lc);
	s[la + lb + lc] = '\0';
	return s;
}

/* The reset callback of tempo_forget_on_reset: zero the string. */
static void
forget_secret(void *arg)
{
	char	   *s = (char *) arg;

	explicit_bzero(s, strlen(s));
}

/*
 * tempo_forget_on_reset
 *		Zero the string s (a secret, allocated in cxt or in a context that
 *		outlives it) when cxt is reset or deleted.  s must not be pfree'd
 *		before.
 */
void
tempo_forget_on_reset(MemoryContext cxt, char *s)
{
	MemoryContextCallback *cb;

	if (s == NULL)
		return;
	cb = MemoryContextAlloc(cxt, sizeof(MemoryContextCallback));
	cb->func = forget_secret;
	cb->arg = s;
	MemoryContextRegisterResetCallback(cxt, cb);
}
