/*-------------------------------------------------------------------------
 *
 * jsonpage.c
 *		  The PostgreSQL-free half of turning a response page into rows.
 *
 * json.c converts a page of Tempo or Jira worklogs into Datums; everything
 * in that work that needs no PostgreSQL lives here, in plain C, so that it
 * can be fuzzed on its own (test/fuzz/fuzz_page.c) with the sanitizers:
 *
 * - tempo_sanitize_json rewrites, in place, the escapes PostgreSQL text
 *   cannot hold (\u0000, lone UTF-16 surrogates) into \uFFFD, and \u
 *   escapes without four hex digits (which cJSON would read as U+0000)
 *   into escapes cJSON refuses;
 * - tempo_json_parse parses a body with cJSON into an arena whose blocks
 *   come from the caller's allocator (a memory context in the backend).
 *   cJSON's allocation hooks are process-wide: they point at the arena for
 *   the length of the parse only;
 * - the strict readers of dates (YYYY-MM-DD, checked against the month's
 *   length in leap years too), times (HH:MM:SS[.ffffff]), ISO 8601
 *   timestamps with a zone, and integers (JSON numbers that are exact in a
 *   double, or strings of digits) answer true or false and leave the
 *   PostgreSQL types to json.c;
 * - the work attribute map ([{key, value}] as {key: value}) and the
 *   flattening of Atlassian Document Format write into a TempoJsonBuf.
 *
 * No function here longjmps or raises an error: each answers with a status,
 * and memory comes from the TempoJsonAlloc the caller passes (which must
 * not longjmp either).
 *
 * Copyright (c) 2026, tempo_fdw developers
 *
 * IDENTIFICATION
 *		  src/jsonpage.c
 *
 *-------------------------------------------------------------------------
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonpage.h"

/* Alignment of what the arena hands out (PostgreSQL's MAXALIGN on 64 bits) */
typedef union ArenaAlign
{
	void	   *p;
	double		d;
	long long	ll;
} ArenaAlign;

#define ARENA_ALIGN		sizeof(ArenaAlign)
#define ARENA_ROUND(n)	(((n) + ARENA_ALIGN - 1) & ~(size_t) (ARENA_ALIGN - 1))

/* The head of each block of an arena */
typedef struct ArenaBlock
{
	struct ArenaBlock *next;	/* the block allocated before */
	size_t		size;			/* bytes, this head included */
} ArenaBlock;

#define BLOCK_HEADER	ARENA_ROUND(sizeof(ArenaBlock))

/* Days of the months, in common and in leap years */
static const int month_days[2][12] = {
	{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31},
	{31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}
};

/* The arena cJSON allocates from while a page is parsed */
static TempoJsonArena *current_arena = NULL;

/*
 * tempo_sanitize_json
 *		Replace, in place, every \u0000 escape and every lone surrogate
 *		escape inside a JSON string with \uFFFD (same length), and make a
 *		\u escape without four hex digits one that cJSON refuses.
 */
void
tempo_sanitize_json(char *s, size_t len)
{
	/*
	 * A backslash stands only inside a string in JSON (anywhere else cJSON
	 * refuses the document whatever happens here), so memchr from one to the
	 * next is enough: no need to follow where strings start and end.
	 */
	for (size_t i = 0; i < len; i++)
	{
		char	   *p = memchr(s + i, '\\', len - i);
		long		cp;
		char		hex[5];

		if (p == NULL)
			break;
		i = p - s;
		if (i + 1 >= len)
			continue;
		if (s[i + 1] != 'u' || i + 5 >= len)
		{
			i++;				/* skip the escaped character */
			continue;
		}
		memcpy(hex, s + i + 2, 4);
		hex[4] = '\0';
		if (strspn(hex, "0123456789abcdefABCDEF") != 4)
		{
			/*
			 * Not four hex digits: not JSON, but cJSON would read U+0000 and
			 * cut the string short there.  An escape it refuses makes it
			 * refuse the document.
			 */
			s[i + 1] = '?';
			i++;
			continue;
		}
		cp = strtol(hex, NULL, 16);
		if (cp >= 0xD800 && cp <= 0xDBFF && i + 11 < len &&
			s[i + 6] == '\\' && s[i + 7] == 'u')
		{
			long		lo;

			memcpy(hex, s + i + 8, 4);
			lo = strspn(hex, "0123456789abcdefABCDEF") == 4 ? strtol(hex, NULL, 16) : -1;
			if (lo >= 0xDC00 && lo <= 0xDFFF)
			{
				i += 11;		/* a proper pair */
				continue;
			}
		}
		if (cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF))
			memcpy(s + i + 2, "FFFD", 4);
		i += 5;
	}
}

