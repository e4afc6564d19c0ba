/*-------------------------------------------------------------------------
 *
 * fuzz_page.c
 *		  libFuzzer harness over the JSON-page-to-rows code of jsonpage.c.
 *
 * Each input is a response body.  It is copied into a buffer of its own,
 * NUL-terminated as http.c leaves a body, cleaned with tempo_sanitize_json
 * and parsed into an arena, as json.c does; then the row arrays a page may
 * have ("results" of Tempo, "worklogs" and "values" of Jira, or the
 * document itself when it is an array, as POST worklog/list answers) are
 * walked, and every field of every row object, and of the objects inside
 * it (issue, author, holiday, attributes), goes through every reader json.c
 * may apply: date, time, local date and time of a timestamp, timestamp with
 * zone, integer in the ranges of integer and bigint, work attribute map,
 * ADF flattening, and the compact print of the whole row (the raw column).
 * The envelope's paging fields are read as tempo_page_string and friends
 * read them.
 *
 * The readers' results are checked against what they promise (a real day,
 * a time within the day, an integer within its range, a string with no
 * trailing line break, an attribute map that is JSON again), and a failed
 * check aborts, so libFuzzer reports it like a crash.
 *
 * Every input runs twice: once with malloc, counting allocations, and once
 * with an allocator that fails at an allocation chosen from the input's
 * hash, so that the out-of-memory paths run too.  LeakSanitizer checks that
 * nothing is left behind on either.  The malloc pass also parses once more
 * with a limit on the tree (TEMPO_JSON_TOO_LARGE) and once with a stop
 * function that fires at a block chosen from the hash
 * (TEMPO_JSON_INTERRUPTED): the arena stays within its limit, and a
 * rewound arena parses as before.
 *
 * Build and run: make fuzz, make fuzz-run FUZZ_SECONDS=600, make fuzz-smoke.
 *
 * Copyright (c) 2026, tempo_fdw developers
 *
 * IDENTIFICATION
 *		  test/fuzz/fuzz_page.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonpage.h"

/* Small arena blocks, so that pages take several and big strings their own */
#define FUZZ_BLOCK_SIZE 4096

/* Fields nested deeper than this in a row are not read as values */
#define FUZZ_FIELD_DEPTH 3

/* An allocator that counts, and fails from a given allocation on */
typedef struct FuzzAlloc
{
	unsigned long count;		/* allocations made so far */
	unsigned long fail_at;		/* 0: never fail; else the first to fail */
	long		live;			/* allocations not freed */
} FuzzAlloc;

/* stop_blocks: the arena's stop function answers true at this call */
static unsigned long stop_at = 0;
static unsigned long stop_calls = 0;

