/*-------------------------------------------------------------------------
 *
 * json.c
 *		  From a response body to rows: parse a page with cJSON and turn each
 *		  JSON object into the Datums of a foreign table's columns.
 *
 * A page's cJSON tree is allocated in an arena (TempoParser) whose blocks
 * live in a memory context of the scan: cJSON's allocation hooks point at
 * the arena while the page is parsed and are restored right after (they
 * are process-wide).  Nothing is freed node by node; the next page rewinds
 * the arena and reuses its blocks (no fresh memory to fault in), and the
 * blocks go with the scan's context, also when an ERROR unwinds the query.
 *
 * Each row is read in one pass over its members (tempo_json_find_keys) for
 * the first keys of every column used, not one lookup per column.  When
 * the database encoding is UTF-8 and the query converts strings, a page's
 * whole body is checked once; its strings are not checked one by one.
 *
 * Values go straight from JSON to Datums for the natural column types
 * (bigint, integer, text, boolean, date, time, timestamptz, jsonb), with
 * strict parsers: a value that is not exactly what the API documents is an
 * ERROR naming the column and the row, never a guess.  A column declared
 * with another type gets the value's text through that type's input
 * function.  Columns the query does not use are not converted at all.
 * Each used column's converter is chosen once, when the scan begins
 * (tempo_make_row_plan), by the column's kind and type: a row is a loop
 * over them.
 *
 * Text that PostgreSQL cannot hold is cleaned before parsing: a \u0000
 * escape, and a lone UTF-16 surrogate, become U+FFFD (the replacement
 * character).  A raw NUL byte, and a \u escape without four hex digits
 * (which cJSON would read as U+0000, cutting the string short), make the
 * body invalid JSON.  Invalid UTF-8 is an ERROR.  cJSON keeps numbers as
 * doubles, so integers beyond 2^53 cannot be exact and are refused.
 *
 * What needs no PostgreSQL (cleaning, the arena parse, the strict readers
 * of dates, times, timestamps and integers, work attributes, ADF) is in
 * jsonpage.c, which answers with statuses; this file turns them into
 * ERRORs and Datums.
 *
 * Copyright (c) 2026, tempo_fdw developers
 *
 * IDENTIFICATION
 *		  src/json.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <cjson/cJSON.h>

#include "catalog/pg_type_d.h"
#include "datatype/timestamp.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "jsonb.h"
#include "rows.h"

/* Dotted paths are split once into at most this many keys */
#define MAX_PATH_KEYS	4

struct TempoPage
{
	cJSON	   *root;			/* the whole document */
	cJSON	   *rows;			/* the array of row objects */
	cJSON	   *cursor;			/* next row to return */
	int			nrows;			/* rows in the array */
	bool		verified;		/* its strings are valid in the database
								 * encoding */
	const char *service;		/* "Tempo" or "Jira", for messages */
	const char *what;			/* method and path, for messages */
	const TempoFdwOptions *opts;	/* credentials to blot out of messages */
};

typedef struct TempoColumnPlan TempoColumnPlan;

/*
 * A converter: the Datum of one column of a row, from v, the value at the
 * column's path (if it reads one: from_body), never missing nor null.
 */
typedef Datum (*TempoConverter) (TempoRowPlan *plan, TempoColumnPlan *col,
								 cJSON *row, cJSON *v, bool *isnull);

/* How one attribute of the foreign table is filled */
struct TempoColumnPlan
{
	const TempoColumnDef *def;	/* the resource column, or NULL if dropped */
	bool		needed;			/* the query uses it */
	TempoConverter convert;		/* its converter; NULL: unused or always NULL */
	bool		from_body;		/* convert reads the value at the path */
	bool		natural;		/* declared with the natural type */
	int			nkeys;			/* path split into keys */
	const char *keys[MAX_PATH_KEYS];
	int			top;			/* keys[0] in the plan's top_keys, or -1 */
	FmgrInfo	input;			/* input function, if !natural */
	Oid			typioparam;
	int32		typmod;
};

/* What parses pages: an arena kept from page to page */
struct TempoParser
{
	TempoJsonArena arena;		/* the tree of the current page */
	bool		check_text;		/* check a whole body's text at once */
	size_t		tree_limit;		/* most bytes of one page's tree */
	const TempoFdwOptions *opts;	/* credentials to blot out of messages */
};

struct TempoRowPlan
{
	const TempoResourceDef *resource;
	const char *relname;		/* foreign table, for messages */
	int			natts;
	TempoColumnPlan *cols;
	int			nidkeys;		/* path of the row id, for messages */
	const char *idkeys[MAX_PATH_KEYS];
	const char *source;			/* value of a TEMPO_COL_SOURCE column */
	Datum		source_text;	/* the same as text, made once */
	const char *request_key;	/* value of a TEMPO_COL_REQUEST_KEY column */
	const int64 *twins;			/* (Tempo id, Jira id) pairs by Tempo id */
	int			ntwins;
	int			ntop;			/* distinct first keys of the used paths */
	const char **top_keys;
	cJSON	  **top_found;		/* their members in the current row */
	bool		top_ordered;	/* top_keys are in the order of a row's
								 * members */
	bool		verified;		/* the current page's strings need no check */
	/* what the error context callback reports */
	const char *cur_column;
	cJSON	   *cur_row;
	const TempoFdwOptions *cur_opts;	/* the current page's, for messages */
};

static int	split_path(const char *path, const char **keys);
static void choose_converter(TempoColumnPlan *col);
static cJSON *column_value(TempoRowPlan *plan, TempoColumnPlan *col, cJSON *row);

/* Size of the arena's blocks (a 5000-worklog page takes about 8 MB) */
#define ARENA_BLOCK_SIZE (1024 * 1024)

/* A page's tree may take max_response_bytes, and at least this much */
#define MIN_TREE_LIMIT ((size_t) 64 * 1024 * 1024)

/*
 * context_alloc
 *		jsonpage.c's allocator: memory of the context ctx, NULL (never an
 *		ERROR) when out of memory.
 */
static void *
context_alloc(void *ctx, size_t size)
{
	if (!AllocHugeSizeIsValid(size))
		return NULL;
	return MemoryContextAllocExtended((MemoryContext) ctx, size,
									  MCXT_ALLOC_HUGE | MCXT_ALLOC_NO_OOM);
}

/* jsonpage.c's free, for buffers that grow. */
static void
context_free(void *ctx, void *ptr)
{
	pfree(ptr);
}