/*
 * tempo_json_arena_init
 *		An empty arena taking blocks of block_size bytes (or more, for a
 *		larger allocation) from alloc.
 */
void
tempo_json_arena_init(TempoJsonArena *arena, const TempoJsonAlloc *alloc,
					  size_t block_size)
{
	arena->alloc = *alloc;
	arena->block_size = block_size;
	arena->blocks = NULL;
	arena->spare = NULL;
	arena->next = NULL;
	arena->avail = 0;
	arena->used = 0;
	arena->limit = 0;
	arena->stop_fn = NULL;
	arena->exhausted = false;
	arena->over_limit = false;
	arena->stopped = false;
}

/*
 * tempo_json_arena_set_limits
 *		The most bytes of blocks a page's tree may take (0: no limit), and a
 *		function asked at each new block whether to stop (NULL: never).
 */
void
tempo_json_arena_set_limits(TempoJsonArena *arena, size_t limit,
							bool (*stop_fn) (void))
{
	arena->limit = limit;
	arena->stop_fn = stop_fn;
}

/* Give back a chain of blocks (when the allocator can free). */
static void
free_blocks(TempoJsonArena *arena, ArenaBlock *b)
{
	while (b != NULL)
	{
		ArenaBlock *next = b->next;

		if (arena->alloc.free_fn)
			arena->alloc.free_fn(arena->alloc.ctx, b);
		b = next;
	}
}

/*
 * tempo_json_arena_rewind
 *		Empty the arena for the next page, keeping its usual-sized blocks
 *		(larger ones, made for one big value, are given back when the
 *		allocator can free).  Whatever was allocated from it before is gone.
 */
void
tempo_json_arena_rewind(TempoJsonArena *arena)
{
	ArenaBlock *b = arena->blocks;

	while (b != NULL)
	{
		ArenaBlock *next = b->next;

		if (b->size == arena->block_size + BLOCK_HEADER)
		{
			b->next = arena->spare;
			arena->spare = b;
		}
		else if (arena->alloc.free_fn)
			arena->alloc.free_fn(arena->alloc.ctx, b);
		b = next;
	}
	arena->blocks = NULL;
	arena->next = NULL;
	arena->avail = 0;
	arena->used = 0;
	arena->exhausted = false;
	arena->over_limit = false;
	arena->stopped = false;
}

/*
 * tempo_json_arena_release
 *		Give the arena's blocks back, when its allocator can free; with a
 *		memory context they go with the context.  The arena is empty after.
 */
void
tempo_json_arena_release(TempoJsonArena *arena)
{
	tempo_json_arena_rewind(arena);
	free_blocks(arena, arena->spare);
	arena->spare = NULL;
}