/* Abort with a message: libFuzzer saves the input as a crash. */
#define CHECK(cond) \
	do { \
		if (!(cond)) \
		{ \
			fprintf(stderr, "fuzz_page.c:%d: check failed: %s\n", __LINE__, #cond); \
			abort(); \
		} \
	} while (0)

/* Allocation of the counting allocator. */
static void *
fuzz_alloc(void *ctx, size_t size)
{
	FuzzAlloc  *fa = ctx;
	void	   *p;

	fa->count++;
	if (fa->fail_at != 0 && fa->count >= fa->fail_at)
		return NULL;
	p = malloc(size);
	if (p != NULL)
		fa->live++;
	return p;
}

/* Free of the counting allocator. */
static void
fuzz_free(void *ctx, void *ptr)
{
	FuzzAlloc  *fa = ctx;

	fa->live--;
	free(ptr);
}

/* Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant). */
static int64_t
days_from_civil(int y, int m, int d)
{
	int64_t		era;
	int64_t		yoe,
				doy,
				doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* A date reader's answer is a real day, and the text it came from. */
static void
check_date(const char *s, int y, int m, int d)
{
	char		again[16];

	CHECK(y >= 0 && y <= 9999 && m >= 1 && m <= 12 && d >= 1 && d <= 31);
	snprintf(again, sizeof(again), "%04d-%02d-%02d", y, m, d);
	CHECK(strncmp(again, s, 10) == 0);
	/* the day of the month agrees with the calendar's count of days */
	CHECK(days_from_civil(y, m, d) - days_from_civil(y, m, 1) == d - 1);
}

/* Every reader of a string field, as json.c's converters apply them. */
static void
read_string(const char *s)
{
	int			y,
				m,
				d,
				offset;
	int64_t		usecs;
	const char *end = NULL;
	size_t		len = strlen(s);

	/* date column (json.c also wants the length to be 10) */
	if (tempo_json_parse_date(s, &y, &m, &d))
		check_date(s, y, m, d);

	/* time column: exactly HH:MM:SS[.ffffff] */
	if (tempo_json_parse_time(s, &usecs, &end))
	{
		CHECK(usecs >= 0 && usecs < INT64_C(86400000000));
		CHECK(end >= s + 8 && end <= s + len);
	}

	/* local time and date of an offset timestamp (Jira's started) */
	if (len >= 19 && tempo_json_parse_time(s + 11, &usecs, &end))
		CHECK(usecs >= 0 && usecs < INT64_C(86400000000) && end <= s + len);

	/* timestamptz column, combined as json.c combines the parts */
	if (tempo_json_parse_timestamp(s, &y, &m, &d, &usecs, &offset))
	{
		int64_t		utc;

		check_date(s, y, m, d);
		CHECK(usecs >= 0 && usecs < INT64_C(86400000000));
		CHECK(offset >= -(15 * 3600 + 59 * 60) && offset <= 15 * 3600 + 59 * 60);
		utc = days_from_civil(y, m, d) * INT64_C(86400000000) + usecs -
			(int64_t) offset * INT64_C(1000000);
		(void) utc;
	}

	/* boolean column from accountType */
	(void) (strcmp(s, "app") == 0);
}

/* The integer readers on any value (strings of digits count too). */
static void
read_integer(const cJSON *v)
{
	int64_t		n;

	if (tempo_json_integer(v, INT32_MIN, INT32_MAX, &n))
		CHECK(n >= INT32_MIN && n <= INT32_MAX);
	if (tempo_json_integer(v, INT64_MIN, INT64_MAX, &n) && cJSON_IsNumber(v))
		CHECK(n >= -INT64_C(9007199254740992) && n <= INT64_C(9007199254740992));
	if (tempo_json_integer(v, 0, INT64_MAX, &n))
		CHECK(n >= 0);
	if (cJSON_IsNumber(v))
	{
		char		text[64];

		snprintf(text, sizeof(text), "%g", v->valuedouble);
	}
}

/* ADF flattening of an object, and what it promises. */
static void
read_adf(const cJSON *v, const TempoJsonAlloc *alloc)
{
	TempoJsonBuf buf;
	TempoJsonStatus status;

	tempo_json_buf_init(&buf, alloc);
	status = tempo_json_adf_text(v, &buf);
	if (status == TEMPO_JSON_OK)
	{
		CHECK(buf.data != NULL);
		CHECK(strlen(buf.data) == buf.len);
		CHECK(buf.len == 0 || buf.data[buf.len - 1] != '\n');
	}
	else
		CHECK(status == TEMPO_JSON_NO_MEMORY || status == TEMPO_JSON_TOO_DEEP);
	tempo_json_buf_free(&buf);
}

/* The work attribute map of an array, and what it promises. */
static void
read_attr_map(const cJSON *v, const TempoJsonAlloc *alloc, bool check_json)
{
	TempoJsonBuf buf;
	const cJSON *bad = NULL;
	TempoJsonStatus status;

	tempo_json_buf_init(&buf, alloc);
	status = tempo_json_attr_map(v, &buf, &bad);
	if (status == TEMPO_JSON_OK)
	{
		CHECK(buf.data != NULL && strlen(buf.data) == buf.len);
		CHECK(buf.data[0] == '{' && buf.data[buf.len - 1] == '}');
		(void) tempo_json_type_name(bad);
		if (check_json)
		{
			/* jsonb_in gets this text: it must be JSON again */
			cJSON	   *again = cJSON_ParseWithLength(buf.data, buf.len);

			CHECK(again != NULL && cJSON_IsObject(again));
			cJSON_Delete(again);
		}
	}
	else if (status == TEMPO_JSON_INVALID)
		(void) tempo_json_type_name(bad);
	else
		CHECK(status == TEMPO_JSON_NO_MEMORY);
	tempo_json_buf_free(&buf);
}

/* The compact print of a value (raw and jsonb columns). */
static void
read_raw(const cJSON *v)
{
	char	   *printed = cJSON_PrintUnformatted(v);

	if (printed != NULL)
		cJSON_free(printed);
}

/* Every reader on one field; objects and arrays are entered. */
static void
read_field(const char *name, const cJSON *v, const TempoJsonAlloc *alloc,
		   bool check_json, int depth)
{
	const cJSON *child;

	(void) tempo_json_type_name(v);
	read_integer(v);
	if (cJSON_IsString(v) && v->valuestring != NULL)
		read_string(v->valuestring);
	if (cJSON_IsObject(v))
	{
		read_adf(v, alloc);
		if (name != NULL && strcmp(name, "attributes") == 0)
		{
			static const char *const values_key[] = {"values"};
			const cJSON *values = tempo_json_follow(v, 1, values_key);

			if (values != NULL)
				read_attr_map(values, alloc, check_json);
		}
	}
	if (cJSON_IsArray(v))
		read_attr_map(v, alloc, check_json);
	if (depth >= FUZZ_FIELD_DEPTH)
		return;
	if (cJSON_IsObject(v) || cJSON_IsArray(v))
		cJSON_ArrayForEach(child, v)
			read_field(child->string, child, alloc, check_json, depth + 1);
}

/*
 * tempo_json_find_keys finds, for every key, the member that
 * cJSON_GetObjectItemCaseSensitive finds: for the keys of the columns and
 * for the row's own member names (each once, as json.c passes them; the
 * row may have a name twice), in two orders.
 */
static void
check_find_keys(const cJSON *row)
{
	enum
	{
		MAX_KEYS = 24
	};
	static const char *const fixed[] = {"tempoWorklogId", "issue", "author", "startDate",
	"attributes", "self", "id", ""};
	const char *keys[MAX_KEYS];
	const char *reversed[MAX_KEYS];
	cJSON	   *found[MAX_KEYS];
	int			n = 0;
	const cJSON *m;

	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		keys[n++] = fixed[i];
	cJSON_ArrayForEach(m, row)
	{
		bool		known = false;

		for (int i = 0; i < n && m->string != NULL; i++)
			known = known || strcmp(keys[i], m->string) == 0;
		if (m->string != NULL && !known && n < MAX_KEYS)
			keys[n++] = m->string;
	}
	for (int i = 0; i < n; i++)
		reversed[i] = keys[n - 1 - i];
	tempo_json_find_keys(row, n, keys, found);
	for (int i = 0; i < n; i++)
		CHECK(found[i] == cJSON_GetObjectItemCaseSensitive(row, keys[i]));
	tempo_json_find_keys(row, n, reversed, found);
	for (int i = 0; i < n; i++)
		CHECK(found[i] == cJSON_GetObjectItemCaseSensitive(row, reversed[i]));
}

/* One row object, as tempo_page_next_row converts it. */
static void
read_row(const cJSON *row, const TempoJsonAlloc *alloc, bool check_json)
{
	static const char *const paths[][2] = {
		{"tempoWorklogId", NULL}, {"issue", "id"}, {"author", "accountId"},
		{"attributes", "values"}, {"id", NULL}, {"issueId", NULL},
		{"holiday", "durationSeconds"}, {"comment", NULL}, {"started", NULL}
	};
	const cJSON *field;

	if (!cJSON_IsObject(row))
		return;
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
	{
		const cJSON *v = tempo_json_follow(row, paths[i][1] ? 2 : 1, paths[i]);

		(void) tempo_json_type_name(v);
	}
	check_find_keys(row);
	read_raw(row);
	cJSON_ArrayForEach(field, row)
		read_field(field->string, field, alloc, check_json, 1);
}

/* The envelope, as tempo_page_string, _has_number, _bool and _ids read it. */
static void
read_envelope(const cJSON *root)
{
	static const char *const next[] = {"metadata", "next"};
	static const char *const count[] = {"metadata", "count"};
	static const char *const last[] = {"lastPage"};
	static const char *const total[] = {"total"};
	const cJSON *v;

	v = tempo_json_follow(root, 2, next);
	if (cJSON_IsString(v))
		(void) strlen(v->valuestring);
	(void) tempo_json_follow(root, 2, count);
	(void) tempo_json_follow(root, 1, last);
	(void) tempo_json_follow(root, 1, total);
}

/* The rows of the arrays a page may carry. */
static void
read_page(const cJSON *root, const TempoJsonAlloc *alloc, bool check_json)
{
	static const char *const arrays[] = {"results", "worklogs", "values"};
	const cJSON *row;

	read_envelope(root);
	if (cJSON_IsArray(root))
		cJSON_ArrayForEach(row, root)
			read_row(row, alloc, check_json);
	for (size_t i = 0; i < sizeof(arrays) / sizeof(arrays[0]); i++)
	{
		const cJSON *rows = cJSON_GetObjectItemCaseSensitive(root, arrays[i]);
		int64_t		id;

		if (!cJSON_IsArray(rows))
			continue;
		cJSON_ArrayForEach(row, rows)
		{
			/* tempo_page_ids of worklog/updated */
			(void) tempo_json_integer(cJSON_GetObjectItemCaseSensitive(row, "worklogId"),
									  0, INT64_MAX, &id);
			read_row(row, alloc, check_json);
		}
	}
}

/* Four hex digits at s (n bytes available), into *cp. */
static bool
hex4(const char *s, size_t n, unsigned *cp)
{
	unsigned	v = 0;

	if (n < 4)
		return false;
	for (int i = 0; i < 4; i++)
	{
		char		c = s[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned) (c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned) (c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned) (c - 'A' + 10);
		else
			return false;
	}
	*cp = v;
	return true;
}

/*
 * text_clean
 *		What json.c needs of a body cJSON accepted, up to where cJSON stopped
 *		(end): in its strings, no raw NUL byte and no \u escape that is not
 *		four hex digits, is U+0000 or is a lone surrogate.  Any of these
 *		would reach PostgreSQL as a string cut short at a NUL (cJSON keeps a
 *		raw NUL, and decodes \u0000 and escapes with other than hex digits
 *		to one): a row silently different from the API's.  (Outside strings
 *		cJSON takes a NUL for white space.)
 */
static bool
text_clean(const char *s, size_t end)
{
	bool		in_string = false;

	for (size_t i = 0; i < end; i++)
	{
		unsigned	cp,
					lo;

		if (!in_string)
		{
			in_string = (s[i] == '"');
			continue;
		}
		if (s[i] == '"')
			in_string = false;
		if (s[i] == '\0')
			return false;
		if (s[i] != '\\')
			continue;
		if (i + 1 >= end)
			return false;
		if (s[i + 1] != 'u')
		{
			i++;
			continue;
		}
		if (!hex4(s + i + 2, end - i - 2, &cp) || cp == 0 ||
			(cp >= 0xDC00 && cp <= 0xDFFF))
			return false;
		if (cp >= 0xD800 && cp <= 0xDBFF)
		{
			if (end - i < 12 || s[i + 6] != '\\' || s[i + 7] != 'u' ||
				!hex4(s + i + 8, 4, &lo) || lo < 0xDC00 || lo > 0xDFFF)
				return false;
			i += 6;
		}
		i += 5;
	}
	return true;
}

/* Whether s[0..len) is UTF-8 as PostgreSQL takes it (no overlong forms, no surrogates). */
static bool
utf8_valid(const unsigned char *s, size_t len)
{
	for (size_t i = 0; i < len;)
	{
		unsigned char c = s[i];
		size_t		n;
		unsigned	cp;

		if (c < 0x80)
		{
			if (c == 0)
				return false;
			i++;
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF)
			n = 2, cp = c & 0x1F;
		else if (c >= 0xE0 && c <= 0xEF)
			n = 3, cp = c & 0x0F;
		else if (c >= 0xF0 && c <= 0xF4)
			n = 4, cp = c & 0x07;
		else
			return false;
		if (len - i < n)
			return false;
		for (size_t k = 1; k < n; k++)
		{
			if ((s[i + k] & 0xC0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + k] & 0x3F);
		}
		if ((n == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
			(n == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
			return false;
		i += n;
	}
	return true;
}

/*
 * Every string (and member name) cJSON decoded is valid UTF-8: json.c
 * relies on it when the body it came from was (body_is_server_text).
 */
static void
check_strings_utf8(const cJSON *v, int depth)
{
	const cJSON *child;

	if (v->string != NULL)
		CHECK(utf8_valid((const unsigned char *) v->string, strlen(v->string)));
	if (cJSON_IsString(v) && v->valuestring != NULL)
		CHECK(utf8_valid((const unsigned char *) v->valuestring, strlen(v->valuestring)));
	if (depth < 64)
		cJSON_ArrayForEach(child, v)
			check_strings_utf8(child, depth + 1);
}

/* The arena's stop function: true from call stop_at on. */
static bool
stop_blocks(void)
{
	return ++stop_calls >= stop_at;
}

/*
 * parse_limited
 *		Parse with a limit of a few blocks, then with a stop function firing
 *		at a block chosen by seed, then rewound without either: the answer
 *		of the first parse (first) again.
 */
static void
parse_limited(char *body, size_t size, TempoJsonArena *arena,
			  TempoJsonStatus first, unsigned long seed)
{
	size_t		limit = 3 * (FUZZ_BLOCK_SIZE + 64);
	cJSON	   *root = NULL;
	long		error_at = -1;
	TempoJsonStatus status;

	tempo_json_arena_rewind(arena);
	tempo_json_arena_set_limits(arena, limit, NULL);
	status = tempo_json_parse(body, size, arena, &root, &error_at);
	CHECK(arena->used <= limit);
	CHECK(status == first || status == TEMPO_JSON_TOO_LARGE);
	CHECK((status == TEMPO_JSON_OK) == (root != NULL));

	stop_calls = 0;
	stop_at = 1 + seed % 4;
	tempo_json_arena_rewind(arena);
	tempo_json_arena_set_limits(arena, 0, stop_blocks);
	status = tempo_json_parse(body, size, arena, &root, &error_at);
	CHECK(status == first || status == TEMPO_JSON_INTERRUPTED);
	CHECK(status != TEMPO_JSON_INTERRUPTED || stop_calls == stop_at);

	tempo_json_arena_rewind(arena);
	tempo_json_arena_set_limits(arena, 0, NULL);
	status = tempo_json_parse(body, size, arena, &root, &error_at);
	CHECK(status == first);
}

/* One pass over the input with the allocator fa. */
static void
run(const uint8_t *data, size_t size, FuzzAlloc *fa)
{
	TempoJsonAlloc alloc = {fuzz_alloc, fuzz_free, fa};
	TempoJsonArena arena;
	TempoJsonStatus status;
	cJSON	   *root = NULL;
	long		error_at = -1;
	char	   *body = malloc(size + 1);
	char	   *again;

	if (body == NULL)
		return;
	memcpy(body, data, size);
	body[size] = '\0';

	/* cleaning is idempotent and keeps the length */
	tempo_sanitize_json(body, size);
	again = malloc(size + 1);
	if (again != NULL)
	{
		memcpy(again, body, size + 1);
		tempo_sanitize_json(again, size);
		CHECK(memcmp(again, body, size + 1) == 0);
		free(again);
	}

	tempo_json_arena_init(&arena, &alloc, FUZZ_BLOCK_SIZE);
	status = tempo_json_parse(body, size, &arena, &root, &error_at);
	if (status == TEMPO_JSON_OK)
	{
		CHECK(root != NULL);
		if (fa->fail_at == 0)
		{
			/* where cJSON stopped: a second parse, with malloc */
			const char *end = NULL;
			cJSON	   *again = cJSON_ParseWithLengthOpts(body, size, &end, 0);

			CHECK(again != NULL && end != NULL && end >= body && end <= body + size);
			CHECK(text_clean(body, (size_t) (end - body)));
			cJSON_Delete(again);
			if (utf8_valid((const unsigned char *) body, size))
				check_strings_utf8(root, 0);
		}
		read_page(root, &alloc, fa->fail_at == 0);
	}
	else if (status == TEMPO_JSON_INVALID)
		CHECK(root == NULL && error_at >= -1 && error_at <= (long) size);
	else
		CHECK(status == TEMPO_JSON_NO_MEMORY && root == NULL);

	/* json.c parses every page into the same arena, rewound: the same answer */
	{
		TempoJsonStatus first = status;

		tempo_json_arena_rewind(&arena);
		status = tempo_json_parse(body, size, &arena, &root, &error_at);
		if (fa->fail_at == 0)
			CHECK(status == first);
		if (status == TEMPO_JSON_OK && first == TEMPO_JSON_OK)
			read_page(root, &alloc, false);
		if (fa->fail_at == 0)
			parse_limited(body, size, &arena, first, (unsigned long) size * 2654435761u);
	}
	tempo_json_arena_release(&arena);
	free(body);
}

/* FNV-1a of the input, to pick the failing allocation. */
static uint64_t
hash(const uint8_t *data, size_t size)
{
	uint64_t	h = UINT64_C(14695981039346656037);

	for (size_t i = 0; i < size; i++)
		h = (h ^ data[i]) * UINT64_C(1099511628211);
	return h;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FuzzAlloc	fa = {0, 0, 0};

	run(data, size, &fa);
	CHECK(fa.live == 0);
	if (fa.count > 0)
	{
		FuzzAlloc	failing = {0, 1 + hash(data, size) % fa.count, 0};

		run(data, size, &failing);
		CHECK(failing.live == 0);
	}
	return 0;
}