/* A buffer of jsonpage.c in the current memory context */
static void
init_buf(TempoJsonBuf *buf)
{
	TempoJsonAlloc alloc = {context_alloc, context_free, CurrentMemoryContext};

	tempo_json_buf_init(buf, &alloc);
}

/*
 * cancel_pending
 *		The arena's stop function: a cancel, a statement timeout or a
 *		terminate is pending (the parse stops, then CHECK_FOR_INTERRUPTS
 *		raises it).  Asked at each megabyte of tree.
 */
static bool
cancel_pending(void)
{
	return InterruptPending && (QueryCancelPending || ProcDiePending);
}

/*
 * tempo_parser_create
 *		A parser for the pages of one scan, its arena's blocks in a context
 *		of their own below cxt, kept from page to page.  check_text: the
 *		query converts strings of the body, so check the whole body's text
 *		at once rather than string by string.  opts->max_response_bytes
 *		bounds a page's tree too (at least MIN_TREE_LIMIT): a small body
 *		can make a huge tree ("[0,0,...]": 2 bytes of body, 64 of tree).
 *		opts' credentials are blotted out of the server text in messages.
 */
TempoParser *
tempo_parser_create(MemoryContext cxt, bool check_text, const TempoFdwOptions *opts)
{
	size_t		max_response_bytes = (size_t) opts->max_response_bytes;
	TempoParser *parser = MemoryContextAllocZero(cxt, sizeof(TempoParser));
	TempoJsonAlloc alloc = {context_alloc, context_free,
	AllocSetContextCreate(cxt, "tempo_fdw JSON tree", ALLOCSET_SMALL_SIZES)};

	tempo_json_arena_init(&parser->arena, &alloc, ARENA_BLOCK_SIZE);
	parser->tree_limit = Max(max_response_bytes, MIN_TREE_LIMIT);
	tempo_json_arena_set_limits(&parser->arena, parser->tree_limit, cancel_pending);
	parser->check_text = check_text;
	parser->opts = opts;
	return parser;
}

/*
 * parse_in_arena
 *		cJSON_ParseWithLength with the tree in the parser's arena, emptied
 *		first (jsonpage.c points cJSON's process-wide hooks at it for this
 *		call only).  NULL when the body is not JSON; *error_at is where
 *		parsing stopped, or -1.  A tree over the parser's limit is an ERROR
 *		(54000), and so is a cancel seen during the parse (PostgreSQL's own).
 */
static cJSON *
parse_in_arena(const char *body, size_t len, TempoParser *parser,
			   const char *service, const char *what, long *error_at)
{
	volatile TempoJsonStatus status = TEMPO_JSON_INVALID;
	cJSON	   *root = NULL;

	tempo_json_arena_rewind(&parser->arena);
	PG_TRY();
	{
		status = tempo_json_parse(body, len, &parser->arena, &root, error_at);
	}
	PG_CATCH();
	{
		/* context_alloc does not raise errors; should one come, unhook */
		tempo_json_parse_abandon();
		PG_RE_THROW();
	}
	PG_END_TRY();
	if (status == TEMPO_JSON_INTERRUPTED)
	{
		/* cancel_pending saw it: let PostgreSQL say what it was */
		tempo_json_arena_rewind(&parser->arena);
		CHECK_FOR_INTERRUPTS();
		ereport(ERROR,
				(errcode(ERRCODE_QUERY_CANCELED),
				 errmsg("canceling statement due to user request")));
	}
	if (status == TEMPO_JSON_TOO_LARGE)
	{
		tempo_json_arena_rewind(&parser->arena);
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("the %s response to %s needs more than %zu bytes of memory to parse",
						service, what, parser->tree_limit),
				 errdetail("A page's parse tree may take as much memory as \"max_response_bytes\" allows a response, and at least 64 MB."),
				 errhint("Lower \"page_size\", or raise the server option \"max_response_bytes\".")));
	}
	if (status == TEMPO_JSON_NO_MEMORY)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory while parsing a response of %zu bytes", len)));
	return status == TEMPO_JSON_OK ? root : NULL;
}

/*
 * body_is_server_text
 *		Whether every string of the body, as cJSON decodes it, is valid in
 *		the database encoding without conversion: the encoding is UTF-8 (or
 *		SQL_ASCII, where PostgreSQL checks UTF-8 too) and the whole body is
 *		valid UTF-8.  Escapes cannot spoil that once tempo_sanitize_json
 *		has replaced \u0000 and lone surrogates.  When false, each string
 *		is checked as it is converted, so that an ERROR names its row.
 */
static bool
body_is_server_text(const char *body, size_t len)
{
	int			enc = GetDatabaseEncoding();

	if ((enc != PG_UTF8 && enc != PG_SQL_ASCII) || len > (size_t) PG_INT32_MAX)
		return false;
	return pg_encoding_verifymbstr(PG_UTF8, body, (int) len) == (int) len;
}

/*
 * tempo_parse_page
 *		Parse a body into a page (in cxt) whose rows are the array at
 *		array_key of the top-level object (or the top-level array when
 *		array_key is NULL).  The tree lives until the parser's next page:
 *		one page at a time.
 */
TempoPage *
tempo_parse_page(TempoParser *parser, char *body, size_t len,
				 const char *array_key, const char *service, const char *what,
				 MemoryContext cxt)
{
	TempoPage  *page = MemoryContextAllocZero(cxt, sizeof(TempoPage));
	cJSON	   *root;
	long		at;

	page->service = service;
	page->what = what;
	page->opts = parser->opts;

	tempo_sanitize_json(body, len);
	page->verified = parser->check_text && body_is_server_text(body, len);
	root = parse_in_arena(body, len, parser, service, what, &at);
	if (root == NULL)
	{
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_STRING_FORMAT),
				 errmsg("invalid JSON in the %s response to %s", service, what),
				 at >= 0 ? errdetail("Parsing stopped at byte %ld of %zu.", at, len)
				 : errdetail("The response has %zu bytes.", len)));
	}
	page->root = root;

	page->rows = array_key ? cJSON_GetObjectItemCaseSensitive(root, array_key) : root;
	if (!cJSON_IsArray(page->rows))
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_DATA_TYPE),
				 errmsg("unexpected JSON in the %s response to %s", service, what),
				 array_key
				 ? errdetail("The response has no \"%s\" array.", array_key)
				 : errdetail("The response is not a JSON array.")));
	page->nrows = cJSON_GetArraySize(page->rows);
	page->cursor = page->rows->child;
	return page;
}