/* cJSON's malloc during a parse: NULL when out of memory. */
static void *CJSON_CDECL
arena_malloc(size_t n)
{
	TempoJsonArena *a = current_arena;
	char	   *p;

	if (a == NULL)
		return NULL;
	if (n > SIZE_MAX / 2)
	{
		a->exhausted = true;
		return NULL;
	}
	n = n == 0 ? ARENA_ALIGN : ARENA_ROUND(n);
	if (n > a->avail)
	{
		size_t		size = (n > a->block_size ? n : a->block_size) + BLOCK_HEADER;
		ArenaBlock *b = a->spare;

		if (a->stop_fn != NULL && a->stop_fn())
		{
			a->stopped = a->exhausted = true;
			return NULL;
		}
		if (a->limit > 0 && size > a->limit - (a->used < a->limit ? a->used : a->limit))
		{
			a->over_limit = a->exhausted = true;
			return NULL;
		}
		if (b != NULL && size == b->size)
			a->spare = b->next;
		else if ((b = a->alloc.alloc_fn(a->alloc.ctx, size)) == NULL)
		{
			a->exhausted = true;
			return NULL;
		}
		b->size = size;
		b->next = a->blocks;
		a->blocks = b;
		a->used += size;
		a->next = (char *) b + BLOCK_HEADER;
		a->avail = size - BLOCK_HEADER;
	}
	p = a->next;
	a->next += n;
	a->avail -= n;
	return p;
}

/* cJSON's free during a parse: the arena is released as a whole. */
static void CJSON_CDECL
arena_free(void *p)
{
}

/*
 * tempo_json_parse
 *		cJSON_ParseWithLength with the tree in the arena.  On TEMPO_JSON_OK
 *		*root is the document; on TEMPO_JSON_INVALID *error_at is the byte
 *		offset where parsing stopped, or -1 if cJSON does not say.  A NUL
 *		byte in the document is TEMPO_JSON_INVALID too.  TEMPO_JSON_TOO_LARGE
 *		and TEMPO_JSON_INTERRUPTED: the arena's limit or stop function ended
 *		the parse.  Never cJSON_Delete the tree: release the arena.
 */
TempoJsonStatus
tempo_json_parse(const char *body, size_t len, TempoJsonArena *arena,
				 cJSON **root, long *error_at)
{
	cJSON_Hooks hooks = {arena_malloc, arena_free};
	cJSON	   *parsed;
	const char *end = NULL;
	const char *nul;

	*root = NULL;
	*error_at = -1;
	current_arena = arena;
	cJSON_InitHooks(&hooks);
	parsed = cJSON_ParseWithLengthOpts(body, len, &end, false);
	tempo_json_parse_abandon();

	if (arena->stopped)
		return TEMPO_JSON_INTERRUPTED;
	if (arena->over_limit)
		return TEMPO_JSON_TOO_LARGE;
	if (arena->exhausted)
		return TEMPO_JSON_NO_MEMORY;
	if (parsed == NULL)
	{
		const char *err = cJSON_GetErrorPtr();

		if (err != NULL && err >= body && err <= body + len)
			*error_at = (long) (err - body);
		return TEMPO_JSON_INVALID;
	}

	/*
	 * A NUL byte is not JSON, but cJSON takes it for white space between
	 * tokens and keeps it inside a string, which would cut the string short
	 * without a word: refuse the document instead.
	 */
	if (end == NULL || end < body || end > body + len)
		end = body + len;
	nul = memchr(body, '\0', (size_t) (end - body));
	if (nul != NULL)
	{
		*error_at = (long) (nul - body);
		return TEMPO_JSON_INVALID;
	}
	*root = parsed;
	return TEMPO_JSON_OK;
}

/*
 * tempo_json_parse_abandon
 *		Point cJSON's hooks back at malloc and free.  For a caller whose
 *		allocator left a parse by longjmp after all.
 */
void
tempo_json_parse_abandon(void)
{
	cJSON_InitHooks(NULL);
	current_arena = NULL;
}

/* The value at keys below obj, or NULL. */
cJSON *
tempo_json_follow(const cJSON *obj, int nkeys, const char *const *keys)
{
	cJSON	   *v = (cJSON *) obj;

	for (int i = 0; i < nkeys && v != NULL; i++)
		v = tempo_json_is(v, cJSON_Object) ? cJSON_GetObjectItemCaseSensitive(v, keys[i]) : NULL;
	return v;
}

