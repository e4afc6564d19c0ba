/*-------------------------------------------------------------------------
 *
 * jsonpage.h
 *		  The PostgreSQL-free half of turning a response page into rows:
 *		  cleaning the body, parsing it into an arena, and the strict
 *		  readers of dates, times, timestamps, integers, work attributes and
 *		  Atlassian Document Format.
 *
 * Nothing here includes a PostgreSQL header, raises an error or allocates
 * with palloc: functions answer with a status (or true/false) and take the
 * memory they need from a TempoJsonAlloc the caller supplies.  json.c
 * turns the statuses into ERRORs and the results into Datums; the fuzzing
 * harness (test/fuzz/fuzz_page.c) drives the same code with malloc.
 *
 * Copyright (c) 2026, tempo_fdw developers
 *
 * IDENTIFICATION
 *		  src/jsonpage.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef TEMPO_JSONPAGE_H
#define TEMPO_JSONPAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

/* Deepest ADF document flattened (cJSON itself stops at 1000 levels) */
#define TEMPO_JSON_MAX_DEPTH	1000

/* What a function of this file made of its input */
typedef enum TempoJsonStatus
{
	TEMPO_JSON_OK = 0,
	TEMPO_JSON_INVALID,			/* not JSON, or not the shape expected */
	TEMPO_JSON_NO_MEMORY,		/* an allocation failed */
	TEMPO_JSON_TOO_DEEP,		/* nested deeper than TEMPO_JSON_MAX_DEPTH */
	TEMPO_JSON_TOO_LARGE,		/* the tree would pass the arena's limit */
	TEMPO_JSON_INTERRUPTED		/* the arena's stop callback said stop */
} TempoJsonStatus;

/*
 * Where memory comes from.  alloc_fn returns NULL when out of memory and
 * never leaves by other means (no longjmp); free_fn may be NULL when
 * everything allocated goes away with ctx (a memory context).
 */
typedef struct TempoJsonAlloc
{
	void	   *(*alloc_fn) (void *ctx, size_t size);
	void		(*free_fn) (void *ctx, void *ptr);
	void	   *ctx;
} TempoJsonAlloc;

/*
 * A bump allocator for one page's cJSON tree.  Rewound, it keeps its
 * usual-sized blocks for the next page (no new memory to fault in).
 *
 * The tree of a small body can be much larger than the body (each "0," of
 * an array becomes a node of 64 bytes), so an arena may have a limit: the
 * bytes of the blocks one page may take.  Past it the parse stops with
 * TEMPO_JSON_TOO_LARGE.  And a parse can be stopped from outside: each
 * time the arena takes a block (every block_size bytes of tree) it asks
 * stop_fn, and when that answers true the parse stops with
 * TEMPO_JSON_INTERRUPTED (the backend passes a function that sees a
 * pending cancel).
 */
typedef struct TempoJsonArena
{
	TempoJsonAlloc alloc;		/* where blocks come from */
	size_t		block_size;		/* usual size of a block */
	void	   *blocks;			/* chain of blocks in use, newest first */
	void	   *spare;			/* chain of blocks kept by a rewind */
	char	   *next;			/* free space in the newest block */
	size_t		avail;			/* bytes free there */
	size_t		used;			/* bytes of the blocks in use */
	size_t		limit;			/* most bytes of blocks in use; 0: none */
	bool		(*stop_fn) (void);	/* stop the parse now?  NULL: never */
	bool		exhausted;		/* an allocation failed */
	bool		over_limit;		/* ... because of the limit */
	bool		stopped;		/* ... because stop_fn said so */
} TempoJsonArena;

/* A growable NUL-terminated string */
typedef struct TempoJsonBuf
{
	TempoJsonAlloc alloc;
	char	   *data;			/* NULL until something is added */
	size_t		len;			/* bytes before the NUL */
	size_t		cap;			/* bytes allocated */
	bool		failed;			/* an allocation failed */
} TempoJsonBuf;

/* Cleaning and parsing */
extern void tempo_sanitize_json(char *body, size_t len);
extern void tempo_json_arena_init(TempoJsonArena *arena,
								  const TempoJsonAlloc *alloc,
								  size_t block_size);
extern void tempo_json_arena_set_limits(TempoJsonArena *arena, size_t limit,
										bool (*stop_fn) (void));
extern void tempo_json_arena_rewind(TempoJsonArena *arena);
extern void tempo_json_arena_release(TempoJsonArena *arena);
extern TempoJsonStatus tempo_json_parse(const char *body, size_t len,
										TempoJsonArena *arena, cJSON **root,
										long *error_at);
extern void tempo_json_parse_abandon(void);

/* Largest integer a double (so a cJSON number) holds exactly: 2^53 */
#define TEMPO_JSON_EXACT_INT_LIMIT 9007199254740992.0

/*
 * cJSON's type tests are functions of the shared library: these are
 * inline, for the code that runs for every value.  tempo_json_type is one
 * of cJSON_String, cJSON_Number, ... (cJSON_NULL for a missing item too);
 * tempo_json_is means what the cJSON_Is... test of that type means.
 */
static inline int
tempo_json_type(const cJSON *item)
{
	return item == NULL ? cJSON_NULL : (item->type & 0xFF);
}

static inline bool
tempo_json_is(const cJSON *item, int type)
{
	return item != NULL && (item->type & 0xFF) == type;
}

/* Finding values */
extern cJSON *tempo_json_follow(const cJSON *obj, int nkeys,
								const char *const *keys);
extern void tempo_json_find_keys(const cJSON *obj, int nkeys,
								 const char *const *keys, cJSON **found);
extern const char *tempo_json_type_name(const cJSON *v);

/* Strict readers of values: true when the value is exactly what is expected */
extern bool tempo_json_integer(const cJSON *v, int64_t min, int64_t max,
							   int64_t *out);
extern bool tempo_json_parse_date(const char *s, int *year, int *month,
								  int *day);
extern bool tempo_json_parse_time(const char *s, int64_t *usecs,
								  const char **end);
extern bool tempo_json_parse_timestamp(const char *s, int *year, int *month,
									   int *day, int64_t *usecs,
									   int *offset_secs);

/* Text made of JSON values */
extern void tempo_json_buf_init(TempoJsonBuf *buf, const TempoJsonAlloc *alloc);
extern void tempo_json_buf_free(TempoJsonBuf *buf);
extern TempoJsonStatus tempo_json_adf_text(const cJSON *doc, TempoJsonBuf *out);
extern TempoJsonStatus tempo_json_attr_map(const cJSON *values,
										   TempoJsonBuf *out,
										   const cJSON **bad_key);

#endif							/* TEMPO_JSONPAGE_H */