/*
 * tempo_body_list_size
 *		The number of elements of the array at array_key of a body's top
 *		object (of the top-level array when array_key is NULL), or -1 when
 *		the body is not JSON or holds no such array: for check_connection,
 *		which reports such an answer in a row rather than raising an ERROR
 *		(a tree over the parser's limit, or a cancel, still raises one).
 */
int
tempo_body_list_size(const TempoFdwOptions *opts, const char *body, size_t len,
					 const char *array_key, const char *service, const char *what)
{
	TempoParser *parser = tempo_parser_create(CurrentMemoryContext, false, opts);
	cJSON	   *root;
	cJSON	   *list;
	long		at;
	int			n = -1;

	root = parse_in_arena(body, len, parser, service, what, &at);
	list = root == NULL ? NULL
		: array_key ? cJSON_GetObjectItemCaseSensitive(root, array_key) : root;
	if (tempo_json_is(list, cJSON_Array))
		n = cJSON_GetArraySize(list);
	tempo_json_arena_release(&parser->arena);
	return n;
}

/* Number of rows of a page. */
int
tempo_page_nrows(TempoPage *page)
{
	return page->nrows;
}

/*
 * tempo_page_string
 *		The string at a dotted path of the page's top object, or NULL when
 *		absent, null or empty.  Any other type is an ERROR.
 */
const char *
tempo_page_string(TempoPage *page, const char *path)
{
	const char *keys[MAX_PATH_KEYS];
	int			n = split_path(path, keys);
	cJSON	   *v = tempo_json_follow(page->root, n, keys);

	if (v == NULL || cJSON_IsNull(v))
		return NULL;
	if (!cJSON_IsString(v))
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_DATA_TYPE),
				 errmsg("unexpected JSON in the %s response to %s", page->service, page->what),
				 errdetail("\"%s\" is not a string.", path)));
	return v->valuestring[0] ? v->valuestring : NULL;
}

/*
 * tempo_page_has_number
 *		Is there a number at the dotted path?  Stores it in *value.
 */
bool
tempo_page_has_number(TempoPage *page, const char *path, double *value)
{
	const char *keys[MAX_PATH_KEYS];
	int			n = split_path(path, keys);
	cJSON	   *v = tempo_json_follow(page->root, n, keys);

	if (!cJSON_IsNumber(v))
		return false;
	*value = v->valuedouble;
	return true;
}

/*
 * tempo_page_bool
 *		The boolean at a dotted path, or dflt when absent.
 */
bool
tempo_page_bool(TempoPage *page, const char *path, bool dflt)
{
	const char *keys[MAX_PATH_KEYS];
	int			n = split_path(path, keys);
	cJSON	   *v = tempo_json_follow(page->root, n, keys);

	return cJSON_IsBool(v) ? cJSON_IsTrue(v) : dflt;
}

/*
 * tempo_page_ids
 *		The ids at key of every element of the page's array, as text: what
 *		Jira's worklog/updated lists.
 */
List *
tempo_page_ids(TempoPage *page, const char *key)
{
	List	   *ids = NIL;
	cJSON	   *item;

	cJSON_ArrayForEach(item, page->rows)
	{
		cJSON	   *v = cJSON_GetObjectItemCaseSensitive(item, key);
		int64_t		n;

		if (!tempo_json_integer(v, 0, PG_INT64_MAX, &n))
			ereport(ERROR,
					(errcode(ERRCODE_FDW_INVALID_DATA_TYPE),
					 errmsg("unexpected JSON in the %s response to %s", page->service, page->what),
					 errdetail("An element has no integer \"%s\".", key)));
		ids = lappend(ids, psprintf(INT64_FORMAT, (int64) n));
	}
	return ids;
}

/* The size of the array at a top-level key of the page, or -1. */
int
tempo_page_array_size(TempoPage *page, const char *key)
{
	cJSON	   *v = cJSON_GetObjectItemCaseSensitive(page->root, key);

	return tempo_json_is(v, cJSON_Array) ? cJSON_GetArraySize(v) : -1;
}

/*
 * tempo_page_values
 *		The values at a dotted path of the elements of the page's array, as
 *		text: integers and strings (join keys); others are left out.
 */
List *
tempo_page_values(TempoPage *page, const char *path)
{
	const char *keys[MAX_PATH_KEYS];
	int			nkeys = split_path(path, keys);
	List	   *out = NIL;
	cJSON	   *item;

	cJSON_ArrayForEach(item, page->rows)
	{
		cJSON	   *v = tempo_json_follow(item, nkeys, keys);
		int64_t		n;

		if (tempo_json_is(v, cJSON_String))
			out = lappend(out, pstrdup(v->valuestring));
		else if (tempo_json_is(v, cJSON_Number) &&
				 tempo_json_integer(v, PG_INT64_MIN, PG_INT64_MAX, &n))
			out = lappend(out, psprintf(INT64_FORMAT, (int64) n));
	}
	return out;
}

/*
 * tempo_page_ints
 *		The integers at key of the elements of the page's array that have
 *		one, into out (room for tempo_page_nrows); returns how many.  The
 *		others are left to the conversion of the rows to report.
 */
int
tempo_page_ints(TempoPage *page, const char *key, int64 *out)
{
	cJSON	   *item;
	int			n = 0;

	cJSON_ArrayForEach(item, page->rows)
	{
		int64_t		v;

		if (cJSON_IsObject(item) &&
			tempo_json_integer(cJSON_GetObjectItemCaseSensitive(item, key), 0, PG_INT64_MAX, &v))
			out[n++] = (int64) v;
	}
	return n;
}

/*
 * tempo_page_id_pairs
 *		The integers at key1 and key2 of every element of the page's array,
 *		into pairs (room for 2 * tempo_page_nrows); returns how many.  An
 *		element without both is an ERROR.
 */
int
tempo_page_id_pairs(TempoPage *page, const char *key1, const char *key2, int64 *pairs)
{
	cJSON	   *item;
	int			n = 0;

	cJSON_ArrayForEach(item, page->rows)
	{
		int64_t		a,
					b;

		if (!tempo_json_integer(cJSON_GetObjectItemCaseSensitive(item, key1), 0, PG_INT64_MAX, &a) ||
			!tempo_json_integer(cJSON_GetObjectItemCaseSensitive(item, key2), 0, PG_INT64_MAX, &b))
			ereport(ERROR,
					(errcode(ERRCODE_FDW_INVALID_DATA_TYPE),
					 errmsg("unexpected JSON in the %s response to %s", page->service, page->what),
					 errdetail("An element has no integers \"%s\" and \"%s\".", key1, key2)));
		pairs[2 * n] = (int64) a;
		pairs[2 * n + 1] = (int64) b;
		n++;
	}
	return n;
}