/*
 * tempo_json_find_keys
 *		For each of keys (distinct), the first member of obj with that name,
 *		or NULL: what cJSON_GetObjectItemCaseSensitive finds, in one pass
 *		over the members for all keys instead of a pass per key.  The
 *		members of one page's objects come in the same order, so each is
 *		first compared with the key after the one its predecessor matched.
 */
void
tempo_json_find_keys(const cJSON *obj, int nkeys, const char *const *keys,
					 cJSON **found)
{
	int			nfound = 0;
	int			guess = 0;

	for (int i = 0; i < nkeys; i++)
		found[i] = NULL;
	if (!tempo_json_is(obj, cJSON_Object) || nkeys == 0)
		return;
	for (cJSON *m = obj->child; m != NULL && nfound < nkeys; m = m->next)
	{
		const char *name = m->string;

		if (name == NULL)
			continue;
		for (int t = 0; t < nkeys; t++)
		{
			int			j = guess + t < nkeys ? guess + t : guess + t - nkeys;

			if (keys[j][0] != name[0] || strcmp(keys[j], name) != 0)
				continue;
			if (found[j] == NULL)
			{
				found[j] = m;
				nfound++;
			}
			guess = j + 1 < nkeys ? j + 1 : 0;
			break;
		}
	}
}

/* Name of a JSON value's type, for messages ("null" for NULL too). */
const char *
tempo_json_type_name(const cJSON *v)
{
	if (cJSON_IsString(v))
		return "a string";
	if (cJSON_IsNumber(v))
		return "a number";
	if (cJSON_IsBool(v))
		return "a boolean";
	if (cJSON_IsArray(v))
		return "an array";
	if (cJSON_IsObject(v))
		return "an object";
	return "null";
}

/*
 * tempo_json_integer
 *		An integer in [min, max] from a JSON number that a double holds
 *		exactly (at most 2^53) or from a string of digits (Jira's ids).
 */
bool
tempo_json_integer(const cJSON *v, int64_t min, int64_t max, int64_t *out)
{
	if (tempo_json_is(v, cJSON_Number))
	{
		double		d = v->valuedouble;

		if (!isfinite(d) || d != floor(d) || fabs(d) > TEMPO_JSON_EXACT_INT_LIMIT ||
			d < (double) min || d > (double) max)
			return false;
		*out = (int64_t) d;
		return true;
	}
	if (tempo_json_is(v, cJSON_String) && v->valuestring != NULL)
	{
		char	   *end;
		long long	n;

		errno = 0;
		n = strtoll(v->valuestring, &end, 10);
		if (errno != 0 || end == v->valuestring || *end != '\0' ||
			n < min || n > max)
			return false;
		*out = n;
		return true;
	}
	return false;
}

/* n decimal digits at s (stopping at a NUL), into *out. */
static bool
digits(const char *s, int n, int *out)
{
	int			v = 0;

	for (int i = 0; i < n; i++)
	{
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

/*
 * tempo_json_parse_date
 *		"YYYY-MM-DD" at the start of s, a real day (leap years counted).
 *		What follows the ten characters is the caller's business.
 */
bool
tempo_json_parse_date(const char *s, int *year, int *month, int *day)
{
	int			y,
				m,
				d;
	bool		leap;

	if (!digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &m) ||
		s[7] != '-' || !digits(s + 8, 2, &d))
		return false;
	leap = (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0));
	if (m < 1 || m > 12 || d < 1 || d > month_days[leap][m - 1])
		return false;
	*year = y;
	*month = m;
	*day = d;
	return true;
}

/*
 * tempo_json_parse_time
 *		"HH:MM:SS[.fraction]" at s as microseconds since midnight (digits of
 *		the fraction past the sixth are ignored); *end is set past it.
 */