/* Split "a.b.c" into keys (pointing into a palloc'd copy). */
static int
split_path(const char *path, const char **keys)
{
	char	   *copy;
	int			n = 0;

	if (path == NULL)
		return 0;
	copy = pstrdup(path);
	for (char *p = copy; p != NULL && n < MAX_PATH_KEYS;)
	{
		char	   *dot = strchr(p, '.');

		if (dot)
			*dot = '\0';
		keys[n++] = p;
		p = dot ? dot + 1 : NULL;
	}
	return n;
}

/* The index of a first key in the plan's top_keys, added if new. */
static int
top_key(TempoRowPlan *plan, const char *key)
{
	for (int i = 0; i < plan->ntop; i++)
		if (strcmp(plan->top_keys[i], key) == 0)
			return i;
	plan->top_keys[plan->ntop] = key;
	return plan->ntop++;
}

/*
 * tempo_make_row_plan
 *		Match the foreign table's columns to the resource's by name and note
 *		which the query uses (attrs_used holds attribute numbers offset by
 *		FirstLowInvalidHeapAttributeNumber, as pull_varattnos makes them).
 */
TempoRowPlan *
tempo_make_row_plan(Relation rel, const TempoResourceDef *resource,
					Bitmapset *attrs_used)
{
	TupleDesc	tupdesc = RelationGetDescr(rel);
	TempoRowPlan *plan = palloc0(sizeof(TempoRowPlan));
	bool		whole_row = bms_is_member(0 - FirstLowInvalidHeapAttributeNumber,
										  attrs_used);

	plan->resource = resource;
	plan->relname = pstrdup(RelationGetRelationName(rel));
	plan->natts = tupdesc->natts;
	plan->cols = palloc0(sizeof(TempoColumnPlan) * tupdesc->natts);
	plan->top_keys = palloc0(sizeof(char *) * tupdesc->natts);
	plan->top_found = palloc0(sizeof(cJSON *) * tupdesc->natts);
	plan->nidkeys = split_path(plan->resource->id_path, plan->idkeys);
	plan->source = "tempo";

	for (int i = 0; i < tupdesc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(tupdesc, i);
		TempoColumnPlan *col = &plan->cols[i];
		const char *name = NameStr(att->attname);

		if (att->attisdropped)
			continue;
		for (int j = 0; j < plan->resource->ncolumns; j++)
			if (strcmp(plan->resource->columns[j].name, name) == 0)
				col->def = &plan->resource->columns[j];
		if (col->def == NULL)
		{
			StringInfoData buf;

			initStringInfo(&buf);
			for (int j = 0; j < plan->resource->ncolumns; j++)
				appendStringInfo(&buf, "%s%s", j ? ", " : "",
								 plan->resource->columns[j].name);
			ereport(ERROR,
					(errcode(ERRCODE_FDW_COLUMN_NAME_NOT_FOUND),
					 errmsg("column \"%s\" of foreign table \"%s\" is not a column of resource \"%s\"",
							name, plan->relname, plan->resource->name),
					 errhint("Valid columns are: %s.", buf.data)));
		}
		col->needed = whole_row ||
			bms_is_member(i + 1 - FirstLowInvalidHeapAttributeNumber, attrs_used);
		col->natural = (att->atttypid == col->def->type);
		col->nkeys = split_path(col->def->path, col->keys);
		col->top = -1;
		if (col->needed && col->nkeys > 0)
			col->top = top_key(plan, col->keys[0]);
		if (!col->natural)
		{
			Oid			infunc;

			getTypeInputInfo(att->atttypid, &infunc, &col->typioparam);
			fmgr_info(infunc, &col->input);
			col->typmod = att->atttypmod;
		}
		if (col->needed)
			choose_converter(col);
	}
	return plan;
}

/*
 * tempo_row_plan_uses_text
 *		Whether the plan converts strings (or whole values) of the body:
 *		then checking each page's text at once pays (see TempoParser).
 */
bool
tempo_row_plan_uses_text(TempoRowPlan *plan)
{
	for (int i = 0; i < plan->natts; i++)
	{
		TempoColumnPlan *col = &plan->cols[i];

		if (col->def == NULL || !col->needed)
			continue;
		switch (col->def->kind)
		{
			case TEMPO_COL_SOURCE:
			case TEMPO_COL_REQUEST_KEY:
			case TEMPO_COL_NULL:
				break;			/* not from the body */
			case TEMPO_COL_LOCAL_DATE:
			case TEMPO_COL_LOCAL_TIME:
			case TEMPO_COL_IS_APP:
			case TEMPO_COL_JIRA_TWIN:
				if (!col->natural)
					return true;
				break;
			case TEMPO_COL_PATH:
				if (!col->natural || col->def->type == TEXTOID ||
					col->def->type == JSONBOID || col->def->type == TEXTARRAYOID)
					return true;
				break;
			default:
				return true;
		}
	}
	return false;
}

/*
 * tempo_row_plan_set
 *		Set the values of the columns that do not come from the JSON.
 */
void
tempo_row_plan_set(TempoRowPlan *plan, const char *source, const char *request_key)
{
	if (plan->source_text == (Datum) 0 || strcmp(plan->source, source) != 0)
	{
		MemoryContext oldcxt = MemoryContextSwitchTo(GetMemoryChunkContext(plan));

		plan->source_text = CStringGetTextDatum(source);
		MemoryContextSwitchTo(oldcxt);
	}
	plan->source = source;
	plan->request_key = request_key;
}

/*
 * tempo_row_plan_uses_twins
 *		Whether the query uses a column of Jira twins (jira_worklog_id): then
 *		each page's twins are asked for (see twins.c).
 */
bool
tempo_row_plan_uses_twins(TempoRowPlan *plan)
{
	for (int i = 0; i < plan->natts; i++)
		if (plan->cols[i].def != NULL && plan->cols[i].needed &&
			plan->cols[i].def->kind == TEMPO_COL_JIRA_TWIN)
			return true;
	return false;
}

/*
 * tempo_row_plan_set_twins
 *		The Jira twins of the current page's worklogs: npairs (Tempo id,
 *		Jira id) pairs sorted by Tempo id, kept (not copied) until the next
 *		call.
 */
void
tempo_row_plan_set_twins(TempoRowPlan *plan, const int64 *pairs, int npairs)
{
	plan->twins = pairs;
	plan->ntwins = npairs;
}

/* The Jira twin of a Tempo id, or -1 when it has none. */
static int64
twin_of(TempoRowPlan *plan, int64 tempo_id)
{
	int			lo = 0,
				hi = plan->ntwins - 1;

	while (lo <= hi)
	{
		int			mid = lo + (hi - lo) / 2;
		int64		key = plan->twins[2 * mid];

		if (key == tempo_id)
			return plan->twins[2 * mid + 1];
		if (key < tempo_id)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return -1;
}

/* The row's id as text, for messages (server text: see src/redact.c). */
static char *
row_id(TempoRowPlan *plan, cJSON *row)
{
	cJSON	   *v = tempo_json_follow(row, plan->nidkeys, plan->idkeys);

	if (cJSON_IsNumber(v))
		return psprintf("%.0f", v->valuedouble);
	if (!cJSON_IsString(v))
		return pstrdup("(no id)");
	return tempo_server_text(plan->cur_opts, NULL, v->valuestring, strlen(v->valuestring));
}

/* A string value of the server, quoted for a message (see src/redact.c). */
static char *
server_quote(TempoRowPlan *plan, const char *s)
{
	return quote_literal_cstr(tempo_server_text(plan->cur_opts, NULL, s, strlen(s)));
}

/* What a row of the resource is, for messages: a day, a worklog, a user... */
static const char *
row_noun(TempoRowPlan *plan)
{
	switch (plan->resource->resource)
	{
		case TEMPO_RES_USER_SCHEDULES:
			return "day";
		case TEMPO_RES_WORKLOGS:
		case TEMPO_RES_JIRA_WORKLOGS:
		case TEMPO_RES_WORKLOG_DELETIONS:
			return "worklog";
		case TEMPO_RES_JIRA_USERS:
			return "user";
		case TEMPO_RES_JIRA_PROJECTS:
			return "project";
		case TEMPO_RES_JIRA_ISSUES:
			return "issue";
		default:
			return "row";
	}
}

/* Error context: which column of which row was being converted. */
static void
conversion_error_callback(void *arg)
{
	TempoRowPlan *plan = (TempoRowPlan *) arg;

	if (plan->cur_column && plan->cur_row)
		errcontext("column \"%s\" of foreign table \"%s\", %s %s",
				   plan->cur_column, plan->relname, row_noun(plan),
				   row_id(plan, plan->cur_row));
}

/*
 * order_top_keys
 *		Put the plan's first keys in the order of the members of a row (the
 *		scan's first), so that tempo_json_find_keys's guess of the next key
 *		holds for the rows of the same shape that follow.
 */
static void
order_top_keys(TempoRowPlan *plan, cJSON *row)
{
	const char **keys = palloc(sizeof(char *) * Max(plan->ntop, 1));
	int		   *moved_to = palloc(sizeof(int) * Max(plan->ntop, 1));
	bool	   *placed = palloc0(sizeof(bool) * Max(plan->ntop, 1));
	int			n = 0;
	cJSON	   *m;

	/* the keys in the order of the members tempo_json_find_keys finds */
	tempo_json_find_keys(row, plan->ntop, plan->top_keys, plan->top_found);
	cJSON_ArrayForEach(m, row)
	{
		for (int j = 0; j < plan->ntop; j++)
			if (plan->top_found[j] == m)
			{
				placed[j] = true;
				moved_to[j] = n;
				keys[n++] = plan->top_keys[j];
				break;
			}
	}
	for (int j = 0; j < plan->ntop; j++)
		if (!placed[j])
		{
			moved_to[j] = n;
			keys[n++] = plan->top_keys[j];
		}
	memcpy(plan->top_keys, keys, sizeof(char *) * plan->ntop);
	for (int i = 0; i < plan->natts; i++)
		if (plan->cols[i].top >= 0)
			plan->cols[i].top = moved_to[plan->cols[i].top];
	plan->top_ordered = true;
}

/*
 * tempo_page_next_row
 *		Convert the page's next row into values/nulls; false at the end.
 */
bool
tempo_page_next_row(TempoPage *page, TempoRowPlan *plan, Datum *values,
					bool *nulls)
{
	cJSON	   *row = page->cursor;
	ErrorContextCallback errcallback;

	if (row == NULL)
		return false;
	page->cursor = row->next;

	if (!tempo_json_is(row, cJSON_Object))
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_DATA_TYPE),
				 errmsg("unexpected JSON in the %s response to %s", page->service, page->what),
				 errdetail("An element of the result array is not an object.")));

	errcallback.callback = conversion_error_callback;
	errcallback.arg = plan;
	errcallback.previous = error_context_stack;
	error_context_stack = &errcallback;
	plan->cur_row = row;
	plan->verified = page->verified;
	plan->cur_opts = page->opts;
	if (!plan->top_ordered)
		order_top_keys(plan, row);
	tempo_json_find_keys(row, plan->ntop, plan->top_keys, plan->top_found);

	for (int i = 0; i < plan->natts; i++)
	{
		TempoColumnPlan *col = &plan->cols[i];
		cJSON	   *v = NULL;

		nulls[i] = true;
		values[i] = (Datum) 0;
		if (col->convert == NULL)
			continue;			/* not used, or always NULL */
		plan->cur_column = col->def->name;
		if (col->from_body && (v = column_value(plan, col, row)) == NULL)
			continue;
		nulls[i] = false;
		values[i] = col->convert(plan, col, row, v, &nulls[i]);
	}

	error_context_stack = errcallback.previous;
	plan->cur_column = NULL;
	plan->cur_row = NULL;
	return true;
}

/* ERROR: the value of a column is not what the API documents. */
TEMPO_NORETURN static void
			bad_value(TempoRowPlan *plan, cJSON *row, const char *expected, const char *got);

static void
bad_value(TempoRowPlan *plan, cJSON *row, const char *expected, const char *got)
{
	ereport(ERROR,
			(errcode(ERRCODE_FDW_INVALID_DATA_TYPE),
			 errmsg("invalid value for column \"%s\" in %s %s",
					plan->cur_column, row_noun(plan), row_id(plan, row)),
			 errdetail("Expected %s, got %s.", expected, got)));
}