bool
tempo_json_parse_time(const char *s, int64_t *usecs, const char **end)
{
	int			h,
				mi,
				sec;
	int64_t		frac = 0;
	int			ndigits = 0;
	const char *p;

	if (!digits(s, 2, &h) || s[2] != ':' || !digits(s + 3, 2, &mi) ||
		s[5] != ':' || !digits(s + 6, 2, &sec))
		return false;
	if (h > 23 || mi > 59 || sec > 59)
		return false;
	p = s + 8;
	if (*p == '.')
	{
		for (p++; *p >= '0' && *p <= '9'; p++, ndigits++)
			if (ndigits < 6)
				frac = frac * 10 + (*p - '0');
		if (ndigits == 0)
			return false;
		for (int i = ndigits; i < 6; i++)
			frac *= 10;
	}
	*usecs = (((int64_t) h * 60 + mi) * 60 + sec) * INT64_C(1000000) + frac;
	*end = p;
	return true;
}

/*
 * tempo_json_parse_timestamp
 *		ISO 8601 with a zone: "YYYY-MM-DDTHH:MM:SS[.fff](Z|+HH:MM|+HHMM)",
 *		both Tempo's (Z) and Jira's (+0100) forms, as the local date, the
 *		microseconds of the local day and the zone's offset east of UTC in
 *		seconds (UTC = local - offset).
 */
bool
tempo_json_parse_timestamp(const char *s, int *year, int *month, int *day,
						   int64_t *usecs, int *offset_secs)
{
	int			y,
				m,
				d;
	int64_t		t;
	const char *p;
	int			oh = 0,
				om = 0;
	int			sign = 0;

	if (!tempo_json_parse_date(s, &y, &m, &d) || (s[10] != 'T' && s[10] != ' ') ||
		!tempo_json_parse_time(s + 11, &t, &p))
		return false;
	if (*p == 'Z' && p[1] == '\0')
		sign = 0;
	else if ((*p == '+' || *p == '-') && digits(p + 1, 2, &oh))
	{
		sign = (*p == '+') ? 1 : -1;
		p += 3;
		if (*p == ':')
			p++;
		if (!digits(p, 2, &om) || p[2] != '\0' || oh > 15 || om > 59)
			return false;
	}
	else
		return false;
	*year = y;
	*month = m;
	*day = d;
	*usecs = t;
	*offset_secs = sign * (oh * 3600 + om * 60);
	return true;
}

/*
 * tempo_json_buf_init
 *		An empty buffer taking memory from alloc.
 */
void
tempo_json_buf_init(TempoJsonBuf *buf, const TempoJsonAlloc *alloc)
{
	buf->alloc = *alloc;
	buf->data = NULL;
	buf->len = 0;
	buf->cap = 0;
	buf->failed = false;
}

/*
 * tempo_json_buf_free
 *		Give the buffer's memory back (if its allocator can free); the
 *		buffer is empty after.
 */
void
tempo_json_buf_free(TempoJsonBuf *buf)
{
	if (buf->data != NULL && buf->alloc.free_fn != NULL)
		buf->alloc.free_fn(buf->alloc.ctx, buf->data);
	buf->data = NULL;
	buf->len = 0;
	buf->cap = 0;
}

/* Room for more bytes and the NUL; false (and failed set) if none. */
static bool
buf_reserve(TempoJsonBuf *buf, size_t more)
{
	size_t		need;
	size_t		cap;
	char	   *data;

	if (buf->failed)
		return false;
	if (more > SIZE_MAX / 2 - buf->len)
	{
		buf->failed = true;
		return false;
	}
	need = buf->len + more + 1;
	if (need <= buf->cap)
		return true;
	cap = buf->cap ? buf->cap : 64;
	while (cap < need)
		cap *= 2;
	data = buf->alloc.alloc_fn(buf->alloc.ctx, cap);
	if (data == NULL)
	{
		buf->failed = true;
		return false;
	}
	if (buf->data != NULL)
	{
		memcpy(data, buf->data, buf->len + 1);
		if (buf->alloc.free_fn != NULL)
			buf->alloc.free_fn(buf->alloc.ctx, buf->data);
	}
	else
		data[0] = '\0';
	buf->data = data;
	buf->cap = cap;
	return true;
}