/* A JSON string as a server-encoded C string; invalid UTF-8 is an ERROR. */
static char *
server_string(const char *s)
{
	return pg_any_to_server(s, strlen(s), PG_UTF8);
}

/* The same for a string of the current row, not checked again if its page was. */
static char *
row_string(TempoRowPlan *plan, char *s)
{
	return plan->verified ? s : server_string(s);
}

/* "YYYY-MM-DD" at s into a PostgreSQL date; false if not exactly that. */
static bool
parse_date(const char *s, DateADT *out)
{
	int			y,
				m,
				d;

	if (!tempo_json_parse_date(s, &y, &m, &d))
		return false;
	*out = date2j(y, m, d) - POSTGRES_EPOCH_JDATE;
	return true;
}

/* "HH:MM:SS[.ffffff]" at s; *end is set past it. */
static bool
parse_time(const char *s, TimeADT *out, const char **end)
{
	int64_t		usecs;

	if (!tempo_json_parse_time(s, &usecs, end))
		return false;
	*out = (TimeADT) usecs;
	return true;
}

/*
 * parse_timestamptz
 *		ISO 8601 with a zone: "YYYY-MM-DDTHH:MM:SS[.fff](Z|+HH:MM|+HHMM)".
 *		Both Tempo's (Z) and Jira's (+0100) forms.
 */
static bool
parse_timestamptz(const char *s, TimestampTz *out)
{
	int			y,
				m,
				d,
				offset;
	int64_t		usecs;
	TimestampTz ts;

	if (!tempo_json_parse_timestamp(s, &y, &m, &d, &usecs, &offset))
		return false;
	ts = (TimestampTz) (date2j(y, m, d) - POSTGRES_EPOCH_JDATE) * USECS_PER_DAY +
		usecs - (int64) offset * USECS_PER_SEC;
	if (!IS_VALID_TIMESTAMP(ts))
		return false;
	*out = ts;
	return true;
}

/* An integer from a JSON number or a string of digits (Jira's ids). */
static bool
json_integer(cJSON *v, int64 min, int64 max, int64 *out)
{
	int64_t		n;

	if (!tempo_json_integer(v, min, max, &n))
		return false;
	*out = (int64) n;
	return true;
}

/* A JSON value printed compactly, as a palloc'd string. */
static char *
print_json(cJSON *v)
{
	char	   *printed = cJSON_PrintUnformatted(v);
	char	   *result;

	if (printed == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory while printing JSON")));
	result = pstrdup(printed);
	cJSON_free(printed);
	return result;
}

/*
 * column_value
 *		The value at a column's path in a row; NULL when it is missing or
 *		null, which is an ERROR for a required column.
 */
static cJSON *
column_value(TempoRowPlan *plan, TempoColumnPlan *col, cJSON *row)
{
	cJSON	   *v;

	if (col->top < 0)
		v = NULL;
	else if (col->nkeys == 1)
		v = plan->top_found[col->top];
	else
		v = tempo_json_follow(plan->top_found[col->top], col->nkeys - 1, col->keys + 1);
	if (v == NULL || tempo_json_is(v, cJSON_NULL))
	{
		if (col->def->required)
			bad_value(plan, row, "a value", "none (the field is missing)");
		return NULL;
	}
	return v;
}

/*
 * text_form
 *		A column's value from its text: of the natural text type, or through
 *		the declared type's input function.
 */
static Datum
text_form(TempoRowPlan *plan, TempoColumnPlan *col, char *text)
{
	if (col->natural)
		return CStringGetTextDatum(row_string(plan, text));
	return InputFunctionCall(&col->input, row_string(plan, text), col->typioparam,
							 col->typmod);
}

/* What a value is, for a message: a string quoted, else its JSON type. */
static const char *
what_string(TempoRowPlan *plan, cJSON *v)
{
	return tempo_json_is(v, cJSON_String) ? server_quote(plan, v->valuestring)
		: tempo_json_type_name(v);
}

/* What a value is, for a message: a number printed, else its JSON type. */
static const char *
what_number(cJSON *v)
{
	return tempo_json_is(v, cJSON_Number) ? psprintf("%g", v->valuedouble)
		: tempo_json_type_name(v);
}

/*
 * The converters: one per column, chosen once (choose_converter).  v is
 * the value at the column's path, never missing nor null, for those that
 * read one (from_body); the others get NULL.
 */

/* TEMPO_COL_SOURCE: the source's name, the same for every row */
static Datum
convert_source(TempoRowPlan *plan, TempoColumnPlan *col, cJSON *row, cJSON *v,
			   bool *isnull)
{
	if (col->natural && plan->source_text != (Datum) 0)
		return plan->source_text;
	return text_form(plan, col, pstrdup(plan->source));
}

/* TEMPO_COL_REQUEST_KEY: the key the stream asked for, or NULL */
static Datum
convert_request_key(TempoRowPlan *plan, TempoColumnPlan *col, cJSON *row, cJSON *v,
					bool *isnull)
{
	if (plan->request_key == NULL)
	{
		*isnull = true;
		return (Datum) 0;
	}
	if (col->natural && col->def->type == INT8OID)	/* a team id */
		return DirectFunctionCall1(int8in, CStringGetDatum(plan->request_key));
	return text_form(plan, col, pstrdup(plan->request_key));
}

/* TEMPO_COL_RAW as jsonb: the whole row */
static Datum
convert_raw_jsonb(TempoRowPlan *plan, TempoColumnPlan *col, cJSON *row, cJSON *v,
				  bool *isnull)
{
	return tempo_cjson_to_jsonb(row, plan->verified);
}

/* TEMPO_COL_RAW of another type: the whole row's text */
static Datum
convert_raw_text(TempoRowPlan *plan, TempoColumnPlan *col, cJSON *row, cJSON *v,
				 bool *isnull)
{
	return text_form(plan, col, print_json(row));
}

/* TEMPO_COL_ATTR_MAP: [{key, value}] as {key: value} */
static Datum
convert_attr_map(TempoRowPlan *plan, TempoColumnPlan *col, cJSON *row, cJSON *v,
				 bool *isnull)
{
	TempoJsonBuf buf;
	const cJSON *key;

	if (!tempo_json_is(v, cJSON_Array))
		bad_value(plan, row, "an array of {key, value}", tempo_json_type_name(v));
	if (col->natural)
	{
		bool		bad_key;
		Datum		d = tempo_attr_map_to_jsonb(v, plan->verified, &bad_key);

		if (!bad_key)
			return d;
	}
	init_buf(&buf);
	switch (tempo_json_attr_map(v, &buf, &key))
	{
		case TEMPO_JSON_OK:
			break;
		case TEMPO_JSON_INVALID:
			bad_value(plan, row, "a string \"key\" in each work attribute",
					  tempo_json_type_name(key));
		default:
			ereport(ERROR,
					(errcode(ERRCODE_OUT_OF_MEMORY),
					 errmsg("out of memory while printing JSON")));
	}
	return text_form(plan, col, buf.data);
}

/* TEMPO_COL_ADF_TEXT: a document's text (or a plain string) */
static Datum
convert_adf_text(TempoRowPlan *plan, TempoColumnPlan *col, cJSON *row, cJSON *v,
				 bool *isnull)
{
	TempoJsonBuf buf;

	if (tempo_json_is(v, cJSON_String))
		return text_form(plan, col, v->valuestring);
	if (!tempo_json_is(v, cJSON_Object))
		bad_value(plan, row, "a document or a string", tempo_json_type_name(v));
	init_buf(&buf);
	switch (tempo_json_adf_text(v, &buf))
	{
		case TEMPO_JSON_OK:
			break;
		case TEMPO_JSON_TOO_DEEP:
			bad_value(plan, row, "a document of at most 1000 levels", "a deeper one");
		default:
			ereport(ERROR,
					(errcode(ERRCODE_OUT_OF_MEMORY),
					 errmsg("out of memory while flattening a document")));
	}
	return text_form(plan, col, buf.data);
}

/* TEMPO_COL_JIRA_TWIN: the Jira id of the Tempo id, or NULL */
static Datum
convert_jira_twin(TempoRowPlan *plan, TempoColumnPlan *col, cJSON *row, cJSON *v,
				  bool *isnull)
{
	int64		n;
	int64		twin;

	if (!json_integer(v, 0, PG_INT64_MAX, &n))
		bad_value(plan, row, "an integer id", tempo_json_type_name(v));
	twin = twin_of(plan, n);
	if (twin < 0)
	{
		*isnull = true;
		return (Datum) 0;
	}
	if (col->natural)
		return Int64GetDatum(twin);
	return text_form(plan, col, psprintf(INT64_FORMAT, twin));
}

/* TEMPO_COL_IS_APP: whether an account type is "app" */
static Datum
convert_is_app(TempoRowPlan *plan, TempoColumnPlan *col, cJSON *row, cJSON *v,
			   bool *isnull)
{
	bool		app;

	if (!tempo_json_is(v, cJSON_String))
		bad_value(plan, row, "a string", tempo_json_type_name(v));
	app = strcmp(v->valuestring, "app") == 0;
	if (col->natural)
		return BoolGetDatum(app);
	return text_form(plan, col, app ? "true" : "false");
}

/* TEMPO_COL_EPIC_KEY: the key of the issue at path if it is an epic, or NULL */
static Datum
convert_epic_key(TempoRowPlan *plan, TempoColumnPlan *col, cJSON *row, cJSON *v,
				 bool *isnull)
{
	static const char *level_path[] = {"fields", "issuetype", "hierarchyLevel"};
	cJSON	   *level;
	cJSON	   *key;
	int64		n;

	if (!tempo_json_is(v, cJSON_Object))
		bad_value(plan, row, "an issue object", tempo_json_type_name(v));
	level = tempo_json_follow(v, 3, level_path);
	key = cJSON_GetObjectItemCaseSensitive(v, "key");
	if (level == NULL || !json_integer(level, PG_INT32_MIN, PG_INT32_MAX, &n) || n != 1 ||
		!tempo_json_is(key, cJSON_String))
	{
		*isnull = true;
		return (Datum) 0;
	}
	return text_form(plan, col, key->valuestring);
}

/* TEMPO_COL_LOCAL_TIME: the time of a local timestamp */
static Datum
convert_local_time(TempoRowPlan *plan, TempoColumnPlan *col, cJSON *row, cJSON *v,
				   bool *isnull)
{
	TimeADT		t;
	const char *end;

	if (!tempo_json_is(v, cJSON_String) || strlen(v->valuestring) < 19 ||
		!parse_time(v->valuestring + 11, &t, &end))
		bad_value(plan, row, "a timestamp YYYY-MM-DDTHH:MM:SS...", what_string(plan, v));
	if (col->natural)
		return TimeADTGetDatum(t);
	return text_form(plan, col, pnstrdup(v->valuestring + 11, 8));
}

/* TEMPO_COL_LOCAL_DATE: the date of a local timestamp */
static Datum
convert_local_date(TempoRowPlan *plan, TempoColumnPlan *col, cJSON *row, cJSON *v,
				   bool *isnull)
{
	DateADT		d;

	if (!tempo_json_is(v, cJSON_String) || !parse_date(v->valuestring, &d))
		bad_value(plan, row, "a timestamp starting with YYYY-MM-DD", what_string(plan, v));
	if (col->natural)
		return DateADTGetDatum(d);
	return text_form(plan, col, pnstrdup(v->valuestring, 10));
}

/* TEMPO_COL_PATH of a declared type: the value's text, through its input function */
static Datum
convert_path_text(TempoRowPlan *plan, TempoColumnPlan *col, cJSON *row, cJSON *v,
				  bool *isnull)
{
	int64		n;

	if (tempo_json_is(v, cJSON_String))
		return text_form(plan, col, v->valuestring);
	if (tempo_json_is(v, cJSON_Number) && json_integer(v, PG_INT64_MIN, PG_INT64_MAX, &n))
		return text_form(plan, col, psprintf(INT64_FORMAT, n));
	return text_form(plan, col, print_json(v));
}

/* TEMPO_COL_PATH as bigint */
static Datum
convert_int8(TempoRowPlan *plan, TempoColumnPlan *col, cJSON *row, cJSON *v,
			 bool *isnull)
{
	int64		n;

	if (!json_integer(v, PG_INT64_MIN, PG_INT64_MAX, &n))
		bad_value(plan, row, "an integer of at most 2^53", what_number(v));
	return Int64GetDatum(n);
}

/* TEMPO_COL_PATH as integer */
static Datum
convert_int4(TempoRowPlan *plan, TempoColumnPlan *col, cJSON *row, cJSON *v,
			 bool *isnull)
{
	int64		n;

	if (!tempo_json_is(v, cJSON_Number) || !json_integer(v, PG_INT32_MIN, PG_INT32_MAX, &n))
		bad_value(plan, row, "an integer within the range of integer", what_number(v));
	return Int32GetDatum((int32) n);
}

/* TEMPO_COL_PATH as boolean */
static Datum
convert_bool(TempoRowPlan *plan, TempoColumnPlan *col, cJSON *row, cJSON *v,
			 bool *isnull)
{
	if (!tempo_json_is(v, cJSON_True) && !tempo_json_is(v, cJSON_False))
		bad_value(plan, row, "true or false", tempo_json_type_name(v));
	return BoolGetDatum(tempo_json_is(v, cJSON_True));
}

/* TEMPO_COL_PATH as text */
static Datum
convert_text(TempoRowPlan *plan, TempoColumnPlan *col, cJSON *row, cJSON *v,
			 bool *isnull)
{
	if (!tempo_json_is(v, cJSON_String))
		bad_value(plan, row, "a string", tempo_json_type_name(v));
	return CStringGetTextDatum(row_string(plan, v->valuestring));
}

/* TEMPO_COL_PATH as text[]: an array of strings */
static Datum
convert_text_array(TempoRowPlan *plan, TempoColumnPlan *col, cJSON *row, cJSON *v,
				   bool *isnull)
{
	int			n;
	Datum	   *elems;
	cJSON	   *e;
	int			i = 0;

	if (!tempo_json_is(v, cJSON_Array))
		bad_value(plan, row, "an array of strings", tempo_json_type_name(v));
	n = cJSON_GetArraySize(v);
	elems = palloc(sizeof(Datum) * Max(n, 1));
	cJSON_ArrayForEach(e, v)
	{
		if (!tempo_json_is(e, cJSON_String))
			bad_value(plan, row, "an array of strings",
					  psprintf("an array holding %s", tempo_json_type_name(e)));
		elems[i++] = CStringGetTextDatum(row_string(plan, e->valuestring));
	}
	return PointerGetDatum(construct_array(elems, n, TEXTOID, -1, false, TYPALIGN_INT));
}

/* TEMPO_COL_PATH as date */
static Datum
convert_date(TempoRowPlan *plan, TempoColumnPlan *col, cJSON *row, cJSON *v,
			 bool *isnull)
{
	DateADT		d;

	if (!tempo_json_is(v, cJSON_String) || strlen(v->valuestring) != 10 ||
		!parse_date(v->valuestring, &d))
		bad_value(plan, row, "a date YYYY-MM-DD", what_string(plan, v));
	return DateADTGetDatum(d);
}

/* TEMPO_COL_PATH as time */
static Datum
convert_time(TempoRowPlan *plan, TempoColumnPlan *col, cJSON *row, cJSON *v,
			 bool *isnull)
{
	TimeADT		t;
	const char *end;

	if (!tempo_json_is(v, cJSON_String) || !parse_time(v->valuestring, &t, &end) ||
		*end != '\0')
		bad_value(plan, row, "a time HH:MM:SS", what_string(plan, v));
	return TimeADTGetDatum(t);
}

/* TEMPO_COL_PATH as timestamptz */
static Datum
convert_timestamptz(TempoRowPlan *plan, TempoColumnPlan *col, cJSON *row, cJSON *v,
					bool *isnull)
{
	TimestampTz ts;

	if (!tempo_json_is(v, cJSON_String) || !parse_timestamptz(v->valuestring, &ts))
		bad_value(plan, row, "an ISO 8601 timestamp with a zone", what_string(plan, v));
	return TimestampTzGetDatum(ts);
}

/* TEMPO_COL_PATH as jsonb */
static Datum
convert_jsonb(TempoRowPlan *plan, TempoColumnPlan *col, cJSON *row, cJSON *v,
			  bool *isnull)
{
	return tempo_cjson_to_jsonb(v, plan->verified);
}

/*
 * choose_body_converter
 *		The converter of a value at a path: by the column's kind, and for a
 *		plain value (TEMPO_COL_PATH) of its natural type, by that type.
 */
static TempoConverter
choose_body_converter(const TempoColumnPlan *col)
{
	switch (col->def->kind)
	{
		case TEMPO_COL_ATTR_MAP:
			return convert_attr_map;
		case TEMPO_COL_ADF_TEXT:
			return convert_adf_text;
		case TEMPO_COL_JIRA_TWIN:
			return convert_jira_twin;
		case TEMPO_COL_IS_APP:
			return convert_is_app;
		case TEMPO_COL_LOCAL_TIME:
			return convert_local_time;
		case TEMPO_COL_LOCAL_DATE:
			return convert_local_date;
		case TEMPO_COL_EPIC_KEY:
			return convert_epic_key;
		default:
			break;				/* TEMPO_COL_PATH */
	}
	if (!col->natural)
		return convert_path_text;
	switch (col->def->type)
	{
		case INT8OID:
			return convert_int8;
		case INT4OID:
			return convert_int4;
		case BOOLOID:
			return convert_bool;
		case TEXTOID:
			return convert_text;
		case DATEOID:
			return convert_date;
		case TIMEOID:
			return convert_time;
		case TIMESTAMPTZOID:
			return convert_timestamptz;
		case JSONBOID:
			return convert_jsonb;
		case TEXTARRAYOID:
			return convert_text_array;
	}
	elog(ERROR, "unexpected natural type %u", col->def->type);
	return NULL;				/* keep compiler quiet */
}

/*
 * choose_converter
 *		Set the converter of a column the query uses, by its kind and, for a
 *		value at a path of its natural type, by that type; and whether it
 *		reads the value at its path.  A column always NULL gets none.
 */
static void
choose_converter(TempoColumnPlan *col)
{
	col->from_body = false;
	switch (col->def->kind)
	{
		case TEMPO_COL_SOURCE:
			col->convert = convert_source;
			return;
		case TEMPO_COL_REQUEST_KEY:
			col->convert = convert_request_key;
			return;
		case TEMPO_COL_RAW:
			col->convert = col->natural ? convert_raw_jsonb : convert_raw_text;
			return;
		case TEMPO_COL_NULL:
			col->convert = NULL;
			return;
		default:
			col->from_body = true;
			col->convert = choose_body_converter(col);
			return;
	}
}