/* Append n bytes. */
static void
buf_append(TempoJsonBuf *buf, const char *s, size_t n)
{
	if (!buf_reserve(buf, n))
		return;
	memcpy(buf->data + buf->len, s, n);
	buf->len += n;
	buf->data[buf->len] = '\0';
}

/* Append a C string. */
static void
buf_append_str(TempoJsonBuf *buf, const char *s)
{
	buf_append(buf, s, strlen(s));
}

/* Append one character. */
static void
buf_append_char(TempoJsonBuf *buf, char c)
{
	buf_append(buf, &c, 1);
}

/* Append s as a JSON string literal, escaped as PostgreSQL's escape_json. */
static void
buf_append_json_string(TempoJsonBuf *buf, const char *s)
{
	buf_append_char(buf, '"');
	for (const char *p = s; *p; p++)
	{
		switch (*p)
		{
			case '\b':
				buf_append_str(buf, "\\b");
				break;
			case '\f':
				buf_append_str(buf, "\\f");
				break;
			case '\n':
				buf_append_str(buf, "\\n");
				break;
			case '\r':
				buf_append_str(buf, "\\r");
				break;
			case '\t':
				buf_append_str(buf, "\\t");
				break;
			case '"':
				buf_append_str(buf, "\\\"");
				break;
			case '\\':
				buf_append_str(buf, "\\\\");
				break;
			default:
				if ((unsigned char) *p < ' ')
				{
					char		esc[8];

					snprintf(esc, sizeof(esc), "\\u%04x", (int) *p);
					buf_append_str(buf, esc);
				}
				else
					buf_append_char(buf, *p);
				break;
		}
	}
	buf_append_char(buf, '"');
}

/*
 * tempo_json_attr_map
 *		Tempo's work attributes, an array of {"key": string, "value": any},
 *		as the text of a JSON object {key: value} (a missing value is null).
 *		TEMPO_JSON_INVALID when values is not an array (*bad_key = values)
 *		or an element has no string "key" (*bad_key = what it has, maybe
 *		NULL).  The caller frees out on every status.
 */
TempoJsonStatus
tempo_json_attr_map(const cJSON *values, TempoJsonBuf *out,
					const cJSON **bad_key)
{
	const cJSON *item;

	*bad_key = NULL;
	if (!cJSON_IsArray(values))
	{
		*bad_key = values;
		return TEMPO_JSON_INVALID;
	}
	buf_append_char(out, '{');
	cJSON_ArrayForEach(item, values)
	{
		const cJSON *key = cJSON_GetObjectItemCaseSensitive(item, "key");
		const cJSON *value = cJSON_GetObjectItemCaseSensitive(item, "value");

		if (!cJSON_IsString(key) || key->valuestring == NULL)
		{
			*bad_key = key;
			return TEMPO_JSON_INVALID;
		}
		if (out->len > 1)
			buf_append_char(out, ',');
		buf_append_json_string(out, key->valuestring);
		buf_append_char(out, ':');
		if (value != NULL)
		{
			char	   *printed = cJSON_PrintUnformatted(value);

			if (printed == NULL)
				return TEMPO_JSON_NO_MEMORY;
			buf_append_str(out, printed);
			cJSON_free(printed);
		}
		else
			buf_append_str(out, "null");
	}
	buf_append_char(out, '}');
	return out->failed ? TEMPO_JSON_NO_MEMORY : TEMPO_JSON_OK;
}

/* Is an ADF node of this type inline (part of a line)? */
static bool
adf_inline(const char *t)
{
	return strcmp(t, "text") == 0 || strcmp(t, "hardBreak") == 0 ||
		strcmp(t, "mention") == 0 || strcmp(t, "emoji") == 0 ||
		strcmp(t, "status") == 0 || strcmp(t, "date") == 0 ||
		strcmp(t, "inlineCard") == 0;
}

/* The "type" of an ADF node, "" when it has none. */
static const char *
adf_type(const cJSON *node)
{
	const cJSON *type = cJSON_GetObjectItemCaseSensitive(node, "type");

	return cJSON_IsString(type) && type->valuestring ? type->valuestring : "";
}

/*
 * adf_flatten
 *		Flatten one ADF node into out: text nodes as they are, mentions,
 *		emoji, dates and status as their text, hard breaks as line breaks,
 *		every block (paragraph, heading, code block, quote, list item) on a
 *		line of its own, list items led by "- " or "1. ".  inline_first: the
 *		node's first block continues the current line (the first paragraph
 *		of a list item follows its "- ").
 */
static TempoJsonStatus
adf_flatten(const cJSON *node, TempoJsonBuf *out, bool inline_first, int depth)
{
	const cJSON *content = cJSON_GetObjectItemCaseSensitive(node, "content");
	const cJSON *attrs = cJSON_GetObjectItemCaseSensitive(node, "attrs");
	const char *t = adf_type(node);
	bool		bullets = strcmp(t, "bulletList") == 0;
	bool		numbers = strcmp(t, "orderedList") == 0;
	const cJSON *child;
	long		item = 0;

	if (depth > TEMPO_JSON_MAX_DEPTH)
		return TEMPO_JSON_TOO_DEEP;
	if (strcmp(t, "text") == 0)
	{
		const cJSON *text = cJSON_GetObjectItemCaseSensitive(node, "text");

		if (cJSON_IsString(text) && text->valuestring)
			buf_append_str(out, text->valuestring);
		return TEMPO_JSON_OK;
	}
	if (strcmp(t, "hardBreak") == 0)
	{
		buf_append_char(out, '\n');
		return TEMPO_JSON_OK;
	}
	if (strcmp(t, "mention") == 0 || strcmp(t, "emoji") == 0 ||
		strcmp(t, "status") == 0 || strcmp(t, "date") == 0)
	{
		const cJSON *text = cJSON_GetObjectItemCaseSensitive(attrs, "text");

		if (!cJSON_IsString(text))
			text = cJSON_GetObjectItemCaseSensitive(attrs, "shortName");

		if (cJSON_IsString(text) && text->valuestring)
			buf_append_str(out, text->valuestring);
		return TEMPO_JSON_OK;
	}

	cJSON_ArrayForEach(child, content)
	{
		TempoJsonStatus status;

		if (!cJSON_IsObject(child))
			continue;
		/* blocks start on a line of their own */
		if (!adf_inline(adf_type(child)) && !inline_first && out->len > 0 &&
			out->data[out->len - 1] != '\n')
			buf_append_char(out, '\n');
		inline_first = false;
		if (bullets)
			buf_append_str(out, "- ");
		else if (numbers)
		{
			char		num[32];

			snprintf(num, sizeof(num), "%ld. ", ++item);
			buf_append_str(out, num);
		}
		status = adf_flatten(child, out, bullets || numbers, depth + 1);
		if (status != TEMPO_JSON_OK)
			return status;
		if (out->failed)
			return TEMPO_JSON_NO_MEMORY;
	}
	return TEMPO_JSON_OK;
}

/*
 * tempo_json_adf_text
 *		An Atlassian Document Format document as plain text, without
 *		trailing line breaks.  On TEMPO_JSON_OK out->data is a string
 *		(perhaps empty).  The caller frees out on every status.
 */
TempoJsonStatus
tempo_json_adf_text(const cJSON *doc, TempoJsonBuf *out)
{
	TempoJsonStatus status;

	if (!buf_reserve(out, 0))
		return TEMPO_JSON_NO_MEMORY;
	status = adf_flatten(doc, out, false, 0);
	if (status != TEMPO_JSON_OK)
		return status;
	if (out->failed)
		return TEMPO_JSON_NO_MEMORY;
	while (out->len > 0 && out->data[out->len - 1] == '\n')
		out->data[--out->len] = '\0';
	return TEMPO_JSON_OK;
}
